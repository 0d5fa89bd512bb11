//! `/` and `/chats/:id`: the chat list beside the open chat. At phone width one
//! of the two shows at a time.

mod call;
mod members;
mod setup;
mod state;
mod view;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::{self, ApiFailure};
use crate::components::{
    ErrorNotice, Fetched, Frame, Loading, Me, PickPeople, Section, later, short_time,
};
use crate::inbox::Inbox;
use crate::types::{ChatKind, ChatSummary, CreateGroupChat, Message, Person, Right};

use setup::SetupChecklist;
pub use view::ChatView;

#[component]
pub fn ChatsPage() -> impl IntoView {
    let params = use_params_map();
    let selected = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    });
    let chats = Inbox::get().chats;
    // `?at=12`: open the chat at message 12 (a search result).
    let query = use_query_map();
    let at = Memo::new(move |_| query.read().get("at").and_then(|at| at.parse::<i64>().ok()));
    // "New group chat" opens its dialog in the main pane; opening a chat closes it.
    let creating = RwSignal::new(false);
    // (Set only when open: setting it redraws the main pane, which during
    // hydration would drop what was typed in the composer.)
    Effect::new(move |_| {
        selected.track();
        if creating.get_untracked() {
            creating.set(false);
        }
    });
    view! {
        <Title text="Chats" />
        <Frame section=Section::Chats>
            <div class="chats-layout" class:chat-open=move || selected.get().is_some() || creating.get()>
                <aside class="chat-list-pane" aria-labelledby="chats-heading">
                    <ChatList selected chats creating />
                </aside>
                <main id="main" tabindex="-1" class="chat-pane">
                    {move || match (creating.get(), selected.get()) {
                        (true, _) => {
                            let done = Callback::new(move |()| creating.set(false));
                            view! { <Fetched part=new_group_chat(done) /> }.into_any()
                        }
                        (false, Some(id)) => view! { <ChatView id at=at.get_untracked() /> }.into_any(),
                        (false, None) => view! { <NoChatOpen chats /> }.into_any(),
                    }}
                </main>
            </div>
        </Frame>
    }
}

/// The main pane when no chat is open. An administrator with no chat yet (a
/// new server) sees the set-up checklist there.
#[component]
fn NoChatOpen(chats: RwSignal<Option<Result<Vec<ChatSummary>, ApiFailure>>>) -> impl IntoView {
    let Me(me) = expect_context::<Me>();
    let first_visit = move || {
        let no_chats = matches!(chats.get(), Some(Ok(list)) if list.is_empty());
        no_chats && me.get().and_then(Result::ok).is_some_and(|u| u.is_admin)
    };
    move || {
        if first_visit() {
            view! { <Fetched part=setup_checklist() /> }.into_any()
        } else {
            placeholder()
        }
    }
}

/// The call this tab is in, if any: its chat and the chat's title. Set by a
/// chat's Call button (or Answer), cleared when the person leaves. Provided
/// for the whole app: a call goes on while the person moves between pages.
#[derive(Clone, Copy)]
pub struct ActiveCall(pub RwSignal<Option<(i64, String)>>);

impl ActiveCall {
    pub fn provide() -> Self {
        let call = ActiveCall(RwSignal::new(None));
        provide_context(call);
        call
    }
}

/// Above every page: the call this tab is in, or a direct call ringing for
/// the person (with Answer and Decline). Outside the routes, so that moving
/// between pages does not end a call.
#[component]
pub fn CallDock() -> impl IntoView {
    let call = expect_context::<ActiveCall>();
    let inbox = Inbox::get();
    rejoin_after_reload(inbox, call);
    let navigate = use_navigate();
    // A direct call that rings for the person, unless they declined it or
    // are in a call already.
    let declined = RwSignal::new(Vec::<(i64, i64)>::new());
    let ringing = Memo::new(move |_| {
        if call.0.with(Option::is_some) {
            return None;
        }
        let me = inbox.me()?;
        inbox.chats.with(|list| {
            let Some(Ok(list)) = list else {
                return None;
            };
            list.iter().find_map(|chat| {
                let running = chat.call.as_ref()?;
                let rings = chat.kind == ChatKind::Direct
                    && !running.has(&me)
                    && !declined.with(|d| d.contains(&(chat.id, running.since)));
                rings.then(|| (chat.id, running.since, chat.title.clone()))
            })
        })
    });
    let ring = move || {
        ringing.get().map(|(chat_id, since, caller)| {
            let navigate = navigate.clone();
            let title = caller.clone();
            let answer = Callback::new(move |()| {
                navigate(&format!("/chats/{chat_id}"), Default::default());
                call.0.set(Some((chat_id, title.clone())));
            });
            // Declining (the bar tells the server) stops the ringing here at once.
            let stop = Callback::new(move |()| declined.update(|d| d.push((chat_id, since))));
            view! { <Fetched part=ringing_bar(chat_id, caller, answer, stop) /> }
        })
    };
    let panel = move || {
        call.0.get().map(|(chat_id, title)| {
            let end = Callback::new(move |()| call.0.set(None));
            view! { <Fetched part=call_panel(chat_id, title, end) /> }
        })
    };
    // (A memo: going from ringing to the call keeps the dock, and the call.)
    let shown = Memo::new(move |_| ringing.with(Option::is_some) || call.0.with(Option::is_some));
    move || {
        shown
            .get()
            .then(|| view! { <div class="call-dock">{ring.clone()}{panel}</div> })
    }
}

/// Where a tab keeps the call it is in (sessionStorage, so the tab's own):
/// after a reload it joins that call again if it still runs.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(crate) const REJOIN_KEY: &str = "causeway-call";

/// Joins the call the tab was in before it was reloaded, once the chat list
/// shows it still running; forgets it otherwise.
fn rejoin_after_reload(inbox: Inbox, call: ActiveCall) {
    #[cfg(feature = "hydrate")]
    {
        let storage = window().session_storage().ok().flatten();
        let Some(chat_id) = storage
            .as_ref()
            .and_then(|s| s.get_item(REJOIN_KEY).ok().flatten())
            .and_then(|id| id.parse::<i64>().ok())
        else {
            return;
        };
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) || !inbox.chats.with(|l| matches!(l, Some(Ok(_)))) {
                return done.unwrap_or(false);
            }
            match inbox.chat(chat_id) {
                Some(chat) if chat.call.is_some() => call.0.set(Some((chat_id, chat.title))),
                _ => {
                    if let Some(storage) = &storage {
                        let _ = storage.remove_item(REJOIN_KEY);
                    }
                }
            }
            true
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (inbox, call);
}

/// [`call::Ringing`]; its code is the call's, which answering then needs.
#[leptos::lazy]
fn ringing_bar(
    chat_id: i64,
    caller: String,
    on_answer: Callback<()>,
    on_decline: Callback<()>,
) -> AnyView {
    view! { <call::Ringing chat_id caller on_answer on_decline /> }.into_any()
}

/// [`call::CallPanel`], whose code comes when the first call starts.
#[leptos::lazy]
fn call_panel(chat_id: i64, title: String, on_end: Callback<()>) -> AnyView {
    view! { <call::CallPanel chat_id title on_end /> }.into_any()
}

/// [`SetupChecklist`], whose code only a new server's administrator fetches.
#[leptos::lazy]
fn setup_checklist() -> AnyView {
    view! { <SetupChecklist done=placeholder /> }.into_any()
}

fn placeholder() -> AnyView {
    view! {
        <div class="chat-placeholder">
            <p class="muted">"Choose a chat, or start one from Contacts."</p>
        </div>
    }
    .into_any()
}

/// The person's chats, newest first, with unread counts; refreshed by pushes.
#[component]
fn ChatList(
    selected: Memo<Option<i64>>,
    chats: RwSignal<Option<Result<Vec<ChatSummary>, ApiFailure>>>,
    creating: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <div class="chat-list-head">
            <h1 id="chats-heading">"Chats"</h1>
            <button
                type="button"
                class="button small"
                aria-haspopup="dialog"
                aria-expanded=move || creating.get().to_string()
                on:click=move |_| creating.update(|c| *c = !*c)
            >
                "New group chat"
            </button>
        </div>
        <NotificationPrompt />
        {move || {
                match chats.get() {
                        None => view! { <Loading what="chats" /> }.into_any(),
                        Some(result) => match result {
                        Ok(list) if list.is_empty() => {
                            view! {
                                <p class="empty">
                                    "No chats yet. Open " <a href="/contacts">"Contacts"</a>
                                    " and choose Message to start one, or create a group chat."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) => {
                            view! {
                                <ul class="chat-list" aria-label="Your chats">
                                    {list
                                        .into_iter()
                                        .map(|chat| view! { <ChatItem chat selected /> })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                    },
                }
            }}
    }
}

/// What the list shows of a message.
fn preview(message: &Message) -> String {
    if message.deleted_at.is_some() {
        return "Message deleted".to_owned();
    }
    let text: String = message.body.chars().take(80).collect();
    match (&message.file, text.trim().is_empty()) {
        (Some(file), true) => format!("File: {}", file.name),
        _ => text,
    }
}

#[component]
fn ChatItem(chat: ChatSummary, selected: Memo<Option<i64>>) -> impl IntoView {
    let id = chat.id;
    let unread = chat.unread;
    let mentions = chat.mentions;
    let muted = chat.muted;
    let label = match (unread, mentions) {
        (0, _) => String::new(),
        (n, 0) => format!("{n} unread"),
        (n, m) => format!("{n} unread, {m} mentioning you"),
    };
    let last = chat
        .last_message
        .as_ref()
        .map(preview)
        .unwrap_or_else(|| match chat.kind {
            ChatKind::Group => "Group created".to_owned(),
            ChatKind::Direct => "No messages yet".to_owned(),
        });
    // A running call shows in place of the last message.
    let (last, in_call) = match &chat.call {
        Some(call) => (call_line(chat.kind, call.headcount()), true),
        None => (last, false),
    };
    view! {
        <li>
            <a
                href=format!("/chats/{id}")
                class="chat-item"
                class:unread={unread > 0}
                aria-current=move || (selected.get() == Some(id)).then_some("page")
            >
                <span class="chat-item-top">
                    <span class="chat-item-title">
                        {chat.title.clone()}
                        {muted.then(|| view! { <span class="muted-mark" title="Muted">" (muted)"</span> })}
                    </span>
                    <time class="chat-item-time muted">{short_time(chat.last_at)}</time>
                </span>
                <span class="chat-item-bottom">
                    <span class="chat-item-last muted" class:in-call=in_call>{last}</span>
                    {(unread > 0)
                        .then(|| {
                            view! {
                                <span
                                    class="unread-badge"
                                    class:quiet=muted
                                    class:mention={mentions > 0}
                                    aria-label=label.clone()
                                    title=label
                                >
                                    {if mentions > 0 { "@ " } else { "" }}
                                    {if unread > 99 { "99+".to_owned() } else { unread.to_string() }}
                                </span>
                            }
                        })}
                </span>
            </a>
        </li>
    }
}

/// How a running call reads in the chat list and the chat's header.
pub(crate) fn call_line(kind: ChatKind, people: usize) -> String {
    match (kind, people) {
        (ChatKind::Direct, _) => "Call in progress".to_owned(),
        (ChatKind::Group, 1) => "Conference — 1 person".to_owned(),
        (ChatKind::Group, n) => format!("Conference — {n} people"),
    }
}

/// [`NewGroupChat`], whose code comes when it is first opened.
#[leptos::lazy]
fn new_group_chat(on_done: Callback<()>) -> AnyView {
    view! { <NewGroupChat on_done=move || on_done.run(()) /> }.into_any()
}

/// The dialog, in the main pane, that creates a group chat with people from
/// one's contacts. Escape or Cancel closes it.
#[component]
fn NewGroupChat(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let navigate = use_navigate();
    let title = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<Person>::new());
    let create = Action::new_local(|request: &CreateGroupChat| {
        let request = request.clone();
        async move { api::create_group_chat(&request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(chat)) = create.value().get() {
            on_done();
            navigate(&format!("/chats/{}", chat.id), Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateGroupChat {
            title: title.get_untracked().trim().to_owned(),
            members: chosen.with_untracked(|c| c.iter().map(|p| p.causeway_id.clone()).collect()),
        });
    };
    let title_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = title_input.get() {
            // Its module just came: the dialog enters the page after this runs.
            later(0, move || {
                let _ = input.focus();
            });
        }
    });
    view! {
        <div class="dialog-pane">
            <form
                class="card new-chat"
                role="dialog"
                aria-labelledby="new-chat-heading"
                on:submit=submit
                on:keydown=move |ev| {
                    // An open list of names closes first (the picker handles that Escape).
                    if ev.key() == "Escape" && !ev.default_prevented() {
                        ev.prevent_default();
                        on_done();
                    }
                }
            >
                <h2 id="new-chat-heading">"New group chat"</h2>
                <div class="field">
                    <label for="new-chat-title">"Title"</label>
                    <input id="new-chat-title" type="text" required maxlength="100" bind:value=title node_ref=title_input />
                </div>
                <PickPeople id="new-chat-people" label="People" chosen />
                <div class="form-actions">
                    <button class="button primary" type="submit" disabled=move || create.pending().get()>
                        "Create"
                    </button>
                    <button class="button subtle" type="button" on:click=move |_| on_done()>
                        "Cancel"
                    </button>
                </div>
                {move || {
                    create
                        .value()
                        .get()
                        .and_then(Result::err)
                        .map(|failure: ApiFailure| view! { <ErrorNotice failure /> })
                }}
            </form>
        </div>
    }
}

/// Offers browser notifications until the person answers the browser's question.
#[component]
fn NotificationPrompt() -> impl IntoView {
    let ask = RwSignal::new(false);
    Effect::new(move |_| ask.set(crate::notify::can_ask()));
    view! {
        <Show when=move || ask.get()>
            <div class="notice info compact">
                <span>"Get a notification when a message arrives while Causeway is in the background."</span>
                <button
                    type="button"
                    class="button small"
                    on:click=move |_| {
                        crate::notify::ask();
                        ask.set(false);
                    }
                >
                    "Turn on notifications"
                </button>
                <button
                    type="button"
                    class="button subtle small"
                    on:click=move |_| {
                        crate::notify::decline();
                        ask.set(false);
                    }
                >
                    "Not now"
                </button>
            </div>
        </Show>
    }
}

/// Does the signed-in person hold `right`? `false` until their account has loaded.
pub(crate) fn has_right(me: Me, right: Right) -> impl Fn() -> bool + Copy {
    let Me(me) = me;
    move || {
        me.get()
            .and_then(Result::ok)
            .is_some_and(|u| u.rights.contains(&right))
    }
}
