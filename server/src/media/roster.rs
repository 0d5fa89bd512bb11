//! Who is in each room's call, as the unit sees it: kept by the unit's task
//! as connections join and end (hung up, or gone silent), read by the rest of
//! the server (the chat list shows running calls), and followed by the task
//! that tells a chat's members ([`Rosters::changes`]).
//!
//! Changes are coalesced per room: a follower that is slow to look sees each
//! changed room once, as it stands then, so what waits is bounded by the
//! number of rooms, never by how often people come and go.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use super::{ParticipantId, RoomId};
use crate::time::now_millis;

/// One room's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// When its first participant joined (milliseconds since the epoch).
    pub since: i64,
    /// Who joined it first (a Causeway ID).
    pub started_by: String,
    /// Its participants now, first joined first. Empty once it has ended.
    pub people: Vec<(ParticipantId, String)>,
    /// Everyone who has been in it (a missed call had only its caller).
    pub attended: BTreeSet<String>,
}

/// The rooms' rosters. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Rosters {
    books: Arc<Mutex<Books>>,
    changed: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Books {
    rooms: HashMap<RoomId, Roster>,
    /// Rooms changed since the follower last looked, as they stand now
    /// (an ended call with no one left in it).
    dirty: BTreeMap<RoomId, Roster>,
}

impl Rosters {
    /// The call running in `room`, if one does.
    pub fn get(&self, room: RoomId) -> Option<Roster> {
        self.lock(|books| books.rooms.get(&room).cloned())
    }

    /// Waits for changes and takes them, each changed room once.
    pub async fn changes(&self) -> Vec<(RoomId, Roster)> {
        loop {
            let notified = self.changed.notified();
            let taken = self.lock(|books| std::mem::take(&mut books.dirty));
            if !taken.is_empty() {
                return taken.into_iter().collect();
            }
            notified.await;
        }
    }

    pub(super) fn joined(&self, room: RoomId, participant: ParticipantId, member: &str) {
        self.lock(|books| {
            let roster = books.rooms.entry(room).or_insert_with(|| Roster {
                since: now_millis(),
                started_by: member.to_owned(),
                people: Vec::new(),
                attended: BTreeSet::new(),
            });
            roster.people.push((participant, member.to_owned()));
            roster.attended.insert(member.to_owned());
            books.dirty.insert(room, roster.clone());
        });
        self.changed.notify_one();
    }

    pub(super) fn left(&self, room: RoomId, participant: ParticipantId) {
        self.lock(|books| {
            let Some(roster) = books.rooms.get_mut(&room) else {
                return;
            };
            roster.people.retain(|(id, _)| *id != participant);
            let now = if roster.people.is_empty() {
                books.rooms.remove(&room)
            } else {
                Some(roster.clone())
            };
            if let Some(now) = now {
                books.dirty.insert(room, now);
            }
        });
        self.changed.notify_one();
    }

    fn lock<T>(&self, f: impl FnOnce(&mut Books) -> T) -> T {
        // The books stay whole whatever panicked while holding them: every
        // change is one insert or removal.
        f(&mut self.books.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn changes_come_once_per_room_and_an_ended_call_says_who_attended() {
        let rosters = Rosters::default();
        let room = RoomId(7);
        rosters.joined(room, ParticipantId(1), "ann@a.test");
        rosters.joined(room, ParticipantId(2), "ben@a.test");
        rosters.joined(RoomId(8), ParticipantId(3), "cy@a.test");
        let changes = rosters.changes().await;
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0].1.people.len(), 2);
        assert_eq!(changes[0].1.started_by, "ann@a.test");

        rosters.left(room, ParticipantId(1));
        rosters.left(room, ParticipantId(2));
        let changes = rosters.changes().await;
        assert_eq!(changes.len(), 1);
        let (_, ended) = &changes[0];
        assert!(ended.people.is_empty());
        assert_eq!(ended.attended.len(), 2);
        assert_eq!(rosters.get(room), None);
        assert!(rosters.get(RoomId(8)).is_some());
        // Leaving a room that is not there changes nothing visible.
        rosters.left(RoomId(99), ParticipantId(9));
        assert!(rosters.lock(|books| books.dirty.is_empty()));
    }
}
