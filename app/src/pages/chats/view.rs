//! One open chat: its history (older pages load on scrolling up), live events,
//! the composer with pending / sent / failed sends, replies, edits, deletions,
//! files and the member panel.

use leptos::prelude::*;

mod upload;

use super::has_right;
use super::members::{MembersPanel, PanelState};
use super::state::{self, Followup, Pending, Pushed, Timeline, Typing};
use crate::api;
use crate::components::{
    Confirm, ErrorNotice, Fetched, Loading, Me, MentionNames, RichText, day_label, day_of,
    human_size, later, lower, short_time, typed_before_hydration,
};
use crate::inbox::Inbox;
use crate::live::Live;
use crate::types::{
    CausewayId, ChatDetail, ChatEvent, ChatKind, ChatRole, ClientFrame, FileInfo, Message, Push,
    Right, SendMessage,
};
use upload::{Staged, Uploader};

/// Everything the open chat shows, as signals; the timeline's rules are in
/// `state.rs`, the fetching and the DOM here.
#[derive(Clone, Copy)]
struct ChatState {
    id: i64,
    me: Signal<Option<CausewayId>>,
    detail: RwSignal<Option<ChatDetail>>,
    /// Messages, pending sends and the positions behind them.
    timeline: RwSignal<Timeline>,
    error: RwSignal<Option<String>>,
    removed: RwSignal<bool>,
    reply_to: RwSignal<Option<Message>>,
    editing: RwSignal<Option<Message>>,
    typing: RwSignal<Typing>,
    list: NodeRef<leptos::html::Ol>,
    /// A new try of the sends waiting for the connection is scheduled.
    retry_scheduled: StoredValue<bool>,
    live: Live,
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    0.0
}

/// A fresh idempotency key for a send.
fn new_client_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        format!("{:x}-{a:08x}{b:08x}", js_sys::Date::now() as u64)
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

impl ChatState {
    fn name_of(&self, id: &CausewayId) -> String {
        self.detail
            .read_untracked()
            .as_ref()
            .and_then(|d| d.members.iter().find(|m| &m.causeway_id == id))
            .map(|m| m.display_name.clone())
            .unwrap_or_else(|| id.login.to_string())
    }

    fn is_mine(&self, message: &Message) -> bool {
        self.me.get_untracked().as_ref() == Some(&message.sender)
    }

    fn near_bottom(&self) -> bool {
        self.list
            .get_untracked()
            .is_none_or(|el| el.scroll_height() - el.scroll_top() - el.client_height() < 120)
    }

    fn scroll_to_bottom(self) {
        request_animation_frame(move || {
            if let Some(el) = self.list.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }

    fn reload_detail(self) {
        leptos::task::spawn_local(async move {
            match api::chat(self.id).await {
                Ok(detail) => self.detail.set(Some(detail)),
                Err(failure) if failure.status == 404 => self.removed.set(true),
                Err(failure) => self.error.set(Some(failure.message)),
            }
        });
    }

    /// Does what the timeline asks of the page.
    fn run(self, followup: Followup) {
        match followup {
            Followup::Stored { sender } => self.typing.maybe_update(|t| t.stopped(&sender)),
            Followup::Removed => self.removed.set(true),
            Followup::ReloadDetail => self.reload_detail(),
        }
    }

    /// Takes a message as the server has it now: replaces any copy, and the
    /// pending send it acknowledges.
    fn store(self, message: Message) {
        let me = self.me.get_untracked();
        if let Some(followup) = self.timeline.try_update(|t| t.store(message, me.as_ref())) {
            self.run(followup);
        }
    }

    /// A pushed event: applied if it is the next one, else the gap is fetched.
    fn on_event(self, event: ChatEvent) {
        let opened = self.detail.with_untracked(Option::is_some);
        let me = self.me.get_untracked();
        // The list hears of it only when a message changed.
        let pushed = self.timeline.try_maybe_update(|t| {
            let pushed = t.on_push(event, opened, me.as_ref());
            let shown = matches!(&pushed, Pushed::Applied(Some(e)) if e.is_stored());
            (shown, pushed)
        });
        match pushed {
            Some(Pushed::Applied(followup)) => {
                // The list has not redrawn yet: this is where it was.
                let bottom = self.near_bottom();
                if let Some(followup) = followup {
                    self.run(followup);
                }
                if bottom {
                    self.scroll_to_bottom();
                }
                self.mark_read();
            }
            Some(Pushed::CatchUp) => self.catch_up(),
            Some(Pushed::Ignored) | None => {}
        }
    }

    /// Fetches every event after the last one applied, until there are no more.
    fn catch_up(self) {
        // Bookkeeping only: nothing shown changes.
        if self.timeline.try_update_untracked(Timeline::begin_catch_up) != Some(true) {
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                let Some(after) = self.timeline.try_update_untracked(Timeline::catch_up_from)
                else {
                    return;
                };
                let bottom = self.near_bottom();
                match api::events_after(self.id, after).await {
                    Ok(events) => {
                        let me = self.me.get_untracked();
                        let Some(page) = self.timeline.try_maybe_update(|t| {
                            let page = t.catch_up_page(events, me.as_ref());
                            (page.followups.iter().any(Followup::is_stored), page)
                        }) else {
                            return;
                        };
                        for followup in page.followups {
                            self.run(followup);
                        }
                        if bottom {
                            self.scroll_to_bottom();
                        }
                        if !page.more {
                            break;
                        }
                    }
                    Err(failure) => {
                        self.timeline.update_untracked(Timeline::catch_up_failed);
                        if failure.status == 404 {
                            self.removed.set(true);
                        } else {
                            self.error.set(Some(failure.message));
                        }
                        break;
                    }
                }
            }
            self.mark_read();
        });
    }

    /// Tells the server the person has seen everything shown, if the tab is visible.
    fn mark_read(self) {
        #[cfg(feature = "hydrate")]
        let visible = !document().hidden();
        #[cfg(not(feature = "hydrate"))]
        let visible = false;
        let Some(Some(newest)) = self.timeline.try_update_untracked(|t| t.mark_read(visible))
        else {
            return;
        };
        let id = self.id;
        leptos::task::spawn_local(async move {
            let _ = api::mark_read(id, newest).await;
        });
    }

    /// Loads older pages until message `seq` is shown (or the chat's start),
    /// then brings it into view, marked for a moment and focused.
    async fn reach(self, seq: i64) {
        for _ in 0..PAGES_TO_REACH {
            let shown = self
                .timeline
                .with_untracked(|t| t.messages().contains_key(&seq));
            if shown || self.timeline.with_untracked(Timeline::at_start) {
                break;
            }
            self.load_older().await;
        }
        request_animation_frame(move || {
            #[cfg(feature = "hydrate")]
            if let Some(el) = document().get_element_by_id(&format!("message-{seq}")) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                el.scroll_into_view_with_scroll_into_view_options(&options);
                let _ = el.class_list().add_1("reached");
                let _ = el.set_attribute("tabindex", "-1");
                if let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) {
                    let _ = el.focus();
                }
            }
        });
    }

    /// Brings the "new messages" line to the top of the view; `false` when
    /// it is not shown (nothing unread, or not loaded yet).
    fn show_first_unread(self, focus: bool) -> bool {
        let me = self.me.get_untracked();
        let shown = self
            .timeline
            .with_untracked(|t| t.unread_loaded() && t.first_unread(me.as_ref()).is_some());
        if shown {
            request_animation_frame(move || {
                #[cfg(feature = "hydrate")]
                if let Some(el) = document().get_element_by_id("new-messages") {
                    let options = web_sys::ScrollIntoViewOptions::new();
                    options.set_block(web_sys::ScrollLogicalPosition::Start);
                    el.scroll_into_view_with_scroll_into_view_options(&options);
                    if focus
                        && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
                    {
                        let _ = el.focus();
                    }
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = focus;
            });
        }
        shown
    }

    /// Loads older pages until the first unread message of the opening is
    /// there, then brings it into view.
    async fn jump_to_first_unread(self) {
        for _ in 0..PAGES_TO_REACH {
            if self.timeline.with_untracked(Timeline::unread_loaded) {
                break;
            }
            self.load_older().await;
        }
        self.show_first_unread(true);
    }

    async fn load_older(self) {
        let Some(Some(oldest)) = self.timeline.try_maybe_update(|t| {
            let oldest = t.begin_older();
            (oldest.is_some(), oldest)
        }) else {
            return;
        };
        let before_height = self.list.get_untracked().map(|el| el.scroll_height());
        match api::history(self.id, Some(oldest)).await {
            Ok(page) => {
                self.timeline.update(|t| t.older_page(page));
                // Keep the view where it was: the new rows grow the list above it.
                request_animation_frame(move || {
                    if let (Some(el), Some(before)) = (self.list.get_untracked(), before_height) {
                        el.set_scroll_top(el.scroll_top() + el.scroll_height() - before);
                    }
                });
            }
            Err(failure) => {
                self.error.set(Some(failure.message));
                self.timeline.update(Timeline::older_failed);
            }
        }
    }

    fn send(self, pending: Pending) {
        self.timeline.update(|t| t.send(pending.clone()));
        self.scroll_to_bottom();
        leptos::task::spawn_local(self.deliver(pending));
    }

    /// Sends what waited for the connection, in the order it was written (the
    /// idempotency key makes a send that did arrive after all a no-op).
    fn send_waiting(self) {
        let waiting = self.timeline.with_untracked(Timeline::waiting);
        if waiting.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            for pending in waiting {
                self.timeline.update(|t| t.send(pending.clone()));
                self.deliver(pending).await;
            }
        });
    }

    /// The socket may still be up while a request got no answer: the waiting
    /// sends go again in a few seconds as well as at the next reconnection.
    fn retry_later(self) {
        if self.retry_scheduled.get_value() {
            return;
        }
        self.retry_scheduled.set_value(true);
        set_timeout(
            move || {
                self.retry_scheduled.set_value(false);
                if self.live.connected.get_untracked() {
                    self.send_waiting();
                }
            },
            std::time::Duration::from_millis(RETRY_WAITING_MS),
        );
    }

    async fn deliver(self, pending: Pending) {
        let request = SendMessage {
            client_id: pending.client_id.clone(),
            body: pending.body.clone(),
            reply_to: pending.reply_to,
            file: pending.file.as_ref().map(|f| f.id),
        };
        match api::send_message(self.id, &request).await {
            Ok(message) => {
                self.store(message);
                self.mark_read();
            }
            Err(failure) if failure.unreachable() => {
                self.timeline.update(|t| t.send_waiting(&pending.client_id));
                self.retry_later();
            }
            Err(failure) => self
                .timeline
                .update(|t| t.send_failed(&pending.client_id, failure.message)),
        }
    }
}

/// Puts the caret in the message box, as opening a chat should; not on a
/// phone-sized screen, where it would cover the chat with the keyboard.
fn focus_composer() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        let wide = window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w > 700.0);
        if wide
            && let Some(el) = document()
                .get_element_by_id("composer-input")
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// How long sends that got no answer wait before trying again while the
/// socket is still up.
const RETRY_WAITING_MS: u64 = 3000;

/// The most pages of history loaded to reach a message asked for.
const PAGES_TO_REACH: usize = 40;

#[component]
pub fn ChatView(
    id: i64,
    /// Open at this message (from a search result) instead of the newest.
    at: Option<i64>,
) -> impl IntoView {
    let me_resource = expect_context::<Me>();
    let Me(me_user) = me_resource;
    let me = Signal::derive(move || me_user.get().and_then(Result::ok).map(|u| u.causeway_id));
    let state = ChatState {
        id,
        me,
        detail: RwSignal::new(None),
        timeline: RwSignal::new(Timeline::new()),
        error: RwSignal::new(None),
        removed: RwSignal::new(false),
        reply_to: RwSignal::new(None),
        editing: RwSignal::new(None),
        typing: RwSignal::new(Typing::default()),
        list: NodeRef::new(),
        retry_scheduled: StoredValue::new(false),
        live: Live::get(),
    };
    provide_context(MentionNames {
        people: Signal::derive(move || {
            state.detail.with(|d| {
                d.iter()
                    .flat_map(|d| &d.members)
                    .map(|m| (m.causeway_id.clone(), m.display_name.clone()))
                    .collect()
            })
        }),
        me,
    });
    let loaded = RwSignal::new(false);
    let show_members = RwSignal::new(false);
    let members_panel = PanelState::new();
    let live = Live::get();

    // First load, in the browser: the chat, then the latest page, then anything since.
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match api::chat(id).await {
                Ok(detail) => {
                    state
                        .timeline
                        .update_untracked(|t| t.open(detail.last_seq, detail.read_seq));
                    state.detail.set(Some(detail));
                }
                Err(failure) => {
                    state.error.set(Some(failure.message));
                    loaded.set(true);
                    return;
                }
            }
            match api::history(id, None).await {
                Ok(page) => {
                    let me = state.me.get_untracked();
                    state.timeline.update(|t| {
                        t.first_page(page);
                        t.settle_unread(me.as_ref());
                    })
                }
                Err(failure) => state.error.set(Some(failure.message)),
            }
            loaded.set(true);
            match at {
                Some(seq) => state.reach(seq).await,
                None => {
                    // Open at the first unread message, else at the newest.
                    if !state.show_first_unread(false) {
                        state.scroll_to_bottom();
                    }
                    focus_composer();
                }
            }
            state.catch_up();
        })
    });

    live.on(move |push| match push {
        Push::ChatEvent { chat_id, event } if *chat_id == id => state.on_event((**event).clone()),
        Push::Read {
            chat_id,
            member,
            seq,
        } if *chat_id == id => state.detail.update(|d| {
            if let Some(d) = d {
                state::note_read(d, member, *seq);
            }
        }),
        Push::Typing { chat_id, member } if *chat_id == id => {
            state.typing.update(|t| t.started(member, now_ms()));
            // Just after the notice runs out.
            set_timeout(
                move || state.typing.update(|t| t.expire(now_ms())),
                std::time::Duration::from_millis(5100),
            );
        }
        Push::Presence { member, online } => state.detail.update(|d| {
            if let Some(d) = d {
                state::note_presence(d, member, *online);
            }
        }),
        _ => {}
    });
    // After a reconnection, fetch what the socket missed.
    Effect::new(move |previous: Option<u64>| {
        let now = live.ready.get();
        if previous.is_some_and(|p| p != now) && loaded.get_untracked() {
            state.catch_up();
            state.send_waiting();
        }
        now
    });
    // Coming back to the tab marks what is shown as read.
    let focus = window_event_listener(leptos::ev::focus, move |_| state.mark_read());
    on_cleanup(move || focus.remove());

    let may_send_files = has_right(me_resource, Right::SendFiles);
    let dragging = RwSignal::new(false);
    let upload = Uploader::new(state);

    view! {
        <section
            class="chat-view"
            class:dragging=move || dragging.get()
            aria-labelledby="chat-title"
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(false);
                if may_send_files() {
                    upload.send_dropped(&ev);
                } else {
                    state.error.set(Some("You may not send files to chats.".to_owned()));
                }
            }
        >
            <ChatHeader state show_members />
            {move || state.error.get().map(|message| view! {
                <div class="notice error compact" role="alert">
                    <span>{message}</span>
                    <button type="button" class="button subtle small" on:click=move |_| state.error.set(None)>"Dismiss"</button>
                </div>
            })}
            <Show when=move || state.removed.get()>
                <div class="notice info" role="status">"You are no longer a member of this chat."</div>
            </Show>
            <div class="chat-body">
                <div class="chat-main">
                    <Show when=move || loaded.get() fallback=|| view! { <Loading what="messages" /> }>
                        <MessageList state />
                    </Show>
                    <TypingLine state />
                    <Show when=move || !state.removed.get()>
                        <Composer state upload may_send_files />
                    </Show>
                </div>
                <Show when=move || show_members.get()>
                    {move || state.detail.get().map(|detail| view! {
                        <Fetched part=members(detail, members_panel, state, show_members) />
                    })}
                </Show>
            </div>
        </section>
    }
}

#[component]
fn ChatHeader(state: ChatState, show_members: RwSignal<bool>) -> impl IntoView {
    let subtitle = move || {
        let detail = state.detail.get()?;
        let me = state.me.get();
        Some(match detail.kind {
            ChatKind::Direct => {
                let other = detail
                    .members
                    .iter()
                    .find(|m| Some(&m.causeway_id) != me.as_ref())?;
                if other.online {
                    "Online".to_owned()
                } else {
                    "Offline".to_owned()
                }
            }
            ChatKind::Group => {
                let online = detail.members.iter().filter(|m| m.online).count();
                let count = detail.members.len();
                let plural = if count == 1 { "" } else { "s" };
                format!("{count} member{plural}, {online} online")
            }
        })
    };
    let inbox = Inbox::get();
    let running = move || inbox.call(state.id);
    let call_line = move || {
        let kind = state.detail.with(|d| d.as_ref().map(|d| d.kind))?;
        running().map(|call| super::call_line(kind, call.headcount()))
    };
    let search = RwSignal::new(false);
    let muted = move || {
        inbox.chats.with(|list| match list {
            Some(Ok(list)) => list.iter().any(|c| c.id == state.id && c.muted),
            _ => false,
        })
    };
    let mute = Action::new_local(move |muted: &bool| {
        let muted = *muted;
        async move { api::mute_chat(state.id, muted).await.map(|m| m.muted) }
    });
    Effect::new(move |_| match mute.value().get() {
        Some(Ok(muted)) => inbox.set_muted(state.id, muted),
        Some(Err(failure)) => state.error.set(Some(failure.message)),
        None => {}
    });
    let call = use_context::<super::ActiveCall>();
    let me = expect_context::<Me>();
    let may_start_conference = has_right(me, Right::CreateGroupConferences);
    let in_this_call = move || {
        call.is_some_and(|call| {
            call.0
                .with(|c| c.as_ref().is_some_and(|(id, _)| *id == state.id))
        })
    };
    // The call button: join one that runs, start one (a group's needs the
    // right; without it there is nothing to press until someone starts one).
    let call_label = move || {
        let kind = state.detail.with(|d| d.as_ref().map(|d| d.kind))?;
        if in_this_call() {
            return Some("In the call");
        }
        let running = running().is_some();
        match kind {
            ChatKind::Group if running => Some("Join the conference"),
            ChatKind::Group if may_start_conference() => Some("Start a conference"),
            ChatKind::Group => None,
            ChatKind::Direct if running => Some("Join the call"),
            ChatKind::Direct => Some("Call"),
        }
    };
    let start_call = move |_| {
        let title = state
            .detail
            .with_untracked(|d| d.as_ref().map(|d| d.title.clone()));
        if let (Some(call), Some(title)) = (call, title) {
            call.0.set(Some((state.id, title)));
        }
    };
    view! {
        <header class="chat-header">
            <a href="/" class="back-link" aria-label="Back to chats">"‹"</a>
            <div class="chat-header-text">
                <h2 id="chat-title">{move || state.detail.get().map(|d| d.title).unwrap_or_default()}</h2>
                <p class="muted chat-subtitle">
                    {subtitle}
                    {move || call_line().map(|line| view! { <span class="call-running">{line}</span> })}
                </p>
            </div>
            <div class="chat-header-actions">
                <Show when=move || !state.removed.get() && call_label().is_some()>
                    <button
                        type="button"
                        class="button small"
                        disabled=in_this_call
                        on:click=start_call
                    >
                        {call_label}
                    </button>
                </Show>
                <button
                    type="button"
                    class="button subtle small"
                    aria-pressed=move || muted().to_string()
                    title="A muted chat sends no notifications and adds nothing to the unread count, except when someone mentions you."
                    disabled=move || mute.pending().get()
                    on:click=move |_| {
                        mute.dispatch(!muted());
                    }
                >
                    "Mute"
                </button>
                <button
                    type="button"
                    class="button subtle small"
                    aria-expanded=move || search.get().to_string()
                    on:click=move |_| search.update(|s| *s = !*s)
                >
                    "Search"
                </button>
                <button
                    type="button"
                    class="button subtle small"
                    aria-expanded=move || show_members.get().to_string()
                    on:click=move |_| show_members.update(|s| *s = !*s)
                >
                    "Members"
                </button>
            </div>
        </header>
        <Show when=move || search.get()>
            <Fetched part=chat_search(state) />
        </Show>
    }
}

/// [`ChatSearch`], whose code comes when it is first opened.
#[leptos::lazy]
fn chat_search(state: ChatState) -> AnyView {
    view! { <ChatSearch state /> }.into_any()
}

#[component]
fn ChatSearch(state: ChatState) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let run = Action::new_local(move |q: &String| {
        let q = q.clone();
        async move { api::search_chat(state.id, &q).await }
    });
    view! {
        <form
            class="chat-search"
            role="search"
            on:submit=move |ev| {
                ev.prevent_default();
                let q = query.get_untracked().trim().to_owned();
                if !q.is_empty() {
                    run.dispatch(q);
                }
            }
        >
            <label for="chat-search-input" class="visually-hidden">"Search in this chat"</label>
            <input id="chat-search-input" type="search" placeholder="Search in this chat" maxlength="100" bind:value=query />
            <button type="submit" class="button small">"Find"</button>
        </form>
        {move || run.value().get().map(|result| match result {
            Ok(found) if found.is_empty() => view! { <p class="muted search-results">"Nothing found."</p> }.into_any(),
            Ok(found) => view! {
                <ul class="search-results" aria-label="Search results">
                    {found.into_iter().map(|m| {
                        let who = state.name_of(&m.sender);
                        view! {
                            <li>
                                <span class="muted">{who} " · " {short_time(m.created_at)}</span>
                                <RichText text=m.body />
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
            Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
        })}
    }
}

#[component]
fn MessageList(state: ChatState) -> impl IntoView {
    let on_scroll = move |_| {
        if state
            .list
            .get_untracked()
            .is_some_and(|el| el.scroll_top() < 80)
        {
            leptos::task::spawn_local(state.load_older());
        }
    };
    let empty = move || state.timeline.with(Timeline::is_empty);
    // More unread messages than the first page holds: a way up to the first.
    let unread_above = move || {
        let me = state.me.get();
        state
            .timeline
            .with(|t| !t.unread_loaded() && t.first_unread(me.as_ref()).is_some())
    };
    view! {
        <Show when=unread_above>
            <div class="unread-above notice info compact">
                <span>"New messages start further up."</span>
                <button type="button" class="button small" on:click=move |_| leptos::task::spawn_local(state.jump_to_first_unread())>
                    "Jump to the first unread"
                </button>
            </div>
        </Show>
        <ol class="messages" node_ref=state.list on:scroll=on_scroll aria-label="Messages" tabindex="0">
            <li class="history-edge muted" aria-hidden=move || (!state.timeline.with(Timeline::loading_older)).to_string()>
                {move || {
                    if state.timeline.with(Timeline::loading_older) {
                        "Loading earlier messages…"
                    } else if state.timeline.with(Timeline::at_start) {
                        "This is the beginning of the chat."
                    } else {
                        ""
                    }
                }}
            </li>
            <Show when=empty>
                <li class="empty">"No messages yet. Say hello!"</li>
            </Show>
            <For
                each={move || state.timeline.with(|t| t.messages().values().cloned().collect::<Vec<_>>())}
                key=|m| (m.seq, m.edited_at, m.deleted_at)
                let(message)
            >
                <MessageItem state message />
            </For>
            <For
                each=move || state.timeline.with(|t| t.pending().to_vec())
                key=|p| (p.client_id.clone(), p.failed.clone(), p.waiting)
                let(pending)
            >
                <PendingItem state pending />
            </For>
        </ol>
    }
}

#[component]
fn MessageItem(state: ChatState, message: Message) -> impl IntoView {
    let mine = state.is_mine(&message);
    let seq = message.seq;
    let sender = state.name_of(&message.sender);
    let deleted = message.deleted_at.is_some();
    let edited = message.edited_at.is_some() && !deleted;
    // A file's message may gain or lose its text too.
    let editable = mine;
    let quote = message.reply_to.map(|r| {
        let original = state
            .timeline
            .with_untracked(|t| t.messages().get(&r).cloned());
        let text = match original {
            Some(m) if m.deleted_at.is_some() => {
                format!("{}: message deleted", state.name_of(&m.sender))
            }
            Some(m) => format!(
                "{}: {}",
                state.name_of(&m.sender),
                m.body.chars().take(100).collect::<String>()
            ),
            None => "An earlier message".to_owned(),
        };
        view! { <blockquote class="reply-quote">{text}</blockquote> }
    });
    // "Read by Ann, Ben and 3 more", every name on hover.
    let readers = move || {
        if !mine {
            return None;
        }
        let detail = state.detail.get()?;
        let me = state.me.get();
        let names = state::reader_names(&detail, me.as_ref(), seq);
        Some(match (detail.kind, names.is_empty()) {
            (_, true) => ("Sent".to_owned(), String::new()),
            (ChatKind::Direct, false) => ("Read".to_owned(), String::new()),
            (ChatKind::Group, false) => (state::read_by(&names), names.join(", ")),
        })
    };
    let read_label = move || readers().map(|(label, _)| label);
    let read_names = move || readers().map(|(_, names)| names).filter(|n| !n.is_empty());
    // A date separator before the first message of a day (and before the
    // first one loaded, which moves up as older pages come), and the "new
    // messages" line before the first unread one of the opening.
    let created_at = message.created_at;
    let separators = move || {
        let (day_starts, first_unread) = state.timeline.with(|t| {
            let previous = t
                .messages()
                .range(..seq)
                .next_back()
                .map(|(_, m)| m.created_at);
            let day_starts = previous.is_none_or(|p| day_of(p) != day_of(created_at));
            let first_unread =
                t.unread_loaded() && t.first_unread(state.me.get().as_ref()) == Some(seq);
            (day_starts, first_unread)
        });
        view! {
            {day_starts.then(|| view! { <li class="day-separator"><span>{day_label(created_at)}</span></li> })}
            {first_unread.then(|| view! { <li class="new-messages" id="new-messages" tabindex="-1"><span>"New messages"</span></li> })}
        }
    };
    let my_role = move || {
        state
            .detail
            .get()
            .map(|d| d.my_role)
            .unwrap_or(ChatRole::Member)
    };
    let operator = has_right(expect_context::<Me>(), Right::Operator);
    let may_delete = move || !deleted && (mine || my_role() >= ChatRole::Admin || operator());
    let for_reply = StoredValue::new(message.clone());
    // Deleting asks first, in the message itself.
    let confirming = RwSignal::new(false);
    let delete = move || {
        confirming.set(false);
        leptos::task::spawn_local(async move {
            if let Err(failure) = api::delete_message(state.id, seq).await {
                state.error.set(Some(failure.message));
            }
        });
    };
    let file = (!deleted).then(|| message.file.clone()).flatten();
    let sender_label = if mine {
        "you".to_owned()
    } else {
        sender.clone()
    };
    let time_label = short_time(message.created_at);
    view! {
        {separators}
        <li class="message" class:mine=mine class:deleted=deleted id=format!("message-{seq}")>
            <div class="message-meta">
                <span class="message-sender">{sender}</span>
                <time class="muted">{short_time(message.created_at)}</time>
                {edited.then(|| view! { <span class="muted">"(edited)"</span> })}
            </div>
            {quote}
            {if deleted {
                view! { <p class="message-body muted">"This message was deleted."</p> }.into_any()
            } else {
                view! {
                    <div class="message-body">
                        <RichText text=message.body.clone() />
                    </div>
                }
                    .into_any()
            }}
            {file.map(|file| view! { <Attachment chat_id=state.id file /> })}
            <Show when=move || confirming.get()>
                <Confirm
                    question="Delete this message for everyone?"
                    yes="Yes, delete"
                    no="Keep it"
                    on_yes=Callback::new(move |()| delete())
                    on_no=Callback::new(move |()| confirming.set(false))
                    small=true
                />
            </Show>
            <div class="message-foot">
                <span class="message-status muted" title=read_names>{read_label}</span>
                <Show when=move || !deleted && !state.removed.get()>
                    <MessageMenu
                        label=format!("Actions for the message of {sender_label}, {time_label}")
                        editable
                        may_delete
                        reply=move || {
                            state.editing.set(None);
                            state.reply_to.set(Some(for_reply.get_value()));
                        }
                        edit=move || {
                            state.reply_to.set(None);
                            state.editing.set(Some(for_reply.get_value()));
                        }
                        delete=move || confirming.set(true)
                    />
                </Show>
            </div>
        </li>
    }
}

/// A message's actions behind one button (one tab stop per message): a menu
/// of Reply, Edit and Delete, moved through with the arrow keys; Escape closes
/// it and gives the focus back to its button.
#[component]
fn MessageMenu(
    label: String,
    editable: bool,
    may_delete: impl Fn() -> bool + Copy + Send + Sync + 'static,
    reply: impl Fn() + Copy + Send + Sync + 'static,
    edit: impl Fn() + Copy + Send + Sync + 'static,
    delete: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let trigger = NodeRef::<leptos::html::Button>::new();
    let menu = NodeRef::<leptos::html::Div>::new();
    let items = move || -> Vec<leptos::web_sys::HtmlElement> {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(menu) = menu.get_untracked() else {
                return Vec::new();
            };
            let Ok(list) = menu.query_selector_all("[role=menuitem]") else {
                return Vec::new();
            };
            (0..list.length())
                .filter_map(|i| list.item(i))
                .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
                .collect()
        }
        #[cfg(not(feature = "hydrate"))]
        Vec::new()
    };
    let close = move |refocus: bool| {
        open.set(false);
        if refocus && let Some(button) = trigger.get_untracked() {
            let _ = button.focus();
        }
    };
    let toggle = move |_| {
        let now = !open.get_untracked();
        open.set(now);
        if now {
            request_animation_frame(move || {
                if let Some(first) = items().first() {
                    let _ = first.focus();
                }
            });
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if key == "Escape" {
            ev.prevent_default();
            close(true);
            return;
        }
        if key == "Tab" {
            close(false);
            return;
        }
        let step: isize = match key.as_str() {
            "ArrowDown" => 1,
            "ArrowUp" => -1,
            _ => return,
        };
        ev.prevent_default();
        let items = items();
        if items.is_empty() {
            return;
        }
        #[cfg(feature = "hydrate")]
        let current = document()
            .active_element()
            .and_then(|active| items.iter().position(|i| **i == active));
        #[cfg(not(feature = "hydrate"))]
        let current: Option<usize> = None;
        let len = items.len() as isize;
        let next = current.map_or(0, |c| (c as isize + step).rem_euclid(len)) as usize;
        let _ = items[next].focus();
    };
    // Leaving the menu (a click elsewhere, the focus moved on) closes it.
    let on_focusout = move |ev: leptos::ev::FocusEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let inside = ev
                .related_target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                .zip(menu.get_untracked())
                .is_some_and(|(target, menu)| menu.contains(Some(&target)));
            if !inside {
                open.set(false);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let choose = move |action: &dyn Fn()| {
        close(true);
        action();
    };
    view! {
        <span class="message-actions">
            <button
                node_ref=trigger
                type="button"
                class="link-button menu-trigger"
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                aria-label=label
                title="Actions"
                on:click=toggle
            >
                "⋯"
            </button>
            <Show when=move || open.get()>
                <div class="menu" role="menu" node_ref=menu on:keydown=on_keydown on:focusout=on_focusout>
                    <button type="button" role="menuitem" tabindex="-1" on:click=move |_| choose(&reply)>
                        "Reply"
                    </button>
                    {editable.then(|| view! {
                        <button type="button" role="menuitem" tabindex="-1" on:click=move |_| choose(&edit)>
                            "Edit"
                        </button>
                    })}
                    <Show when=may_delete>
                        <button type="button" role="menuitem" tabindex="-1" class="danger" on:click=move |_| choose(&delete)>
                            "Delete"
                        </button>
                    </Show>
                </div>
            </Show>
        </span>
    }
}

#[component]
fn PendingItem(state: ChatState, pending: Pending) -> impl IntoView {
    let failed = pending.failed.clone();
    let is_failed = failed.is_some();
    let waiting = pending.waiting;
    let retry = StoredValue::new(pending.clone());
    let client_id = StoredValue::new(pending.client_id.clone());
    let discard = move || state.timeline.update(|t| t.discard(&client_id.get_value()));
    view! {
        <li class="message mine pending" class:failed=is_failed>
            <div class="message-body"><RichText text=pending.body.clone() /></div>
            {pending.file.as_ref().map(|f| view! { <p class="attachment-name"><FileIcon /> {f.name.clone()}</p> })}
            <div class="message-foot">
                {match failed {
                    None if waiting => view! {
                        <span class="message-status muted" role="status">"Waiting for the connection…"</span>
                        <span class="message-actions">
                            <button type="button" class="link-button" on:click=move |_| discard()>"Discard"</button>
                        </span>
                    }.into_any(),
                    None => view! { <span class="message-status muted" role="status">"Sending…"</span> }.into_any(),
                    Some(reason) => view! {
                        <span class="message-status error" role="alert">"Not sent: " {reason}</span>
                        <span class="message-actions">
                            <button type="button" class="link-button" on:click=move |_| state.send(retry.get_value())>
                                "Retry"
                            </button>
                            <button type="button" class="link-button" on:click=move |_| discard()>
                                "Discard"
                            </button>
                        </span>
                    }.into_any(),
                }}
            </div>
        </li>
    }
}

/// A file in a message: a preview for images (opening the full image), and a
/// download link.
#[component]
fn Attachment(chat_id: i64, file: FileInfo) -> impl IntoView {
    let may_download = has_right(expect_context::<Me>(), Right::DownloadFiles);
    let url = format!("/api/v1/chats/{chat_id}/files/{}", file.id);
    let preview = file.has_preview().then(|| format!("{url}/preview"));
    let name = file.name.clone();
    let size = human_size(file.size);
    let viewing = RwSignal::new(false);
    let opener = NodeRef::<leptos::html::Button>::new();
    let close = Callback::new(move |()| {
        viewing.set(false);
        if let Some(button) = opener.get_untracked() {
            let _ = button.focus();
        }
    });
    view! {
        <div class="attachment">
            {
                let full = StoredValue::new((url.clone(), name.clone()));
                move || {
                    match (may_download(), preview.clone()) {
                        (true, Some(src)) => view! {
                            <button type="button" class="attachment-open" node_ref=opener aria-label=format!("Open {} full size", name) on:click=move |_| viewing.set(true)>
                                <img class="attachment-preview" src=src alt=format!("Preview of {}", name) loading="lazy" />
                            </button>
                            <Show when=move || viewing.get()>
                                {move || {
                                    let (src, name) = full.get_value();
                                    view! { <Fetched part=image_viewer(src, name, close) /> }
                                }}
                            </Show>
                        }.into_any(),
                        _ => ().into_any(),
                    }
                }
            }
            <div class="attachment-line">
                <span class="attachment-name"><FileIcon /> {file.name.clone()}</span>
                <span class="muted">{size}</span>
                {
                    let url = url.clone();
                    let label = format!("Download {}", file.name);
                    move || if may_download() {
                        view! { <a class="button small" href=url.clone() download="" aria-label=label.clone()>"Download"</a> }.into_any()
                    } else {
                        view! { <span class="muted">"Downloading files is not allowed for you."</span> }.into_any()
                    }
                }
            </div>
        </div>
    }
}

/// [`ImageViewer`], whose code comes when an image is first opened.
#[leptos::lazy]
fn image_viewer(src: String, name: String, close: Callback<()>) -> AnyView {
    view! { <ImageViewer src name close /> }.into_any()
}

/// The chat's [`MembersPanel`], whose code comes when it is first opened.
#[leptos::lazy]
fn members(
    detail: ChatDetail,
    panel: PanelState,
    state: ChatState,
    show: RwSignal<bool>,
) -> AnyView {
    view! {
        <MembersPanel
            detail
            panel
            on_change=move |d| state.detail.set(Some(d))
            on_close=move || show.set(false)
        />
    }
    .into_any()
}

/// An image at full size over the page: Escape, Close or a click beside it
/// closes it; the keyboard stays in it while it is open.
#[component]
fn ImageViewer(src: String, name: String, close: Callback<()>) -> impl IntoView {
    let close_button = NodeRef::<leptos::html::Button>::new();
    let download = NodeRef::<leptos::html::A>::new();
    let on_close = RwSignal::new(true);
    Effect::new(move |_| {
        if let Some(button) = close_button.get() {
            // Its module just came: the viewer enters the page after this runs.
            later(0, move || {
                let _ = button.focus();
            });
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close.run(());
        }
        // Two controls: Tab goes from one to the other, never out.
        "Tab" => {
            ev.prevent_default();
            if on_close.get_untracked() {
                if let Some(link) = download.get_untracked() {
                    let _ = link.focus();
                }
            } else if let Some(button) = close_button.get_untracked() {
                let _ = button.focus();
            }
        }
        _ => {}
    };
    let label = name.clone();
    view! {
        <div class="viewer" role="dialog" aria-modal="true" aria-label=label on:keydown=on_keydown on:click=move |_| close.run(())>
            <div class="viewer-bar" on:click=|ev| ev.stop_propagation()>
                <span class="viewer-name">{name.clone()}</span>
                <a class="button small" href=src.clone() download="" node_ref=download on:focus=move |_| on_close.set(false)>"Download"</a>
                <button type="button" class="button small" node_ref=close_button on:focus=move |_| on_close.set(true) on:click=move |_| close.run(())>"Close"</button>
            </div>
            <img class="viewer-image" src=src alt=name on:click=|ev| ev.stop_propagation() />
        </div>
    }
}

#[component]
fn TypingLine(state: ChatState) -> impl IntoView {
    let text = move || {
        let now = now_ms();
        let names: Vec<String> = state
            .typing
            .with(|t| t.active(now).map(|who| state.name_of(who)).collect());
        match names.as_slice() {
            [] => String::new(),
            [one] => format!("{one} is typing…"),
            [a, b] => format!("{a} and {b} are typing…"),
            _ => "Several people are typing…".to_owned(),
        }
    };
    view! { <p class="typing muted" aria-live="polite">{text}</p> }
}

#[component]
fn Composer(
    state: ChatState,
    upload: Uploader,
    may_send_files: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let live = Live::get();
    // Text typed while the page was still the server's HTML stays.
    let text = RwSignal::new(typed_before_hydration("composer-input"));
    let last_typing = StoredValue::new(0.0f64);
    let input = NodeRef::<leptos::html::Textarea>::new();

    // Editing puts the message's text in the box.
    Effect::new(move |_| {
        if let Some(message) = state.editing.get() {
            text.set(message.body);
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
            }
        }
    });
    Effect::new(move |_| {
        if state.reply_to.get().is_some()
            && let Some(el) = input.get_untracked()
        {
            let _ = el.focus();
        }
    });

    // A file's message may lose its text: the file stays.
    let may_be_empty = move || {
        state
            .editing
            .read()
            .as_ref()
            .is_some_and(|m| m.file.is_some())
    };
    let submit = move || {
        let body = text.get_untracked();
        let with_file = state
            .editing
            .with_untracked(|m| m.as_ref().is_some_and(|m| m.file.is_some()));
        if body.trim().is_empty() && !with_file && !upload.holds_file() {
            return;
        }
        if let Some(message) = state.editing.get_untracked() {
            state.editing.set(None);
            text.set(String::new());
            leptos::task::spawn_local(async move {
                match api::edit_message(state.id, message.seq, body).await {
                    Ok(updated) => state.store(updated),
                    Err(failure) => state.error.set(Some(failure.message)),
                }
            });
            return;
        }
        let reply_to = state.reply_to.get_untracked().map(|m| m.seq);
        state.reply_to.set(None);
        text.set(String::new());
        // The others' pages stop showing "typing" when the message arrives: the
        // next keystroke says so again, as soon as the server lets it through.
        last_typing.update_value(|at| *at -= TYPING_EVERY_MS - TYPING_AFTER_SEND_MS);
        // A file in the composer goes with the text as its caption.
        if upload.send_with(body.clone(), reply_to) {
            return;
        }
        state.send(Pending {
            client_id: new_client_id(),
            body,
            reply_to,
            file: None,
            failed: None,
            waiting: false,
        });
    };
    // @mentions: typing "@" and part of a name offers the chat's members.
    let mention = RwSignal::new(None::<Typed>);
    let mention_active = RwSignal::new(0_usize);
    let candidates = Memo::new(move |_| {
        let Some(typed) = mention.get() else {
            return Vec::new();
        };
        let me = state.me.get();
        state.detail.with(|d| {
            d.iter()
                .flat_map(|d| &d.members)
                .filter(|m| Some(&m.causeway_id) != me.as_ref())
                .filter(|m| typed.matches(&m.causeway_id, &m.display_name))
                .take(6)
                .map(|m| (m.causeway_id.clone(), m.display_name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let look_for_mention = move || {
        let Some(el) = input.get_untracked() else {
            return;
        };
        let value = el.value();
        let caret = el.selection_start().ok().flatten().unwrap_or(0) as usize;
        mention.set(Typed::before(&value, caret));
        mention_active.set(0);
    };
    let insert_mention = move |who: CausewayId| {
        let (Some(el), Some(typed)) = (input.get_untracked(), mention.get_untracked()) else {
            return;
        };
        let value = el.value();
        let inserted = format!("@{who} ");
        let new_value = format!("{}{inserted}{}", &value[..typed.at], &value[typed.end..]);
        let caret =
            (value[..typed.at].encode_utf16().count() + inserted.encode_utf16().count()) as u32;
        el.set_value(&new_value);
        text.set(new_value);
        let _ = el.set_selection_range(caret, caret);
        mention.set(None);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let offered = candidates.with_untracked(Vec::len);
        if offered > 0 {
            match ev.key().as_str() {
                "ArrowDown" => {
                    ev.prevent_default();
                    mention_active.update(|a| *a = (*a + 1).min(offered - 1));
                    return;
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    mention_active.update(|a| *a = a.saturating_sub(1));
                    return;
                }
                "Enter" | "Tab" if !ev.is_composing() => {
                    ev.prevent_default();
                    let chosen = candidates
                        .with_untracked(|c| c.get(mention_active.get_untracked()).cloned());
                    if let Some((who, _)) = chosen {
                        insert_mention(who);
                    }
                    return;
                }
                "Escape" => {
                    ev.prevent_default();
                    mention.set(None);
                    return;
                }
                _ => {}
            }
        }
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        } else if ev.key() == "Escape" {
            state.reply_to.set(None);
            if state.editing.get_untracked().is_some() {
                state.editing.set(None);
                text.set(String::new());
            }
        }
    };
    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        look_for_mention();
        let now = now_ms();
        if now - last_typing.get_value() > TYPING_EVERY_MS {
            last_typing.set_value(now);
            live.send(&ClientFrame::Typing { chat_id: state.id });
        }
    };
    let attach_title = move || {
        if may_send_files() {
            "Attach a file (or drop it on the chat)"
        } else {
            "You may not send files to chats"
        }
    };
    view! {
        {move || state.reply_to.get().map(|m| {
            let who = state.name_of(&m.sender);
            let excerpt: String = m.body.chars().take(100).collect();
            view! {
                <div class="composer-context">
                    <span>"Replying to " <strong>{who}</strong> ": " {excerpt}</span>
                    <button type="button" class="button subtle small" on:click=move |_| state.reply_to.set(None)>"Cancel reply"</button>
                </div>
            }
        })}
        {move || state.editing.get().map(|_| view! {
            <div class="composer-context">
                <span>"Editing your message"</span>
                <button
                    type="button"
                    class="button subtle small"
                    on:click=move |_| {
                        state.editing.set(None);
                        text.set(String::new());
                    }
                >
                    "Cancel edit"
                </button>
            </div>
        })}
        <Staged upload />
        <form
            class="composer"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            <label
                class="button subtle attach"
                class:disabled=move || !may_send_files()
                title=attach_title
            >
                <FileIcon />
                <span class="visually-hidden">"Attach a file"</span>
                <input
                    type="file"
                    class="visually-hidden"
                    disabled=move || !may_send_files() || upload.holds_file()
                    on:change=move |ev| upload.send_chosen(&ev)
                />
            </label>
            <label for="composer-input" class="visually-hidden">"Message"</label>
            <ul
                class="mention-list"
                id="mention-list"
                role="listbox"
                aria-label="People to mention"
                hidden=move || candidates.with(Vec::is_empty)
            >
                {move || {
                    candidates
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, (who, name))| {
                            let label = format!("{name} — {who}");
                            view! {
                                <li
                                    role="option"
                                    id=format!("mention-{i}")
                                    class:active=move || mention_active.get() == i
                                    aria-selected=move || (mention_active.get() == i).to_string()
                                    on:mousedown=move |ev| {
                                        ev.prevent_default();
                                        insert_mention(who.clone());
                                    }
                                >
                                    {label}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <textarea
                id="composer-input"
                node_ref=input
                rows="1"
                placeholder="Write a message… (@ mentions someone)"
                title="Enter sends; Shift+Enter starts a new line; @ mentions someone"
                aria-autocomplete="list"
                aria-controls="mention-list"
                aria-activedescendant=move || {
                    (!candidates.with(Vec::is_empty)).then(|| format!("mention-{}", mention_active.get()))
                }
                prop:value=move || text.get()
                on:input=on_input
                on:keydown=on_keydown
                on:paste=move |ev| {
                    if upload.take_pasted(&ev) {
                        ev.prevent_default();
                    }
                }
                on:blur=move |_| mention.set(None)
            ></textarea>
            <button type="submit" class="button primary" disabled=move || text.read().trim().is_empty() && !may_be_empty() && !upload.holds_file()>
                {move || if state.editing.get().is_some() { "Save" } else { "Send" }}
            </button>
        </form>
    }
}

/// How often the composer tells the others that the person is typing.
const TYPING_EVERY_MS: f64 = 3000.0;
/// The soonest after its last notice the composer sends the next one once a
/// message went out (the server relays one a second per chat at most).
const TYPING_AFTER_SEND_MS: f64 = 1100.0;

/// A mention being typed: `@` at byte `at`, the text after it up to the
/// caret at byte `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Typed {
    at: usize,
    end: usize,
    query: String,
}

impl Typed {
    /// The mention being typed before the caret (`caret` in UTF-16 units, as
    /// the browser counts): an `@` at the start or after a space, followed by
    /// up to 40 characters without a space.
    fn before(text: &str, caret: usize) -> Option<Typed> {
        let mut units = 0;
        let end = text
            .char_indices()
            .find(|(_, c)| {
                units += c.len_utf16();
                units > caret
            })
            .map_or(text.len(), |(i, _)| i);
        let head = &text[..end];
        // The word the caret is in must start with the `@`.
        let at = head
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        let query = head[at..].strip_prefix('@')?;
        (query.chars().count() <= 40).then(|| Typed {
            at,
            end,
            query: lower(query),
        })
    }

    /// Does the person fit what was typed (a login, or the start of a word of
    /// their name)?
    fn matches(&self, id: &CausewayId, name: &str) -> bool {
        let q = self.query.as_str();
        let name = lower(name);
        id.to_string().starts_with(q)
            || name.split_whitespace().any(|word| word.starts_with(q))
            || name.starts_with(q)
    }
}

/// A paper clip, drawn inline (no icon font or emoji font needed).
#[component]
fn FileIcon() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
            <path
                d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9"
                fill="none"
                stroke="currentColor"
                stroke-width="2"
                stroke-linecap="round"
                stroke-linejoin="round"
            />
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::Typed;
    use crate::types::CausewayId;

    #[test]
    fn a_mention_is_being_typed_after_an_at_sign() {
        let typed = Typed::before("hi @Mo", 6).unwrap();
        assert_eq!((typed.at, typed.end, typed.query.as_str()), (3, 6, "mo"));
        assert_eq!(Typed::before("@", 1).unwrap().query, "");
        // The caret counts UTF-16 units, as the browser does.
        let text = "😀 @al";
        let caret = text.encode_utf16().count();
        assert_eq!(Typed::before(text, caret).unwrap().query, "al");
        // Only up to the caret.
        assert_eq!(Typed::before("@al and more", 3).unwrap().query, "al");
    }

    #[test]
    fn no_mention_is_being_typed() {
        assert_eq!(Typed::before("mail bob@corp", 13), None, "an address");
        assert_eq!(Typed::before("@al done", 8), None, "a space since");
        assert_eq!(Typed::before("plain", 5), None);
    }

    #[test]
    fn people_match_by_login_or_the_start_of_a_name() {
        let moore = CausewayId::parse("moore@guest").unwrap();
        let fits = |q: &str| {
            Typed::before(&format!("@{q}"), q.len() + 1)
                .unwrap()
                .matches(&moore, "Albert Moore")
        };
        assert!(fits("moo"));
        assert!(fits("alb"));
        assert!(fits("Mo"));
        assert!(fits("moore@g"));
        assert!(!fits("bert"));
        assert!(!fits("guest"));
    }
}
