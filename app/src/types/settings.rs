//! Settings edited live in the control panel.

use serde::{Deserialize, Serialize};

use super::{ProfileField, ServerName};

/// Users → Settings: passwords, sign-in protection and session lifetimes.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Shortest password an administrator or user may set.
    pub password_min_length: u32,
    /// Consecutive failed sign-ins that lock an account.
    pub lockout_threshold: u32,
    /// How long such a lock lasts, unless an administrator unlocks the account.
    pub lockout_minutes: u32,
    /// Failed sign-ins from one client address, within the lock-out time, after
    /// which that address may not try again until the lock-out time has passed.
    pub address_threshold: u32,
    /// A browser session (no "Remember me") ends after this many idle minutes.
    pub idle_timeout_minutes: u32,
    /// A browser session ends this many hours after sign-in.
    pub absolute_timeout_hours: u32,
    /// A "Remember me" session ends this many days after sign-in.
    pub remember_me_days: u32,
}

impl SecuritySettings {
    pub const PASSWORD_MIN_LENGTH: std::ops::RangeInclusive<u32> = 8..=128;

    /// What is wrong with these values, if anything, for people to read.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, what: &str| {
            if !ok {
                problems.push(what.to_owned());
            }
        };
        check(
            Self::PASSWORD_MIN_LENGTH.contains(&self.password_min_length),
            "The minimum password length must be from 8 to 128.",
        );
        check(
            (1..=100).contains(&self.lockout_threshold),
            "The lock-out threshold must be from 1 to 100 failed sign-ins.",
        );
        check(
            (1..=10_000).contains(&self.address_threshold),
            "The per-address threshold must be from 1 to 10000 failed sign-ins.",
        );
        check(
            (1..=10_080).contains(&self.lockout_minutes),
            "The lock-out must last from 1 minute to 7 days.",
        );
        check(
            (5..=43_200).contains(&self.idle_timeout_minutes),
            "The idle timeout must be from 5 minutes to 30 days.",
        );
        check(
            (1..=8_760).contains(&self.absolute_timeout_hours),
            "The absolute timeout must be from 1 hour to 365 days.",
        );
        check(
            (1..=365).contains(&self.remember_me_days),
            "\"Remember me\" must last from 1 to 365 days.",
        );
        problems
    }
}

/// Chat limits set in the control panel.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSettings {
    /// Longest message, in characters.
    pub max_message_chars: u32,
    /// How long after sending people may edit or delete their own messages.
    pub edit_window_hours: u32,
    /// Whom people of other servers may start chats with, or add to chats.
    #[serde(default)]
    pub outsiders_reach: OutsiderReach,
}

/// Users → Settings → Chats: "People of other servers may start chats with".
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutsiderReach {
    /// Any active user of this server.
    Everyone,
    /// Only people whose address book (personal, or one of their groups')
    /// lists them. To everyone else, such a person seems not to exist.
    #[default]
    AddressBook,
}

impl OutsiderReach {
    pub const ALL: [OutsiderReach; 2] = [OutsiderReach::AddressBook, OutsiderReach::Everyone];

    pub fn as_str(self) -> &'static str {
        match self {
            OutsiderReach::Everyone => "everyone",
            OutsiderReach::AddressBook => "address_book",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OutsiderReach::Everyone => "Everyone",
            OutsiderReach::AddressBook => "Only people whose address book lists them",
        }
    }
}

impl ChatSettings {
    /// What is wrong with these values, if anything, for people to read.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=100_000).contains(&self.max_message_chars) {
            problems.push("A message may be from 1 to 100000 characters long.".to_owned());
        }
        if !(1..=8_760).contains(&self.edit_window_hours) {
            problems.push("The edit window is from 1 hour to 365 days.".to_owned());
        }
        problems
    }
}

/// Users → Settings → Display Fields: the profile fields of this server's users
/// that federated servers may see. The login (Causeway ID) is always visible.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayFields {
    pub fields: Vec<ProfileField>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FederationMode {
    Disabled,
    AllowAll,
    Whitelist,
}

impl FederationMode {
    pub const ALL: [FederationMode; 3] = [
        FederationMode::Disabled,
        FederationMode::AllowAll,
        FederationMode::Whitelist,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FederationMode::Disabled => "Disabled",
            FederationMode::AllowAll => "Allowed for all servers",
            FederationMode::Whitelist => "Allowed for whitelisted servers",
        }
    }
}

/// A server on the white list.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhitelistEntry {
    pub server_name: ServerName,
    /// Where to reach it (`https://host:port`), when not at its name.
    #[serde(default)]
    pub address: Option<String>,
    /// SHA-256 fingerprint of its signing key, hex; when set, no other key is accepted.
    #[serde(default)]
    pub key_fingerprint: Option<String>,
}

/// The Federation page.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSettings {
    pub mode: FederationMode,
    pub whitelist: Vec<WhitelistEntry>,
}

impl FederationSettings {
    pub const MAX_WHITELIST: usize = 1000;

    /// What is wrong with these settings, if anything, for people to read.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.whitelist.len() > Self::MAX_WHITELIST {
            problems.push(format!(
                "The white list holds at most {} servers.",
                Self::MAX_WHITELIST
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for entry in &self.whitelist {
            if !seen.insert(&entry.server_name) {
                problems.push(format!("{} is on the white list twice.", entry.server_name));
            }
            if let Some(address) = &entry.address {
                let valid = (address.starts_with("https://") || address.starts_with("http://"))
                    && address.len() <= 300
                    && !address.contains(|c: char| c.is_whitespace() || c.is_control());
                if !valid {
                    problems.push(format!(
                        "The address of {} must be an http:// or https:// URL.",
                        entry.server_name
                    ));
                }
            }
            if let Some(fingerprint) = &entry.key_fingerprint {
                let valid =
                    fingerprint.len() == 64 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit());
                if !valid {
                    problems.push(format!(
                        "The key fingerprint of {} must be 64 hexadecimal digits (SHA-256).",
                        entry.server_name
                    ));
                }
            }
        }
        problems
    }
}

/// The Federation page's view of this server and its peers.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationStatus {
    pub server_name: ServerName,
    /// The current signing key's id and fingerprint (what other servers may pin).
    pub key_id: String,
    pub key_fingerprint: String,
    pub peers: Vec<PeerStatus>,
}

/// How delivery to one other server goes.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatus {
    pub server_name: ServerName,
    /// Does this server's federation setting allow it?
    pub allowed: bool,
    /// Did the last request to it get an answer (a delivery, a look-up, a
    /// file, typing)? `None` before the first.
    pub reachable: Option<bool>,
    /// Chat events waiting to be delivered there.
    pub queue: i64,
    /// Deliveries that failed in a row.
    pub failures: i64,
    /// Why the last request that got no answer failed, and when.
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// When it last answered a request of this server.
    pub last_success_at: Option<i64>,
    /// When a signed request from it last arrived here.
    #[serde(default)]
    pub last_heard_at: Option<i64>,
}

/// One line of the audit log.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// The login of who did it (`None`: the server itself, or an unknown user).
    pub actor: Option<String>,
    /// The client address the request came from.
    pub address: Option<String>,
    /// What happened, e.g. `sign_in.failure`, `user.create`, `group.rights`.
    pub action: String,
    /// What it was done to, e.g. a login or a group name.
    pub target: Option<String>,
    /// More about it, for people.
    pub detail: Option<String>,
}

impl AuditEntry {
    /// What happened, as an administrator reads it ("User deactivated"); an
    /// action this client does not know shows as it is stored.
    pub fn action_name(&self) -> &str {
        audit_action_name(&self.action)
    }
}

/// The audit log's actions, as an administrator reads them.
pub fn audit_action_name(action: &str) -> &str {
    match action {
        "sign_in.success" => "Signed in",
        "sign_in.failure" => "Sign-in failed",
        "sign_in.blocked" => "Sign-in blocked after repeated failures",
        "user.create" => "User created",
        "user.profile" => "User's profile changed",
        "user.password" => "User's password set",
        "user.groups" => "User's groups changed",
        "user.activate" => "User activated",
        "user.deactivate" => "User deactivated",
        "user.grant_admin" => "Made administrator",
        "user.revoke_admin" => "Administrator revoked",
        "user.unlock" => "User unlocked",
        "user.delete" => "User deleted",
        "group.create" => "Group created",
        "group.rename" => "Group renamed",
        "group.rights" => "Group's rights changed",
        "group.members" => "Group's members changed",
        "group.address_book" => "Group's address book changed",
        "group.visibility" => "Group's visibility changed",
        "group.delete" => "Group deleted",
        "settings.display_fields" => "Display fields changed",
        "settings.federation" => "Federation settings changed",
        "settings.security" => "Security settings changed",
        "settings.chats" => "Chat settings changed",
        "settings.files" => "File settings changed",
        "account.profile" => "Own profile changed",
        "account.password" => "Own password changed",
        "account.password_failure" => "Own password change refused",
        "account.avatar" => "Own photo changed",
        "account.address_book" => "Own address book changed",
        "federation.refused" => "Refused a request from another server",
        "audit.export" => "Audit log exported",
        other => other,
    }
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `before` to get the next (older) page; `None` at the end.
    pub next_before: Option<i64>,
}

/// Users → Settings → Files: how large a file may be and which types people may send.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Largest file, in bytes (1 KiB to 4 GiB).
    pub max_file_bytes: i64,
    /// Extensions never accepted, lowercase, without the dot (`exe`).
    pub blocked_extensions: Vec<String>,
    /// When not empty, only these extensions are accepted (and never a blocked one);
    /// empty: any extension that is not blocked, and files without one.
    pub allowed_extensions: Vec<String>,
}

impl FileSettings {
    pub const MAX_FILE_BYTES: std::ops::RangeInclusive<i64> = 1024..=4 * 1024 * 1024 * 1024;
    pub const MAX_EXTENSIONS: usize = 200;
    pub const MAX_EXTENSION_CHARS: usize = 16;
    /// Programs and scripts that run when opened on a common desktop.
    pub const DEFAULT_BLOCKED: [&'static str; 27] = [
        "bat", "cmd", "com", "cpl", "dll", "exe", "hta", "jar", "js", "jse", "lnk", "msc", "msi",
        "msp", "pif", "ps1", "psm1", "reg", "scr", "sys", "vb", "vbe", "vbs", "ws", "wsc", "wsf",
        "wsh",
    ];

    pub fn defaults() -> Self {
        Self {
            max_file_bytes: 100 * 1024 * 1024,
            blocked_extensions: Self::DEFAULT_BLOCKED.map(str::to_owned).to_vec(),
            allowed_extensions: Vec::new(),
        }
    }

    /// Sorts both lists and drops repeats (the order carries no meaning).
    pub fn normalize(&mut self) {
        for list in [&mut self.blocked_extensions, &mut self.allowed_extensions] {
            list.sort();
            list.dedup();
        }
    }

    /// What is wrong with these values, if anything, for people to read.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !Self::MAX_FILE_BYTES.contains(&self.max_file_bytes) {
            problems.push("The largest file must be from 1 KiB (1024 bytes) to 4 GiB.".to_owned());
        }
        for (list, what) in [
            (&self.blocked_extensions, "blocked"),
            (&self.allowed_extensions, "allowed"),
        ] {
            if list.len() > Self::MAX_EXTENSIONS {
                problems.push(format!(
                    "At most {} {what} extensions.",
                    Self::MAX_EXTENSIONS
                ));
            }
            for ext in list.iter().take(Self::MAX_EXTENSIONS + 1) {
                let valid = (1..=Self::MAX_EXTENSION_CHARS).contains(&ext.len())
                    && ext.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                    });
                if !valid {
                    let shown: String = ext.chars().take(Self::MAX_EXTENSION_CHARS + 1).collect();
                    problems.push(format!(
                        "The {what} extension {shown:?} is not valid: write it without the dot, \
                         in lowercase letters, digits, '-' or '_', up to {} characters (e.g. \"exe\").",
                        Self::MAX_EXTENSION_CHARS
                    ));
                }
            }
        }
        for ext in &self.allowed_extensions {
            if self.blocked_extensions.contains(ext) {
                problems.push(format!(
                    "\"{ext}\" is both blocked and allowed; blocked extensions are never accepted."
                ));
            }
        }
        problems
    }

    /// Why a file named so is refused, or `None` when it is accepted.
    pub fn refusal(&self, file_name: &str) -> Option<String> {
        let ext = super::files::extension(file_name);
        match &ext {
            Some(ext) if self.blocked_extensions.contains(ext) => Some(format!(
                "Files of type .{ext} may not be sent (blocked by the administrator)."
            )),
            Some(ext)
                if !self.allowed_extensions.is_empty()
                    && !self.allowed_extensions.contains(ext) =>
            {
                Some(format!(
                    "Files of type .{ext} may not be sent; accepted: {}.",
                    self.allowed_list()
                ))
            }
            None if !self.allowed_extensions.is_empty() => Some(format!(
                "Files without an extension may not be sent; accepted: {}.",
                self.allowed_list()
            )),
            _ => None,
        }
    }

    fn allowed_list(&self) -> String {
        self.allowed_extensions
            .iter()
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod file_settings_tests {
    use super::FileSettings;

    #[test]
    fn defaults_are_valid_and_block_programs() {
        let defaults = FileSettings::defaults();
        assert!(defaults.problems().is_empty(), "{:?}", defaults.problems());
        assert!(defaults.refusal("setup.EXE").unwrap().contains(".exe"));
        assert!(defaults.refusal("invoice.pdf.exe").is_some());
        assert_eq!(defaults.refusal("report.pdf"), None);
        assert_eq!(defaults.refusal("README"), None);
    }

    #[test]
    fn an_allow_list_admits_only_its_extensions() {
        let settings = FileSettings {
            allowed_extensions: vec!["pdf".into(), "png".into()],
            ..FileSettings::defaults()
        };
        assert_eq!(settings.refusal("a.PDF"), None);
        assert!(settings.refusal("a.docx").unwrap().contains(".pdf, .png"));
        assert!(settings.refusal("README").is_some());
    }

    #[test]
    fn bad_values_are_named() {
        let settings = FileSettings {
            max_file_bytes: 10,
            blocked_extensions: vec![".exe".into(), "EXE".into(), "x".repeat(17), "js".into()],
            allowed_extensions: vec!["js".into()],
        };
        let problems = settings.problems();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[1].contains("\".exe\""));
        assert!(problems[4].contains("\"js\" is both"));
    }
}
