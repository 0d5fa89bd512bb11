//! The set-up checklist an administrator sees on a new server, where an empty
//! chat list would otherwise greet them: add people, groups and rights,
//! federation. Each step links to its page of the control panel and is ticked
//! once done; the list goes away when every step is done or the first chat
//! exists.

use leptos::prelude::*;

use crate::api;
use crate::types::SetupStatus;

/// The checklist while steps are left, else what `done` shows.
#[component]
pub fn SetupChecklist(done: fn() -> AnyView) -> impl IntoView {
    let status = LocalResource::new(api::setup_status);
    move || match status.get() {
        None => None,
        Some(Ok(s)) if !s.complete() => Some(view! { <Steps status=s /> }.into_any()),
        Some(_) => Some(done()),
    }
}

#[component]
fn Steps(status: SetupStatus) -> impl IntoView {
    let steps = [
        (
            status.people > 0,
            "/admin/users",
            "Add people",
            "Create an account for each colleague (Users → New user), and choose their groups in the same form.",
        ),
        (
            status.groups > 0,
            "/admin/groups",
            "Groups and rights",
            "Everyone starts in “Users without a group”: they see each other and may send and download files. Make groups for teams that need other rights or their own address book.",
        ),
        (
            status.federation,
            "/admin/federation",
            "Federation",
            "Connect your guest server so that partners and contractors can chat with your people. People of other servers may download files, not send them, until you change “Federated Users”.",
        ),
    ];
    let done = steps.iter().filter(|(done, ..)| *done).count();
    view! {
        <section class="setup card" aria-labelledby="setup-heading">
            <h2 id="setup-heading">"Set up this server"</h2>
            <p class="muted">{format!("{done} of {} steps done. Your chats will appear here.", steps.len())}</p>
            <ol class="checklist">
                {steps
                    .into_iter()
                    .map(|(done, href, title, text)| view! {
                        <li class:done=done>
                            <span class="check" aria-hidden="true">{if done { "✓" } else { "" }}</span>
                            <div>
                                <a href=href rel="external"><strong>{title}</strong></a>
                                <span class="visually-hidden">{if done { " (done)" } else { " (to do)" }}</span>
                                <p class="muted">{text}</p>
                            </div>
                        </li>
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}
