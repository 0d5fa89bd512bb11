use leptos::prelude::*;

/// The product mark and name, as it stands in the top bar and above the sign-in form.
#[component]
pub fn Brand() -> impl IntoView {
    view! {
        <span class="brand">
            <svg class="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
                <rect width="32" height="32" rx="8" />
                <path d="M6 20h20M9 20v-6M16 20v-9M23 20v-6M6 14q10-8 20 0" />
            </svg>
            <span class="brand-name">"Causeway"</span>
        </span>
    }
}
