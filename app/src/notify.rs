//! Browser notifications for new messages while the tab is in the background.
//! The browser asks the person once; Causeway only asks when they press the
//! button that offers it.

use leptos::prelude::*;

use crate::api;
use crate::inbox::Inbox;
use crate::live::Live;
use crate::types::{CausewayId, ChatKind, EventKind, Push, mentions_of};

/// Where the person's "Not now" to the offer is kept (in this browser).
#[cfg(feature = "hydrate")]
const DECLINED_KEY: &str = "causeway.notifications.declined";

/// May the page offer to turn notifications on (supported, not yet answered,
/// not declined with "Not now")?
pub fn can_ask() -> bool {
    #[cfg(feature = "hydrate")]
    {
        let declined = window()
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(DECLINED_KEY).ok().flatten())
            .is_some();
        supported()
            && !declined
            && web_sys::Notification::permission() == web_sys::NotificationPermission::Default
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// "Not now": the offer does not come back in this browser.
pub fn decline() {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = window().local_storage().ok().flatten() {
        let _ = storage.set_item(DECLINED_KEY, "1");
    }
}

/// Asks the browser for permission (call from a click).
pub fn ask() {
    #[cfg(feature = "hydrate")]
    if supported() {
        let _ = web_sys::Notification::request_permission();
    }
}

#[cfg(feature = "hydrate")]
fn supported() -> bool {
    use wasm_bindgen::JsValue;
    js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("Notification")).unwrap_or(false)
}

/// Would a notification show now (the tab is hidden and the person allowed
/// them)?
fn wanted() -> bool {
    #[cfg(feature = "hydrate")]
    {
        supported()
            && document().hidden()
            && web_sys::Notification::permission() == web_sys::NotificationPermission::Granted
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Shows a notification for a message in chat `chat_id`; clicking it brings
/// the tab forward and opens the chat in it (no page load).
fn show(title: &str, body: &str, chat_id: i64, open: impl Fn(&str) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;

        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        // One notification per chat: a newer one replaces the older.
        options.set_tag(&format!("chat-{chat_id}"));
        let Ok(notification) = web_sys::Notification::new_with_options(title, &options) else {
            return;
        };
        let on_click = Closure::once_into_js(move || {
            let _ = window().focus();
            open(&format!("/chats/{chat_id}"));
        });
        notification.set_onclick(Some(on_click.unchecked_ref()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, body, chat_id, open);
}

/// Listens for new messages from others and notifies: never for a muted
/// chat, unless the message mentions the person. The notification names the
/// sender (and the group); it lives in the frame.
#[component]
pub fn Notifier(me: Signal<Option<CausewayId>>) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let inbox = Inbox::get();
    Live::get().on(move |push| {
        let Push::ChatEvent { chat_id, event } = push else {
            return;
        };
        let Some(message) = event.message.clone() else {
            return;
        };
        let Some(me) = me.get_untracked() else {
            return;
        };
        if event.kind != EventKind::Message || me == message.sender || !wanted() {
            return;
        }
        let mentioned = mentions_of(&message.body, &me);
        let chat = inbox.chat(*chat_id);
        if chat.as_ref().is_some_and(|c| c.muted) && !mentioned {
            return;
        }
        let body: String = if message.body.is_empty() {
            message
                .file
                .as_ref()
                .map(|f| format!("Sent a file: {}", f.name))
                .unwrap_or_default()
        } else {
            message.body.chars().take(140).collect()
        };
        let chat_id = *chat_id;
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            // The sender's name is among the chat's members.
            let detail = api::chat(chat_id).await.ok();
            let sender = detail
                .as_ref()
                .and_then(|d| d.members.iter().find(|m| m.causeway_id == message.sender))
                .map_or_else(
                    || message.sender.login.to_string(),
                    |m| m.display_name.clone(),
                );
            let title = match detail {
                Some(d) if d.kind == ChatKind::Group => format!("{sender} in {}", d.title),
                _ => sender,
            };
            let title = if mentioned {
                format!("{title} mentioned you")
            } else {
                title
            };
            show(&title, &body, chat_id, move |path| {
                navigate(path, Default::default())
            });
        });
    });
}
