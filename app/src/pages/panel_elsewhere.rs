//! The control panel and My account in the chat bundle: not there.
//!
//! The browser client comes in two bundles. The chat bundle, which every
//! person loads, leaves out the pages people open rarely — the control panel
//! and My account ([`super::in_panel_bundle`]); the panel bundle (all pages)
//! is loaded only by those pages, which the server serves with it. When
//! someone follows a link to one of them from a page that runs the chat
//! bundle, this stands in for it and loads the address from the server.

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
        <main id="main" tabindex="-1" class="content">
            <p class="muted" role="status">"Opening…"</p>
        </main>
    }
}
