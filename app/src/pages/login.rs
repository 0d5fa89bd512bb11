//! `/login`: the sign-in form.

use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::components::{Brand, hydrated};
use crate::live::ACCOUNT_DISABLED_NOTICE;
use crate::types::LoginRequest;

/// Where to go after signing in: the `next` query parameter when it is a path of
/// this site, else the home page. Anything else (`//evil.example`, `https://…`) is
/// ignored, so the parameter cannot send a person to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    // The fields are read from the DOM at submit time rather than mirrored in
    // signals, so text typed before the page finished hydrating is not lost.
    let login = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();
    let remember_me = NodeRef::<Input>::new();
    // Effects run only in the browser: until the page is interactive, the button
    // stays disabled, so nothing is submitted as a plain form.
    let hydrated = hydrated();
    let query = use_query_map();
    let navigate = use_navigate();

    let sign_in = Action::new_local(|request: &LoginRequest| {
        let request = request.clone();
        async move { api::login(&request).await }
    });
    let pending = sign_in.pending();
    let error = move || match sign_in.value().get() {
        Some(Err(failure)) => Some(failure.message),
        _ => None,
    };

    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_in.value().get() {
            let next = query.with_untracked(|q| safe_next(q.get_str("next")));
            navigate(&next, Default::default());
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let value = |field: NodeRef<Input>| {
            field
                .get_untracked()
                .map(|input| input.value())
                .unwrap_or_default()
        };
        sign_in.dispatch(LoginRequest {
            login: value(login),
            password: value(password),
            remember_me: remember_me
                .get_untracked()
                .is_some_and(|input| input.checked()),
        });
    };

    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <Brand />
                </div>
                <h1>"Sign in"</h1>
                <p class="muted">"Use the login and password your administrator gave you."</p>
                {move || {
                    query
                        .with(|q| q.get_str("ended") == Some("account_disabled"))
                        .then(|| view! { <p class="notice error" role="alert">{ACCOUNT_DISABLED_NOTICE}</p> })
                }}
                <form class="form" method="post" on:submit=on_submit>
                    <div class="field">
                        <label for="login">"Login or Causeway ID"</label>
                        <input
                            id="login"
                            name="login"
                            type="text"
                            autocomplete="username"
                            autocapitalize="none"
                            spellcheck="false"
                            required
                            maxlength="330"
                            placeholder="moore or moore@guest.example"
                            node_ref=login
                        />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input
                            id="password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                            maxlength="1024"
                            node_ref=password
                        />
                    </div>
                    <label class="checkbox">
                        <input type="checkbox" name="remember_me" node_ref=remember_me />
                        <span>"Remember me"</span>
                    </label>
                    <div class="form-error" role="alert" aria-live="assertive">
                        {move || error().map(|message| view! { <p>{message}</p> })}
                    </div>
                    <button class="button primary wide" type="submit" disabled=move || !hydrated.get() || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </form>
            </div>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/chats/4")), "/chats/4");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("")), "/");
    }
}
