//! Groups, their rights and members, and address books.

use app::types::{AddressBookEntry, BuiltinGroup};

use super::{BeginWrite, Result, StorageError, Store, UserId, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub builtin: Option<String>,
    pub created_at: i64,
    /// Members find each other in their address books (no entry per person).
    pub members_see_each_other: bool,
}

impl GroupRow {
    pub fn builtin(&self) -> Option<BuiltinGroup> {
        self.builtin.as_deref().and_then(BuiltinGroup::parse)
    }
}

/// A right granted by a group (stored by its snake_case name).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RightRow {
    pub group_id: i64,
    pub right_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
}

/// A person seen through a group whose members see each other.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MateRow {
    pub group_id: i64,
    pub login: String,
    pub display_name: String,
    pub avatar: Option<String>,
}

/// An address-book entry as stored; `group_id` is set for a group's book.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub group_id: Option<i64>,
    pub causeway_id: String,
    pub display_name: String,
}

/// The groups whose rights and address book apply to user `$1`: those they are
/// in, or "Users without a group" when they are in none.
const EFFECTIVE_GROUPS: &str = "select id from groups where id in \
     (select group_id from group_members where user_id = $1) \
     or (builtin = 'no_group' and not exists (select 1 from group_members where user_id = $1))";

impl Store {
    /// All groups, built-ins first, then by name.
    pub async fn list_groups(&self) -> Result<Vec<GroupRow>> {
        let sql = "select id, name, builtin, created_at, members_see_each_other from groups \
                   order by case when builtin is null then 1 else 0 end, lower(name), id";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn group_by_id(&self, id: i64) -> Result<Option<GroupRow>> {
        let sql = "select id, name, builtin, created_at, members_see_each_other from groups where id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn builtin_group(&self, builtin: BuiltinGroup) -> Result<GroupRow> {
        let sql = "select id, name, builtin, created_at, members_see_each_other from groups where builtin = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(builtin.as_str())
            .fetch_one(pool)
            .await)?)
    }

    /// Every group's rights.
    pub async fn all_group_rights(&self) -> Result<Vec<RightRow>> {
        let sql = "select group_id, right_name from group_rights order by group_id, right_name";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn group_rights(&self, group_id: i64) -> Result<Vec<String>> {
        let sql = "select right_name from group_rights where group_id = $1 order by right_name";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(group_id)
            .fetch_all(pool)
            .await)?)
    }

    /// For the set-up checklist: how many users are not administrators, and
    /// how many groups are not built in.
    pub async fn setup_counts(&self) -> Result<(i64, i64)> {
        let sql = "select (select count(*) from users where not is_admin), \
                   (select count(*) from groups where builtin is null)";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .fetch_one(pool)
            .await)?)
    }

    /// Stored member counts by group id.
    pub async fn group_member_counts(&self) -> Result<Vec<(i64, i64)>> {
        let sql = "select group_id, count(*) from group_members group by group_id";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .fetch_all(pool)
            .await)?)
    }

    /// Creates a group with its rights. A taken name is `Conflict("groups_name_key")`.
    pub async fn create_group(
        &self,
        name: &str,
        rights: &[&str],
        members_see_each_other: bool,
        now: i64,
    ) -> Result<GroupRow> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let group: GroupRow = sqlx::query_as(
                "insert into groups (name, created_at, members_see_each_other) values ($1, $2, $3) \
                 returning id, name, builtin, created_at, members_see_each_other",
            )
            .bind(name)
            .bind(now)
            .bind(members_see_each_other)
            .fetch_one(&mut *tx)
            .await
            .map_err(StorageError::on_unique("groups_name_key"))?;
            for right in rights {
                sqlx::query("insert into group_rights (group_id, right_name) values ($1, $2)")
                    .bind(group.id)
                    .bind(*right)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(group)
        })
    }

    /// Renames a group, replaces its rights and/or turns "members see each
    /// other" on or off, atomically. `false`: no such group.
    pub async fn update_group(
        &self,
        id: i64,
        name: Option<&str>,
        rights: Option<&[&str]>,
        members_see_each_other: Option<bool>,
    ) -> Result<bool> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let exists: Option<i64> = sqlx::query_scalar("select id from groups where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Ok(false);
            }
            if let Some(name) = name {
                sqlx::query("update groups set name = $1 where id = $2")
                    .bind(name)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(StorageError::on_unique("groups_name_key"))?;
            }
            if let Some(see) = members_see_each_other {
                sqlx::query("update groups set members_see_each_other = $1 where id = $2")
                    .bind(see)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(rights) = rights {
                sqlx::query("delete from group_rights where group_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for right in rights {
                    sqlx::query("insert into group_rights (group_id, right_name) values ($1, $2)")
                        .bind(id)
                        .bind(*right)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Deletes an ordinary group (built-ins are kept). `false`: no such ordinary group.
    pub async fn delete_group(&self, id: i64) -> Result<bool> {
        let sql = "delete from groups where id = $1 and builtin is null";
        let deleted = on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(deleted == 1)
    }

    /// The stored members of a group, by login.
    pub async fn group_members(&self, group_id: i64) -> Result<Vec<MemberRow>> {
        let sql = "select u.id, u.login, u.display_name from users u \
                   join group_members m on m.user_id = u.id where m.group_id = $1 order by u.login";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(group_id)
            .fetch_all(pool)
            .await)?)
    }

    /// Local users who are in no group: the implicit members of "Users without a group".
    pub async fn users_without_group(&self) -> Result<Vec<MemberRow>> {
        let sql = "select id, login, display_name from users u where not exists \
                   (select 1 from group_members m where m.user_id = u.id) order by login";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .fetch_all(pool)
            .await)?)
    }

    /// Replaces the members of an ordinary group. An unknown user id is
    /// `Missing("user")` and changes nothing.
    pub async fn set_group_members(&self, group_id: i64, user_ids: &[UserId]) -> Result<()> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("delete from group_members where group_id = $1")
                .bind(group_id)
                .execute(&mut *tx)
                .await?;
            for user_id in user_ids {
                sqlx::query("insert into group_members (group_id, user_id) values ($1, $2)")
                    .bind(group_id)
                    .bind(*user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(StorageError::on_foreign_key("user"))?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Replaces the groups of a user. An unknown or built-in group id is
    /// `Missing("group")` and changes nothing.
    pub async fn set_user_groups(&self, user_id: UserId, group_ids: &[i64]) -> Result<()> {
        self.transaction(async |tx| tx.set_user_groups(user_id, group_ids).await)
            .await
    }

    /// The groups whose rights and address books apply to a user (see [`EFFECTIVE_GROUPS`]).
    pub async fn effective_groups(&self, user_id: UserId) -> Result<Vec<GroupRow>> {
        let sql = format!(
            "select id, name, builtin, created_at, members_see_each_other from groups where id in ({EFFECTIVE_GROUPS}) \
             order by lower(name), id"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(pool)
            .await)?)
    }

    /// The rights of the user's effective groups.
    pub async fn effective_rights(&self, user_id: UserId) -> Result<Vec<RightRow>> {
        let sql = format!(
            "select group_id, right_name from group_rights where group_id in ({EFFECTIVE_GROUPS}) \
             order by right_name, group_id"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(pool)
            .await)?)
    }

    /// Does the user hold `right` (by name) through any effective group?
    pub async fn has_right(&self, user_id: UserId, right: &str) -> Result<bool> {
        let sql = format!(
            "select count(*) from group_rights where right_name = $2 and group_id in ({EFFECTIVE_GROUPS})"
        );
        let count: i64 = on_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(user_id)
            .bind(right)
            .fetch_one(pool)
            .await)?;
        Ok(count > 0)
    }

    /// The people user `$1` sees through "members see each other": the active
    /// members of their effective groups that have it on (everyone in no group,
    /// for "Users without a group"), themselves left out, each with the first
    /// such group (by id) that lists them.
    pub async fn group_mates(&self, user_id: UserId) -> Result<Vec<MateRow>> {
        let sql = format!(
            "select min(g.id) as group_id, u.login, u.display_name, u.avatar from users u \
             join groups g on g.members_see_each_other and g.id in ({EFFECTIVE_GROUPS}) \
             where u.is_active and u.id <> $1 and ( \
                 exists (select 1 from group_members m where m.group_id = g.id and m.user_id = u.id) \
                 or (g.builtin = 'no_group' \
                     and not exists (select 1 from group_members m where m.user_id = u.id))) \
             group by u.id, u.login, u.display_name, u.avatar order by u.login"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(pool)
            .await)?)
    }

    /// A group's address book, in order.
    pub async fn group_address_book(&self, group_id: i64) -> Result<Vec<EntryRow>> {
        let sql = "select group_id, causeway_id, display_name from address_book_entries \
                   where group_id = $1 order by position";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(group_id)
            .fetch_all(pool)
            .await)?)
    }

    /// A user's personal address book, in order.
    pub async fn personal_address_book(&self, user_id: UserId) -> Result<Vec<EntryRow>> {
        let sql = "select group_id, causeway_id, display_name from address_book_entries \
                   where owner_id = $1 order by position";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(user_id)
            .fetch_all(pool)
            .await)?)
    }

    /// The address books of the user's effective groups, group by group in order.
    pub async fn effective_group_address_books(&self, user_id: UserId) -> Result<Vec<EntryRow>> {
        let sql = format!(
            "select group_id, causeway_id, display_name from address_book_entries \
             where group_id in ({EFFECTIVE_GROUPS}) order by group_id, position"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(pool)
            .await)?)
    }

    /// Does an address book of user `$1` — their personal one or one of their
    /// effective groups' — name `causeway_id`?
    pub async fn address_book_lists(&self, user_id: UserId, causeway_id: &str) -> Result<bool> {
        let sql = format!(
            "select count(*) from address_book_entries where causeway_id = $2 \
             and (owner_id = $1 or group_id in ({EFFECTIVE_GROUPS}))"
        );
        let count: i64 = on_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(user_id)
            .bind(causeway_id)
            .fetch_one(pool)
            .await)?;
        Ok(count > 0)
    }

    /// Removes every address-book entry naming `causeway_id` (a deleted user).
    pub async fn remove_from_address_books(&self, causeway_id: &str) -> Result<u64> {
        let sql = "delete from address_book_entries where causeway_id = $1";
        Ok(on_pool!(self, |pool| sqlx::query(sql)
            .bind(causeway_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Replaces a group's address book. Duplicate IDs are `Conflict`.
    pub async fn set_group_address_book(
        &self,
        group_id: i64,
        entries: &[AddressBookEntry],
    ) -> Result<()> {
        self.replace_address_book(
            "group_id",
            group_id,
            entries,
            "address_book_group_entry_key",
        )
        .await
    }

    /// Replaces a user's personal address book when they hold `edit_address_book`,
    /// checked in the same transaction as the write. `false`: not allowed.
    pub async fn set_personal_address_book(
        &self,
        user_id: UserId,
        entries: &[AddressBookEntry],
    ) -> Result<bool> {
        let allowed = format!(
            "select count(*) from group_rights where right_name = 'edit_address_book' \
             and group_id in ({EFFECTIVE_GROUPS})"
        );
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let count: i64 = sqlx::query_scalar(&allowed)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            if count == 0 {
                return Ok(false);
            }
            write_entries(
                &mut tx,
                "owner_id",
                user_id.0,
                entries,
                "address_book_personal_entry_key",
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    async fn replace_address_book(
        &self,
        owner_column: &'static str,
        owner: i64,
        entries: &[AddressBookEntry],
        constraint: &'static str,
    ) -> Result<()> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            write_entries(&mut tx, owner_column, owner, entries, constraint).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Deletes an address book's entries and writes `entries` in order, on `tx`.
async fn write_entries<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    owner_column: &'static str,
    owner: i64,
    entries: &[AddressBookEntry],
    constraint: &'static str,
) -> Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    String: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
{
    sqlx::query(&format!(
        "delete from address_book_entries where {owner_column} = $1"
    ))
    .bind(owner)
    .execute(&mut **tx)
    .await?;
    let insert = format!(
        "insert into address_book_entries ({owner_column}, causeway_id, display_name, position) \
         values ($1, $2, $3, $4)"
    );
    for (position, entry) in (0_i64..).zip(entries) {
        sqlx::query(&insert)
            .bind(owner)
            .bind(entry.causeway_id.to_string())
            .bind(entry.display_name.clone())
            .bind(position)
            .execute(&mut **tx)
            .await
            .map_err(StorageError::on_unique(constraint))?;
    }
    Ok(())
}
