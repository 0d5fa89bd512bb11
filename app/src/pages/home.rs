//! `/`: the signed-in home page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::{self, ApiFailure};
use crate::components::Brand;
use crate::types::{CurrentUser, ErrorCode};

#[component]
pub fn HomePage() -> impl IntoView {
    let me = LocalResource::new(api::me);
    let navigate = use_navigate();

    // A session that ended (expired, signed out elsewhere) sends the person back to sign in.
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if let Some(Err(ApiFailure {
                code: ErrorCode::Unauthenticated,
                ..
            })) = me.get()
            {
                navigate("/login", Default::default());
            }
        }
    });

    let sign_out = Action::new_local(|_: &()| api::logout());
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            navigate("/login", Default::default());
        }
    });

    view! {
        <Title text="Home" />
        <div class="app-frame">
            <header class="topbar">
                <Brand />
                <div class="topbar-user">
                    {move || {
                        me.get()
                            .and_then(Result::ok)
                            .map(|user| view! { <span class="topbar-name">{user.display_name}</span> })
                    }}
                    <button
                        class="button subtle"
                        type="button"
                        on:click=move |_| {
                            sign_out.dispatch(());
                        }
                        disabled=move || sign_out.pending().get()
                    >
                        "Sign out"
                    </button>
                </div>
            </header>
            <main class="content">
                <Suspense fallback=|| view! { <p class="muted" role="status">"Loading your account…"</p> }>
                    {move || {
                        me.get()
                            .map(|result| match result {
                                Ok(user) => view! { <Welcome user /> }.into_any(),
                                Err(failure) => {
                                    view! {
                                        <div class="notice error" role="alert">
                                            {failure.message}
                                        </div>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Suspense>
                {move || {
                    sign_out
                        .value()
                        .get()
                        .and_then(Result::err)
                        .map(|failure| view! { <div class="notice error" role="alert">{failure.message}</div> })
                }}
            </main>
        </div>
    }
}

#[component]
fn Welcome(user: CurrentUser) -> impl IntoView {
    view! {
        <section class="welcome">
            <h1>"Welcome, " {user.display_name.clone()}</h1>
            <dl class="facts">
                <div>
                    <dt>"Causeway ID"</dt>
                    <dd><code>{user.causeway_id.to_string()}</code></dd>
                </div>
                <div>
                    <dt>"Role"</dt>
                    <dd>{if user.is_admin { "Administrator" } else { "User" }}</dd>
                </div>
            </dl>
        </section>
    }
}
