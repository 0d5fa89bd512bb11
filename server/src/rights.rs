//! Effective rights: a local user holds the union of the rights of their groups
//! (or of "Users without a group" when they are in none).

use std::collections::BTreeMap;

use app::types::{GroupRef, Right, RightGrant};

use crate::storage::{GroupRow, Result, Store, UserId};

pub fn group_ref(row: &GroupRow) -> GroupRef {
    GroupRef {
        id: row.id,
        name: row.name.clone(),
        builtin: row.builtin(),
    }
}

/// Parses stored right names; an unknown name (from a newer version) is skipped.
pub fn parse_rights<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Right> {
    let mut rights: Vec<Right> = names
        .into_iter()
        .filter_map(|name| {
            let right = Right::parse(name);
            if right.is_none() {
                tracing::warn!(name, "unknown right in the database; ignored");
            }
            right
        })
        .collect();
    rights.sort();
    rights.dedup();
    rights
}

/// The user's effective groups and, for each right they hold, the groups it comes from.
pub async fn effective(store: &Store, user_id: UserId) -> Result<(Vec<GroupRef>, Vec<RightGrant>)> {
    let groups = store.effective_groups(user_id).await?;
    let rows = store.effective_rights(user_id).await?;
    let mut grants: BTreeMap<Right, Vec<GroupRef>> = BTreeMap::new();
    for row in rows {
        let Some(right) = parse_rights([row.right_name.as_str()]).pop() else {
            continue;
        };
        if let Some(group) = groups.iter().find(|g| g.id == row.group_id) {
            grants.entry(right).or_default().push(group_ref(group));
        }
    }
    let grants = grants
        .into_iter()
        .map(|(right, groups)| RightGrant { right, groups })
        .collect();
    Ok((groups.iter().map(group_ref).collect(), grants))
}

/// Does the user hold `right`?
pub async fn has(store: &Store, user_id: UserId, right: Right) -> Result<bool> {
    store.has_right(user_id, right.as_str()).await
}
