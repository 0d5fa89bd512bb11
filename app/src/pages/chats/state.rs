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

use crate::types::{CausewayId, ChatDetail, ChatEvent, EventKind, FileInfo, Message};

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
    /// Why the server refused it; `None` while it is on its way or waiting.
    pub failed: Option<String>,
    /// The server could not be reached: it goes again by itself when the
    /// connection is back.
    pub waiting: bool,
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
    /// The read position when the chat was opened: the "new messages" line
    /// stays before the first message after it while the chat is open.
    read_at_open: i64,
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
        self.read_at_open = read_seq;
    }

    /// The first message someone else sent after the read position the chat
    /// was opened with (the "new messages" line goes before it), if loaded.
    pub fn first_unread(&self, me: Option<&CausewayId>) -> Option<i64> {
        self.messages
            .range(self.read_at_open + 1..)
            .find(|(_, m)| Some(&m.sender) != me && m.deleted_at.is_none())
            .map(|(seq, _)| *seq)
    }

    /// Called once the first page is in: with nothing unread at the opening,
    /// no line is drawn later either (messages that arrive while the chat is
    /// open are read as they come).
    pub fn settle_unread(&mut self, me: Option<&CausewayId>) {
        if self.unread_loaded() && self.first_unread(me).is_none() {
            self.read_at_open = i64::MAX - 1;
        }
    }

    /// Is all history after the opening's read position loaded (so the first
    /// unread message, if any, is among the messages)?
    pub fn unread_loaded(&self) -> bool {
        self.at_start
            || self
                .messages
                .keys()
                .next()
                .is_some_and(|first| *first <= self.read_at_open + 1)
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
        let followup = match event.kind {
            kind if kind.about_a_message() => event.message.map(|m| self.store(m, me)),
            EventKind::MemberRemoved | EventKind::MemberLeft if event.subject.as_ref() == me => {
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
            Some(existing) => {
                existing.failed = None;
                existing.waiting = false;
            }
            None => self.pending.push(pending),
        }
    }

    /// A send could not reach the server: it waits for the connection.
    pub fn send_waiting(&mut self, client_id: &str) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.client_id == client_id) {
            p.waiting = true;
            p.failed = None;
        }
    }

    /// The sends waiting for the connection, oldest first.
    pub fn waiting(&self) -> Vec<Pending> {
        self.pending.iter().filter(|p| p.waiting).cloned().collect()
    }

    /// A send failed: it stays, with the reason, for a retry or a discard. Nothing
    /// happens if its message was stored meanwhile.
    pub fn send_failed(&mut self, client_id: &str, reason: String) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.client_id == client_id) {
            p.failed = Some(reason);
            p.waiting = false;
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

/// The names of the members other than the person who have read message
/// `seq`, in the chat's order.
pub fn reader_names(detail: &ChatDetail, me: Option<&CausewayId>, seq: i64) -> Vec<String> {
    detail
        .members
        .iter()
        .filter(|m| Some(&m.causeway_id) != me && m.read_seq >= seq)
        .map(|m| m.display_name.clone())
        .collect()
}

/// "Read by Ann", "Read by Ann and Ben", "Read by Ann, Ben and Cleo", "Read by
/// Ann, Ben and 3 more".
pub fn read_by(names: &[String]) -> String {
    match names {
        [] => "Sent".to_owned(),
        [one] => format!("Read by {one}"),
        [first @ .., last] if names.len() <= 3 => {
            format!("Read by {} and {last}", first.join(", "))
        }
        [a, b, rest @ ..] => format!("Read by {a}, {b} and {} more", rest.len()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChatKind, ChatMember, ChatRole};

    fn id(s: &str) -> CausewayId {
        CausewayId::parse(s).unwrap()
    }

    /// The person whose chat view this is.
    fn wolf() -> CausewayId {
        id("wolf@localhost")
    }

    fn moore() -> CausewayId {
        id("moore@localhost")
    }

    fn eve() -> CausewayId {
        id("eve@localhost")
    }

    fn me() -> Option<CausewayId> {
        Some(wolf())
    }

    fn message(seq: i64, sender: &CausewayId, client_id: &str, body: &str) -> Message {
        Message {
            chat_id: 1,
            seq,
            sender: sender.clone(),
            client_id: client_id.to_owned(),
            body: body.to_owned(),
            reply_to: None,
            created_at: 1_000 + seq,
            edited_at: None,
            deleted_at: None,
            file: None,
        }
    }

    fn event(seq: i64, kind: &str, subject: Option<CausewayId>, m: Option<Message>) -> ChatEvent {
        let kind = EventKind::parse(kind).expect("a kind of event");
        ChatEvent {
            seq,
            kind,
            actor: moore(),
            at: 1_000 + seq,
            subject,
            role: None,
            message: m,
        }
    }

    /// Moore posts message `seq`.
    fn posted(seq: i64, body: &str) -> ChatEvent {
        let m = message(seq, &moore(), &format!("m-{seq}"), body);
        event(seq, "message", None, Some(m))
    }

    fn page(seqs: std::ops::RangeInclusive<i64>) -> Vec<Message> {
        seqs.map(|seq| {
            message(
                seq,
                &moore(),
                &format!("m-{seq}"),
                &format!("history {seq}"),
            )
        })
        .collect()
    }

    fn pending(client_id: &str, body: &str) -> Pending {
        Pending {
            client_id: client_id.to_owned(),
            body: body.to_owned(),
            reply_to: None,
            file: None,
            failed: None,
            waiting: false,
        }
    }

    fn opened_at(last_seq: i64) -> Timeline {
        let mut t = Timeline::new();
        t.open(last_seq, 0);
        t
    }

    fn push(t: &mut Timeline, event: ChatEvent) -> Pushed {
        t.on_push(event, true, me().as_ref())
    }

    fn seqs(t: &Timeline) -> Vec<i64> {
        t.messages().keys().copied().collect()
    }

    fn body(t: &Timeline, seq: i64) -> &str {
        &t.messages()[&seq].body
    }

    fn client_ids(t: &Timeline) -> Vec<&str> {
        t.pending().iter().map(|p| p.client_id.as_str()).collect()
    }

    fn stored_by_moore() -> Followup {
        Followup::Stored { sender: moore() }
    }

    #[test]
    fn pushes_before_the_chat_is_open_are_left_to_the_first_catch_up() {
        let mut t = Timeline::new();
        assert_eq!(
            t.on_push(posted(4, "early"), false, me().as_ref()),
            Pushed::Ignored
        );
        assert!(t.is_empty());
        assert_eq!(t.last_seq, 0);

        t.open(3, 0);
        assert!(t.begin_catch_up());
        assert_eq!(t.catch_up_from(), 3);
        let page = t.catch_up_page(vec![posted(4, "early")], me().as_ref());
        assert_eq!(page.followups, vec![stored_by_moore()]);
        assert!(!page.more);
        assert_eq!(seqs(&t), vec![4]);
    }

    #[test]
    fn the_next_event_applies_at_once() {
        let mut t = opened_at(5);
        assert_eq!(
            push(&mut t, posted(6, "hello")),
            Pushed::Applied(Some(stored_by_moore()))
        );
        assert_eq!(
            push(&mut t, posted(7, "there")),
            Pushed::Applied(Some(stored_by_moore()))
        );
        assert_eq!(seqs(&t), vec![6, 7]);
        assert_eq!(body(&t, 7), "there");
        assert_eq!(t.last_seq, 7);
    }

    #[test]
    fn duplicate_and_old_events_are_ignored() {
        let mut t = opened_at(5);
        push(&mut t, posted(6, "first"));
        assert_eq!(push(&mut t, posted(6, "again")), Pushed::Ignored);
        assert_eq!(body(&t, 6), "first");
        // Older than the opening: the history has it.
        assert_eq!(push(&mut t, posted(4, "old")), Pushed::Ignored);
        assert_eq!(seqs(&t), vec![6]);
        assert_eq!(t.last_seq, 6);
    }

    #[test]
    fn a_gap_is_not_applied_over_but_caught_up_from_the_last_event_applied() {
        let mut t = opened_at(5);
        push(&mut t, posted(6, "six"));
        assert_eq!(push(&mut t, posted(8, "eight")), Pushed::CatchUp);
        assert_eq!(seqs(&t), vec![6]);
        assert_eq!(t.last_seq, 6);
        assert!(t.begin_catch_up());
        assert_eq!(t.catch_up_from(), 6);
    }

    #[test]
    fn out_of_order_pushes_end_in_order_through_the_catch_up() {
        let mut t = opened_at(5);
        assert_eq!(push(&mut t, posted(7, "seven")), Pushed::CatchUp);
        assert!(t.begin_catch_up());
        assert_eq!(t.catch_up_from(), 5);
        // The missing one arrives while the catch-up runs: even the next event
        // waits for it rather than race it.
        assert_eq!(push(&mut t, posted(6, "six")), Pushed::CatchUp);
        assert!(
            !t.begin_catch_up(),
            "one is running: it goes round again instead"
        );
        assert!(t.messages().is_empty());

        let page = t.catch_up_page(vec![posted(6, "six"), posted(7, "seven")], me().as_ref());
        assert_eq!(page.followups, vec![stored_by_moore(), stored_by_moore()]);
        assert!(page.more, "asked for again meanwhile");
        assert_eq!(t.catch_up_from(), 7);
        let page = t.catch_up_page(Vec::new(), me().as_ref());
        assert!(page.followups.is_empty());
        assert!(!page.more);
        assert!(!t.catching_up);

        assert_eq!(seqs(&t), vec![6, 7]);
        assert_eq!(push(&mut t, posted(7, "seven")), Pushed::Ignored);
        assert_eq!(
            push(&mut t, posted(8, "eight")),
            Pushed::Applied(Some(stored_by_moore()))
        );
        assert_eq!(seqs(&t), vec![6, 7, 8]);
    }

    #[test]
    fn a_full_catch_up_page_asks_for_the_next() {
        let mut t = opened_at(0);
        assert!(t.begin_catch_up());
        assert_eq!(t.catch_up_from(), 0);
        let events: Vec<ChatEvent> = (1..=200).map(|seq| posted(seq, "busy")).collect();
        let page = t.catch_up_page(events, me().as_ref());
        assert_eq!(page.followups.len(), 200);
        assert!(page.more);
        assert_eq!(t.catch_up_from(), 200);
        let page = t.catch_up_page(vec![posted(201, "last")], me().as_ref());
        assert!(!page.more);
        assert_eq!(t.messages().len(), 201);
        assert_eq!(t.last_seq, 201);
        assert!(t.begin_catch_up(), "over, so a new one may start");
    }

    #[test]
    fn a_failed_catch_up_stops_and_the_next_one_starts_afresh() {
        let mut t = opened_at(4);
        assert!(t.begin_catch_up());
        assert_eq!(t.catch_up_from(), 4);
        assert!(!t.begin_catch_up());
        t.catch_up_failed();
        // The push that asked meanwhile is not fetched by the failed one; the
        // next catch-up covers it.
        assert!(!t.catching_up);
        assert_eq!(push(&mut t, posted(6, "six")), Pushed::CatchUp);
        assert!(t.begin_catch_up());
        assert_eq!(t.catch_up_from(), 4);
        let page = t.catch_up_page(vec![posted(5, "five"), posted(6, "six")], me().as_ref());
        assert!(
            !page.more,
            "the earlier request went with the failed catch-up"
        );
        assert_eq!(seqs(&t), vec![5, 6]);
    }

    #[test]
    fn a_push_that_arrives_before_the_history_page_containing_it_is_not_doubled() {
        let mut t = opened_at(10);
        assert_eq!(
            push(&mut t, posted(11, "pushed")),
            Pushed::Applied(Some(stored_by_moore()))
        );
        let mut history = page(1..=11);
        history[10].body = "edited since".to_owned();
        history[10].edited_at = Some(2_000);
        t.first_page(history);
        assert_eq!(seqs(&t), (1..=11).collect::<Vec<_>>());
        // The first page's copy is the one kept.
        assert_eq!(body(&t, 11), "edited since");
        assert!(t.at_start(), "fewer than a page: the beginning");
        assert_eq!(t.last_seq, 11);
    }

    #[test]
    fn older_history_merges_without_duplicates_until_the_start() {
        let mut t = opened_at(100);
        t.first_page(page(51..=100));
        assert!(!t.at_start());
        assert_eq!(t.begin_older(), Some(51));
        assert!(t.loading_older());
        assert_eq!(t.begin_older(), None, "one load at a time");

        // A page reaching back over a message already here keeps the copy here.
        let mut older = page(2..=51);
        older[49].body = "stale".to_owned();
        t.older_page(older);
        assert!(!t.loading_older());
        assert!(!t.at_start(), "a full page: there may be more");
        assert_eq!(t.messages().len(), 99);
        assert_eq!(body(&t, 51), "history 51");

        assert_eq!(t.begin_older(), Some(2));
        t.older_page(page(1..=1));
        assert!(t.at_start());
        assert_eq!(seqs(&t), (1..=100).collect::<Vec<_>>());
        assert_eq!(t.begin_older(), None, "nothing older is left");
        assert!(!t.loading_older());
    }

    #[test]
    fn nothing_loaded_means_no_older_page_to_ask_for() {
        let mut t = opened_at(0);
        assert_eq!(t.begin_older(), None);
        assert!(!t.loading_older());
        t.first_page(Vec::new());
        assert!(t.at_start());
        assert!(t.is_empty());
    }

    #[test]
    fn a_failed_older_page_may_be_asked_for_again() {
        let mut t = opened_at(60);
        t.first_page(page(11..=60));
        assert_eq!(t.begin_older(), Some(11));
        t.older_failed();
        assert!(!t.loading_older());
        assert!(!t.at_start());
        assert_eq!(t.begin_older(), Some(11));
    }

    #[test]
    fn a_send_confirmed_by_its_answer_is_not_doubled_by_its_push() {
        let mut t = opened_at(5);
        t.send(pending("c-1", "hello"));
        assert_eq!(client_ids(&t), vec!["c-1"]);
        assert_eq!(t.pending()[0].failed, None);
        assert!(!t.is_empty());

        let answer = message(6, &wolf(), "c-1", "hello");
        assert_eq!(
            t.store(answer.clone(), me().as_ref()),
            Followup::Stored { sender: wolf() }
        );
        assert!(t.pending().is_empty());
        assert_eq!(seqs(&t), vec![6]);
        // The answer is no event: the position waits for the push.
        assert_eq!(t.last_seq, 5);

        let pushed = push(&mut t, event(6, "message", None, Some(answer)));
        assert_eq!(
            pushed,
            Pushed::Applied(Some(Followup::Stored { sender: wolf() }))
        );
        assert_eq!(seqs(&t), vec![6]);
        assert!(t.pending().is_empty());
        assert_eq!(t.last_seq, 6);
    }

    #[test]
    fn a_push_before_the_answer_confirms_the_send_and_the_answer_adds_nothing() {
        let mut t = opened_at(5);
        t.send(pending("c-1", "hello"));
        let stored = message(6, &wolf(), "c-1", "hello");
        push(&mut t, event(6, "message", None, Some(stored.clone())));
        assert!(t.pending().is_empty());
        assert_eq!(seqs(&t), vec![6]);

        t.store(stored, me().as_ref());
        assert_eq!(seqs(&t), vec![6]);
        assert!(t.pending().is_empty());
        // A failure reported after all that brings nothing back.
        t.send_failed("c-1", "timeout".to_owned());
        assert!(t.pending().is_empty());
    }

    #[test]
    fn a_failed_send_stays_for_a_retry_in_its_place() {
        let mut t = opened_at(5);
        t.send(pending("c-1", "first"));
        t.send(pending("c-2", "second"));
        t.send_failed("c-1", "The server is unreachable.".to_owned());
        assert_eq!(client_ids(&t), vec!["c-1", "c-2"]);
        assert_eq!(
            t.pending()[0].failed.as_deref(),
            Some("The server is unreachable.")
        );
        assert_eq!(t.pending()[1].failed, None);

        // Retry sends the failed copy as shown: same key, same place, no failure.
        let retry = t.pending()[0].clone();
        t.send(retry);
        assert_eq!(client_ids(&t), vec!["c-1", "c-2"]);
        assert_eq!(t.pending()[0].failed, None);

        t.store(message(6, &wolf(), "c-1", "first"), me().as_ref());
        assert_eq!(client_ids(&t), vec!["c-2"]);
        assert_eq!(seqs(&t), vec![6]);
    }

    #[test]
    fn a_failed_send_whose_message_arrives_anyway_is_confirmed() {
        let mut t = opened_at(5);
        t.send(pending("c-1", "hello"));
        t.send_failed("c-1", "timeout".to_owned());
        let stored = message(6, &wolf(), "c-1", "hello");
        push(&mut t, event(6, "message", None, Some(stored)));
        assert!(t.pending().is_empty());
        assert_eq!(seqs(&t), vec![6]);
    }

    #[test]
    fn discarding_drops_only_that_send() {
        let mut t = opened_at(0);
        t.send(pending("c-1", "one"));
        t.send(pending("c-2", "two"));
        t.send_failed("c-1", "refused".to_owned());
        t.discard("c-1");
        assert_eq!(client_ids(&t), vec!["c-2"]);
        t.discard("c-9");
        assert_eq!(client_ids(&t), vec!["c-2"]);
    }

    #[test]
    fn only_my_own_message_confirms_a_send() {
        let mut t = opened_at(5);
        t.send(pending("c-1", "mine"));
        // Someone else's key may be the same string.
        push(
            &mut t,
            event(
                6,
                "message",
                None,
                Some(message(6, &moore(), "c-1", "theirs")),
            ),
        );
        assert_eq!(client_ids(&t), vec!["c-1"]);
        // Before the person is known, nothing is taken as theirs.
        t.store(message(7, &wolf(), "c-1", "mine"), None);
        assert_eq!(client_ids(&t), vec!["c-1"]);
        assert_eq!(seqs(&t), vec![6, 7]);
    }

    #[test]
    fn edits_and_deletions_replace_loaded_messages() {
        let mut t = opened_at(10);
        t.first_page(vec![
            message(9, &moore(), "m-9", "draft"),
            message(10, &wolf(), "w-10", "mine"),
        ]);
        let mut edited = message(9, &moore(), "m-9", "final");
        edited.edited_at = Some(5_000);
        assert_eq!(
            push(&mut t, event(11, "edit", None, Some(edited))),
            Pushed::Applied(Some(stored_by_moore()))
        );
        let mut deleted = message(10, &wolf(), "w-10", "");
        deleted.deleted_at = Some(6_000);
        assert_eq!(
            push(&mut t, event(12, "delete", None, Some(deleted))),
            Pushed::Applied(Some(Followup::Stored { sender: wolf() }))
        );
        // Edits and deletions are events, not rows.
        assert_eq!(seqs(&t), vec![9, 10]);
        assert_eq!(body(&t, 9), "final");
        assert_eq!(t.messages()[&9].edited_at, Some(5_000));
        assert_eq!(body(&t, 10), "");
        assert_eq!(t.messages()[&10].deleted_at, Some(6_000));
        assert_eq!(t.last_seq, 12);
    }

    /// What the code does today, not necessarily what it should: an edit or a
    /// deletion of a message older than the history loaded adds that message, and
    /// older history is then asked for before it, past the messages in between.
    #[test]
    fn an_edit_of_a_message_not_loaded_is_added_and_older_history_goes_on_before_it() {
        let mut t = opened_at(100);
        t.first_page(page(51..=100));
        let mut edited = message(3, &moore(), "m-3", "edited long after");
        edited.edited_at = Some(9_000);
        push(&mut t, event(101, "edit", None, Some(edited)));
        assert_eq!(t.messages().len(), 51);
        assert_eq!(body(&t, 3), "edited long after");
        assert_eq!(t.begin_older(), Some(3));
    }

    #[test]
    fn an_event_without_its_message_only_moves_the_position() {
        let mut t = opened_at(5);
        assert_eq!(
            push(&mut t, event(6, "delete", None, None)),
            Pushed::Applied(None)
        );
        assert!(t.is_empty());
        assert_eq!(t.last_seq, 6);
        assert_eq!(
            push(&mut t, posted(7, "next")),
            Pushed::Applied(Some(stored_by_moore()))
        );
    }

    #[test]
    fn membership_events_ask_for_the_detail_or_tell_of_my_removal() {
        let mut t = opened_at(0);
        assert!(t.begin_catch_up());
        t.catch_up_from();
        let events = vec![
            event(1, "created", None, None),
            event(2, "member_added", Some(eve()), None),
            event(3, "role_changed", Some(eve()), None),
            event(4, "member_removed", Some(eve()), None),
            posted(5, "bye, Eve"),
            event(6, "member_left", Some(moore()), None),
            event(7, "edit", None, None),
            event(8, "member_removed", Some(wolf()), None),
        ];
        let page = t.catch_up_page(events, me().as_ref());
        assert_eq!(
            page.followups,
            vec![
                Followup::ReloadDetail,
                Followup::ReloadDetail,
                Followup::ReloadDetail,
                Followup::ReloadDetail,
                stored_by_moore(),
                Followup::ReloadDetail,
                Followup::Removed,
            ]
        );
        assert_eq!(seqs(&t), vec![5]);
        assert_eq!(t.last_seq, 8);

        assert_eq!(
            push(&mut t, event(9, "member_left", Some(wolf()), None)),
            Pushed::Applied(Some(Followup::Removed))
        );
        // Before the person is known, a removal naming nobody reads as theirs.
        assert_eq!(
            t.on_push(event(10, "member_removed", None, None), true, None),
            Pushed::Applied(Some(Followup::Removed))
        );
    }

    #[test]
    fn the_read_position_is_sent_only_when_visible_and_only_forward() {
        let mut t = Timeline::new();
        t.open(5, 3);
        t.first_page(page(1..=5));
        assert_eq!(t.mark_read(false), None, "a hidden tab reads nothing");
        assert_eq!(t.mark_read(true), Some(5));
        assert_eq!(t.mark_read(true), None, "sent already");

        push(&mut t, posted(6, "new"));
        assert_eq!(t.mark_read(true), Some(6));
        // An event that is no message counts as seen too.
        push(&mut t, event(7, "member_added", Some(eve()), None));
        assert_eq!(t.newest(), 7);
        assert_eq!(t.mark_read(true), Some(7));
        // My own acknowledged send may be ahead of the events applied.
        t.store(message(9, &wolf(), "c-1", "ahead"), me().as_ref());
        assert_eq!(t.mark_read(true), Some(9));
        push(&mut t, posted(8, "behind"));
        assert_eq!(t.mark_read(true), None, "never backwards");

        let mut t = Timeline::new();
        t.open(5, 8);
        t.first_page(page(1..=5));
        assert_eq!(t.mark_read(true), None, "the server has read further");
    }

    fn detail() -> ChatDetail {
        let member = |who: CausewayId, name: &str| ChatMember {
            causeway_id: who,
            display_name: name.to_owned(),
            role: ChatRole::Member,
            read_seq: 0,
            online: false,
        };
        ChatDetail {
            id: 1,
            kind: ChatKind::Group,
            title: "Plans".to_owned(),
            members: vec![
                member(wolf(), "Wolf"),
                member(moore(), "Moore"),
                member(eve(), "Eve"),
            ],
            my_role: ChatRole::Owner,
            last_seq: 10,
            read_seq: 0,
        }
    }

    #[test]
    fn read_by_names_the_readers_and_counts_the_rest() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(read_by(&names(&[])), "Sent");
        assert_eq!(read_by(&names(&["Ann"])), "Read by Ann");
        assert_eq!(read_by(&names(&["Ann", "Ben"])), "Read by Ann and Ben");
        assert_eq!(
            read_by(&names(&["Ann", "Ben", "Cleo"])),
            "Read by Ann, Ben and Cleo"
        );
        assert_eq!(
            read_by(&names(&["Ann", "Ben", "Cleo", "Dev", "Eve"])),
            "Read by Ann, Ben and 3 more"
        );
        let mut d = detail();
        note_read(&mut d, &moore(), 7);
        note_read(&mut d, &wolf(), 9);
        assert_eq!(
            reader_names(&d, me().as_ref(), 7),
            ["Moore"],
            "the person is no reader"
        );
        assert!(reader_names(&d, me().as_ref(), 8).is_empty());
    }

    #[test]
    fn the_new_messages_line_stays_before_the_first_unread_of_the_opening() {
        let mut t = Timeline::new();
        t.open(6, 3);
        t.first_page(vec![
            message(2, &moore(), "a", "old"),
            message(3, &moore(), "b", "read"),
            message(4, &wolf(), "c", "mine, after the read position"),
            message(5, &moore(), "d", "new"),
            message(6, &eve(), "e", "new too"),
        ]);
        assert!(t.unread_loaded());
        assert_eq!(
            t.first_unread(me().as_ref()),
            Some(5),
            "one's own messages are not unread"
        );
        // Reading moves the read position, not the line.
        t.mark_read(true);
        assert_eq!(t.first_unread(me().as_ref()), Some(5));

        // More unread than one page: the line is not loaded yet.
        let mut t = Timeline::new();
        t.open(200, 10);
        t.first_page(
            (101..=200)
                .map(|seq| message(seq, &moore(), &seq.to_string(), "m"))
                .collect(),
        );
        assert!(!t.unread_loaded());
        assert_eq!(
            t.first_unread(me().as_ref()),
            Some(101),
            "the first loaded, until older pages come"
        );

        // Nothing unread at the opening: what arrives while open draws no line.
        let mut t = Timeline::new();
        t.open(5, 5);
        t.first_page(vec![message(5, &moore(), "a", "read")]);
        t.settle_unread(me().as_ref());
        assert_eq!(t.first_unread(me().as_ref()), None);
        t.store(message(6, &moore(), "b", "while open"), me().as_ref());
        assert_eq!(t.first_unread(me().as_ref()), None);
    }

    #[test]
    fn members_read_positions_only_move_forward_and_count_readers_but_me() {
        let mut d = detail();
        note_read(&mut d, &moore(), 7);
        note_read(&mut d, &moore(), 5);
        assert_eq!(d.members[1].read_seq, 7);
        note_read(&mut d, &id("stranger@localhost"), 9);
        assert_eq!(d, {
            let mut expected = detail();
            expected.members[1].read_seq = 7;
            expected
        });
        assert_eq!(reader_names(&d, me().as_ref(), 7).len(), 1);
        note_read(&mut d, &wolf(), 9);
        assert_eq!(
            reader_names(&d, me().as_ref(), 7).len(),
            1,
            "the person is no reader"
        );
        note_read(&mut d, &eve(), 8);
        assert_eq!(reader_names(&d, me().as_ref(), 7).len(), 2);
        assert_eq!(reader_names(&d, me().as_ref(), 8).len(), 1);
        assert_eq!(reader_names(&d, me().as_ref(), 9).len(), 0);
    }

    #[test]
    fn presence_sets_a_member_online_or_offline() {
        let mut d = detail();
        note_presence(&mut d, &moore(), true);
        assert!(d.members[1].online);
        assert!(!d.members[2].online);
        note_presence(&mut d, &moore(), false);
        assert!(!d.members[1].online);
    }

    #[test]
    fn typing_shows_for_five_seconds_and_ends_with_a_message() {
        let mut typing = Typing::default();
        typing.started(&moore(), 1_000.0);
        typing.started(&eve(), 2_000.0);
        let at = |typing: &Typing, now: f64| typing.active(now).cloned().collect::<Vec<_>>();
        assert_eq!(at(&typing, 5_999.0), vec![moore(), eve()]);
        assert_eq!(at(&typing, 6_000.0), vec![eve()]);

        // Typing again starts the five seconds over, after the others.
        typing.started(&moore(), 3_000.0);
        assert_eq!(at(&typing, 6_500.0), vec![eve(), moore()]);
        typing.expire(7_000.0);
        assert_eq!(at(&typing, 0.0), vec![moore()]);

        assert!(typing.stopped(&moore()));
        assert!(!typing.stopped(&moore()));
        assert_eq!(at(&typing, 0.0), Vec::<CausewayId>::new());
    }
}
