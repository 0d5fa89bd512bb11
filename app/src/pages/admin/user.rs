//! `/admin/users/:id`: one user — status, profile, password, groups, rights.

use leptos::prelude::*;
use leptos_meta::Title;

use super::route_id;
use crate::api::{self, ApiFailure};
use crate::components::{
    AdminLayout, Confirm, DeleteCard, ErrorNotice, Frame, GroupChoices, Loading, Saved, Section,
    format_time, outcome,
};
use crate::types::{
    GroupSummary, IdList, Profile, ProfileField, SetPassword, UpdateUser, UserDetail,
};

type Loaded = Result<(UserDetail, Vec<GroupSummary>), ApiFailure>;

#[component]
pub fn UserPage() -> impl IntoView {
    let id = route_id();
    let data = LocalResource::new(move || {
        let id = id.get();
        async move {
            let id = id.ok_or_else(not_found)?;
            let user = api::admin::user(id).await?;
            let groups = api::admin::groups().await?;
            Ok::<_, ApiFailure>((user, groups))
        }
    });
    view! {
        <Title text="User" />
        <Frame section=Section::Admin>
            <AdminLayout>
                <p class="crumbs"><a href="/admin/users">"Users"</a></p>
                <Transition fallback=|| view! { <Loading what="the user" /> }>
                    {move || {
                        data.get()
                            .map(|result: Loaded| match result {
                                Ok((user, groups)) => {
                                    view! { <UserBody user groups reload=move || data.refetch() /> }.into_any()
                                }
                                Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                            })
                    }}
                </Transition>
            </AdminLayout>
        </Frame>
    }
}

fn not_found() -> ApiFailure {
    ApiFailure {
        status: 404,
        code: crate::types::ErrorCode::NotFound,
        message: "No such user.".to_owned(),
    }
}

#[component]
fn UserBody(
    user: UserDetail,
    groups: Vec<GroupSummary>,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let id = user.id;
    let update = Action::new_local(move |request: &UpdateUser| {
        let request = request.clone();
        async move { api::admin::update_user(id, &request).await }
    });
    let unlock = Action::new_local(move |_: &()| api::admin::unlock_user(id));
    let active = user.is_active;
    let saved = Saved::here();
    Effect::new({
        let reload = reload.clone();
        move |_| {
            if let Some(Ok(now)) = update.value().get() {
                saved.say(
                    match (now.is_active != active, now.is_active, now.is_admin) {
                        (true, true, _) => "Activated: they may sign in again.",
                        (true, false, _) => "Deactivated: they are signed out everywhere.",
                        (false, _, true) => "Now an administrator.",
                        (false, _, false) => "No longer an administrator.",
                    },
                );
                reload();
            }
        }
    });
    Effect::new({
        let reload = reload.clone();
        move |_| {
            if let Some(Ok(_)) = unlock.value().get() {
                saved.say("Unlocked: they may sign in again.");
                reload();
            }
        }
    });
    let admin = user.is_admin;
    let title = format!("{} ({})", user.profile.display_name, user.login);
    let name = StoredValue::new(user.profile.display_name.clone());
    let asking = RwSignal::new(None::<Asked>);

    view! {
        <div class="page-head">
            <h1>{title}</h1>
            <p class="muted">
                <code>{user.causeway_id.to_string()}</code>
                " · created " {format_time(user.created_at)}
                " · last sign-in " {user.last_login_at.map(format_time).unwrap_or_else(|| "never".to_owned())}
            </p>
        </div>
        <section class="card" aria-labelledby="status-heading">
            <h2 id="status-heading">"Status"</h2>
            <p>
                {if active {
                    view! { <span class="pill ok">"Active"</span> }.into_any()
                } else {
                    view! { <span class="pill off">"Deactivated"</span> }.into_any()
                }}
                {admin.then(|| view! { <span class="pill">"Administrator"</span> })}
                {user.locked_until.map(|t| view! { <span class="pill warn">{format!("Locked until {}", format_time(t))}</span> })}
            </p>
            // Deactivating and revoking administrator ask first, here on the page.
            {move || asking.get().map(|asked| view! {
                    <Confirm
                        question=asked.question(&name.get_value())
                        yes=asked.yes()
                        no=asked.no()
                        on_yes=Callback::new(move |()| {
                            asking.set(None);
                            update.dispatch(asked.change());
                        })
                        on_no=Callback::new(move |()| asking.set(None))
                    />
                })}
            <div class="actions">
                <button class="button subtle" type="button" on:click=move |_| {
                    if active {
                        asking.set(Some(Asked::Deactivate));
                    } else {
                        update.dispatch(UpdateUser { is_active: Some(true), ..UpdateUser::default() });
                    }
                }>{if active { "Deactivate" } else { "Activate" }}</button>
                <button class="button subtle" type="button" on:click=move |_| {
                    if admin {
                        asking.set(Some(Asked::RevokeAdmin));
                    } else {
                        update.dispatch(UpdateUser { is_admin: Some(true), ..UpdateUser::default() });
                    }
                }>{if admin { "Revoke administrator" } else { "Make administrator" }}</button>
                {user.locked_until.map(|_| view! {
                    <button class="button subtle" type="button" on:click=move |_| { unlock.dispatch(()); }>"Unlock"</button>
                })}
            </div>
            {move || update.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
        </section>
        {view! { <ProfileForm id profile=user.profile.clone() /> }.into_any()}
        {view! { <PasswordReset id /> }.into_any()}
        {view! { <GroupsForm id current=user.groups.iter().map(|g| g.id).collect() groups reload=reload.clone() /> }.into_any()}
        <section class="card" aria-labelledby="rights-heading">
            <h2 id="rights-heading">"Effective rights"</h2>
            <p class="muted">"The union of the rights of the user's groups."</p>
            {if user.effective_rights.is_empty() {
                view! { <p class="empty">"No rights."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th scope="col">"Right"</th><th scope="col">"Granted by"</th></tr></thead>
                        <tbody>
                            {user.effective_rights.iter().map(|grant| view! {
                                <tr>
                                    <td>{grant.right.label()}</td>
                                    <td>{grant.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>().join(", ")}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {view! {
            <DeleteCard
                title="Delete user"
                question=format!("Delete {} for good? Their sessions, memberships and personal address book go too.", user.login)
                keep="Keep the user"
                back="/admin/users"
                delete=move || api::admin::delete_user(id)
            />
        }.into_any()}
    }
}

/// The fields already show what was saved, so a save does not reload the page
/// (which would also wipe its confirmation).
#[component]
fn ProfileForm(id: i64, profile: Profile) -> impl IntoView {
    let fields: Vec<(ProfileField, RwSignal<String>)> = ProfileField::ALL
        .into_iter()
        .map(|f| (f, RwSignal::new(profile.get(f).to_owned())))
        .collect();
    let fields = StoredValue::new(fields);
    let save = Action::new_local(move |profile: &Profile| {
        let request = UpdateUser {
            profile: Some(profile.clone()),
            ..UpdateUser::default()
        };
        async move { api::admin::update_user(id, &request).await }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut profile = Profile::default();
        for (field, signal) in fields.get_value() {
            *profile.get_mut(field) = signal.get_untracked();
        }
        save.dispatch(profile);
    };
    view! {
        <section class="card" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Profile"</h2>
            <form class="form grid-2" on:submit=on_submit>
                {fields
                    .get_value()
                    .into_iter()
                    .map(|(field, signal)| {
                        let input_id = format!("profile-{field:?}").to_lowercase();
                        view! {
                            <div class="field">
                                <label for=input_id.clone()>{field.label()}</label>
                                <input id=input_id type="text" maxlength=field.max_len().to_string()
                                    required=field == ProfileField::DisplayName bind:value=signal />
                            </div>
                        }
                    })
                    .collect_view()}
                <div class="span-2">{move || outcome(save.value().get(), "Profile saved.")}</div>
                <div class="actions span-2">
                    <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save profile"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn PasswordReset(id: i64) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let set = Action::new_local(move |request: &SetPassword| {
        let request = request.clone();
        async move { api::admin::set_user_password(id, &request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = set.value().get() {
            password.set(String::new());
        }
    });
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <p class="muted">"Setting a new password signs the user out everywhere."</p>
            <form class="inline-form" on:submit=move |ev| {
                ev.prevent_default();
                set.dispatch(SetPassword { password: password.get_untracked() });
            }>
                <div class="field">
                    <label for="set-password">"New password"</label>
                    <input id="set-password" type="password" autocomplete="new-password" required bind:value=password />
                </div>
                <button class="button primary" type="submit" disabled=move || set.pending().get()>"Set password"</button>
            </form>
            {move || outcome(set.value().get(), "Password set; the user's sessions were ended.")}
        </section>
    }
}

#[component]
fn GroupsForm(
    id: i64,
    current: Vec<i64>,
    groups: Vec<GroupSummary>,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let ordinary: Vec<GroupSummary> = groups.into_iter().filter(|g| g.builtin.is_none()).collect();
    // The built-in groups' membership is implicit: never sent.
    let chosen = RwSignal::new(
        current
            .into_iter()
            .filter(|id| ordinary.iter().any(|g| g.id == *id))
            .collect::<Vec<_>>(),
    );
    let save = Action::new_local(move |ids: &IdList| {
        let ids = ids.clone();
        async move { api::admin::set_user_groups(id, &ids).await }
    });
    let saved = Saved::here();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            saved.say("Groups saved.");
            reload();
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(IdList {
            ids: chosen.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="groups-heading">
            <h2 id="groups-heading">"Groups"</h2>
            {if ordinary.is_empty() {
                view! { <p class="empty">"There are no groups yet. Create one under Groups."</p> }.into_any()
            } else {
                view! {
                    <form on:submit=on_submit>
                        <fieldset class="checks">
                            <legend class="muted">"A user in no group belongs to “Users without a group”."</legend>
                            <GroupChoices groups=ordinary chosen id="user-group-filter" />
                        </fieldset>
                        {move || save.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
                        <div class="actions">
                            <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save groups"</button>
                        </div>
                    </form>
                }.into_any()
            }}
        </section>
    }
}

/// A change that asks before it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Deactivate,
    RevokeAdmin,
}

impl Asked {
    fn question(self, name: &str) -> String {
        match self {
            Asked::Deactivate => format!(
                "Deactivate {name}? They are signed out everywhere at once and cannot sign in until you activate them again. Their chats and messages stay."
            ),
            Asked::RevokeAdmin => {
                format!("Revoke administrator from {name}? They lose the control panel at once.")
            }
        }
    }

    fn yes(self) -> &'static str {
        match self {
            Asked::Deactivate => "Yes, deactivate",
            Asked::RevokeAdmin => "Yes, revoke",
        }
    }

    fn no(self) -> &'static str {
        match self {
            Asked::Deactivate => "Keep active",
            Asked::RevokeAdmin => "Keep administrator",
        }
    }

    fn change(self) -> UpdateUser {
        match self {
            Asked::Deactivate => UpdateUser {
                is_active: Some(false),
                ..UpdateUser::default()
            },
            Asked::RevokeAdmin => UpdateUser {
                is_admin: Some(false),
                ..UpdateUser::default()
            },
        }
    }
}
