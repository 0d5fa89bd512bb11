//! `/admin/settings`: Users → Settings — passwords, sign-in protection, session
//! lifetimes, chat limits, files, and the Display Fields other servers may see.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{self, ApiFailure};
use crate::components::{AdminLayout, ErrorNotice, Frame, Loading, Section, outcome};
use crate::types::{
    ChatSettings, DisplayFields, FileSettings, OutsiderReach, ProfileField, SecuritySettings,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let data = LocalResource::new(|| async {
        let security = api::admin::security().await?;
        let fields = api::admin::display_fields().await?;
        let chats = api::admin::chat_settings().await?;
        let files = api::admin::file_settings().await?;
        Ok::<_, ApiFailure>((security, fields, chats, files))
    });
    view! {
        <Title text="User settings" />
        <Frame section=Section::Admin>
            <AdminLayout>
                <p class="crumbs"><a href="/admin/users">"Users"</a></p>
                <div class="page-head"><h1>"Settings"</h1></div>
                <Transition fallback=|| view! { <Loading what="settings" /> }>
                    {move || {
                        data.get()
                            .map(|result| match result {
                                Ok((security, fields, chats, files)) => view! {
                                    <SecurityForm security />
                                    <ChatsForm chats />
                                    <FilesForm files />
                                    <DisplayFieldsForm fields />
                                }.into_any(),
                                Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                            })
                    }}
                </Transition>
            </AdminLayout>
        </Frame>
    }
}

#[component]
fn NumberField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    value: RwSignal<u32>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="number"
                min="1"
                required
                prop:value=move || value.get().to_string()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<u32>() {
                        value.set(v);
                    }
                }
            />
            <span class="hint">{hint}</span>
        </div>
    }
}

#[component]
fn SecurityForm(security: SecuritySettings) -> impl IntoView {
    let min = RwSignal::new(security.password_min_length);
    let threshold = RwSignal::new(security.lockout_threshold);
    let lockout = RwSignal::new(security.lockout_minutes);
    let address = RwSignal::new(security.address_threshold);
    let idle = RwSignal::new(security.idle_timeout_minutes);
    let absolute = RwSignal::new(security.absolute_timeout_hours);
    let remember = RwSignal::new(security.remember_me_days);
    let save = Action::new_local(|s: &SecuritySettings| {
        let s = s.clone();
        async move { api::admin::set_security(&s).await }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SecuritySettings {
            password_min_length: min.get_untracked(),
            lockout_threshold: threshold.get_untracked(),
            lockout_minutes: lockout.get_untracked(),
            address_threshold: address.get_untracked(),
            idle_timeout_minutes: idle.get_untracked(),
            absolute_timeout_hours: absolute.get_untracked(),
            remember_me_days: remember.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="security-heading">
            <h2 id="security-heading">"Passwords, sign-in and sessions"</h2>
            <form class="form grid-2" on:submit=on_submit>
                <NumberField id="min-password" label="Minimum password length" hint="8 to 128 characters" value=min />
                <NumberField id="lockout-threshold" label="Failed sign-ins before an account is locked" hint="1 to 100" value=threshold />
                <NumberField id="lockout-minutes" label="Lock-out time (minutes)" hint="An administrator can unlock sooner" value=lockout />
                <NumberField id="address-threshold" label="Failed sign-ins from one address before it is blocked" hint="Counted over the lock-out time" value=address />
                <NumberField id="idle-timeout" label="Session idle timeout (minutes)" hint="Browser sessions without “Remember me”" value=idle />
                <NumberField id="absolute-timeout" label="Session absolute timeout (hours)" hint="Browser sessions without “Remember me”" value=absolute />
                <NumberField id="remember-days" label="“Remember me” lasts (days)" hint="1 to 365" value=remember />
                <div class="span-2">{move || outcome(save.value().get(), "Settings saved. They apply from now on.")}</div>
                <div class="actions span-2">
                    <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save settings"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn DisplayFieldsForm(fields: DisplayFields) -> impl IntoView {
    let toggles: Vec<(ProfileField, RwSignal<bool>)> = ProfileField::ALL
        .into_iter()
        .map(|f| (f, RwSignal::new(fields.fields.contains(&f))))
        .collect();
    let toggles = StoredValue::new(toggles);
    let save = Action::new_local(|f: &DisplayFields| {
        let f = f.clone();
        async move { api::admin::set_display_fields(&f).await }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let fields = toggles
            .get_value()
            .iter()
            .filter(|(_, on)| on.get_untracked())
            .map(|(f, _)| *f)
            .collect();
        save.dispatch(DisplayFields { fields });
    };
    view! {
        <section class="card" aria-labelledby="display-fields-heading">
            <h2 id="display-fields-heading">"Display Fields"</h2>
            <p class="muted">
                "The profile fields of this server's users that federated servers may see. "
                "The Causeway ID is always visible."
            </p>
            <form on:submit=on_submit>
                <fieldset class="checks">
                    <legend class="visually-hidden">"Fields visible to federated servers"</legend>
                    {toggles.get_value().into_iter().map(|(field, on)| view! {
                        <label class="checkbox">
                            <input type="checkbox" bind:checked=on />
                            <span>{field.label()}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                {move || outcome(save.value().get(), "Display Fields saved.")}
                <div class="actions">
                    <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save Display Fields"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn ChatsForm(chats: ChatSettings) -> impl IntoView {
    let max = RwSignal::new(chats.max_message_chars);
    let window = RwSignal::new(chats.edit_window_hours);
    let reach = RwSignal::new(chats.outsiders_reach);
    let save = Action::new_local(|c: &ChatSettings| {
        let c = c.clone();
        async move { api::admin::set_chat_settings(&c).await }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(ChatSettings {
            max_message_chars: max.get_untracked(),
            edit_window_hours: window.get_untracked(),
            outsiders_reach: reach.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="chats-heading">
            <h2 id="chats-heading">"Chats"</h2>
            <form class="form grid-2" on:submit=on_submit>
                <NumberField id="max-message" label="Longest message (characters)" hint="1 to 100000" value=max />
                <NumberField id="edit-window" label="Own messages can be edited or deleted for (hours)" hint="1 to 8760" value=window />
                <div class="field span-2">
                    <label for="outsiders-reach">"People of other servers may start chats with"</label>
                    <select id="outsiders-reach" aria-describedby="outsiders-reach-hint" on:change=move |ev| {
                        if let Some(r) = OutsiderReach::parse(&event_target_value(&ev)) {
                            reach.set(r);
                        }
                    }>
                        {OutsiderReach::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=move || reach.get() == r>{r.label()}</option>
                        }).collect_view()}
                    </select>
                    <span id="outsiders-reach-hint" class="hint">"Also whom they may add to group chats. Anyone else looks to them as if there were no such user."</span>
                </div>
                <div class="span-2">{move || outcome(save.value().get(), "Chat settings saved.")}</div>
                <div class="actions span-2">
                    <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save chat settings"</button>
                </div>
            </form>
        </section>
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// "exe, .MSI bat" → `["exe", "msi", "bat"]`: commas or spaces between, a leading
/// dot dropped, lowercase. The server checks what is left.
fn extension_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(|e| e.trim().trim_start_matches('.').to_lowercase())
        .filter(|e| !e.is_empty())
        .collect()
}

#[component]
fn FilesForm(files: FileSettings) -> impl IntoView {
    let max_mib = RwSignal::new(files.max_file_bytes as f64 / MIB);
    let blocked = RwSignal::new(files.blocked_extensions.join(", "));
    let allowed = RwSignal::new(files.allowed_extensions.join(", "));
    let save = Action::new_local(|f: &FileSettings| {
        let f = f.clone();
        async move { api::admin::set_file_settings(&f).await }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(FileSettings {
            max_file_bytes: (max_mib.get_untracked() * MIB).round() as i64,
            blocked_extensions: extension_list(&blocked.get_untracked()),
            allowed_extensions: extension_list(&allowed.get_untracked()),
        });
    };
    view! {
        <section class="card" aria-labelledby="files-heading">
            <h2 id="files-heading">"Files"</h2>
            <p class="muted">"Files people send in chats. Changes apply to the next upload."</p>
            <form class="form grid-2" on:submit=on_submit>
                <div class="field">
                    <label for="max-file-size">"Largest file (MiB)"</label>
                    <input
                        id="max-file-size"
                        type="number"
                        min="0.001"
                        max="4096"
                        step="any"
                        required
                        prop:value=move || {
                            let mib = max_mib.get();
                            if mib.fract() == 0.0 { format!("{mib:.0}") } else { format!("{mib:.3}") }
                        }
                        on:input=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                                max_mib.set(v);
                            }
                        }
                    />
                    <span class="hint">"1 KiB to 4096 MiB (4 GiB)"</span>
                </div>
                <div class="field span-2">
                    <label for="blocked-extensions">"Blocked extensions"</label>
                    <input id="blocked-extensions" type="text" bind:value=blocked autocomplete="off" />
                    <span class="hint">"Never accepted. Separate with commas, without the dot: exe, msi, bat"</span>
                </div>
                <div class="field span-2">
                    <label for="allowed-extensions">"Allowed extensions"</label>
                    <input id="allowed-extensions" type="text" bind:value=allowed autocomplete="off" />
                    <span class="hint">"Leave empty to accept any extension that is not blocked; otherwise only these."</span>
                </div>
                <div class="span-2">{move || outcome(save.value().get(), "File settings saved.")}</div>
                <div class="actions span-2">
                    <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save file settings"</button>
                </div>
            </form>
        </section>
    }
}
