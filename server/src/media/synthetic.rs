//! A participant made of `str0m`, for tests and the benchmark: it joins a room
//! of the unit over real UDP, ICE, DTLS and SRTP, sends an audio track (a
//! 20 ms frame) and optionally a video track (30 frames a second), and counts
//! what comes down, track by track. Each audio frame carries the moment it was
//! written, so a receiver measures the forwarding delay.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{MediaError, ParticipantId, RoomId, Sfu, Signal};

const AUDIO_EVERY: Duration = Duration::from_millis(20);
const VIDEO_EVERY: Duration = Duration::from_millis(33);
const AUDIO_BYTES: usize = 80;
const VIDEO_BYTES: usize = 1_000;

/// What a synthetic participant sends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sends {
    /// Nothing: it only listens (one receive-only audio line to join with).
    Nothing,
    Audio,
    AudioAndVideo,
}

/// What a synthetic participant saw so far.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub connected: bool,
    /// Frames received, by the track (mid) they came down on.
    pub frames: HashMap<Mid, usize>,
    /// Audio frames received.
    pub audio_frames: usize,
    /// Microseconds from an audio frame's writing to its arrival here.
    pub delays_us: Vec<u64>,
    /// Frames written: audio, video.
    pub sent: (usize, usize),
}

impl Seen {
    /// Tracks that brought at least `frames` frames.
    pub fn tracks_with(&self, frames: usize) -> usize {
        self.frames.values().filter(|n| **n >= frames).count()
    }
}

/// A running synthetic participant; it stops when dropped.
pub struct Synthetic {
    pub id: ParticipantId,
    seen: Arc<Mutex<Seen>>,
    stop: CancellationToken,
}

impl Drop for Synthetic {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Synthetic {
    /// Joins `room` and runs in a task of its own. `epoch` is the instant the
    /// delays are measured from (the same for every participant).
    pub async fn join(
        sfu: &Sfu,
        room: RoomId,
        sends: Sends,
        epoch: Instant,
    ) -> Result<Synthetic, MediaError> {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| MediaError::Invalid(e.to_string()))?;
        let local = socket
            .local_addr()
            .map_err(|e| MediaError::Invalid(e.to_string()))?;
        let mut rtc = Rtc::builder().build(Instant::now());
        let candidate =
            Candidate::host(local, "udp").map_err(|e| MediaError::Invalid(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        let mut change = rtc.sdp_api();
        let (audio, video) = match sends {
            Sends::Nothing => {
                change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
                (None, None)
            }
            Sends::Audio => (
                Some(change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None)),
                None,
            ),
            Sends::AudioAndVideo => (
                Some(change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None)),
                Some(change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None)),
            ),
        };
        let (offer, pending) = change
            .apply()
            .ok_or_else(|| MediaError::Invalid("nothing to offer".to_owned()))?;
        let joined = sfu.join(room, "synthetic@bench.invalid", offer).await?;
        rtc.sdp_api()
            .accept_answer(pending, joined.answer)
            .map_err(|e| MediaError::Invalid(e.to_string()))?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = CancellationToken::new();
        let peer = Peer {
            rtc,
            socket,
            local,
            audio,
            video,
            epoch,
            seen: seen.clone(),
        };
        tokio::spawn(peer.run(sfu.clone(), joined.id, joined.signals, stop.clone()));
        Ok(Synthetic {
            id: joined.id,
            seen,
            stop,
        })
    }

    /// What it saw so far.
    pub fn seen(&self) -> Seen {
        self.seen.lock().expect("seen lock").clone()
    }
}

struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    audio: Option<Mid>,
    video: Option<Mid>,
    epoch: Instant,
    seen: Arc<Mutex<Seen>>,
}

impl Peer {
    async fn run(
        mut self,
        sfu: Sfu,
        id: ParticipantId,
        mut signals: mpsc::Receiver<Signal>,
        stop: CancellationToken,
    ) {
        let mut buf = vec![0_u8; 2000];
        let started = Instant::now();
        let mut next_audio = started;
        let mut next_video = started;
        loop {
            let Some(wake) = self.poll() else { return };
            let frame_due = next_audio.min(next_video);
            let sleep = wake
                .min(frame_due)
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            tokio::select! {
                () = stop.cancelled() => {
                    sfu.leave(id).await;
                    return;
                }
                received = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = received
                        && let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, &buf[..n])
                        && self.rtc.handle_input(Input::Receive(Instant::now(), receive)).is_err()
                    {
                        return;
                    }
                }
                signal = signals.recv() => match signal {
                    Some(Signal::Offer(offer)) => {
                        let Ok(answer) = self.rtc.sdp_api().accept_offer(offer) else { return };
                        if sfu.answer(id, answer).await.is_err() {
                            return;
                        }
                    }
                    None => return,
                },
                () = tokio::time::sleep(sleep) => {}
            }
            let now = Instant::now();
            if self.rtc.handle_input(Input::Timeout(now)).is_err() {
                return;
            }
            if !self.seen.lock().expect("seen lock").connected {
                continue;
            }
            if now >= next_audio {
                next_audio += AUDIO_EVERY;
                self.write(self.audio, Codec::Opus, now, started, AUDIO_BYTES, true);
            }
            if now >= next_video {
                next_video += VIDEO_EVERY;
                self.write(self.video, Codec::Vp8, now, started, VIDEO_BYTES, false);
            }
        }
    }

    /// Writes one frame on `mid`; an audio frame starts with its writing time.
    fn write(
        &mut self,
        mid: Option<Mid>,
        codec: Codec,
        now: Instant,
        started: Instant,
        bytes: usize,
        audio: bool,
    ) {
        let Some(mid) = mid else { return };
        let Some(writer) = self.rtc.writer(mid) else {
            return;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
        else {
            return;
        };
        let mut frame = vec![0x10_u8; bytes];
        let written = u64::try_from(now.duration_since(self.epoch).as_micros()).unwrap_or(0);
        frame[1..9].copy_from_slice(&written.to_le_bytes());
        let rate = if audio { 48_000 } else { 90_000 };
        let ticks = now.duration_since(started).as_micros() as u64 * rate / 1_000_000;
        let frequency = if audio {
            Frequency::FORTY_EIGHT_KHZ
        } else {
            Frequency::NINETY_KHZ
        };
        if writer
            .write(pt, now, MediaTime::new(ticks, frequency), frame)
            .is_ok()
        {
            let mut seen = self.seen.lock().expect("seen lock");
            if audio {
                seen.sent.0 += 1;
            } else {
                seen.sent.1 += 1;
            }
        }
    }

    /// Polls until the connection waits; `None` when it has ended.
    fn poll(&mut self) -> Option<Instant> {
        loop {
            match self.rtc.poll_output() {
                Err(_) => return None,
                Ok(Output::Timeout(at)) => return Some(at),
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::Connected)) => {
                    self.seen.lock().expect("seen lock").connected = true;
                }
                Ok(Output::Event(Event::MediaData(data))) => {
                    let mut seen = self.seen.lock().expect("seen lock");
                    *seen.frames.entry(data.mid).or_default() += 1;
                    if data.params.spec().codec == Codec::Opus && data.data.len() >= 9 {
                        seen.audio_frames += 1;
                        let mut stamp = [0_u8; 8];
                        stamp.copy_from_slice(&data.data[1..9]);
                        let written = u64::from_le_bytes(stamp);
                        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(0);
                        seen.delays_us.push(now.saturating_sub(written));
                    }
                }
                Ok(Output::Event(_)) => {}
            }
        }
    }
}
