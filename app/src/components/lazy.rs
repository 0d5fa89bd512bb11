//! Parts of a page whose code comes in a module of its own: what a person
//! opens rather than what the page shows at once (ADR 058).

use std::future::Future;

use leptos::prelude::*;

/// Shows what a `#[lazy]` function makes once its module has come (at once
/// on the server, which has all the code); nothing in its place until then.
#[component]
pub fn Fetched<F>(part: F) -> impl IntoView
where
    F: Future<Output = AnyView> + Send + 'static,
{
    view! { <Suspense fallback=|| ()>{Suspend::new(part)}</Suspense> }
}
