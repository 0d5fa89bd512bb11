//! `/admin/federation`: the federation mode and the white list. Changes are made
//! to a draft and take effect with Apply, without a restart.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api;
use crate::components::{
    AdminLayout, ErrorNotice, Frame, Loading, Section, format_time, local_time, outcome,
};
use crate::types::{
    FederationMode, FederationSettings, FederationStatus, PeerStatus, ServerName, WhitelistEntry,
};

#[component]
pub fn FederationPage() -> impl IntoView {
    let data = LocalResource::new(api::admin::federation);
    view! {
        <Title text="Federation" />
        <Frame section=Section::Admin>
            <AdminLayout>
                <div class="page-head">
                    <h1>"Federation"</h1>
                    <p class="muted">
                        "Federation lets users of this server chat with users of other Causeway servers. "
                        "Traffic flows only when both servers allow each other."
                    </p>
                </div>
                <Transition fallback=|| view! { <Loading what="federation settings" /> }>
                    {move || {
                        data.get()
                            .map(|result| match result {
                                Ok(settings) => view! { <FederationForm settings /> }.into_any(),
                                Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                            })
                    }}
                </Transition>
                <PeersCard />
            </AdminLayout>
        </Frame>
    }
}

/// How often the server states refresh while the page is open.
const REFRESH_MS: u64 = 10_000;

/// This server's key, and how traffic with each other server goes: refreshed
/// every few seconds while the page is open.
#[component]
fn PeersCard() -> impl IntoView {
    let status = LocalResource::new(api::admin::federation_status);
    Effect::new(move |_| {
        if let Ok(timer) = set_interval_with_handle(
            move || status.refetch(),
            std::time::Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || timer.clear());
        }
    });
    view! {
        <section class="card" aria-labelledby="peers-heading">
            <div class="card-head">
                <h2 id="peers-heading">"Servers"</h2>
                <button type="button" class="button secondary" on:click=move |_| status.refetch()>
                    "Refresh"
                </button>
            </div>
            <Transition fallback=|| view! { <Loading what="server states" /> }>
                {move || {
                    status.get().map(|result| match result {
                        Ok(status) => view! { <PeersTable status /> }.into_any(),
                        Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

fn peer_state(peer: &PeerStatus) -> (&'static str, &'static str) {
    match (peer.allowed, peer.reachable, peer.last_heard_at) {
        (false, _, _) => ("Not allowed", "pill off"),
        (true, None, None) => ("Not contacted yet", "pill off"),
        (true, None, Some(_)) => ("Heard from", "pill ok"),
        (true, Some(true), _) => ("Reachable", "pill ok"),
        (true, Some(false), _) => ("Unreachable", "pill warn"),
    }
}

/// A time in the table: the reader's local time, UTC on hover; a dash for never.
fn when(at: Option<i64>) -> AnyView {
    match at {
        Some(at) => view! { <time title=format_time(at)>{local_time(at)}</time> }.into_any(),
        None => "—".into_any(),
    }
}

#[component]
fn PeersTable(status: FederationStatus) -> impl IntoView {
    let own = view! {
        <p class="muted">
            "This server is " <strong>{status.server_name.to_string()}</strong>
            ". Its signing key's fingerprint, for other servers' white lists: "
            <code class="fingerprint">{status.key_fingerprint.clone()}</code>
        </p>
    };
    let table = if status.peers.is_empty() {
        view! { <p class="empty">"No other servers yet."</p> }.into_any()
    } else {
        view! {
                <table class="table">
                    <thead><tr>
                        <th scope="col">"Server"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Waiting"</th>
                        <th scope="col" class="hide-narrow">"Last answer"</th>
                        <th scope="col" class="hide-narrow">"Last heard from"</th>
                        <th scope="col" class="hide-narrow">"Last error"</th>
                    </tr></thead>
                    <tbody>
                        {status.peers.into_iter().map(|peer| {
                            let (state, class) = peer_state(&peer);
                            let error = match (&peer.last_error, peer.last_error_at, peer.reachable) {
                                (Some(error), Some(at), Some(false)) => format!("{} — {error}", local_time(at)),
                                (Some(error), Some(at), _) => format!("{} — {error} (since recovered)", local_time(at)),
                                _ => "—".to_owned(),
                            };
                            view! {
                                <tr>
                                    <td>{peer.server_name.to_string()}</td>
                                    <td><span class=class>{state}</span></td>
                                    <td>{format!("{} events", peer.queue)}</td>
                                    <td class="hide-narrow nowrap">{when(peer.last_success_at)}</td>
                                    <td class="hide-narrow nowrap">{when(peer.last_heard_at)}</td>
                                    <td class="hide-narrow muted">{error}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
        }
        .into_any()
    };
    view! { {own} {table} }
}

fn mode_value(mode: FederationMode) -> &'static str {
    match mode {
        FederationMode::Disabled => "disabled",
        FederationMode::AllowAll => "allow_all",
        FederationMode::Whitelist => "whitelist",
    }
}

#[component]
fn FederationForm(settings: FederationSettings) -> impl IntoView {
    let mode = RwSignal::new(settings.mode);
    let list = RwSignal::new(settings.whitelist.clone());
    let saved = RwSignal::new(settings);
    let name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let fingerprint = RwSignal::new(String::new());
    let add_error = RwSignal::new(None::<String>);
    let apply = Action::new_local(|s: &FederationSettings| {
        let s = s.clone();
        async move { api::admin::set_federation(&s).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(applied)) = apply.value().get() {
            saved.set(applied);
        }
    });
    let draft = move || FederationSettings {
        mode: mode.get(),
        whitelist: list.get(),
    };
    let changed = move || draft() != saved.get();

    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let server_name = match ServerName::parse(name.get_untracked().trim()) {
            Ok(n) => n,
            Err(e) => {
                add_error.set(Some(format!(
                    "Enter a server name such as guest.example.com ({e})."
                )));
                return;
            }
        };
        if list.with_untracked(|l| l.iter().any(|e| e.server_name == server_name)) {
            add_error.set(Some(format!("{server_name} is on the white list already.")));
            return;
        }
        let optional = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        list.update(|l| {
            l.push(WhitelistEntry {
                server_name,
                address: optional(address.get_untracked()),
                key_fingerprint: optional(fingerprint.get_untracked()).map(|f| f.to_lowercase()),
            })
        });
        add_error.set(None);
        name.set(String::new());
        address.set(String::new());
        fingerprint.set(String::new());
    };

    view! {
        <section class="card" aria-labelledby="mode-heading">
            <h2 id="mode-heading">"Mode"</h2>
            <div class="field narrow">
                <label for="federation-mode">"Federation mode"</label>
                <select id="federation-mode" on:change=move |ev| {
                    let value = event_target_value(&ev);
                    if let Some(m) = FederationMode::ALL.into_iter().find(|m| mode_value(*m) == value) {
                        mode.set(m);
                    }
                }>
                    {FederationMode::ALL.into_iter().map(|m| view! {
                        <option value=mode_value(m) selected=move || mode.get() == m>{m.label()}</option>
                    }).collect_view()}
                </select>
            </div>
        </section>
        <section class="card" aria-labelledby="whitelist-heading">
            <h2 id="whitelist-heading">"White list"</h2>
            <p class="muted">"Used when the mode is “Allowed for whitelisted servers”."</p>
            {move || {
                let entries = list.get();
                if entries.is_empty() {
                    view! { <p class="empty">"No servers on the white list."</p> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <thead><tr>
                                <th scope="col">"Server"</th>
                                <th scope="col" class="hide-narrow">"Address"</th>
                                <th scope="col" class="hide-narrow">"Key fingerprint"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {entries.into_iter().map(|e| {
                                    let server = e.server_name.clone();
                                    let label = format!("Remove {server}");
                                    view! {
                                        <tr>
                                            <td>{e.server_name.to_string()}</td>
                                            <td class="hide-narrow">{e.address.clone().unwrap_or_else(|| "at its name".to_owned())}</td>
                                            <td class="hide-narrow"><code class="clip">{e.key_fingerprint.clone().unwrap_or_else(|| "not pinned".to_owned())}</code></td>
                                            <td>
                                                <button type="button" class="button subtle small" aria-label=label on:click=move |_| {
                                                    list.update(|l| l.retain(|x| x.server_name != server));
                                                }>"Remove"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
            <form class="inline-form" on:submit=add>
                <div class="field">
                    <label for="wl-name">"Server name"</label>
                    <input id="wl-name" type="text" required placeholder="guest.example.com" bind:value=name />
                </div>
                <div class="field">
                    <label for="wl-address">"Address (optional)"</label>
                    <input id="wl-address" type="url" placeholder="https://guest.example.com:8443" bind:value=address />
                </div>
                <div class="field">
                    <label for="wl-fingerprint">"Key fingerprint (optional)"</label>
                    <input id="wl-fingerprint" type="text" placeholder="SHA-256, 64 hex digits" bind:value=fingerprint />
                </div>
                <button class="button subtle" type="submit">"Add"</button>
            </form>
            {move || add_error.get().map(|m| view! { <div class="notice error" role="alert">{m}</div> })}
        </section>
        <div class="apply-bar">
            <span class="muted">
                {move || if changed() { "You have changes that are not applied yet." } else { "The settings shown are in force." }}
            </span>
            <button class="button primary" type="button" disabled=move || apply.pending().get() on:click=move |_| {
                apply.dispatch(draft());
            }>"Apply"</button>
        </div>
        {move || outcome(apply.value().get(), "Applied. Federation settings are in force now.")}
    }
}
