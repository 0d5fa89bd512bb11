//! `/admin/groups/:id`: one group — name, rights, members, address book (Customize).

use leptos::prelude::*;
use leptos_meta::Title;

use super::route_id;
use crate::api::{self, ApiFailure};
use crate::components::{
    AdminLayout, DeleteCard, ErrorNotice, Find, Frame, Loading, Me, PeoplePicker, Picked, Saved,
    Section, lower, outcome,
};
use crate::types::{
    AddressBook, AddressBookEntry, BuiltinGroup, CausewayId, ErrorCode, GroupDetail, IdList, Right,
    UpdateGroup,
};

#[component]
pub fn GroupPage() -> impl IntoView {
    let id = route_id();
    let data = LocalResource::new(move || {
        let id = id.get();
        async move {
            let id = id.ok_or_else(|| ApiFailure {
                status: 404,
                code: ErrorCode::NotFound,
                message: "No such group.".to_owned(),
            })?;
            api::admin::group(id).await
        }
    });
    view! {
        <Title text="Group" />
        <Frame section=Section::Admin>
            <AdminLayout>
                <p class="crumbs"><a href="/admin/groups">"Groups"</a></p>
                <Transition fallback=|| view! { <Loading what="the group" /> }>
                    {move || {
                        data.get()
                            .map(|result: Result<GroupDetail, ApiFailure>| match result {
                                Ok(group) => {
                                    view! { <GroupBody group reload=move || data.refetch() /> }.into_any()
                                }
                                Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                            })
                    }}
                </Transition>
            </AdminLayout>
        </Frame>
    }
}

#[component]
fn GroupBody(
    group: GroupDetail,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let id = group.id;
    let builtin = group.builtin;
    let intro = match builtin {
        Some(BuiltinGroup::NoGroup) => {
            "Built-in: every user of this server who is in no other group. Its rights and address book apply to them."
        }
        Some(BuiltinGroup::Federated) => {
            "Built-in: every user of another server, as seen from this one. Its rights limit what they may do in this server's chats."
        }
        None => "Members get the rights below and see the group's address book.",
    };
    view! {
        <div class="page-head">
            <h1>{group.name.clone()}</h1>
            <p class="muted">{intro}</p>
        </div>
        {builtin.is_none().then(|| view! { <RenameGroup id name=group.name.clone() reload=reload.clone() /> }.into_any())}
        {(builtin != Some(BuiltinGroup::Federated)).then(|| view! { <SeeEachOther id on=group.members_see_each_other /> }.into_any())}
        {view! { <RightsForm id rights=group.rights.clone() /> }.into_any()}
        {view! { <Members id builtin members=group.members.clone() reload=reload.clone() /> }.into_any()}
        {view! { <AddressBookEditor id entries=group.address_book.clone() reload=reload.clone() /> }.into_any()}
        {builtin.is_none().then(|| view! {
            <DeleteCard
                title="Delete group"
                question=format!("Delete the group {}? Its members stay; those in no other group fall back to “Users without a group”.", group.name)
                keep="Keep the group"
                back="/admin/groups"
                delete=move || api::admin::delete_group(id)
            />
        }.into_any())}
    }
}

#[component]
fn RenameGroup(
    id: i64,
    name: String,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(name);
    let save = Action::new_local(move |request: &UpdateGroup| {
        let request = request.clone();
        async move { api::admin::update_group(id, &request).await }
    });
    let saved = Saved::here();
    Effect::new(move |_| {
        if let Some(Ok(group)) = save.value().get() {
            saved.say(format!("Group renamed to {}.", group.name));
            reload();
        }
    });
    view! {
        <form class="inline-form card" on:submit=move |ev| {
            ev.prevent_default();
            save.dispatch(UpdateGroup { name: Some(name.get_untracked()), ..UpdateGroup::default() });
        }>
            <div class="field">
                <label for="rename-group">"Group name"</label>
                <input id="rename-group" type="text" required maxlength="64" bind:value=name />
            </div>
            <button class="button subtle" type="submit" disabled=move || save.pending().get()>"Rename"</button>
            {move || save.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
        </form>
    }
}

/// "Members see each other": saved as soon as it is switched, and the switch
/// goes back if the save fails.
#[component]
fn SeeEachOther(id: i64, on: bool) -> impl IntoView {
    let on = RwSignal::new(on);
    let save = Action::new_local(move |see: &bool| {
        let request = UpdateGroup {
            members_see_each_other: Some(*see),
            ..UpdateGroup::default()
        };
        async move { api::admin::update_group(id, &request).await }
    });
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            match result {
                Ok(group) => on.set(group.members_see_each_other),
                Err(_) => on.update(|v| *v = !*v),
            }
        }
    });
    let state_text = move || {
        if save.pending().get() {
            "Saving…"
        } else if on.get() {
            "Members find each other in their address books."
        } else {
            "Members see only the address book below."
        }
    };
    view! {
        <section class="card" aria-labelledby="seeing-heading">
            <h2 id="seeing-heading">"Visibility"</h2>
            <SavingSwitch
                label="Members see each other"
                on
                busy=save.pending().into()
                flipped=move |see| {
                    save.dispatch(see);
                }
            />
            <p class="muted" role="status">{state_text}</p>
            {move || save.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
        </section>
    }
}

/// A switch that saves when flipped: it shows the new state at once and waits
/// (disabled) while `busy`; `flipped` gets the new state.
#[component]
fn SavingSwitch(
    label: &'static str,
    on: RwSignal<bool>,
    busy: Signal<bool>,
    flipped: impl Fn(bool) + 'static,
) -> impl IntoView {
    view! {
        <label class="switch">
            <input
                type="checkbox"
                role="switch"
                prop:checked=move || on.get()
                disabled=move || busy.get()
                on:change=move |ev| {
                    let now = event_target_checked(&ev);
                    on.set(now);
                    flipped(now);
                }
            />
            <span>{label}</span>
        </label>
    }
}

/// The group's rights: each switch saves at once. The switches wait while a
/// save is under way, and a save that fails puts them back as last saved.
#[component]
fn RightsForm(id: i64, rights: Vec<Right>) -> impl IntoView {
    let toggles: Vec<(Right, RwSignal<bool>)> = Right::ALL
        .into_iter()
        .map(|r| (r, RwSignal::new(rights.contains(&r))))
        .collect();
    let toggles = StoredValue::new(toggles);
    let saved = StoredValue::new(rights);
    let show = move |rights: &[Right]| {
        for (right, on) in toggles.get_value() {
            on.set(rights.contains(&right));
        }
    };
    let save = Action::new_local(move |request: &UpdateGroup| {
        let request = request.clone();
        async move { api::admin::update_group(id, &request).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(group)) => {
            show(&group.rights);
            saved.set_value(group.rights);
        }
        Some(Err(_)) => show(&saved.get_value()),
        None => {}
    });
    let switched = move || {
        let rights = toggles
            .get_value()
            .iter()
            .filter(|(_, on)| on.get_untracked())
            .map(|(r, _)| *r)
            .collect();
        save.dispatch(UpdateGroup {
            rights: Some(rights),
            ..UpdateGroup::default()
        });
    };
    view! {
        <section class="card" aria-labelledby="rights-heading">
            <h2 id="rights-heading">"Rights"</h2>
            <fieldset class="toggles">
                <legend class="visually-hidden">"Rights of this group"</legend>
                {toggles.get_value().into_iter().map(|(right, on)| view! {
                    <SavingSwitch label=right.label() on busy=save.pending().into() flipped=move |_| switched() />
                }).collect_view()}
            </fieldset>
            <div aria-live="polite">
                {move || if save.pending().get() {
                    view! { <p class="muted" role="status">"Saving…"</p> }.into_any()
                } else {
                    outcome(save.value().get(), "Rights saved.")
                }}
            </div>
            <p class="field-note">"Each switch saves at once."</p>
        </section>
    }
}

/// How many members the list shows before "Show more".
const MEMBERS_SHOWN: usize = 50;

/// The group's members: found by name in the list, and added with the people
/// picker (this server's users, searched on the server).
#[component]
fn Members(
    id: i64,
    builtin: Option<BuiltinGroup>,
    members: Vec<crate::types::MemberRef>,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let member_ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let current = StoredValue::new(member_ids);
    let total = members.len();
    let members = StoredValue::new(members);
    let filter = RwSignal::new(String::new());
    let shown = RwSignal::new(MEMBERS_SHOWN);
    let save = Action::new_local(move |ids: &IdList| {
        let ids = ids.clone();
        async move { api::admin::set_group_members(id, &ids).await }
    });
    // What the notice says once the change is saved.
    let said = StoredValue::new(String::new());
    let saved = Saved::here();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            saved.say(said.get_value());
            reload();
        }
    });
    let remove = move |user: i64, name: &str| {
        said.set_value(format!("{name} is no longer a member."));
        let ids = current
            .get_value()
            .into_iter()
            .filter(|i| *i != user)
            .collect();
        save.dispatch(IdList { ids });
    };
    // Members are not offered again (the picker knows people by their IDs).
    let Me(me) = expect_context::<Me>();
    let taken = Signal::derive(move || {
        let Some(server) = me.get().and_then(Result::ok).map(|u| u.causeway_id.server) else {
            return Vec::new();
        };
        members.with_value(|list| {
            list.iter()
                .filter_map(|m| CausewayId::parse(&format!("{}@{server}", m.login)).ok())
                .collect()
        })
    });
    let on_pick = Callback::new(move |picked: Picked| {
        if let Some(user) = picked.user_id {
            said.set_value(format!("{} added.", picked.person.display_name));
            let mut ids = current.get_value();
            ids.push(user);
            save.dispatch(IdList { ids });
        }
    });
    // The members whose name or login contains the filter, as many as shown.
    let matching = move || {
        let needle = lower(filter.get().trim());
        members.with_value(|list| {
            list.iter()
                .filter(|m| {
                    needle.is_empty()
                        || lower(&m.display_name).contains(&needle)
                        || m.login.contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let editable = builtin.is_none();
    let empty_text = match builtin {
        Some(BuiltinGroup::Federated) => {
            "Users of other servers belong here implicitly; they are not listed."
        }
        Some(BuiltinGroup::NoGroup) => "Every user is in some group.",
        None => "No members yet. Add people by name below.",
    };
    view! {
        <section class="card" aria-labelledby="members-heading">
            <div class="card-head">
                <h2 id="members-heading">"Members"</h2>
                {(total > 0).then(|| view! { <span class="muted">{format!("{total} in all")}</span> })}
            </div>
            {if total == 0 {
                view! { <p class="empty">{empty_text}</p> }.into_any()
            } else {
                view! {
                    {(total > 10).then(|| view! {
                        <div class="field">
                            <label for="member-filter">"Find a member"</label>
                            <input id="member-filter" type="search" placeholder="Name or login" bind:value=filter on:input=move |_| shown.set(MEMBERS_SHOWN) />
                        </div>
                    })}
                    {move || {
                        let list = matching();
                        let count = list.len();
                        let limit = shown.get();
                        view! {
                            {(count == 0).then(|| view! { <p class="empty">"No member matches."</p> })}
                            <ul class="plain-list" aria-label="Members">
                                {list.into_iter().take(limit).map(|m| {
                                    let label = format!("Remove {}", m.login);
                                    let href = format!("/admin/users/{}", m.id);
                                    view! {
                                        <li class="row">
                                            <span><a href=href>{m.display_name.clone()}</a> " " <span class="muted">{m.login.clone()}</span></span>
                                            {editable.then(|| view! {
                                                <button type="button" class="button subtle small" aria-label=label on:click=move |_| remove(m.id, &m.display_name)>"Remove"</button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            {(count > limit).then(|| view! {
                                <button type="button" class="button subtle" on:click=move |_| shown.update(|n| *n += MEMBERS_SHOWN)>
                                    {format!("Show more ({} of {count} shown)", limit)}
                                </button>
                            })}
                        }
                    }}
                }.into_any()
            }}
            {editable.then(|| view! {
                <PeoplePicker id="add-member" label="Add a member" find=Find::Users taken on_pick />
            })}
            {move || save.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
        </section>
    }
}

/// The group address book: shown as a list; "Customize" opens the editor, where
/// people are found with the picker (by name here, by ID elsewhere) and each
/// may get a name to show instead of their own.
#[component]
fn AddressBookEditor(
    id: i64,
    entries: Vec<AddressBookEntry>,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(entries.clone());
    let save = Action::new_local(move |book: &AddressBook| {
        let book = book.clone();
        async move { api::admin::set_group_address_book(id, &book).await }
    });
    let saved = Saved::here();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(false);
            saved.say("Address book saved.");
            reload();
        }
    });
    let taken =
        Signal::derive(move || draft.with(|d| d.iter().map(|e| e.causeway_id.clone()).collect()));
    let on_pick = Callback::new(move |picked: Picked| {
        draft.update(|d| {
            d.push(AddressBookEntry {
                causeway_id: picked.person.causeway_id,
                display_name: String::new(),
                person_name: picked.person.display_name,
            })
        });
    });
    let move_entry = move |from: usize, to: usize| {
        draft.update(|d| {
            if from < d.len() && to < d.len() {
                d.swap(from, to);
            }
        });
    };
    let entries = StoredValue::new(entries);
    view! {
        <section class="card" aria-labelledby="book-heading">
            <div class="card-head">
                <h2 id="book-heading">"Address Book"</h2>
                <Show when=move || !editing.get()>
                    <button class="button subtle" type="button" on:click=move |_| {
                        draft.set(entries.get_value());
                        editing.set(true);
                    }>"Customize"</button>
                </Show>
            </div>
            <Show
                when=move || editing.get()
                fallback=move || {
                    let list = entries.get_value();
                    if list.is_empty() {
                        view! { <p class="empty">"The address book is empty. Customize it to add people members should see."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="plain-list" aria-label="Group address book">
                                {list.into_iter().map(|e| view! {
                                    <li class="row"><span><strong>{e.shown_name()}</strong> " " <span class="muted">{e.causeway_id.to_string()}</span></span></li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }
            >
                <ul class="plain-list" aria-label="Address book entries">
                    {move || {
                        let list = draft.get();
                        let last = list.len().saturating_sub(1);
                        list.into_iter().enumerate().map(|(i, e)| {
                            let who = e.causeway_id.to_string();
                            let shown = e.display_name.clone();
                            view! {
                                <li class="row">
                                    <span class="entry-who"><strong>{e.shown_name()}</strong> " " <span class="muted">{who.clone()}</span></span>
                                    <input
                                        class="entry-name"
                                        type="text"
                                        maxlength="128"
                                        placeholder="Name to show (optional)"
                                        aria-label=format!("Name to show for {who}")
                                        prop:value=shown
                                        on:change=move |ev| {
                                            let name = event_target_value(&ev);
                                            draft.update(|d| if let Some(entry) = d.get_mut(i) { entry.display_name = name; });
                                        }
                                    />
                                    <span class="row-actions">
                                        <button type="button" class="button subtle small" aria-label=format!("Move {who} up") disabled=i == 0 on:click=move |_| move_entry(i, i.saturating_sub(1))>"↑"</button>
                                        <button type="button" class="button subtle small" aria-label=format!("Move {who} down") disabled=i == last on:click=move |_| move_entry(i, i + 1)>"↓"</button>
                                        <button type="button" class="button subtle small" aria-label=format!("Remove {who}") on:click=move |_| draft.update(|d| { d.remove(i); })>"Remove"</button>
                                    </span>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ul>
                <PeoplePicker id="book-person" label="Add a person" find=Find::UsersAndIds taken on_pick />
                {move || save.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
                <div class="actions">
                    <button class="button primary" type="button" disabled=move || save.pending().get() on:click=move |_| {
                        save.dispatch(AddressBook { entries: draft.get_untracked() });
                    }>"Save address book"</button>
                    <button class="button subtle" type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </Show>
        </section>
    }
}
