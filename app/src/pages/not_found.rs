use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::Brand;

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found" />
        <main class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <Brand />
                </div>
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="button primary wide" href="/">"Go to the home page"</a>
            </div>
        </main>
    }
}
