//! Between the forwarding unit and the chat core: whenever a call's roster
//! changes (someone joined, hung up, or their connection went silent), the
//! chat's members are told who is in it now, so that every tab shows the
//! call running, its people, and a way in.

use app::types::{CallPerson, CallState, CausewayId};
use tokio_util::sync::CancellationToken;

use crate::chat::{ChatId, ChatService};
use crate::media::{Roster, Rosters, stream_of};

/// A roster as the API shows it; `None` once no one is in the call. People
/// whose ID does not parse (none: the socket joins with the signed-in user's)
/// are left out rather than failing the whole roster.
pub fn call_state(roster: &Roster) -> Option<CallState> {
    if roster.people.is_empty() {
        return None;
    }
    Some(CallState {
        since: roster.since,
        started_by: roster.started_by.parse().ok()?,
        people: roster
            .people
            .iter()
            .filter_map(|(id, member)| {
                Some(CallPerson {
                    member: member.parse::<CausewayId>().ok()?,
                    stream: stream_of(*id),
                })
            })
            .collect(),
    })
}

/// Follows the rosters until `stop` is cancelled.
pub fn follow(rosters: Rosters, chats: ChatService, stop: CancellationToken) {
    tokio::spawn(async move {
        loop {
            let changes = tokio::select! {
                changes = rosters.changes() => changes,
                () = stop.cancelled() => return,
            };
            for (room, roster) in changes {
                let chat_id = ChatId(room.0);
                if let Err(error) = chats.call_changed(chat_id, call_state(&roster)).await {
                    tracing::warn!(?error, chat_id = chat_id.0, "a call's change was not told");
                }
            }
        }
    });
}
