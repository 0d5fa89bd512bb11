//! Address books as a user sees them: `GET /api/v1/contacts` merges the address
//! books of the user's groups with their personal one; the personal one is
//! editable with the *Edit the address book* right.

use app::types::ApiErrorBody;
use std::collections::HashMap;

use app::types::{
    AddressBook, AddressBookEntry, CausewayId, Contact, ContactSource, Contacts, Person, Right,
};
use axum::extract::State;
use std::collections::HashSet;

use crate::error::{ApiError, Json, Query};
use crate::http::admin::{entries as admin_entries, named_entries};
use crate::http::avatars;
use crate::http::extract::AuthUser;
use crate::http::paging::{Page, PageQuery};
use crate::http::state::AppState;
use crate::rights;
use crate::validate;

/// How many contacts a page holds unless the client asks for another number.
const CONTACTS_PER_PAGE: u32 = 100;

async fn contacts(
    state: &AppState,
    user: &AuthUser,
    asked: Page<'_>,
) -> Result<Contacts, ApiError> {
    let store = &state.store;
    let groups = store.effective_groups(user.user.id).await?;
    let group_rows = store.effective_group_address_books(user.user.id).await?;
    let personal = named_entries(state, store.personal_address_book(user.user.id).await?).await?;
    let mates = store.group_mates(user.user.id).await?;
    let me = user.causeway_id(state);
    let group_source = |id: Option<i64>| {
        groups
            .iter()
            .find(|g| Some(g.id) == id)
            .map(|g| ContactSource::Group {
                name: g.name.clone(),
            })
    };

    let mut merged: Vec<Contact> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // Members of groups whose members see each other: known local users, so
    // their names and photos come with them.
    for mate in mates {
        let Some(source) = group_source(Some(mate.group_id)) else {
            continue;
        };
        let Ok(causeway_id) =
            CausewayId::parse(&format!("{}@{}", mate.login, state.config.server_name))
        else {
            continue;
        };
        let key = causeway_id.to_string();
        index.insert(key.clone(), merged.len());
        merged.push(Contact {
            online: state.hub.is_online(&key),
            causeway_id,
            display_name: mate.display_name,
            is_local: true,
            avatar_url: mate.avatar.as_deref().map(avatars::url),
            sources: vec![source],
        });
    }
    let group_entries = group_rows.into_iter().filter_map(|row| {
        let source = group_source(row.group_id)?;
        admin_entries(vec![row]).pop().map(|entry| (entry, source))
    });
    let personal_entries = personal
        .iter()
        .cloned()
        .map(|e| (e, ContactSource::Personal));
    for (entry, source) in group_entries.chain(personal_entries) {
        if entry.causeway_id == me {
            continue;
        }
        let key = entry.causeway_id.to_string();
        match index.get(&key) {
            Some(&i) => {
                let contact = &mut merged[i];
                // The person's own choice of name (personal book) wins over a group's.
                if source == ContactSource::Personal && !entry.display_name.is_empty() {
                    contact.display_name = entry.display_name.clone();
                }
                if !contact.sources.contains(&source) {
                    contact.sources.push(source);
                }
            }
            None => {
                let is_local = entry.causeway_id.server == state.config.server_name;
                let local_user = if is_local {
                    match store
                        .user_by_login(entry.causeway_id.login.as_str())
                        .await?
                    {
                        Some(u) => Some(u),
                        // Deleted since it was listed: not a contact any more.
                        None => continue,
                    }
                } else {
                    None
                };
                let display_name = match (&local_user, entry.display_name.is_empty()) {
                    (_, false) => entry.display_name.clone(),
                    (Some(u), true) => u.display_name.clone(),
                    (None, true) => match store.remote_profile(&key).await? {
                        Some(known) => known.display_name,
                        None => entry.causeway_id.login.to_string(),
                    },
                };
                let avatar_url = local_user
                    .as_ref()
                    .and_then(|u| u.avatar.as_deref())
                    .map(avatars::url);
                let online = if is_local {
                    state.hub.is_online(&key)
                } else {
                    state.federation.is_remote_online(&key)
                };
                index.insert(key, merged.len());
                merged.push(Contact {
                    causeway_id: entry.causeway_id,
                    display_name,
                    is_local,
                    avatar_url,
                    sources: vec![source],
                    online,
                });
            }
        }
    }
    let needle = asked.search.to_lowercase();
    merged.retain(|c| {
        needle.is_empty()
            || c.display_name.to_lowercase().contains(&needle)
            || c.causeway_id.to_string().contains(&needle)
    });
    merged.sort_by_key(|c| (c.display_name.to_lowercase(), c.causeway_id.to_string()));
    Ok(Contacts {
        total: u32::try_from(merged.len()).unwrap_or(u32::MAX),
        page: asked.page,
        per_page: asked.per_page,
        contacts: asked.of(merged),
        can_edit_personal: rights::has(store, user.user.id, Right::EditAddressBook).await?,
        personal,
    })
}

/// `GET /api/v1/contacts?search=&page=&per_page=` — a signed-in user. Group and
/// personal address books merged, each person once, sorted by name; those whose
/// name or ID contains `search`, `per_page` (1–100, default 100) at a time.
#[utoipa::path(
    get,
    path = "/api/v1/contacts",
    params(PageQuery),
    responses((status = 200, body = Contacts), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user"))),
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<Contacts>, ApiError> {
    let asked = query.checked(CONTACTS_PER_PAGE)?;
    Ok(Json(contacts(&state, &user, asked).await?))
}

/// `PUT /api/v1/me/address-book` — a user with *Edit the address book*. Replaces
/// their personal address book; the right is checked in the same transaction.
#[utoipa::path(
    put,
    path = "/api/v1/me/address-book",
    request_body = AddressBook,
    responses((status = 200, body = Contacts), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user:edit_address_book"))),
)]
pub async fn set_personal(
    State(state): State<AppState>,
    user: AuthUser,
    Json(request): Json<AddressBook>,
) -> Result<Json<Contacts>, ApiError> {
    let refusal = || {
        ApiError::forbidden(
            "You may not edit your address book: that needs the right \"Edit the address book\".",
        )
    };
    // Refuse early, before looking at the book; the write checks again in its transaction.
    if !rights::has(&state.store, user.user.id, Right::EditAddressBook).await? {
        return Err(refusal());
    }
    let entries = checked_address_book(&state, request.entries).await?;
    if !state
        .store
        .set_personal_address_book(user.user.id, &entries)
        .await?
    {
        return Err(refusal());
    }
    let detail_text = format!("{} entries", entries.len());
    state
        .audit
        .record(
            &user.actor(),
            "account.address_book",
            Some(&user.user.login),
            Some(&detail_text),
        )
        .await;
    Ok(Json(
        contacts(&state, &user, Page::first(CONTACTS_PER_PAGE)).await?,
    ))
}

/// An address book: bounded, no one twice, names trimmed, and every entry of this
/// server naming an existing user. Entries of other servers are looked up
/// there, once each.
pub(crate) async fn checked_address_book(
    state: &AppState,
    mut entries: Vec<AddressBookEntry>,
) -> Result<Vec<AddressBookEntry>, ApiError> {
    if entries.len() > validate::MAX_ADDRESS_BOOK {
        return Err(ApiError::invalid_input(format!(
            "An address book holds at most {} entries.",
            validate::MAX_ADDRESS_BOOK
        )));
    }
    let mut seen = HashSet::new();
    for entry in &mut entries {
        entry.display_name = entry.display_name.trim().to_owned();
        if entry.display_name.chars().count() > validate::MAX_NAME {
            return Err(ApiError::invalid_input(format!(
                "The name for {} must be at most {} characters.",
                entry.causeway_id,
                validate::MAX_NAME
            )));
        }
        validate::name_text(
            &format!("The name for {}", entry.causeway_id),
            &entry.display_name,
        )?;
        if !seen.insert(entry.causeway_id.clone()) {
            return Err(ApiError::invalid_input(format!(
                "{} is listed twice.",
                entry.causeway_id
            )));
        }
        if entry.causeway_id.server == state.config.server_name
            && state
                .store
                .user_by_login(entry.causeway_id.login.as_str())
                .await?
                .is_none()
        {
            return Err(ApiError::invalid_input(format!(
                "There is no user {} on this server.",
                entry.causeway_id
            )));
        }
    }
    // People of other servers are looked up there (once each: those already
    // confirmed are not asked again at every save of the book).
    for entry in &entries {
        let id = &entry.causeway_id;
        if id.server != state.config.server_name
            && state.store.remote_profile(&id.to_string()).await?.is_none()
        {
            crate::federation::client::remote_user(&state.peers(), id, None).await?;
        }
    }
    Ok(entries)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    id: String,
}

/// `GET /api/v1/people/lookup?id=` — administrators, and users with *Edit the
/// address book*. The person with that Causeway ID and their name: a user of
/// this server, or one of another server asked there (as an address-book entry
/// is checked when it is saved). Nobody else's name is ever listed: the caller
/// must know the ID.
#[utoipa::path(
    get,
    path = "/api/v1/people/lookup",
    params(("id" = String, Query, description = "A Causeway ID, e.g. moore@guest.example")),
    responses((status = 200, body = Person), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "account",
    extensions(("x-causeway-access" = json!("user:edit_address_book"))),
)]
pub async fn lookup(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<LookupQuery>,
) -> Result<Json<Person>, ApiError> {
    if !user.user.is_admin
        && !rights::has(&state.store, user.user.id, Right::EditAddressBook).await?
    {
        return Err(ApiError::forbidden(
            "Looking people up is for editing an address book: that needs the right \"Edit the address book\".",
        ));
    }
    let text = query.id.trim();
    if text.len() > 256 {
        return Err(ApiError::invalid_input(
            "A Causeway ID is at most 256 characters.",
        ));
    }
    let causeway_id = CausewayId::parse(text).map_err(|e| {
        ApiError::invalid_input(format!(
            "Enter a Causeway ID such as moore@guest.example ({e})."
        ))
    })?;
    let display_name = if causeway_id.server == state.config.server_name {
        match state
            .store
            .user_by_login(causeway_id.login.as_str())
            .await?
        {
            Some(found) if found.is_active => found.display_name,
            _ => {
                return Err(ApiError::invalid_input(format!(
                    "There is no user {causeway_id} on this server."
                )));
            }
        }
    } else {
        crate::federation::client::remote_user(&state.peers(), &causeway_id, None)
            .await?
            .display_name
    };
    Ok(Json(Person {
        causeway_id,
        display_name,
    }))
}
