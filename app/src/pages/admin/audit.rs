//! `/admin/audit`: the audit log, newest first, with filters.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api;
use crate::components::{
    AdminLayout, ErrorNotice, Frame, Loading, Section, format_time, local_time,
};
use crate::types::AuditEntry;

const ACTIONS: [(&str, &str); 8] = [
    ("", "All events"),
    ("sign_in.", "Sign-ins"),
    ("user.", "User changes"),
    ("group.", "Group changes"),
    ("settings.", "Settings changes"),
    ("account.", "Users' own changes"),
    ("federation.", "Refused requests of other servers"),
    ("audit.", "Audit log exports"),
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let before = RwSignal::new(None::<i64>);
    let page = LocalResource::new(move || {
        let action = action.get();
        let text = text.get();
        let before = before.get();
        async move { api::admin::audit(&action, &text, before).await }
    });
    view! {
        <Title text="Audit log" />
        <Frame section=Section::Admin>
            <AdminLayout>
                <div class="page-head">
                    <h1>"Audit log"</h1>
                    <p class="muted">"Sign-ins and every administrative change: who, what, when and from where."</p>
                </div>
                <div class="toolbar">
                    <div class="field">
                        <label for="audit-action">"Show"</label>
                        <select id="audit-action" on:change=move |ev| {
                            action.set(event_target_value(&ev));
                            before.set(None);
                        }>
                            {ACTIONS.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field grow">
                        <label for="audit-text">"Containing"</label>
                        <input id="audit-text" type="search" placeholder="login, group, address…"
                            prop:value=move || text.get()
                            on:input=move |ev| {
                                text.set(event_target_value(&ev));
                                before.set(None);
                            } />
                    </div>
                    <a
                        class="button subtle"
                        download
                        href=move || format!(
                            "/api/v1/admin/audit.csv?{}",
                            api::encode_query(&[("action", action.get()), ("q", text.get())]),
                        )
                    >
                        "Export CSV"
                    </a>
                </div>
                <p class="field-note">"Times are in your time zone; the CSV export gives them in UTC."</p>
                <Transition fallback=|| view! { <Loading what="the audit log" /> }>
                    {move || {
                        page.get()
                            .map(|result| match result {
                                Ok(data) => {
                                    let next = data.next_before;
                                    view! {
                                        <AuditTable items=data.items />
                                        <nav class="pager" aria-label="Pages">
                                            <button class="button subtle small" type="button" disabled=move || before.get().is_none()
                                                on:click=move |_| before.set(None)>"Newest"</button>
                                            <button class="button subtle small" type="button" disabled=next.is_none()
                                                on:click=move |_| before.set(next)>"Older"</button>
                                        </nav>
                                    }.into_any()
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
fn AuditTable(items: Vec<AuditEntry>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="empty">"No events match."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col" class="hide-narrow">"Details"</th>
                    <th scope="col" class="hide-narrow">"From"</th>
                </tr></thead>
                <tbody>
                    {items.into_iter().map(|e| view! {
                        <tr>
                            <td class="nowrap"><time title=format_time(e.at)>{local_time(e.at)}</time></td>
                            <td>{e.actor.clone().unwrap_or_else(|| "—".to_owned())}</td>
                            <td title=e.action.clone()>{e.action_name().to_owned()}</td>
                            <td>{e.target.unwrap_or_default()}</td>
                            <td class="hide-narrow muted">{e.detail.unwrap_or_default()}</td>
                            <td class="hide-narrow">{e.address.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
