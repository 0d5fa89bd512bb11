//! The control panel in the chat bundle: not there.
//!
//! The browser client comes in two bundles. The chat bundle, which every
//! person loads, leaves the control panel's pages out; the panel bundle (all
//! pages) is loaded only by a page under `/admin`, which the server serves
//! with it. When someone follows a link into the panel from a page that runs
//! the chat bundle, this stands in for the panel's pages and loads the address
//! from the server, which sends it with the panel bundle.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn PanelElsewhere() -> impl IntoView {
    let location = use_location();
    Effect::new(move |_| {
        // The router's address, not the window's: the router may not have
        // written the new address into the window's history yet.
        let search = location.search.get_untracked();
        let target = match search.trim_start_matches('?') {
            "" => location.pathname.get_untracked(),
            query => format!("{}?{query}", location.pathname.get_untracked()),
        };
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(&target);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = target;
    });
    view! {
        <main class="content">
            <p class="muted" role="status">"Opening the control panel…"</p>
        </main>
    }
}
