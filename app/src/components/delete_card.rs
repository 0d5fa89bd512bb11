use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::ApiResult;
use crate::components::{Confirm, ErrorNotice};

/// The "Delete …" card of a user or group page: asks once more in words, deletes,
/// then goes to `back`.
#[component]
pub fn DeleteCard<F, Fu>(
    /// Heading and first button, e.g. "Delete user".
    title: &'static str,
    /// What deleting means, asked before it happens.
    question: String,
    /// The button that backs out, e.g. "Keep the user".
    keep: &'static str,
    /// Where to go once deleted.
    back: &'static str,
    delete: F,
) -> impl IntoView
where
    F: Fn() -> Fu + 'static,
    Fu: Future<Output = ApiResult<()>> + 'static,
{
    let confirming = RwSignal::new(false);
    let navigate = use_navigate();
    let delete = Action::new_local(move |_: &()| delete());
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate(back, Default::default());
        }
    });
    view! {
        <section class="card danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">{title}</h2>
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button class="button danger" type="button" on:click=move |_| confirming.set(true)>{title}</button>
                }
            >
                <Confirm
                    question=question.clone()
                    yes="Delete for good"
                    no=keep
                    on_yes=Callback::new(move |()| { delete.dispatch(()); })
                    on_no=Callback::new(move |()| confirming.set(false))
                />
            </Show>
            {move || delete.value().get().and_then(Result::err).map(|failure| view! { <ErrorNotice failure /> })}
        </section>
    }
}
