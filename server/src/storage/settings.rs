//! Control-panel settings: one JSON document per section.

use super::{Result, Store, on_pool};

impl Store {
    pub async fn setting(&self, section: &str) -> Result<Option<String>> {
        let sql = "select value from settings where section = $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(section)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn put_setting(&self, section: &str, value: &str) -> Result<()> {
        let sql = "insert into settings (section, value) values ($1, $2) \
                   on conflict (section) do update set value = excluded.value";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(section)
            .bind(value)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }
}
