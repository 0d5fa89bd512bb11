//! Checks of what clients send, each failing with a 422 that says what is wrong.

use std::collections::HashSet;

use app::types::{AddressBookEntry, Profile, ProfileField};

use crate::auth::password::MAX_PASSWORD_BYTES;
use crate::error::ApiError;
use crate::state::AppState;

/// Most entries an address book may hold.
pub const MAX_ADDRESS_BOOK: usize = 1000;
/// Most ids in one membership edit.
pub const MAX_IDS: usize = 10_000;
const MAX_NAME: usize = 128;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Trims every field and checks lengths and characters; the display name is required.
pub fn profile(mut profile: Profile) -> Result<Profile, ApiError> {
    for field in ProfileField::ALL {
        let value = profile.get_mut(field);
        *value = value.trim().to_owned();
        if value.chars().count() > field.max_len() {
            return Err(ApiError::invalid_input(format!(
                "{} is longer than {} characters.",
                field.label(),
                field.max_len()
            )));
        }
        if has_control(value) {
            return Err(ApiError::invalid_input(format!(
                "{} contains control characters.",
                field.label()
            )));
        }
    }
    if profile.display_name.is_empty() {
        return Err(ApiError::invalid_input("The display name is required."));
    }
    let email = &profile.email;
    if !email.is_empty() {
        let valid = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        }) && !email.contains(char::is_whitespace);
        if !valid {
            return Err(ApiError::invalid_input("The email address is not valid."));
        }
    }
    if !profile
        .phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' ' | '.'))
    {
        return Err(ApiError::invalid_input(
            "The phone number may contain digits, spaces and + - ( ) . only.",
        ));
    }
    Ok(profile)
}

/// A new password must meet the panel's minimum length and fit the hasher's bound.
pub fn new_password(state: &AppState, password: &str) -> Result<(), ApiError> {
    let min = state.settings.security().password_min_length as usize;
    if password.chars().count() < min {
        return Err(ApiError::invalid_input(format!(
            "The password must be at least {min} characters long."
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid_input(format!(
            "The password is longer than {MAX_PASSWORD_BYTES} bytes."
        )));
    }
    Ok(())
}

/// A group name: trimmed, 1–64 characters, no control characters.
pub fn group_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_input("The group name is required."));
    }
    if name.chars().count() > 64 {
        return Err(ApiError::invalid_input(
            "The group name is longer than 64 characters.",
        ));
    }
    if has_control(name) {
        return Err(ApiError::invalid_input(
            "The group name contains control characters.",
        ));
    }
    Ok(name.to_owned())
}

/// Ids for a membership edit, de-duplicated in order.
pub fn ids(ids: Vec<i64>) -> Result<Vec<i64>, ApiError> {
    if ids.len() > MAX_IDS {
        return Err(ApiError::invalid_input(format!(
            "At most {MAX_IDS} ids at once."
        )));
    }
    let mut seen = HashSet::new();
    Ok(ids.into_iter().filter(|id| seen.insert(*id)).collect())
}

/// An address book: bounded, no one twice, names trimmed, and every entry of this
/// server naming an existing user. (Entries of other servers are checked against
/// their server once federation is in place.)
pub async fn address_book(
    state: &AppState,
    mut entries: Vec<AddressBookEntry>,
) -> Result<Vec<AddressBookEntry>, ApiError> {
    if entries.len() > MAX_ADDRESS_BOOK {
        return Err(ApiError::invalid_input(format!(
            "An address book holds at most {MAX_ADDRESS_BOOK} entries."
        )));
    }
    let mut seen = HashSet::new();
    for entry in &mut entries {
        entry.display_name = entry.display_name.trim().to_owned();
        if entry.display_name.chars().count() > MAX_NAME || has_control(&entry.display_name) {
            return Err(ApiError::invalid_input(format!(
                "The name for {} must be at most {MAX_NAME} characters, without control characters.",
                entry.causeway_id
            )));
        }
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
            crate::federation::remote::remote_user(state, id, None).await?;
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Profile {
        Profile {
            display_name: name.to_owned(),
            ..Profile::default()
        }
    }

    #[test]
    fn profiles() {
        let ok = profile(Profile {
            email: " wolf@corp.example ".into(),
            phone: "+49 (30) 123-45.6".into(),
            ..named("  Wolf ")
        })
        .unwrap();
        assert_eq!(ok.display_name, "Wolf");
        assert_eq!(ok.email, "wolf@corp.example");
        assert!(profile(named("   ")).is_err());
        assert!(profile(named(&"x".repeat(129))).is_err());
        assert!(profile(named("a\u{7}b")).is_err());
        assert!(
            profile(Profile {
                email: "no-at".into(),
                ..named("W")
            })
            .is_err()
        );
        assert!(
            profile(Profile {
                email: "a@b".into(),
                ..named("W")
            })
            .is_err()
        );
        assert!(
            profile(Profile {
                phone: "call me".into(),
                ..named("W")
            })
            .is_err()
        );
    }

    #[test]
    fn group_names_and_ids() {
        assert_eq!(group_name("  Operators ").unwrap(), "Operators");
        assert!(group_name("").is_err());
        assert!(group_name(&"g".repeat(65)).is_err());
        assert_eq!(ids(vec![3, 1, 3, 2, 1]).unwrap(), vec![3, 1, 2]);
        assert!(ids(vec![0; MAX_IDS + 1]).is_err());
    }
}
