//! The tab's realtime connection: one WebSocket to `/api/v1/events`, opened when
//! a signed-in page shows and reopened with jittered backoff when it drops.
//!
//! Views subscribe with [`Live::on`] for the pushes they care about, and watch
//! [`Live::ready`], which changes each time the socket (re)connects: that is when
//! they catch up over HTTP by sequence number, so nothing is missed in between.
//! In the server build everything here is inert.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
use crate::types::SocketEnd;
use crate::types::{ClientFrame, Push};

/// The handle views use; provided once for the whole app.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// Changes at every `ready` frame (first connection and each reconnection).
    pub ready: RwSignal<u64>,
    /// The socket is open and live.
    pub connected: RwSignal<bool>,
    /// The connection dropped and is being made again: the frame says so.
    pub lost: RwSignal<bool>,
    /// The server now serves another client than this tab runs (it was
    /// upgraded): the frame offers to reload.
    pub updated: RwSignal<bool>,
}

impl Live {
    pub fn provide() -> Self {
        let live = Self {
            ready: RwSignal::new(0),
            connected: RwSignal::new(false),
            lost: RwSignal::new(false),
            updated: RwSignal::new(false),
        };
        provide_context(live);
        live
    }

    pub fn get() -> Self {
        expect_context::<Live>()
    }

    /// Opens the socket if it is not open yet (signed-in pages call this).
    pub fn start(self) {
        #[cfg(feature = "hydrate")]
        imp::start(self);
    }

    /// Closes the socket for good (signing out).
    pub fn stop(self) {
        #[cfg(feature = "hydrate")]
        imp::stop(self);
    }

    /// Calls `listener` with every push until the calling component is gone.
    pub fn on(self, listener: impl Fn(&Push) + 'static) {
        #[cfg(feature = "hydrate")]
        {
            let id = imp::listen(std::rc::Rc::new(listener));
            on_cleanup(move || imp::unlisten(id));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = listener;
    }

    /// Sends a frame if the socket is open; dropped otherwise (typing notices
    /// are worthless late).
    pub fn send(self, frame: &ClientFrame) {
        #[cfg(feature = "hydrate")]
        imp::send(frame);
        #[cfg(not(feature = "hydrate"))]
        let _ = frame;
    }
}

/// The sign-in page's notice for a session ended because the account was
/// deactivated (`/login?ended=account_disabled`).
pub const ACCOUNT_DISABLED_NOTICE: &str =
    "Your account has been deactivated. Contact your administrator.";

/// Takes the person to the sign-in page after the server ended their session,
/// saying why when the account was deactivated. A full page load: everything the
/// tab held belonged to the ended session. Nothing happens on the sign-in page
/// itself, where a deactivated account's answer is shown beside the form.
#[cfg(feature = "hydrate")]
pub fn leave(end: SocketEnd) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    if location.pathname().is_ok_and(|path| path == "/login") {
        return;
    }
    let target = match end {
        SocketEnd::AccountDisabled => "/login?ended=account_disabled",
        SocketEnd::SessionEnded | SocketEnd::AccountDeleted => "/login",
    };
    let _ = location.set_href(target);
}

#[cfg(feature = "hydrate")]
mod imp {
    use std::cell::RefCell;
    use std::rc::Rc;

    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::*;

    type Listener = Rc<dyn Fn(&Push)>;

    struct Socket {
        ws: WebSocket,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    #[derive(Default)]
    struct State {
        listeners: Vec<(u64, Listener)>,
        next_id: u64,
        socket: Option<Socket>,
        /// Signed in and wanting a connection.
        wanted: bool,
        /// A reconnection is scheduled.
        waiting: bool,
        /// Failed attempts since the last `ready`, for the backoff.
        failures: u32,
        /// Counts connection attempts: a scheduled retry that another attempt
        /// overtook (the browser came back online) does nothing.
        attempt: u64,
        /// The browser's `online` event is being listened to.
        watching_network: bool,
    }

    thread_local! {
        static STATE: RefCell<State> = RefCell::new(State::default());
    }

    pub fn listen(listener: Listener) -> u64 {
        STATE.with_borrow_mut(|s| {
            s.next_id += 1;
            s.listeners.push((s.next_id, listener));
            s.next_id
        })
    }

    pub fn unlisten(id: u64) {
        STATE.with_borrow_mut(|s| s.listeners.retain(|(i, _)| *i != id));
    }

    pub fn start(live: Live) {
        let (open_now, watch) = STATE.with_borrow_mut(|s| {
            let idle = !s.wanted;
            s.wanted = true;
            let watch = !s.watching_network;
            s.watching_network = true;
            (idle && s.socket.is_none() && !s.waiting, watch)
        });
        if watch {
            watch_network(live);
        }
        if open_now {
            open(live);
        }
    }

    /// When the browser is back online, try at once instead of waiting out
    /// the backoff.
    fn watch_network(live: Live) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let on_online = Closure::<dyn FnMut()>::new(move || {
            let retry = STATE.with_borrow_mut(|s| {
                let down = s
                    .socket
                    .as_ref()
                    .is_none_or(|socket| socket.ws.ready_state() != WebSocket::OPEN);
                if s.wanted && down {
                    s.waiting = false;
                    s.failures = 0;
                    true
                } else {
                    false
                }
            });
            if retry {
                open(live);
            }
        });
        let _ =
            window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        // Listens for the life of the tab.
        on_online.forget();
    }

    pub fn stop(live: Live) {
        let socket = STATE.with_borrow_mut(|s| {
            s.wanted = false;
            s.socket.take()
        });
        if let Some(socket) = socket {
            socket.ws.set_onclose(None);
            socket.ws.set_onmessage(None);
            let _ = socket.ws.close();
        }
        live.connected.set(false);
        live.lost.set(false);
    }

    pub fn send(frame: &ClientFrame) {
        let Ok(text) = crate::api::to_json(frame) else {
            return;
        };
        STATE.with_borrow(|s| {
            if let Some(socket) = &s.socket
                && socket.ws.ready_state() == WebSocket::OPEN
            {
                let _ = socket.ws.send_with_str(&text);
            }
        });
    }

    fn dispatch(live: Live, push: Push) {
        if let Push::Ready { client } = &push {
            STATE.with_borrow_mut(|s| s.failures = 0);
            live.connected.set(true);
            live.lost.set(false);
            live.ready.update(|n| *n += 1);
            if !client.is_empty() && page_client_version().is_some_and(|mine| mine != *client) {
                live.updated.set(true);
            }
        }
        // Listeners may subscribe or unsubscribe while they run: call a snapshot.
        let listeners: Vec<Listener> =
            STATE.with_borrow(|s| s.listeners.iter().map(|(_, l)| l.clone()).collect());
        for listener in listeners {
            listener(&push);
        }
    }

    /// The client version the page was served with (its `<meta>`), empty for
    /// a development build.
    fn page_client_version() -> Option<String> {
        let selector = format!("meta[name=\"{}\"]", crate::app::CLIENT_VERSION_META);
        let meta = web_sys::window()?
            .document()?
            .query_selector(&selector)
            .ok()??;
        meta.get_attribute("content")
            .filter(|version| !version.is_empty())
    }

    fn open(live: Live) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        let Ok(host) = location.host() else {
            return;
        };
        STATE.with_borrow_mut(|s| s.attempt += 1);
        let ws = match WebSocket::new(&format!("{scheme}://{host}/api/v1/events")) {
            Ok(ws) => ws,
            Err(_) => {
                live.lost.set(true);
                retry_later(live);
                return;
            }
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(push) = crate::api::from_json::<Push>(&text)
            {
                dispatch(live, push);
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            live.connected.set(false);
            // The server ended the session (signed out elsewhere, password
            // changed, account deactivated or deleted): reconnecting is useless.
            if let Some(end) = SocketEnd::from_code(event.code()) {
                STATE.with_borrow_mut(|s| s.wanted = false);
                super::leave(end);
                return;
            }
            // The socket (and this closure) is replaced by the next attempt, from
            // the timer: never dropped while it runs.
            if STATE.with_borrow(|s| s.wanted) {
                live.lost.set(true);
                retry_later(live);
            }
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let old = STATE.with_borrow_mut(|s| {
            s.socket.replace(Socket {
                ws,
                _on_message: on_message,
                _on_close: on_close,
            })
        });
        drop(old);
    }

    /// Schedules the next attempt: 0.5 s doubling to 30 s, with jitter so a
    /// restarted server is not hit by every tab at once.
    fn retry_later(live: Live) {
        let scheduled = STATE.with_borrow_mut(|s| {
            if s.waiting {
                return None;
            }
            s.waiting = true;
            s.failures = s.failures.saturating_add(1);
            let base = (500.0 * 2f64.powi(s.failures.min(6) as i32)).min(30_000.0);
            Some((base * (0.5 + js_sys::Math::random() / 2.0), s.attempt))
        });
        let Some((delay, attempt)) = scheduled else {
            return;
        };
        let retry = Closure::once_into_js(move || {
            let go = STATE.with_borrow_mut(|s| {
                if s.attempt != attempt {
                    // Overtaken by an attempt made when the browser came back online.
                    return false;
                }
                s.waiting = false;
                s.wanted
            });
            if go {
                open(live);
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                retry.unchecked_ref(),
                delay as i32,
            );
        }
    }
}
