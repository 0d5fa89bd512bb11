//! The audit log: append and browse.

use app::types::AuditEntry;

use super::{Result, Store, like_pattern, on_pool};

pub struct NewAuditEntry<'a> {
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: Option<&'a str>,
    pub address: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// What to browse: entries older than `before` (an id), of actions starting
/// with `action`, whose actor, target or detail contain `text`.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub before: Option<i64>,
    pub action: Option<String>,
    pub text: Option<String>,
    pub limit: i64,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    actor: Option<String>,
    address: Option<String>,
    action: String,
    target: Option<String>,
    detail: Option<String>,
}

impl Store {
    pub async fn append_audit(&self, entry: &NewAuditEntry<'_>) -> Result<()> {
        let sql = "insert into audit_log (at, actor_id, actor, address, action, target, detail, \
                   search_text) values ($1, $2, $3, $4, $5, $6, $7, $8)";
        // Lowercased by Rust, for search beyond ASCII (see migration 0003).
        let search_text = [entry.actor, entry.target, entry.detail, entry.address]
            .map(Option::unwrap_or_default)
            .join(" ")
            .to_lowercase();
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(entry.at)
            .bind(entry.actor_id)
            .bind(entry.actor)
            .bind(entry.address)
            .bind(entry.action)
            .bind(entry.target)
            .bind(entry.detail)
            .bind(&search_text)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Newest first.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        // Each condition is switched off by a null parameter, so the SQL stays one text.
        let sql = "select id, at, actor, address, action, target, detail from audit_log \
                   where ($1 is null or id < $1) \
                   and ($2 is null or action like $2 escape '\\') \
                   and ($3 is null or search_text like $3 escape '\\') \
                   order by id desc limit $4";
        let action = filter.action.as_deref().map(|a| {
            let mut prefix = like_pattern(a);
            prefix.remove(0); // anchored at the start: `user.` matches `user.create`
            prefix
        });
        let text = filter.text.as_deref().map(like_pattern);
        let rows: Vec<AuditRow> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(filter.before)
            .bind(&action)
            .bind(&text)
            .bind(filter.limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor: r.actor,
                address: r.address,
                action: r.action,
                target: r.target,
                detail: r.detail,
            })
            .collect())
    }
}
