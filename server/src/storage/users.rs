//! Accounts.

use sqlx::FromRow;

use app::types::Profile;

use super::{Backend, BeginWrite, Result, StorageError, Store, UserId, like_pattern, on_pool};

/// A user as stored, password hash included: it stays inside the server.
#[derive(Clone, FromRow)]
pub struct UserRecord {
    pub id: UserId,
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
    /// File name of the user's photo under `{files}/avatars`, if they set one.
    pub avatar: Option<String>,
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
    pub profile: &'a Profile,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub created_at: i64,
}

/// What user search matches: login, names and email, lowercased by Rust (which
/// knows all of Unicode, unlike SQLite's `lower()`), space-separated.
pub(super) fn search_text(login: &str, profile: &Profile) -> String {
    [
        login,
        &profile.display_name,
        &profile.first_name,
        &profile.last_name,
        &profile.email,
    ]
    .join(" ")
    .to_lowercase()
}

/// A change that can take away the last administrator, so it is checked as one.
#[derive(Debug, Clone, Copy)]
pub enum UserChange {
    Active(bool),
    Admin(bool),
    Delete,
}

impl UserRecord {
    pub fn profile(&self) -> Profile {
        Profile {
            display_name: self.display_name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            company: self.company.clone(),
            department: self.department.clone(),
            position: self.position.clone(),
        }
    }
}

pub(super) const USER_COLUMNS: &str = "id, login, display_name, first_name, last_name, email, phone, company, \
     department, position, password_hash, is_active, is_admin, created_at, last_login_at, avatar";

impl Store {
    /// Creates an active user. A taken login is [`StorageError::Conflict`]`("users_login_key")`.
    pub async fn insert_user(&self, user: &NewUser<'_>) -> Result<UserRecord> {
        self.transaction(async |tx| tx.insert_user(user).await)
            .await
    }

    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>> {
        let sql = format!("select {USER_COLUMNS} from users where login = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(login)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>> {
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
    pub async fn set_user_active(&self, id: UserId, active: bool) -> Result<bool> {
        let sql = "update users set is_active = $1 where id = $2";
        let changed = on_pool!(self, |pool| sqlx::query(sql)
            .bind(active)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// A page of users whose login, names or email contain `search` (any case),
    /// ordered by login, and how many match in all.
    pub async fn list_users(
        &self,
        search: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<UserRecord>, i64)> {
        let pattern = like_pattern(search);
        let filter = "search_text like $1 escape '\\'";
        let page_sql = format!(
            "select {USER_COLUMNS} from users where {filter} order by login limit $2 offset $3"
        );
        let count_sql = format!("select count(*) from users where {filter}");
        let (items, total) = on_pool!(self, |pool| {
            let items = sqlx::query_as(&page_sql)
                .bind(&pattern)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(&pattern)
                .fetch_one(pool)
                .await?;
            (items, total)
        });
        Ok((items, total))
    }

    /// Replaces the profile fields of a user. `false` if there is no such user.
    pub async fn update_profile(&self, id: UserId, profile: &Profile) -> Result<bool> {
        let sql = "update users set display_name = $1, first_name = $2, last_name = $3, \
                   email = $4, phone = $5, company = $6, department = $7, position = $8, \
                   search_text = login || $10 where id = $9";
        // Logins are lowercase ASCII already; the rest is lowercased here.
        let text = search_text("", profile);
        let changed = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&profile.display_name)
            .bind(&profile.first_name)
            .bind(&profile.last_name)
            .bind(&profile.email)
            .bind(&profile.phone)
            .bind(&profile.company)
            .bind(&profile.department)
            .bind(&profile.position)
            .bind(id)
            .bind(&text)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Sets or clears a user's photo. `false` if there is no such user.
    pub async fn set_avatar(&self, id: UserId, avatar: Option<&str>) -> Result<bool> {
        let sql = "update users set avatar = $1 where id = $2";
        let changed = on_pool!(self, |pool| sqlx::query(sql)
            .bind(avatar)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<bool> {
        self.transaction(async |tx| tx.set_password_hash(id, hash).await)
            .await
    }

    /// Activates/deactivates, grants/revokes administrator, or deletes a user, in
    /// one transaction that fails with [`StorageError::LastAdministrator`] — and
    /// changes nothing — when no active administrator would be left. Returns
    /// `false` when there is no such user.
    pub async fn change_user(&self, id: UserId, change: UserChange) -> Result<bool> {
        let sql = match change {
            UserChange::Active(_) => "update users set is_active = $1 where id = $2",
            UserChange::Admin(_) => "update users set is_admin = $1 where id = $2",
            UserChange::Delete => "delete from users where id = $1",
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // PostgreSQL: serialise administrator changes, so two concurrent
            // demotions cannot each see the other's administrator still active.
            // SQLite: the first write below takes the database's write lock.
            if self.backend() == Backend::Postgres {
                sqlx::query("select pg_advisory_xact_lock(7306313)")
                    .execute(&mut *tx)
                    .await?;
            }
            let query = match change {
                UserChange::Active(value) | UserChange::Admin(value) => {
                    sqlx::query(sql).bind(value).bind(id)
                }
                UserChange::Delete => sqlx::query(sql).bind(id),
            };
            let changed = query.execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Ok(false);
            }
            let admins: i64 =
                sqlx::query_scalar("select count(*) from users where is_admin and is_active")
                    .fetch_one(&mut *tx)
                    .await?;
            if admins == 0 {
                tx.rollback().await?;
                return Err(StorageError::LastAdministrator);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Deletes a user and every row kept for them, in one transaction: the
    /// account (with its sessions, group memberships and personal address book),
    /// the address-book entries naming them, chat memberships left over (chats
    /// of other servers' copies; those hosted here were left one by one, with
    /// their events, before), their uploads never sent, and their sign-in
    /// throttle row (`throttle_key`). Messages and events stay, under the
    /// Causeway ID they were sent with: the chats' record. Fails with
    /// [`StorageError::LastAdministrator`], changing nothing, when no active
    /// administrator would be left; `false` when there is no such user.
    pub async fn delete_user(
        &self,
        id: UserId,
        causeway_id: &str,
        throttle_key: &str,
    ) -> Result<bool> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // As in `change_user`: PostgreSQL serialises administrator changes.
            if self.backend() == Backend::Postgres {
                sqlx::query("select pg_advisory_xact_lock(7306313)")
                    .execute(&mut *tx)
                    .await?;
            }
            let changed = sqlx::query("delete from users where id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
            let admins: i64 =
                sqlx::query_scalar("select count(*) from users where is_admin and is_active")
                    .fetch_one(&mut *tx)
                    .await?;
            if admins == 0 {
                tx.rollback().await?;
                return Err(StorageError::LastAdministrator);
            }
            // `on delete cascade` removes these with the user; said here too so
            // that this list is the whole of what a user leaves behind.
            for sql in [
                "delete from sessions where user_id = $1",
                "delete from group_members where user_id = $1",
                "delete from address_book_entries where owner_id = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
            for sql in [
                "delete from address_book_entries where causeway_id = $1",
                "delete from chat_members where member = $1",
                // An upload never sent (a sent one belongs to its message).
                "delete from files where uploaded_by = $1 and message_seq is null \
                 and not exists (select 1 from messages m where m.file_id = files.id)",
            ] {
                sqlx::query(sql).bind(causeway_id).execute(&mut *tx).await?;
            }
            sqlx::query("delete from sign_in_throttle where key = $1")
                .bind(throttle_key)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn record_login(&self, id: UserId, at: i64) -> Result<()> {
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
