//! A new server works without hand-made address books or rights (issue 13,
//! onboarding), through real HTTP on both databases: groups whose members see
//! each other, the rights a new server starts with, looking people up by ID,
//! and the administrator's set-up checklist.

use app::types::{
    BuiltinGroup, Contact, ContactSource, Contacts, CurrentUser, GroupDetail, GroupSummary, Person,
    Right, SetupStatus, UserDetail,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::common::{Client, PgDatabase, TestServer, error_of};

const USERS: &str = "/api/v1/admin/users";
const GROUPS: &str = "/api/v1/admin/groups";
const CONTACTS: &str = "/api/v1/contacts";
const LOOKUP: &str = "/api/v1/people/lookup";
const SETUP: &str = "/api/v1/admin/setup";
const PASSWORD: &str = "correct horse battery";

async fn ok<T: DeserializeOwned>(response: reqwest::Response, status: u16) -> T {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn refused(response: reqwest::Response, status: u16, code: &str) -> String {
    let got = response.status().as_u16();
    let (got_code, message) = error_of(response).await;
    assert_eq!((got, got_code.as_str()), (status, code), "{message}");
    message
}

async fn create_user(admin: &Client, login: &str, name: &str, groups: &[i64]) -> UserDetail {
    let body = json!({
        "login": login,
        "password": PASSWORD,
        "profile": { "display_name": name },
        "group_ids": groups,
    });
    ok(admin.post_json(USERS, &body).await, 201).await
}

async fn group_id(admin: &Client, which: BuiltinGroup) -> i64 {
    let groups: Vec<GroupSummary> = admin.get_ok(GROUPS).await;
    groups
        .into_iter()
        .find(|g| g.builtin == Some(which))
        .map(|g| g.id)
        .unwrap()
}

/// Who a user sees in their contacts, by login, with the groups that list them.
async fn seen(client: &Client) -> Vec<(String, Vec<String>)> {
    let contacts: Contacts = client.get_ok(CONTACTS).await;
    contacts
        .contacts
        .iter()
        .map(|c: &Contact| {
            let from = c
                .sources
                .iter()
                .map(|s| match s {
                    ContactSource::Group { name } => name.clone(),
                    ContactSource::Personal => "personal".to_owned(),
                })
                .collect();
            (c.causeway_id.login.to_string(), from)
        })
        .collect()
}

fn people(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    list.iter()
        .map(|(login, from)| {
            (
                (*login).to_owned(),
                from.iter().map(|s| (*s).to_owned()).collect(),
            )
        })
        .collect()
}

async fn start(database: Option<String>) -> TestServer {
    TestServer::start_with(|config| config.database.url = database).await
}

async fn colleagues_find_each_other(database: Option<String>) {
    let server = start(database).await;
    let admin = server.admin().await;
    let no_group = group_id(&admin, BuiltinGroup::NoGroup).await;
    let federated = group_id(&admin, BuiltinGroup::Federated).await;

    // A new server's defaults, as the panel shows them.
    let everyone: GroupDetail = admin.get_ok(&format!("{GROUPS}/{no_group}")).await;
    assert!(everyone.members_see_each_other);
    assert_eq!(
        everyone.rights,
        [
            Right::EditAddressBook,
            Right::SendFiles,
            Right::DownloadFiles
        ]
    );
    let outsiders: GroupDetail = admin.get_ok(&format!("{GROUPS}/{federated}")).await;
    assert!(!outsiders.members_see_each_other);
    assert_eq!(outsiders.rights, [Right::DownloadFiles]);

    // People in no group see each other (and the administrator) by name, with
    // no address book typed by hand; they may send files and edit their book.
    create_user(&admin, "ann", "Ann Archer", &[]).await;
    create_user(&admin, "ben", "Ben Baker", &[]).await;
    let ann = server.sign_in("ann", PASSWORD).await;
    let everyone_name = "Users without a group";
    assert_eq!(
        seen(&ann).await,
        people(&[("admin", &[everyone_name]), ("ben", &[everyone_name])])
    );
    let contacts: Contacts = ann.get_ok(CONTACTS).await;
    assert_eq!(contacts.contacts[1].display_name, "Ben Baker");
    assert!(contacts.can_edit_personal);
    let me: CurrentUser = ann.get_ok("/api/v1/me").await;
    for right in [
        Right::SendFiles,
        Right::DownloadFiles,
        Right::EditAddressBook,
    ] {
        assert!(me.rights.contains(&right), "{right:?} by default");
    }

    // A new group: on by default; its members are created into it in one form.
    let sales: GroupDetail = ok(
        admin.post_json(GROUPS, &json!({ "name": "Sales" })).await,
        201,
    )
    .await;
    assert!(sales.members_see_each_other);
    create_user(&admin, "cat", "Cat Cole", &[sales.id]).await;
    create_user(&admin, "dan", "Dan Dale", &[sales.id]).await;
    let cat = server.sign_in("cat", PASSWORD).await;
    assert_eq!(seen(&cat).await, people(&[("dan", &["Sales"])]));
    assert_eq!(
        seen(&ann).await,
        people(&[("admin", &[everyone_name]), ("ben", &[everyone_name])]),
        "Sales are in a group now, not in “Users without a group”"
    );

    // Both ways of being listed show once, with both sources.
    ok::<GroupDetail>(
        admin
            .put_json(
                &format!("{GROUPS}/{}/address-book", sales.id),
                &json!({ "entries": [{ "causeway_id": format!("dan@{}", server.config.server_name) }] }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(seen(&cat).await, people(&[("dan", &["Sales"])]));

    // The address book in the panel names the person, not a bare ID.
    let detail: GroupDetail = admin.get_ok(&format!("{GROUPS}/{}", sales.id)).await;
    assert_eq!(detail.address_book[0].person_name, "Dan Dale");
    assert_eq!(detail.address_book[0].shown_name(), "Dan Dale");

    // Switched off: only the address book is left.
    ok::<GroupDetail>(
        admin
            .put_json(
                &format!("{GROUPS}/{}/address-book", sales.id),
                &json!({ "entries": [] }),
            )
            .await,
        200,
    )
    .await;
    let off: GroupDetail = ok(
        admin
            .patch_json(
                &format!("{GROUPS}/{}", sales.id),
                &json!({ "members_see_each_other": false }),
            )
            .await,
        200,
    )
    .await;
    assert!(!off.members_see_each_other);
    assert!(seen(&cat).await.is_empty());
    let audit: Value = admin
        .get_ok("/api/v1/admin/audit?action=group.visibility")
        .await;
    assert_eq!(audit["items"][0]["target"], "Sales");
    assert_eq!(
        audit["items"][0]["detail"],
        "members see only the address book"
    );

    // Nobody sees a deactivated colleague.
    ok::<UserDetail>(
        admin
            .patch_json(
                &format!("{USERS}/{}", ann_id(&admin, "ben").await),
                &json!({ "is_active": false }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(seen(&ann).await, people(&[("admin", &[everyone_name])]));

    // Federated Users are not members of anything here: refused, unchanged.
    refused(
        admin
            .patch_json(
                &format!("{GROUPS}/{federated}"),
                &json!({ "members_see_each_other": true }),
            )
            .await,
        409,
        "builtin_group",
    )
    .await;
    let outsiders: GroupDetail = admin.get_ok(&format!("{GROUPS}/{federated}")).await;
    assert!(!outsiders.members_see_each_other);
    // Bytes of the wrong shape: a clear 4xx, nothing changed.
    let response = admin
        .patch_json(
            &format!("{GROUPS}/{no_group}"),
            &json!({ "members_see_each_other": "yes" }),
        )
        .await;
    assert_eq!(response.status().as_u16() / 100, 4);
    let everyone: GroupDetail = admin.get_ok(&format!("{GROUPS}/{no_group}")).await;
    assert!(everyone.members_see_each_other);

    server.stop().await;
}

async fn ann_id(admin: &Client, login: &str) -> i64 {
    let page: Value = admin.get_ok(&format!("{USERS}?search={login}")).await;
    page["items"][0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn colleagues_find_each_other_on_sqlite() {
    colleagues_find_each_other(None).await;
}

#[tokio::test]
async fn colleagues_find_each_other_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    colleagues_find_each_other(Some(db.url.clone())).await;
    db.drop_now().await;
}

/// Looking a person up by ID: for administrators and people who may edit their
/// address book; never a list of names nobody typed.
#[tokio::test]
async fn people_are_looked_up_by_their_id() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let here = server.config.server_name.to_string();
    create_user(&admin, "ann", "Ann Archer", &[]).await;
    let ben = create_user(&admin, "ben", "Ben Baker", &[]).await;
    let ann = server.sign_in("ann", PASSWORD).await;
    let lookup = |id: &str| format!("{LOOKUP}?id={}", urlencode(id));

    let found: Person = ok(ann.get(&lookup(&format!("ben@{here}"))).await, 200).await;
    assert_eq!(found.display_name, "Ben Baker");
    assert_eq!(found.causeway_id.to_string(), format!("ben@{here}"));
    let found: Person = ok(admin.get(&lookup(&format!(" ann@{here} "))).await, 200).await;
    assert_eq!(found.display_name, "Ann Archer");

    // Nobody there, or not an ID at all: a clear 422.
    for (id, says) in [
        (format!("nobody@{here}"), "There is no user nobody@"),
        ("ben".to_owned(), "Enter a Causeway ID"),
        ("ben@".to_owned(), "Enter a Causeway ID"),
        ("a".repeat(300), "at most 256"),
        ("ben@bad server".to_owned(), "Enter a Causeway ID"),
    ] {
        let message = refused(ann.get(&lookup(&id)).await, 422, "invalid_input").await;
        assert!(message.contains(says), "{id}: {message}");
    }
    let response = ann.get(LOOKUP).await;
    assert_eq!(response.status().as_u16(), 400, "no id at all");

    // A deactivated colleague is not found.
    ok::<UserDetail>(
        admin
            .patch_json(
                &format!("{USERS}/{}", ben.id),
                &json!({ "is_active": false }),
            )
            .await,
        200,
    )
    .await;
    refused(
        ann.get(&lookup(&format!("ben@{here}"))).await,
        422,
        "invalid_input",
    )
    .await;

    // Without "Edit the address book" (and not an administrator): refused.
    let no_group = group_id(&admin, BuiltinGroup::NoGroup).await;
    ok::<GroupDetail>(
        admin
            .patch_json(
                &format!("{GROUPS}/{no_group}"),
                &json!({ "rights": ["send_files"] }),
            )
            .await,
        200,
    )
    .await;
    refused(
        ann.get(&lookup(&format!("admin@{here}"))).await,
        403,
        "forbidden",
    )
    .await;
    let found: Person = ok(admin.get(&lookup(&format!("ann@{here}"))).await, 200).await;
    assert_eq!(found.display_name, "Ann Archer");

    // Signed out: refused.
    refused(
        server.client().get(&lookup(&format!("ann@{here}"))).await,
        401,
        "unauthenticated",
    )
    .await;
    server.stop().await;
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).unwrap()[2..].to_owned()
}

/// The checklist an administrator sees on a new server ticks its steps as they
/// are done; it is theirs alone.
#[tokio::test]
async fn the_set_up_checklist_follows_the_server() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let status: SetupStatus = admin.get_ok(SETUP).await;
    assert_eq!(
        status,
        SetupStatus {
            people: 0,
            groups: 0,
            federation: false
        }
    );
    assert!(!status.complete());

    create_user(&admin, "ann", "Ann Archer", &[]).await;
    let ann = server.sign_in("ann", PASSWORD).await;
    refused(ann.get(SETUP).await, 403, "forbidden").await;

    ok::<GroupDetail>(
        admin.post_json(GROUPS, &json!({ "name": "Sales" })).await,
        201,
    )
    .await;
    ok::<Value>(
        admin
            .put_json(
                "/api/v1/admin/federation",
                &json!({ "mode": "allow_all", "whitelist": [] }),
            )
            .await,
        200,
    )
    .await;
    let status: SetupStatus = admin.get_ok(SETUP).await;
    assert_eq!(
        status,
        SetupStatus {
            people: 1,
            groups: 1,
            federation: true
        }
    );
    assert!(status.complete());
    server.stop().await;
}

/// A company-size address book: contacts come a page at a time and are found
/// by any part of a name or ID, on both databases; bad paging changes nothing.
async fn many_colleagues_come_by_page_and_search(database: Option<String>) {
    let server = start(database).await;
    let admin = server.admin().await;
    for i in 1..=24 {
        let name = if i % 4 == 0 {
            format!("Erin Frost {i:02}")
        } else {
            format!("Colleague {i:02}")
        };
        create_user(&admin, &format!("user{i:02}"), &name, &[]).await;
    }
    let ann = {
        create_user(&admin, "ann", "Ann Archer", &[]).await;
        server.sign_in("ann", PASSWORD).await
    };
    let all: Contacts = ann.get_ok(CONTACTS).await;
    assert_eq!(
        (all.total, all.page, all.per_page),
        (25, 1, 100),
        "everyone but Ann, on one page by default"
    );
    let names = |c: &Contacts| -> Vec<String> {
        c.contacts
            .iter()
            .map(|c| c.causeway_id.login.to_string())
            .collect()
    };

    // Pages of 10 hold everyone once, in the order of the whole list.
    let mut paged = Vec::new();
    for page in 1..=3 {
        let got: Contacts = ann
            .get_ok(&format!("{CONTACTS}?page={page}&per_page=10"))
            .await;
        assert_eq!((got.total, got.page, got.per_page), (25, page, 10));
        paged.extend(names(&got));
    }
    assert_eq!(paged, names(&all));
    let beyond: Contacts = ann.get_ok(&format!("{CONTACTS}?page=4&per_page=10")).await;
    assert!(beyond.contacts.is_empty());
    assert_eq!(beyond.total, 25);

    // Any part of a name, in any case, or of an ID.
    let frost: Contacts = ann.get_ok(&format!("{CONTACTS}?search=%20fROST%20")).await;
    assert_eq!(
        names(&frost),
        ["user04", "user08", "user12", "user16", "user20", "user24"]
    );
    assert_eq!(frost.total, 6);
    let by_id: Contacts = ann.get_ok(&format!("{CONTACTS}?search=user1")).await;
    assert_eq!(by_id.total, 10, "user10 to user19");
    let second: Contacts = ann
        .get_ok(&format!("{CONTACTS}?search=frost&page=2&per_page=4"))
        .await;
    assert_eq!(names(&second), ["user20", "user24"]);
    let nobody: Contacts = ann.get_ok(&format!("{CONTACTS}?search=zebra")).await;
    assert_eq!((nobody.total, nobody.contacts.len()), (0, 0));

    // Bad paging or search text: a 4xx that says why (422 for a value out of
    // range, 400 for a query that does not parse).
    let long = "x".repeat(101);
    for (query, status, code) in [
        ("page=0".to_owned(), 422, "invalid_input"),
        ("per_page=0".to_owned(), 422, "invalid_input"),
        ("per_page=101".to_owned(), 422, "invalid_input"),
        (format!("search={long}"), 422, "invalid_input"),
        ("search=a%00b".to_owned(), 422, "invalid_input"),
        ("page=-1".to_owned(), 400, "bad_request"),
        ("page=ten".to_owned(), 400, "bad_request"),
        ("colour=blue".to_owned(), 400, "bad_request"),
    ] {
        refused(ann.get(&format!("{CONTACTS}?{query}")).await, status, code).await;
    }
    let after: Contacts = ann.get_ok(CONTACTS).await;
    assert_eq!(after, all, "refusals change nothing");
    server.stop().await;
}

#[tokio::test]
async fn many_colleagues_come_by_page_and_search_on_sqlite() {
    many_colleagues_come_by_page_and_search(None).await;
}

#[tokio::test]
async fn many_colleagues_come_by_page_and_search_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    many_colleagues_come_by_page_and_search(Some(db.url.clone())).await;
    db.drop_now().await;
}
