//! `/`: the person's contacts — group address books and their personal one, merged.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::{self, ApiFailure};
use crate::components::{
    Avatar, ErrorNotice, Find, Frame, Loading, Me, PeoplePicker, Picked, Section, later,
};
use crate::types::{AddressBook, AddressBookEntry, CausewayId, Contact, ContactSource, Contacts};

#[component]
pub fn ContactsPage() -> impl IntoView {
    view! {
        <Title text="Contacts" />
        <Frame section=Section::Contacts>
            <main id="main" tabindex="-1" class="content">
                <ContactsBody />
            </main>
        </Frame>
    }
}

/// How many contacts a page shows.
const PER_PAGE: u32 = 50;

/// Waits this long after the last key before searching.
const PAUSE_MS: i32 = 250;

#[component]
fn ContactsBody() -> impl IntoView {
    let Me(me) = expect_context::<Me>();
    // What is typed, and what was asked for once typing paused.
    let typed = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(1_u32);
    let contacts = LocalResource::new(move || {
        let (text, page) = (search.get(), page.get());
        async move { api::contacts(&text, page, PER_PAGE).await }
    });
    let save = Action::new_local(|book: &AddressBook| {
        let book = book.clone();
        async move { api::set_personal_address_book(&book).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            contacts.refetch();
        }
    });
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        typed.set(text.clone());
        later(PAUSE_MS, move || {
            if typed.get_untracked() == text {
                page.set(1);
                search.set(text.trim().to_owned());
            }
        });
    };

    view! {
        <div class="page-head">
            <h1>"Contacts"</h1>
            {move || {
                me.get()
                    .and_then(Result::ok)
                    .map(|u| {
                        view! {
                            <p class="muted">
                                "Signed in as " {u.display_name} " · " <code>{u.causeway_id.to_string()}</code>
                            </p>
                        }
                    })
            }}
        </div>
        <div class="field contacts-search">
            <label for="contacts-search">"Find a contact"</label>
            <input id="contacts-search" type="search" placeholder="Name or ID" maxlength="100" prop:value=move || typed.get() on:input=on_input />
        </div>
        <Transition fallback=|| view! { <Loading what="contacts" /> }>
            {move || {
                contacts
                    .get()
                    .map(|result| match result {
                        Ok(data) => view! { <ContactList data save search page /> }.into_any(),
                        Err(failure) => view! { <ErrorNotice failure /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn ContactList(
    data: Contacts,
    save: Action<AddressBook, Result<Contacts, ApiFailure>>,
    search: RwSignal<String>,
    page: RwSignal<u32>,
) -> impl IntoView {
    let Contacts {
        contacts,
        total,
        page: shown_page,
        per_page,
        can_edit_personal,
        personal,
    } = data;
    let searching = !search.get_untracked().is_empty();
    let first = (shown_page - 1) * per_page + 1;
    let last = first + u32::try_from(contacts.len()).unwrap_or(0) - 1;
    let more = last < total;
    view! {
        <section class="card" aria-labelledby="people-heading">
            <div class="card-head">
                <h2 id="people-heading">"People"</h2>
                {(total > 0).then(|| view! { <span class="muted" aria-live="polite">{format!("{first}–{last} of {total}")}</span> })}
            </div>
            {if contacts.is_empty() && searching {
                view! {
                    <p class="empty">
                        {format!("No contact matches “{}”. ", search.get_untracked())}
                        "Try part of a name or an ID."
                    </p>
                }
                    .into_any()
            } else if contacts.is_empty() {
                view! {
                    <p class="empty">
                        "No contacts yet. Your administrator adds people to your group's address book"
                        {if can_edit_personal { "; you can also add people yourself below." } else { "." }}
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="people" aria-label="Contacts">
                        {contacts.into_iter().map(|c| view! { <ContactRow contact=c /> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            {(shown_page > 1 || more).then(|| view! {
                <nav class="pager" aria-label="Contact pages">
                    <button type="button" class="button subtle" disabled=shown_page <= 1 on:click=move |_| page.set(shown_page - 1)>"Previous"</button>
                    <span class="muted">{format!("Page {shown_page} of {}", total.div_ceil(per_page))}</span>
                    <button type="button" class="button subtle" disabled=!more on:click=move |_| page.set(shown_page + 1)>"Next"</button>
                </nav>
            })}
        </section>
        <PersonalBook entries=personal can_edit=can_edit_personal save />
    }
}

/// Opens (or makes) the direct chat with someone and goes there.
fn message_button(person: CausewayId, name: String) -> impl IntoView {
    let navigate = use_navigate();
    let open = Action::new_local(move |_: &()| {
        let person = person.clone();
        async move { api::open_direct_chat(person).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(chat)) = open.value().get() {
            navigate(&format!("/chats/{}", chat.id), Default::default());
        }
    });
    view! {
        <button
            type="button"
            class="button small"
            aria-label=format!("Message {name}")
            disabled=move || open.pending().get()
            on:click=move |_| {
                open.dispatch(());
            }
        >
            "Message"
        </button>
        {move || open.value().get().and_then(Result::err).map(|f| view! { <span class="form-error" role="alert">{f.message}</span> })}
    }
}

#[component]
fn ContactRow(contact: Contact) -> impl IntoView {
    let sources = contact
        .sources
        .iter()
        .map(|s| match s {
            ContactSource::Group { name } => format!("Group: {name}"),
            ContactSource::Personal => "Personal".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let server = (!contact.is_local).then(|| contact.causeway_id.server.to_string());
    let presence = if contact.online { "Online" } else { "Offline" };
    view! {
        <li class="person">
            <span class="avatar-with-presence">
                <Avatar name=contact.display_name.clone() url=contact.avatar_url.clone() />
                <span class="presence" class:online=contact.online title=presence>
                    <span class="visually-hidden">{presence}</span>
                </span>
            </span>
            <span class="person-main">
                <span class="person-name">
                    {contact.display_name.clone()}
                    {server.map(|s| view! { <span class="badge" title="On another server">{s}</span> })}
                </span>
                <span class="person-id">{contact.causeway_id.to_string()}</span>
            </span>
            <span class="person-source muted">{sources}</span>
            {message_button(contact.causeway_id.clone(), contact.display_name.clone())}
        </li>
    }
}

#[component]
fn PersonalBook(
    entries: Vec<AddressBookEntry>,
    can_edit: bool,
    save: Action<AddressBook, Result<Contacts, ApiFailure>>,
) -> impl IntoView {
    let entries = StoredValue::new(entries);
    let taken = Signal::derive(move || {
        entries.with_value(|list| list.iter().map(|e| e.causeway_id.clone()).collect())
    });
    let on_pick = Callback::new(move |picked: Picked| {
        let mut list = entries.get_value();
        list.push(AddressBookEntry {
            causeway_id: picked.person.causeway_id,
            display_name: String::new(),
            person_name: picked.person.display_name,
        });
        save.dispatch(AddressBook { entries: list });
    });
    let remove = move |index: usize| {
        let mut list = entries.get_value();
        if index < list.len() {
            list.remove(index);
        }
        save.dispatch(AddressBook { entries: list });
    };

    view! {
        <section class="card" aria-labelledby="personal-heading">
            <h2 id="personal-heading">"My address book"</h2>
            {if !can_edit {
                view! {
                    <p class="muted">
                        "Your personal address book is read-only: editing it needs the right “Edit the address book”."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="plain-list" aria-label="My address book">
                        {entries
                            .get_value()
                            .into_iter()
                            .enumerate()
                            .map(|(i, e)| {
                                let label = format!("Remove {}", e.causeway_id);
                                view! {
                                    <li class="row">
                                        <span>
                                            <strong>{e.shown_name()}</strong>
                                            " " <span class="muted">{e.causeway_id.to_string()}</span>
                                        </span>
                                        <button type="button" class="button subtle small" aria-label=label on:click=move |_| remove(i)>
                                            "Remove"
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    <PeoplePicker id="personal-person" label="Add a person by ID" find=Find::Ids taken on_pick />
                    <div role="alert" class="form-error">
                        {move || save.value().get().and_then(Result::err).map(|f| view! { <p>{f.message}</p> })}
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}
