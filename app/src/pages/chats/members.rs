//! The member panel of a chat: who is in it, their roles and presence; for a
//! group's owner and admins, adding and removing people and changing roles; for
//! everyone in a group, leaving it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::{self, ApiFailure};
use crate::components::{Confirm, ErrorNotice, Me, PickPeople};
use crate::types::{CausewayId, ChatDetail, ChatKind, ChatMember, ChatRole, Person};

/// What the person is doing in the panel, kept by the chat view: the panel is
/// drawn anew whenever the chat's detail changes (someone comes online, a
/// member is added), and an open "Add people" with the people chosen must
/// survive that.
#[derive(Clone, Copy)]
pub struct PanelState {
    adding: RwSignal<bool>,
    chosen: RwSignal<Vec<Person>>,
    leaving: RwSignal<bool>,
}

impl PanelState {
    pub fn new() -> Self {
        Self {
            adding: RwSignal::new(false),
            chosen: RwSignal::new(Vec::new()),
            leaving: RwSignal::new(false),
        }
    }
}

#[component]
pub fn MembersPanel(
    detail: ChatDetail,
    panel: PanelState,
    on_change: impl Fn(ChatDetail) + Copy + Send + Sync + 'static,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let Me(me) = expect_context::<Me>();
    let me = move || me.get().and_then(Result::ok).map(|u| u.causeway_id);
    let chat_id = detail.id;
    let my_role = detail.my_role;
    let is_group = detail.kind == ChatKind::Group;
    let error = RwSignal::new(None::<ApiFailure>);
    let PanelState {
        adding,
        chosen,
        leaving,
    } = panel;
    let navigate = use_navigate();

    let refresh = move || {
        leptos::task::spawn_local(async move {
            match api::chat(chat_id).await {
                Ok(d) => on_change(d),
                Err(f) => error.set(Some(f)),
            }
        })
    };
    let remove = move |member: CausewayId| {
        leptos::task::spawn_local(async move {
            match api::remove_chat_member(chat_id, &member).await {
                Ok(()) => refresh(),
                Err(f) => error.set(Some(f)),
            }
        })
    };
    let set_role = move |member: CausewayId, role: ChatRole| {
        leptos::task::spawn_local(async move {
            match api::set_chat_role(chat_id, &member, role).await {
                Ok(d) => on_change(d),
                Err(f) => error.set(Some(f)),
            }
        })
    };
    let leave = move || {
        leaving.set(false);
        let Some(mine) = me() else { return };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::remove_chat_member(chat_id, &mine).await {
                Ok(()) => navigate("/", Default::default()),
                Err(f) => error.set(Some(f)),
            }
        })
    };

    let members = detail.members.clone();
    let count = members.len();
    view! {
        <aside class="members-panel" aria-labelledby="members-heading">
            <div class="members-head">
                <h3 id="members-heading">{format!("Members ({count})")}</h3>
                <button type="button" class="button subtle small" aria-label="Close members" on:click=move |_| on_close()>
                    "Close"
                </button>
            </div>
            <ul class="member-list" aria-label="Members">
                {members
                    .into_iter()
                    .map(|member| view! { <MemberRow member my_role is_group me=Signal::derive(me) remove set_role /> })
                    .collect_view()}
            </ul>
            {(is_group && my_role >= ChatRole::Admin).then(|| view! {
                <button
                    type="button"
                    class="button small"
                    aria-expanded=move || adding.get().to_string()
                    on:click=move |_| adding.update(|a| *a = !*a)
                >
                    "Add people"
                </button>
                <Show when=move || adding.get()>
                    <AddPeople chat_id existing=detail.members.iter().map(|m| m.causeway_id.clone()).collect() chosen on_change error />
                </Show>
            })}
            {is_group.then(|| view! {
                <Show
                    when=move || leaving.get()
                    fallback=move || view! {
                        <button type="button" class="button danger small leave" on:click=move |_| leaving.set(true)>"Leave chat"</button>
                    }
                >
                    <Confirm
                        question="Leave this chat? You will no longer see its messages, and someone in it must add you again."
                        yes="Yes, leave"
                        no="Stay"
                        on_yes=Callback::new({
                            let leave = leave.clone();
                            move |()| leave()
                        })
                        on_no=Callback::new(move |()| leaving.set(false))
                        small=true
                    />
                </Show>
            })}
            {move || error.get().map(|failure| view! { <ErrorNotice failure /> })}
        </aside>
    }
}

#[component]
fn MemberRow(
    member: ChatMember,
    my_role: ChatRole,
    is_group: bool,
    me: Signal<Option<CausewayId>>,
    remove: impl Fn(CausewayId) + Copy + Send + Sync + 'static,
    set_role: impl Fn(CausewayId, ChatRole) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = StoredValue::new(member.causeway_id.clone());
    let is_me = move || me.get().as_ref() == Some(&id.get_value());
    let role_name = match member.role {
        ChatRole::Owner => "Owner",
        ChatRole::Admin => "Admin",
        ChatRole::Member => "Member",
    };
    // An admin may remove members; the owner anyone but themself.
    let may_remove = is_group && my_role > member.role;
    let may_promote = is_group && my_role == ChatRole::Owner && member.role != ChatRole::Owner;
    let name = member.display_name.clone();
    view! {
        <li class="member">
            <span class="presence" class:online=member.online title=if member.online { "Online" } else { "Offline" }>
                <span class="visually-hidden">{if member.online { "Online" } else { "Offline" }}</span>
            </span>
            <span class="member-name">
                {member.display_name.clone()}
                {move || is_me().then_some(" (you)")}
                <span class="muted member-id">{member.causeway_id.to_string()}</span>
            </span>
            <span class="badge">{role_name}</span>
            <span class="member-actions">
            {(may_promote).then(|| {
                let next = if member.role == ChatRole::Admin { ChatRole::Member } else { ChatRole::Admin };
                let label = if next == ChatRole::Admin { "Make admin" } else { "Make member" };
                view! {
                    <button
                        type="button"
                        class="link-button"
                        aria-label=format!("{label}: {name}")
                        on:click=move |_| set_role(id.get_value(), next)
                    >
                        {label}
                    </button>
                }
            })}
            {may_remove.then(|| view! {
                <button
                    type="button"
                    class="link-button danger"
                    aria-label=format!("Remove {}", member.display_name)
                    on:click=move |_| remove(id.get_value())
                >
                    "Remove"
                </button>
            })}
            </span>
        </li>
    }
}

#[component]
fn AddPeople(
    chat_id: i64,
    existing: Vec<CausewayId>,
    chosen: RwSignal<Vec<Person>>,
    on_change: impl Fn(ChatDetail) + Copy + Send + Sync + 'static,
    error: RwSignal<Option<ApiFailure>>,
) -> impl IntoView {
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let members: Vec<CausewayId> =
            chosen.with_untracked(|c| c.iter().map(|p| p.causeway_id.clone()).collect());
        if members.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::add_chat_members(chat_id, members).await {
                Ok(d) => {
                    chosen.set(Vec::new());
                    error.set(None);
                    on_change(d);
                }
                Err(f) => error.set(Some(f)),
            }
        });
    };
    let exclude = Signal::stored(existing);
    view! {
        <form class="add-people" on:submit=add>
            <PickPeople id="add-people" label="People to add" chosen exclude />
            <button type="submit" class="button primary small" disabled=move || chosen.read().is_empty()>"Add"</button>
        </form>
    }
}
