//! A people picker: a combobox that finds a person and hands them to the page.
//!
//! Administrators find this server's users by name (the panel's user search, a
//! page of a few at a time, so it works with any number of users). Anyone finds
//! a person by their full Causeway ID, local or of another server: the server
//! looks the ID up (asking the other server) and answers with the person's
//! name. Nobody but an administrator gets a list of names they did not type.

use leptos::prelude::*;

use crate::api;
use crate::components::Me;
use crate::types::{CausewayId, Person};

/// What the list offers: a person found, or an ID to look up.
#[derive(Debug, Clone, PartialEq)]
enum Choice {
    Found(Person),
    LookUp(CausewayId),
}

impl Choice {
    fn label(&self) -> String {
        match self {
            Choice::Found(p) => format!("{} — {}", p.display_name, p.causeway_id),
            Choice::LookUp(id) => format!("Look up {id}"),
        }
    }
}

/// How many people a search by name offers at a time.
const OFFERED: u32 = 8;

/// Waits this long after the last key before searching by name.
const PAUSE_MS: i32 = 250;

#[component]
pub fn PeoplePicker(
    /// The input's id; the list's id is derived from it.
    id: &'static str,
    label: &'static str,
    /// Search this server's users by name (administrators only: the search is
    /// the panel's).
    #[prop(optional)]
    by_name: bool,
    /// People already chosen: not offered again.
    #[prop(into)]
    taken: Signal<Vec<CausewayId>>,
    on_pick: Callback<Person>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let choices = RwSignal::new(Vec::<Choice>::new());
    let active = RwSignal::new(None::<usize>);
    let note = RwSignal::new(None::<String>);
    let looking_up = RwSignal::new(false);
    // Answers to an older query are dropped.
    let asked = StoredValue::new(0_u64);
    let my_server = {
        let me = use_context::<Me>();
        move || {
            me.and_then(|Me(me)| me.get_untracked())
                .and_then(Result::ok)
                .map(|u| u.causeway_id.server)
        }
    };

    let clear = move || {
        query.set(String::new());
        choices.set(Vec::new());
        active.set(None);
    };
    let pick = move |choice: Choice| match choice {
        Choice::Found(person) => {
            note.set(None);
            clear();
            on_pick.run(person);
        }
        Choice::LookUp(causeway_id) => {
            looking_up.set(true);
            leptos::task::spawn_local(async move {
                let answer = api::lookup_person(&causeway_id).await;
                looking_up.set(false);
                match answer {
                    Ok(person) => {
                        note.set(None);
                        clear();
                        on_pick.run(person);
                    }
                    Err(failure) => note.set(Some(failure.message)),
                }
            });
        }
    };
    let offer = move |list: Vec<Choice>| {
        let taken = taken.get_untracked();
        let list: Vec<Choice> = list
            .into_iter()
            .filter(|c| match c {
                Choice::Found(p) => !taken.contains(&p.causeway_id),
                Choice::LookUp(id) => !taken.contains(id),
            })
            .collect();
        active.set((!list.is_empty()).then_some(0));
        choices.set(list);
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        query.set(text.clone());
        note.set(None);
        let ticket = asked.get_value() + 1;
        asked.set_value(ticket);
        let text = text.trim().to_owned();
        if text.is_empty() {
            offer(Vec::new());
        } else if let Ok(causeway_id) = CausewayId::parse(&text) {
            offer(vec![Choice::LookUp(causeway_id)]);
        } else if by_name {
            let server = my_server();
            later(PAUSE_MS, move || {
                if asked.get_value() != ticket {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let found = search_by_name(&text, server).await;
                    if asked.get_value() != ticket {
                        return;
                    }
                    match found {
                        Ok(people) if people.is_empty() => {
                            offer(Vec::new());
                            note.set(Some(format!(
                                "No one on this server matches “{text}”. For someone of another server, type their full ID, such as moore@guest.example."
                            )));
                        }
                        Ok(people) => offer(people.into_iter().map(Choice::Found).collect()),
                        Err(failure) => note.set(Some(failure.message)),
                    }
                });
            });
        } else {
            offer(Vec::new());
            note.set(Some(
                "Type the person's full ID, such as moore@guest.example.".to_owned(),
            ));
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = choices.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1).min(count - 1))));
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(0, |i| i.saturating_sub(1))));
            }
            "Enter" => {
                // Enter picks; it never submits the form around the picker.
                ev.prevent_default();
                let chosen = active
                    .get_untracked()
                    .and_then(|i| choices.with_untracked(|c| c.get(i).cloned()));
                if let Some(choice) = chosen {
                    pick(choice);
                }
            }
            "Escape" if count > 0 => {
                ev.prevent_default();
                offer(Vec::new());
            }
            _ => {}
        }
    };
    let list_id = format!("{id}-list");
    let option_id = move |i: usize| format!("{id}-option-{i}");
    let expanded = move || choices.with(|c| !c.is_empty());
    view! {
        <div class="picker field">
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                role="combobox"
                autocomplete="off"
                aria-autocomplete="list"
                aria-controls=list_id.clone()
                aria-expanded=move || expanded().to_string()
                aria-activedescendant=move || active.get().filter(|_| expanded()).map(option_id)
                aria-busy=move || looking_up.get().to_string()
                placeholder=if by_name { "Name, login or moore@guest.example" } else { "moore@guest.example" }
                prop:value=move || query.get()
                on:input=on_input
                on:keydown=on_keydown
            />
            <ul class="picker-list" role="listbox" id=list_id aria-label=label hidden=move || !expanded()>
                {move || {
                    choices
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, choice)| {
                            let text = choice.label();
                            view! {
                                <li
                                    role="option"
                                    id=option_id(i)
                                    class:active=move || active.get() == Some(i)
                                    aria-selected=move || (active.get() == Some(i)).to_string()
                                    // Chosen on mousedown, before the input loses focus.
                                    on:mousedown=move |ev| {
                                        ev.prevent_default();
                                        pick(choice.clone());
                                    }
                                >
                                    {text}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <p class="field-note" aria-live="polite">
                {move || if looking_up.get() { Some("Looking up…".to_owned()) } else { note.get() }}
            </p>
        </div>
    }
}

/// Runs `then` after `ms` milliseconds (in the browser; never on the server).
fn later(ms: i32, then: impl FnOnce() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let callback = Closure::once_into_js(then);
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.unchecked_ref(),
                ms,
            );
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ms, then);
}

/// This server's users whose names match, as people (the panel's search).
#[cfg(feature = "panel")]
async fn search_by_name(
    text: &str,
    server: Option<crate::types::ServerName>,
) -> api::ApiResult<Vec<Person>> {
    let page = api::admin::users(text, 1, OFFERED).await?;
    Ok(page
        .items
        .into_iter()
        .filter(|u| u.is_active)
        .filter_map(|u| {
            let server = server.as_ref()?;
            let causeway_id = CausewayId::parse(&format!("{}@{server}", u.login)).ok()?;
            Some(Person {
                causeway_id,
                display_name: u.display_name,
            })
        })
        .collect())
}

/// The chat bundle has no search by name (only administrators have it, in the
/// panel's bundle).
#[cfg(not(feature = "panel"))]
async fn search_by_name(
    _text: &str,
    _server: Option<crate::types::ServerName>,
) -> api::ApiResult<Vec<Person>> {
    let _ = OFFERED;
    Ok(Vec::new())
}
