//! The control panel's API and the user's own account, through real HTTP against
//! a real server: users, groups and rights, address books, settings, sign-in
//! throttling, the audit log and self-service. Who may call what is
//! `tests/it/authorization.rs`.

use std::collections::BTreeMap;

use app::types::{
    AuditEntry, AuditPage, BuiltinGroup, Contact, ContactSource, Contacts, DisplayFields,
    FederationMode, FederationSettings, GroupDetail, GroupRef, GroupSummary, MyAccount, Profile,
    ProfileField, Right, RightGrant, SecuritySettings, UserDetail, UserPage,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::common::{self, Client, PgDatabase, TestServer};

const USERS: &str = "/api/v1/admin/users";
const GROUPS: &str = "/api/v1/admin/groups";
const SECURITY: &str = "/api/v1/admin/settings/security";
const DISPLAY_FIELDS: &str = "/api/v1/admin/settings/display-fields";
const FEDERATION: &str = "/api/v1/admin/federation";
const AUDIT: &str = "/api/v1/admin/audit";
const CONTACTS: &str = "/api/v1/contacts";
const MY_BOOK: &str = "/api/v1/me/address-book";

/// The password every test user gets (the panel's default minimum is 10).
const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "staple battery horse";

fn user_path(id: i64) -> String {
    format!("{USERS}/{id}")
}

fn group_path(id: i64) -> String {
    format!("{GROUPS}/{id}")
}

/// Asserts the status and reads the body as `T`.
async fn ok<T: DeserializeOwned>(response: reqwest::Response, status: u16) -> T {
    let got = response.status().as_u16();
    let url = response.url().path().to_owned();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

/// Asserts a status without a body worth reading (204).
async fn done(response: reqwest::Response, status: u16) {
    let got = response.status().as_u16();
    let url = response.url().path().to_owned();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{url}: {body}");
}

/// Asserts an API error's status and code; returns its message.
async fn refused(response: reqwest::Response, status: u16, code: &str) -> String {
    let got = response.status().as_u16();
    let url = response.url().path().to_owned();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{url}: {body}");
    let value: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
    assert_eq!(value["error"]["code"], code, "{url}: {body}");
    let message = value["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{url}: an error says what is wrong");
    message.to_owned()
}

async fn get_query(client: &Client, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
    client
        .http
        .get(format!("{}{path}", client.base))
        .query(query)
        .send()
        .await
        .unwrap()
}

fn new_user(login: &str, display_name: &str) -> Value {
    json!({
        "login": login,
        "password": PASSWORD,
        "profile": { "display_name": display_name },
    })
}

async fn create_user(admin: &Client, login: &str, display_name: &str) -> UserDetail {
    ok(
        admin.post_json(USERS, &new_user(login, display_name)).await,
        201,
    )
    .await
}

async fn create_group(admin: &Client, name: &str, rights: &[&str]) -> GroupDetail {
    ok(
        admin
            .post_json(GROUPS, &json!({ "name": name, "rights": rights }))
            .await,
        201,
    )
    .await
}

async fn user(admin: &Client, id: i64) -> UserDetail {
    admin.get_ok(&user_path(id)).await
}

async fn group(admin: &Client, id: i64) -> GroupDetail {
    admin.get_ok(&group_path(id)).await
}

async fn groups(admin: &Client) -> Vec<GroupSummary> {
    admin.get_ok(GROUPS).await
}

/// Takes back what a new server grants by default: the rights of both
/// built-in groups, and "members see each other" of "Users without a group" —
/// for tests of a server whose administrator grants nothing unasked.
async fn bare(admin: &Client) {
    for which in [BuiltinGroup::NoGroup, BuiltinGroup::Federated] {
        let id = builtin(admin, which).await;
        ok::<GroupDetail>(
            admin
                .patch_json(
                    &group_path(id),
                    &json!({ "rights": [], "members_see_each_other": false }),
                )
                .await,
            200,
        )
        .await;
    }
}

async fn builtin(admin: &Client, which: BuiltinGroup) -> i64 {
    groups(admin)
        .await
        .into_iter()
        .find(|g| g.builtin == Some(which))
        .expect("the built-in group exists")
        .id
}

async fn users_page(admin: &Client, query: &[(&str, &str)]) -> UserPage {
    ok(get_query(admin, USERS, query).await, 200).await
}

async fn all_logins(admin: &Client) -> Vec<String> {
    users_page(admin, &[("per_page", "100")])
        .await
        .items
        .into_iter()
        .map(|u| u.login)
        .collect()
}

async fn audit(admin: &Client, query: &[(&str, &str)]) -> AuditPage {
    ok(get_query(admin, AUDIT, query).await, 200).await
}

fn names(groups: &[GroupRef]) -> Vec<&str> {
    groups.iter().map(|g| g.name.as_str()).collect()
}

fn member_logins(group: &GroupDetail) -> Vec<&str> {
    group.members.iter().map(|m| m.login.as_str()).collect()
}

fn sorted_rights(rights: &[Right]) -> Vec<Right> {
    let mut rights = rights.to_vec();
    rights.sort();
    rights
}

/// Effective rights as `(right, names of the groups it comes from)`, by right name.
fn grants(grants: &[RightGrant]) -> Vec<(Right, Vec<String>)> {
    let mut out: Vec<(Right, Vec<String>)> = grants
        .iter()
        .map(|g| {
            let mut names: Vec<String> = g.groups.iter().map(|g| g.name.clone()).collect();
            names.sort();
            (g.right, names)
        })
        .collect();
    out.sort_by_key(|(right, _)| right.as_str());
    out
}

fn grant(right: Right, groups: &[&str]) -> (Right, Vec<String>) {
    let mut names: Vec<String> = groups.iter().map(|s| (*s).to_owned()).collect();
    names.sort();
    (right, names)
}

fn actions(entries: &[AuditEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.action.as_str()).collect()
}

fn book(entries: &[(&str, &str)]) -> Value {
    json!({
        "entries": entries
            .iter()
            .map(|(id, name)| json!({ "causeway_id": id, "display_name": name }))
            .collect::<Vec<_>>()
    })
}

fn book_of(group: &GroupDetail) -> Vec<(String, String)> {
    group
        .address_book
        .iter()
        .map(|e| (e.causeway_id.to_string(), e.display_name.clone()))
        .collect()
}

fn pairs(entries: &[(&str, &str)]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(id, name)| ((*id).to_owned(), (*name).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------
// 1. Users
// ---------------------------------------------------------------------------

#[tokio::test]
async fn creating_a_user_and_refusing_bad_input() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let no_group = builtin(&admin, BuiltinGroup::NoGroup).await;

    let created: UserDetail = ok(
        admin
            .post_json(
                USERS,
                &json!({
                    "login": "moore",
                    "password": PASSWORD,
                    "profile": {
                        "display_name": "  Albert Moore ",
                        "first_name": "Albert",
                        "last_name": "Moore",
                        "email": "moore@corp.example",
                        "phone": "+1 555 0100",
                        "company": "Corp",
                        "department": "Research",
                        "position": "Engineer",
                    },
                }),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(created.causeway_id.to_string(), "moore@localhost");
    assert_eq!(created.login, "moore");
    assert_eq!(
        created.profile,
        Profile {
            display_name: "Albert Moore".into(),
            first_name: "Albert".into(),
            last_name: "Moore".into(),
            email: "moore@corp.example".into(),
            phone: "+1 555 0100".into(),
            company: "Corp".into(),
            department: "Research".into(),
            position: "Engineer".into(),
        },
        "stored trimmed"
    );
    assert!(created.is_active);
    assert!(!created.is_admin);
    assert_eq!(created.locked_until, None);
    assert_eq!(created.last_login_at, None);
    assert_eq!(
        created.groups,
        [GroupRef {
            id: no_group,
            name: "Users without a group".into(),
            builtin: Some(BuiltinGroup::NoGroup),
        }]
    );
    assert_eq!(
        grants(&created.effective_rights),
        [
            grant(Right::DownloadFiles, &["Users without a group"]),
            grant(Right::EditAddressBook, &["Users without a group"]),
            grant(Right::SendFiles, &["Users without a group"]),
        ],
        "a new server's defaults"
    );
    assert_eq!(user(&admin, created.id).await, created);
    let me = server.sign_in("moore", PASSWORD).await.me_ok().await;
    assert_eq!(me.display_name, "Albert Moore");
    assert!(!me.is_admin);

    let with = |login: &str, password: &str, profile: Value| json!({ "login": login, "password": password, "profile": profile });
    let named = json!({ "display_name": "Newbie" });
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "taken login",
            with("moore", PASSWORD, named.clone()),
            409,
            "conflict",
        ),
        (
            "taken login, spaced",
            with(" moore ", PASSWORD, named.clone()),
            409,
            "conflict",
        ),
        (
            "capitals",
            with("Newbie", PASSWORD, named.clone()),
            422,
            "invalid_input",
        ),
        (
            "space",
            with("new bie", PASSWORD, named.clone()),
            422,
            "invalid_input",
        ),
        (
            "empty login",
            with("", PASSWORD, named.clone()),
            422,
            "invalid_input",
        ),
        (
            "a Causeway ID",
            with("newbie@localhost", PASSWORD, named.clone()),
            422,
            "invalid_input",
        ),
        (
            "65 characters",
            with(&"n".repeat(65), PASSWORD, named.clone()),
            422,
            "invalid_input",
        ),
        (
            "9-character password",
            with("newbie", "123456789", named.clone()),
            422,
            "invalid_input",
        ),
        (
            "over-long password",
            with("newbie", &"p".repeat(1025), named.clone()),
            422,
            "invalid_input",
        ),
        (
            "long display name",
            with(
                "newbie",
                PASSWORD,
                json!({ "display_name": "x".repeat(129) }),
            ),
            422,
            "invalid_input",
        ),
        (
            "long email",
            with(
                "newbie",
                PASSWORD,
                json!({ "display_name": "N", "email": format!("{}@corp.example", "e".repeat(245)) }),
            ),
            422,
            "invalid_input",
        ),
        (
            "long phone",
            with(
                "newbie",
                PASSWORD,
                json!({ "display_name": "N", "phone": "1".repeat(41) }),
            ),
            422,
            "invalid_input",
        ),
        (
            "bad email",
            with(
                "newbie",
                PASSWORD,
                json!({ "display_name": "N", "email": "not-an-address" }),
            ),
            422,
            "invalid_input",
        ),
        (
            "blank display name",
            with("newbie", PASSWORD, json!({ "display_name": "   " })),
            422,
            "invalid_input",
        ),
        (
            "no display name",
            with("newbie", PASSWORD, json!({ "email": "n@corp.example" })),
            400,
            "bad_request",
        ),
        (
            "no profile",
            json!({ "login": "newbie", "password": PASSWORD }),
            400,
            "bad_request",
        ),
        (
            "unknown field",
            json!({ "login": "newbie", "password": PASSWORD, "profile": named, "role": "boss" }),
            400,
            "bad_request",
        ),
        (
            "unknown profile field",
            with(
                "newbie",
                PASSWORD,
                json!({ "display_name": "N", "nickname": "n" }),
            ),
            400,
            "bad_request",
        ),
        (
            "unknown group",
            json!({ "login": "newbie", "password": PASSWORD, "profile": named, "group_ids": [999_999] }),
            422,
            "invalid_input",
        ),
        (
            "a built-in group",
            json!({ "login": "newbie", "password": PASSWORD, "profile": named, "group_ids": [no_group] }),
            422,
            "invalid_input",
        ),
    ];
    for (why, body, status, code) in cases {
        let response = admin.post_json(USERS, &body).await;
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{why}: {text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["error"]["code"], code, "{why}: {text}");
        assert_eq!(
            all_logins(&admin).await,
            ["admin", "moore"],
            "{why}: nothing created"
        );
    }
    assert_eq!(
        user(&admin, created.id).await.profile.display_name,
        "Albert Moore",
        "the taken account is untouched"
    );

    // Exactly the minimum length is enough.
    let response = admin
        .post_json(
            USERS,
            &json!({ "login": "tenner", "password": "0123456789", "profile": { "display_name": "Ten" } }),
        )
        .await;
    ok::<UserDetail>(response, 201).await;
    server.sign_in("tenner", "0123456789").await;
    assert_eq!(all_logins(&admin).await, ["admin", "moore", "tenner"]);
    server.stop().await;
}

#[tokio::test]
async fn the_user_list_searches_and_pages() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let people = [
        (
            "alice",
            "Alice L.",
            "Alice",
            "Liddell",
            "alice@wonder.example",
        ),
        ("bob", "Bob T.", "Robert", "Tables", "bob@tables.example"),
        ("carol", "Carol Danvers", "", "", ""),
        ("dave", "Dave", "", "", "DAVE@EXAMPLE.COM"),
        ("erin", "Erin", "", "", ""),
        ("frank", "Frank", "", "", ""),
    ];
    for (login, display_name, first_name, last_name, email) in people {
        let body = json!({
            "login": login,
            "password": PASSWORD,
            "profile": {
                "display_name": display_name,
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
            },
        });
        ok::<UserDetail>(admin.post_json(USERS, &body).await, 201).await;
    }

    let everyone = users_page(&admin, &[]).await;
    assert_eq!(everyone.total, 7);
    assert_eq!((everyone.page, everyone.per_page), (1, 25), "the defaults");
    let logins: Vec<&str> = everyone.items.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(
        logins,
        ["admin", "alice", "bob", "carol", "dave", "erin", "frank"]
    );
    let alice = &everyone.items[1];
    assert_eq!(alice.display_name, "Alice L.");
    assert_eq!(alice.email, "alice@wonder.example");
    assert!(alice.is_active && !alice.is_admin);
    assert_eq!((alice.locked_until, alice.last_login_at), (None, None));
    assert!(everyone.items[0].is_admin);
    assert!(
        everyone.items[0].last_login_at.is_some(),
        "the administrator has signed in"
    );

    let search = |text: &'static str| {
        let admin = &admin;
        async move {
            let page = users_page(admin, &[("search", text)]).await;
            assert_eq!(page.total, page.items.len() as i64, "{text}");
            page.items.into_iter().map(|u| u.login).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("LIDDELL").await, ["alice"], "last name, any case");
    assert_eq!(search("wonder").await, ["alice"], "email");
    assert_eq!(search("robert").await, ["bob"], "first name");
    assert_eq!(search("tables").await, ["bob"], "last name and email");
    assert_eq!(search("danvers").await, ["carol"], "display name");
    assert_eq!(search("dave@example").await, ["dave"], "email, any case");
    assert_eq!(search("  erin ").await, ["erin"], "trimmed");
    assert_eq!(search("admin").await, ["admin"], "login");
    assert_eq!(search("%").await, Vec::<String>::new(), "% is literal");
    assert_eq!(search("_").await, Vec::<String>::new(), "_ is literal");
    assert_eq!(search("nobody").await, Vec::<String>::new());

    let page = |page: &'static str| {
        let admin = &admin;
        async move {
            let got = users_page(admin, &[("page", page), ("per_page", "3")]).await;
            assert_eq!(got.total, 7, "the total counts every match");
            assert_eq!(got.per_page, 3);
            assert_eq!(got.page.to_string(), page);
            got.items.into_iter().map(|u| u.login).collect::<Vec<_>>()
        }
    };
    assert_eq!(page("1").await, ["admin", "alice", "bob"]);
    assert_eq!(page("2").await, ["carol", "dave", "erin"]);
    assert_eq!(page("3").await, ["frank"]);
    assert_eq!(page("4").await, Vec::<String>::new());
    let searched = users_page(&admin, &[("search", "a"), ("page", "2"), ("per_page", "2")]).await;
    // "a" is in admin, alice, bob (Tables), carol, dave, frank.
    assert_eq!(searched.total, 6);
    let logins: Vec<&str> = searched.items.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(logins, ["bob", "carol"]);

    let long = "x".repeat(101);
    let bad = [
        (("per_page", "0"), 422, "invalid_input"),
        (("per_page", "101"), 422, "invalid_input"),
        (("page", "0"), 422, "invalid_input"),
        (("page", "first"), 400, "bad_request"),
        (("page", "-1"), 400, "bad_request"),
        (("sort", "login"), 400, "bad_request"),
        (("search", long.as_str()), 422, "invalid_input"),
    ];
    for (query, status, code) in bad {
        refused(get_query(&admin, USERS, &[query]).await, status, code).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn editing_deactivating_and_deleting_a_user() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let moore = create_user(&admin, "moore", "Albert Moore").await;
    let path = user_path(moore.id);

    let edited: UserDetail = ok(
        admin
            .patch_json(
                &path,
                &json!({ "profile": {
                    "display_name": "Al Moore",
                    "email": "al@corp.example",
                    "company": "Corp",
                } }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(edited.profile.display_name, "Al Moore");
    assert_eq!(edited.profile.email, "al@corp.example");
    assert_eq!(edited.profile.company, "Corp");
    assert_eq!(edited.login, "moore", "the login never changes");
    assert_eq!(user(&admin, moore.id).await, edited);
    let listed = users_page(&admin, &[("search", "moore")]).await.items;
    assert_eq!(listed[0].display_name, "Al Moore");
    assert_eq!(listed[0].email, "al@corp.example");

    refused(
        admin
            .patch_json(
                &path,
                &json!({ "profile": { "display_name": "X", "email": "nope" } }),
            )
            .await,
        422,
        "invalid_input",
    )
    .await;
    refused(
        admin.patch_json(&path, &json!({ "login": "other" })).await,
        400,
        "bad_request",
    )
    .await;
    assert_eq!(
        user(&admin, moore.id).await,
        edited,
        "refused edits change nothing"
    );

    // Deactivation ends the open session at once and refuses sign-in.
    let session = server.sign_in("moore", PASSWORD).await;
    assert_eq!(session.me_ok().await.id, moore.id);
    let off: UserDetail = ok(
        admin
            .patch_json(&path, &json!({ "is_active": false }))
            .await,
        200,
    )
    .await;
    assert!(!off.is_active);
    refused(session.me().await, 401, "unauthenticated").await;
    refused(
        session.get("/api/v1/me/account").await,
        401,
        "unauthenticated",
    )
    .await;
    refused(
        server.client().login("moore", PASSWORD, false).await,
        403,
        "account_disabled",
    )
    .await;
    let listed = users_page(&admin, &[("search", "moore")]).await.items;
    assert!(!listed[0].is_active);

    ok::<UserDetail>(
        admin.patch_json(&path, &json!({ "is_active": true })).await,
        200,
    )
    .await;
    let session = server.sign_in("moore", PASSWORD).await;

    // Deletion.
    done(admin.delete(&path).await, 204).await;
    refused(admin.get(&path).await, 404, "not_found").await;
    refused(session.me().await, 401, "unauthenticated").await;
    refused(
        server.client().login("moore", PASSWORD, false).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(all_logins(&admin).await, ["admin"]);
    refused(admin.delete(&path).await, 404, "not_found").await;

    // Unknown and malformed ids.
    let missing = user_path(999_999);
    refused(admin.get(&missing).await, 404, "not_found").await;
    refused(
        admin
            .patch_json(&missing, &json!({ "is_active": false }))
            .await,
        404,
        "not_found",
    )
    .await;
    refused(admin.delete(&missing).await, 404, "not_found").await;
    refused(
        admin
            .put_json(
                &format!("{missing}/password"),
                &json!({ "password": NEW_PASSWORD }),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    refused(
        admin
            .put_json(&format!("{missing}/groups"), &json!({ "ids": [] }))
            .await,
        404,
        "not_found",
    )
    .await;
    refused(
        admin
            .send(Method::POST, &format!("{missing}/unlock"), None)
            .await,
        404,
        "not_found",
    )
    .await;
    refused(
        admin.get(&format!("{USERS}/not-a-number")).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(all_logins(&admin).await, ["admin"]);
    server.stop().await;
}

#[tokio::test]
async fn granting_administrator_and_setting_a_password() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let ann = create_user(&admin, "ann", "Ann").await;
    let path = user_path(ann.id);
    let session = server.sign_in("ann", PASSWORD).await;
    refused(session.get(USERS).await, 403, "forbidden").await;

    let granted: UserDetail = ok(
        admin.patch_json(&path, &json!({ "is_admin": true })).await,
        200,
    )
    .await;
    assert!(granted.is_admin);
    assert!(session.me_ok().await.is_admin);
    ok::<UserPage>(session.get(USERS).await, 200).await;

    let revoked: UserDetail = ok(
        admin.patch_json(&path, &json!({ "is_admin": false })).await,
        200,
    )
    .await;
    assert!(!revoked.is_admin);
    refused(session.get(USERS).await, 403, "forbidden").await;

    // A refused password changes nothing.
    refused(
        admin
            .put_json(&format!("{path}/password"), &json!({ "password": "short" }))
            .await,
        422,
        "invalid_input",
    )
    .await;
    refused(
        admin
            .put_json(
                &format!("{path}/password"),
                &json!({ "password": NEW_PASSWORD, "notify": true }),
            )
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_eq!(session.me_ok().await.id, ann.id);
    let second = server.sign_in("ann", PASSWORD).await;

    done(
        admin
            .put_json(
                &format!("{path}/password"),
                &json!({ "password": NEW_PASSWORD }),
            )
            .await,
        204,
    )
    .await;
    refused(session.me().await, 401, "unauthenticated").await;
    refused(second.me().await, 401, "unauthenticated").await;
    refused(
        server.client().login("ann", PASSWORD, false).await,
        401,
        "invalid_credentials",
    )
    .await;
    server.sign_in("ann", NEW_PASSWORD).await;
    assert_eq!(
        admin.me_ok().await.causeway_id.to_string(),
        "admin@localhost"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_last_administrator_cannot_remove_themselves() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let me = admin.me_ok().await;
    let path = user_path(me.id);
    let before = user(&admin, me.id).await;

    for body in [
        json!({ "is_admin": false }),
        json!({ "is_active": false }),
        json!({ "is_active": false, "is_admin": false }),
        json!({ "is_admin": false, "profile": { "display_name": "Renamed" } }),
    ] {
        refused(
            admin.patch_json(&path, &body).await,
            409,
            "last_administrator",
        )
        .await;
        assert_eq!(user(&admin, me.id).await, before, "{body}: nothing changed");
    }
    refused(admin.delete(&path).await, 409, "last_administrator").await;
    assert_eq!(user(&admin, me.id).await, before);
    assert!(admin.me_ok().await.is_admin, "still signed in, still admin");
    assert!(
        audit(&admin, &[("action", "user.")]).await.items.is_empty(),
        "no change was logged"
    );

    // A deactivated administrator does not count.
    let deputy: UserDetail = ok(
        admin
            .post_json(
                USERS,
                &json!({ "login": "deputy", "password": PASSWORD, "is_admin": true,
                         "profile": { "display_name": "Deputy" } }),
            )
            .await,
        201,
    )
    .await;
    assert!(deputy.is_admin);
    ok::<UserDetail>(
        admin
            .patch_json(&user_path(deputy.id), &json!({ "is_active": false }))
            .await,
        200,
    )
    .await;
    refused(
        admin.patch_json(&path, &json!({ "is_admin": false })).await,
        409,
        "last_administrator",
    )
    .await;
    ok::<UserDetail>(
        admin
            .patch_json(&user_path(deputy.id), &json!({ "is_active": true }))
            .await,
        200,
    )
    .await;

    // With another active administrator, stepping down works, at once.
    let stepped_down: UserDetail = ok(
        admin.patch_json(&path, &json!({ "is_admin": false })).await,
        200,
    )
    .await;
    assert!(!stepped_down.is_admin);
    refused(admin.get(USERS).await, 403, "forbidden").await;

    // Now the deputy is the last one.
    let deputy_session = server.sign_in("deputy", PASSWORD).await;
    let deputy_path = user_path(deputy.id);
    for body in [json!({ "is_admin": false }), json!({ "is_active": false })] {
        refused(
            deputy_session.patch_json(&deputy_path, &body).await,
            409,
            "last_administrator",
        )
        .await;
    }
    refused(
        deputy_session.delete(&deputy_path).await,
        409,
        "last_administrator",
    )
    .await;
    let still = user(&deputy_session, deputy.id).await;
    assert!(still.is_admin && still.is_active);
    done(deputy_session.delete(&path).await, 204).await;
    refused(admin.me().await, 401, "unauthenticated").await;
    server.stop().await;
}

// ---------------------------------------------------------------------------
// 2. Groups and rights
// ---------------------------------------------------------------------------

#[tokio::test]
async fn groups_are_created_renamed_given_rights_and_deleted() {
    let server = TestServer::start().await;
    let admin = server.admin().await;

    let listed = groups(&admin).await;
    let builtins: Vec<(&str, Option<BuiltinGroup>, Option<i64>)> = listed
        .iter()
        .map(|g| (g.name.as_str(), g.builtin, g.member_count))
        .collect();
    assert_eq!(
        builtins,
        [
            ("Federated Users", Some(BuiltinGroup::Federated), None),
            ("Users without a group", Some(BuiltinGroup::NoGroup), None),
        ]
    );

    let ops = create_group(
        &admin,
        " Operators ",
        &["operator", "send_files", "operator"],
    )
    .await;
    assert_eq!(ops.name, "Operators", "trimmed");
    assert_eq!(ops.builtin, None);
    assert_eq!(
        ops.rights,
        sorted_rights(&[Right::SendFiles, Right::Operator]),
        "each right once"
    );
    assert!(ops.members.is_empty() && ops.address_book.is_empty());
    assert_eq!(group(&admin, ops.id).await, ops);
    let alpha = create_group(&admin, "alpha", &[]).await;
    assert!(alpha.rights.is_empty());
    let order: Vec<String> = groups(&admin).await.into_iter().map(|g| g.name).collect();
    assert_eq!(
        order,
        [
            "Federated Users",
            "Users without a group",
            "alpha",
            "Operators"
        ],
        "built-ins first, then by name"
    );

    for (body, status, code) in [
        (json!({ "name": "Operators" }), 409, "conflict"),
        (json!({ "name": "  Operators" }), 409, "conflict"),
        (json!({ "name": "Users without a group" }), 409, "conflict"),
        (json!({ "name": "   " }), 422, "invalid_input"),
        (json!({ "name": "g".repeat(65) }), 422, "invalid_input"),
        (
            json!({ "name": "Root", "rights": ["root"] }),
            400,
            "bad_request",
        ),
        (json!({ "name": "Root", "members": [] }), 400, "bad_request"),
    ] {
        refused(admin.post_json(GROUPS, &body).await, status, code).await;
    }
    assert_eq!(groups(&admin).await.len(), 4, "nothing created");

    // Rename, then change the rights.
    let renamed: GroupDetail = ok(
        admin
            .patch_json(&group_path(ops.id), &json!({ "name": "Ops" }))
            .await,
        200,
    )
    .await;
    assert_eq!(renamed.name, "Ops");
    assert_eq!(renamed.rights, ops.rights, "renaming keeps the rights");
    let changed: GroupDetail = ok(
        admin
            .patch_json(
                &group_path(ops.id),
                &json!({ "rights": ["share_content", "edit_address_book"] }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        changed.rights,
        sorted_rights(&[Right::ShareContent, Right::EditAddressBook])
    );
    assert_eq!(changed.name, "Ops");
    let summary = groups(&admin)
        .await
        .into_iter()
        .find(|g| g.id == ops.id)
        .unwrap();
    assert_eq!(summary.name, "Ops");
    assert_eq!(summary.rights, changed.rights);
    assert_eq!(summary.member_count, Some(0));

    // A refused rename changes neither the name nor the rights.
    refused(
        admin
            .patch_json(
                &group_path(ops.id),
                &json!({ "name": "alpha", "rights": ["operator"] }),
            )
            .await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(group(&admin, ops.id).await, changed);

    // Built-ins: no delete, no rename, no members; rights yes.
    let federated = builtin(&admin, BuiltinGroup::Federated).await;
    let no_group = builtin(&admin, BuiltinGroup::NoGroup).await;
    for id in [federated, no_group] {
        refused(admin.delete(&group_path(id)).await, 409, "builtin_group").await;
        refused(
            admin
                .patch_json(&group_path(id), &json!({ "name": "Renamed" }))
                .await,
            409,
            "builtin_group",
        )
        .await;
        refused(
            admin
                .put_json(&format!("{GROUPS}/{id}/members"), &json!({ "ids": [] }))
                .await,
            409,
            "builtin_group",
        )
        .await;
    }
    let with_rights: GroupDetail = ok(
        admin
            .patch_json(
                &group_path(federated),
                &json!({ "rights": ["send_files", "download_files"] }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(with_rights.name, "Federated Users");
    assert_eq!(with_rights.builtin, Some(BuiltinGroup::Federated));
    assert_eq!(
        with_rights.rights,
        sorted_rights(&[Right::SendFiles, Right::DownloadFiles])
    );
    assert_eq!(group(&admin, federated).await.rights, with_rights.rights);
    let same_name: GroupDetail = ok(
        admin
            .patch_json(
                &group_path(no_group),
                &json!({ "name": "Users without a group", "rights": ["show_slides"] }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        same_name.rights,
        [Right::ShowSlides],
        "unchanged name is no rename"
    );
    let names: Vec<String> = groups(&admin).await.into_iter().map(|g| g.name).collect();
    assert!(names.contains(&"Federated Users".to_owned()));
    assert!(names.contains(&"Users without a group".to_owned()));

    // Delete.
    done(admin.delete(&group_path(alpha.id)).await, 204).await;
    refused(admin.get(&group_path(alpha.id)).await, 404, "not_found").await;
    refused(admin.delete(&group_path(alpha.id)).await, 404, "not_found").await;
    assert_eq!(groups(&admin).await.len(), 3);

    // Unknown ids.
    let missing = group_path(999_999);
    refused(admin.get(&missing).await, 404, "not_found").await;
    refused(
        admin.patch_json(&missing, &json!({ "name": "X" })).await,
        404,
        "not_found",
    )
    .await;
    refused(admin.delete(&missing).await, 404, "not_found").await;
    refused(
        admin
            .put_json(&format!("{missing}/members"), &json!({ "ids": [] }))
            .await,
        404,
        "not_found",
    )
    .await;
    refused(
        admin
            .put_json(&format!("{missing}/address-book"), &book(&[]))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(groups(&admin).await.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn membership_is_edited_from_either_side_and_rights_add_up() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let no_group = builtin(&admin, BuiltinGroup::NoGroup).await;
    let federated = builtin(&admin, BuiltinGroup::Federated).await;
    ok::<GroupDetail>(
        admin
            .patch_json(
                &group_path(no_group),
                &json!({ "rights": ["download_files"] }),
            )
            .await,
        200,
    )
    .await;
    let sales = create_group(&admin, "Sales", &["edit_address_book", "send_files"]).await;
    let support = create_group(&admin, "Support", &["send_files", "share_content"]).await;
    let ann = create_user(&admin, "ann", "Ann").await;
    let ben = create_user(&admin, "ben", "Ben").await;

    // In no group: the rights of "Users without a group", which lists them.
    let detail = user(&admin, ann.id).await;
    assert_eq!(names(&detail.groups), ["Users without a group"]);
    assert_eq!(
        grants(&detail.effective_rights),
        [grant(Right::DownloadFiles, &["Users without a group"])]
    );
    let implicit = group(&admin, no_group).await;
    assert_eq!(member_logins(&implicit), ["admin", "ann", "ben"]);
    assert!(group(&admin, federated).await.members.is_empty());

    // From the user's side.
    let detail: UserDetail = ok(
        admin
            .put_json(
                &format!("{USERS}/{}/groups", ann.id),
                &json!({ "ids": [support.id, sales.id, sales.id] }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(names(&detail.groups), ["Sales", "Support"]);
    let expected = [
        grant(Right::EditAddressBook, &["Sales"]),
        grant(Right::SendFiles, &["Sales", "Support"]),
        grant(Right::ShareContent, &["Support"]),
    ];
    assert_eq!(
        grants(&detail.effective_rights),
        expected,
        "the union; each right lists the groups it comes from"
    );
    assert_eq!(user(&admin, ann.id).await, detail);
    assert_eq!(member_logins(&group(&admin, sales.id).await), ["ann"]);
    assert_eq!(member_logins(&group(&admin, support.id).await), ["ann"]);
    assert_eq!(
        member_logins(&group(&admin, no_group).await),
        ["admin", "ben"],
        "ann is in a group now"
    );
    // The user sees the same on their own account page.
    let own: MyAccount = server
        .sign_in("ann", PASSWORD)
        .await
        .get_ok("/api/v1/me/account")
        .await;
    assert_eq!(names(&own.groups), ["Sales", "Support"]);
    assert_eq!(grants(&own.rights), expected);

    // From the group's side.
    let detail: GroupDetail = ok(
        admin
            .put_json(
                &format!("{GROUPS}/{}/members", support.id),
                &json!({ "ids": [ben.id, ann.id] }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(member_logins(&detail), ["ann", "ben"]);
    let ben_detail = user(&admin, ben.id).await;
    assert_eq!(names(&ben_detail.groups), ["Support"]);
    assert_eq!(
        grants(&ben_detail.effective_rights),
        [
            grant(Right::SendFiles, &["Support"]),
            grant(Right::ShareContent, &["Support"]),
        ]
    );
    let counts: BTreeMap<String, Option<i64>> = groups(&admin)
        .await
        .into_iter()
        .map(|g| (g.name, g.member_count))
        .collect();
    assert_eq!(counts["Sales"], Some(1));
    assert_eq!(counts["Support"], Some(2));
    assert_eq!(counts["Users without a group"], None);

    // Unknown or built-in ids: refused, nothing changed.
    for ids in [
        json!([sales.id, 999_999]),
        json!([sales.id, no_group]),
        json!([federated]),
    ] {
        let response = admin
            .put_json(
                &format!("{USERS}/{}/groups", ann.id),
                &json!({ "ids": ids }),
            )
            .await;
        refused(response, 422, "invalid_input").await;
        assert_eq!(
            names(&user(&admin, ann.id).await.groups),
            ["Sales", "Support"],
            "{ids}"
        );
    }
    refused(
        admin
            .put_json(
                &format!("{GROUPS}/{}/members", support.id),
                &json!({ "ids": [ann.id, 999_999] }),
            )
            .await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(
        member_logins(&group(&admin, support.id).await),
        ["ann", "ben"]
    );
    refused(
        admin
            .put_json(
                &format!("{GROUPS}/{}/members", support.id),
                &json!({ "ids": ["ann"] }),
            )
            .await,
        400,
        "bad_request",
    )
    .await;

    // Leaving every group falls back to "Users without a group".
    let detail: UserDetail = ok(
        admin
            .put_json(&format!("{USERS}/{}/groups", ben.id), &json!({ "ids": [] }))
            .await,
        200,
    )
    .await;
    assert_eq!(names(&detail.groups), ["Users without a group"]);
    assert_eq!(
        grants(&detail.effective_rights),
        [grant(Right::DownloadFiles, &["Users without a group"])]
    );
    assert_eq!(member_logins(&group(&admin, support.id).await), ["ann"]);

    // Deleting a group takes it out of its members' groups and rights.
    done(admin.delete(&group_path(sales.id)).await, 204).await;
    let detail = user(&admin, ann.id).await;
    assert_eq!(names(&detail.groups), ["Support"]);
    assert_eq!(
        grants(&detail.effective_rights),
        [
            grant(Right::SendFiles, &["Support"]),
            grant(Right::ShareContent, &["Support"]),
        ]
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// 3. Address books
// ---------------------------------------------------------------------------

/// This server (`localhost`) and a server `guest` with a user `moore`, each on
/// the other's white list: address books may then name moore@guest, which is
/// checked against guest.
async fn with_guest() -> (TestServer, TestServer) {
    let server = TestServer::start().await;
    let guest = TestServer::start_with(|config| {
        config.server_name = "guest".parse().unwrap();
    })
    .await;
    let guest_admin = guest.admin().await;
    create_user(&guest_admin, "moore", "Albert Moore").await;
    create_user(&guest_admin, "bo", "Bo").await;
    for (admin, other) in [(server.admin().await, &guest), (guest_admin, &server)] {
        let response = admin
            .put_json(
                "/api/v1/admin/federation",
                &json!({ "mode": "whitelist", "whitelist": [
                    { "server_name": other.config.server_name, "address": other.base }
                ] }),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    (server, guest)
}

#[tokio::test]
async fn a_group_address_book_is_customized() {
    let (server, _guest) = with_guest().await;
    let admin = server.admin().await;
    create_user(&admin, "lee", "Lee Local").await;
    let team = create_group(&admin, "Team", &[]).await;
    let path = format!("{GROUPS}/{}/address-book", team.id);

    let two = [
        ("lee@localhost", ""),
        ("moore@guest", "Albert Moore (Guest)"),
    ];
    let detail: GroupDetail = ok(admin.put_json(&path, &book(&two)).await, 200).await;
    assert_eq!(book_of(&detail), pairs(&two));
    assert_eq!(book_of(&group(&admin, team.id).await), pairs(&two));

    let reordered = [two[1], two[0]];
    let detail: GroupDetail = ok(admin.put_json(&path, &book(&reordered)).await, 200).await;
    assert_eq!(book_of(&detail), pairs(&reordered), "reordered");

    let one = [("moore@guest", "  Albert Moore (Guest) ")];
    let detail: GroupDetail = ok(admin.put_json(&path, &book(&one)).await, 200).await;
    assert_eq!(
        book_of(&detail),
        pairs(&[("moore@guest", "Albert Moore (Guest)")]),
        "removed one; the name trimmed"
    );
    let kept = book_of(&detail);

    let long_name = "n".repeat(129);
    let bad: Vec<(Value, u16, &str)> = vec![
        (
            book(&[("moore@guest", ""), ("ghost@localhost", "")]),
            422,
            "invalid_input",
        ),
        (
            book(&[("lee@localhost", "A"), ("lee@localhost", "B")]),
            422,
            "invalid_input",
        ),
        (
            book(&[("moore@guest", "x"), ("moore@guest", "")]),
            422,
            "invalid_input",
        ),
        (
            book(&[("lee@localhost", long_name.as_str())]),
            422,
            "invalid_input",
        ),
        (book(&[("not an id", "")]), 400, "bad_request"),
        (book(&[("lee", "")]), 400, "bad_request"),
        (
            json!({ "entries": [{ "causeway_id": "lee@localhost", "note": "x" }] }),
            400,
            "bad_request",
        ),
    ];
    for (body, status, code) in bad {
        refused(admin.put_json(&path, &body).await, status, code).await;
        assert_eq!(
            book_of(&group(&admin, team.id).await),
            kept,
            "{body}: unchanged"
        );
    }

    done(admin.delete(&group_path(team.id)).await, 204).await;
    server.stop().await;
}

#[tokio::test]
async fn contacts_merge_group_and_personal_books() {
    let (server, _guest) = with_guest().await;
    let admin = server.admin().await;
    bare(&admin).await;
    let mia = create_user(&admin, "mia", "Mia Member").await;
    create_user(&admin, "lee", "Lee Local").await;
    create_user(&admin, "zed", "Zed Zulu").await;
    let team = create_group(&admin, "Team", &["edit_address_book"]).await;
    let partners = create_group(&admin, "Partners", &[]).await;
    ok::<UserDetail>(
        admin
            .put_json(
                &format!("{USERS}/{}/groups", mia.id),
                &json!({ "ids": [team.id, partners.id] }),
            )
            .await,
        200,
    )
    .await;
    ok::<GroupDetail>(
        admin
            .put_json(
                &format!("{GROUPS}/{}/address-book", team.id),
                &book(&[
                    ("lee@localhost", ""),
                    ("moore@guest", "Albert Moore (Guest)"),
                    ("mia@localhost", ""),
                ]),
            )
            .await,
        200,
    )
    .await;
    ok::<GroupDetail>(
        admin
            .put_json(
                &format!("{GROUPS}/{}/address-book", partners.id),
                &book(&[
                    ("moore@guest", "Albert Moore (Guest)"),
                    ("bo@guest", "Bo Partner"),
                ]),
            )
            .await,
        200,
    )
    .await;

    let session = server.sign_in("mia", PASSWORD).await;
    let personal = [("zed@localhost", ""), ("lee@localhost", "Lee (mine)")];
    let contacts: Contacts = ok(session.put_json(MY_BOOK, &book(&personal)).await, 200).await;
    assert_eq!(contacts, session.get_ok::<Contacts>(CONTACTS).await);
    assert!(contacts.can_edit_personal);
    let stored: Vec<(String, String)> = contacts
        .personal
        .iter()
        .map(|e| (e.causeway_id.to_string(), e.display_name.clone()))
        .collect();
    assert_eq!(stored, pairs(&personal));

    let group_source = |name: &str| ContactSource::Group {
        name: name.to_owned(),
    };
    let contact = |id: &str, name: &str, is_local: bool, sources: Vec<ContactSource>| Contact {
        causeway_id: id.parse().unwrap(),
        display_name: name.to_owned(),
        is_local,
        avatar_url: None,
        sources,
        // No one here has a socket open.
        online: false,
    };
    assert_eq!(
        contacts.contacts,
        [
            contact(
                "moore@guest",
                "Albert Moore (Guest)",
                false,
                vec![group_source("Team"), group_source("Partners")],
            ),
            contact(
                "bo@guest",
                "Bo Partner",
                false,
                vec![group_source("Partners")],
            ),
            contact(
                "lee@localhost",
                "Lee (mine)",
                true,
                vec![group_source("Team"), ContactSource::Personal],
            ),
            contact(
                "zed@localhost",
                "Zed Zulu",
                true,
                vec![ContactSource::Personal],
            ),
        ],
        "each person once, by name, with every source; never oneself"
    );

    // Someone in no group sees the (empty) book of Users without a group.
    let zed: Contacts = server.sign_in("zed", PASSWORD).await.get_ok(CONTACTS).await;
    assert!(zed.contacts.is_empty());
    assert!(zed.personal.is_empty());
    assert!(!zed.can_edit_personal);
    server.stop().await;
}

#[tokio::test]
async fn the_personal_address_book_needs_the_right() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    bare(&admin).await;
    let nora = create_user(&admin, "nora", "Nora").await;
    create_user(&admin, "lee", "Lee Local").await;
    let session = server.sign_in("nora", PASSWORD).await;

    let wanted = book(&[("lee@localhost", "")]);
    let message = refused(session.put_json(MY_BOOK, &wanted).await, 403, "forbidden").await;
    assert!(message.contains("Edit the address book"), "{message}");
    let contacts: Contacts = session.get_ok(CONTACTS).await;
    assert!(!contacts.can_edit_personal);
    assert!(contacts.personal.is_empty() && contacts.contacts.is_empty());

    // Given the right through a group, it works.
    let editors = create_group(&admin, "Editors", &["edit_address_book"]).await;
    ok::<UserDetail>(
        admin
            .put_json(
                &format!("{USERS}/{}/groups", nora.id),
                &json!({ "ids": [editors.id] }),
            )
            .await,
        200,
    )
    .await;
    let contacts: Contacts = ok(session.put_json(MY_BOOK, &wanted).await, 200).await;
    assert!(contacts.can_edit_personal);
    assert_eq!(contacts.personal.len(), 1);
    assert_eq!(contacts.contacts.len(), 1);
    assert_eq!(contacts.contacts[0].display_name, "Lee Local");
    assert_eq!(contacts.contacts[0].sources, [ContactSource::Personal]);

    // Bad books are refused and change nothing.
    for (body, status, code) in [
        (book(&[("ghost@localhost", "")]), 422, "invalid_input"),
        (
            book(&[("moore@guest", ""), ("moore@guest", "")]),
            422,
            "invalid_input",
        ),
        (json!({ "entries": [], "extra": 1 }), 400, "bad_request"),
    ] {
        refused(session.put_json(MY_BOOK, &body).await, status, code).await;
    }
    assert_eq!(session.get_ok::<Contacts>(CONTACTS).await, contacts);

    // Without the right again: refused, and the book is kept as it was.
    ok::<UserDetail>(
        admin
            .put_json(
                &format!("{USERS}/{}/groups", nora.id),
                &json!({ "ids": [] }),
            )
            .await,
        200,
    )
    .await;
    refused(
        session.put_json(MY_BOOK, &book(&[])).await,
        403,
        "forbidden",
    )
    .await;
    let after: Contacts = session.get_ok(CONTACTS).await;
    assert!(!after.can_edit_personal);
    assert_eq!(after.personal, contacts.personal, "unchanged");
    server.stop().await;
}

/// A user without the right is told so even when the book they send is bad, and
/// a deleted user leaves every address book, so a later account with the same
/// login inherits nothing and the book can be saved as shown.
#[tokio::test]
async fn deleted_users_leave_address_books_and_the_right_comes_first() {
    let (server, _guest) = with_guest().await;
    let admin = server.admin().await;
    bare(&admin).await;
    create_user(&admin, "nora", "Nora").await;
    let lee = create_user(&admin, "lee", "Lee Local").await;
    let session = server.sign_in("nora", PASSWORD).await;
    refused(
        session
            .put_json(MY_BOOK, &book(&[("ghost@localhost", "")]))
            .await,
        403,
        "forbidden",
    )
    .await;

    let no_group = builtin(&admin, BuiltinGroup::NoGroup).await;
    let with_lee = book(&[("lee@localhost", "Lee"), ("moore@guest", "Moore")]);
    ok::<GroupDetail>(
        admin
            .put_json(&format!("{}/address-book", group_path(no_group)), &with_lee)
            .await,
        200,
    )
    .await;
    done(admin.delete(&user_path(lee.id)).await, 204).await;
    let shown = group(&admin, no_group).await;
    assert_eq!(book_of(&shown), pairs(&[("moore@guest", "Moore")]));
    let again = book(&[("moore@guest", "Moore")]);
    ok::<GroupDetail>(
        admin
            .put_json(&format!("{}/address-book", group_path(no_group)), &again)
            .await,
        200,
    )
    .await;
    create_user(&admin, "lee", "A New Lee").await;
    let contacts: Contacts = session.get_ok(CONTACTS).await;
    let ids: Vec<String> = contacts
        .contacts
        .iter()
        .map(|c| c.causeway_id.to_string())
        .collect();
    assert_eq!(ids, ["moore@guest"], "the new lee is in no address book");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// 4. Settings
// ---------------------------------------------------------------------------

#[tokio::test]
async fn security_settings_are_checked_and_take_effect_at_once() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let defaults: SecuritySettings = admin.get_ok(SECURITY).await;
    assert_eq!(defaults.password_min_length, 10);
    assert_eq!(defaults.lockout_threshold, 5);
    assert_eq!(defaults.lockout_minutes, 15);
    assert_eq!(defaults.address_threshold, 50);

    fn with(defaults: &SecuritySettings, change: impl FnOnce(&mut SecuritySettings)) -> Value {
        let mut value = defaults.clone();
        change(&mut value);
        serde_json::to_value(value).unwrap()
    }
    let invalid = [
        with(&defaults, |s| s.password_min_length = 7),
        with(&defaults, |s| s.password_min_length = 129),
        with(&defaults, |s| s.lockout_threshold = 0),
        with(&defaults, |s| s.lockout_threshold = 101),
        with(&defaults, |s| s.lockout_minutes = 0),
        with(&defaults, |s| s.address_threshold = 0),
        with(&defaults, |s| s.idle_timeout_minutes = 4),
        with(&defaults, |s| s.absolute_timeout_hours = 0),
        with(&defaults, |s| s.remember_me_days = 366),
    ];
    for body in invalid {
        refused(admin.put_json(SECURITY, &body).await, 422, "invalid_input").await;
        assert_eq!(
            admin.get_ok::<SecuritySettings>(SECURITY).await,
            defaults,
            "{body}"
        );
    }
    let mut unknown = with(&defaults, |_| {});
    unknown["password_max_length"] = json!(64);
    let mut negative = with(&defaults, |_| {});
    negative["lockout_threshold"] = json!(-1);
    for body in [unknown, negative, json!({ "password_min_length": 12 })] {
        refused(admin.put_json(SECURITY, &body).await, 400, "bad_request").await;
    }
    assert_eq!(admin.get_ok::<SecuritySettings>(SECURITY).await, defaults);

    let raised = with(&defaults, |s| s.password_min_length = 16);
    let stored: SecuritySettings = ok(admin.put_json(SECURITY, &raised).await, 200).await;
    assert_eq!(stored.password_min_length, 16);
    assert_eq!(admin.get_ok::<SecuritySettings>(SECURITY).await, stored);
    assert_eq!(
        server.state.settings.security(),
        stored,
        "the live settings changed"
    );
    let saved = server
        .state
        .store
        .setting("security")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<SecuritySettings>(&saved).unwrap(),
        stored
    );

    // Twelve characters were enough before; no longer.
    let twelve = "twelve-chars";
    assert_eq!(twelve.len(), 12);
    refused(
        admin
            .post_json(
                USERS,
                &json!({ "login": "newbie", "password": twelve, "profile": { "display_name": "N" } }),
            )
            .await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(all_logins(&admin).await, ["admin"]);
    let sixteen = "sixteen-chars-ok";
    assert_eq!(sixteen.len(), 16);
    let created: UserDetail = ok(
        admin
            .post_json(
                USERS,
                &json!({ "login": "newbie", "password": sixteen, "profile": { "display_name": "N" } }),
            )
            .await,
        201,
    )
    .await;
    refused(
        admin
            .put_json(
                &format!("{USERS}/{}/password", created.id),
                &json!({ "password": twelve }),
            )
            .await,
        422,
        "invalid_input",
    )
    .await;
    let session = server.sign_in("newbie", sixteen).await;
    refused(
        session
            .put_json(
                "/api/v1/me/password",
                &json!({ "current_password": sixteen, "new_password": twelve }),
            )
            .await,
        422,
        "invalid_input",
    )
    .await;
    server.sign_in("newbie", sixteen).await;
    server.stop().await;
}

#[tokio::test]
async fn display_fields_decide_what_other_servers_see() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let defaults: DisplayFields = admin.get_ok(DISPLAY_FIELDS).await;
    assert_eq!(defaults.fields, [ProfileField::DisplayName]);

    let dora: UserDetail = ok(
        admin
            .post_json(
                USERS,
                &json!({
                    "login": "dora",
                    "password": PASSWORD,
                    "profile": {
                        "display_name": "Dora D.",
                        "first_name": "Dora",
                        "last_name": "Dee",
                        "email": "dora@corp.example",
                        "company": "Corp",
                        "position": "Lead",
                    },
                }),
            )
            .await,
        201,
    )
    .await;

    let stored: DisplayFields = ok(
        admin
            .put_json(
                DISPLAY_FIELDS,
                &json!({ "fields": ["email", "phone", "display_name", "company", "email"] }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        stored.fields,
        [
            ProfileField::DisplayName,
            ProfileField::Email,
            ProfileField::Phone,
            ProfileField::Company,
        ]
    );
    assert_eq!(admin.get_ok::<DisplayFields>(DISPLAY_FIELDS).await, stored);
    let saved = server
        .state
        .store
        .setting("display_fields")
        .await
        .unwrap()
        .expect("stored in the database");
    assert_eq!(
        serde_json::from_str::<DisplayFields>(&saved).unwrap(),
        stored
    );

    let seen = server::federation::profile_for_peer(&server.state.peers(), "dora")
        .await
        .unwrap()
        .expect("an active local user");
    assert_eq!(seen.causeway_id.to_string(), "dora@localhost");
    let expected: BTreeMap<ProfileField, String> = [
        (ProfileField::DisplayName, "Dora D."),
        (ProfileField::Email, "dora@corp.example"),
        (ProfileField::Company, "Corp"),
    ]
    .into_iter()
    .map(|(f, v)| (f, v.to_owned()))
    .collect();
    assert_eq!(
        seen.fields, expected,
        "only the chosen fields, and only those with a value (no empty phone)"
    );

    ok::<DisplayFields>(
        admin
            .put_json(DISPLAY_FIELDS, &json!({ "fields": [] }))
            .await,
        200,
    )
    .await;
    let seen = server::federation::profile_for_peer(&server.state.peers(), "dora")
        .await
        .unwrap()
        .unwrap();
    assert!(seen.fields.is_empty(), "the Causeway ID alone");

    refused(
        admin
            .put_json(DISPLAY_FIELDS, &json!({ "fields": ["password_hash"] }))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert!(
        admin
            .get_ok::<DisplayFields>(DISPLAY_FIELDS)
            .await
            .fields
            .is_empty()
    );

    ok::<UserDetail>(
        admin
            .patch_json(&user_path(dora.id), &json!({ "is_active": false }))
            .await,
        200,
    )
    .await;
    for login in ["dora", "nobody", "Not A Login"] {
        assert_eq!(
            server::federation::profile_for_peer(&server.state.peers(), login)
                .await
                .unwrap(),
            None,
            "{login}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn federation_settings_round_trip_and_are_checked() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let defaults: FederationSettings = admin.get_ok(FEDERATION).await;
    assert_eq!(defaults.mode, FederationMode::Disabled);
    assert!(defaults.whitelist.is_empty());

    let fingerprint = "ab".repeat(32);
    let body = json!({
        "mode": "whitelist",
        "whitelist": [
            {
                "server_name": "guest",
                "address": "https://guest.example:8443",
                "key_fingerprint": fingerprint,
            },
            { "server_name": "Partner.Example" },
        ],
    });
    let stored: FederationSettings = ok(admin.put_json(FEDERATION, &body).await, 200).await;
    assert_eq!(stored.mode, FederationMode::Whitelist);
    assert_eq!(stored.whitelist.len(), 2);
    assert_eq!(stored.whitelist[0].server_name.as_str(), "guest");
    assert_eq!(
        stored.whitelist[0].address.as_deref(),
        Some("https://guest.example:8443")
    );
    assert_eq!(
        stored.whitelist[0].key_fingerprint.as_deref(),
        Some(fingerprint.as_str())
    );
    assert_eq!(stored.whitelist[1].server_name.as_str(), "partner.example");
    assert_eq!(stored.whitelist[1].address, None);
    assert_eq!(stored.whitelist[1].key_fingerprint, None);
    assert_eq!(admin.get_ok::<FederationSettings>(FEDERATION).await, stored);
    assert_eq!(server.state.settings.federation(), stored);
    let saved = server
        .state
        .store
        .setting("federation")
        .await
        .unwrap()
        .expect("stored in the database");
    assert_eq!(
        serde_json::from_str::<FederationSettings>(&saved).unwrap(),
        stored
    );

    let entry = |name: &str, fingerprint: Option<&str>, address: Option<&str>| json!({ "server_name": name, "key_fingerprint": fingerprint, "address": address });
    let invalid = [
        entry("guest", Some("xyz"), None),
        entry("guest", Some(&"a".repeat(63)), None),
        entry("guest", Some(&"g".repeat(64)), None),
        entry("guest", None, Some("ftp://guest.example")),
        entry("guest", None, Some("https://guest example")),
    ];
    for bad in invalid {
        let body = json!({ "mode": "whitelist", "whitelist": [bad] });
        refused(
            admin.put_json(FEDERATION, &body).await,
            422,
            "invalid_input",
        )
        .await;
    }
    let twice = json!({ "mode": "whitelist", "whitelist": [
        { "server_name": "partner.example" },
        { "server_name": "PARTNER.example" },
    ] });
    let message = refused(
        admin.put_json(FEDERATION, &twice).await,
        422,
        "invalid_input",
    )
    .await;
    assert!(message.contains("partner.example"), "{message}");
    for body in [
        json!({ "mode": "everyone", "whitelist": [] }),
        json!({ "mode": "whitelist", "whitelist": [{ "server_name": "bad name" }] }),
        json!({ "mode": "whitelist" }),
        json!({ "mode": "whitelist", "whitelist": [], "extra": true }),
    ] {
        refused(admin.put_json(FEDERATION, &body).await, 400, "bad_request").await;
    }
    assert_eq!(
        admin.get_ok::<FederationSettings>(FEDERATION).await,
        stored,
        "nothing refused was stored"
    );

    let emptied: FederationSettings = ok(
        admin
            .put_json(FEDERATION, &json!({ "mode": "allow_all", "whitelist": [] }))
            .await,
        200,
    )
    .await;
    assert_eq!(emptied.mode, FederationMode::AllowAll);
    assert_eq!(
        admin.get_ok::<FederationSettings>(FEDERATION).await,
        emptied
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// 5. Sign-in throttling
// ---------------------------------------------------------------------------

/// Asserts a 429 with `Retry-After` of at most `max_seconds`.
async fn locked_out(response: reqwest::Response, max_seconds: i64) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    refused(response, 429, "too_many_requests").await;
    let seconds = retry_after.expect("a Retry-After header in seconds");
    assert!(
        (1..=max_seconds).contains(&seconds),
        "Retry-After {seconds}"
    );
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_until_unlocked() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let tim = create_user(&admin, "tim", "Tim").await;
    let client = server.client();

    // Failures count while consecutive: a success starts over.
    for _ in 0..4 {
        refused(
            client.login("tim", "wrong password", false).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_eq!(client.login("tim", PASSWORD, false).await.status(), 200);
    client.logout().await;
    for _ in 0..5 {
        refused(
            client.login("tim", "wrong password", false).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    locked_out(client.login("tim", PASSWORD, false).await, 15 * 60).await;
    locked_out(
        server.client().login("tim", "wrong password", false).await,
        15 * 60,
    )
    .await;
    refused(client.me().await, 401, "unauthenticated").await;

    // The control panel shows the lock.
    let listed = users_page(&admin, &[("search", "tim")]).await.items;
    let until = listed[0].locked_until.expect("the list shows the lock");
    let now = server::time::now_millis();
    assert!(
        until > now && until <= now + 15 * 60_000,
        "{until} vs {now}"
    );
    assert_eq!(user(&admin, tim.id).await.locked_until, Some(until));
    let others = users_page(&admin, &[("search", "admin")]).await.items;
    assert_eq!(others[0].locked_until, None);

    let unlocked: UserDetail = ok(
        admin
            .send(Method::POST, &format!("{USERS}/{}/unlock", tim.id), None)
            .await,
        200,
    )
    .await;
    assert_eq!(unlocked.locked_until, None);
    assert_eq!(
        users_page(&admin, &[("search", "tim")]).await.items[0].locked_until,
        None
    );
    assert_eq!(client.login("tim", PASSWORD, false).await.status(), 200);
    assert_eq!(client.me_ok().await.id, tim.id);

    let blocked = audit(&admin, &[("action", "sign_in.blocked")]).await.items;
    assert_eq!(blocked.len(), 2);
    assert!(blocked.iter().all(|e| e.target.as_deref() == Some("tim")));
    let unlock = audit(&admin, &[("action", "user.unlock")]).await.items;
    assert_eq!(unlock.len(), 1);
    assert_eq!(unlock[0].actor.as_deref(), Some("admin"));
    server.stop().await;
}

/// Guesses sent all at once are counted one after another: no more than the
/// threshold's worth reach the password check, the rest are refused at once.
async fn parallel_guesses_cannot_race_the_lock(database: Option<String>) {
    let server = TestServer::start_with(move |c| c.database.url = database).await;
    let admin = server.admin().await;
    create_user(&admin, "tim", "Tim").await;
    let guesses = (0..20).map(|_| {
        let client = server.client();
        async move {
            client
                .login("tim", "wrong password", false)
                .await
                .status()
                .as_u16()
        }
    });
    let mut answers = futures_util::future::join_all(guesses).await;
    answers.sort_unstable();
    let checked = answers.iter().filter(|s| **s == 401).count();
    let refused_at_once = answers.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused_at_once), (5, 15), "{answers:?}");
    locked_out(server.client().login("tim", PASSWORD, false).await, 15 * 60).await;
    // A flood of blocked attempts does not bury the audit log: a minute's
    // allowance of lines for the reason, whatever the number of attempts.
    for _ in 0..30 {
        let response = server.client().login("tim", "wrong password", false).await;
        assert_eq!(response.status(), 429);
    }
    let blocked = audit(&admin, &[("action", "sign_in.blocked"), ("limit", "100")])
        .await
        .items;
    assert_eq!(blocked.len(), 20, "{} lines", blocked.len());
    server.stop().await;
}

#[tokio::test]
async fn parallel_guesses_cannot_race_the_lock_on_sqlite() {
    parallel_guesses_cannot_race_the_lock(None).await;
}

#[tokio::test]
async fn parallel_guesses_cannot_race_the_lock_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    parallel_guesses_cannot_race_the_lock(Some(db.url.clone())).await;
    db.drop_now().await;
}

/// A lock says nothing about whether the account exists.
#[tokio::test]
async fn unknown_logins_lock_the_same_way() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    create_user(&admin, "tim", "Tim").await;
    let client = server.client();
    let mut answers = Vec::new();
    for login in ["ghost", "tim"] {
        for _ in 0..5 {
            refused(
                client.login(login, "wrong password", false).await,
                401,
                "invalid_credentials",
            )
            .await;
        }
        let response = client.login(login, "wrong password", false).await;
        assert_eq!(response.status(), 429, "{login}");
        assert!(response.headers().contains_key("retry-after"), "{login}");
        answers.push(response.text().await.unwrap());
        locked_out(client.login(login, "wrong password", false).await, 15 * 60).await;
    }
    assert_eq!(answers[0], answers[1], "the same answer for both");
    // The lock of an unknown login is listed nowhere, and blocks no one else.
    let listed = users_page(&admin, &[]).await.items;
    let locked: Vec<&str> = listed
        .iter()
        .filter(|u| u.locked_until.is_some())
        .map(|u| u.login.as_str())
        .collect();
    assert_eq!(locked, ["tim"]);
    server.admin().await;
    server.stop().await;
}

/// Sets the sign-in throttle to lock an address for two minutes after
/// `failures` failed sign-ins from it.
async fn lock_addresses_after(admin: &Client, failures: u32) {
    let mut security: SecuritySettings = admin.get_ok(SECURITY).await;
    security.address_threshold = failures;
    security.lockout_minutes = 2;
    ok::<SecuritySettings>(
        admin
            .put_json(SECURITY, &serde_json::to_value(&security).unwrap())
            .await,
        200,
    )
    .await;
}

#[tokio::test]
async fn too_many_failures_from_one_address_lock_the_address() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    lock_addresses_after(&admin, 3).await;

    // Different logins, so no account lock is involved; a success in between
    // does not reset the address's count.
    let client = server.client();
    for login in ["x1", "x2"] {
        refused(
            client.login(login, "wrong password", false).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    server.sign_in("admin", &server.admin_password).await;
    refused(
        client.login("x3", "wrong password", false).await,
        401,
        "invalid_credentials",
    )
    .await;
    locked_out(
        server
            .client()
            .login("admin", &server.admin_password, false)
            .await,
        2 * 60,
    )
    .await;
    locked_out(client.login("x4", "wrong password", false).await, 2 * 60).await;
    // Sessions already open are not affected, and no account is shown locked.
    let listed = users_page(&admin, &[]).await.items;
    assert!(listed.iter().all(|u| u.locked_until.is_none()));
    server.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_clients() {
    let server =
        TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.0/8".to_owned()]).await;
    let admin = server.admin().await;
    lock_addresses_after(&admin, 2).await;
    let client = server.client();
    let login_from = |forwarded: &'static str, login: &str, password: &str| {
        client
            .http
            .post(server.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "login": login, "password": password, "remember_me": false }))
            .send()
    };
    // What a client writes into the header itself is not believed: the proxy
    // appended the address it saw.
    for login in ["x1", "x2"] {
        let response = login_from("198.51.100.7, 203.0.113.9", login, "wrong password")
            .await
            .unwrap();
        refused(response, 401, "invalid_credentials").await;
    }
    let response = login_from("203.0.113.9", "admin", &server.admin_password)
        .await
        .unwrap();
    locked_out(response, 2 * 60).await;
    // Another client behind the same proxy is not locked out.
    let response = login_from("203.0.113.10", "admin", &server.admin_password)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let page = audit(&admin, &[("action", "sign_in.")]).await;
    let failure = find(&page.items, "sign_in.failure");
    assert_eq!(failure.address.as_deref(), Some("203.0.113.9"));
    let success = page
        .items
        .iter()
        .find(|e| e.action == "sign_in.success")
        .unwrap();
    assert_eq!(success.address.as_deref(), Some("203.0.113.10"));
    server.stop().await;
}

// ---------------------------------------------------------------------------
// 6. The audit log
// ---------------------------------------------------------------------------

fn find<'a>(entries: &'a [AuditEntry], action: &str) -> &'a AuditEntry {
    entries
        .iter()
        .find(|e| e.action == action)
        .unwrap_or_else(|| panic!("{action} in {:?}", actions(entries)))
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_and_changes() {
    let server = TestServer::start().await;
    refused(
        server
            .client()
            .login("admin", "wrong password", false)
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let admin = server.admin().await;
    let ivy = create_user(&admin, "ivy", "Ivy Green").await;
    create_group(&admin, "Gardeners", &["send_files"]).await;
    ok::<UserDetail>(
        admin
            .patch_json(&user_path(ivy.id), &json!({ "is_active": false }))
            .await,
        200,
    )
    .await;
    let security: SecuritySettings = admin.get_ok(SECURITY).await;
    ok::<SecuritySettings>(
        admin
            .put_json(SECURITY, &serde_json::to_value(&security).unwrap())
            .await,
        200,
    )
    .await;

    let page = audit(&admin, &[]).await;
    assert_eq!(
        actions(&page.items),
        [
            "settings.security",
            "user.deactivate",
            "group.create",
            "user.create",
            "sign_in.success",
            "sign_in.failure",
        ],
        "newest first"
    );
    assert_eq!(page.next_before, None, "all on one page");
    assert!(page.items.windows(2).all(|w| w[0].at >= w[1].at));
    assert!(
        page.items
            .iter()
            .all(|e| e.address.as_deref() == Some("127.0.0.1")),
        "every entry has the client address"
    );

    let failure = find(&page.items, "sign_in.failure");
    assert_eq!(failure.actor, None);
    assert_eq!(failure.target.as_deref(), Some("admin"));
    let success = find(&page.items, "sign_in.success");
    assert_eq!(success.actor.as_deref(), Some("admin"));
    assert_eq!(success.target.as_deref(), Some("admin"));
    let created = find(&page.items, "user.create");
    assert_eq!(created.actor.as_deref(), Some("admin"));
    assert_eq!(created.target.as_deref(), Some("ivy"));
    assert!(
        created
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("Ivy Green"),
        "{created:?}"
    );
    let group = find(&page.items, "group.create");
    assert_eq!(group.target.as_deref(), Some("Gardeners"));
    assert!(
        group
            .detail
            .as_deref()
            .unwrap_or("")
            .contains(Right::SendFiles.label())
    );
    let deactivated = find(&page.items, "user.deactivate");
    assert_eq!(
        (deactivated.actor.as_deref(), deactivated.target.as_deref()),
        (Some("admin"), Some("ivy"))
    );
    let settings = find(&page.items, "settings.security");
    assert_eq!(settings.actor.as_deref(), Some("admin"));
    assert_eq!(settings.target, None);

    // Filters.
    let filtered = |query: Vec<(&'static str, &'static str)>| {
        let admin = &admin;
        async move {
            audit(admin, &query)
                .await
                .items
                .into_iter()
                .map(|e| e.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        filtered(vec![("action", "sign_in.")]).await,
        ["sign_in.success", "sign_in.failure"]
    );
    assert_eq!(
        filtered(vec![("action", "user.")]).await,
        ["user.deactivate", "user.create"]
    );
    assert_eq!(
        filtered(vec![("action", "user.create")]).await,
        ["user.create"]
    );
    assert_eq!(
        filtered(vec![("action", "create")]).await,
        Vec::<String>::new(),
        "a prefix, not anywhere"
    );
    assert_eq!(
        filtered(vec![("q", "IVY")]).await,
        ["user.deactivate", "user.create"],
        "text, any case"
    );
    assert_eq!(filtered(vec![("q", "gardeners")]).await, ["group.create"]);
    assert_eq!(filtered(vec![("q", "127.0.0.1")]).await.len(), 6);
    assert_eq!(
        filtered(vec![("action", "user."), ("q", "green")]).await,
        ["user.create"]
    );
    assert_eq!(
        filtered(vec![("action", "group."), ("q", "ivy")]).await,
        Vec::<String>::new()
    );
    assert_eq!(
        filtered(vec![("action", "  "), ("q", "")]).await.len(),
        6,
        "empty filters are no filters"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_audit_log_pages_back() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for name in ["G1", "G2", "G3", "G4", "G5", "G6"] {
        create_group(&admin, name, &[]).await;
    }
    let everything = audit(&admin, &[("limit", "200")]).await;
    assert_eq!(everything.items.len(), 7);
    assert_eq!(everything.next_before, None);

    let mut walked: Vec<AuditEntry> = Vec::new();
    let mut before: Option<i64> = None;
    let mut pages = 0;
    loop {
        let before_text = before.map(|b| b.to_string());
        let mut query = vec![("limit", "3")];
        if let Some(b) = &before_text {
            query.push(("before", b.as_str()));
        }
        let page = audit(&admin, &query).await;
        pages += 1;
        assert!(page.items.len() <= 3);
        if let Some(b) = before {
            assert!(page.items.iter().all(|e| e.id < b), "older than `before`");
        }
        if page.items.len() == 3 {
            assert_eq!(page.next_before, Some(page.items[2].id));
        }
        walked.extend(page.items);
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 3, "3 + 3 + 1");
    assert_eq!(
        walked, everything.items,
        "the pages add up to the whole log"
    );

    let third = everything.items[2].id.to_string();
    let older = audit(&admin, &[("before", third.as_str())]).await;
    assert_eq!(older.items, everything.items[3..]);

    for (query, status, code) in [
        (vec![("limit", "0")], 422, "invalid_input"),
        (vec![("limit", "201")], 422, "invalid_input"),
        (vec![("before", "yesterday")], 400, "bad_request"),
        (vec![("actor", "admin")], 400, "bad_request"),
    ] {
        refused(get_query(&admin, AUDIT, &query).await, status, code).await;
    }
    let long = "a".repeat(101);
    refused(
        get_query(&admin, AUDIT, &[("q", long.as_str())]).await,
        422,
        "invalid_input",
    )
    .await;
    refused(
        get_query(&admin, AUDIT, &[("action", long.as_str())]).await,
        422,
        "invalid_input",
    )
    .await;
    server.stop().await;
}

// ---------------------------------------------------------------------------
// 7. Self-service
// ---------------------------------------------------------------------------

#[tokio::test]
async fn users_change_their_own_display_name_and_phone_only() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sam: UserDetail = ok(
        admin
            .post_json(
                USERS,
                &json!({
                    "login": "sam",
                    "password": PASSWORD,
                    "profile": {
                        "display_name": "Sam",
                        "email": "sam@corp.example",
                        "company": "Corp",
                        "phone": "+1 555 0100",
                    },
                }),
            )
            .await,
        201,
    )
    .await;
    let session = server.sign_in("sam", PASSWORD).await;
    let account: MyAccount = session.get_ok("/api/v1/me/account").await;
    assert_eq!(account.causeway_id.to_string(), "sam@localhost");
    assert_eq!(account.profile, sam.profile);
    assert!(!account.is_admin);
    assert_eq!(names(&account.groups), ["Users without a group"]);

    let changed: MyAccount = ok(
        session
            .patch_json(
                "/api/v1/me/profile",
                &json!({ "display_name": " Sam Smith ", "phone": "+44 20 7946 0000" }),
            )
            .await,
        200,
    )
    .await;
    let expected = Profile {
        display_name: "Sam Smith".into(),
        phone: "+44 20 7946 0000".into(),
        ..sam.profile.clone()
    };
    assert_eq!(changed.profile, expected);
    assert_eq!(user(&admin, sam.id).await.profile, expected);
    assert_eq!(session.me_ok().await.display_name, "Sam Smith");

    for (body, status, code) in [
        (json!({ "email": "me@evil.example" }), 400, "bad_request"),
        (json!({ "company": "Other" }), 400, "bad_request"),
        (
            json!({ "display_name": "X", "is_admin": true }),
            400,
            "bad_request",
        ),
        (json!({ "display_name": "   " }), 422, "invalid_input"),
        (
            json!({ "display_name": "x".repeat(129) }),
            422,
            "invalid_input",
        ),
        (json!({ "phone": "call me" }), 422, "invalid_input"),
    ] {
        refused(
            session.patch_json("/api/v1/me/profile", &body).await,
            status,
            code,
        )
        .await;
        assert_eq!(user(&admin, sam.id).await.profile, expected, "{body}");
    }
    assert!(!user(&admin, sam.id).await.is_admin);

    let unchanged: MyAccount = ok(
        session.patch_json("/api/v1/me/profile", &json!({})).await,
        200,
    )
    .await;
    assert_eq!(unchanged.profile, expected);
    let logged = audit(&admin, &[("action", "account.profile")]).await.items;
    assert_eq!(logged.len(), 1, "only a real change is logged");
    assert_eq!(logged[0].actor.as_deref(), Some("sam"));
    server.stop().await;
}

#[tokio::test]
async fn changing_ones_password_ends_the_other_sessions() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    create_user(&admin, "pia", "Pia").await;
    let here = server.sign_in("pia", PASSWORD).await;
    let elsewhere = server.sign_in("pia", PASSWORD).await;
    let path = "/api/v1/me/password";

    refused(
        here.put_json(
            path,
            &json!({ "current_password": "not my password", "new_password": NEW_PASSWORD }),
        )
        .await,
        403,
        "invalid_credentials",
    )
    .await;
    refused(
        here.put_json(
            path,
            &json!({ "current_password": PASSWORD, "new_password": "short" }),
        )
        .await,
        422,
        "invalid_input",
    )
    .await;
    refused(
        here.put_json(path, &json!({ "new_password": NEW_PASSWORD }))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_eq!(here.me().await.status(), 200);
    assert_eq!(elsewhere.me().await.status(), 200, "nothing changed yet");
    server.sign_in("pia", PASSWORD).await;

    done(
        here.put_json(
            path,
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await,
        204,
    )
    .await;
    assert_eq!(here.me_ok().await.causeway_id.to_string(), "pia@localhost");
    refused(elsewhere.me().await, 401, "unauthenticated").await;
    refused(
        server.client().login("pia", PASSWORD, false).await,
        401,
        "invalid_credentials",
    )
    .await;
    server.sign_in("pia", NEW_PASSWORD).await;
    assert_eq!(
        here.me().await.status(),
        200,
        "the current session kept working"
    );

    let logged = audit(&admin, &[("action", "account.password")]).await.items;
    let actions = actions(&logged);
    assert_eq!(actions, ["account.password", "account.password_failure"]);
    assert!(
        logged[0]
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("2 other"),
        "{:?}",
        logged[0]
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_admin_api_works_the_same_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let server = TestServer::start_with(move |c| c.database.url = Some(url)).await;
    let admin = server.admin().await;

    let sales = create_group(&admin, "Sales", &["edit_address_book", "send_files"]).await;
    let moore: UserDetail = ok(
        admin
            .post_json(
                USERS,
                &json!({ "login": "moore", "password": PASSWORD, "group_ids": [sales.id],
                         "profile": { "display_name": "Albert Moore", "email": "Moore@Corp.Example" } }),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(names(&moore.groups), ["Sales"]);
    assert_eq!(
        grants(&moore.effective_rights),
        [
            grant(Right::EditAddressBook, &["Sales"]),
            grant(Right::SendFiles, &["Sales"]),
        ]
    );
    let found = users_page(&admin, &[("search", "corp.EXAMPLE")]).await;
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].login, "moore");
    assert_eq!(member_logins(&group(&admin, sales.id).await), ["moore"]);

    let session = server.sign_in("moore", PASSWORD).await;
    let contacts: Contacts = ok(
        session
            .put_json(MY_BOOK, &book(&[("admin@localhost", "The Admin")]))
            .await,
        200,
    )
    .await;
    assert_eq!(contacts.contacts.len(), 1);
    assert_eq!(contacts.contacts[0].display_name, "The Admin");

    let me = admin.me_ok().await;
    refused(
        admin
            .patch_json(&user_path(me.id), &json!({ "is_admin": false }))
            .await,
        409,
        "last_administrator",
    )
    .await;
    ok::<UserDetail>(
        admin
            .patch_json(&user_path(moore.id), &json!({ "is_active": false }))
            .await,
        200,
    )
    .await;
    refused(session.me().await, 401, "unauthenticated").await;
    let created = audit(&admin, &[("action", "user."), ("q", "MOORE")]).await;
    assert_eq!(actions(&created.items), ["user.deactivate", "user.create"]);
    server.stop().await;
    db.drop_now().await;
}

// ---------------------------------------------------------------------------
// Sessions written back after the request
// ---------------------------------------------------------------------------

/// Signs in on a fresh client; returns it and its session id (the cookie value).
async fn sign_in_with_id(server: &TestServer, login: &str, password: &str) -> (Client, String) {
    let client = server.client();
    let response = client.login(login, password, false).await;
    assert_eq!(response.status(), 200, "{login} signs in");
    let id = common::session_id(&response);
    (client, id)
}

/// Makes a stored session look last used `minutes` ago, as if its owner had
/// left the page open, so that the next request refreshes its last-seen time.
async fn idle_for(server: &TestServer, session_id: &str, minutes: i64) {
    let store = &server.state.store;
    let now = server::time::now_millis();
    let row = store
        .load_session(session_id, now)
        .await
        .unwrap()
        .expect("the session is stored");
    let mut data: Value = serde_json::from_slice(&row.data).unwrap();
    let user_id = data["auth"]["user_id"].as_i64();
    assert!(user_id.is_some(), "a signed-in session: {data}");
    data["auth"]["last_seen_at"] = json!(now - minutes * 60_000);
    assert!(
        store
            .save_session(
                session_id,
                user_id,
                &serde_json::to_vec(&data).unwrap(),
                row.expires_at,
            )
            .await
            .unwrap()
    );
}

/// An idle minute must not change what an administrator's request does: the
/// session a request refreshes is written back after the handler ran.
#[tokio::test]

async fn an_administrator_deleting_their_own_account_after_a_pause_gets_204() {
    let server = TestServer::start().await;
    let (admin, session_id) = sign_in_with_id(&server, "admin", &server.admin_password).await;
    let me = admin.me_ok().await;
    let deputy: UserDetail = ok(
        admin
            .post_json(
                USERS,
                &json!({ "login": "deputy", "password": PASSWORD, "is_admin": true,
                         "profile": { "display_name": "Deputy" } }),
            )
            .await,
        201,
    )
    .await;
    idle_for(&server, &session_id, 2).await;

    done(admin.delete(&user_path(me.id)).await, 204).await;
    let deputy_session = server.sign_in("deputy", PASSWORD).await;
    refused(
        deputy_session.get(&user_path(me.id)).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(all_logins(&deputy_session).await, ["deputy"]);
    assert!(user(&deputy_session, deputy.id).await.is_admin);
    refused(admin.me().await, 401, "unauthenticated").await;
    server.stop().await;
}

#[tokio::test]

async fn a_password_set_in_the_panel_ends_every_session_even_after_a_pause() {
    let server = TestServer::start().await;
    let (admin, session_id) = sign_in_with_id(&server, "admin", &server.admin_password).await;
    let me = admin.me_ok().await;
    idle_for(&server, &session_id, 2).await;

    done(
        admin
            .put_json(
                &format!("{USERS}/{}/password", me.id),
                &json!({ "password": NEW_PASSWORD }),
            )
            .await,
        204,
    )
    .await;
    refused(admin.me().await, 401, "unauthenticated").await;
    server.sign_in("admin", NEW_PASSWORD).await;
    server.stop().await;
}

/// The same control without the pause: the endpoint does end the session.
#[tokio::test]
async fn a_password_set_in_the_panel_ends_the_administrators_own_session() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let me = admin.me_ok().await;
    done(
        admin
            .put_json(
                &format!("{USERS}/{}/password", me.id),
                &json!({ "password": NEW_PASSWORD }),
            )
            .await,
        204,
    )
    .await;
    refused(admin.me().await, 401, "unauthenticated").await;
    server.sign_in("admin", NEW_PASSWORD).await;
    server.stop().await;
}

/// Wrong current passwords count towards the account's lock; the 429 then says
/// when to retry, like sign-in's.
#[tokio::test]

async fn wrong_current_passwords_lock_the_account_with_retry_after() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    create_user(&admin, "pia", "Pia").await;
    let session = server.sign_in("pia", PASSWORD).await;
    let wrong = json!({ "current_password": "not my password", "new_password": NEW_PASSWORD });
    for _ in 0..5 {
        refused(
            session.put_json("/api/v1/me/password", &wrong).await,
            403,
            "invalid_credentials",
        )
        .await;
    }
    locked_out(server.client().login("pia", PASSWORD, false).await, 15 * 60).await;
    let right = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let response = session.put_json("/api/v1/me/password", &right).await;
    assert_eq!(
        response.status(),
        429,
        "locked: even the right password waits"
    );
    locked_out(response, 15 * 60).await;
    server.stop().await;
}

#[tokio::test]

async fn user_search_ignores_case_beyond_ascii() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    create_user(&admin, "elodie", "Élodie Öztürk").await;
    for text in ["Élodie", "élodie", "ÖZTÜRK", "öztürk"] {
        let page = users_page(&admin, &[("search", text)]).await;
        let logins: Vec<&str> = page.items.iter().map(|u| u.login.as_str()).collect();
        assert_eq!(logins, ["elodie"], "{text}");
    }
    server.stop().await;
}

/// A successful password check resets the count of consecutive failures, whether
/// it was a sign-in or a password change.
#[tokio::test]

async fn a_successful_password_change_resets_the_failure_count() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    create_user(&admin, "pia", "Pia").await;
    let session = server.sign_in("pia", PASSWORD).await;
    let wrong = json!({ "current_password": "not my password", "new_password": NEW_PASSWORD });
    for _ in 0..4 {
        refused(
            session.put_json("/api/v1/me/password", &wrong).await,
            403,
            "invalid_credentials",
        )
        .await;
    }
    let right = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    done(session.put_json("/api/v1/me/password", &right).await, 204).await;
    refused(
        server.client().login("pia", "a typo", false).await,
        401,
        "invalid_credentials",
    )
    .await;
    let listed = users_page(&admin, &[("search", "pia")]).await.items;
    assert_eq!(
        listed[0].locked_until, None,
        "one typo after a success locks nothing"
    );
    server.sign_in("pia", NEW_PASSWORD).await;
    server.stop().await;
}

/// The same with sign-ins, which do reset the count (the control for the above).
#[tokio::test]
async fn a_successful_sign_in_resets_the_failure_count() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    create_user(&admin, "pia", "Pia").await;
    for _ in 0..4 {
        refused(
            server.client().login("pia", "a typo", false).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    server.sign_in("pia", PASSWORD).await;
    refused(
        server.client().login("pia", "a typo", false).await,
        401,
        "invalid_credentials",
    )
    .await;
    let listed = users_page(&admin, &[("search", "pia")]).await.items;
    assert_eq!(listed[0].locked_until, None);
    server.sign_in("pia", PASSWORD).await;
    server.stop().await;
}

/// The audit log as CSV: the lines the filters show, newest first, each field
/// as a spreadsheet reads it (commas, quotes, line breaks kept; never a
/// formula); the export is itself audited; only administrators get it.
async fn the_audit_log_exports_to_csv(database: Option<String>) {
    let server = TestServer::start_with(|config| config.database.url = database).await;
    let admin = server.admin().await;
    create_group(&admin, "=HYPERLINK(\"http://evil.example\")", &[]).await;
    create_group(&admin, "Sales, \"EMEA\"", &[]).await;
    create_user(&admin, "moore", "Albert Moore").await;

    let response = get_query(&admin, "/api/v1/admin/audit.csv", &[]).await;
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| {
        response.headers()[name]
            .to_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert!(header("content-disposition").starts_with("attachment; filename=\"causeway-audit-"));
    let body = response.text().await.unwrap();
    assert!(
        body.starts_with("time_utc,actor,action,action_name,target,detail,address\r\n"),
        "RFC 4180 lines end in CRLF"
    );
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "time_utc",
            "actor",
            "action",
            "action_name",
            "target",
            "detail",
            "address"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // The same lines as the listing, newest first, the export's own line first.
    let listed = audit(&admin, &[("limit", "200")]).await.items;
    assert_eq!(listed[0].action, "audit.export");
    assert_eq!(rows.len(), listed.len());
    for (row, entry) in rows.iter().zip(&listed) {
        assert_eq!(&row[2], entry.action.as_str());
        assert_eq!(&row[3], entry.action_name());
        assert_eq!(&row[1], entry.actor.as_deref().unwrap_or(""));
        assert!(row[0].ends_with('Z') && row[0].contains('T'), "{}", &row[0]);
    }
    let created = |name: &str| {
        rows.iter()
            .find(|r| &r[2] == "group.create" && r[4].contains(name))
            .unwrap_or_else(|| panic!("{name} in {body}"))
            .clone()
    };
    assert_eq!(&created("Sales")[4], "Sales, \"EMEA\"");
    assert_eq!(&created("Sales")[3], "Group created");
    assert_eq!(
        &created("HYPERLINK")[4],
        "'=HYPERLINK(\"http://evil.example\")",
        "a formula is shown, not run"
    );

    // Filters as on the page; the export says which in its audit line.
    let groups = get_query(
        &admin,
        "/api/v1/admin/audit.csv",
        &[("action", "group."), ("q", "sales")],
    )
    .await;
    assert_eq!(groups.status().as_u16(), 200);
    let groups = groups.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(groups.as_bytes());
    let actions: Vec<String> = reader.records().map(|r| r.unwrap()[2].to_owned()).collect();
    assert_eq!(actions, ["group.create"]);
    let newest = audit(&admin, &[("limit", "1")]).await.items.remove(0);
    assert_eq!(newest.action, "audit.export");
    assert_eq!(
        newest.detail.as_deref(),
        Some("action group., containing sales")
    );

    // Refusals: bad filters, and anyone but an administrator.
    let moore = server.sign_in("moore", PASSWORD).await;
    let before = audit(&admin, &[("limit", "200")]).await.items.len();
    let long = "a".repeat(101);
    for (query, status, code) in [
        (vec![("action", long.as_str())], 422, "invalid_input"),
        (vec![("q", "a\u{0}b")], 422, "invalid_input"),
        (vec![("limit", "5")], 400, "bad_request"),
    ] {
        refused(
            get_query(&admin, "/api/v1/admin/audit.csv", &query).await,
            status,
            code,
        )
        .await;
    }
    refused(moore.get("/api/v1/admin/audit.csv").await, 403, "forbidden").await;
    refused(
        server.client().get("/api/v1/admin/audit.csv").await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(
        audit(&admin, &[("limit", "200")]).await.items.len(),
        before,
        "a refused export is not an export"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_audit_log_exports_to_csv_on_sqlite() {
    the_audit_log_exports_to_csv(None).await;
}

#[tokio::test]
async fn the_audit_log_exports_to_csv_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    the_audit_log_exports_to_csv(Some(db.url.clone())).await;
    db.drop_now().await;
}
