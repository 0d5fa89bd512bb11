//! Browser notifications for new messages while the tab is in the background.
//! The browser asks the person once; Causeway only asks when they press the
//! button that offers it.

use leptos::prelude::*;

use crate::live::Live;
use crate::types::{CausewayId, EventKind, Push};

/// May the page offer to turn notifications on (supported, not yet answered)?
pub fn can_ask() -> bool {
    #[cfg(feature = "hydrate")]
    {
        supported()
            && web_sys::Notification::permission() == web_sys::NotificationPermission::Default
    }
    #[cfg(not(feature = "hydrate"))]
    false
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

/// Shows a notification for a message in chat `chat_id` if the tab is hidden and
/// the person allowed it; clicking it brings the tab forward on that chat.
fn show(title: &str, body: &str, chat_id: i64) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;

        if !supported()
            || !document().hidden()
            || web_sys::Notification::permission() != web_sys::NotificationPermission::Granted
        {
            return;
        }
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        // One notification per chat: a newer one replaces the older.
        options.set_tag(&format!("chat-{chat_id}"));
        let Ok(notification) = web_sys::Notification::new_with_options(title, &options) else {
            return;
        };
        let on_click = Closure::once_into_js(move || {
            let window = window();
            let _ = window.focus();
            let _ = window.location().assign(&format!("/chats/{chat_id}"));
        });
        notification.set_onclick(Some(on_click.unchecked_ref()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, body, chat_id);
}

/// Listens for new messages from others and notifies; lives in the frame.
#[component]
pub fn Notifier(me: Signal<Option<CausewayId>>) -> impl IntoView {
    Live::get().on(move |push| {
        let Push::ChatEvent { chat_id, event } = push else {
            return;
        };
        let Some(message) = event.message.as_ref() else {
            return;
        };
        if event.kind != EventKind::Message || me.get_untracked().as_ref() == Some(&message.sender)
        {
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
        show(
            &format!("New message from {}", message.sender.login),
            &body,
            *chat_id,
        );
    });
}
