//! The unit's task: one socket, every connection's `Rtc`, and the forwarding
//! of each participant's tracks to the others of its room.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequest, KeyframeRequestKind, MediaData, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Command, Joined, MediaError, ParticipantId, RoomId, Rosters, SIGNALS_QUEUED, Signal};

/// The largest datagram read (WebRTC keeps under the path MTU, ~1200 bytes).
const DATAGRAM: usize = 2000;

/// The longest the task sleeps without looking at the connections' timers.
const TICK: Duration = Duration::from_millis(100);

/// At most one keyframe request a second to a sender.
const KEYFRAME_EVERY: Duration = Duration::from_secs(1);

/// A track a participant sends up.
#[derive(Debug)]
struct TrackIn {
    origin: ParticipantId,
    mid: Mid,
    kind: MediaKind,
}

/// Another participant's track, sent down to this one.
#[derive(Debug)]
struct TrackOut {
    source: Weak<TrackIn>,
    state: OutState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    /// Waits for an offer.
    ToOpen,
    /// In an offer not yet answered.
    Negotiating(Mid),
    Open(Mid),
}

struct Participant {
    id: ParticipantId,
    room: RoomId,
    rtc: Rtc,
    signals: mpsc::Sender<Signal>,
    /// The unit's offer waiting for its answer.
    pending: Option<SdpPendingOffer>,
    tracks_in: Vec<Arc<TrackIn>>,
    tracks_out: Vec<TrackOut>,
    last_keyframe_request: Option<Instant>,
}

/// What one participant's output means for the others.
enum Forward {
    Opened(RoomId, Weak<TrackIn>),
    Media(RoomId, ParticipantId, Box<MediaData>),
    Keyframe(ParticipantId, Mid, KeyframeRequest),
}

pub(super) struct Forwarder {
    socket: UdpSocket,
    address: SocketAddr,
    participants: Vec<Participant>,
    next_id: u64,
    max_participants: usize,
    rosters: Rosters,
}

impl Forwarder {
    pub(super) fn new(
        socket: UdpSocket,
        address: SocketAddr,
        max_participants: usize,
        rosters: Rosters,
    ) -> Self {
        Forwarder {
            socket,
            address,
            participants: Vec::new(),
            next_id: 1,
            max_participants,
            rosters,
        }
    }

    /// Drops the connections that ended (hung up, failed, or silent past
    /// ICE's timeout) and strikes them from their rooms' rosters.
    fn bury(&mut self) {
        let rosters = &self.rosters;
        self.participants.retain(|p| {
            let alive = p.rtc.is_alive();
            if !alive {
                rosters.left(p.room, p.id);
            }
            alive
        });
    }

    pub(super) async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Command>,
        tasks: CancellationToken,
    ) {
        let mut buf = vec![0_u8; DATAGRAM];
        loop {
            self.bury();
            // Tracks of participants who left are not sent down any more: their
            // entries go, so a long conference with people coming and going
            // does not grow every connection's list.
            for p in &mut self.participants {
                p.tracks_out.retain(|t| t.source.strong_count() > 0);
            }
            let wake = self.drive();
            let sleep = wake
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), TICK);
            tokio::select! {
                () = tasks.cancelled() => return,
                command = inbox.recv() => match command {
                    Some(command) => self.obey(command),
                    None => return,
                },
                received = self.socket.recv_from(&mut buf) => {
                    if let Ok((length, source)) = received {
                        self.receive(source, &buf[..length]);
                    }
                }
                () = tokio::time::sleep(sleep) => {}
            }
            let now = Instant::now();
            for participant in &mut self.participants {
                participant.input(Input::Timeout(now));
            }
        }
    }

    /// Negotiates, polls every connection until it waits, and forwards what
    /// came out; the earliest time a connection wants to be woken.
    fn drive(&mut self) -> Instant {
        let mut wake = Instant::now() + TICK;
        let mut forwards = VecDeque::new();
        for participant in &mut self.participants {
            participant.negotiate();
            wake = wake.min(participant.poll(&self.socket, &mut forwards));
        }
        while let Some(forward) = forwards.pop_front() {
            self.forward(forward);
            for participant in &mut self.participants {
                wake = wake.min(participant.poll(&self.socket, &mut forwards));
            }
        }
        wake
    }

    fn obey(&mut self, command: Command) {
        match command {
            Command::Join {
                room,
                member,
                offer,
                reply,
            } => {
                let joined = self.join(room, offer);
                if let Ok(joined) = &joined {
                    self.rosters.joined(room, joined.id, &member);
                }
                let _ = reply.send(joined);
            }
            Command::Answer {
                participant,
                answer,
                reply,
            } => {
                let result = match self.participants.iter_mut().find(|p| p.id == participant) {
                    Some(p) => p.answered(answer),
                    None => Err(MediaError::Missing),
                };
                let _ = reply.send(result);
            }
            Command::Leave { participant } => {
                if let Some(p) = self.participants.iter_mut().find(|p| p.id == participant) {
                    p.rtc.disconnect();
                }
            }
            Command::Count { room, reply } => {
                let _ = reply.send(self.participants.iter().filter(|p| p.room == room).count());
            }
        }
    }

    fn join(&mut self, room: RoomId, offer: SdpOffer) -> Result<Joined, MediaError> {
        let in_room = self.participants.iter().filter(|p| p.room == room).count();
        if in_room >= self.max_participants {
            return Err(MediaError::Full(self.max_participants));
        }
        let mut rtc = Rtc::builder().set_ice_lite(true).build(Instant::now());
        let candidate =
            Candidate::host(self.address, "udp").map_err(|e| MediaError::Invalid(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| MediaError::Invalid(e.to_string()))?;
        let id = ParticipantId(self.next_id);
        self.next_id += 1;
        let (signals, receiver) = mpsc::channel(SIGNALS_QUEUED);
        // What the others of the room already send comes down to the newcomer.
        let tracks_out = self
            .participants
            .iter()
            .filter(|p| p.room == room)
            .flat_map(|p| &p.tracks_in)
            .map(|track| TrackOut {
                source: Arc::downgrade(track),
                state: OutState::ToOpen,
            })
            .collect();
        self.participants.push(Participant {
            id,
            room,
            rtc,
            signals,
            pending: None,
            tracks_in: Vec::new(),
            tracks_out,
            last_keyframe_request: None,
        });
        Ok(Joined {
            id,
            answer,
            signals: receiver,
        })
    }

    fn receive(&mut self, source: SocketAddr, datagram: &[u8]) {
        let Ok(receive) = Receive::new(Protocol::Udp, source, self.address, datagram) else {
            return;
        };
        let input = Input::Receive(Instant::now(), receive);
        if let Some(participant) = self.participants.iter_mut().find(|p| p.rtc.accepts(&input)) {
            participant.input(input);
        }
    }

    fn forward(&mut self, forward: Forward) {
        match forward {
            Forward::Opened(room, track) => {
                let Some(origin) = track.upgrade().map(|t| t.origin) else {
                    return;
                };
                for p in self
                    .participants
                    .iter_mut()
                    .filter(|p| p.room == room && p.id != origin)
                {
                    p.tracks_out.push(TrackOut {
                        source: track.clone(),
                        state: OutState::ToOpen,
                    });
                }
            }
            Forward::Media(room, origin, data) => {
                for p in self
                    .participants
                    .iter_mut()
                    .filter(|p| p.room == room && p.id != origin)
                {
                    p.send_down(origin, &data);
                }
            }
            Forward::Keyframe(origin, mid, request) => {
                if let Some(p) = self.participants.iter_mut().find(|p| p.id == origin) {
                    p.request_keyframe(mid, request.rid, request.kind);
                }
            }
        }
    }
}

impl Participant {
    fn input(&mut self, input: Input) {
        if self.rtc.is_alive() && self.rtc.handle_input(input).is_err() {
            self.rtc.disconnect();
        }
    }

    /// Offers the tracks waiting to come down, unless an offer is out already.
    fn negotiate(&mut self) {
        if self.pending.is_some() || !self.rtc.is_alive() {
            return;
        }
        let mut change = self.rtc.sdp_api();
        for track in &mut self.tracks_out {
            if track.state != OutState::ToOpen {
                continue;
            }
            if let Some(source) = track.source.upgrade() {
                let stream = super::stream_of(source.origin);
                let mid =
                    change.add_media(source.kind, Direction::SendOnly, Some(stream), None, None);
                track.state = OutState::Negotiating(mid);
            }
        }
        let Some((offer, pending)) = change.apply() else {
            return;
        };
        // A side that does not keep up with its signals is gone.
        if self.signals.try_send(Signal::Offer(offer)).is_err() {
            self.rtc.disconnect();
            return;
        }
        self.pending = Some(pending);
    }

    fn answered(&mut self, answer: SdpAnswer) -> Result<(), MediaError> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| MediaError::Invalid("no offer waits for an answer".to_owned()))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| MediaError::Invalid(e.to_string()))?;
        for track in &mut self.tracks_out {
            if let OutState::Negotiating(mid) = track.state {
                track.state = OutState::Open(mid);
            }
        }
        Ok(())
    }

    /// Polls the connection until it waits: sends what it has to send, and
    /// queues what the others must learn. The time it wants to be woken.
    fn poll(&mut self, socket: &UdpSocket, forwards: &mut VecDeque<Forward>) -> Instant {
        loop {
            if !self.rtc.is_alive() {
                return Instant::now() + TICK;
            }
            let output = match self.rtc.poll_output() {
                Ok(output) => output,
                Err(_) => {
                    self.rtc.disconnect();
                    continue;
                }
            };
            match output {
                Output::Timeout(at) => return at,
                Output::Transmit(transmit) => {
                    let _ = socket.try_send_to(&transmit.contents, transmit.destination);
                }
                Output::Event(event) => self.on_event(event, forwards),
            }
        }
    }

    fn on_event(&mut self, event: Event, forwards: &mut VecDeque<Forward>) {
        match event {
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.rtc.disconnect();
            }
            // Only what the participant sends up is forwarded.
            Event::MediaAdded(added)
                if matches!(added.direction, Direction::RecvOnly | Direction::SendRecv) =>
            {
                let track = Arc::new(TrackIn {
                    origin: self.id,
                    mid: added.mid,
                    kind: added.kind,
                });
                forwards.push_back(Forward::Opened(self.room, Arc::downgrade(&track)));
                self.tracks_in.push(track);
            }
            Event::MediaData(data) => {
                if !data.contiguous {
                    self.request_keyframe(data.mid, data.rid, KeyframeRequestKind::Pli);
                }
                forwards.push_back(Forward::Media(self.room, self.id, Box::new(data)));
            }
            Event::KeyframeRequest(request) => {
                let source = self
                    .tracks_out
                    .iter()
                    .find(|t| t.state == OutState::Open(request.mid))
                    .and_then(|t| t.source.upgrade());
                if let Some(source) = source {
                    forwards.push_back(Forward::Keyframe(source.origin, source.mid, request));
                }
            }
            _ => {}
        }
    }

    /// Sends another participant's packet down this connection, on the track
    /// that carries that participant's track here.
    fn send_down(&mut self, origin: ParticipantId, data: &MediaData) {
        let Some(mid) = self.tracks_out.iter().find_map(|t| match t.state {
            OutState::Open(mid)
                if t.source
                    .upgrade()
                    .is_some_and(|s| s.origin == origin && s.mid == data.mid) =>
            {
                Some(mid)
            }
            _ => None,
        }) else {
            return;
        };
        let Some(writer) = self.rtc.writer(mid) else {
            return;
        };
        let Some(pt) = writer.match_params(data.params) else {
            return;
        };
        if writer
            .write(pt, data.network_time, data.time, data.data.clone())
            .is_err()
        {
            self.rtc.disconnect();
        }
    }

    fn request_keyframe(
        &mut self,
        mid: Mid,
        rid: Option<str0m::media::Rid>,
        kind: KeyframeRequestKind,
    ) {
        if self
            .last_keyframe_request
            .is_some_and(|at| at.elapsed() < KEYFRAME_EVERY)
        {
            return;
        }
        if let Some(mut writer) = self.rtc.writer(mid) {
            let _ = writer.request_keyframe(rid, kind);
            self.last_keyframe_request = Some(Instant::now());
        }
    }
}
