//! The settings an administrator edits live in the control panel (security,
//! Display Fields, federation, chats, files). Stored as one JSON document per section and kept
//! in memory, so they take effect on the next request without a restart.

use std::sync::{Arc, RwLock};

use app::types::{
    ChatSettings, DisplayFields, FederationMode, FederationSettings, FileSettings, ProfileField,
    SecuritySettings,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::storage::{StorageError, Store};

const SECURITY: &str = "security";
const DISPLAY_FIELDS: &str = "display_fields";
const FEDERATION: &str = "federation";
const CHATS: &str = "chats";
const FILES: &str = "files";

#[derive(Debug, Clone)]
struct Current {
    security: SecuritySettings,
    display_fields: DisplayFields,
    federation: FederationSettings,
    chats: ChatSettings,
    files: FileSettings,
}

/// The live settings. Reads are in memory; writes go to the database first.
#[derive(Debug, Clone)]
pub struct Settings {
    store: Store,
    current: Arc<RwLock<Current>>,
}

/// Security defaults: the config file's session lifetimes and OWASP-minded limits.
fn default_security(config: &Config) -> SecuritySettings {
    SecuritySettings {
        password_min_length: 10,
        lockout_threshold: 5,
        lockout_minutes: 15,
        address_threshold: 50,
        idle_timeout_minutes: config.sessions.idle_timeout_minutes,
        absolute_timeout_hours: config.sessions.absolute_timeout_hours,
        remember_me_days: config.sessions.remember_me_days,
    }
}

async fn load<T: DeserializeOwned>(
    store: &Store,
    section: &str,
    default: T,
) -> Result<T, StorageError> {
    match store.setting(section).await? {
        Some(json) => match serde_json::from_str(&json) {
            Ok(value) => Ok(value),
            Err(error) => {
                tracing::error!(section, %error, "stored settings do not parse; using the defaults");
                Ok(default)
            }
        },
        None => Ok(default),
    }
}

async fn save<T: Serialize>(store: &Store, section: &str, value: &T) -> Result<(), StorageError> {
    let json = serde_json::to_string(value).expect("settings serialise to JSON");
    store.put_setting(section, &json).await
}

impl Settings {
    pub async fn load(store: Store, config: &Config) -> Result<Self, StorageError> {
        let current = Current {
            security: load(&store, SECURITY, default_security(config)).await?,
            display_fields: load(
                &store,
                DISPLAY_FIELDS,
                DisplayFields {
                    fields: vec![ProfileField::DisplayName],
                },
            )
            .await?,
            federation: load(
                &store,
                FEDERATION,
                FederationSettings {
                    mode: FederationMode::Disabled,
                    whitelist: Vec::new(),
                },
            )
            .await?,
            chats: load(
                &store,
                CHATS,
                ChatSettings {
                    max_message_chars: 10_000,
                    edit_window_hours: 48,
                    outsiders_reach: Default::default(),
                },
            )
            .await?,
            files: load(&store, FILES, FileSettings::defaults()).await?,
        };
        Ok(Self {
            store,
            current: Arc::new(RwLock::new(current)),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        // A panic while holding the lock cannot leave `Current` half-written (each
        // write is one assignment), so a poisoned lock is still consistent.
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Current> {
        self.current.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn security(&self) -> SecuritySettings {
        self.read().security.clone()
    }

    pub fn display_fields(&self) -> DisplayFields {
        self.read().display_fields.clone()
    }

    pub fn federation(&self) -> FederationSettings {
        self.read().federation.clone()
    }

    pub fn chats(&self) -> ChatSettings {
        self.read().chats.clone()
    }

    pub fn files(&self) -> FileSettings {
        self.read().files.clone()
    }

    pub async fn set_files(&self, value: FileSettings) -> Result<(), StorageError> {
        save(&self.store, FILES, &value).await?;
        self.write().files = value;
        Ok(())
    }

    pub async fn set_chats(&self, value: ChatSettings) -> Result<(), StorageError> {
        save(&self.store, CHATS, &value).await?;
        self.write().chats = value;
        Ok(())
    }

    pub async fn set_security(&self, value: SecuritySettings) -> Result<(), StorageError> {
        save(&self.store, SECURITY, &value).await?;
        self.write().security = value;
        Ok(())
    }

    pub async fn set_display_fields(&self, value: DisplayFields) -> Result<(), StorageError> {
        save(&self.store, DISPLAY_FIELDS, &value).await?;
        self.write().display_fields = value;
        Ok(())
    }

    pub async fn set_federation(&self, value: FederationSettings) -> Result<(), StorageError> {
        save(&self.store, FEDERATION, &value).await?;
        self.write().federation = value;
        Ok(())
    }
}
