//! A people picker: a combobox that finds a person and hands them to the page.
//!
//! Every search asks the server for a few people at a time, so it works with
//! any number of them. Administrators find this server's users by name (the
//! panel's user search); everyone finds people in their own contacts by name.
//! Where people outside one's contacts may be chosen (address books), anyone
//! finds a person by their full Causeway ID, local or of another server: the
//! server looks the ID up (asking the other server) and answers with the
//! person's name. Nobody but an administrator gets a list of names they did
//! not type.

use leptos::prelude::*;

use crate::api;
use crate::components::Me;
use crate::types::{CausewayId, Person};

/// Where a picker finds people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// Anyone, by full ID only (looked up on their server).
    Ids,
    /// This server's users by name (administrators: the panel's search), and
    /// anyone by full ID.
    UsersAndIds,
    /// This server's users by name only; picks carry the user's number.
    Users,
    /// The signed-in person's contacts, by name or ID; shown on focus too.
    Contacts,
}

impl Find {
    fn by_name(self) -> bool {
        self != Find::Ids
    }

    fn looks_up_ids(self) -> bool {
        matches!(self, Find::Ids | Find::UsersAndIds)
    }
}

/// A person picked, with their user number when they are a user of this
/// server found by an administrator's search.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub person: Person,
    pub user_id: Option<i64>,
}

/// What the list offers: a person found, or an ID to look up.
#[derive(Debug, Clone, PartialEq)]
enum Choice {
    Found(Picked),
    LookUp(CausewayId),
}

impl Choice {
    fn label(&self) -> String {
        match self {
            Choice::Found(p) => format!("{} — {}", p.person.display_name, p.person.causeway_id),
            Choice::LookUp(id) => format!("Look up {id}"),
        }
    }

    fn who(&self) -> &CausewayId {
        match self {
            Choice::Found(p) => &p.person.causeway_id,
            Choice::LookUp(id) => id,
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
    find: Find,
    /// People already chosen: not offered again.
    #[prop(into)]
    taken: Signal<Vec<CausewayId>>,
    on_pick: Callback<Picked>,
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
                        on_pick.run(Picked {
                            person,
                            user_id: None,
                        });
                    }
                    Err(failure) => note.set(Some(failure.message)),
                }
            });
        }
    };
    // Offers `list` but the people already chosen; `false` when none is left.
    let offer = move |list: Vec<Choice>| {
        let taken = taken.get_untracked();
        let list: Vec<Choice> = list
            .into_iter()
            .filter(|c| !taken.contains(c.who()))
            .collect();
        let any = !list.is_empty();
        active.set(any.then_some(0));
        choices.set(list);
        any
    };
    // Searches by name after a pause; an empty text lists the first contacts.
    let search = move |text: String, ticket: u64, pause: i32| {
        let server = my_server();
        later(pause, move || {
            if asked.get_value() != ticket {
                return;
            }
            leptos::task::spawn_local(async move {
                let found = search_by_name(find, &text, server).await;
                if asked.get_value() != ticket {
                    return;
                }
                match found {
                    Ok(people) if people.is_empty() => {
                        choices.set(Vec::new());
                        note.set(Some(nobody_found(find, &text)));
                    }
                    Ok(people) => {
                        if !offer(people.into_iter().map(Choice::Found).collect()) {
                            note.set(Some(format!(
                                "Everyone matching “{text}” is already in the list."
                            )));
                        }
                    }
                    Err(failure) => note.set(Some(failure.message)),
                }
            });
        });
    };
    let ask = move |text: String| {
        query.set(text.clone());
        note.set(None);
        let ticket = asked.get_value() + 1;
        asked.set_value(ticket);
        let text = text.trim().to_owned();
        if text.is_empty() {
            choices.set(Vec::new());
            if find == Find::Contacts {
                search(text, ticket, 0);
            }
        } else if let (true, Ok(causeway_id)) = (find.looks_up_ids(), CausewayId::parse(&text)) {
            if !offer(vec![Choice::LookUp(causeway_id)]) {
                note.set(Some(format!("{text} is already in the list.")));
            }
        } else if find.by_name() {
            search(text, ticket, PAUSE_MS);
        } else {
            choices.set(Vec::new());
            note.set(Some(
                "Type the person's full ID, such as moore@guest.example.".to_owned(),
            ));
        }
    };
    let on_input = move |ev: leptos::ev::Event| ask(event_target_value(&ev));
    let on_focus = move |_| {
        if find == Find::Contacts && query.with_untracked(|q| q.trim().is_empty()) {
            ask(String::new());
        }
    };
    let on_blur = move |_| {
        // Leaving the field closes the list (a pick happens on mousedown, before).
        asked.set_value(asked.get_value() + 1);
        choices.set(Vec::new());
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
                choices.set(Vec::new());
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
                placeholder=match find {
                    Find::Ids => "moore@guest.example",
                    Find::UsersAndIds => "Name, login or moore@guest.example",
                    Find::Users => "Name or login",
                    Find::Contacts => "Name or ID",
                }
                prop:value=move || query.get()
                on:input=on_input
                on:focus=on_focus
                on:blur=on_blur
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
pub fn later(ms: i32, then: impl FnOnce() + 'static) {
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

/// What the note says when a search by name finds no one.
fn nobody_found(find: Find, text: &str) -> String {
    match find {
        Find::Contacts if text.is_empty() => {
            "Your contacts are empty: your administrator adds people to your address book."
                .to_owned()
        }
        Find::Contacts => format!("None of your contacts matches “{text}”."),
        Find::Users => format!("No one on this server matches “{text}”."),
        Find::UsersAndIds | Find::Ids => format!(
            "No one on this server matches “{text}”. For someone of another server, type their full ID, such as moore@guest.example."
        ),
    }
}

/// The people whose names match `text`, a few at a time: the person's
/// contacts, or this server's active users (the panel's search).
async fn search_by_name(
    find: Find,
    text: &str,
    server: Option<crate::types::ServerName>,
) -> api::ApiResult<Vec<Picked>> {
    if find == Find::Contacts {
        let page = api::contacts(text, 1, OFFERED).await?;
        return Ok(page
            .contacts
            .into_iter()
            .map(|c| Picked {
                person: Person {
                    causeway_id: c.causeway_id,
                    display_name: c.display_name,
                },
                user_id: None,
            })
            .collect());
    }
    users_by_name(text, server).await
}

/// This server's active users whose names match (administrators only).
async fn users_by_name(
    text: &str,
    server: Option<crate::types::ServerName>,
) -> api::ApiResult<Vec<Picked>> {
    let page = api::admin::users(text, 1, OFFERED).await?;
    Ok(page
        .items
        .into_iter()
        .filter(|u| u.is_active)
        .filter_map(|u| {
            let server = server.as_ref()?;
            let causeway_id = CausewayId::parse(&format!("{}@{server}", u.login)).ok()?;
            Some(Picked {
                person: Person {
                    causeway_id,
                    display_name: u.display_name,
                },
                user_id: Some(u.id),
            })
        })
        .collect())
}

/// Several people chosen from one's contacts: the picker, and below it the
/// people chosen so far, each with a way to take them out again.
#[component]
pub fn PickPeople(
    id: &'static str,
    label: &'static str,
    chosen: RwSignal<Vec<Person>>,
    /// People who may not be chosen (already in the chat).
    #[prop(optional, into)]
    exclude: Signal<Vec<CausewayId>>,
) -> impl IntoView {
    let taken = Signal::derive(move || {
        let mut ids = exclude.get();
        chosen.with(|c| ids.extend(c.iter().map(|p| p.causeway_id.clone())));
        ids
    });
    let on_pick = Callback::new(move |picked: Picked| chosen.update(|c| c.push(picked.person)));
    view! {
        <PeoplePicker id label find=Find::Contacts taken on_pick />
        <ul class="chosen-people" aria-label="Chosen people" hidden=move || chosen.with(Vec::is_empty)>
            {move || {
                chosen
                    .get()
                    .into_iter()
                    .map(|person| {
                        let who = person.causeway_id.clone();
                        view! {
                            <li class="chip">
                                <span>{person.display_name.clone()}</span>
                                <button
                                    type="button"
                                    class="chip-remove"
                                    aria-label=format!("Remove {}", person.display_name)
                                    on:click=move |_| chosen.update(|c| c.retain(|p| p.causeway_id != who))
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
