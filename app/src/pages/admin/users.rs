//! `/admin/users`: all users, search, paging, and the New user form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::{
    AdminLayout, ErrorNotice, Frame, GroupChoices, Loading, Section, format_time,
};
use crate::types::{CreateUser, GroupSummary, Profile, UserPage as Page};

const PER_PAGE: u32 = 25;

#[component]
pub fn UsersPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(1_u32);
    let users = LocalResource::new(move || {
        let search = search.get();
        let page = page.get();
        async move { api::admin::users(&search, page, PER_PAGE).await }
    });
    let creating = RwSignal::new(false);

    view! {
        <Title text="Users" />
        <Frame section=Section::Admin>
            <AdminLayout>
                <div class="page-head with-action">
                    <h1>"Users"</h1>
                    <button class="button primary" type="button" on:click=move |_| creating.update(|c| *c = !*c)>
                        "New user"
                    </button>
                </div>
                <Show when=move || creating.get()>
                    <NewUserForm on_cancel=move || creating.set(false) />
                </Show>
                <div class="toolbar">
                    <label class="search">
                        <span class="visually-hidden">"Search users"</span>
                        <input
                            type="search"
                            placeholder="Search by login, name or email"
                            aria-label="Search users"
                            prop:value=move || search.get()
                            on:input=move |ev| {
                                search.set(event_target_value(&ev));
                                page.set(1);
                            }
                        />
                    </label>
                </div>
                <Transition fallback=|| view! { <Loading what="users" /> }>
                    {move || {
                        users
                            .get()
                            .map(|result| match result {
                                Ok(data) => view! { <UserTable data page /> }.into_any(),
                                Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                            })
                    }}
                </Transition>
            </AdminLayout>
        </Frame>
    }
}

#[component]
fn UserTable(data: Page, page: RwSignal<u32>) -> impl IntoView {
    let pages = ((data.total.max(1) - 1) / i64::from(data.per_page) + 1) as u32;
    let current = data.page;
    let total = data.total;
    if data.items.is_empty() {
        return view! { <p class="empty">"No users match."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Login"</th>
                        <th scope="col">"Display name"</th>
                        <th scope="col" class="hide-narrow">"Email"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="hide-narrow">"Last sign-in"</th>
                    </tr>
                </thead>
                <tbody>
                    {data
                        .items
                        .into_iter()
                        .map(|u| {
                            let href = format!("/admin/users/{}", u.id);
                            view! {
                                <tr>
                                    <td><a href=href>{u.login.clone()}</a></td>
                                    <td>{u.display_name.clone()}</td>
                                    <td class="hide-narrow">{u.email.clone()}</td>
                                    <td>
                                        {if u.is_active {
                                            view! { <span class="pill ok">"Active"</span> }.into_any()
                                        } else {
                                            view! { <span class="pill off">"Deactivated"</span> }.into_any()
                                        }}
                                        {u.is_admin.then(|| view! { <span class="pill">"Administrator"</span> })}
                                        {u.locked_until.map(|_| view! { <span class="pill warn">"Locked"</span> })}
                                    </td>
                                    <td class="hide-narrow">{u.last_login_at.map(format_time).unwrap_or_else(|| "never".to_owned())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <button class="button subtle small" type="button" disabled={current <= 1} on:click=move |_| page.set(current - 1)>
                "Previous"
            </button>
            <span class="muted">{format!("Page {current} of {pages} · {total} {}", if total == 1 { "user" } else { "users" })}</span>
            <button class="button subtle small" type="button" disabled={current >= pages} on:click=move |_| page.set(current + 1)>
                "Next"
            </button>
        </nav>
    }
        .into_any()
}

#[component]
fn NewUserForm(on_cancel: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let login = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let is_admin = RwSignal::new(false);
    let chosen_groups = RwSignal::new(Vec::<i64>::new());
    let groups = LocalResource::new(api::admin::groups);
    let navigate = use_navigate();
    let create = Action::new_local(|request: &CreateUser| {
        let request = request.clone();
        async move { api::admin::create_user(&request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(user)) = create.value().get() {
            navigate(&format!("/admin/users/{}", user.id), Default::default());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateUser {
            login: login.get_untracked().trim().to_lowercase(),
            password: password.get_untracked(),
            profile: Profile {
                display_name: display_name.get_untracked(),
                email: email.get_untracked(),
                ..Profile::default()
            },
            is_admin: is_admin.get_untracked(),
            group_ids: chosen_groups.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="new-user-heading">
            <h2 id="new-user-heading">"New user"</h2>
            <form class="form grid-2" on:submit=on_submit>
                <div class="field">
                    <label for="new-login">"Login"</label>
                    <input id="new-login" type="text" required autocapitalize="none" spellcheck="false" maxlength="64" bind:value=login />
                </div>
                <div class="field">
                    <label for="new-display-name">"Display name"</label>
                    <input id="new-display-name" type="text" required maxlength="128" bind:value=display_name />
                </div>
                <div class="field">
                    <label for="new-email">"Email"</label>
                    <input id="new-email" type="email" maxlength="254" bind:value=email />
                </div>
                <div class="field">
                    <label for="new-password">"Password"</label>
                    <input id="new-password" type="password" autocomplete="new-password" required bind:value=password />
                </div>
                <fieldset class="span-2 choices">
                    <legend>"Groups"</legend>
                    {move || groups.get().map(|result| match result {
                        Ok(list) => {
                            let ordinary: Vec<GroupSummary> = list.into_iter().filter(|g| g.builtin.is_none()).collect();
                            if ordinary.is_empty() {
                                view! { <p class="muted">"No groups yet: the user gets the rights of “Users without a group”."</p> }.into_any()
                            } else {
                                view! { <GroupChoices groups=ordinary chosen=chosen_groups id="new-user-group-filter" /> }.into_any()
                            }
                        }
                        Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                    })}
                </fieldset>
                <label class="checkbox span-2">
                    <input type="checkbox" bind:checked=is_admin />
                    <span>"Administrator (may use the control panel)"</span>
                </label>
                <div class="span-2">
                    {move || create.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
                </div>
                <div class="actions span-2">
                    <button class="button primary" type="submit" disabled=move || create.pending().get()>"Create user"</button>
                    <button class="button subtle" type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                </div>
            </form>
        </section>
    }
}
