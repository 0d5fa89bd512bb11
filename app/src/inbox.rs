//! The person's chats and what is unread in them, for every signed-in page:
//! the chat list shows them, and the tab title, the tab's icon and the Chats
//! link count what is unread — all of an ordinary chat, only the mentions of a
//! muted one. Loaded when a signed-in page first shows and again at each
//! (re)connection; kept current by the pushes in between.

use leptos::prelude::*;

use crate::api::{self, ApiFailure};
use crate::live::Live;
use crate::types::{CallState, CausewayId, ChatEvent, ChatSummary, EventKind, Push, mentions_of};

/// The chat list as loaded: `None` until the first answer.
pub type ChatList = Option<Result<Vec<ChatSummary>, ApiFailure>>;

/// The handle pages use; provided once for the whole app.
#[derive(Debug, Clone, Copy)]
pub struct Inbox {
    pub chats: RwSignal<ChatList>,
    me: RwSignal<Option<CausewayId>>,
}

impl Inbox {
    pub fn provide(live: Live) -> Self {
        let inbox = Self {
            chats: RwSignal::new(None),
            me: RwSignal::new(None),
        };
        provide_context(inbox);
        // Pushes may have been missed while the socket was down.
        Effect::new(move |_| {
            live.ready.track();
            if inbox.me.get_untracked().is_some() {
                inbox.load();
            }
        });
        live.on(move |push| inbox.apply(push));
        inbox
    }

    pub fn get() -> Self {
        expect_context::<Inbox>()
    }

    /// A signed-in page shows for `me`: the list loads if it has not yet.
    pub fn start(self, me: CausewayId) {
        if self.me.get_untracked().as_ref() != Some(&me) {
            self.me.set(Some(me));
            self.load();
        }
    }

    /// Signed out: nothing of the session stays.
    pub fn stop(self) {
        self.me.set(None);
        self.chats.set(None);
    }

    /// Fetches the list again.
    pub fn load(self) {
        leptos::task::spawn_local(async move {
            let list = api::chats().await;
            if self.me.get_untracked().is_none() {
                return;
            }
            // Offline, the list shown stays (the reconnection loads it again)
            // rather than turning into an error.
            let keep = matches!(&list, Err(failure) if failure.unreachable())
                && self.chats.with_untracked(|c| matches!(c, Some(Ok(_))));
            if !keep {
                self.chats.set(Some(list));
            }
        });
    }

    /// What counts as unread now: every unread message of a chat that is not
    /// muted, and the unread mentions of one that is.
    pub fn unread(self) -> i64 {
        self.chats.with(|list| match list {
            Some(Ok(list)) => list
                .iter()
                .map(|c| if c.muted { c.mentions } else { c.unread })
                .sum(),
            _ => 0,
        })
    }

    /// Who the person is (tracked), once a signed-in page showed.
    pub fn me(self) -> Option<CausewayId> {
        self.me.get()
    }

    /// The call running in chat `id` now, if one does (tracked).
    pub fn call(self, id: i64) -> Option<CallState> {
        self.chats.with(|list| match list {
            Some(Ok(list)) => list
                .iter()
                .find(|c| c.id == id)
                .and_then(|c| c.call.clone()),
            _ => None,
        })
    }

    /// The chat's row, if it is listed.
    pub fn chat(self, id: i64) -> Option<ChatSummary> {
        self.chats.with_untracked(|list| match list {
            Some(Ok(list)) => list.iter().find(|c| c.id == id).cloned(),
            _ => None,
        })
    }

    /// Shows a chat muted or not (after the server agreed).
    pub fn set_muted(self, id: i64, muted: bool) {
        self.chats.update(|list| {
            if let Some(Ok(list)) = list
                && let Some(chat) = list.iter_mut().find(|c| c.id == id)
            {
                chat.muted = muted;
            }
        });
    }

    /// A new message or an edit is applied to the list as it arrives; anything
    /// else that changes the list (a new chat, membership, a deletion, the
    /// person's own reading) is fetched again.
    fn apply(self, push: &Push) {
        let Some(me) = self.me.get_untracked() else {
            return;
        };
        match push {
            Push::ChatEvent { chat_id, event } => {
                let mut applied = false;
                self.chats.update(|list| {
                    if let Some(Ok(list)) = list {
                        applied = apply_to_list(list, *chat_id, event, &me);
                    }
                });
                if !applied {
                    self.load();
                }
            }
            Push::Read { member, .. } if *member == me => self.load(),
            Push::Call { chat_id, call } => self.chats.update(|list| {
                if let Some(Ok(list)) = list
                    && let Some(chat) = list.iter_mut().find(|c| c.id == *chat_id)
                {
                    chat.call = call.clone();
                }
            }),
            _ => {}
        }
    }
}

/// Applies a new message or an edit to the chat's row and moves the row to the
/// top, as the server orders the list; `false` when the list must be fetched
/// instead (an unknown chat, or another kind of event).
fn apply_to_list(
    list: &mut Vec<ChatSummary>,
    chat_id: i64,
    event: &ChatEvent,
    me: &CausewayId,
) -> bool {
    let (Some(message), Some(index)) = (
        event.message.as_ref(),
        list.iter().position(|c| c.id == chat_id),
    ) else {
        return false;
    };
    let mut chat = list.remove(index);
    match event.kind {
        EventKind::Message => {
            if &message.sender != me {
                chat.unread += 1;
                if mentions_of(&message.body, me) {
                    chat.mentions += 1;
                }
            }
            chat.last_message = Some(message.clone());
        }
        EventKind::Edit => {
            if chat
                .last_message
                .as_ref()
                .is_some_and(|m| m.seq == message.seq)
            {
                chat.last_message = Some(message.clone());
            }
        }
        _ => {
            list.insert(index, chat);
            return false;
        }
    }
    chat.last_seq = event.seq;
    chat.last_at = event.at;
    list.insert(0, chat);
    true
}

/// Keeps the tab's icon in step with the unread count: the plain icon, or
/// the one with a dot.
pub fn show_in_icon(inbox: Inbox) {
    Effect::new(move |_| {
        let unread = inbox.unread() > 0;
        #[cfg(feature = "hydrate")]
        if let Some(link) = document().query_selector("link[rel=icon]").ok().flatten() {
            let href = if unread {
                "/favicon-unread.svg"
            } else {
                "/favicon.svg"
            };
            let _ = link.set_attribute("href", href);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = unread;
    });
}
