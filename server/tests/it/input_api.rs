//! Input that both databases must treat alike: NUL and other control characters in
//! every text a client sends, bidi controls in names and titles, bodies that are not
//! JSON objects, and error bodies that are JSON everywhere under `/api/v1`. Each
//! check runs on SQLite and on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Client, PgDatabase, TestServer, error_of};

const PASSWORD: &str = "correct horse battery";

/// What the checks need: a chat with one message, a group, a user in that group
/// who may edit their address book, all made through the API.
struct World {
    admin: Client,
    ann: Client,
    ann_id: i64,
    group_id: i64,
    chat_id: i64,
    seq: i64,
}

async fn world(server: &TestServer) -> World {
    let admin = server.admin().await;
    let group = admin
        .post_json(
            "/api/v1/admin/groups",
            &json!({ "name": "Editors", "rights": ["edit_address_book"] }),
        )
        .await;
    assert_eq!(group.status(), 201);
    let group_id = group.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let ann = admin
        .post_json(
            "/api/v1/admin/users",
            &json!({ "login": "ann", "password": PASSWORD, "group_ids": [group_id],
                     "profile": { "display_name": "Ann" } }),
        )
        .await;
    assert_eq!(ann.status(), 201);
    let ann_id = ann.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let ann = server.sign_in("ann", PASSWORD).await;
    let chat = ann
        .post_json(
            "/api/v1/chats",
            &json!({ "title": "Plans", "members": ["admin@localhost"] }),
        )
        .await;
    assert_eq!(chat.status(), 201);
    let chat_id = chat.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let sent = ann
        .post_json(
            &format!("/api/v1/chats/{chat_id}/messages"),
            &json!({ "client_id": "first", "body": "hello" }),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let seq = sent.json::<Value>().await.unwrap()["seq"].as_i64().unwrap();
    World {
        admin,
        ann,
        ann_id,
        group_id,
        chat_id,
        seq,
    }
}

/// Who sends a request in [`texts`].
#[derive(Clone, Copy)]
enum As {
    Admin,
    Ann,
    Anonymous,
}

struct Case {
    who: As,
    method: Method,
    path: String,
    body: Option<Value>,
}

fn case(who: As, method: Method, path: String, body: Option<Value>) -> Case {
    Case {
        who,
        method,
        path,
        body,
    }
}

/// `text` percent-encoded for a query string.
fn query(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_owned()
}

/// Every endpoint where client text reaches the database, with `bad` placed in
/// that text. `names_only`: only names and titles (for bidi controls).
fn texts(w: &World, bad: &str, names_only: bool) -> Vec<Case> {
    let chat = w.chat_id;
    // In the middle: trimming must not be what removes it.
    let name = format!("Na{bad}me");
    let mut cases = vec![
        case(
            As::Ann,
            Method::PATCH,
            "/api/v1/me/profile".into(),
            Some(json!({ "display_name": name })),
        ),
        case(
            As::Admin,
            Method::POST,
            "/api/v1/admin/users".into(),
            Some(json!({ "login": "bob", "password": PASSWORD,
                          "profile": { "display_name": name } })),
        ),
        case(
            As::Admin,
            Method::PATCH,
            format!("/api/v1/admin/users/{}", w.ann_id),
            Some(json!({ "profile": { "display_name": name } })),
        ),
        case(
            As::Admin,
            Method::POST,
            "/api/v1/admin/groups".into(),
            Some(json!({ "name": name })),
        ),
        case(
            As::Admin,
            Method::PATCH,
            format!("/api/v1/admin/groups/{}", w.group_id),
            Some(json!({ "name": name })),
        ),
        case(
            As::Admin,
            Method::PUT,
            format!("/api/v1/admin/groups/{}/address-book", w.group_id),
            Some(json!({ "entries": [{ "causeway_id": "ann@localhost", "display_name": name }] })),
        ),
        case(
            As::Ann,
            Method::PUT,
            "/api/v1/me/address-book".into(),
            Some(
                json!({ "entries": [{ "causeway_id": "admin@localhost", "display_name": name }] }),
            ),
        ),
        case(
            As::Ann,
            Method::POST,
            "/api/v1/chats".into(),
            Some(json!({ "title": name, "members": [] })),
        ),
    ];
    if names_only {
        return cases;
    }
    let q = query(&format!("a{bad}b"));
    cases.extend([
        case(
            As::Ann,
            Method::POST,
            format!("/api/v1/chats/{chat}/messages"),
            Some(json!({ "client_id": "bad", "body": format!("h{bad}i") })),
        ),
        case(
            As::Ann,
            Method::PATCH,
            format!("/api/v1/chats/{chat}/messages/{}", w.seq),
            Some(json!({ "body": format!("h{bad}i") })),
        ),
        case(
            As::Ann,
            Method::GET,
            format!("/api/v1/chats/{chat}/search?q={q}"),
            None,
        ),
        case(
            As::Admin,
            Method::GET,
            format!("/api/v1/admin/users?search={q}"),
            None,
        ),
        case(
            As::Admin,
            Method::GET,
            format!("/api/v1/admin/audit?q={q}"),
            None,
        ),
        case(
            As::Admin,
            Method::GET,
            format!("/api/v1/admin/audit?action={q}"),
            None,
        ),
        case(
            As::Admin,
            Method::PUT,
            "/api/v1/admin/federation".into(),
            Some(json!({ "mode": "whitelist", "whitelist": [
                { "server_name": "peer.example", "address": format!("https://peer{bad}.example") }
            ] })),
        ),
    ]);
    cases
}

/// A white-listed server's name with `bad` in it.
fn whitelisted_name(bad: &str) -> Case {
    case(
        As::Admin,
        Method::PUT,
        "/api/v1/admin/federation".into(),
        Some(json!({ "mode": "whitelist", "whitelist": [
            { "server_name": format!("peer{bad}.example") }
        ] })),
    )
}

/// What a refused request must not have changed.
async fn snapshot(w: &World) -> Vec<Value> {
    let chat = w.chat_id;
    let mut seen = Vec::new();
    for path in [
        "/api/v1/admin/users".to_owned(),
        "/api/v1/admin/groups".to_owned(),
        format!("/api/v1/admin/groups/{}", w.group_id),
        "/api/v1/admin/federation".to_owned(),
    ] {
        seen.push(w.admin.get_ok::<Value>(&path).await);
    }
    for path in [
        "/api/v1/me/account".to_owned(),
        "/api/v1/contacts".to_owned(),
        "/api/v1/chats".to_owned(),
        format!("/api/v1/chats/{chat}/messages"),
    ] {
        seen.push(w.ann.get_ok::<Value>(&path).await);
    }
    seen
}

async fn refuses_all(server: &TestServer, w: &World, cases: Vec<Case>, what: &str) {
    let anonymous = server.client();
    for c in cases {
        let client = match c.who {
            As::Admin => &w.admin,
            As::Ann => &w.ann,
            As::Anonymous => &anonymous,
        };
        let response = client
            .send(c.method.clone(), &c.path, c.body.as_ref())
            .await;
        let status = response.status();
        let (code, message) = error_of(response).await;
        assert_eq!(
            (status.as_u16(), code.as_str()),
            (422, "invalid_input"),
            "{what} in {} {}: {message}",
            c.method,
            c.path
        );
    }
}

async fn control_characters_are_refused_alike(server: &TestServer) {
    let w = world(server).await;
    let before = snapshot(&w).await;

    // NUL: besides every text above, anything else a client sends.
    let mut cases = texts(&w, "\u{0}", false);
    cases.extend([
        case(
            As::Anonymous,
            Method::POST,
            "/api/v1/auth/login".into(),
            Some(json!({ "login": "ann\u{0}", "password": PASSWORD })),
        ),
        case(
            As::Ann,
            Method::PUT,
            "/api/v1/me/password".into(),
            Some(json!({ "current_password": PASSWORD, "new_password": "new\u{0}password!!" })),
        ),
        case(
            As::Ann,
            Method::POST,
            "/api/v1/chats/direct".into(),
            Some(json!({ "with": "admin\u{0}@localhost" })),
        ),
        whitelisted_name("\u{0}"),
    ]);
    refuses_all(server, &w, cases, "NUL").await;
    refuses_all(server, &w, texts(&w, "\u{7}", false), "BEL").await;
    refuses_all(server, &w, texts(&w, "\u{1b}[31m", false), "ESC").await;
    refuses_all(server, &w, texts(&w, "\u{85}", false), "NEL").await;
    for bidi in ["\u{202E}", "\u{202A}", "\u{2066}", "\u{2069}"] {
        refuses_all(server, &w, texts(&w, bidi, true), "a bidi control").await;
    }
    // Other control characters make a server name malformed, which is what the
    // answer says (as for any malformed name), on both backends.
    let c = whitelisted_name("\u{7}");
    let response = w.admin.send(c.method, &c.path, c.body.as_ref()).await;
    let status = response.status();
    let (code, message) = error_of(response).await;
    assert_eq!(
        (status.as_u16(), code.as_str()),
        (400, "bad_request"),
        "{message}"
    );
    assert_eq!(
        snapshot(&w).await,
        before,
        "a refused request changed nothing"
    );

    // Messages keep line breaks and tabs.
    let text = "two\nlines\r\n\tand a tab";
    let sent = w
        .ann
        .post_json(
            &format!("/api/v1/chats/{}/messages", w.chat_id),
            &json!({ "client_id": "lines", "body": text }),
        )
        .await;
    assert_eq!(sent.status(), 201);
    assert_eq!(sent.json::<Value>().await.unwrap()["body"], text);
    let edited = w
        .ann
        .patch_json(
            &format!("/api/v1/chats/{}/messages/{}", w.chat_id, w.seq),
            &json!({ "body": "still\ttabbed\n" }),
        )
        .await;
    assert_eq!(edited.status(), 200);
    // A backslash followed by "u0000" is text, not a NUL.
    let sent = w
        .ann
        .post_json(
            &format!("/api/v1/chats/{}/messages", w.chat_id),
            &json!({ "client_id": "escaped", "body": "C:\\u0000" }),
        )
        .await;
    assert_eq!(sent.status(), 201);
    assert_eq!(sent.json::<Value>().await.unwrap()["body"], "C:\\u0000");
}

/// Every answer under `/api/v1` is the JSON error body, with a 4xx.
async fn errors_are_json(server: &TestServer) {
    let w = world(server).await;
    let anonymous = server.client();
    for (client, path) in [
        (&w.ann, "/api/v1/events"),
        (&anonymous, "/api/v1/events"),
        (&anonymous, "/api/v1/"),
        (&anonymous, "/api/v1"),
        (&w.ann, "/api/v1"),
    ] {
        let response = client.get(path).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_client_error(), "GET {path}: {status} {text}");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("GET {path}: {status} is not JSON ({e}): {text}"));
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "GET {path}: {text}"
        );
    }

    // A JSON array where an object is expected: serde would fill the struct from
    // it in field order, and sign in.
    let response = anonymous
        .post_json(
            "/api/v1/auth/login",
            &json!(["admin", server.admin_password, false]),
        )
        .await;
    let status = response.status();
    let (code, message) = error_of(response).await;
    assert_eq!(
        (status.as_u16(), code.as_str()),
        (400, "bad_request"),
        "{message}"
    );
    assert_eq!(anonymous.me().await.status(), 401, "no session was made");
    for body in [json!("text"), json!(17), json!(null), json!([])] {
        let response = w
            .ann
            .post_json(&format!("/api/v1/chats/{}/messages", w.chat_id), &body)
            .await;
        let status = response.status();
        let (code, _) = error_of(response).await;
        assert_eq!(
            (status.as_u16(), code.as_str()),
            (400, "bad_request"),
            "{body}"
        );
    }
}

/// The Federation page with a delivery queue: its sum must read as an integer on
/// both backends (PostgreSQL's `sum(bigint)` is `numeric`).
async fn federation_status_counts_queues(server: &TestServer) {
    let w = world(server).await;
    server
        .state
        .store
        .ensure_cursor("peer.example", server::storage::ChatId(w.chat_id))
        .await
        .expect("a cursor is stored");
    let status: Value = w.admin.get_ok("/api/v1/admin/federation/status").await;
    let peers = status["peers"].as_array().expect("peers");
    let peer = peers
        .iter()
        .find(|p| p["server_name"] == "peer.example")
        .unwrap_or_else(|| panic!("the queued peer is listed: {status}"));
    assert!(peer["queue"].as_i64().is_some_and(|n| n >= 1), "{peer}");
}

async fn on_sqlite(check: impl AsyncFnOnce(&TestServer)) {
    let server = TestServer::start().await;
    check(&server).await;
    server.stop().await;
}

async fn on_postgres(check: impl AsyncFnOnce(&TestServer)) {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let server = TestServer::start_with(move |c| c.database.url = Some(url)).await;
    check(&server).await;
    server.stop().await;
    db.drop_now().await;
}

#[tokio::test]
async fn control_characters_are_refused_on_sqlite() {
    on_sqlite(control_characters_are_refused_alike).await;
}

#[tokio::test]
async fn control_characters_are_refused_on_postgres() {
    on_postgres(control_characters_are_refused_alike).await;
}

#[tokio::test]
async fn api_errors_are_json_on_sqlite() {
    on_sqlite(errors_are_json).await;
}

#[tokio::test]
async fn api_errors_are_json_on_postgres() {
    on_postgres(errors_are_json).await;
}

#[tokio::test]
async fn federation_status_counts_queues_on_sqlite() {
    on_sqlite(federation_status_counts_queues).await;
}

#[tokio::test]
async fn federation_status_counts_queues_on_postgres() {
    on_postgres(federation_status_counts_queues).await;
}
