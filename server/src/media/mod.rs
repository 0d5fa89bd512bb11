//! The forwarding unit (SFU) of calls and conferences: every participant's
//! browser (or another server) has one WebRTC connection to it, sends its
//! tracks up once, and receives the other participants' tracks, forwarded
//! packet by packet, never decoded. Built on `str0m` (sans-IO WebRTC): one task
//! owns one UDP socket for all media and every connection's state; the rest
//! of the server talks to it through [`Sfu`]'s commands.
//!
//! Signalling is the caller's: [`Sfu::join`] takes a participant's SDP offer
//! and gives the answer; when another participant's track has to be added to a
//! connection, the unit makes an offer of its own and hands it out as a
//! [`Signal`], and [`Sfu::answer`] brings the answer back.

mod forward;
mod roster;
pub mod synthetic;

pub use roster::{Roster, Rosters};

use std::net::SocketAddr;

use str0m::change::{SdpAnswer, SdpOffer};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// A conference: participants of one room receive each other's tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub i64);

/// One connection to the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u64);

/// The id of the stream a participant's tracks come down in, as the others'
/// browsers see it (`MediaStream.id`).
pub fn stream_of(participant: ParticipantId) -> String {
    format!("participant-{}", participant.0)
}

/// What the unit asks of a participant's side.
#[derive(Debug)]
pub enum Signal {
    /// Tracks came or went: apply this offer and answer with [`Sfu::answer`].
    Offer(SdpOffer),
}

/// Why the unit refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("the session description does not fit: {0}")]
    Invalid(String),
    #[error("the conference is full ({0} people)")]
    Full(usize),
    #[error("no such participant")]
    Missing,
    #[error("the media service is not running")]
    Stopped,
}

/// The most participants of one room unless [`Setup::max_participants`] says.
pub const MAX_PARTICIPANTS: usize = 100;

/// Where the unit listens and how large a room may grow.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// The UDP address the media socket binds.
    pub bind: SocketAddr,
    /// The address browsers are told to send media to (the bound one unless
    /// the server is behind NAT).
    pub announce: Option<std::net::IpAddr>,
    pub max_participants: usize,
}

impl Setup {
    /// The unit on `bind`, announced as bound, rooms of [`MAX_PARTICIPANTS`].
    pub fn at(bind: SocketAddr) -> Setup {
        Setup {
            bind,
            announce: None,
            max_participants: MAX_PARTICIPANTS,
        }
    }
}

/// Signals waiting for a participant's side before it counts as gone.
const SIGNALS_QUEUED: usize = 16;

/// A participant's way in: the answer to its offer, and the unit's signals.
#[derive(Debug)]
pub struct Joined {
    pub id: ParticipantId,
    pub answer: SdpAnswer,
    pub signals: mpsc::Receiver<Signal>,
}

enum Command {
    Join {
        room: RoomId,
        member: String,
        offer: SdpOffer,
        reply: oneshot::Sender<Result<Joined, MediaError>>,
    },
    Answer {
        participant: ParticipantId,
        answer: SdpAnswer,
        reply: oneshot::Sender<Result<(), MediaError>>,
    },
    Leave {
        participant: ParticipantId,
    },
    Count {
        room: RoomId,
        reply: oneshot::Sender<usize>,
    },
}

/// The handle of the running unit; cheap to clone.
#[derive(Debug, Clone)]
pub struct Sfu {
    commands: mpsc::Sender<Command>,
    address: SocketAddr,
    rosters: Rosters,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Join { .. } => "Join",
            Command::Answer { .. } => "Answer",
            Command::Leave { .. } => "Leave",
            Command::Count { .. } => "Count",
        })
    }
}

impl Sfu {
    /// Binds the media socket and starts the unit; it stops when `tasks` is
    /// cancelled.
    pub async fn start(setup: Setup, tasks: CancellationToken) -> std::io::Result<Sfu> {
        let socket = UdpSocket::bind(setup.bind).await?;
        let bound = socket.local_addr()?;
        let address = SocketAddr::new(setup.announce.unwrap_or(bound.ip()), bound.port());
        let (commands, inbox) = mpsc::channel(256);
        let rosters = Rosters::default();
        let unit =
            forward::Forwarder::new(socket, address, setup.max_participants, rosters.clone());
        tokio::spawn(unit.run(inbox, tasks));
        Ok(Sfu {
            commands,
            address,
            rosters,
        })
    }

    /// Where media is sent to (the candidate the unit offers).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Who is in which room's call.
    pub fn rosters(&self) -> &Rosters {
        &self.rosters
    }

    /// Adds `member` to `room` with its offer (what it sends, what it may
    /// receive); its tracks go to everyone else in the room, theirs to it.
    pub async fn join(
        &self,
        room: RoomId,
        member: &str,
        offer: SdpOffer,
    ) -> Result<Joined, MediaError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::Join {
            room,
            member: member.to_owned(),
            offer,
            reply,
        })
        .await?;
        answer.await.map_err(|_| MediaError::Stopped)?
    }

    /// The participant's answer to the unit's last [`Signal::Offer`].
    pub async fn answer(
        &self,
        participant: ParticipantId,
        answer: SdpAnswer,
    ) -> Result<(), MediaError> {
        let (reply, done) = oneshot::channel();
        self.ask(Command::Answer {
            participant,
            answer,
            reply,
        })
        .await?;
        done.await.map_err(|_| MediaError::Stopped)?
    }

    /// Ends a participant's connection; the others stop receiving its tracks.
    pub async fn leave(&self, participant: ParticipantId) {
        let _ = self.ask(Command::Leave { participant }).await;
    }

    /// How many participants `room` has now.
    pub async fn count(&self, room: RoomId) -> Result<usize, MediaError> {
        let (reply, count) = oneshot::channel();
        self.ask(Command::Count { room, reply }).await?;
        count.await.map_err(|_| MediaError::Stopped)
    }

    async fn ask(&self, command: Command) -> Result<(), MediaError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| MediaError::Stopped)
    }
}
