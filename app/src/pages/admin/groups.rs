//! `/admin/groups`: all groups and the form for a new one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::{AdminLayout, ErrorNotice, Frame, Loading, Section};
use crate::types::{CreateGroup, GroupSummary};

#[component]
pub fn GroupsPage() -> impl IntoView {
    let groups = LocalResource::new(api::admin::groups);
    let name = RwSignal::new(String::new());
    let navigate = use_navigate();
    let create = Action::new_local(|request: &CreateGroup| {
        let request = request.clone();
        async move { api::admin::create_group(&request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(group)) = create.value().get() {
            navigate(&format!("/admin/groups/{}", group.id), Default::default());
        }
    });
    view! {
        <Title text="Groups" />
        <Frame section=Section::Admin>
            <AdminLayout>
                <div class="page-head">
                    <h1>"Groups"</h1>
                    <p class="muted">
                        "A group gives its members rights and an address book. Users in no group belong to "
                        "“Users without a group”; users of other servers to “Federated Users”."
                    </p>
                </div>
                <form class="inline-form card" on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(CreateGroup { name: name.get_untracked(), rights: Vec::new(), members_see_each_other: true });
                }>
                    <div class="field">
                        <label for="group-name">"New group name"</label>
                        <input id="group-name" type="text" required maxlength="64" bind:value=name />
                    </div>
                    <button class="button primary" type="submit" disabled=move || create.pending().get()>"Create group"</button>
                </form>
                {move || create.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
                <Transition fallback=|| view! { <Loading what="groups" /> }>
                    {move || {
                        groups
                            .get()
                            .map(|result| match result {
                                Ok(list) => view! { <GroupTable list /> }.into_any(),
                                Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                            })
                    }}
                </Transition>
            </AdminLayout>
        </Frame>
    }
}

#[component]
fn GroupTable(list: Vec<GroupSummary>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Group"</th>
                        <th scope="col">"Members"</th>
                        <th scope="col">"Rights"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|g| {
                            let href = format!("/admin/groups/{}", g.id);
                            let members = match g.member_count {
                                Some(n) => n.to_string(),
                                None => "implicit".to_owned(),
                            };
                            let rights = if g.rights.is_empty() {
                                "none".to_owned()
                            } else {
                                g.rights.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")
                            };
                            view! {
                                <tr>
                                    <td>
                                        <a href=href>{g.name.clone()}</a>
                                        {g.builtin.map(|_| view! { <span class="pill">"Built-in"</span> })}
                                    </td>
                                    <td>{members}</td>
                                    <td class="muted">{rights}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
