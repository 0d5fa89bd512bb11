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
/// ignored, so the parameter cannot send a person to another site. Only
/// printable ASCII without spaces or backslashes is taken (a path of this site,
/// as the server's own redirects write it): a browser drops tabs and line breaks
/// from an address, so `/<tab>/evil.example` would be `//evil.example`. The
/// server's sign-in form (`POST /login`) redirects with this too.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// What the page says for a sign-in its plain form sent (before the page's
/// script had loaded), which the server refused: the server names only the
/// error's code (`/login?error=invalid_credentials`), and the page has a fixed
/// message for it, so nothing in the address is ever shown as text.
pub fn refusal_message(code: &str) -> &'static str {
    // The codes' wire names (`ErrorCode` in snake case; a test holds them to
    // it): matching the text keeps serde's value deserializer out of the
    // browser's download.
    match code {
        "invalid_credentials" => "The login or password is incorrect.",
        "too_many_requests" => "Too many sign-in attempts. Wait a few minutes and try again.",
        "account_disabled" => "This account is deactivated. Contact your administrator.",
        _ => "Signing in did not work. Try again.",
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    // The fields are read from the DOM at submit time rather than mirrored in
    // signals, so text typed before the page finished hydrating is not lost.
    let login = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();
    let remember_me = NodeRef::<Input>::new();
    // Set once the page has hydrated, as `form[data-hydrated]`: tests that mean
    // to exercise the script's sign-in wait for it (the button works before).
    let hydrated = hydrated();
    let query = use_query_map();
    let navigate = use_navigate();
    // Until the page has hydrated, the form is a plain HTML form posting to
    // `POST /login`, which signs in and redirects; once hydrated, `on_submit`
    // signs in through the API instead. A refused plain sign-in comes back as
    // `?error=<code>&login=<typed>&next=<next>`: the login field starts with
    // what was typed, and `next` rides along in a hidden field.
    let typed_login = query.with_untracked(|q| {
        q.get_str("login")
            .map(|login| login.chars().take(330).collect::<String>())
    });
    let next = query.with_untracked(|q| q.get_str("next").map(str::to_owned));

    let sign_in = Action::new_local(|request: &LoginRequest| {
        let request = request.clone();
        async move { api::login(&request).await }
    });
    let pending = sign_in.pending();
    // The script's own sign-in, once tried, replaces the plain form's answer.
    let error = move || match sign_in.value().get() {
        Some(Err(failure)) => Some(failure.message),
        Some(Ok(_)) => None,
        None => query.with(|q| {
            q.get_str("error")
                .map(|code| refusal_message(code).to_owned())
        }),
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
                <form
                    class="form"
                    method="post"
                    action="/login"
                    data-hydrated=move || hydrated.get().then_some("true")
                    on:submit=on_submit
                >
                    <input type="hidden" name="next" value=next />
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
                            value=typed_login
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
                    <button class="button primary wide" type="submit" disabled=move || pending.get()>
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
        assert_eq!(safe_next(Some("/?tab=chats&id=4")), "/?tab=chats&id=4");
        // A browser drops tabs and line breaks: these would be `//evil.example`.
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/");
        assert_eq!(safe_next(Some("/\r\nSet-Cookie: x=y")), "/");
        assert_eq!(safe_next(Some("/caf\u{e9}")), "/");
    }

    #[test]
    fn a_refused_plain_sign_in_has_a_fixed_message_per_code() {
        use super::refusal_message;
        assert_eq!(
            refusal_message("invalid_credentials"),
            "The login or password is incorrect."
        );
        assert_eq!(
            refusal_message("too_many_requests"),
            "Too many sign-in attempts. Wait a few minutes and try again."
        );
        // The names are the codes' own on the wire.
        use crate::types::ErrorCode;
        for (code, message) in [
            (
                ErrorCode::InvalidCredentials,
                "The login or password is incorrect.",
            ),
            (
                ErrorCode::TooManyRequests,
                "Too many sign-in attempts. Wait a few minutes and try again.",
            ),
            (
                ErrorCode::AccountDisabled,
                "This account is deactivated. Contact your administrator.",
            ),
        ] {
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(refusal_message(wire.as_str().unwrap()), message);
        }
        for other in [
            "invalid_input",
            "internal",
            "",
            "<b>free text</b>",
            "InvalidCredentials",
        ] {
            assert_eq!(
                refusal_message(other),
                "Signing in did not work. Try again."
            );
        }
    }
}
