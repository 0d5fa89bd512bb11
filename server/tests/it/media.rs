//! The forwarding unit with synthetic participants: `str0m` peers on loopback
//! UDP that send a track and count what comes back from the others, through
//! real DTLS, ICE and SRTP (issue 14, media through our own server).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use server::media::{MediaError, ParticipantId, RoomId, Sfu, Signal};
use str0m::change::SdpOffer;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// A participant made of `str0m`: it sends one audio track up and counts the
/// packets that come down, by the track (mid) they arrive on.
struct Synthetic {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    mid: Mid,
    id: ParticipantId,
    signals: tokio::sync::mpsc::Receiver<Signal>,
    received: HashMap<Mid, usize>,
    connected: bool,
    next_frame: Instant,
    started: Instant,
}

impl Synthetic {
    async fn join(sfu: &Sfu, room: RoomId) -> Synthetic {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = socket.local_addr().unwrap();
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let (offer, pending) = change.apply().unwrap();
        let joined = sfu.join(room, offer).await.unwrap();
        rtc.sdp_api().accept_answer(pending, joined.answer).unwrap();
        Synthetic {
            rtc,
            socket,
            local,
            mid,
            id: joined.id,
            signals: joined.signals,
            received: HashMap::new(),
            connected: false,
            next_frame: Instant::now(),
            started: Instant::now(),
        }
    }

    /// Runs the peer for a moment: network, the unit's offers, a 20 ms frame.
    async fn step(&mut self, sfu: &Sfu) {
        let wake = self.poll();
        let mut buf = vec![0_u8; 2000];
        let sleep = wake
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        tokio::select! {
            received = self.socket.recv_from(&mut buf) => {
                let (n, source) = received.unwrap();
                if let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, &buf[..n]) {
                    self.rtc.handle_input(Input::Receive(Instant::now(), receive)).unwrap();
                }
            }
            signal = self.signals.recv() => {
                if let Some(Signal::Offer(offer)) = signal {
                    let answer = self.rtc.sdp_api().accept_offer(offer).unwrap();
                    sfu.answer(self.id, answer).await.unwrap();
                }
            }
            () = tokio::time::sleep(sleep) => {}
        }
        self.rtc
            .handle_input(Input::Timeout(Instant::now()))
            .unwrap();
        if self.connected && Instant::now() >= self.next_frame {
            self.next_frame += Duration::from_millis(20);
            let writer = self.rtc.writer(self.mid).unwrap();
            let pt = writer.payload_params().next().unwrap().pt();
            let elapsed = self.started.elapsed();
            let time = str0m::media::MediaTime::new(
                elapsed.as_millis() as u64 * 48,
                str0m::media::Frequency::FORTY_EIGHT_KHZ,
            );
            writer
                .write(pt, Instant::now(), time, vec![0x55_u8; 80])
                .unwrap();
        }
    }

    fn poll(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output().unwrap() {
                Output::Timeout(at) => return at,
                Output::Transmit(t) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(Event::MediaData(data)) => {
                    *self.received.entry(data.mid).or_default() += 1;
                }
                Output::Event(_) => {}
            }
        }
    }

    /// Tracks that brought at least `packets` packets.
    fn tracks_with(&self, packets: usize) -> usize {
        self.received.values().filter(|n| **n >= packets).count()
    }
}

/// Runs all `peers` until `done` holds, or fails after `limit`.
async fn run_until(
    sfu: &Sfu,
    peers: &mut [Synthetic],
    limit: Duration,
    what: &str,
    done: impl Fn(&[Synthetic]) -> bool,
) {
    let until = Instant::now() + limit;
    while !done(peers) {
        assert!(
            Instant::now() < until,
            "{what}: {:?}",
            peers.iter().map(|p| &p.received).collect::<Vec<_>>()
        );
        for peer in peers.iter_mut() {
            peer.step(sfu).await;
        }
    }
}

#[tokio::test]
async fn each_participant_hears_every_other_through_the_unit() {
    let tasks = CancellationToken::new();
    let sfu = Sfu::start("127.0.0.1:0".parse().unwrap(), None, tasks.clone())
        .await
        .unwrap();
    let room = RoomId(1);
    let mut peers = vec![
        Synthetic::join(&sfu, room).await,
        Synthetic::join(&sfu, room).await,
    ];
    run_until(
        &sfu,
        &mut peers,
        Duration::from_secs(20),
        "two hear each other",
        |p| p.iter().all(|peer| peer.tracks_with(25) == 1),
    )
    .await;

    // A third joins later: it gets both tracks, and both get its.
    peers.push(Synthetic::join(&sfu, room).await);
    run_until(
        &sfu,
        &mut peers,
        Duration::from_secs(20),
        "three hear each other",
        |p| p.iter().all(|peer| peer.tracks_with(25) == 2),
    )
    .await;
    assert_eq!(sfu.count(room).await.unwrap(), 3);

    // Another room hears nothing of this one.
    let mut other = Synthetic::join(&sfu, RoomId(2)).await;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        other.step(&sfu).await;
        for peer in peers.iter_mut() {
            peer.step(&sfu).await;
        }
    }
    assert!(other.connected, "the other room's peer is connected");
    assert!(other.received.is_empty(), "{:?}", other.received);

    // One leaves: the room counts two.
    let gone = peers.pop().unwrap();
    sfu.leave(gone.id).await;
    assert_eq!(sfu.count(room).await.unwrap(), 2);
    tasks.cancel();
}

#[tokio::test]
async fn an_offer_of_the_wrong_shape_is_refused() {
    let tasks = CancellationToken::new();
    let sfu = Sfu::start("127.0.0.1:0".parse().unwrap(), None, tasks.clone())
        .await
        .unwrap();
    // An offer without any m-line.
    let mut rtc = Rtc::builder().build(Instant::now());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _) = change.apply().unwrap();
    let text = offer.to_sdp_string();
    let stripped: String = text
        .lines()
        .take_while(|line| !line.starts_with("m="))
        .map(|line| format!("{line}\r\n"))
        .collect();
    let empty = SdpOffer::from_sdp_string(&stripped).unwrap();
    let refused = sfu.join(RoomId(7), empty).await.unwrap_err();
    assert!(matches!(refused, MediaError::Invalid(_)), "{refused:?}");
    assert_eq!(sfu.count(RoomId(7)).await.unwrap(), 0);
    // An answer nobody asked for.
    let mut peer = Synthetic::join(&sfu, RoomId(7)).await;
    let offer = {
        let mut change = peer.rtc.sdp_api();
        change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        change.apply().unwrap().0
    };
    let mut other = Rtc::builder().build(Instant::now());
    let answer = other.sdp_api().accept_offer(offer).unwrap();
    assert!(matches!(
        sfu.answer(peer.id, answer).await,
        Err(MediaError::Invalid(_))
    ));
    tasks.cancel();
}
