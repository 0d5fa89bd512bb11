//! The storage contract: one suite of assertions, run against SQLite and against
//! PostgreSQL, so both implementations of the storage interface behave the same.
//! Each case is two tests, each on a fresh database (see `contract!`), e.g.
//! `cargo test -p server --test it storage_contract::chats::postgres`.

use std::panic::AssertUnwindSafe;

use app::types::{
    AddressBookEntry, BuiltinGroup, CausewayId, ChatKind, ChatRole, EventKind, Profile,
};
use futures_util::FutureExt;
use server::storage::{
    AuditFilter, ChatId, EntryRow, NewAuditEntry, NewChat, NewFile, NewMessage, NewUser,
    ReplicaChat, Seq, StorageError, Store, ThrottleRow, UserChange, UserId, direct_key,
};

use crate::common::PgDatabase;

fn named(display_name: &str) -> Profile {
    Profile {
        display_name: display_name.to_owned(),
        ..Profile::default()
    }
}

/// Runs `case` on a fresh SQLite database, in folders that do not exist yet.
async fn on_sqlite(case: impl AsyncFnOnce(&Store)) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/folder/causeway.db").display()
    );
    let store = Store::connect(&url, 4)
        .await
        .expect("connect creates the file and folders");
    store.migrate().await.expect("migrations apply");
    case(&store).await;
    store.close().await;
}

/// Runs `case` on a fresh PostgreSQL database, dropped afterwards even when the
/// case fails. Without a server the case is skipped, or fails under CI
/// ([`PgDatabase::create`]).
async fn on_postgres(case: impl AsyncFnOnce(&Store)) {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrations apply");
    let outcome = AssertUnwindSafe(case(&store)).catch_unwind().await;
    match outcome {
        Ok(()) => {
            store.close().await;
            db.drop_now().await;
        }
        Err(panic) => {
            // Tasks the case spawned may still hold connections: the drop
            // (`with (force)`) ends them instead of waiting for the pool.
            db.drop_now().await;
            std::panic::resume_unwind(panic);
        }
    }
}

/// Each case becomes a module of two tests, `<case>::sqlite` and
/// `<case>::postgres`, each on a database of its own: a case sets up what it
/// needs and no case depends on another having run.
macro_rules! contract {
    ($($case:ident),+ $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn sqlite() {
                super::on_sqlite(super::$case).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::on_postgres(super::$case).await;
            }
        }
    )+};
}

contract!(
    migrations_are_idempotent,
    users,
    sessions,
    user_search,
    non_ascii_search,
    groups,
    memberships,
    address_books,
    settings,
    audit,
    throttle,
    profile_and_password,
    other_sessions,
    last_administrator,
    concurrent_demotions,
    chats,
    chat_members,
    concurrent_sends,
    batched_sends,
    files,
    concurrent_file_sends,
    batched_file_sends,
    concurrent_first_copies,
    ownership_and_edits_hold_together,
    sign_in_reservations,
    transactions_compose,
);

#[tokio::test]
async fn unknown_database_schemes_are_refused() {
    let error = Store::connect("mysql://localhost/db", 1).await.unwrap_err();
    assert!(matches!(error, StorageError::UnknownScheme));
}

/// A second run of the migrations (the first is [`on_sqlite`]'s or
/// [`on_postgres`]') finds nothing to do.
async fn migrations_are_idempotent(store: &Store) {
    store
        .migrate()
        .await
        .expect("migrations re-apply as a no-op");
    store.ping().await.expect("ping");
    assert_eq!(
        store.list_groups().await.unwrap().len(),
        2,
        "the built-in groups are there once"
    );
}

/// The first update of a chat hosted elsewhere, arriving twice at once (the
/// outbox's and the answer to opening the direct chat): one copy, both applied.
async fn concurrent_first_copies(store: &Store) {
    let update = ReplicaChat {
        host: "race.example".to_owned(),
        host_chat_id: 7,
        kind: ChatKind::Direct,
        title: String::new(),
        direct_key: None,
        created_by: "bob@race.example".to_owned(),
        created_at: 1_000,
        members: vec![
            ("ann@here".to_owned(), ChatRole::Member, 1, 0),
            ("bob@race.example".to_owned(), ChatRole::Member, 1, 0),
        ],
        own_server: "here".to_owned(),
        events: Vec::new(),
    };
    for round in 0..5 {
        let mut update = update.clone();
        update.host_chat_id += round;
        update.direct_key = Some(direct_key(&format!("ann{round}@here"), "bob@race.example"));
        let (first, second) =
            tokio::join!(store.apply_replica(&update), store.apply_replica(&update));
        let (first, second) = (
            first.expect("first applies"),
            second.expect("second applies"),
        );
        assert_eq!(first.chat.id, second.chat.id, "one copy");
    }
    // A direct chat of the same two people under another host id is refused.
    let mut other = update.clone();
    other.host_chat_id = 99;
    other.direct_key = Some(direct_key("ann0@here", "bob@race.example"));
    assert!(matches!(
        store.apply_replica(&other).await,
        Err(StorageError::Conflict("chats_direct_key"))
    ));
}

async fn add_user(store: &Store, login: &str, profile: Profile) -> i64 {
    store
        .insert_user(&NewUser {
            login,
            profile: &profile,
            password_hash: "x",
            is_admin: false,
            created_at: 3,
        })
        .await
        .unwrap_or_else(|e| panic!("insert {login}: {e}"))
        .id
        .0
}

/// Wolf, an administrator, and Albert Moore: the first users, as in [`users`].
async fn wolf_and_moore(store: &Store) -> (i64, i64) {
    let wolf = store
        .insert_user(&NewUser {
            login: "wolf",
            profile: &named("Wolf"),
            password_hash: "$argon2id$fake",
            is_admin: true,
            created_at: 1_700_000_000_000,
        })
        .await
        .expect("insert wolf")
        .id;
    let moore = add_user(store, "moore", named("Albert Moore")).await;
    (wolf.0, moore)
}

/// The five users [`user_search`] looks for besides those two: alice, bob_t,
/// bobxt, carol and dave.
async fn five_more_users(store: &Store) {
    add_user(
        store,
        "alice",
        Profile {
            first_name: "Alice".into(),
            last_name: "Liddell".into(),
            email: "alice@wonder.example".into(),
            ..named("Alice L.")
        },
    )
    .await;
    add_user(
        store,
        "bob_t",
        Profile {
            first_name: "Robert".into(),
            last_name: "Tables".into(),
            ..named("Bobby")
        },
    )
    .await;
    add_user(store, "carol", named("100% Carol")).await;
    add_user(
        store,
        "dave",
        Profile {
            email: "DAVE@EXAMPLE.COM".into(),
            ..named("Dave")
        },
    )
    .await;
    add_user(store, "bobxt", named("Not Bob T")).await;
}

/// Seven users in no group, Wolf the only administrator.
async fn everyone(store: &Store) {
    wolf_and_moore(store).await;
    five_more_users(store).await;
}

fn logins(users: &[server::storage::UserRecord]) -> Vec<&str> {
    users.iter().map(|u| u.login.as_str()).collect()
}

/// `list_users`: login, names and email, any case; `%` and `_` are literal.
async fn user_search(store: &Store) {
    everyone(store).await;

    let (all, total) = store.list_users("", 100, 0).await.unwrap();
    assert_eq!(total, 7);
    assert_eq!(
        logins(&all),
        ["alice", "bob_t", "bobxt", "carol", "dave", "moore", "wolf"],
        "ordered by login"
    );

    let search = |text: &'static str| async move {
        let (users, total) = store.list_users(text, 100, 0).await.unwrap();
        assert_eq!(total, users.len() as i64, "{text}");
        users.into_iter().map(|u| u.login).collect::<Vec<_>>()
    };
    assert_eq!(search("LIDDELL").await, ["alice"], "last name, any case");
    assert_eq!(search("alice").await, ["alice"], "login and first name");
    assert_eq!(search("Wonder").await, ["alice"], "email");
    assert_eq!(search("robert").await, ["bob_t"], "first name");
    assert_eq!(search("bobby").await, ["bob_t"], "display name");
    assert_eq!(search("dave@example").await, ["dave"], "email, any case");
    assert_eq!(search("moore").await, ["moore"]);
    assert_eq!(search("%").await, ["carol"], "% is literal");
    assert_eq!(search("0%").await, ["carol"]);
    assert_eq!(search("_").await, ["bob_t"], "_ is literal");
    assert_eq!(search("b_t").await, ["bob_t"], "_ matches only itself");
    assert_eq!(search("\\").await, Vec::<String>::new(), "\\ is literal");
    assert_eq!(search("nobody at all").await, Vec::<String>::new());

    let (page, total) = store.list_users("", 3, 0).await.unwrap();
    assert_eq!((logins(&page), total), (vec!["alice", "bob_t", "bobxt"], 7));
    let (page, total) = store.list_users("", 3, 3).await.unwrap();
    assert_eq!((logins(&page), total), (vec!["carol", "dave", "moore"], 7));
    let (page, total) = store.list_users("", 3, 6).await.unwrap();
    assert_eq!((logins(&page), total), (vec!["wolf"], 7));
    let (page, total) = store.list_users("", 3, 9).await.unwrap();
    assert_eq!(
        (page.len(), total),
        (0, 7),
        "past the end: empty, same total"
    );
    let (page, total) = store.list_users("B", 2, 1).await.unwrap();
    // "b" is in bob_t, bobxt and Albert (moore).
    assert_eq!((logins(&page), total), (vec!["bobxt", "moore"], 3));
}

fn entry(id: &str, name: &str) -> AddressBookEntry {
    AddressBookEntry {
        causeway_id: CausewayId::parse(id).unwrap(),
        display_name: name.to_owned(),
        person_name: String::new(),
    }
}

fn stored(rows: &[EntryRow]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.causeway_id.clone(), r.display_name.clone()))
        .collect()
}

fn pairs(entries: &[AddressBookEntry]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| (e.causeway_id.to_string(), e.display_name.clone()))
        .collect()
}

/// "Ops": a group with no members yet, which may send and share.
async fn ops_group(store: &Store) -> i64 {
    store
        .create_group("Ops", &["send_files", "share_content"], true, 10)
        .await
        .unwrap()
        .id
}

/// Groups and their rights; the two built-ins the migration creates.
async fn groups(store: &Store) {
    let groups = store.list_groups().await.unwrap();
    let listed: Vec<(&str, Option<BuiltinGroup>)> = groups
        .iter()
        .map(|g| (g.name.as_str(), g.builtin()))
        .collect();
    assert_eq!(
        listed,
        [
            ("Federated Users", Some(BuiltinGroup::Federated)),
            ("Users without a group", Some(BuiltinGroup::NoGroup)),
        ],
        "the migration creates the two built-ins"
    );
    let no_group = store.builtin_group(BuiltinGroup::NoGroup).await.unwrap();
    assert_eq!(no_group.name, "Users without a group");
    assert_eq!(no_group.builtin.as_deref(), Some("no_group"));
    let federated = store.builtin_group(BuiltinGroup::Federated).await.unwrap();
    assert_eq!(federated.name, "Federated Users");
    // A new server's defaults (migration 0012): files and the personal address
    // book work for people in no group; people of other servers may download.
    assert_eq!(
        store.group_rights(no_group.id).await.unwrap(),
        ["download_files", "edit_address_book", "send_files"]
    );
    assert_eq!(
        store.group_rights(federated.id).await.unwrap(),
        ["download_files"]
    );
    assert!(no_group.members_see_each_other);
    assert!(!federated.members_see_each_other);

    let ops = store
        .create_group("Operators", &["send_files", "operator"], true, 10)
        .await
        .unwrap();
    assert_eq!(ops.name, "Operators");
    assert_eq!(ops.builtin, None);
    assert_eq!(ops.created_at, 10);
    assert_eq!(
        store.group_rights(ops.id).await.unwrap(),
        ["operator", "send_files"],
        "sorted by name"
    );
    let alpha = store.create_group("alpha", &[], true, 11).await.unwrap();
    assert!(store.group_rights(alpha.id).await.unwrap().is_empty());
    assert_eq!(
        store
            .list_groups()
            .await
            .unwrap()
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        [
            "Federated Users",
            "Users without a group",
            "alpha",
            "Operators"
        ],
        "built-ins first, then by name in any case"
    );
    for taken in ["Operators", "Users without a group"] {
        let result = store.create_group(taken, &["operator"], true, 12).await;
        assert!(
            matches!(result, Err(StorageError::Conflict("groups_name_key"))),
            "{taken}: {result:?}"
        );
    }
    assert_eq!(store.list_groups().await.unwrap().len(), 4);

    let found = store.group_by_id(ops.id).await.unwrap().unwrap();
    assert_eq!((found.name.as_str(), found.builtin()), ("Operators", None));
    assert!(store.group_by_id(999_999).await.unwrap().is_none());

    assert!(
        store
            .update_group(ops.id, Some("Ops"), None, None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.group_by_id(ops.id).await.unwrap().unwrap().name,
        "Ops"
    );
    assert_eq!(
        store.group_rights(ops.id).await.unwrap(),
        ["operator", "send_files"],
        "renaming keeps the rights"
    );
    assert!(
        store
            .update_group(ops.id, None, Some(&["share_content"][..]), None)
            .await
            .unwrap()
    );
    assert_eq!(store.group_rights(ops.id).await.unwrap(), ["share_content"]);
    assert_eq!(
        store.group_by_id(ops.id).await.unwrap().unwrap().name,
        "Ops"
    );

    let clash = store
        .update_group(ops.id, Some("alpha"), Some(&["operator"][..]), None)
        .await;
    assert!(
        matches!(clash, Err(StorageError::Conflict("groups_name_key"))),
        "{clash:?}"
    );
    assert_eq!(
        store.group_by_id(ops.id).await.unwrap().unwrap().name,
        "Ops"
    );
    assert_eq!(
        store.group_rights(ops.id).await.unwrap(),
        ["share_content"],
        "a failed update changes nothing"
    );
    assert!(
        !store
            .update_group(999_999, Some("Ghost"), Some(&["operator"][..]), None)
            .await
            .unwrap()
    );

    // Built-ins: rights may be set, deletion is refused.
    assert!(
        store
            .update_group(federated.id, None, Some(&["show_slides"][..]), None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.group_rights(federated.id).await.unwrap(),
        ["show_slides"]
    );
    let all = store.all_group_rights().await.unwrap();
    let all: Vec<(i64, &str)> = all
        .iter()
        .map(|r| (r.group_id, r.right_name.as_str()))
        .collect();
    assert!(all.contains(&(federated.id, "show_slides")));
    assert!(all.contains(&(ops.id, "share_content")));
    assert_eq!(all.len(), 5, "and the three of “Users without a group”");
    // "Members see each other": on for a new group, switched alone.
    assert!(
        store
            .group_by_id(ops.id)
            .await
            .unwrap()
            .unwrap()
            .members_see_each_other
    );
    assert!(
        store
            .update_group(ops.id, None, None, Some(false))
            .await
            .unwrap()
    );
    let switched = store.group_by_id(ops.id).await.unwrap().unwrap();
    assert!(!switched.members_see_each_other);
    assert_eq!(switched.name, "Ops");
    assert_eq!(store.group_rights(ops.id).await.unwrap(), ["share_content"]);
    assert!(!store.delete_group(no_group.id).await.unwrap());
    assert!(!store.delete_group(federated.id).await.unwrap());
    assert!(store.group_by_id(federated.id).await.unwrap().is_some());
    assert!(store.delete_group(alpha.id).await.unwrap());
    assert!(store.group_by_id(alpha.id).await.unwrap().is_none());
    assert!(!store.delete_group(alpha.id).await.unwrap());
    // Rights may be taken away again.
    store
        .update_group(federated.id, None, Some(&[][..]), None)
        .await
        .unwrap();
    assert!(store.group_rights(federated.id).await.unwrap().is_empty());
}

fn member_logins(rows: &[server::storage::MemberRow]) -> Vec<&str> {
    rows.iter().map(|m| m.login.as_str()).collect()
}

fn group_names(rows: &[server::storage::GroupRow]) -> Vec<&str> {
    rows.iter().map(|g| g.name.as_str()).collect()
}

/// Members, from the group and from the user; effective groups and rights.
async fn memberships(store: &Store) {
    everyone(store).await;
    let ops = ops_group(store).await;
    let no_group = store.builtin_group(BuiltinGroup::NoGroup).await.unwrap().id;
    let federated = store
        .builtin_group(BuiltinGroup::Federated)
        .await
        .unwrap()
        .id;
    let sales = store
        .create_group("Sales", &["edit_address_book", "send_files"], true, 20)
        .await
        .unwrap()
        .id;
    store
        .update_group(ops, None, Some(&["send_files", "share_content"][..]), None)
        .await
        .unwrap();
    store
        .update_group(no_group, None, Some(&["download_files"][..]), None)
        .await
        .unwrap();
    let alice = store.user_by_login("alice").await.unwrap().unwrap().id;
    let dave = store.user_by_login("dave").await.unwrap().unwrap().id;
    let moore = store.user_by_login("moore").await.unwrap().unwrap().id;

    // Nobody is in a group: all are implicit members of "Users without a group".
    assert_eq!(
        member_logins(&store.users_without_group().await.unwrap()),
        ["alice", "bob_t", "bobxt", "carol", "dave", "moore", "wolf"]
    );
    assert_eq!(
        group_names(&store.effective_groups(alice).await.unwrap()),
        ["Users without a group"]
    );
    let rights = store.effective_rights(alice).await.unwrap();
    assert_eq!(rights.len(), 1);
    assert_eq!(
        (rights[0].group_id, rights[0].right_name.as_str()),
        (no_group, "download_files")
    );
    assert!(store.has_right(alice, "download_files").await.unwrap());
    assert!(!store.has_right(alice, "send_files").await.unwrap());

    // From the group's side.
    store.set_group_members(ops, &[moore, alice]).await.unwrap();
    assert_eq!(
        member_logins(&store.group_members(ops).await.unwrap()),
        ["alice", "moore"]
    );
    let missing = store.set_group_members(ops, &[dave, UserId(999_999)]).await;
    assert!(
        matches!(missing, Err(StorageError::Missing("user"))),
        "{missing:?}"
    );
    assert_eq!(
        member_logins(&store.group_members(ops).await.unwrap()),
        ["alice", "moore"],
        "an unknown user changes nothing"
    );

    // From the user's side.
    store.set_user_groups(alice, &[sales, ops]).await.unwrap();
    assert_eq!(
        member_logins(&store.group_members(sales).await.unwrap()),
        ["alice"]
    );
    assert_eq!(
        group_names(&store.effective_groups(alice).await.unwrap()),
        ["Ops", "Sales"]
    );
    let mut counts = store.group_member_counts().await.unwrap();
    counts.sort();
    let mut expected = vec![(ops, 2), (sales, 1)];
    expected.sort();
    assert_eq!(counts, expected);
    assert!(
        !member_logins(&store.users_without_group().await.unwrap()).contains(&"alice"),
        "in a group, no longer without one"
    );

    let rights: Vec<(String, i64)> = store
        .effective_rights(alice)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.right_name, r.group_id))
        .collect();
    let mut send_files = [ops, sales];
    send_files.sort();
    assert_eq!(
        rights,
        [
            ("edit_address_book".to_owned(), sales),
            ("send_files".to_owned(), send_files[0]),
            ("send_files".to_owned(), send_files[1]),
            ("share_content".to_owned(), ops),
        ],
        "the union, each right with every group it comes from, by right then group"
    );
    assert!(store.has_right(alice, "send_files").await.unwrap());
    assert!(store.has_right(alice, "edit_address_book").await.unwrap());
    assert!(
        !store.has_right(alice, "download_files").await.unwrap(),
        "the rights of Users without a group no longer apply"
    );
    assert!(!store.has_right(alice, "operator").await.unwrap());

    for bad in [federated, no_group, 999_999] {
        let refused = store.set_user_groups(alice, &[ops, bad]).await;
        assert!(
            matches!(refused, Err(StorageError::Missing("group"))),
            "group {bad}: {refused:?}"
        );
        assert_eq!(
            group_names(&store.effective_groups(alice).await.unwrap()),
            ["Ops", "Sales"],
            "a refused change changes nothing"
        );
    }
    let unknown_user = store.set_user_groups(UserId(999_999), &[ops]).await;
    assert!(
        matches!(unknown_user, Err(StorageError::Missing("user"))),
        "{unknown_user:?}"
    );

    store.set_user_groups(alice, &[sales]).await.unwrap();
    assert_eq!(
        member_logins(&store.group_members(ops).await.unwrap()),
        ["moore"]
    );
    store.set_user_groups(moore, &[]).await.unwrap();
    assert!(store.group_members(ops).await.unwrap().is_empty());
    assert_eq!(
        group_names(&store.effective_groups(moore).await.unwrap()),
        ["Users without a group"]
    );

    // Deleting a group drops its memberships; its members fall back.
    assert!(store.delete_group(sales).await.unwrap());
    assert_eq!(
        group_names(&store.effective_groups(alice).await.unwrap()),
        ["Users without a group"]
    );
    assert!(store.has_right(alice, "download_files").await.unwrap());
    assert!(
        store
            .group_member_counts()
            .await
            .unwrap()
            .iter()
            .all(|(id, _)| *id != sales)
    );
}

/// Group and personal address books; the personal one needs `edit_address_book`.
async fn address_books(store: &Store) {
    everyone(store).await;
    let ops = ops_group(store).await;
    let no_group = store.builtin_group(BuiltinGroup::NoGroup).await.unwrap().id;
    let carol = store.user_by_login("carol").await.unwrap().unwrap().id;
    let dave = store.user_by_login("dave").await.unwrap().unwrap().id;

    let book = [
        entry("moore@localhost", ""),
        entry("moore@guest", "Albert Moore (Guest)"),
        entry("wolf@localhost", "The Wolf"),
    ];
    store.set_group_address_book(ops, &book).await.unwrap();
    assert_eq!(
        stored(&store.group_address_book(ops).await.unwrap()),
        pairs(&book),
        "in the order given"
    );
    assert!(
        store
            .group_address_book(ops)
            .await
            .unwrap()
            .iter()
            .all(|r| r.group_id == Some(ops))
    );
    let reordered = [book[2].clone(), book[0].clone()];
    store.set_group_address_book(ops, &reordered).await.unwrap();
    assert_eq!(
        stored(&store.group_address_book(ops).await.unwrap()),
        pairs(&reordered),
        "replaced: reordered, one removed"
    );
    let twice = [entry("wolf@localhost", "a"), entry("wolf@localhost", "b")];
    let refused = store.set_group_address_book(ops, &twice).await;
    assert!(
        matches!(
            refused,
            Err(StorageError::Conflict("address_book_group_entry_key"))
        ),
        "{refused:?}"
    );
    assert_eq!(
        stored(&store.group_address_book(ops).await.unwrap()),
        pairs(&reordered),
        "a refused book changes nothing"
    );
    // The same person may be in several groups' books.
    store
        .set_group_address_book(no_group, &[entry("wolf@localhost", "Wolf (all)")])
        .await
        .unwrap();
    assert_eq!(store.group_address_book(ops).await.unwrap().len(), 2);

    // Personal: refused without the right, and nothing is written. (A new
    // server grants it to "Users without a group"; this administrator took it
    // away.)
    assert!(store.has_right(carol, "edit_address_book").await.unwrap());
    assert!(
        store
            .update_group(no_group, None, Some(&[][..]), None)
            .await
            .unwrap()
    );
    assert!(!store.has_right(carol, "edit_address_book").await.unwrap());
    let mine = [entry("dave@localhost", "Dave D."), entry("x@guest", "")];
    assert!(
        !store.set_personal_address_book(carol, &mine).await.unwrap(),
        "without edit_address_book the book is not written"
    );
    assert!(store.personal_address_book(carol).await.unwrap().is_empty());

    // With the right, through a group.
    let editors = store
        .create_group("Editors", &["edit_address_book"], true, 30)
        .await
        .unwrap()
        .id;
    store.set_user_groups(carol, &[editors]).await.unwrap();
    assert!(store.set_personal_address_book(carol, &mine).await.unwrap());
    let rows = store.personal_address_book(carol).await.unwrap();
    assert_eq!(stored(&rows), pairs(&mine));
    assert!(rows.iter().all(|r| r.group_id.is_none()));
    assert!(
        store.personal_address_book(dave).await.unwrap().is_empty(),
        "books are per user"
    );
    let refused = store
        .set_personal_address_book(carol, &[entry("x@guest", ""), entry("x@guest", "")])
        .await;
    assert!(
        matches!(
            refused,
            Err(StorageError::Conflict("address_book_personal_entry_key"))
        ),
        "{refused:?}"
    );
    assert_eq!(
        stored(&store.personal_address_book(carol).await.unwrap()),
        pairs(&mine)
    );

    // The books of the user's effective groups, group by group, in order.
    store
        .set_group_address_book(editors, &[entry("moore@localhost", "M")])
        .await
        .unwrap();
    store.set_user_groups(carol, &[editors, ops]).await.unwrap();
    let effective: Vec<(Option<i64>, String)> = store
        .effective_group_address_books(carol)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.group_id, r.causeway_id))
        .collect();
    let mut expected = vec![
        (Some(ops), "wolf@localhost".to_owned()),
        (Some(ops), "moore@localhost".to_owned()),
    ];
    let editors_part = vec![(Some(editors), "moore@localhost".to_owned())];
    if editors < ops {
        expected.splice(0..0, editors_part);
    } else {
        expected.extend(editors_part);
    }
    assert_eq!(effective, expected);
    let fallback: Vec<String> = store
        .effective_group_address_books(dave)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.causeway_id)
        .collect();
    assert_eq!(
        fallback,
        ["wolf@localhost"],
        "in no group: the book of Users without a group"
    );

    // Losing the right: the book stays but may not be written.
    store.set_user_groups(carol, &[ops]).await.unwrap();
    assert!(!store.set_personal_address_book(carol, &[]).await.unwrap());
    assert_eq!(
        stored(&store.personal_address_book(carol).await.unwrap()),
        pairs(&mine)
    );
    // Deleting a group deletes its book.
    assert!(store.delete_group(editors).await.unwrap());
    assert!(store.group_address_book(editors).await.unwrap().is_empty());
    store.set_group_address_book(no_group, &[]).await.unwrap();
    assert!(store.group_address_book(no_group).await.unwrap().is_empty());
}

async fn settings(store: &Store) {
    assert_eq!(store.setting("security").await.unwrap(), None);
    store
        .put_setting("security", r#"{"password_min_length":12}"#)
        .await
        .unwrap();
    store.put_setting("federation", "{}").await.unwrap();
    assert_eq!(
        store.setting("security").await.unwrap().as_deref(),
        Some(r#"{"password_min_length":12}"#)
    );
    store
        .put_setting("security", r#"{"password_min_length":16}"#)
        .await
        .unwrap();
    assert_eq!(
        store.setting("security").await.unwrap().as_deref(),
        Some(r#"{"password_min_length":16}"#),
        "put replaces"
    );
    assert_eq!(
        store.setting("federation").await.unwrap().as_deref(),
        Some("{}")
    );
    assert_eq!(store.setting("display_fields").await.unwrap(), None);
}

async fn append(store: &Store, at: i64, actor: Option<&str>, action: &str, target: Option<&str>) {
    store
        .append_audit(&NewAuditEntry {
            at,
            actor_id: None,
            actor,
            address: Some("10.0.0.7"),
            action,
            target,
            detail: Some("50% off_peak"),
        })
        .await
        .unwrap();
}

fn actions(entries: &[app::types::AuditEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.action.as_str()).collect()
}

async fn audit(store: &Store) {
    let all = AuditFilter {
        limit: 100,
        ..AuditFilter::default()
    };
    assert!(store.list_audit(&all).await.unwrap().is_empty());
    append(store, 1, None, "sign_in.failure", Some("wolf")).await;
    append(store, 2, Some("wolf"), "sign_in.success", Some("wolf")).await;
    append(store, 3, Some("wolf"), "user.create", Some("Moore")).await;
    append(store, 4, Some("wolf"), "signxin.success", None).await;
    append(store, 5, Some("wolf"), "group.rights", Some("Ops")).await;
    store
        .append_audit(&NewAuditEntry {
            at: 6,
            actor_id: Some(1),
            actor: None,
            address: None,
            action: "x.user.create",
            target: None,
            detail: None,
        })
        .await
        .unwrap();

    let entries = store.list_audit(&all).await.unwrap();
    assert_eq!(
        actions(&entries),
        [
            "x.user.create",
            "group.rights",
            "signxin.success",
            "user.create",
            "sign_in.success",
            "sign_in.failure"
        ],
        "newest first"
    );
    assert!(entries.windows(2).all(|w| w[0].id > w[1].id));
    let first = entries.last().unwrap();
    assert_eq!(first.at, 1);
    assert_eq!(first.actor, None);
    assert_eq!(first.address.as_deref(), Some("10.0.0.7"));
    assert_eq!(first.target.as_deref(), Some("wolf"));
    assert_eq!(first.detail.as_deref(), Some("50% off_peak"));
    assert_eq!(entries[0].address, None);

    let filtered = |action: Option<&str>, text: Option<&str>| AuditFilter {
        action: action.map(str::to_owned),
        text: text.map(str::to_owned),
        limit: 100,
        before: None,
    };
    let list = |filter: AuditFilter| async move { store.list_audit(&filter).await.unwrap() };
    assert_eq!(
        actions(&list(filtered(Some("sign_in."), None)).await),
        ["sign_in.success", "sign_in.failure"],
        "a prefix; _ is literal"
    );
    assert_eq!(
        actions(&list(filtered(Some("user.create"), None)).await),
        ["user.create"],
        "anchored at the start"
    );
    assert_eq!(
        actions(&list(filtered(Some("user"), None)).await),
        ["user.create"]
    );
    assert!(
        list(filtered(Some("%"), None)).await.is_empty(),
        "% is literal"
    );
    assert_eq!(
        actions(&list(filtered(None, Some("MOORE"))).await),
        ["user.create"],
        "text in the target, any case"
    );
    assert_eq!(
        actions(&list(filtered(None, Some("wolf"))).await).len(),
        5,
        "text in the actor or target"
    );
    assert_eq!(
        actions(&list(filtered(None, Some("10.0.0"))).await).len(),
        5,
        "text in the address"
    );
    assert_eq!(
        actions(&list(filtered(None, Some("% OFF_"))).await).len(),
        5,
        "text in the detail, % and _ literal"
    );
    assert!(
        list(filtered(None, Some("o_f"))).await.is_empty(),
        "_ matches only itself"
    );
    assert_eq!(
        actions(&list(filtered(Some("sign"), Some("10.0"))).await),
        ["signxin.success", "sign_in.success", "sign_in.failure"],
        "both filters at once"
    );
    assert_eq!(
        actions(&list(filtered(Some("user"), Some("moore"))).await),
        ["user.create"]
    );

    // Paging back with `before`.
    let page = |before: Option<i64>| AuditFilter {
        before,
        limit: 4,
        ..AuditFilter::default()
    };
    let first_page = list(page(None)).await;
    assert_eq!(first_page.len(), 4);
    assert_eq!(first_page[0].id, entries[0].id);
    let second_page = list(page(Some(first_page[3].id))).await;
    assert_eq!(
        actions(&second_page),
        ["sign_in.success", "sign_in.failure"]
    );
    assert!(list(page(Some(entries[5].id))).await.is_empty());
    let before_filtered = AuditFilter {
        before: Some(entries[1].id),
        action: Some("sign_in.".into()),
        limit: 1,
        text: None,
    };
    assert_eq!(actions(&list(before_filtered).await), ["sign_in.success"]);
}

async fn throttle(store: &Store) {
    let now = 1_900_000_000_000;
    assert_eq!(store.throttle("account:wolf").await.unwrap(), None);
    let counting = ThrottleRow {
        failures: 2,
        window_started_at: now - 10,
        locked_until: None,
    };
    store.put_throttle("account:wolf", counting).await.unwrap();
    assert_eq!(
        store.throttle("account:wolf").await.unwrap(),
        Some(counting)
    );
    let locked = ThrottleRow {
        failures: 0,
        window_started_at: now,
        locked_until: Some(now + 60_000),
    };
    store.put_throttle("account:wolf", locked).await.unwrap();
    assert_eq!(
        store.throttle("account:wolf").await.unwrap(),
        Some(locked),
        "put replaces"
    );
    store
        .put_throttle(
            "account:ghost",
            ThrottleRow {
                locked_until: Some(now + 5),
                ..locked
            },
        )
        .await
        .unwrap();
    store
        .put_throttle(
            "account:moore",
            ThrottleRow {
                locked_until: Some(now - 1),
                ..locked
            },
        )
        .await
        .unwrap();
    store
        .put_throttle("address:127.0.0.1", locked)
        .await
        .unwrap();
    store.put_throttle("account:carol", counting).await.unwrap();

    let mut locks = store.account_locks(now).await.unwrap();
    locks.sort();
    assert_eq!(
        locks,
        [
            ("ghost".to_owned(), now + 5),
            ("wolf".to_owned(), now + 60_000)
        ],
        "accounts only, locks in force only"
    );
    assert_eq!(store.account_locks(now + 5).await.unwrap().len(), 1);

    store.clear_throttle("account:wolf").await.unwrap();
    assert_eq!(store.throttle("account:wolf").await.unwrap(), None);
    store
        .clear_throttle("account:wolf")
        .await
        .expect("clearing twice is fine");
    assert_eq!(
        store.throttle("address:127.0.0.1").await.unwrap(),
        Some(locked),
        "other keys stay"
    );
    assert_eq!(
        store.account_locks(now).await.unwrap(),
        [("ghost".to_owned(), now + 5)]
    );
}

async fn profile_and_password(store: &Store) {
    everyone(store).await;
    let dave = store.user_by_login("dave").await.unwrap().unwrap().id;
    let profile = Profile {
        display_name: "David".into(),
        first_name: "David".into(),
        last_name: "Dee".into(),
        email: "d@corp.example".into(),
        phone: "+1 555".into(),
        company: "Corp".into(),
        department: "Sales".into(),
        position: "Lead".into(),
    };
    assert!(store.update_profile(dave, &profile).await.unwrap());
    assert_eq!(
        store.user_by_id(dave).await.unwrap().unwrap().profile(),
        profile
    );
    assert!(
        !store
            .update_profile(UserId(999_999), &profile)
            .await
            .unwrap()
    );
    assert!(store.set_password_hash(dave, "new-hash").await.unwrap());
    assert_eq!(
        store.user_by_id(dave).await.unwrap().unwrap().password_hash,
        "new-hash"
    );
    assert!(!store.set_password_hash(UserId(999_999), "h").await.unwrap());
}

async fn other_sessions(store: &Store) {
    everyone(store).await;
    let dave = store.user_by_login("dave").await.unwrap().unwrap().id;
    let carol = store.user_by_login("carol").await.unwrap().unwrap().id;
    let now = 1_800_000_000_000;
    for (id, user) in [("d1", dave), ("d2", dave), ("d3", dave), ("c1", carol)] {
        assert!(
            store
                .insert_session(id, Some(user.0), b"{}", now + 10_000)
                .await
                .unwrap()
        );
    }
    assert_eq!(store.delete_other_sessions(dave, "d2").await.unwrap(), 2);
    assert!(store.load_session("d2", now).await.unwrap().is_some());
    assert!(store.load_session("d1", now).await.unwrap().is_none());
    assert!(store.load_session("d3", now).await.unwrap().is_none());
    assert!(
        store.load_session("c1", now).await.unwrap().is_some(),
        "another user's session stays"
    );
    assert_eq!(
        store.delete_other_sessions(dave, "d2").await.unwrap(),
        0,
        "nothing left to end"
    );
    assert_eq!(
        store.delete_other_sessions(carol, "unknown").await.unwrap(),
        1
    );
    store.delete_session("d2").await.unwrap();
}

async fn is_admin(store: &Store, id: i64) -> (bool, bool) {
    let user = store
        .user_by_id(UserId(id))
        .await
        .unwrap()
        .expect("still there");
    (user.is_admin, user.is_active)
}

/// `change_user` never leaves the server without an active administrator.
async fn last_administrator(store: &Store) {
    everyone(store).await;
    let wolf = store.user_by_login("wolf").await.unwrap().unwrap().id;
    let moore = store.user_by_login("moore").await.unwrap().unwrap().id;
    assert_eq!(store.count_active_admins().await.unwrap(), 1);
    assert_eq!(is_admin(store, wolf.0).await, (true, true));

    for change in [
        UserChange::Admin(false),
        UserChange::Active(false),
        UserChange::Delete,
    ] {
        let refused = store.change_user(wolf, change).await;
        assert!(
            matches!(refused, Err(StorageError::LastAdministrator)),
            "{change:?}: {refused:?}"
        );
        assert_eq!(
            is_admin(store, wolf.0).await,
            (true, true),
            "{change:?} changed nothing"
        );
    }
    assert!(
        store
            .change_user(moore, UserChange::Active(false))
            .await
            .unwrap(),
        "others may change freely"
    );
    assert!(
        store
            .change_user(moore, UserChange::Admin(true))
            .await
            .unwrap()
    );
    assert_eq!(
        store.count_active_admins().await.unwrap(),
        1,
        "an inactive administrator does not count"
    );
    let refused = store.change_user(wolf, UserChange::Admin(false)).await;
    assert!(matches!(refused, Err(StorageError::LastAdministrator)));
    assert!(
        store
            .change_user(moore, UserChange::Active(true))
            .await
            .unwrap()
    );
    assert_eq!(store.count_active_admins().await.unwrap(), 2);
    assert!(
        store
            .change_user(wolf, UserChange::Admin(false))
            .await
            .unwrap()
    );
    assert_eq!(is_admin(store, wolf.0).await, (false, true));
    let refused = store.change_user(moore, UserChange::Delete).await;
    assert!(matches!(refused, Err(StorageError::LastAdministrator)));
    assert!(store.user_by_id(moore).await.unwrap().is_some());

    // Unknown users: `false`, whatever the change.
    for change in [
        UserChange::Admin(false),
        UserChange::Active(false),
        UserChange::Delete,
    ] {
        assert!(!store.change_user(UserId(999_999), change).await.unwrap());
    }

    // Deleting takes the user's memberships, personal book and sessions along.
    let carol = store.user_by_login("carol").await.unwrap().unwrap().id;
    // Carol wrote a personal book while a group let her.
    let editors = store
        .create_group("Editors", &["edit_address_book"], true, 30)
        .await
        .unwrap()
        .id;
    store.set_user_groups(carol, &[editors]).await.unwrap();
    assert!(
        store
            .set_personal_address_book(carol, &[entry("dave@localhost", "Dave D.")])
            .await
            .unwrap()
    );
    let ops = ops_group(store).await;
    store.set_user_groups(carol, &[ops]).await.unwrap();
    assert!(!store.personal_address_book(carol).await.unwrap().is_empty());
    assert!(
        store
            .insert_session("c2", Some(carol.0), b"{}", 1_800_000_010_000)
            .await
            .unwrap()
    );
    assert!(store.change_user(carol, UserChange::Delete).await.unwrap());
    assert!(store.user_by_id(carol).await.unwrap().is_none());
    assert!(store.group_members(ops).await.unwrap().is_empty());
    assert!(store.personal_address_book(carol).await.unwrap().is_empty());
    assert!(
        store
            .load_session("c2", 1_800_000_000_000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.change_user(carol, UserChange::Delete).await.unwrap());
}

async fn users(store: &Store) {
    assert_eq!(store.count_active_admins().await.unwrap(), 0);
    let admin = store
        .insert_user(&NewUser {
            login: "wolf",
            profile: &named("Wolf"),
            password_hash: "$argon2id$fake",
            is_admin: true,
            created_at: 1_700_000_000_000,
        })
        .await
        .expect("insert");
    assert!(admin.id > UserId(0));
    assert_eq!(admin.login, "wolf");
    assert!(admin.is_active, "new users are active");
    assert!(admin.is_admin);
    assert_eq!(admin.email, "", "unset profile fields are empty");
    assert_eq!(admin.last_login_at, None);

    let taken = store
        .insert_user(&NewUser {
            login: "wolf",
            profile: &named("Another Wolf"),
            password_hash: "x",
            is_admin: false,
            created_at: 1,
        })
        .await;
    assert!(
        matches!(taken, Err(StorageError::Conflict("users_login_key"))),
        "a taken login is a named conflict, got {taken:?}"
    );

    let plain = store
        .insert_user(&NewUser {
            login: "moore",
            profile: &named("Albert Moore"),
            password_hash: "x",
            is_admin: false,
            created_at: 2,
        })
        .await
        .unwrap();
    assert_ne!(plain.id, admin.id);
    assert_eq!(store.count_active_admins().await.unwrap(), 1);

    let found = store
        .user_by_login("wolf")
        .await
        .unwrap()
        .expect("by login");
    assert_eq!(found.id, admin.id);
    assert_eq!(found.display_name, "Wolf");
    assert!(store.user_by_login("nobody").await.unwrap().is_none());
    assert!(
        store.user_by_login("WOLF").await.unwrap().is_none(),
        "logins match exactly"
    );
    assert_eq!(
        store.user_by_id(plain.id).await.unwrap().unwrap().login,
        "moore"
    );
    assert!(store.user_by_id(UserId(999_999)).await.unwrap().is_none());

    store
        .record_login(admin.id, 1_700_000_123_456)
        .await
        .unwrap();
    assert_eq!(
        store
            .user_by_id(admin.id)
            .await
            .unwrap()
            .unwrap()
            .last_login_at,
        Some(1_700_000_123_456)
    );

    assert!(store.set_user_active(admin.id, false).await.unwrap());
    assert_eq!(
        store.count_active_admins().await.unwrap(),
        0,
        "inactive admins do not count"
    );
    assert!(!store.user_by_id(admin.id).await.unwrap().unwrap().is_active);
    assert!(store.set_user_active(admin.id, true).await.unwrap());
    assert!(!store.set_user_active(UserId(999_999), true).await.unwrap());
}

async fn sessions(store: &Store) {
    wolf_and_moore(store).await;
    let wolf = store.user_by_login("wolf").await.unwrap().unwrap().id;
    let now = 1_800_000_000_000;

    assert!(
        store
            .insert_session("s1", Some(wolf.0), b"{\"a\":1}", now + 1000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_session("s1", None, b"{}", now + 1000)
            .await
            .unwrap(),
        "inserting a taken id reports it instead of overwriting"
    );
    let row = store.load_session("s1", now).await.unwrap().expect("loads");
    assert_eq!(row.data, b"{\"a\":1}");
    assert_eq!(row.expires_at, now + 1000);

    assert!(
        store
            .save_session("s1", Some(wolf.0), b"{\"a\":2}", now + 2000)
            .await
            .unwrap()
    );
    let row = store.load_session("s1", now).await.unwrap().unwrap();
    assert_eq!(row.data, b"{\"a\":2}", "save replaces the record");
    assert_eq!(row.expires_at, now + 2000);
    // What a signed-in request reads first: the session with its user, at once.
    let (row, user) = store
        .session_with_user("s1", now)
        .await
        .unwrap()
        .expect("a live session with its user");
    assert_eq!(
        (row.data.as_slice(), row.expires_at),
        (&b"{\"a\":2}"[..], now + 2000)
    );
    assert_eq!((user.id, user.login.as_str()), (wolf, "wolf"));
    assert!(
        store
            .session_with_user("s1", now + 2000)
            .await
            .unwrap()
            .is_none(),
        "not once it has expired"
    );

    assert!(
        store
            .load_session("s1", now + 2000)
            .await
            .unwrap()
            .is_none(),
        "an expired session does not load"
    );
    assert!(store.load_session("nope", now).await.unwrap().is_none());

    assert!(
        !store
            .save_session("ghost", Some(wolf.0), b"{}", now + 5000)
            .await
            .unwrap(),
        "saving never creates: a session ended during its request stays ended"
    );
    assert!(store.load_session("ghost", now).await.unwrap().is_none());
    for (id, user, expires) in [
        ("s2", Some(wolf), now + 5000),
        ("anon", None, now + 5000),
        ("old", None, now - 1),
    ] {
        assert!(
            store
                .insert_session(id, user.map(|id| id.0), b"{}", expires)
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .session_with_user("anon", now)
            .await
            .unwrap()
            .is_none(),
        "a session nobody is signed in on has no user"
    );
    assert_eq!(store.delete_expired_sessions(now).await.unwrap(), 1);
    assert_eq!(store.delete_user_sessions(wolf).await.unwrap(), 2);
    assert!(store.load_session("s2", now).await.unwrap().is_none());
    assert!(
        store.load_session("anon", now).await.unwrap().is_some(),
        "other sessions stay"
    );
    store.delete_session("anon").await.unwrap();
    assert!(store.load_session("anon", now).await.unwrap().is_none());
    store
        .delete_session("anon")
        .await
        .expect("deleting twice is fine");
}

/// Two administrators demoting each other at the same moment: exactly one wins,
/// so the server is never left without an active administrator.
async fn concurrent_demotions(store: &Store) {
    let (wolf, moore) = wolf_and_moore(store).await;
    store
        .change_user(UserId(moore), UserChange::Admin(true))
        .await
        .unwrap();
    let changes = [
        (UserChange::Admin(false), UserChange::Admin(false)),
        (UserChange::Active(false), UserChange::Admin(false)),
        (UserChange::Admin(false), UserChange::Active(false)),
        (UserChange::Active(false), UserChange::Active(false)),
    ];
    for (first, second) in changes {
        assert_eq!(store.count_active_admins().await.unwrap(), 2);
        let (a, b) = tokio::join!(
            store.change_user(UserId(wolf), first),
            store.change_user(UserId(moore), second)
        );
        let refused =
            |r: &Result<bool, StorageError>| matches!(r, Err(StorageError::LastAdministrator));
        assert!(
            matches!((&a, &b), (Ok(true), Err(_)) | (Err(_), Ok(true)))
                && (refused(&a) || refused(&b)),
            "{first:?} / {second:?}: exactly one wins, got {a:?} and {b:?}"
        );
        assert_eq!(store.count_active_admins().await.unwrap(), 1);
        // Restore both for the next round.
        for id in [wolf, moore] {
            store
                .change_user(UserId(id), UserChange::Active(true))
                .await
                .unwrap();
            store
                .change_user(UserId(id), UserChange::Admin(true))
                .await
                .unwrap();
        }
    }
}

/// Search in any case also for letters beyond ASCII ("Élodie", "ÖZTÜRK"):
/// the same on both backends.
async fn non_ascii_search(store: &Store) {
    add_user(
        store,
        "elodie",
        Profile {
            last_name: "Öztürk".into(),
            ..named("Élodie Öztürk")
        },
    )
    .await;
    for text in ["élodie", "ÉLODIE", "öztürk", "ÖZTÜRK", "Élodie"] {
        let (users, total) = store.list_users(text, 10, 0).await.unwrap();
        assert_eq!(
            (logins(&users), total),
            (vec!["elodie"], 1),
            "{text} finds Élodie Öztürk on {:?}",
            store.backend()
        );
    }
    append(
        store,
        1,
        Some("elodie"),
        "user.profile",
        Some("Élodie Öztürk"),
    )
    .await;
    let found = store
        .list_audit(&AuditFilter {
            text: Some("élodie öztürk".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(actions(&found), ["user.profile"], "{:?}", store.backend());
}

// ---------------------------------------------------------------------------
// Chats
// ---------------------------------------------------------------------------

fn text<'a>(
    chat_id: i64,
    sender: &'a str,
    client_id: &'a str,
    body: &'a str,
    at: i64,
) -> NewMessage<'a> {
    NewMessage {
        chat_id: ChatId(chat_id),
        sender,
        client_id,
        body,
        reply_to: None,
        file_id: None,
        at,
    }
}

async fn chats(store: &Store) {
    let wolf = "wolf@corp";
    let moore = "moore@guest";
    let key = direct_key(wolf, moore);
    assert_eq!(
        key,
        direct_key(moore, wolf),
        "one key per pair, whatever the order"
    );
    let direct = store
        .create_chat(&NewChat {
            kind: ChatKind::Direct,
            title: "",
            direct_key: Some(&key),
            created_by: wolf,
            members: &[(wolf, ChatRole::Member), (moore, ChatRole::Member)],
            at: 1_000,
        })
        .await
        .unwrap();
    assert_eq!(direct.last_seq, Seq(1), "creation is the first event");
    let again = store
        .create_chat(&NewChat {
            kind: ChatKind::Direct,
            title: "",
            direct_key: Some(&key),
            created_by: moore,
            members: &[(moore, ChatRole::Member), (wolf, ChatRole::Member)],
            at: 1_001,
        })
        .await;
    assert!(
        matches!(again, Err(StorageError::Conflict("chats_direct_key"))),
        "{again:?}"
    );
    assert_eq!(store.direct_chat(&key).await.unwrap(), Some(direct.clone()));

    // Messages take the next numbers; a retry with the same client id is not a copy.
    let (first, created) = store
        .post_message(&text(direct.id.0, wolf, "c1", "Hello, Albert", 2_000))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(first.seq, Seq(2));
    let (retry, created) = store
        .post_message(&text(direct.id.0, wolf, "c1", "Hello, Albert", 2_500))
        .await
        .unwrap();
    assert!(!created, "a retried send finds its first copy");
    assert_eq!(retry, first);
    let (second, _) = store
        .post_message(&text(direct.id.0, moore, "c1", "Hi Wolf — Grüße", 3_000))
        .await
        .unwrap();
    assert_eq!(
        second.seq,
        Seq(3),
        "another sender's client id is another message"
    );
    let missing = store.post_message(&text(999_999, wolf, "x", "?", 1)).await;
    assert!(
        matches!(missing, Err(StorageError::Missing("chat"))),
        "{missing:?}"
    );

    // A group chat with roles; the chat list orders by latest activity.
    let group = store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title: "Project X",
            direct_key: None,
            created_by: wolf,
            members: &[
                (wolf, ChatRole::Owner),
                (moore, ChatRole::Member),
                ("bob@corp", ChatRole::Admin),
            ],
            at: 4_000,
        })
        .await
        .unwrap();
    let members = store.chat_members(group.id).await.unwrap();
    let roles: Vec<(&str, &str)> = members
        .iter()
        .map(|m| (m.member.as_str(), m.role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("bob@corp", "admin"),
            ("moore@guest", "member"),
            ("wolf@corp", "owner")
        ]
    );
    assert!(
        members
            .iter()
            .all(|m| m.joined_seq == Seq(1) && m.read_seq == Seq(0))
    );
    let duplicate_member = store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title: "Twice",
            direct_key: None,
            created_by: wolf,
            members: &[(wolf, ChatRole::Owner), (wolf, ChatRole::Member)],
            at: 4_500,
        })
        .await;
    assert!(duplicate_member.is_err(), "a member is listed once");
    assert!(
        store
            .chat_member(group.id, "nobody@corp")
            .await
            .unwrap()
            .is_none()
    );

    let list = store.chats_of(wolf).await.unwrap();
    let ids: Vec<ChatId> = list.iter().map(|c| c.id).collect();
    assert_eq!(ids, [group.id, direct.id], "latest activity first");
    let listed_direct = &list[1];
    assert_eq!(
        listed_direct.unread, 1,
        "Albert's message is unread for Wolf, Wolf's own is not"
    );
    assert_eq!(listed_direct.last_seq, Seq(3));
    assert_eq!(listed_direct.last_at, 3_000);
    assert!(store.chats_of("stranger@corp").await.unwrap().is_empty());

    // Read positions move forward only, and not past the last event.
    assert_eq!(
        store.mark_read(direct.id, wolf, Seq(3)).await.unwrap(),
        Some(Seq(3))
    );
    assert_eq!(
        store.mark_read(direct.id, wolf, Seq(2)).await.unwrap(),
        Some(Seq(3)),
        "never back"
    );
    assert_eq!(
        store.mark_read(direct.id, wolf, Seq(99)).await.unwrap(),
        Some(Seq(3)),
        "never past the end"
    );
    assert_eq!(
        store
            .mark_read(direct.id, "stranger@corp", Seq(3))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.chats_of(wolf).await.unwrap()[1].unread, 0);

    // Edits and deletions are events of their own; history keeps its numbers.
    assert_eq!(
        store
            .edit_message(direct.id, Seq(2), "Hello, Mr Moore", wolf, 5_000, 0)
            .await
            .unwrap()
            .map(|event| event.seq),
        Some(Seq(4))
    );
    assert_eq!(
        store
            .delete_message(direct.id, Seq(3), moore, 6_000)
            .await
            .unwrap()
            .map(|event| event.seq),
        Some(Seq(5))
    );
    assert_eq!(
        store
            .edit_message(direct.id, Seq(3), "too late", moore, 6_500, 0)
            .await
            .unwrap(),
        None,
        "deleted stays deleted"
    );
    assert_eq!(
        store
            .delete_message(direct.id, Seq(3), moore, 6_600)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .edit_message(direct.id, Seq(42), "no such", wolf, 6_700, 0)
            .await
            .unwrap(),
        None
    );
    let history = store
        .messages(direct.id, Seq(0), None, None, 50)
        .await
        .unwrap();
    let seqs: Vec<i64> = history.iter().map(|m| m.seq.0).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(history[0].body, "Hello, Mr Moore");
    assert_eq!(history[0].edited_at, Some(5_000));
    assert_eq!(history[1].body, "", "a deleted message's text is gone");
    assert_eq!(history[1].deleted_at, Some(6_000));
    let events = store.events_after(direct.id, Seq(1), 50).await.unwrap();
    let kinds: Vec<(i64, &str, Option<i64>)> = events
        .iter()
        .map(|e| (e.seq.0, e.kind.as_str(), e.message_seq.map(|s| s.0)))
        .collect();
    assert_eq!(
        kinds,
        [
            (2, "message", Some(2)),
            (3, "message", Some(3)),
            (4, "edit", Some(2)),
            (5, "delete", Some(3))
        ]
    );
    assert_eq!(
        store
            .events_after(direct.id, Seq(4), 50)
            .await
            .unwrap()
            .len(),
        1,
        "catch-up from a known point"
    );

    // History pages both ways, always in sequence order.
    for i in 0..10 {
        let id = format!("bulk-{i}");
        store
            .post_message(&text(
                group.id.0,
                wolf,
                &id,
                &format!("message {i}"),
                7_000 + i,
            ))
            .await
            .unwrap();
    }
    let latest: Vec<i64> = store
        .messages(group.id, Seq(0), None, None, 3)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq.0)
        .collect();
    assert_eq!(latest, [9, 10, 11]);
    let older: Vec<i64> = store
        .messages(group.id, Seq(0), Some(Seq(9)), None, 3)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq.0)
        .collect();
    assert_eq!(older, [6, 7, 8]);
    let newer: Vec<i64> = store
        .messages(group.id, Seq(0), None, Some(Seq(3)), 2)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq.0)
        .collect();
    assert_eq!(newer, [4, 5]);

    // Search within a chat ignores case, beyond ASCII too.
    let found = store
        .search_messages(direct.id, Seq(0), "MR MOORE", 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let found = store
        .search_messages(group.id, Seq(0), "message 1", 10)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|m| m.seq.0).collect::<Vec<_>>(), [3]);
    assert!(
        store
            .search_messages(direct.id, Seq(0), "grüße", 10)
            .await
            .unwrap()
            .is_empty(),
        "deleted text is not found"
    );
    let (_, _) = store
        .post_message(&text(direct.id.0, moore, "c9", "ÄRGER im Büro", 8_000))
        .await
        .unwrap();
    assert_eq!(
        store
            .search_messages(direct.id, Seq(0), "ärger", 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Membership changes are events; a new member sees the chat from their addition.
async fn chat_members(store: &Store) {
    let chat = store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title: "Members",
            direct_key: None,
            created_by: "o@corp",
            members: &[("o@corp", ChatRole::Owner)],
            at: 1,
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .add_chat_member(chat.id, "n@corp", ChatRole::Member, "o@corp", 2)
            .await
            .unwrap()
            .map(|event| event.seq),
        Some(Seq(2))
    );
    let again = store
        .add_chat_member(chat.id, "n@corp", ChatRole::Member, "o@corp", 3)
        .await;
    assert!(
        matches!(again, Err(StorageError::Conflict("chat_members_pkey"))),
        "{again:?}"
    );
    assert_eq!(
        store
            .add_chat_member(ChatId(999_999), "n@corp", ChatRole::Member, "o@corp", 3)
            .await
            .unwrap(),
        None
    );
    let newcomer = store.chat_member(chat.id, "n@corp").await.unwrap().unwrap();
    assert_eq!(
        (
            newcomer.joined_seq,
            newcomer.read_seq,
            newcomer.role.as_str()
        ),
        (Seq(2), Seq(2), "member")
    );
    assert_eq!(
        store
            .set_chat_role(chat.id, "n@corp", ChatRole::Admin, "o@corp", 4)
            .await
            .unwrap()
            .map(|event| event.seq),
        Some(Seq(3))
    );
    assert_eq!(
        store
            .set_chat_role(chat.id, "x@corp", ChatRole::Admin, "o@corp", 4)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .remove_chat_member(chat.id, "n@corp", "n@corp", 5)
            .await
            .unwrap()
            .map(|event| event.seq),
        Some(Seq(4))
    );
    assert_eq!(
        store
            .remove_chat_member(chat.id, "n@corp", "o@corp", 6)
            .await
            .unwrap(),
        None
    );
    let log: Vec<(EventKind, Option<String>, Option<ChatRole>)> = store
        .events_after(chat.id, Seq(1), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.subject, e.role))
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        log,
        [
            (EventKind::MemberAdded, s("n@corp"), Some(ChatRole::Member)),
            (EventKind::RoleChanged, s("n@corp"), Some(ChatRole::Admin)),
            (EventKind::MemberLeft, s("n@corp"), None),
        ]
    );
}

/// Senders racing into one chat — enough of them that the group committer
/// stores several in one transaction — each get their own message, stored once,
/// with distinct, gap-free sequence numbers; a retry racing its first copy gets
/// that copy.
async fn concurrent_sends(store: &Store) {
    const SENDERS: usize = 16;
    const EACH: usize = 25;
    let names: Vec<String> = (0..SENDERS).map(|s| format!("s{s}@corp")).collect();
    let members: Vec<(&str, ChatRole)> = names
        .iter()
        .map(|n| (n.as_str(), ChatRole::Member))
        .collect();
    let chat = store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title: "Race",
            direct_key: None,
            created_by: "s0@corp",
            members: &members,
            at: 1,
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for sender in 0..SENDERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let sender = format!("s{sender}@corp");
            let mut acked = Vec::new();
            for i in 0..EACH {
                let id = format!("m{i}");
                let body = format!("{sender} {i}");
                let message = text(chat.id.0, &sender, &id, &body, 10 + i as i64);
                // Every fifth message is sent twice at once, as a client retrying
                // over a second connection would.
                let (row, created) = if i % 5 == 0 {
                    let (a, b) =
                        tokio::join!(store.post_message(&message), store.post_message(&message));
                    let (a, b) = (a.expect("send"), b.expect("retry"));
                    assert_eq!(a.0, b.0, "both copies answer with the one stored message");
                    assert!(a.1 ^ b.1, "exactly one of the two is new");
                    (a.0, true)
                } else {
                    store.post_message(&message).await.expect("send")
                };
                assert!(created);
                assert_eq!(
                    (row.sender.as_str(), row.client_id.as_str()),
                    (sender.as_str(), id.as_str())
                );
                assert_eq!(row.body, body, "the caller gets its own message back");
                acked.push((id, row.seq));
            }
            (sender, acked)
        }));
    }
    let mut acked = std::collections::HashMap::new();
    for task in tasks {
        let (sender, ids) = task.await.unwrap();
        for (id, seq) in ids {
            assert!(
                acked.insert(seq, (sender.clone(), id)).is_none(),
                "seq {seq} given twice"
            );
        }
    }
    let total = (SENDERS * EACH) as i64;
    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .messages(chat.id, Seq(0), None, Some(Seq(after)), 200)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq.0;
        stored.extend(page);
    }
    assert_eq!(
        stored.iter().map(|m| m.seq.0).collect::<Vec<_>>(),
        (2..=total + 1).collect::<Vec<_>>(),
        "every message once, numbered without a gap after the creation"
    );
    for m in &stored {
        assert_eq!(
            acked.get(&m.seq),
            Some(&(m.sender.clone(), m.client_id.clone()))
        );
    }
    assert_eq!(
        store.chat(chat.id).await.unwrap().unwrap().last_seq,
        Seq(total + 1)
    );
    let events = store.events_after(chat.id, Seq(0), 1000).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        (1..=total + 1).collect::<Vec<_>>(),
        "the event log has no gap either"
    );
}

/// One batch, one transaction: each message gets its own answer, and a bad one
/// (no such chat, a sender not in the chat), a retry of a stored message and a
/// repeat within the batch fail or resolve alone without costing the others
/// their numbers. Each answer names the chat's members, to push it to.
async fn batched_sends(store: &Store) {
    let chat = |title: &'static str| NewChat {
        kind: ChatKind::Group,
        title,
        direct_key: None,
        created_by: "a@corp",
        members: &[("a@corp", ChatRole::Owner), ("b@corp", ChatRole::Member)],
        at: 1,
    };
    let one = store.create_chat(&chat("One")).await.unwrap();
    let two = store.create_chat(&chat("Two")).await.unwrap();
    let (earlier, _) = store
        .post_message(&text(one.id.0, "a@corp", "earlier", "before the batch", 5))
        .await
        .unwrap();
    let batch = [
        text(two.id.0, "a@corp", "t1", "to two", 10),
        text(one.id.0, "a@corp", "o1", "to one", 11),
        text(999_999, "a@corp", "x", "to nowhere", 12),
        text(one.id.0, "a@corp", "earlier", "a retry", 13),
        text(one.id.0, "b@corp", "o1", "same id, other sender", 14),
        text(one.id.0, "a@corp", "o1", "a repeat within the batch", 15),
        text(one.id.0, "eve@corp", "e1", "from outside the chat", 16),
        text(two.id.0, "a@corp", "t2", "to two again", 17),
    ];
    let results = store.post_messages(&batch).await;
    assert_eq!(results.len(), batch.len());
    let ok = |i: usize| -> (i64, bool, String) {
        let sent = results[i]
            .as_ref()
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
        assert_eq!(
            &*sent.members,
            ["a@corp", "b@corp"].map(String::from).as_slice()
        );
        (sent.message.seq.0, sent.created, sent.message.body.clone())
    };
    assert_eq!(ok(0), (2, true, "to two".into()));
    assert_eq!(ok(1), (3, true, "to one".into()), "after `earlier` (2)");
    assert!(
        matches!(results[2], Err(StorageError::Missing("chat"))),
        "{:?}",
        results[2]
    );
    assert_eq!(ok(3), (earlier.seq.0, false, "before the batch".into()));
    assert_eq!(ok(4), (4, true, "same id, other sender".into()));
    assert_eq!(
        ok(5),
        (3, false, "to one".into()),
        "the first copy in the batch"
    );
    assert!(
        matches!(results[6], Err(StorageError::Missing("chat"))),
        "someone outside the chat cannot send to it: {:?}",
        results[6]
    );
    assert_eq!(ok(7), (3, true, "to two again".into()));
    assert_eq!(
        store.chat(one.id).await.unwrap().unwrap().last_seq,
        Seq(4),
        "the refused send took no number"
    );
    assert_eq!(store.chat(two.id).await.unwrap().unwrap().last_seq, Seq(3));
    let bodies: Vec<String> = store
        .messages(one.id, Seq(0), None, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(
        bodies,
        ["before the batch", "to one", "same id, other sender"]
    );
    let events: Vec<i64> = store
        .events_after(one.id, Seq(0), 50)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq.0)
        .collect();
    assert_eq!(events, [1, 2, 3, 4], "no gap where the refused send was");

    // Removed from the chat, a sender's retry is refused too.
    store
        .remove_chat_member(one.id, "b@corp", "b@corp", 20)
        .await
        .unwrap();
    let retry = store
        .post_message(&text(one.id.0, "b@corp", "o1", "again", 21))
        .await;
    assert!(
        matches!(retry, Err(StorageError::Missing("chat"))),
        "{retry:?}"
    );
    assert_eq!(
        store.post_messages(&[]).await.len(),
        0,
        "an empty batch is no transaction at all"
    );
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

async fn group_chat(store: &Store, title: &str, members: &[(&str, ChatRole)]) -> i64 {
    store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title,
            direct_key: None,
            created_by: members[0].0,
            members,
            at: 1,
        })
        .await
        .unwrap()
        .id
        .0
}

fn new_file<'a>(chat_id: i64, sha256: &'a str, name: &'a str, by: &'a str) -> NewFile<'a> {
    NewFile {
        chat_id: ChatId(chat_id),
        sha256,
        name,
        size: 5,
        media_type: "application/pdf",
        uploaded_by: by,
        at: 10,
        host_file_id: None,
    }
}

/// Files are found in their own chat; a message claims a file of its sender
/// once, and a refused claim leaves no trace.
async fn files(store: &Store) {
    let (a, b) = ("fa@corp", "fb@corp");
    let chat = group_chat(
        store,
        "Files",
        &[(a, ChatRole::Owner), (b, ChatRole::Member)],
    )
    .await;
    let other = group_chat(store, "Other", &[(a, ChatRole::Owner)]).await;
    let sha = "ab".repeat(32);
    let file = store
        .insert_file(&new_file(chat, &sha, "Grüße.pdf", a))
        .await
        .unwrap();
    assert_eq!(
        (
            file.chat_id,
            file.name.as_str(),
            file.size,
            file.media_type.as_str()
        ),
        (ChatId(chat), "Grüße.pdf", 5, "application/pdf")
    );
    assert_eq!(
        (file.uploaded_by.as_str(), file.created_at, file.message_seq),
        (a, 10, None)
    );
    assert_eq!(
        store.file(ChatId(chat), file.id).await.unwrap(),
        Some(file.clone())
    );
    assert_eq!(
        store.file(ChatId(other), file.id).await.unwrap(),
        None,
        "only in its own chat"
    );
    let second = store
        .insert_file(&new_file(chat, &sha, "copy.pdf", b))
        .await
        .unwrap();
    assert!(second.id > file.id);
    assert_eq!(store.files_with_content(&sha).await.unwrap(), 2);
    assert_eq!(store.files_with_content(&"cd".repeat(32)).await.unwrap(), 0);
    let gone = store.insert_file(&new_file(999_999, &sha, "x", a)).await;
    assert!(
        matches!(gone, Err(StorageError::Missing("chat"))),
        "{gone:?}"
    );
    let found = store
        .files_in(ChatId(chat), &[second.id, file.id, 999_999])
        .await
        .unwrap();
    assert_eq!(found, [file.clone(), second.clone()]);
    assert!(
        store
            .files_in(ChatId(other), &[file.id])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.files_in(ChatId(chat), &[]).await.unwrap().is_empty());

    // Only the sender's file of this chat, once.
    let last_seq = store.chat(ChatId(chat)).await.unwrap().unwrap().last_seq;
    fn carrying<'a>(
        chat_id: i64,
        sender: &'a str,
        client_id: &'a str,
        file_id: i64,
    ) -> NewMessage<'a> {
        NewMessage {
            file_id: Some(file_id),
            ..text(chat_id, sender, client_id, "", 20)
        }
    }
    for refused in [
        carrying(chat, b, "x1", file.id),
        carrying(other, a, "x2", file.id),
        carrying(chat, a, "x3", 999_999),
    ] {
        let result = store.post_message(&refused).await;
        assert!(
            matches!(result, Err(StorageError::Missing("file"))),
            "{result:?}"
        );
    }
    assert_eq!(
        store.chat(ChatId(chat)).await.unwrap().unwrap().last_seq,
        last_seq,
        "a refused claim takes no number"
    );
    let (sent, created) = store
        .post_message(&carrying(chat, a, "m1", file.id))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(sent.file_id, Some(file.id));
    assert_eq!(sent.seq, Seq(last_seq.0 + 1));
    let (retry, created) = store
        .post_message(&carrying(chat, a, "m1", file.id))
        .await
        .unwrap();
    assert!(!created, "a retried send finds its first copy");
    assert_eq!(retry, sent);
    let twice = store.post_message(&carrying(chat, a, "m2", file.id)).await;
    assert!(
        matches!(twice, Err(StorageError::Missing("file"))),
        "{twice:?}"
    );
    assert_eq!(
        store
            .file(ChatId(chat), file.id)
            .await
            .unwrap()
            .unwrap()
            .message_seq,
        Some(sent.seq)
    );
    assert_eq!(
        store.message(ChatId(chat), sent.seq).await.unwrap(),
        Some(sent.clone())
    );
    let page = store
        .messages(ChatId(chat), Seq(0), None, None, 10)
        .await
        .unwrap();
    assert_eq!(page.last().unwrap().file_id, Some(file.id));
    let (plain, _) = store
        .post_message(&text(chat, b, "t1", "no file", 30))
        .await
        .unwrap();
    assert_eq!(plain.file_id, None);
}

/// Senders racing to send one file with different client ids: one gets it.
async fn concurrent_file_sends(store: &Store) {
    let a = "race@corp";
    let chat = group_chat(store, "File race", &[(a, ChatRole::Owner)]).await;
    let file = store
        .insert_file(&new_file(chat, &"ef".repeat(32), "race.bin", a))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let client_id = format!("r{i}");
            store
                .post_message(&NewMessage {
                    file_id: Some(file.id),
                    ..text(chat, a, &client_id, "", 40)
                })
                .await
                .map(|(row, _)| row.seq)
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(seq) => won.push(seq),
            Err(StorageError::Missing("file")) => {}
            Err(other) => panic!("a losing send fails cleanly, not with {other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one send carries the file");
    assert_eq!(
        store
            .file(ChatId(chat), file.id)
            .await
            .unwrap()
            .unwrap()
            .message_seq,
        Some(won[0])
    );
}

/// Files in one batch: each send claims its file inside the batch's
/// transaction; a send whose file is taken (by an earlier send of the batch or
/// before it) or not its sender's is refused on its own, takes no number, and
/// the others are stored with their files.
async fn batched_file_sends(store: &Store) {
    let (a, b) = ("ba@corp", "bb@corp");
    let chat = group_chat(
        store,
        "Batched files",
        &[(a, ChatRole::Owner), (b, ChatRole::Member)],
    )
    .await;
    let upload = |name: &'static str, by: &'static str| {
        let store = store.clone();
        async move {
            store
                .insert_file(&new_file(chat, &"9a".repeat(32), name, by))
                .await
                .unwrap()
                .id
        }
    };
    let (one, two, theirs, taken) = (
        upload("one.pdf", a).await,
        upload("two.pdf", a).await,
        upload("theirs.pdf", b).await,
        upload("taken.pdf", a).await,
    );
    let (before, _) = store
        .post_message(&NewMessage {
            file_id: Some(taken),
            ..text(chat, a, "before", "", 5)
        })
        .await
        .unwrap();
    let with = |client_id: &'static str, file_id: i64| NewMessage {
        file_id: Some(file_id),
        ..text(chat, a, client_id, "", 10)
    };
    let batch = [
        with("f1", one),
        with("f2", one),
        with("f3", theirs),
        text(chat, a, "p1", "plain", 11),
        with("f4", taken),
        with("f1", one),
        with("f5", two),
        with("before", taken),
    ];
    let results = store.post_messages(&batch).await;
    let seq_file = |i: usize| -> (i64, bool, Option<i64>) {
        let sent = results[i]
            .as_ref()
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
        (sent.message.seq.0, sent.created, sent.message.file_id)
    };
    let refused = |i: usize| matches!(results[i], Err(StorageError::Missing("file")));
    let next = before.seq.0 + 1;
    assert_eq!(seq_file(0), (next, true, Some(one)));
    assert!(refused(1), "the file went with f1: {:?}", results[1]);
    assert!(refused(2), "not the sender's file: {:?}", results[2]);
    assert_eq!(seq_file(3), (next + 1, true, None));
    assert!(refused(4), "sent before the batch: {:?}", results[4]);
    assert_eq!(seq_file(5), (next, false, Some(one)), "a repeat of f1");
    assert_eq!(seq_file(6), (next + 2, true, Some(two)));
    assert_eq!(
        seq_file(7),
        (before.seq.0, false, Some(taken)),
        "a retry of the send that took the file"
    );
    assert_eq!(
        store.chat(ChatId(chat)).await.unwrap().unwrap().last_seq,
        Seq(next + 2),
        "refused sends take no number"
    );
    for (file, seq) in [(one, Some(next)), (two, Some(next + 2)), (theirs, None)] {
        assert_eq!(
            store
                .file(ChatId(chat), file)
                .await
                .unwrap()
                .unwrap()
                .message_seq,
            seq.map(Seq)
        );
    }
    let events: Vec<i64> = store
        .events_after(ChatId(chat), before.seq.before(), 50)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq.0)
        .collect();
    assert_eq!(events, [before.seq.0, next, next + 1, next + 2], "no gap");
    let stored = store
        .message(ChatId(chat), Seq(next + 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.client_id.as_str(), stored.file_id),
        ("f5", Some(two))
    );
}

/// Handing a chat over and an owner leaving are one transaction each: raced
/// against each other, the chat ends with exactly one owner. Edits are checked
/// where they are written: by the sender, within the window, still a member,
/// never leaving a message without text or file.
async fn ownership_and_edits_hold_together(store: &Store) {
    for round in 0..5 {
        let owner = format!("own{round}@corp");
        let chat = store
            .create_chat(&NewChat {
                kind: ChatKind::Group,
                title: "Race",
                direct_key: None,
                created_by: &owner,
                members: &[
                    (&owner, ChatRole::Owner),
                    ("adm@corp", ChatRole::Admin),
                    ("mem@corp", ChatRole::Member),
                ],
                at: 1,
            })
            .await
            .unwrap();
        let (handed, left) = tokio::join!(
            store.hand_chat_over(chat.id, &owner, "mem@corp", 2),
            store.leave_chat(chat.id, &owner, 2),
        );
        let (handed, left) = (handed.unwrap(), left.unwrap());
        assert!(left.is_some(), "the owner left");
        let owners: Vec<String> = store
            .chat_members(chat.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.role == ChatRole::Owner)
            .map(|m| m.member)
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "round {round}: {owners:?} (handed: {handed:?})"
        );
        assert!(store.chat_member(chat.id, &owner).await.unwrap().is_none());
    }

    // An owner who leaves hands over to the longest-standing admin.
    let chat = store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title: "Heirs",
            direct_key: None,
            created_by: "o@corp",
            members: &[("o@corp", ChatRole::Owner), ("m@corp", ChatRole::Member)],
            at: 1,
        })
        .await
        .unwrap();
    store
        .add_chat_member(chat.id, "a@corp", ChatRole::Admin, "o@corp", 2)
        .await
        .unwrap();
    let seqs = store
        .leave_chat(chat.id, "o@corp", 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seqs.len(), 2, "a hand-over and a departure");
    let heir = store.chat_member(chat.id, "a@corp").await.unwrap().unwrap();
    assert_eq!(heir.role, ChatRole::Owner);
    assert_eq!(store.leave_chat(chat.id, "o@corp", 4).await.unwrap(), None);
    assert_eq!(
        store
            .hand_chat_over(chat.id, "m@corp", "a@corp", 5)
            .await
            .unwrap(),
        None,
        "only the owner hands over"
    );

    // Edits.
    let sent = store
        .post_message(&NewMessage {
            chat_id: chat.id,
            sender: "m@corp",
            client_id: "e-1",
            body: "first",
            reply_to: None,
            file_id: None,
            at: 10_000,
        })
        .await
        .unwrap()
        .0;
    let edit = |by: &'static str, body: &'static str, since: i64| {
        store.edit_message(chat.id, sent.seq, body, by, 20_000, since)
    };
    assert_eq!(
        edit("a@corp", "not mine", 0).await.unwrap(),
        None,
        "not the sender"
    );
    assert_eq!(
        edit("m@corp", "too late", 10_001).await.unwrap(),
        None,
        "window closed"
    );
    assert_eq!(
        edit("m@corp", "", 0).await.unwrap(),
        None,
        "no text, no file"
    );
    assert!(edit("m@corp", "second", 10_000).await.unwrap().is_some());
    store
        .leave_chat(chat.id, "m@corp", 30_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        edit("m@corp", "third", 0).await.unwrap(),
        None,
        "not a member any more"
    );
    assert_eq!(
        store
            .message(chat.id, sent.seq)
            .await
            .unwrap()
            .unwrap()
            .body,
        "second"
    );
}

/// Sign-in attempts in flight count toward a threshold without being failures;
/// only failures lock, and an attempt left in flight (a crash) stops counting.
async fn sign_in_reservations(store: &Store) {
    use server::storage::{Reservation, ThrottleKey};
    let keys = [ThrottleKey {
        key: "account:racer".to_owned(),
        threshold: 2,
        window_ms: None,
    }];
    let now = 1_000_000;
    assert_eq!(
        store.reserve_sign_in(&keys, now).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        store.reserve_sign_in(&keys, now).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        store.reserve_sign_in(&keys, now).await.unwrap(),
        Reservation::Busy
    );
    // Both succeed: nothing was a failure, nothing is locked.
    for _ in 0..2 {
        let locked = store
            .finish_sign_in(&keys, false, &[], 60_000, now)
            .await
            .unwrap();
        assert_eq!(locked, None);
    }
    assert_eq!(
        store.reserve_sign_in(&keys, now).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        store
            .finish_sign_in(&keys, true, &[], 60_000, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.reserve_sign_in(&keys, now).await.unwrap(),
        Reservation::Reserved
    );
    // The second failure reaches the threshold: a lock.
    assert_eq!(
        store
            .finish_sign_in(&keys, true, &[], 60_000, now)
            .await
            .unwrap(),
        Some(now + 60_000)
    );
    assert_eq!(
        store.reserve_sign_in(&keys, now + 1).await.unwrap(),
        Reservation::Locked(now + 60_000)
    );
    // After the lock: one attempt in flight, then forgotten (never finished);
    // a minute later it no longer counts.
    let later = now + 60_001;
    assert_eq!(
        store.reserve_sign_in(&keys, later).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        store.reserve_sign_in(&keys, later).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        store.reserve_sign_in(&keys, later).await.unwrap(),
        Reservation::Busy
    );
    assert_eq!(
        store.reserve_sign_in(&keys, later + 60_001).await.unwrap(),
        Reservation::Reserved
    );
}

/// Steps run with `store.transaction` are kept together or not at all, and
/// adding several members is one such transaction.
async fn transactions_compose(store: &Store) {
    let chat = store
        .create_chat(&NewChat {
            kind: ChatKind::Group,
            title: "Steps",
            direct_key: None,
            created_by: "o@corp",
            members: &[("o@corp", ChatRole::Owner)],
            at: 1,
        })
        .await
        .unwrap();
    // A cursor, an event, a role: then a step fails, and none of them stays.
    let failed = store
        .transaction(async |tx| {
            tx.ensure_cursor("guest", chat.id).await?;
            let kind = EventKind::MemberAdded;
            tx.append_event(chat.id, kind, "o@corp", 2, None, Some("n@guest"), None)
                .await?;
            tx.update_role(chat.id, "o@corp", ChatRole::Admin).await?;
            tx.insert_member(chat.id, "o@corp", ChatRole::Member, Seq(2), Seq(2))
                .await
        })
        .await;
    assert!(
        matches!(failed, Err(StorageError::Conflict("chat_members_pkey"))),
        "{failed:?}"
    );
    assert!(store.destinations_pending().await.unwrap().is_empty());
    assert_eq!(store.chat(chat.id).await.unwrap().unwrap().last_seq, Seq(1));
    let owner = store.chat_member(chat.id, "o@corp").await.unwrap().unwrap();
    assert_eq!(owner.role, ChatRole::Owner);

    // Members added together: those already in are left as they are, each
    // newcomer gets an event in order, and their server a cursor.
    let seqs = store
        .add_chat_members(
            chat.id,
            &["o@corp", "n@guest", "m@guest"],
            &["guest"],
            "o@corp",
            3,
        )
        .await
        .unwrap();
    let seqs: Vec<Seq> = seqs.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, [Seq(2), Seq(3)]);
    assert_eq!(store.destinations_pending().await.unwrap(), ["guest"]);
    let members: Vec<String> = store
        .chat_members(chat.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.member)
        .collect();
    assert_eq!(members.len(), 3, "{members:?}");
    let added = store
        .chat_member(chat.id, "m@guest")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((added.joined_seq, added.role), (Seq(3), ChatRole::Member));
}
