//! `/account`: the person's own account — profile, groups, rights, password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api;
use crate::components::Avatar;
use crate::components::{ErrorNotice, Frame, Loading, Me, Section, outcome};
use crate::types::{ChangePassword, MyAccount, ProfileField, UpdateOwnProfile};

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = LocalResource::new(api::my_account);
    view! {
        <Title text="My account" />
        <Frame section=Section::Account>
            <main id="main" tabindex="-1" class="content">
                <div class="page-head">
                    <h1>"My account"</h1>
                </div>
                <Transition fallback=|| view! { <Loading what="your account" /> }>
                    {move || {
                        account
                            .get()
                            .map(|result| match result {
                                Ok(data) => view! { <AccountBody data /> }.into_any(),
                                Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                            })
                    }}
                </Transition>
                <PasswordForm />
            </main>
        </Frame>
    }
}

#[component]
fn AccountBody(data: MyAccount) -> impl IntoView {
    let display_name = RwSignal::new(data.profile.display_name.clone());
    let phone = RwSignal::new(data.profile.phone.clone());
    let save = Action::new_local(|request: &UpdateOwnProfile| {
        let request = request.clone();
        async move { api::update_my_profile(&request).await }
    });
    // The name in the top bar follows a saved change.
    let Me(me) = expect_context::<Me>();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            me.refetch();
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(UpdateOwnProfile {
            display_name: Some(display_name.get_untracked()),
            phone: Some(phone.get_untracked()),
        });
    };
    let readonly: Vec<(ProfileField, String)> = [
        ProfileField::FirstName,
        ProfileField::LastName,
        ProfileField::Email,
        ProfileField::Company,
        ProfileField::Department,
        ProfileField::Position,
    ]
    .into_iter()
    .map(|f| (f, data.profile.get(f).to_owned()))
    .filter(|(_, v)| !v.is_empty())
    .collect();

    view! {
        <PhotoForm name=data.profile.display_name.clone() url=data.avatar_url.clone() />
        <section class="card" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Profile"</h2>
            <p class="muted">
                "Your Causeway ID is " <code>{data.causeway_id.to_string()}</code>
                ". Other fields are kept by your administrator."
            </p>
            <form class="form narrow" on:submit=on_submit>
                <div class="field">
                    <label for="own-display-name">"Display name"</label>
                    <input id="own-display-name" type="text" required maxlength="128" bind:value=display_name />
                </div>
                <div class="field">
                    <label for="own-phone">"Phone"</label>
                    <input id="own-phone" type="tel" maxlength="40" bind:value=phone />
                </div>
                <dl class="facts">
                    {readonly
                        .into_iter()
                        .map(|(f, v)| view! { <div><dt>{f.label()}</dt><dd>{v}</dd></div> })
                        .collect_view()}
                </dl>
                <div>{move || outcome(save.value().get(), "Profile saved.")}</div>
                <div class="actions">
                    <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save profile"</button>
                </div>
            </form>
        </section>
        <section class="card" aria-labelledby="rights-heading">
            <h2 id="rights-heading">"Groups and rights"</h2>
            <p>
                "Groups: "
                {data.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>().join(", ")}
            </p>
            {if data.rights.is_empty() {
                view! { <p class="muted">"Your groups grant no rights."</p> }.into_any()
            } else {
                view! {
                    <ul class="tags" aria-label="Your rights">
                        {data.rights.iter().map(|g| view! { <li class="tag">{g.right.label()}</li> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let mismatch = RwSignal::new(false);
    let change = Action::new_local(|request: &ChangePassword| {
        let request = request.clone();
        async move { api::change_password(&request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            current.set(String::new());
            new.set(String::new());
            confirm.set(String::new());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if new.get_untracked() != confirm.get_untracked() {
            mismatch.set(true);
            return;
        }
        mismatch.set(false);
        change.dispatch(ChangePassword {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <p class="muted">"Changing your password signs you out everywhere else."</p>
            <form class="form narrow" on:submit=on_submit>
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" type="password" autocomplete="current-password" required bind:value=current />
                </div>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" type="password" autocomplete="new-password" required bind:value=new />
                </div>
                <div class="field">
                    <label for="confirm-password">"Repeat the new password"</label>
                    <input id="confirm-password" type="password" autocomplete="new-password" required bind:value=confirm />
                </div>
                <div>
                    {move || {
                        if mismatch.get() {
                            view! { <div class="notice error" role="alert">"The two new passwords differ."</div> }.into_any()
                        } else {
                            outcome(change.value().get(), "Password changed. Other sessions were signed out.")
                        }
                    }}
                </div>
                <div class="actions">
                    <button class="button primary" type="submit" disabled=move || change.pending().get()>"Change password"</button>
                </div>
            </form>
        </section>
    }
}

/// The person's photo: shown, replaced by choosing a file, or removed.
#[component]
fn PhotoForm(name: String, url: Option<String>) -> impl IntoView {
    let url = RwSignal::new(url);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let Me(me) = expect_context::<Me>();
    let done = move |result: Result<MyAccount, crate::api::ApiFailure>| {
        pending.set(false);
        match result {
            Ok(account) => {
                url.set(account.avatar_url);
                error.set(None);
                me.refetch();
            }
            Err(failure) => error.set(Some(failure.message)),
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                pending.set(true);
                leptos::task::spawn_local(async move { done(api::upload_avatar(file).await) });
            }
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, done);
    };
    let remove = move |_| {
        pending.set(true);
        leptos::task::spawn_local(async move { done(api::remove_avatar().await) });
    };
    let name = StoredValue::new(name);
    view! {
        <section class="card" aria-labelledby="photo-heading">
            <h2 id="photo-heading">"Photo"</h2>
            <div class="photo-row">
                {move || view! { <Avatar name=name.get_value() url=url.get() /> }}
                <div class="photo-actions">
                    <label class="button subtle file-button">
                        <input
                            type="file"
                            accept="image/png,image/jpeg,image/webp"
                            aria-label="Choose a photo"
                            on:change=on_change
                            disabled=move || pending.get()
                        />
                        <span aria-hidden="true">"Choose a photo"</span>
                    </label>
                    <Show when=move || url.get().is_some()>
                        <button class="button subtle" type="button" on:click=remove disabled=move || pending.get()>
                            "Remove photo"
                        </button>
                    </Show>
                    <span class="hint">"PNG, JPEG or WebP, up to 512 KiB."</span>
                </div>
            </div>
            <div role="alert" class="form-error">{move || error.get().map(|m| view! { <p>{m}</p> })}</div>
        </section>
    }
}
