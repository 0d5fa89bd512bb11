//! Identifiers: [`Login`], [`ServerName`] and the [`CausewayId`] `login@server_name`.
//!
//! Every parser here is total: any input, however malformed, gives either a value
//! or an [`IdError`] that says what is wrong, never a panic.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a login, server name or Causeway ID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("the login is empty")]
    EmptyLogin,
    #[error("the login is longer than {max} characters", max = Login::MAX_LEN)]
    LoginTooLong,
    #[error(
        "the login may contain only lowercase letters a–z, digits, '.', '_' and '-' (found {0:?})"
    )]
    LoginCharacter(char),
    #[error("the server name is empty")]
    EmptyServerName,
    #[error("the server name is longer than {max} characters", max = ServerName::MAX_LEN)]
    ServerNameTooLong,
    #[error("the server name has an empty label (two dots in a row, or a dot at an end)")]
    EmptyLabel,
    #[error("a label of the server name is longer than 63 characters")]
    LabelTooLong,
    #[error("a label of the server name may not start or end with '-'")]
    LabelHyphen,
    #[error(
        "the server name may contain only letters, digits, '-' and '.', with an optional :port (found {0:?})"
    )]
    ServerNameCharacter(char),
    #[error("the port must be a number from 1 to 65535")]
    BadPort,
    #[error("a Causeway ID has the form login@server_name")]
    MissingAt,
}

/// A user's login on their server: lowercase ASCII letters, digits, `.`, `_`, `-`; 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Login(String);

impl Login {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::EmptyLogin);
        }
        if let Some(c) = s.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(IdError::LoginCharacter(c));
        }
        // All characters are ASCII here, so the byte length is the character count.
        if s.len() > Self::MAX_LEN {
            return Err(IdError::LoginTooLong);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a Causeway server: a DNS name, optionally followed by `:port`.
/// Stored lowercase, so comparisons are exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerName(String);

impl ServerName {
    /// A DNS name is at most 253 characters; `:65535` adds six.
    pub const MAX_LEN: usize = 253 + 6;

    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::EmptyServerName);
        }
        if s.len() > Self::MAX_LEN {
            return Err(IdError::ServerNameTooLong);
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        };
        if host.is_empty() {
            return Err(IdError::EmptyServerName);
        }
        if host.len() > 253 {
            return Err(IdError::ServerNameTooLong);
        }
        for label in host.split('.') {
            if label.is_empty() {
                return Err(IdError::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(IdError::LabelTooLong);
            }
            if let Some(c) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
            {
                return Err(IdError::ServerNameCharacter(c));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(IdError::LabelHyphen);
            }
        }
        if let Some(port) = port {
            let valid = !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && matches!(port.parse::<u32>(), Ok(1..=65535));
            if !valid {
                return Err(IdError::BadPort);
            }
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's global identity: `login@server_name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CausewayId {
    pub login: Login,
    pub server: ServerName,
}

impl CausewayId {
    pub fn new(login: Login, server: ServerName) -> Self {
        Self { login, server }
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let (login, server) = s.split_once('@').ok_or(IdError::MissingAt)?;
        Ok(Self {
            login: Login::parse(login)?,
            server: ServerName::parse(server)?,
        })
    }
}

/// What a person types into the sign-in form: a bare login, or a full Causeway ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOrId {
    Login(Login),
    Id(CausewayId),
}

impl LoginOrId {
    /// Parses sign-in input. Surrounding spaces are ignored and letters are
    /// lowercased, since people type `Moore@Guest` as readily as `moore@guest`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim().to_ascii_lowercase();
        if s.contains('@') {
            CausewayId::parse(&s).map(Self::Id)
        } else {
            Login::parse(&s).map(Self::Login)
        }
    }
}

macro_rules! string_id_impls {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id_impls!(Login);
string_id_impls!(ServerName);

impl fmt::Display for CausewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.login, self.server)
    }
}

impl FromStr for CausewayId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl Serialize for CausewayId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CausewayId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        assert_eq!(Login::parse("moore").unwrap().as_str(), "moore");
        assert!(Login::parse("a.b_c-9").is_ok());
        assert!(Login::parse(&"a".repeat(64)).is_ok());
        assert_eq!(Login::parse(&"a".repeat(65)), Err(IdError::LoginTooLong));
        assert_eq!(Login::parse(""), Err(IdError::EmptyLogin));
        assert_eq!(Login::parse("Moore"), Err(IdError::LoginCharacter('M')));
        assert_eq!(Login::parse("mo ore"), Err(IdError::LoginCharacter(' ')));
        assert_eq!(Login::parse("möore"), Err(IdError::LoginCharacter('ö')));
        assert_eq!(Login::parse("a@b"), Err(IdError::LoginCharacter('@')));
    }

    #[test]
    fn server_names() {
        assert_eq!(
            ServerName::parse("Corp.Example").unwrap().as_str(),
            "corp.example"
        );
        assert!(ServerName::parse("guest").is_ok());
        assert!(ServerName::parse("localhost:3000").is_ok());
        assert!(ServerName::parse("127.0.0.1:8080").is_ok());
        assert_eq!(ServerName::parse(""), Err(IdError::EmptyServerName));
        assert_eq!(ServerName::parse(":80"), Err(IdError::EmptyServerName));
        assert_eq!(ServerName::parse("a..b"), Err(IdError::EmptyLabel));
        assert_eq!(ServerName::parse("a."), Err(IdError::EmptyLabel));
        assert_eq!(ServerName::parse("-a.b"), Err(IdError::LabelHyphen));
        assert_eq!(
            ServerName::parse("a_b"),
            Err(IdError::ServerNameCharacter('_'))
        );
        assert_eq!(ServerName::parse("a:0"), Err(IdError::BadPort));
        assert_eq!(ServerName::parse("a:65536"), Err(IdError::BadPort));
        assert_eq!(ServerName::parse("a:"), Err(IdError::BadPort));
        assert_eq!(ServerName::parse("a:+80"), Err(IdError::BadPort));
        assert_eq!(
            ServerName::parse("a:1:2"),
            Err(IdError::ServerNameCharacter(':'))
        );
        assert_eq!(
            ServerName::parse(&"a".repeat(64)),
            Err(IdError::LabelTooLong)
        );
        assert_eq!(
            ServerName::parse(&"a.".repeat(200)),
            Err(IdError::ServerNameTooLong)
        );
    }

    #[test]
    fn causeway_ids() {
        let id = CausewayId::parse("moore@guest:8443").unwrap();
        assert_eq!(id.login.as_str(), "moore");
        assert_eq!(id.server.as_str(), "guest:8443");
        assert_eq!(id.to_string(), "moore@guest:8443");
        assert_eq!(CausewayId::parse("moore"), Err(IdError::MissingAt));
        assert_eq!(CausewayId::parse("@guest"), Err(IdError::EmptyLogin));
        assert_eq!(CausewayId::parse("moore@"), Err(IdError::EmptyServerName));
        assert_eq!(
            CausewayId::parse("a@b@c"),
            Err(IdError::ServerNameCharacter('@'))
        );
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"moore@guest:8443\"");
        assert_eq!(serde_json::from_str::<CausewayId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<CausewayId>("\"bad id\"").is_err());
    }

    #[test]
    fn sign_in_input() {
        assert_eq!(
            LoginOrId::parse(" Moore ").unwrap(),
            LoginOrId::Login(Login::parse("moore").unwrap())
        );
        assert!(matches!(
            LoginOrId::parse("Moore@Guest"),
            Ok(LoginOrId::Id(_))
        ));
        assert!(LoginOrId::parse("").is_err());
    }

    /// Any string at all parses to a value or an error: the parsers are total.
    #[test]
    fn parsers_never_panic() {
        let samples = [
            "",
            "@",
            "@@",
            ":",
            "a:",
            "a:99999999999999999999",
            "\u{0}",
            "ä@ö",
            "a@b:c",
            "a@-",
            "a@.",
            "a@b.",
            "💥@💥",
            "a@[::1]:80",
            "a@b:065535",
        ];
        for s in samples {
            let _ = CausewayId::parse(s);
            let _ = ServerName::parse(s);
            let _ = Login::parse(s);
            let _ = LoginOrId::parse(s);
        }
    }
}

/// In the OpenAPI document the identifiers are strings with their patterns.
#[cfg(feature = "ssr")]
mod schema {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::{PartialSchema, ToSchema};

    fn string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .pattern(Some(pattern))
            .examples([serde_json::json!(example)])
            .into()
    }

    impl PartialSchema for super::Login {
        fn schema() -> RefOr<Schema> {
            string(
                "A login: lowercase letters, digits, '.', '_', '-'; 1 to 64 characters.",
                "^[a-z0-9._-]{1,64}$",
                "moore",
            )
        }
    }
    impl ToSchema for super::Login {}

    impl PartialSchema for super::ServerName {
        fn schema() -> RefOr<Schema> {
            string(
                "A server's DNS name, optionally with :port.",
                "^[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
                "guest.example.com",
            )
        }
    }
    impl ToSchema for super::ServerName {}

    impl PartialSchema for super::CausewayId {
        fn schema() -> RefOr<Schema> {
            string(
                "A Causeway ID: login@server_name.",
                "^[a-z0-9._-]{1,64}@[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
                "moore@guest.example.com",
            )
        }
    }
    impl ToSchema for super::CausewayId {}
}
