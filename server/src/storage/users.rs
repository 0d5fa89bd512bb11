//! Accounts.

use sqlx::FromRow;

use super::{Result, StorageError, Store, on_pool};

/// A user as stored, password hash included: it stays inside the server.
#[derive(Clone, FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub department: String,
    pub position: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_admin: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("is_active", &self.is_active)
            .field("is_admin", &self.is_admin)
            .finish_non_exhaustive()
    }
}

/// What creating a user needs; profile fields not named here start empty.
pub struct NewUser<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub created_at: i64,
}

const USER_COLUMNS: &str = "id, login, display_name, first_name, last_name, email, phone, company, \
     department, position, password_hash, is_active, is_admin, created_at, last_login_at";

impl Store {
    /// Creates an active user. A taken login is [`StorageError::Conflict`]`("users_login_key")`.
    pub async fn insert_user(&self, user: &NewUser<'_>) -> Result<UserRecord> {
        let sql = format!(
            "insert into users (login, display_name, password_hash, is_admin, created_at) \
             values ($1, $2, $3, $4, $5) returning {USER_COLUMNS}"
        );
        on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user.login)
            .bind(user.display_name)
            .bind(user.password_hash)
            .bind(user.is_admin)
            .bind(user.created_at)
            .fetch_one(pool)
            .await)
        .map_err(StorageError::on_unique("users_login_key"))
    }

    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>> {
        let sql = format!("select {USER_COLUMNS} from users where login = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(login)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
        let sql = format!("select {USER_COLUMNS} from users where id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// How many active administrators there are (0 on a first start).
    pub async fn count_active_admins(&self) -> Result<i64> {
        let sql = "select count(*) from users where is_admin and is_active";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await)?)
    }

    /// Activates or deactivates an account. Returns `false` if there is no such user.
    pub async fn set_user_active(&self, id: i64, active: bool) -> Result<bool> {
        let sql = "update users set is_active = $1 where id = $2";
        let changed = on_pool!(self, |pool| sqlx::query(sql)
            .bind(active)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    pub async fn record_login(&self, id: i64, at: i64) -> Result<()> {
        let sql = "update users set last_login_at = $1 where id = $2";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }
}
