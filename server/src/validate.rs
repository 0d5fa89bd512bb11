//! Checks of what clients send, each failing with a 422 that says what is wrong.

use std::collections::HashSet;

use app::types::{Profile, ProfileField};

use crate::error::ApiError;

/// Most entries an address book may hold.
pub const MAX_ADDRESS_BOOK: usize = 1000;
/// Most ids in one membership edit.
pub const MAX_IDS: usize = 10_000;
pub const MAX_NAME: usize = 128;

/// Control characters (C0 with NUL, DEL, C1). PostgreSQL refuses NUL in `text`
/// and SQLite stores it; both backends must answer alike, so text is checked here.
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Bidirectional overrides, embeddings and isolates (U+202A–U+202E,
/// U+2066–U+2069): they make a name read differently from what it is (an
/// `exe.txt` that shows as `txt.exe`), and right-to-left names need none of them.
fn has_bidi_control(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

/// A name or title people see beside someone's words (display names, group
/// names, chat titles, address-book names): no control characters, no bidi
/// controls. `what` starts the message ("The group name").
pub fn name_text(what: &str, text: &str) -> Result<(), ApiError> {
    if has_control(text) {
        return Err(ApiError::invalid_input(format!(
            "{what} contains control characters."
        )));
    }
    if has_bidi_control(text) {
        return Err(ApiError::invalid_input(format!(
            "{what} contains bidirectional control characters (U+202A–U+202E, U+2066–U+2069)."
        )));
    }
    Ok(())
}

/// A message's text: line breaks and tabs (`\n`, `\r`, `\t`) are kept, any other
/// control character is refused.
pub fn message_text(text: &str) -> Result<(), ApiError> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::invalid_input(
            "The message contains control characters (only line breaks and tabs are allowed).",
        ));
    }
    Ok(())
}

/// One-line text a client searches or filters by: no control characters.
/// `what` starts the message ("The search text").
pub fn line_text(what: &str, text: &str) -> Result<(), ApiError> {
    if has_control(text) {
        return Err(ApiError::invalid_input(format!(
            "{what} contains control characters."
        )));
    }
    Ok(())
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
        name_text(field.label(), value)?;
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

/// Longest password accepted, in bytes: long enough for any passphrase, short
/// enough that hashing it costs nothing extra.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A new password must be at least `min` characters (the panel's minimum) and
/// fit the hasher's bound.
pub fn new_password(min: usize, password: &str) -> Result<(), ApiError> {
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
    name_text("The group name", name)?;
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
        assert!(profile(named("a\u{0}b")).is_err());
        assert!(profile(named("evil\u{202E}gpj.exe")).is_err());
        assert!(profile(named("\u{2066}x\u{2069}")).is_err());
        // Right-to-left scripts need no bidi controls and are welcome.
        assert!(profile(named("שלום")).is_ok());
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
        assert!(group_name("g\u{0}").is_err());
        assert!(group_name("g\u{202D}").is_err());
        assert_eq!(ids(vec![3, 1, 3, 2, 1]).unwrap(), vec![3, 1, 2]);
        assert!(ids(vec![0; MAX_IDS + 1]).is_err());
    }

    #[test]
    fn message_and_line_texts() {
        assert!(message_text("two\nlines\r\n\tindented").is_ok());
        assert!(message_text("nul\u{0}").is_err());
        assert!(message_text("bell\u{7}").is_err());
        assert!(message_text("c1\u{85}").is_err());
        assert!(line_text("The search text", "a\tb").is_err());
        assert!(line_text("The search text", "plain").is_ok());
    }
}
