//! Who may call what: every operation of the OpenAPI document, called by every
//! kind of caller, against the access class its handler declares
//! (`x-causeway-access`, see ARCHITECTURE.md "The API").
//!
//! The list of operations is the served document itself, so a new route is
//! covered the day it is documented (and `tests/it/openapi.rs` holds that every
//! served route is documented); one whose class, path parameter, query
//! parameter or body the test cannot fill fails the test instead of being
//! skipped.

use std::collections::{BTreeMap, BTreeSet};

use app::types::{BuiltinGroup, GroupSummary, Right, ServerName, UserPage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Client, PgDatabase, TestServer, session_id};

const PASSWORD: &str = "correct horse battery";

/// A 1×1 PNG: a photo, a file in a chat and its preview.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A chat id no chat has: what a non-member is told must be what this gets.
const NO_SUCH_CHAT: i64 = 999_999_999;

/// Who may call an operation, as its `#[utoipa::path]` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Sign-in, sign-out, this document.
    Anyone,
    /// Any signed-in user of this server.
    User,
    /// A signed-in user holding the right.
    UserWithRight(Right),
    /// A member of the chat `{id}`; anyone else is told the chat does not exist.
    Member,
    /// A member of the chat `{id}` holding the right.
    MemberWithRight(Right),
    /// An administrator.
    Admin,
}

impl Access {
    /// Parses `x-causeway-access`; `None` for anything this test cannot check.
    fn parse(text: &str) -> Option<Self> {
        match text.split_once(':') {
            None => match text {
                "anyone" => Some(Self::Anyone),
                "user" => Some(Self::User),
                "member" => Some(Self::Member),
                "admin" => Some(Self::Admin),
                _ => None,
            },
            Some(("user", right)) => Right::parse(right).map(Self::UserWithRight),
            Some(("member", right)) => Right::parse(right).map(Self::MemberWithRight),
            Some(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    Anonymous,
    /// A user of this server with the rights the routes need, in the chats.
    Plain,
    /// A user in a group without any right, owner of a chat with a file in it.
    WithoutRight,
    /// A user with the rights, in none of the others' chats.
    NonMember,
    /// The cookie of a user who was signed in, then deactivated.
    Deactivated,
    /// The session cookie of a signed-in user of a federated second server.
    OtherServer,
    /// Last, so that its destructive calls come after everyone else's.
    Admin,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Plain,
    Caller::WithoutRight,
    Caller::NonMember,
    Caller::Deactivated,
    Caller::OtherServer,
    Caller::Admin,
];

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    /// 401 `unauthenticated`.
    Unauthenticated,
    /// 403 `forbidden`.
    Forbidden,
    /// 404 `not_found`, the very answer a chat that does not exist gets.
    Hidden,
}

fn expect(access: Access, caller: Caller) -> Expect {
    use Access as A;
    match (caller, access) {
        (_, A::Anyone) | (Caller::Admin, _) => Expect::Allowed,
        (Caller::Anonymous | Caller::Deactivated | Caller::OtherServer, _) => {
            Expect::Unauthenticated
        }
        (_, A::Admin) => Expect::Forbidden,
        (Caller::WithoutRight, A::UserWithRight(_) | A::MemberWithRight(_)) => Expect::Forbidden,
        (Caller::NonMember, A::Member | A::MemberWithRight(_)) => Expect::Hidden,
        (Caller::Plain | Caller::WithoutRight | Caller::NonMember, _) => Expect::Allowed,
    }
}

/// What one caller sends: their cookie, and the objects their path parameters
/// name. Chat routes get a chat the caller owns (so the chat's own rules —
/// the owner sets roles, the sender edits — let them), a message they sent
/// in it, a file in it and a member to act on; the non-member gets the plain
/// user's, and those refused at the door get the plain user's too.
#[derive(Clone)]
struct Scene {
    cookie: Option<String>,
    password: String,
    chat: i64,
    seq: i64,
    file: i64,
    member: String,
    /// Whom to open a direct chat with.
    partner: String,
}

struct Fixture {
    scenes: BTreeMap<Caller, Scene>,
    /// `/admin/users/{id}`: a user no caller is, deleted at the end.
    user: i64,
    /// `/admin/groups/{id}`: an ordinary group, deleted at the end.
    group: i64,
    /// `/avatars/{name}`: the plain user's photo.
    avatar: String,
    /// The administrator's view of each `GET /api/v1/admin/…` without
    /// parameters: what a `PUT` on the same path sends back unchanged.
    current: BTreeMap<String, Value>,
}

async fn expect_status(response: reqwest::Response, status: u16, what: &str) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn create_user(admin: &Client, login: &str) -> i64 {
    let user = admin
        .post_json(
            "/api/v1/admin/users",
            &json!({ "login": login, "password": PASSWORD, "profile": { "display_name": login } }),
        )
        .await;
    expect_status(user, 201, &format!("create {login}")).await["id"]
        .as_i64()
        .unwrap()
}

/// Signs `login` in; returns the client and the session cookie's value.
async fn sign_in(server: &TestServer, login: &str, password: &str) -> (Client, String) {
    let client = server.client();
    let response = client.login(login, password, false).await;
    assert_eq!(response.status(), 200, "{login} signs in");
    let cookie = session_id(&response);
    (client, cookie)
}

/// A group chat `owner` makes with the administrator and `spare` in it: a
/// message of the owner's, and an image the administrator sent.
async fn chat_of(owner: &Client, admin: &Client, server: &str, spare: &str) -> (i64, i64, i64) {
    // The creator named among the members is left out, so the administrator
    // may be named in their own chat too.
    let members = [format!("{spare}@{server}"), format!("admin@{server}")];
    let chat = owner
        .post_json(
            "/api/v1/chats",
            &json!({ "title": "Matrix", "members": members }),
        )
        .await;
    let chat = expect_status(chat, 201, "a chat").await["id"]
        .as_i64()
        .unwrap();
    let message = owner
        .post_json(
            &format!("/api/v1/chats/{chat}/messages"),
            &json!({ "client_id": "mine", "body": "Mine to edit" }),
        )
        .await;
    let seq = expect_status(message, 201, "a message").await["seq"]
        .as_i64()
        .unwrap();
    let file = admin
        .http
        .post(format!(
            "{}/api/v1/chats/{chat}/files?name=matrix.png",
            admin.base
        ))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .unwrap();
    let file = expect_status(file, 201, "a file").await["id"]
        .as_i64()
        .unwrap();
    let sent = admin
        .post_json(
            &format!("/api/v1/chats/{chat}/messages"),
            &json!({ "client_id": "with-file", "body": "", "file": file }),
        )
        .await;
    expect_status(sent, 201, "the file's message").await;
    (chat, seq, file)
}

async fn fixture(corp: &TestServer, guest: &TestServer, doc: &Value) -> Fixture {
    let host = corp.config.server_name.to_string();
    let (admin, admin_cookie) = sign_in(corp, "admin", &corp.admin_password).await;
    for login in [
        "pat", "rita", "nina", "dora", "vic", "lena", "spare-a", "spare-p", "spare-r",
    ] {
        create_user(&admin, login).await;
    }
    // Everyone in no group — the administrator, Pat and Nina — holds the rights
    // the routes name; Rita is in a group with none.
    let groups: Vec<GroupSummary> = admin.get_ok("/api/v1/admin/groups").await;
    let no_group = groups
        .iter()
        .find(|g| g.builtin == Some(BuiltinGroup::NoGroup))
        .expect("the built-in group")
        .id;
    let rights: Vec<&str> = doc_rights(doc).iter().map(|r| r.as_str()).collect();
    let set = admin
        .patch_json(
            &format!("/api/v1/admin/groups/{no_group}"),
            &json!({ "rights": rights }),
        )
        .await;
    expect_status(set, 200, "rights of Users without a group").await;
    let rightless = admin
        .post_json(
            "/api/v1/admin/groups",
            &json!({ "name": "Rightless", "rights": [] }),
        )
        .await;
    let rightless = expect_status(rightless, 201, "a group").await["id"]
        .as_i64()
        .unwrap();
    let victims = admin
        .post_json(
            "/api/v1/admin/groups",
            &json!({ "name": "Victims", "rights": [] }),
        )
        .await;
    let group = expect_status(victims, 201, "a group").await["id"]
        .as_i64()
        .unwrap();
    let users: UserPage = admin.get_ok("/api/v1/admin/users?per_page=100").await;
    let id_of = |login: &str| {
        users
            .items
            .iter()
            .find(|u| u.login == login)
            .expect("created")
            .id
    };
    let put = admin
        .put_json(
            &format!("/api/v1/admin/users/{}/groups", id_of("rita")),
            &json!({ "ids": [rightless] }),
        )
        .await;
    expect_status(put, 200, "Rita in Rightless").await;

    let (pat, pat_cookie) = sign_in(corp, "pat", PASSWORD).await;
    let (rita, rita_cookie) = sign_in(corp, "rita", PASSWORD).await;
    let (_, nina_cookie) = sign_in(corp, "nina", PASSWORD).await;
    let (_, dora_cookie) = sign_in(corp, "dora", PASSWORD).await;
    let deactivate = admin
        .patch_json(
            &format!("/api/v1/admin/users/{}", id_of("dora")),
            &json!({ "is_active": false }),
        )
        .await;
    expect_status(deactivate, 200, "Dora deactivated").await;
    let (_, moore_cookie) = {
        let guest_admin = guest.admin().await;
        create_user(&guest_admin, "moore").await;
        sign_in(guest, "moore", PASSWORD).await
    };

    let photo = pat
        .http
        .put(format!("{}/api/v1/me/avatar", pat.base))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .unwrap();
    let account = expect_status(photo, 200, "Pat's photo").await;
    let avatar = account["avatar_url"]
        .as_str()
        .and_then(|url| url.strip_prefix("/api/v1/avatars/"))
        .expect("the photo's address")
        .to_owned();

    let (chat_p, seq_p, file_p) = chat_of(&pat, &admin, &host, "spare-p").await;
    let (chat_r, seq_r, file_r) = chat_of(&rita, &admin, &host, "spare-r").await;
    let (chat_a, seq_a, file_a) = chat_of(&admin, &admin, &host, "spare-a").await;
    let admin_id = format!("admin@{host}");
    let scene = |cookie: Option<&str>, password: &str, chat, seq, file, spare: &str| Scene {
        cookie: cookie.map(str::to_owned),
        password: password.to_owned(),
        chat,
        seq,
        file,
        member: format!("{spare}@{host}"),
        partner: admin_id.clone(),
    };
    let plain = |cookie: Option<&str>| scene(cookie, PASSWORD, chat_p, seq_p, file_p, "spare-p");
    let mut admin_scene = scene(
        Some(&admin_cookie),
        &corp.admin_password,
        chat_a,
        seq_a,
        file_a,
        "spare-a",
    );
    admin_scene.partner = format!("pat@{host}");
    let scenes = BTreeMap::from([
        (Caller::Anonymous, plain(None)),
        (Caller::Plain, plain(Some(&pat_cookie))),
        (
            Caller::WithoutRight,
            scene(
                Some(&rita_cookie),
                PASSWORD,
                chat_r,
                seq_r,
                file_r,
                "spare-r",
            ),
        ),
        (Caller::NonMember, plain(Some(&nina_cookie))),
        (Caller::Deactivated, plain(Some(&dora_cookie))),
        (Caller::OtherServer, plain(Some(&moore_cookie))),
        (Caller::Admin, admin_scene),
    ]);

    let mut current = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        // What a PUT sends back unchanged: the JSON of the GET beside it (the
        // CSV export has no PUT).
        if path.starts_with("/api/v1/admin/")
            && !path.contains('{')
            && !path.ends_with(".csv")
            && item.get("get").is_some()
        {
            current.insert(path.clone(), admin.get_ok::<Value>(path).await);
        }
    }
    Fixture {
        scenes,
        user: id_of("vic"),
        group,
        avatar,
        current,
    }
}

/// Every right some operation names.
fn doc_rights(doc: &Value) -> Vec<Right> {
    let mut rights = BTreeSet::new();
    for (_, _, access) in operations(doc) {
        if let Access::UserWithRight(right) | Access::MemberWithRight(right) = access {
            rights.insert(right);
        }
    }
    rights.into_iter().collect()
}

/// Every operation of the document with its access class, destructive ones
/// last: deletions, then signing in and out (each ends the caller's session).
fn operations(doc: &Value) -> Vec<(Method, String, Access)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let class = operation["x-causeway-access"].as_str().unwrap_or_else(|| {
                panic!("{method} {path} declares no x-causeway-access in its #[utoipa::path]")
            });
            let access = Access::parse(class).unwrap_or_else(|| {
                panic!("{method} {path}: x-causeway-access {class:?} is no class this test knows")
            });
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            operations.push((method, path.clone(), access));
        }
    }
    let rank = |method: &Method, path: &str| {
        if path == "/api/v1/auth/logout" {
            3
        } else if path == "/api/v1/auth/login" {
            // A sign-in replaces the session the request came with.
            2
        } else if *method == Method::DELETE {
            1
        } else {
            0
        }
    };
    operations.sort_by(|(m1, p1, _), (m2, p2, _)| {
        (rank(m1, p1), p1, m1.as_str()).cmp(&(rank(m2, p2), p2, m2.as_str()))
    });
    operations
}

/// The value of path parameter `name` of `path` for this caller.
fn path_value(path: &str, name: &str, scene: &Scene, fixture: &Fixture) -> Option<String> {
    Some(match name {
        "id" if path.starts_with("/api/v1/admin/users/") => fixture.user.to_string(),
        "id" if path.starts_with("/api/v1/admin/groups/") => fixture.group.to_string(),
        "id" if path.starts_with("/api/v1/chats/") => scene.chat.to_string(),
        "seq" => scene.seq.to_string(),
        "file_id" => scene.file.to_string(),
        "member" => scene.member.clone(),
        "name" => fixture.avatar.clone(),
        _ => return None,
    })
}

fn query_value(name: &str) -> Option<&'static str> {
    Some(match name {
        "q" => "Mine",
        "after" => "0",
        "name" => "matrix.png",
        "id" => "admin@corp",
        _ => return None,
    })
}

/// A JSON body a permitted caller's call succeeds with, changing nothing the
/// later calls rely on.
fn json_body(method: &Method, path: &str, scene: &Scene, fixture: &Fixture) -> Option<Value> {
    if *method == Method::PUT
        && let Some(current) = fixture.current.get(path)
    {
        return Some(current.clone());
    }
    Some(match (method.as_str(), path) {
        ("POST", "/api/v1/auth/login") => {
            json!({ "login": "lena", "password": PASSWORD, "remember_me": false })
        }
        ("PATCH", "/api/v1/me/profile") => json!({ "phone": "+1 555 0100" }),
        ("PUT", "/api/v1/me/password") => {
            json!({ "current_password": scene.password, "new_password": scene.password })
        }
        ("PUT", "/api/v1/me/address-book") => json!({ "entries": [] }),
        ("POST", "/api/v1/admin/users") => {
            json!({ "login": "made", "password": PASSWORD, "profile": { "display_name": "Made" } })
        }
        ("PATCH", "/api/v1/admin/users/{id}") => json!({ "is_active": true }),
        ("PUT", "/api/v1/admin/users/{id}/password") => json!({ "password": PASSWORD }),
        ("PUT", "/api/v1/admin/users/{id}/groups") => json!({ "ids": [fixture.group] }),
        ("POST", "/api/v1/admin/groups") => json!({ "name": "Made", "rights": [] }),
        ("PATCH", "/api/v1/admin/groups/{id}") => json!({ "rights": [] }),
        ("PUT", "/api/v1/admin/groups/{id}/members") => json!({ "ids": [fixture.user] }),
        ("PUT", "/api/v1/admin/groups/{id}/address-book") => json!({ "entries": [] }),
        ("POST", "/api/v1/chats") => json!({ "title": "Made", "members": [] }),
        ("POST", "/api/v1/chats/direct") => json!({ "with": scene.partner }),
        ("POST", "/api/v1/chats/{id}/messages") => json!({ "client_id": "matrix", "body": "Hi" }),
        ("PATCH", "/api/v1/chats/{id}/messages/{seq}") => json!({ "body": "Edited" }),
        ("PUT", "/api/v1/chats/{id}/read") => json!({ "seq": 1 }),
        ("PUT", "/api/v1/chats/{id}/mute") => json!({ "muted": false }),
        ("POST", "/api/v1/chats/{id}/members") => json!({ "members": [scene.member] }),
        ("PUT", "/api/v1/chats/{id}/members/{member}/role") => json!({ "role": "admin" }),
        _ => return None,
    })
}

/// The request `caller` makes for the operation; `chat` overrides `{id}` of a
/// chat route.
fn request(
    http: &reqwest::Client,
    base: &str,
    (method, path, operation): (&Method, &str, &Value),
    scene: &Scene,
    fixture: &Fixture,
    chat: Option<i64>,
) -> reqwest::RequestBuilder {
    let what = format!("{method} {path}");
    let mut url = path.to_owned();
    let mut query = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().expect("a parameter name");
        match parameter["in"].as_str() {
            Some("path") => {
                let value = match chat {
                    Some(chat) if name == "id" && path.starts_with("/api/v1/chats/") => {
                        chat.to_string()
                    }
                    _ => path_value(path, name, scene, fixture).unwrap_or_else(|| {
                        panic!("{what}: no fixture for the path parameter {name}")
                    }),
                };
                url = url.replace(&format!("{{{name}}}"), &value);
            }
            Some("query") => match query_value(name) {
                Some(value) => query.push((name.to_owned(), value)),
                None if parameter["required"] == true => {
                    panic!("{what}: no value for the required query parameter {name}")
                }
                None => {}
            },
            other => panic!("{what}: a parameter in {other:?}"),
        }
    }
    assert!(!url.contains('{'), "{what}: undocumented path parameters");
    let mut request = http
        .request(method.clone(), format!("{base}{url}"))
        .query(&query);
    if let Some(cookie) = &scene.cookie {
        request = request.header("cookie", format!("causeway_session={cookie}"));
    }
    if let Some(content) = operation["requestBody"]["content"].as_object() {
        request = match content.keys().next().map(String::as_str) {
            Some("application/json") => {
                let body = json_body(method, path, scene, fixture)
                    .unwrap_or_else(|| panic!("{what}: no harmless JSON body known"));
                request.json(&body)
            }
            // A photo, or a file in a chat: an image either way.
            Some("image/png" | "application/octet-stream") => {
                request.header("content-type", "image/png").body(PNG)
            }
            other => panic!("{what}: a body of type {other:?}"),
        };
    }
    request
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn code_of(text: &str) -> Option<String> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
}

async fn authorization_matrix(database: Option<String>) {
    let corp = TestServer::start_with(|config| {
        config.server_name = ServerName::parse("corp").unwrap();
        config.database.url = database;
    })
    .await;
    let guest = TestServer::start_with(|config| {
        config.server_name = ServerName::parse("guest").unwrap();
    })
    .await;
    // The two servers federate: the guest server's users are people corp
    // knows, and still its cookies open nothing on corp.
    for (server, other) in [(&corp, &guest), (&guest, &corp)] {
        let admin = server.admin().await;
        let whitelist = json!([{ "server_name": other.config.server_name.to_string(),
                                 "address": other.base, "key_fingerprint": null }]);
        let put = admin
            .put_json(
                "/api/v1/admin/federation",
                &json!({ "mode": "whitelist", "whitelist": whitelist }),
            )
            .await;
        expect_status(put, 200, "federation").await;
    }

    let doc: Value = corp.client().get_ok("/api/v1/openapi.json").await;
    let operations = operations(&doc);
    let fixture = fixture(&corp, &guest, &doc).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The one route outside the document: the live-updates socket, for any
    // signed-in user of this server (before the sign-in and sign-out calls
    // below replace sessions).
    for caller in CALLERS {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let scene = &fixture.scenes[&caller];
        let what = format!("{caller:?} GET /api/v1/events (WebSocket)");
        let mut request = format!("ws://{}/api/v1/events", corp.addr)
            .into_client_request()
            .unwrap();
        if let Some(cookie) = &scene.cookie {
            let cookie = format!("causeway_session={cookie}");
            request
                .headers_mut()
                .insert("cookie", cookie.parse().unwrap());
        }
        let status = match tokio_tungstenite::connect_async(request).await {
            Ok((socket, response)) => {
                drop(socket);
                response.status().as_u16()
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            Err(other) => panic!("{what}: {other}"),
        };
        let expected = match expect(Access::User, caller) {
            Expect::Unauthenticated => 401,
            _ => 101,
        };
        assert_eq!(status, expected, "{what}");
    }

    let mut calls = 0;
    for (method, path, access) in &operations {
        let operation = &doc["paths"][path][method.as_str().to_lowercase()];
        for caller in CALLERS {
            let scene = &fixture.scenes[&caller];
            let what = format!("{caller:?} {method} {path} ({access:?})");
            let op = (method, path.as_str(), operation);
            let (status, text) =
                answer(request(&http, &corp.base, op, scene, &fixture, None)).await;
            calls += 1;
            let code = code_of(&text);
            match expect(*access, caller) {
                Expect::Allowed => {
                    // A success, and one the document promises.
                    assert!((200..300).contains(&status), "{what}: {status} {text}");
                    assert!(
                        operation["responses"].get(status.to_string()).is_some(),
                        "{what}: {status} is not among the documented answers"
                    );
                }
                Expect::Unauthenticated => {
                    assert_eq!(status, 401, "{what}: {text}");
                    assert_eq!(code.as_deref(), Some("unauthenticated"), "{what}: {text}");
                }
                Expect::Forbidden => {
                    assert_eq!(status, 403, "{what}: {text}");
                    assert_eq!(code.as_deref(), Some("forbidden"), "{what}: {text}");
                }
                Expect::Hidden => {
                    assert_eq!(status, 404, "{what}: {text}");
                    assert_eq!(code.as_deref(), Some("not_found"), "{what}: {text}");
                    let none = request(&http, &corp.base, op, scene, &fixture, Some(NO_SUCH_CHAT));
                    assert_eq!(
                        answer(none).await,
                        (status, text),
                        "{what}: a chat one is not in looks like one that does not exist"
                    );
                }
            }
        }
    }
    assert_eq!(calls, operations.len() * CALLERS.len());
    assert!(operations.len() >= 56, "{} operations", operations.len());

    // The refused calls changed nothing: only the administrator's user and
    // group were made, and only their deletions happened.
    let (admin, _) = sign_in(&corp, "admin", &corp.admin_password).await;
    let users: UserPage = admin.get_ok("/api/v1/admin/users?per_page=100").await;
    let logins: BTreeSet<&str> = users.items.iter().map(|u| u.login.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "admin", "dora", "lena", "made", "nina", "pat", "rita", "spare-a", "spare-p", "spare-r",
    ]
    .into();
    assert_eq!(logins, expected);
    let groups: Vec<GroupSummary> = admin.get_ok("/api/v1/admin/groups").await;
    let mut names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Federated Users",
            "Made",
            "Rightless",
            "Users without a group"
        ]
    );
    guest.stop().await;
    corp.stop().await;
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_its_class_says() {
    authorization_matrix(None).await;
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_its_class_says_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    authorization_matrix(Some(db.url.clone())).await;
    db.drop_now().await;
}
