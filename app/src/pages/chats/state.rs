//! The open chat's state as plain data, without the page: the messages shown
//! (a map by sequence number, so a push, a catch-up page, a history page and a
//! send's acknowledgement can arrive in any order without duplicates), the sends
//! on their way or failed, the position of the last event applied, the catch-up
//! by sequence number, older history, the read position sent, members' read
//! positions and who is typing.
//!
//! Nothing here touches the DOM or the network: each method takes what arrived and
//! says what changed or what to fetch next; `view.rs` keeps it in a signal and does
//! the fetching.

use std::collections::BTreeMap;

use crate::types::{CausewayId, ChatDetail, ChatEvent, FileInfo, Message};

/// Messages per history page (what `api::history` asks for): a shorter page is the
/// beginning of the chat.
pub const HISTORY_PAGE: usize = 50;
/// Events per catch-up page (what `api::events_after` asks for): a full page means
/// there may be more.
pub const EVENTS_PAGE: usize = 200;
/// How long a typing notice shows, in milliseconds.
pub const TYPING_SHOWN_MS: f64 = 5000.0;

/// A send the server has not acknowledged yet, or that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The idempotency key: a retry sends the same one, and the stored message
    /// carries it back.
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<i64>,
    pub file: Option<FileInfo>,
    /// Why it failed; `None` while it is on its way.
    pub failed: Option<String>,
}

/// What applying a message or an event asks of the page, besides the timeline's
/// own change.
#[derive(Debug, Clone, PartialEq)]
pub enum Followup {
    /// A message was stored (posted, edited, deleted or acknowledged): its sender
    /// has stopped typing.
    Stored { sender: CausewayId },
    /// The person was removed from the chat or left it.
    Removed,
    /// The chat or its membership changed: fetch the chat's detail again.
    ReloadDetail,
}

impl Followup {
    /// A message changed.
    pub fn is_stored(&self) -> bool {
        matches!(self, Followup::Stored { .. })
    }
}

/// What became of a pushed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Pushed {
    /// The chat is not open yet (the first load's catch-up will cover it), or the
    /// event is applied already.
    Ignored,
    /// It was the next event and is applied; `None` when it changed nothing but the
    /// position.
    Applied(Option<Followup>),
    /// It is not the next event, or a catch-up is running: catch up
    /// ([`Timeline::begin_catch_up`]) instead of applying it over a gap.
    CatchUp,
}

/// One page of a catch-up, applied.
#[derive(Debug, Clone, PartialEq)]
pub struct CaughtUp {
    /// What the events ask of the page, in their order.
    pub followups: Vec<Followup>,
    /// Fetch again ([`Timeline::catch_up_from`]); `false` when the catch-up is over.
    pub more: bool,
}

/// The messages and pending sends of the open chat, and the positions behind them.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    messages: BTreeMap<i64, Message>,
    pending: Vec<Pending>,
    /// The last event applied; pushes after it apply in order, gaps are fetched.
    last_seq: i64,
    catching_up: bool,
    /// Something asked for a catch-up while one was running: go again.
    catch_up_again: bool,
    /// No older history left to load.
    at_start: bool,
    loading_older: bool,
    /// The read position last sent to the server (or the server's, at opening).
    read_sent: i64,
}

impl Timeline {
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages loaded, by sequence number.
    pub fn messages(&self) -> &BTreeMap<i64, Message> {
        &self.messages
    }

    /// Sends on their way or failed, oldest first.
    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    /// Nothing to show: no message and no pending send.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.pending.is_empty()
    }

    /// No older history is left to load.
    pub fn at_start(&self) -> bool {
        self.at_start
    }

    pub fn loading_older(&self) -> bool {
        self.loading_older
    }

    /// The chat's detail arrived: events after its last one are what is new, and
    /// the server already has the person's read position.
    pub fn open(&mut self, last_seq: i64, read_seq: i64) {
        self.last_seq = last_seq;
        self.read_sent = read_seq;
    }

    /// The latest history page, fetched at opening: its copies replace any already
    /// here (pushed since the opening).
    pub fn first_page(&mut self, page: Vec<Message>) {
        if page.len() < HISTORY_PAGE {
            self.at_start = true;
        }
        for message in page {
            self.messages.insert(message.seq, message);
        }
    }

    /// Starts loading older history: the number to load messages before, or `None`
    /// when there is none left, a load is running or nothing is loaded yet.
    pub fn begin_older(&mut self) -> Option<i64> {
        if self.at_start || self.loading_older {
            return None;
        }
        let oldest = self.messages.keys().next().copied()?;
        self.loading_older = true;
        Some(oldest)
    }

    /// An older history page arrived: it adds only messages not here already (those
    /// here are as new or newer).
    pub fn older_page(&mut self, page: Vec<Message>) {
        if page.len() < HISTORY_PAGE {
            self.at_start = true;
        }
        for message in page {
            self.messages.entry(message.seq).or_insert(message);
        }
        self.loading_older = false;
    }

    /// Loading older history failed; scrolling up tries again.
    pub fn older_failed(&mut self) {
        self.loading_older = false;
    }

    /// Takes a message as the server has it now: it replaces any copy, and the
    /// person's own message replaces the pending send with its `client_id`.
    pub fn store(&mut self, message: Message, me: Option<&CausewayId>) -> Followup {
        let sender = message.sender.clone();
        if me == Some(&message.sender) {
            self.pending.retain(|p| p.client_id != message.client_id);
        }
        self.messages.insert(message.seq, message);
        Followup::Stored { sender }
    }

    /// Applies one event, whatever its number, and moves the position up to it.
    fn apply(&mut self, event: ChatEvent, me: Option<&CausewayId>) -> Option<Followup> {
        let seq = event.seq;
        let followup = match event.kind.as_str() {
            "message" | "edit" | "delete" => event.message.map(|m| self.store(m, me)),
            "member_removed" | "member_left" if event.subject.as_ref() == me => {
                Some(Followup::Removed)
            }
            _ => Some(Followup::ReloadDetail),
        };
        self.last_seq = self.last_seq.max(seq);
        followup
    }

    /// A pushed event: applied if it is the next one, else the gap is to be fetched.
    /// `opened`: the chat's detail has arrived.
    pub fn on_push(&mut self, event: ChatEvent, opened: bool, me: Option<&CausewayId>) -> Pushed {
        if !opened || event.seq <= self.last_seq {
            return Pushed::Ignored;
        }
        if event.seq == self.last_seq + 1 && !self.catching_up {
            Pushed::Applied(self.apply(event, me))
        } else {
            Pushed::CatchUp
        }
    }

    /// A catch-up is wanted: `true` to start one now, `false` when one is running
    /// already (it will go round once more).
    pub fn begin_catch_up(&mut self) -> bool {
        if self.catching_up {
            self.catch_up_again = true;
            return false;
        }
        self.catching_up = true;
        true
    }

    /// The catch-up's next fetch goes out now: the number to fetch the events
    /// after. It covers what was asked for until now.
    pub fn catch_up_from(&mut self) -> i64 {
        self.catch_up_again = false;
        self.last_seq
    }

    /// A page of the catch-up arrived: its events apply in their order. It goes on
    /// after a full page, or when a catch-up was asked for meanwhile.
    pub fn catch_up_page(&mut self, events: Vec<ChatEvent>, me: Option<&CausewayId>) -> CaughtUp {
        let full = events.len() >= EVENTS_PAGE;
        let followups = events
            .into_iter()
            .filter_map(|event| self.apply(event, me))
            .collect();
        let more = full || self.catch_up_again;
        if !more {
            self.catching_up = false;
        }
        CaughtUp { followups, more }
    }

    /// The catch-up failed and stops; the next push out of order or reconnection
    /// starts another.
    pub fn catch_up_failed(&mut self) {
        self.catching_up = false;
    }

    /// The newest number shown: the last message or the last event applied.
    pub fn newest(&self) -> i64 {
        self.messages
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .max(self.last_seq)
    }

    /// The read position to send, if the tab is `visible` and it is past the one
    /// sent before (positions only move forward); it counts as sent from now.
    pub fn mark_read(&mut self, visible: bool) -> Option<i64> {
        let newest = self.newest();
        if !visible || newest <= self.read_sent {
            return None;
        }
        self.read_sent = newest;
        Some(newest)
    }

    /// A send is on its way: a new one goes last, a retry (same `client_id`) stays
    /// in its place and loses its failure.
    pub fn send(&mut self, pending: Pending) {
        match self
            .pending
            .iter_mut()
            .find(|p| p.client_id == pending.client_id)
        {
            Some(existing) => existing.failed = None,
            None => self.pending.push(pending),
        }
    }

    /// A send failed: it stays, with the reason, for a retry or a discard. Nothing
    /// happens if its message was stored meanwhile.
    pub fn send_failed(&mut self, client_id: &str, reason: String) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.client_id == client_id) {
            p.failed = Some(reason);
        }
    }

    /// The person gave up on a send.
    pub fn discard(&mut self, client_id: &str) {
        self.pending.retain(|p| p.client_id != client_id);
    }
}

/// A member read up to `seq`: positions only move forward.
pub fn note_read(detail: &mut ChatDetail, member: &CausewayId, seq: i64) {
    if let Some(m) = detail.members.iter_mut().find(|m| &m.causeway_id == member) {
        m.read_seq = m.read_seq.max(seq);
    }
}

/// A member came online or went offline.
pub fn note_presence(detail: &mut ChatDetail, member: &CausewayId, online: bool) {
    if let Some(m) = detail.members.iter_mut().find(|m| &m.causeway_id == member) {
        m.online = online;
    }
}

/// How many members other than the person have read message `seq`.
pub fn readers(detail: &ChatDetail, me: Option<&CausewayId>, seq: i64) -> usize {
    detail
        .members
        .iter()
        .filter(|m| Some(&m.causeway_id) != me && m.read_seq >= seq)
        .count()
}

/// Who is typing, each until a time in milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typing {
    until: Vec<(CausewayId, f64)>,
}

impl Typing {
    /// A member is typing at `now`: shown for [`TYPING_SHOWN_MS`] from now, after
    /// the others already typing.
    pub fn started(&mut self, member: &CausewayId, now: f64) {
        let until = now + TYPING_SHOWN_MS;
        self.until.retain(|(who, _)| who != member);
        self.until.push((member.clone(), until));
    }

    /// Forgets those whose notice has run out at `now`.
    pub fn expire(&mut self, now: f64) {
        self.until.retain(|(_, until)| *until > now);
    }

    /// A member's message arrived: they have stopped typing. Whether they were.
    pub fn stopped(&mut self, member: &CausewayId) -> bool {
        if !self.until.iter().any(|(who, _)| who == member) {
            return false;
        }
        self.until.retain(|(who, _)| who != member);
        true
    }

    /// Who is typing at `now`, in the order they started.
    pub fn active(&self, now: f64) -> impl Iterator<Item = &CausewayId> {
        self.until
            .iter()
            .filter(move |(_, until)| *until > now)
            .map(|(who, _)| who)
    }
}
