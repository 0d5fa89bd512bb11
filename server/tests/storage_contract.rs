//! The storage contract: one suite of assertions, run against SQLite and against
//! PostgreSQL, so both implementations of the storage interface behave the same.

mod common;

use app::types::Profile;
use common::PgDatabase;
use server::storage::{NewUser, StorageError, Store};

fn named(display_name: &str) -> Profile {
    Profile {
        display_name: display_name.to_owned(),
        ..Profile::default()
    }
}

async fn contract(store: &Store) {
    // Migrations are idempotent: a second run finds nothing to do.
    store.migrate().await.expect("migrations apply");
    store
        .migrate()
        .await
        .expect("migrations re-apply as a no-op");
    store.ping().await.expect("ping");

    users(store).await;
    sessions(store).await;
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
    assert!(admin.id > 0);
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
    assert!(store.user_by_id(999_999).await.unwrap().is_none());

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
    assert!(!store.set_user_active(999_999, true).await.unwrap());
}

async fn sessions(store: &Store) {
    let wolf = store.user_by_login("wolf").await.unwrap().unwrap().id;
    let now = 1_800_000_000_000;

    assert!(
        store
            .insert_session("s1", Some(wolf), b"{\"a\":1}", now + 1000)
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

    store
        .save_session("s1", Some(wolf), b"{\"a\":2}", now + 2000)
        .await
        .unwrap();
    let row = store.load_session("s1", now).await.unwrap().unwrap();
    assert_eq!(row.data, b"{\"a\":2}", "save replaces the record");
    assert_eq!(row.expires_at, now + 2000);

    assert!(
        store
            .load_session("s1", now + 2000)
            .await
            .unwrap()
            .is_none(),
        "an expired session does not load"
    );
    assert!(store.load_session("nope", now).await.unwrap().is_none());

    store
        .save_session("s2", Some(wolf), b"{}", now + 5000)
        .await
        .unwrap();
    store
        .save_session("anon", None, b"{}", now + 5000)
        .await
        .unwrap();
    store
        .save_session("old", None, b"{}", now - 1)
        .await
        .unwrap();
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

#[tokio::test]
async fn sqlite_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/folder/causeway.db").display()
    );
    let store = Store::connect(&url, 4)
        .await
        .expect("connect creates the file and folders");
    contract(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_meets_the_contract() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = Store::connect(&db.url, 4).await.expect("connect");
    contract(&store).await;
    store.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn unknown_database_schemes_are_refused() {
    let error = Store::connect("mysql://localhost/db", 1).await.unwrap_err();
    assert!(matches!(error, StorageError::UnknownScheme));
}
