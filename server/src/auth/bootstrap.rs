//! Creating administrators: the first one on a first start, more with
//! `causeway admin create`.

use app::types::{Login, Profile};

use super::password;
use crate::storage::{NewUser, StorageError, Store, UserRecord};
use crate::time::now_millis;

#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    #[error("invalid login: {0}")]
    Login(#[from] app::types::IdError),
    #[error("the password must be at least {min} characters", min = MIN_ADMIN_PASSWORD)]
    ShortPassword,
    #[error("the login {0} is taken")]
    Taken(String),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Storage(StorageError),
}

pub const MIN_ADMIN_PASSWORD: usize = 12;

/// An administrator just created, with the password to tell them once.
pub struct CreatedAdmin {
    pub user: UserRecord,
    pub password: String,
}

impl std::fmt::Debug for CreatedAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAdmin")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Creates an administrator; with no password given, a random one is generated.
pub async fn create_admin(
    store: &Store,
    login: &str,
    display_name: &str,
    password: Option<String>,
) -> Result<CreatedAdmin, CreateAdminError> {
    let login = Login::parse(login)?;
    let password = match password {
        Some(p) if p.chars().count() < MIN_ADMIN_PASSWORD => {
            return Err(CreateAdminError::ShortPassword);
        }
        Some(p) => p,
        None => password::generate_password(),
    };
    let hash = password::hash(password.clone()).await?;
    let profile = Profile {
        display_name: display_name.to_owned(),
        ..Profile::default()
    };
    let user = store
        .insert_user(&NewUser {
            login: login.as_str(),
            profile: &profile,
            password_hash: &hash,
            is_admin: true,
            created_at: now_millis(),
        })
        .await
        .map_err(|e| match e {
            StorageError::Conflict(_) => CreateAdminError::Taken(login.to_string()),
            other => CreateAdminError::Storage(other),
        })?;
    Ok(CreatedAdmin { user, password })
}

/// On a server with no active administrator, creates `admin` with a generated
/// password, so a fresh install can be signed into. Returns it to be shown once.
pub async fn ensure_first_admin(store: &Store) -> Result<Option<CreatedAdmin>, CreateAdminError> {
    if store
        .count_active_admins()
        .await
        .map_err(CreateAdminError::Storage)?
        > 0
    {
        return Ok(None);
    }
    create_admin(store, "admin", "Administrator", None)
        .await
        .map(Some)
}
