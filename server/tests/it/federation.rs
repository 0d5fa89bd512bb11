//! Federation between real servers on loopback: signed requests and their
//! refusals, remote users, chats across servers, and delivery through outages.

use std::time::{Duration, Instant};

use app::types::{CausewayId, ChatDetail, ChatRole, ChatSummary, Message, Push, ServerName};
use serde_json::{Value, json};
use server::federation::signing::{self, Signed};
use server::time::now_millis;

use crate::common::{self, Client, PgDatabase, Socket, TestServer, error_of};

const PASSWORD: &str = "correct horse battery";

async fn named(name: &str) -> TestServer {
    named_on(name, None).await
}

/// A server called `name`, on SQLite or on the PostgreSQL database `database`.
async fn named_on(name: &str, database: Option<String>) -> TestServer {
    TestServer::start_with(|config| {
        config.server_name = ServerName::parse(name).unwrap();
        config.database.url = database;
    })
    .await
}

fn name(server: &TestServer) -> String {
    server.config.server_name.to_string()
}

/// Puts `others` on the white list of `admin`'s server (mode: whitelisted).
async fn allow(admin: &Client, others: &[(&TestServer, Option<&str>)]) {
    let whitelist: Vec<Value> = others
        .iter()
        .map(|(server, pin)| {
            json!({ "server_name": name(server), "address": server.base, "key_fingerprint": pin })
        })
        .collect();
    let response = admin
        .put_json(
            "/api/v1/admin/federation",
            &json!({ "mode": "whitelist", "whitelist": whitelist }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn add_user(admin: &Client, login: &str, name: &str) {
    let response = admin
        .post_json(
            "/api/v1/admin/users",
            &json!({ "login": login, "password": PASSWORD,
                     "profile": { "display_name": name, "company": "ACME", "phone": "+1 555 0100" } }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

struct Pair {
    corp: TestServer,
    guest: TestServer,
    corp_admin: Client,
    guest_admin: Client,
    wolf: Client,
    moore: Client,
}

/// `corp` with Wolf and `guest` with Moore, each allowing the other.
async fn pair() -> Pair {
    pair_on(None, None).await
}

/// As [`pair`], each server on SQLite or on the PostgreSQL database given,
/// each letting people of other servers reach everyone (the tests of that
/// rule use [`pair_strict`]).
async fn pair_on(corp_db: Option<String>, guest_db: Option<String>) -> Pair {
    let pair = pair_strict(corp_db, guest_db).await;
    outsiders_reach(&pair.corp_admin, "everyone").await;
    outsiders_reach(&pair.guest_admin, "everyone").await;
    pair
}

/// As [`pair_on`], with the default rule: people of other servers reach only
/// those whose address book lists them.
async fn pair_strict(corp_db: Option<String>, guest_db: Option<String>) -> Pair {
    let corp = named_on("corp", corp_db).await;
    let guest = named_on("guest", guest_db).await;
    let corp_admin = corp.admin().await;
    let guest_admin = guest.admin().await;
    allow(&corp_admin, &[(&guest, None)]).await;
    allow(&guest_admin, &[(&corp, None)]).await;
    add_user(&corp_admin, "wolf", "Wolf").await;
    add_user(&guest_admin, "moore", "Albert Moore").await;
    let wolf = corp.sign_in("wolf", PASSWORD).await;
    let moore = guest.sign_in("moore", PASSWORD).await;
    Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        wolf,
        moore,
    }
}

async fn expect<T: serde::de::DeserializeOwned>(response: reqwest::Response, status: u16) -> T {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn refused(response: reqwest::Response, status: u16, code: &str) -> String {
    let got = response.status().as_u16();
    let url = response.url().to_string();
    assert_ne!(got / 100, 2, "{url} was not refused");
    let (got_code, message) = error_of(response).await;
    assert_eq!((got, got_code.as_str()), (status, code), "{message}");
    message
}

/// How long a cross-server change may take to show, in seconds. It shows in
/// milliseconds on a quiet machine; under the load of the whole test run (and
/// of whatever else runs beside it) a delivery can fail once or twice, and the
/// outbox then waits out its backoff (0.5–1 s, then 1–2 s, 2–4 s, …) before
/// trying again: ten seconds proved too short once in a while.
const PATIENCE: u64 = 30;

/// Polls `check` until it gives `Some`, for at most `seconds`.
async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn say(client: &Client, chat: i64, client_id: &str, body: &str) -> reqwest::Response {
    client
        .post_json(
            &format!("/api/v1/chats/{chat}/messages"),
            &json!({ "client_id": client_id, "body": body }),
        )
        .await
}

/// The chat of `client` whose last message is `body`, once it has arrived.
async fn chat_with_last(client: &Client, body: &str) -> ChatSummary {
    let body = body.to_owned();
    eventually(
        PATIENCE,
        &format!("a chat ending with {body:?}"),
        || async {
            let chats: Vec<ChatSummary> = client.get_ok("/api/v1/chats").await;
            chats
                .into_iter()
                .find(|c| c.last_message.as_ref().is_some_and(|m| m.body == body))
        },
    )
    .await
}

/// Wolf opens the direct chat with moore@guest (hosted by corp).
async fn direct(wolf: &Client) -> ChatDetail {
    expect(
        wolf.post_json("/api/v1/chats/direct", &json!({ "with": "moore@guest" }))
            .await,
        201,
    )
    .await
}

/// Corp's view of guest on its Federation page, once `ready` accepts it.
async fn guest_status(admin: &Client, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    eventually(PATIENCE, what, || async {
        let status: Value = admin.get_ok("/api/v1/admin/federation/status").await;
        let peer = status["peers"]
            .as_array()?
            .iter()
            .find(|p| p["server_name"] == "guest")?
            .clone();
        ready(&peer).then_some(peer)
    })
    .await
}

async fn history(client: &Client, chat: i64) -> Vec<Message> {
    client
        .get_ok(&format!("/api/v1/chats/{chat}/messages?limit=200"))
        .await
}

/// A request signed by `from` for `destination`, as a server would send it;
/// `tweak` changes what is sent after signing.
struct Forged<'a> {
    from: &'a TestServer,
    destination: String,
    method: &'static str,
    path: String,
    body: Vec<u8>,
    timestamp: i64,
    transaction: String,
}

impl<'a> Forged<'a> {
    fn new(from: &'a TestServer, to: &TestServer, method: &'static str, path: &str) -> Self {
        Self {
            from,
            destination: name(to),
            method,
            path: path.to_owned(),
            body: Vec::new(),
            timestamp: now_millis(),
            transaction: signing::new_transaction_id(),
        }
    }

    fn headers(&self, sent_body: &[u8]) -> (reqwest::header::HeaderMap, Vec<u8>) {
        let origin = name(self.from);
        let hash = signing::body_hash(&self.body);
        let signed = Signed {
            method: self.method,
            path_and_query: &self.path,
            origin: &origin,
            destination: &self.destination,
            timestamp: self.timestamp,
            transaction: &self.transaction,
            body_sha256: &hash,
        };
        let (key, signature) = self.from.state.federation.keys().sign(&signed.text());
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        for (name, value) in [
            (signing::ORIGIN, origin),
            (signing::DESTINATION, self.destination.clone()),
            (signing::TIMESTAMP, self.timestamp.to_string()),
            (signing::TRANSACTION, self.transaction.clone()),
            (signing::KEY, key),
            (signing::SIGNATURE, signature),
        ] {
            headers.insert(name, value.parse().unwrap());
        }
        (headers, sent_body.to_vec())
    }

    async fn send_to(&self, to: &TestServer, sent_body: Option<&[u8]>) -> reqwest::Response {
        let (headers, body) = self.headers(sent_body.unwrap_or(&self.body));
        reqwest::Client::new()
            .request(self.method.parse().unwrap(), to.url(&self.path))
            .headers(headers)
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn the_key_document_publishes_the_signing_key_and_rotation_keeps_the_old_one() {
    let corp = named("corp").await;
    let document: Value = reqwest::get(corp.url("/.well-known/causeway/server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["server_name"], "corp");
    let keys = document["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let fingerprint = corp.state.federation.keys().fingerprint();
    assert_eq!(keys[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(fingerprint.len(), 64);

    let rotated = server::federation::keys::rotate(&corp.state.store)
        .await
        .unwrap();
    assert_ne!(rotated, fingerprint);
    corp.state
        .federation
        .keys()
        .reload(&corp.state.store)
        .await
        .unwrap();
    let document: Value = reqwest::get(corp.url("/.well-known/causeway/server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = document["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the old key stays published: {document}");
    let old = keys
        .iter()
        .find(|k| k["fingerprint"] == fingerprint.as_str())
        .expect("the old key");
    assert!(
        old["expires_at"].as_i64().unwrap() > now_millis() + 6 * 24 * 3_600_000,
        "the old key stays valid for days"
    );
    assert_eq!(corp.state.federation.keys().fingerprint(), rotated);
    corp.stop().await;
}

#[tokio::test]
async fn signed_requests_are_checked_and_every_refusal_is_audited() {
    let Pair {
        corp,
        guest,
        guest_admin,
        ..
    } = pair().await;
    let evil = named("evil").await;
    let evil_admin = evil.admin().await;
    allow(&evil_admin, &[(&guest, None)]).await;
    let path = "/_causeway/v1/users/moore";

    // A good request is answered.
    let good = Forged::new(&corp, &guest, "GET", path);
    let user: Value = expect(good.send_to(&guest, None).await, 200).await;
    assert_eq!(user["display_name"], "Albert Moore");
    assert_eq!(user["profile"]["causeway_id"], "moore@guest");

    // The same transaction again is a replay.
    refused(
        good.send_to(&guest, None).await,
        409,
        "replayed_transaction",
    )
    .await;

    // A server the guest did not allow.
    let from_evil = Forged::new(&evil, &guest, "GET", path);
    refused(
        from_evil.send_to(&guest, None).await,
        403,
        "server_not_allowed",
    )
    .await;

    // A body other than the one signed.
    let mut tampered = Forged::new(&corp, &guest, "POST", "/_causeway/v1/ephemeral");
    tampered.body = br#"{"items":[]}"#.to_vec();
    refused(
        tampered.send_to(&guest, Some(br#"{"items": []}"#)).await,
        401,
        "bad_signature",
    )
    .await;

    // Meant for another server.
    let mut misdirected = Forged::new(&corp, &guest, "GET", path);
    misdirected.destination = "elsewhere".into();
    refused(
        misdirected.send_to(&guest, None).await,
        421,
        "wrong_destination",
    )
    .await;

    // Signed ten minutes ago.
    let mut stale = Forged::new(&corp, &guest, "GET", path);
    stale.timestamp -= 10 * 60_000;
    refused(stale.send_to(&guest, None).await, 401, "stale_request").await;

    // Larger than any peer may send.
    let mut huge = Forged::new(&corp, &guest, "POST", "/_causeway/v1/transactions");
    huge.body = vec![b' '; 5 * 1024 * 1024];
    refused(huge.send_to(&guest, None).await, 413, "payload_too_large").await;

    // No signature at all.
    let unsigned = reqwest::Client::new()
        .get(guest.url(path))
        .send()
        .await
        .unwrap();
    refused(unsigned, 401, "bad_signature").await;

    // A white list that pins another key.
    allow(&guest_admin, &[(&corp, Some(&"ab".repeat(32)))]).await;
    let pinned = Forged::new(&corp, &guest, "GET", path);
    refused(pinned.send_to(&guest, None).await, 401, "key_mismatch").await;
    // Pinning the right key lets it through.
    let right = corp.state.federation.keys().fingerprint();
    allow(&guest_admin, &[(&corp, Some(&right))]).await;
    let pinned = Forged::new(&corp, &guest, "GET", path);
    expect::<Value>(pinned.send_to(&guest, None).await, 200).await;

    // Each refusal is in the guest's audit log, with its reason.
    let audit: Value = guest_admin
        .get_ok("/api/v1/admin/audit?action=federation.refused&limit=50")
        .await;
    let audit = audit["items"].as_array().unwrap();
    let details: Vec<String> = audit
        .iter()
        .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
        .collect();
    for expected in [
        "was received before",
        "not on this server's white list",
        "signature does not match",
        "This request is for elsewhere",
        "signed 600 s away",
        "larger than",
        "no valid causeway-origin header",
        "the white list pins",
    ] {
        assert!(
            details.iter().any(|d| d.contains(expected)),
            "{expected:?} is not in the audit log: {details:#?}"
        );
    }
    assert!(audit.iter().any(|e| e["actor"] == "evil"));
    evil.stop().await;
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn remote_users_are_checked_and_shown_with_display_fields_only() {
    let Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        moore,
        ..
    } = pair().await;
    // Corp lets other servers see names and companies, not phone numbers.
    let response = corp_admin
        .put_json(
            "/api/v1/admin/settings/display-fields",
            &json!({ "fields": ["display_name", "company"] }),
        )
        .await;
    assert_eq!(response.status(), 200);

    // Guest's admin adds wolf@corp to Users without a group; nobody@corp is refused.
    let groups: Value = guest_admin.get_ok("/api/v1/admin/groups").await;
    let no_group = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Users without a group")
        .expect("the built-in group")["id"]
        .as_i64()
        .unwrap();
    let book = format!("/api/v1/admin/groups/{no_group}/address-book");
    let message = refused(
        guest_admin
            .put_json(
                &book,
                &json!({ "entries": [{ "causeway_id": "nobody@corp", "display_name": "" }] }),
            )
            .await,
        422,
        "invalid_input",
    )
    .await;
    assert!(message.contains("no active user nobody@corp"), "{message}");
    let response = guest_admin
        .put_json(
            &book,
            &json!({ "entries": [{ "causeway_id": "wolf@corp", "display_name": "" }] }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // The address-book editor's look-up asks corp too, and names the person.
    let found: Value = guest_admin
        .get_ok("/api/v1/people/lookup?id=wolf%40corp")
        .await;
    assert_eq!(found["display_name"], "Wolf");
    let message = refused(
        moore.get("/api/v1/people/lookup?id=nobody%40corp").await,
        422,
        "invalid_input",
    )
    .await;
    assert!(message.contains("no active user nobody@corp"), "{message}");

    // Moore sees Wolf under the name Wolf's server gave, as a remote contact.
    let contacts: Value = moore.get_ok("/api/v1/contacts").await;
    let wolf = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["causeway_id"] == "wolf@corp")
        .expect("Wolf is among Moore's contacts");
    assert_eq!(wolf["display_name"], "Wolf");
    assert_eq!(wolf["is_local"], false);

    // What corp told guest holds only the chosen fields.
    let stored = guest
        .state
        .store
        .remote_profile("wolf@corp")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.fields.contains("ACME"), "{}", stored.fields);
    assert!(!stored.fields.contains("555"), "{}", stored.fields);

    // A server not allowed: its users cannot be added.
    let message = refused(
        guest_admin
            .put_json(
                &book,
                &json!({ "entries": [{ "causeway_id": "someone@elsewhere", "display_name": "" }] }),
            )
            .await,
        403,
        "server_not_allowed",
    )
    .await;
    assert!(message.contains("elsewhere"), "{message}");
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn a_direct_chat_crosses_servers_both_ways() {
    let Pair {
        corp,
        guest,
        wolf,
        moore,
        ..
    } = pair().await;
    let chat = direct(&wolf).await;
    assert_eq!(
        chat.title, "Albert Moore",
        "the guest's name, as guest told it"
    );
    expect::<Message>(say(&wolf, chat.id, "w1", "Hello from corp").await, 201).await;

    // Moore's server has the chat and the message.
    let moore_chat = chat_with_last(&moore, "Hello from corp").await;
    assert_eq!(moore_chat.title, "Wolf");
    assert_eq!(moore_chat.unread, 1);
    // Opening it from Moore's side finds the same chat.
    let again: ChatDetail = expect(
        moore
            .post_json("/api/v1/chats/direct", &json!({ "with": "wolf@corp" }))
            .await,
        200,
    )
    .await;
    assert_eq!(again.id, moore_chat.id);

    // Moore answers; the host numbers it and Wolf sees it.
    let reply: Message = expect(say(&moore, moore_chat.id, "m1", "Hi Wolf").await, 201).await;
    assert_eq!(reply.sender.to_string(), "moore@guest");
    assert_eq!(reply.chat_id, moore_chat.id);
    // A retry of the same send is the same message.
    let retry: Message = expect(say(&moore, moore_chat.id, "m1", "Hi Wolf").await, 200).await;
    assert_eq!(retry.seq, reply.seq);
    let seen = chat_with_last(&wolf, "Hi Wolf").await;
    assert_eq!(seen.id, chat.id);

    // Moore edits his message; Wolf deletes his; both servers agree.
    let edited: Message = expect(
        moore
            .patch_json(
                &format!("/api/v1/chats/{}/messages/{}", moore_chat.id, reply.seq),
                &json!({ "body": "Hi Wolf!" }),
            )
            .await,
        200,
    )
    .await;
    assert!(edited.edited_at.is_some());
    let first = history(&wolf, chat.id).await[0].seq;
    let response = wolf
        .delete(&format!("/api/v1/chats/{}/messages/{first}", chat.id))
        .await;
    assert_eq!(response.status(), 204);
    // Moore may not delete Wolf's message (Federated Users have no Operator rights).
    let response = moore
        .delete(&format!(
            "/api/v1/chats/{}/messages/{}",
            moore_chat.id,
            reply.seq + 100
        ))
        .await;
    assert_eq!(response.status(), 404);
    eventually(PATIENCE, "the edit and the deletion on guest", || async {
        let messages = history(&moore, moore_chat.id).await;
        let deleted = messages
            .iter()
            .any(|m| m.seq == first && m.deleted_at.is_some());
        let edited = messages.iter().any(|m| m.body == "Hi Wolf!");
        (deleted && edited).then_some(())
    })
    .await;
    eventually(PATIENCE, "the edit on corp", || async {
        history(&wolf, chat.id)
            .await
            .iter()
            .any(|m| m.body == "Hi Wolf!")
            .then_some(())
    })
    .await;

    // Moore reads; Wolf sees how far.
    let response = moore
        .put_json(
            &format!("/api/v1/chats/{}/read", moore_chat.id),
            &json!({ "seq": edited.seq }),
        )
        .await;
    assert_eq!(response.status(), 200);
    eventually(PATIENCE, "Moore's read position on corp", || async {
        let detail: ChatDetail = wolf.get_ok(&format!("/api/v1/chats/{}", chat.id)).await;
        detail
            .members
            .iter()
            .any(|m| m.causeway_id.to_string() == "moore@guest" && m.read_seq >= edited.seq)
            .then_some(())
    })
    .await;
    // Catching up on guest gives the events in order without gaps of its own.
    let events: Vec<Value> = moore
        .get_ok(&format!("/api/v1/chats/{}/events?after=0", moore_chat.id))
        .await;
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn a_guest_in_a_corp_group_acts_with_federated_users_rights() {
    let Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        wolf,
        moore,
    } = pair().await;
    let group: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats",
            &json!({ "title": "Operators", "members": ["moore@guest"] }),
        )
        .await,
        201,
    )
    .await;
    expect::<Message>(say(&wolf, group.id, "w1", "Welcome, Moore").await, 201).await;
    let moore_group = chat_with_last(&moore, "Welcome, Moore").await;
    assert_eq!(moore_group.title, "Operators");

    // Members are managed through the host, with the roles it gives.
    add_user(&corp_admin, "bob", "Bob").await;
    add_user(&guest_admin, "carol", "Carol").await;
    let members_path = format!("/api/v1/chats/{}/members", moore_group.id);
    let add = json!({ "members": ["bob@corp", "carol@guest"] });
    let message = refused(moore.post_json(&members_path, &add).await, 403, "forbidden").await;
    assert!(message.contains("owner and admins"), "{message}");
    let promoted = wolf
        .put_json(
            &format!("/api/v1/chats/{}/members/moore@guest/role", group.id),
            &json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(promoted.status(), 200);
    eventually(PATIENCE, "Moore to be an admin in his copy", || async {
        let detail: ChatDetail = moore
            .get_ok(&format!("/api/v1/chats/{}", moore_group.id))
            .await;
        (detail.my_role == ChatRole::Admin).then_some(())
    })
    .await;
    let nobody = json!({ "members": ["nobody@corp"] });
    refused(
        moore.post_json(&members_path, &nobody).await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(moore.post_json(&members_path, &add).await.status(), 200);
    let names = |detail: &ChatDetail| -> Vec<String> {
        detail
            .members
            .iter()
            .map(|m| m.causeway_id.to_string())
            .collect()
    };
    eventually(
        PATIENCE,
        "Bob and Carol in the chat on both servers",
        || async {
            let on_corp: ChatDetail = wolf.get_ok(&format!("/api/v1/chats/{}", group.id)).await;
            let on_guest: ChatDetail = moore
                .get_ok(&format!("/api/v1/chats/{}", moore_group.id))
                .await;
            let expected = ["bob@corp", "carol@guest", "moore@guest", "wolf@corp"];
            (names(&on_corp) == expected && names(&on_guest) == expected).then_some(())
        },
    )
    .await;
    // An admin removes a member, but only the owner changes roles.
    let carol = moore.delete(&format!("{members_path}/carol@guest")).await;
    assert_eq!(carol.status(), 204);
    let message = refused(
        moore
            .put_json(
                &format!("{members_path}/bob@corp/role"),
                &json!({ "role": "admin" }),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    assert!(message.contains("owner"), "{message}");
    eventually(PATIENCE, "Carol to be gone on corp", || async {
        let on_corp: ChatDetail = wolf.get_ok(&format!("/api/v1/chats/{}", group.id)).await;
        (names(&on_corp) == ["bob@corp", "moore@guest", "wolf@corp"]).then_some(())
    })
    .await;
    let demoted = wolf
        .put_json(
            &format!("/api/v1/chats/{}/members/moore@guest/role", group.id),
            &json!({ "role": "member" }),
        )
        .await;
    assert_eq!(demoted.status(), 200);

    // Federated Users may not delete others' messages until corp gives them Operator rights.
    let wolf_message = history(&moore, moore_group.id).await[0].seq;
    let path = format!("/api/v1/chats/{}/messages/{wolf_message}", moore_group.id);
    let message = refused(moore.delete(&path).await, 403, "forbidden").await;
    assert!(message.contains("operators"), "{message}");
    let groups: Value = corp_admin.get_ok("/api/v1/admin/groups").await;
    let federated = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Federated Users")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let response = corp_admin
        .patch_json(
            &format!("/api/v1/admin/groups/{federated}"),
            &json!({ "rights": ["operator"] }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(moore.delete(&path).await.status(), 204);

    // Wolf removes Moore: the chat leaves Moore's list.
    let response = wolf
        .delete(&format!("/api/v1/chats/{}/members/moore@guest", group.id))
        .await;
    assert_eq!(response.status(), 204);
    eventually(PATIENCE, "the chat to leave Moore's list", || async {
        let chats: Vec<ChatSummary> = moore.get_ok("/api/v1/chats").await;
        chats.iter().all(|c| c.id != moore_group.id).then_some(())
    })
    .await;
    // Corp goes on talking there: nothing waits for guest, whose people left.
    expect::<Message>(say(&wolf, group.id, "after", "After Moore left").await, 201).await;
    guest_status(&corp_admin, "nothing waiting for guest", |p| {
        p["queue"] == 0
    })
    .await;
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn a_thousand_messages_sent_during_an_outage_arrive_once_in_order() {
    let Pair {
        corp,
        guest,
        corp_admin,
        wolf,
        moore,
        ..
    } = pair().await;
    let chat = direct(&wolf).await;
    expect::<Message>(
        say(&wolf, chat.id, "before", "before the outage").await,
        201,
    )
    .await;
    let moore_chat = chat_with_last(&moore, "before the outage").await;
    drop(moore);

    let stopped = guest.stop_keeping_data().await;
    for i in 0..1000 {
        expect::<Message>(
            say(&wolf, chat.id, &format!("m{i}"), &format!("message {i}")).await,
            201,
        )
        .await;
    }
    // Corp's Federation page tells: guest unreachable, the queue full.
    let status = guest_status(&corp_admin, "a failed delivery", |p| {
        p["last_error"].is_string()
    })
    .await;
    assert_eq!(status["reachable"], false, "{status}");
    assert!(status["queue"].as_i64().unwrap() >= 1000, "{status}");

    let guest = stopped.start().await;
    let moore = guest.sign_in("moore", PASSWORD).await;
    let messages = eventually(120, "1,000 messages on guest", || async {
        let mut all = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let page: Vec<Message> = moore
                .get_ok(&format!(
                    "/api/v1/chats/{}/messages?limit=200{}",
                    moore_chat.id,
                    before.map(|b| format!("&before={b}")).unwrap_or_default()
                ))
                .await;
            if page.is_empty() {
                break;
            }
            before = Some(page[0].seq);
            let mut page = page;
            page.append(&mut all);
            all = page;
        }
        (all.len() >= 1001).then_some(all)
    })
    .await;
    assert_eq!(messages.len(), 1001, "each message once");
    for (i, message) in messages[1..].iter().enumerate() {
        assert_eq!(message.body, format!("message {i}"), "in order");
    }
    assert!(messages.windows(2).all(|w| w[0].seq < w[1].seq));
    let status = guest_status(&corp_admin, "the queue to drain", |p| p["queue"] == 0).await;
    assert_eq!(status["reachable"], true, "{status}");
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn removing_a_server_from_the_white_list_stops_traffic_at_once_and_loses_nothing() {
    let Pair {
        corp,
        guest,
        corp_admin,
        wolf,
        moore,
        ..
    } = pair().await;
    let chat = direct(&wolf).await;
    expect::<Message>(say(&wolf, chat.id, "w1", "first").await, 201).await;
    let moore_chat = chat_with_last(&moore, "first").await;

    // Corp takes guest off its white list.
    let response = corp_admin
        .put_json(
            "/api/v1/admin/federation",
            &json!({ "mode": "whitelist", "whitelist": [] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    // Moore's sends are refused by corp at once.
    let message = refused(
        say(&moore, moore_chat.id, "m1", "are you there?").await,
        403,
        "server_not_allowed",
    )
    .await;
    assert_eq!(
        message,
        "corp does not accept traffic from this server at the moment."
    );
    // Wolf's message is stored on corp and waits.
    expect::<Message>(say(&wolf, chat.id, "w2", "second").await, 201).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = history(&moore, moore_chat.id).await;
    assert_eq!(
        messages.len(),
        1,
        "nothing crosses while guest is not allowed"
    );
    assert_eq!(
        history(&wolf, chat.id).await.len(),
        2,
        "nothing lost on corp"
    );

    // Allowed again: the waiting message arrives.
    allow(&corp_admin, &[(&guest, None)]).await;
    chat_with_last(&moore, "second").await;
    corp.stop().await;
    guest.stop().await;
}

/// The id of a group of `admin`'s server, by name.
async fn group_id(admin: &Client, name: &str) -> i64 {
    let groups: Value = admin.get_ok("/api/v1/admin/groups").await;
    groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group {name}"))["id"]
        .as_i64()
        .unwrap()
}

async fn set_rights(admin: &Client, group: &str, rights: &[&str]) {
    let id = group_id(admin, group).await;
    let response = admin
        .patch_json(
            &format!("/api/v1/admin/groups/{id}"),
            &json!({ "rights": rights }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn upload(client: &Client, chat: i64, name: &str, bytes: &[u8]) -> reqwest::Response {
    client
        .http
        .post(format!(
            "{}/api/v1/chats/{chat}/files?name={name}",
            client.base
        ))
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn files_cross_servers_with_rights_checked_on_both_sides() {
    let Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        wolf,
        moore,
    } = pair().await;
    set_rights(
        &corp_admin,
        "Users without a group",
        &["send_files", "download_files"],
    )
    .await;
    set_rights(
        &guest_admin,
        "Users without a group",
        &["send_files", "download_files"],
    )
    .await;
    set_rights(&corp_admin, "Federated Users", &["download_files"]).await;
    let chat = direct(&wolf).await;

    // Wolf sends a file on corp.
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let file: Value = expect(upload(&wolf, chat.id, "plan.bin", &bytes).await, 201).await;
    let sent = wolf
        .post_json(
            &format!("/api/v1/chats/{}/messages", chat.id),
            &json!({ "client_id": "f1", "body": "the plan", "file": file["id"] }),
        )
        .await;
    assert_eq!(sent.status(), 201);

    // Moore's copy lists it under guest's own id, and guest fetches it from corp.
    let moore_chat = chat_with_last(&moore, "the plan").await;
    let message = moore_chat.last_message.unwrap();
    let file = message.file.expect("the file is listed on guest");
    assert_eq!((file.name.as_str(), file.size), ("plan.bin", 300_000));
    let path = format!("/api/v1/chats/{}/files/{}", moore_chat.id, file.id);
    let response = moore.get(&path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("plan.bin")
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let part = moore
        .http
        .get(format!("{}{path}", moore.base))
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);

    // Moore's own server's rights come first...
    set_rights(&guest_admin, "Users without a group", &["send_files"]).await;
    let message = refused(moore.get(&path).await, 403, "forbidden").await;
    assert!(message.contains("You may not download"), "{message}");
    set_rights(
        &guest_admin,
        "Users without a group",
        &["send_files", "download_files"],
    )
    .await;
    // ...then corp's Federated Users.
    set_rights(&corp_admin, "Federated Users", &[]).await;
    let message = refused(moore.get(&path).await, 403, "forbidden").await;
    assert!(
        message.contains("corp does not let people of other servers download"),
        "{message}"
    );

    // Moore may not send files into corp's chat while Federated Users may not.
    let message = refused(
        upload(&moore, moore_chat.id, "notes.txt", b"my notes").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        message,
        "corp does not let people of other servers send files to its chats."
    );
    // Once they may, his file reaches Wolf.
    set_rights(&corp_admin, "Federated Users", &["send_files"]).await;
    let mine: Value = expect(
        upload(&moore, moore_chat.id, "notes.txt", b"my notes").await,
        201,
    )
    .await;
    let sent: Message = expect(
        moore
            .post_json(
                &format!("/api/v1/chats/{}/messages", moore_chat.id),
                &json!({ "client_id": "m-file", "body": "", "file": mine["id"] }),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(sent.file.as_ref().map(|f| f.id), mine["id"].as_i64());
    let on_corp = history(&wolf, chat.id).await;
    let carried = on_corp
        .iter()
        .find_map(|m| m.file.clone().filter(|f| f.name == "notes.txt"))
        .expect("Moore's file is on corp");
    let got = wolf
        .get(&format!("/api/v1/chats/{}/files/{}", chat.id, carried.id))
        .await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"my notes");
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn chats_and_files_cross_servers_on_postgres() {
    let (Some(corp_db), Some(guest_db)) = (PgDatabase::create().await, PgDatabase::create().await)
    else {
        return;
    };
    let Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        wolf,
        moore,
    } = pair_on(Some(corp_db.url.clone()), Some(guest_db.url.clone())).await;
    set_rights(&corp_admin, "Users without a group", &["send_files"]).await;
    set_rights(&guest_admin, "Users without a group", &["download_files"]).await;
    set_rights(&corp_admin, "Federated Users", &["download_files"]).await;

    // Moore opens the chat from his side; corp hosts it.
    let moore_chat: ChatDetail = expect(
        moore
            .post_json("/api/v1/chats/direct", &json!({ "with": "wolf@corp" }))
            .await,
        201,
    )
    .await;
    assert_eq!(moore_chat.title, "Wolf");
    expect::<Message>(
        say(&moore, moore_chat.id, "m1", "Hello from guest").await,
        201,
    )
    .await;
    let wolf_chat = chat_with_last(&wolf, "Hello from guest").await;
    assert_eq!(wolf_chat.title, "Albert Moore");
    let bytes = b"a file kept on corp's PostgreSQL-described blob store".to_vec();
    let file: Value = expect(upload(&wolf, wolf_chat.id, "note.txt", &bytes).await, 201).await;
    let sent = wolf
        .post_json(
            &format!("/api/v1/chats/{}/messages", wolf_chat.id),
            &json!({ "client_id": "w1", "body": "here", "file": file["id"] }),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let arrived = chat_with_last(&moore, "here").await;
    let listed = arrived
        .last_message
        .unwrap()
        .file
        .expect("the file on guest");
    let got = moore
        .get(&format!("/api/v1/chats/{}/files/{}", arrived.id, listed.id))
        .await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // Each message once, in order, on both sides.
    let here: Vec<String> = history(&moore, arrived.id)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    let there: Vec<String> = history(&wolf, wolf_chat.id)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(here, ["Hello from guest", "here"]);
    assert_eq!(here, there);
    corp.stop().await;
    guest.stop().await;
    corp_db.drop_now().await;
    guest_db.drop_now().await;
}

/// A WebSocket of `login` on `server` (a session of its own), once it is live.
async fn socket(server: &TestServer, login: &str) -> Socket {
    let response = server.client().login(login, PASSWORD, false).await;
    assert_eq!(response.status(), 200);
    let cookie = format!("causeway_session={}", common::session_id(&response));
    let mut socket = common::open_socket(server, &cookie).await;
    push_matching(&mut socket, |p| matches!(p, Push::Ready { .. })).await;
    socket
}

/// The first push that `wanted` accepts, skipping others, within ten seconds.
async fn push_matching(socket: &mut Socket, wanted: impl Fn(&Push) -> bool) -> Push {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as Ws;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, socket.next())
            .await
            .expect("the push within ten seconds")
            .expect("the socket is open")
            .expect("a frame");
        if let Ws::Text(text) = frame {
            let push: Push = serde_json::from_str(&text).expect("a Push");
            if wanted(&push) {
                return push;
            }
        }
    }
}

async fn typing(socket: &mut Socket, chat_id: i64) {
    use futures_util::SinkExt;
    let frame = json!({ "type": "typing", "chat_id": chat_id }).to_string();
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(frame.into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn typing_and_presence_cross_servers() {
    let Pair {
        corp,
        guest,
        wolf,
        moore,
        ..
    } = pair().await;
    let chat = direct(&wolf).await;
    expect::<Message>(say(&wolf, chat.id, "w1", "hi").await, 201).await;
    let moore_chat = chat_with_last(&moore, "hi").await;
    let wolf_id: CausewayId = "wolf@corp".parse().unwrap();
    let moore_id: CausewayId = "moore@guest".parse().unwrap();

    // Moore is online on guest; Wolf comes online on corp and both are told.
    let mut moore_socket = socket(&guest, "moore").await;
    let mut wolf_socket = socket(&corp, "wolf").await;
    let online = Push::Presence {
        member: wolf_id.clone(),
        online: true,
    };
    assert_eq!(
        push_matching(&mut moore_socket, |p| p == &online).await,
        online
    );
    let detail: ChatDetail = moore
        .get_ok(&format!("/api/v1/chats/{}", moore_chat.id))
        .await;
    assert!(
        detail
            .members
            .iter()
            .any(|m| m.causeway_id == wolf_id && m.online)
    );
    let detail: ChatDetail = wolf.get_ok(&format!("/api/v1/chats/{}", chat.id)).await;
    assert!(
        detail
            .members
            .iter()
            .any(|m| m.causeway_id == moore_id && m.online)
    );

    // Typing crosses both ways, each side with its own chat id.
    typing(&mut wolf_socket, chat.id).await;
    let seen = Push::Typing {
        chat_id: moore_chat.id,
        member: wolf_id.clone(),
    };
    assert_eq!(push_matching(&mut moore_socket, |p| p == &seen).await, seen);
    typing(&mut moore_socket, moore_chat.id).await;
    let seen = Push::Typing {
        chat_id: chat.id,
        member: moore_id.clone(),
    };
    assert_eq!(push_matching(&mut wolf_socket, |p| p == &seen).await, seen);

    // Wolf leaves: Moore is told he is offline.
    drop(wolf_socket);
    let offline = Push::Presence {
        member: wolf_id,
        online: false,
    };
    assert_eq!(
        push_matching(&mut moore_socket, |p| p == &offline).await,
        offline
    );
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn a_peer_s_bad_input_is_refused_and_changes_nothing() {
    let Pair {
        corp, guest, moore, ..
    } = pair().await;
    add_user(&guest.admin().await, "eve", "Eve").await;
    let post = |body: Value| {
        let mut forged = Forged::new(&corp, &guest, "POST", "/_causeway/v1/transactions");
        forged.body = body.to_string().into_bytes();
        forged
    };
    let member = |id: &str| json!({ "causeway_id": id, "display_name": id, "role": "member", "joined_seq": 1, "read_seq": 0 });
    let chat = |kind: &str, created_by: &str, members: Vec<Value>| {
        json!({ "chats": [{ "chat_id": 7, "kind": kind, "title": "", "created_by": created_by,
                            "created_at": 0, "members": members, "events": [], "last_seq": 0 }] })
    };
    // Corp may not make a direct chat between two people of guest, nor a chat
    // said to be made by someone of another server: each is refused for good
    // (the answer names it, so the sender skips it instead of retrying).
    for (body, reason) in [
        (
            chat(
                "direct",
                "corp@corp",
                vec![member("moore@guest"), member("eve@guest")],
            ),
            "A chat hosted by corp has one of its users as a member.",
        ),
        (
            chat("group", "moore@guest", vec![member("moore@guest")]),
            "A chat hosted by corp is made by one of its users.",
        ),
    ] {
        let answer: Value = expect(post(body).send_to(&guest, None).await, 200).await;
        assert_eq!(answer["applied"], 0, "{answer}");
        assert_eq!(answer["refused"][0]["reason"], reason, "{answer}");
    }
    // Malformed JSON and unknown shapes are 400s.
    let forged = post(json!({ "chats": "many" }));
    refused(forged.send_to(&guest, None).await, 400, "bad_request").await;
    let mut forged = post(json!({}));
    forged.body = b"{not json".to_vec();
    refused(forged.send_to(&guest, None).await, 400, "bad_request").await;
    // A peer cannot act for someone of another server.
    let mut forged = Forged::new(&corp, &guest, "POST", "/_causeway/v1/chats/1/actions");
    forged.body = json!({ "actor": "moore@guest", "action": { "type": "leave" } })
        .to_string()
        .into_bytes();
    refused(forged.send_to(&guest, None).await, 403, "forbidden").await;
    // Nothing reached Moore.
    let chats: Vec<ChatSummary> = moore.get_ok("/api/v1/chats").await;
    assert!(chats.is_empty(), "{chats:?}");
    corp.stop().await;
    guest.stop().await;
}

#[tokio::test]
async fn a_flood_of_forged_requests_is_refused_without_flooding_the_audit_log() {
    let guest = named("guest").await;
    let admin = guest.admin().await;
    let http = reqwest::Client::new();
    for _ in 0..30 {
        let response = http
            .get(guest.url("/_causeway/v1/users/moore"))
            .header(signing::ORIGIN, "flood")
            .send()
            .await
            .unwrap();
        refused(response, 401, "bad_signature").await;
    }
    // The cap is per reason, not per claimed origin (which the attacker picks).
    for i in 0..30 {
        let response = http
            .get(guest.url("/_causeway/v1/users/moore"))
            .header(signing::ORIGIN, format!("flood-{i}"))
            .send()
            .await
            .unwrap();
        refused(response, 401, "bad_signature").await;
    }
    let audit: Value = admin
        .get_ok("/api/v1/admin/audit?action=federation.refused&limit=100")
        .await;
    let lines = audit["items"].as_array().unwrap();
    assert_eq!(
        lines.len(),
        server::federation::AUDITED_REFUSALS_PER_MINUTE as usize,
        "every refusal answered, a minute's worth audited"
    );
    assert!(lines.iter().all(|l| l["actor"] == "flood"));
    guest.stop().await;
}

/// Two tests of `$body` (an async fn taking a [`Pair`] made by [`pair_strict`]):
/// one on SQLite, one on PostgreSQL.
macro_rules! on_both_databases {
    ($sqlite:ident, $postgres:ident, $body:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $body(pair_strict(None, None).await).await;
        }

        #[tokio::test]
        async fn $postgres() {
            let (Some(corp), Some(guest)) =
                (PgDatabase::create().await, PgDatabase::create().await)
            else {
                return;
            };
            $body(pair_strict(Some(corp.url.clone()), Some(guest.url.clone())).await).await;
            corp.drop_now().await;
            guest.drop_now().await;
        }
    };
}

/// Sets who people of other servers may reach on `admin`'s server.
async fn outsiders_reach(admin: &Client, reach: &str) {
    let response = admin
        .put_json(
            "/api/v1/admin/settings/chats",
            &json!({ "max_message_chars": 10_000, "edit_window_hours": 48, "outsiders_reach": reach }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Puts `entries` in the address book of group `group` on `admin`'s server.
async fn group_book(admin: &Client, group: &str, entries: &[&str]) {
    let id = group_id(admin, group).await;
    let entries: Vec<Value> = entries
        .iter()
        .map(|e| json!({ "causeway_id": e, "display_name": "" }))
        .collect();
    let response = admin
        .put_json(
            &format!("/api/v1/admin/groups/{id}/address-book"),
            &json!({ "entries": entries }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Adds `login` to a new group `group` (with no address book) on `admin`'s server.
async fn in_new_group(admin: &Client, login: &str, group: &str) {
    let made: Value = expect(
        admin
            .post_json(
                "/api/v1/admin/groups",
                &json!({ "name": group, "rights": [] }),
            )
            .await,
        201,
    )
    .await;
    let users: Value = admin
        .get_ok(&format!("/api/v1/admin/users?search={login}"))
        .await;
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == login)
        .unwrap_or_else(|| panic!("no user {login}"))["id"]
        .as_i64()
        .unwrap();
    let response = admin
        .put_json(
            &format!("/api/v1/admin/users/{user}/groups"),
            &json!({ "ids": [made["id"]] }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// The chat of `client` titled `title`, once it is there.
async fn titled(client: &Client, title: &str) -> ChatSummary {
    eventually(PATIENCE, &format!("a chat titled {title}"), || async {
        let chats: Vec<ChatSummary> = client.get_ok("/api/v1/chats").await;
        chats.into_iter().find(|c| c.title == title)
    })
    .await
}

/// `server`'s signature on what its user `actor` did in chat `chat_id` of corp.
fn attest(
    server: &TestServer,
    actor: &str,
    kind: &str,
    reference: &str,
    body: &str,
    chat_id: i64,
) -> Value {
    use server::federation::protocol::Attestation;
    let mut attestation = Attestation {
        actor: actor.parse().unwrap(),
        kind: kind.to_owned(),
        reference: reference.to_owned(),
        body_sha256: body.to_owned(),
        key_id: String::new(),
        signature: String::new(),
    };
    let host = ServerName::parse("corp").unwrap();
    let (key_id, signature) = server
        .state
        .federation
        .keys()
        .sign(&attestation.text(&host, chat_id));
    attestation.key_id = key_id;
    attestation.signature = signature;
    serde_json::to_value(attestation).unwrap()
}

fn member_json(id: &str, role: &str, read_seq: i64) -> Value {
    json!({ "causeway_id": id, "display_name": id, "role": role, "joined_seq": 1, "read_seq": read_seq })
}

fn message_event(
    seq: i64,
    kind: &str,
    actor: &str,
    sender: &str,
    client_id: &str,
    body: &str,
) -> Value {
    json!({
        "seq": seq, "kind": kind, "actor": actor, "at": now_millis(), "subject": null, "role": null,
        "message": { "chat_id": 0, "seq": seq, "sender": sender, "client_id": client_id,
                     "body": body, "reply_to": null, "created_at": now_millis(),
                     "edited_at": null, "deleted_at": null }
    })
}

/// `from`'s signed transaction to `to` carrying one chat update; its answer.
async fn forged_update(from: &TestServer, to: &TestServer, chat: Value) -> Value {
    let mut forged = Forged::new(from, to, "POST", "/_causeway/v1/transactions");
    forged.body = json!({ "chats": [chat] }).to_string().into_bytes();
    expect(forged.send_to(to, None).await, 200).await
}

/// A chat update as `guest` hosting chat `chat_id` would send it.
fn guest_chat(chat_id: i64, kind: &str, members: Vec<Value>, events: Vec<Value>) -> Value {
    let last_seq = events
        .iter()
        .filter_map(|e| e["seq"].as_i64())
        .max()
        .unwrap_or(1);
    json!({ "chat_id": chat_id, "kind": kind, "title": if kind == "group" { "Plans" } else { "" },
            "created_by": "moore@guest", "created_at": 0, "members": members,
            "events": events, "last_seq": last_seq })
}

fn refusal_reason(answer: &Value) -> String {
    assert_eq!(answer["applied"], 0, "not refused: {answer}");
    answer["refused"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A guest server that may be taken over: whatever it sends, it speaks only for
/// its own people, hosts only what it may, and reaches only whom corp lets it.
async fn a_lying_peer_is_refused_and_audited(pair: Pair) {
    let Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        wolf,
        moore,
    } = pair;
    add_user(&corp_admin, "carol", "Carol").await;
    in_new_group(&corp_admin, "carol", "Staff").await;
    // Wolf (in no group) may be reached by Moore; Carol may not.
    group_book(&corp_admin, "Users without a group", &["moore@guest"]).await;
    group_book(&guest_admin, "Users without a group", &["wolf@corp"]).await;

    // An honest start: Moore makes a group on guest with Wolf, who writes in it.
    let plans: ChatDetail = expect(
        moore
            .post_json(
                "/api/v1/chats",
                &json!({ "title": "Plans", "members": ["wolf@corp"] }),
            )
            .await,
        201,
    )
    .await;
    let copy = eventually(PATIENCE, "Wolf's copy of Plans", || async {
        let chats: Vec<ChatSummary> = wolf.get_ok("/api/v1/chats").await;
        chats.into_iter().find(|c| c.title == "Plans")
    })
    .await;
    let sent: Message = expect(say(&wolf, copy.id, "wolf-1", "Hello from Wolf").await, 201).await;
    chat_with_last(&moore, "Hello from Wolf").await;
    let settled = eventually(PATIENCE, "Wolf's message in his copy", || async {
        let mine = history(&wolf, copy.id).await;
        mine.iter().any(|m| m.seq == sent.seq).then_some(mine)
    })
    .await;
    let next = sent.seq + 1;
    let members = || {
        vec![
            member_json("moore@guest", "owner", 0),
            member_json("wolf@corp", "member", 0),
        ]
    };

    // 1. Speaking for people of corp, or of a third server.
    let cases = [
        (
            message_event(
                next,
                "message",
                "carol@corp",
                "carol@corp",
                "x-1",
                "Carol says hi",
            ),
            "may not speak for carol@corp",
        ),
        (
            message_event(
                next,
                "message",
                "wolf@corp",
                "wolf@corp",
                "never-sent",
                "Pay the invoice",
            ),
            "corp did not forward this message",
        ),
        (
            message_event(
                next,
                "message",
                "eve@third",
                "eve@third",
                "x-2",
                "Third says hi",
            ),
            "may not speak for eve@third",
        ),
        (
            message_event(
                sent.seq,
                "edit",
                "moore@guest",
                "wolf@corp",
                "wolf-1",
                "Wolf never said this",
            ),
            "may not change what wolf@corp wrote",
        ),
        (
            message_event(
                next,
                "message",
                "moore@guest",
                "moore@guest",
                "x-3",
                "Ring\u{7}",
            ),
            "contains control characters",
        ),
        (
            message_event(
                next,
                "edit",
                "wolf@corp",
                "wolf@corp",
                "wolf-1",
                "Hello from Wolf",
            ),
            "corp did not forward this edit",
        ),
    ];
    for (event, reason) in cases {
        let answer = forged_update(
            &guest,
            &corp,
            guest_chat(plans.id, "group", members(), vec![event]),
        )
        .await;
        let got = refusal_reason(&answer);
        assert!(got.contains(reason), "{got:?} should say {reason:?}");
    }

    // A host cannot mark what corp's people have read.
    let answer = forged_update(
        &guest,
        &corp,
        guest_chat(
            plans.id,
            "group",
            vec![
                member_json("moore@guest", "owner", 0),
                member_json("wolf@corp", "member", 999),
            ],
            Vec::new(),
        ),
    )
    .await;
    assert_eq!(answer["applied"], 1, "{answer}");
    let detail: ChatDetail = wolf.get_ok(&format!("/api/v1/chats/{}", copy.id)).await;
    assert!(
        detail.read_seq <= sent.seq,
        "read position moved by the host: {}",
        detail.read_seq
    );

    // 2. Hosting what it may not: a chat of corp's people alone, one with
    // someone corp does not let guest reach, and a direct chat corp hosts.
    let cases = [
        (
            guest_chat(
                plans.id + 100,
                "group",
                vec![
                    member_json("wolf@corp", "owner", 0),
                    member_json("carol@corp", "member", 0),
                ],
                vec![message_event(
                    2,
                    "message",
                    "wolf@corp",
                    "wolf@corp",
                    "w-2",
                    "Planted",
                )],
            ),
            "has one of its users as a member",
        ),
        (
            guest_chat(
                plans.id + 101,
                "group",
                vec![
                    member_json("moore@guest", "owner", 0),
                    member_json("carol@corp", "member", 0),
                ],
                Vec::new(),
            ),
            "There is no active user carol@corp on corp.",
        ),
        (
            guest_chat(
                plans.id + 102,
                "direct",
                vec![
                    member_json("moore@guest", "member", 0),
                    member_json("wolf@corp", "member", 0),
                ],
                Vec::new(),
            ),
            "guest does not host the direct chats of its users with people of corp.",
        ),
    ];
    for (chat, reason) in cases {
        let got = refusal_reason(&forged_update(&guest, &corp, chat).await);
        assert!(got.contains(reason), "{got:?} should say {reason:?}");
    }
    // Wolf's direct chat with Moore is still corp's to host, and works.
    let direct = direct(&wolf).await;
    expect::<Message>(say(&wolf, direct.id, "d-1", "Direct works").await, 201).await;

    // The marker: a message of guest's own Moore is taken, and is the next
    // thing in Wolf's copy after his own — none of the above landed.
    let answer = forged_update(
        &guest,
        &corp,
        guest_chat(
            plans.id,
            "group",
            members(),
            vec![message_event(
                next,
                "message",
                "moore@guest",
                "moore@guest",
                "m-9",
                "Marker",
            )],
        ),
    )
    .await;
    assert_eq!(answer["applied"], 1, "{answer}");
    let after = eventually(PATIENCE, "the marker", || async {
        let mine = history(&wolf, copy.id).await;
        mine.iter().any(|m| m.body == "Marker").then_some(mine)
    })
    .await;
    let bodies: Vec<&str> = after.iter().map(|m| m.body.as_str()).collect();
    let before: Vec<&str> = settled.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies[..before.len()],
        before[..],
        "nothing forged before the marker"
    );
    assert_eq!(bodies.len(), before.len() + 1, "{bodies:?}");
    let chats: Vec<ChatSummary> = wolf.get_ok("/api/v1/chats").await;
    assert_eq!(chats.len(), 2, "Plans and the direct chat only: {chats:?}");
    let carol = corp.sign_in("carol", PASSWORD).await;
    let chats: Vec<ChatSummary> = carol.get_ok("/api/v1/chats").await;
    assert!(chats.is_empty(), "nothing planted for Carol: {chats:?}");

    // Presence of people guest makes up takes no room here; Moore's does.
    let presence = |members: Vec<String>| {
        let items: Vec<Value> = members
            .iter()
            .map(|m| json!({ "type": "presence", "member": m, "online": true }))
            .collect();
        let mut forged = Forged::new(&guest, &corp, "POST", "/_causeway/v1/ephemeral");
        forged.body = json!({ "items": items }).to_string().into_bytes();
        forged
    };
    let noted = corp.state.federation.remote_online_count();
    for round in 0..3 {
        let made_up = (0..100)
            .map(|i| format!("ghost{round}x{i}@guest"))
            .collect();
        let response = presence(made_up).send_to(&corp, None).await;
        assert_eq!(response.status(), 204);
    }
    assert_eq!(corp.state.federation.remote_online_count(), noted);
    let response = presence(vec!["moore@guest".to_owned()])
        .send_to(&corp, None)
        .await;
    assert_eq!(response.status(), 204);
    assert!(corp.state.federation.is_remote_online("moore@guest"));

    // Every refusal is in corp's audit log, with its reason.
    let audit: Value = corp_admin
        .get_ok("/api/v1/admin/audit?action=federation.refused&limit=100")
        .await;
    let details: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["detail"].as_str())
        .collect();
    for reason in [
        "may not speak for carol@corp",
        "may not change what wolf@corp wrote",
        "has one of its users as a member",
        "does not host the direct chats",
    ] {
        assert!(
            details.iter().any(|d| d.contains(reason)),
            "{reason:?} not audited: {details:?}"
        );
    }
    corp.stop().await;
    guest.stop().await;
}

on_both_databases!(
    a_lying_peer_is_refused_and_audited_on_sqlite,
    a_lying_peer_is_refused_and_audited_on_postgres,
    a_lying_peer_is_refused_and_audited
);

/// People of another server reach only those whose address book lists them
/// (the default), and get the same answer for anyone else as for a login that
/// does not exist; the panel may open this to everyone.
async fn outsiders_reach_only_whom_address_books_list(pair: Pair) {
    let Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        wolf,
        moore,
    } = pair;
    add_user(&corp_admin, "carol", "Carol").await;
    let open = |with: &'static str| {
        let moore = &moore;
        async move {
            moore
                .post_json("/api/v1/chats/direct", &json!({ "with": with }))
                .await
        }
    };
    // Nobody's book lists Moore yet: Wolf looks like a login that does not exist.
    let unknown = refused(open("nobody@corp").await, 422, "invalid_input").await;
    let hidden = refused(open("wolf@corp").await, 422, "invalid_input").await;
    assert_eq!(hidden, unknown.replace("nobody", "wolf"));
    // Nor may Wolf reach Moore, whose book does not list him.
    refused(
        wolf.post_json("/api/v1/chats/direct", &json!({ "with": "moore@guest" }))
            .await,
        422,
        "invalid_input",
    )
    .await;

    // Once the books list each other, the chat opens from either side.
    group_book(&corp_admin, "Users without a group", &["moore@guest"]).await;
    group_book(&guest_admin, "Users without a group", &["wolf@corp"]).await;
    let opened: ChatDetail = expect(open("wolf@corp").await, 201).await;
    assert_eq!(opened.members.len(), 2);

    // The same rule for adding people to group chats: Carol, in a group whose
    // book does not list Moore, cannot be added by him — not to a chat of his
    // server, nor to one of corp's from his copy.
    in_new_group(&corp_admin, "carol", "Staff").await;
    let message = refused(
        moore
            .post_json(
                "/api/v1/chats",
                &json!({ "title": "Guests' plans", "members": ["carol@corp"] }),
            )
            .await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(message, unknown.replace("nobody", "carol"));
    let corp_group: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats",
            &json!({ "title": "Corp plans", "members": ["moore@guest"] }),
        )
        .await,
        201,
    )
    .await;
    let response = wolf
        .put_json(
            &format!("/api/v1/chats/{}/members/moore@guest/role", corp_group.id),
            &json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let moore_copy = eventually(PATIENCE, "Moore as admin of his copy", || async {
        let chats: Vec<ChatSummary> = moore.get_ok("/api/v1/chats").await;
        let copy = chats.into_iter().find(|c| c.title == "Corp plans")?;
        let detail: ChatDetail = moore.get_ok(&format!("/api/v1/chats/{}", copy.id)).await;
        detail
            .members
            .iter()
            .any(|m| m.causeway_id.to_string() == "moore@guest" && m.role == ChatRole::Admin)
            .then_some(copy)
    })
    .await;
    let add_path = format!("/api/v1/chats/{}/members", moore_copy.id);
    let add_body = json!({ "members": ["carol@corp"] });
    let add_carol = || moore.post_json(&add_path, &add_body);
    let message = refused(add_carol().await, 422, "invalid_input").await;
    assert_eq!(message, unknown.replace("nobody", "carol"));
    // Asked by the host directly, on Moore's behalf, corp says the same.
    let mut forged = Forged::new(
        &guest,
        &corp,
        "POST",
        &format!("/_causeway/v1/chats/{}/actions", corp_group.id),
    );
    let action = json!({ "type": "add_members", "members": ["carol@corp"] });
    // Unsigned, the host will not take it at all.
    forged.body = json!({ "actor": "moore@guest", "action": action })
        .to_string()
        .into_bytes();
    let message = refused(forged.send_to(&corp, None).await, 422, "invalid_input").await;
    assert_eq!(
        message,
        "guest must sign what moore@guest does (a add is not signed)."
    );
    // Signed as guest's own server would, the same answer as for no such user.
    let attestation = attest(
        &guest,
        "moore@guest",
        "add",
        "carol@corp",
        "",
        corp_group.id,
    );
    let mut forged = Forged::new(
        &guest,
        &corp,
        "POST",
        &format!("/_causeway/v1/chats/{}/actions", corp_group.id),
    );
    forged.body =
        json!({ "actor": "moore@guest", "action": action, "attestations": [attestation] })
            .to_string()
            .into_bytes();
    let message = refused(forged.send_to(&corp, None).await, 422, "invalid_input").await;
    assert_eq!(message, unknown.replace("nobody", "carol"));

    // Opened to everyone, Carol can be added.
    outsiders_reach(&corp_admin, "everyone").await;
    expect::<Value>(add_carol().await, 200).await;
    eventually(PATIENCE, "Carol in corp's chat", || async {
        let detail: ChatDetail = wolf
            .get_ok(&format!("/api/v1/chats/{}", corp_group.id))
            .await;
        detail
            .members
            .iter()
            .any(|m| m.causeway_id.to_string() == "carol@corp")
            .then_some(())
    })
    .await;
    corp.stop().await;
    guest.stop().await;
}

on_both_databases!(
    outsiders_reach_only_whom_address_books_list_on_sqlite,
    outsiders_reach_only_whom_address_books_list_on_postgres,
    outsiders_reach_only_whom_address_books_list
);

/// With the display name left out of Display Fields, other servers see the
/// login instead: when they look someone up and in every chat update.
#[tokio::test]
async fn display_fields_can_hide_the_display_name() {
    let Pair {
        corp,
        guest,
        corp_admin,
        wolf,
        moore,
        ..
    } = pair().await;
    let response = corp_admin
        .put_json(
            "/api/v1/admin/settings/display-fields",
            &json!({ "fields": ["company"] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let looked_up: Value = expect(
        Forged::new(&guest, &corp, "GET", "/_causeway/v1/users/wolf")
            .send_to(&corp, None)
            .await,
        200,
    )
    .await;
    assert_eq!(looked_up["display_name"], "wolf", "{looked_up}");
    let chat = direct(&wolf).await;
    expect::<Message>(say(&wolf, chat.id, "n-1", "Who am I?").await, 201).await;
    let copy = chat_with_last(&moore, "Who am I?").await;
    let detail: ChatDetail = moore.get_ok(&format!("/api/v1/chats/{}", copy.id)).await;
    let names: Vec<(String, String)> = detail
        .members
        .iter()
        .map(|m| (m.causeway_id.to_string(), m.display_name.clone()))
        .collect();
    assert!(
        names.contains(&("wolf@corp".to_owned(), "wolf".to_owned())),
        "{names:?}"
    );
    assert!(!names.iter().any(|(_, n)| n == "Wolf"), "{names:?}");
    corp.stop().await;
    guest.stop().await;
}

/// A claimed origin cannot make a server fetch from inside its network: names
/// that are or resolve to loopback, private or link-local addresses are not
/// fetched unless an administrator put that address on the white list, and
/// the refusal does not tell what answered.
#[tokio::test]
async fn a_claimed_origin_cannot_make_the_server_fetch_from_inside() {
    let guest = named("guest").await;
    let admin = guest.admin().await;
    let response = admin
        .put_json(
            "/api/v1/admin/federation",
            &json!({ "mode": "allow_all", "whitelist": [] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    // Something inside that must never be asked.
    let inside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    inside.set_nonblocking(true).unwrap();
    let port = inside.local_addr().unwrap().port();
    let claim = |origin: String| {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in [
            (signing::ORIGIN, origin),
            (signing::DESTINATION, "guest".to_owned()),
            (signing::TIMESTAMP, now_millis().to_string()),
            (signing::TRANSACTION, signing::new_transaction_id()),
            (signing::KEY, "k1".to_owned()),
            (signing::SIGNATURE, "AAAA".to_owned()),
        ] {
            headers.insert(name, value.parse().unwrap());
        }
        reqwest::Client::new()
            .get(guest.url("/_causeway/v1/users/moore"))
            .headers(headers)
            .send()
    };
    let message = refused(
        claim(format!("127.0.0.1:{port}")).await.unwrap(),
        403,
        "server_not_allowed",
    )
    .await;
    assert!(message.contains("not a public address"), "{message}");
    let message = refused(
        claim(format!("localhost:{port}")).await.unwrap(),
        401,
        "bad_signature",
    )
    .await;
    assert_eq!(
        message,
        format!("The keys of localhost:{port} could not be fetched.")
    );
    // Both answers are in: had either fetch been tried, its connection would
    // be waiting here.
    assert_eq!(
        inside.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "the server connected inside"
    );
    guest.stop().await;
}

/// In a chat of three servers, what a person of the third does reaches the
/// others with their own server's signature: the host passes it on and cannot
/// make one up.
#[tokio::test]
async fn a_host_cannot_speak_for_a_third_server() {
    let corp = named("corp").await;
    let guest = named("guest").await;
    let partner = named("partner").await;
    let admins = [
        corp.admin().await,
        guest.admin().await,
        partner.admin().await,
    ];
    allow(&admins[0], &[(&guest, None), (&partner, None)]).await;
    allow(&admins[1], &[(&corp, None), (&partner, None)]).await;
    allow(&admins[2], &[(&corp, None), (&guest, None)]).await;
    for (admin, login) in admins.iter().zip(["wolf", "moore", "pat"]) {
        outsiders_reach(admin, "everyone").await;
        add_user(admin, login, login).await;
    }
    let wolf = corp.sign_in("wolf", PASSWORD).await;
    let moore = guest.sign_in("moore", PASSWORD).await;
    let pat = partner.sign_in("pat", PASSWORD).await;
    let group: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats",
            &json!({ "title": "Three", "members": ["moore@guest", "pat@partner"] }),
        )
        .await,
        201,
    )
    .await;
    let pats = titled(&pat, "Three").await;
    titled(&moore, "Three").await;

    // Pat writes and edits from partner; Moore on guest sees both.
    let said: Message = expect(say(&pat, pats.id, "p-1", "Hello from Pat").await, 201).await;
    chat_with_last(&moore, "Hello from Pat").await;
    let response = pat
        .patch_json(
            &format!("/api/v1/chats/{}/messages/{}", pats.id, said.seq),
            &json!({ "body": "Hello from Pat, edited" }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    chat_with_last(&moore, "Hello from Pat, edited").await;

    // Corp makes Pat say something: refused by guest, unsigned or signed by corp.
    let last = group.last_seq + 10;
    let update = |attestations: Vec<Value>| {
        json!({ "chat_id": group.id, "kind": "group", "title": "Three", "created_by": "wolf@corp",
                "created_at": 0, "last_seq": last,
                "members": [member_json("wolf@corp", "owner", 0), member_json("moore@guest", "member", 0),
                            member_json("pat@partner", "member", 0)],
                "events": [message_event(last, "message", "pat@partner", "pat@partner", "p-9", "Pay corp")],
                "attestations": attestations })
    };
    let answer = forged_update(&corp, &guest, update(Vec::new())).await;
    assert_eq!(
        refusal_reason(&answer),
        "corp may not speak for pat@partner: partner did not sign this message."
    );
    let made_up = attest(&corp, "pat@partner", "send", "p-9", "", group.id);
    let answer = forged_update(&corp, &guest, update(vec![made_up])).await;
    assert_eq!(
        refusal_reason(&answer),
        "corp passed on a signature of partner that does not verify."
    );
    let chats: Vec<ChatSummary> = moore.get_ok("/api/v1/chats").await;
    let three = chats.iter().find(|c| c.title == "Three").unwrap();
    let seen = history(&moore, three.id).await;
    assert!(seen.iter().all(|m| m.body != "Pay corp"), "{seen:?}");
    for server in [corp, guest, partner] {
        server.stop().await;
    }
}

/// A person of guest whose account is deleted leaves the direct chat corp
/// hosts too: a new account with the same login starts a new, empty chat.
#[tokio::test]
async fn a_deleted_guest_leaves_the_direct_chat_its_host_keeps() {
    let Pair {
        corp,
        guest,
        guest_admin,
        wolf,
        moore,
        ..
    } = pair().await;
    let old = direct(&wolf).await;
    expect::<Message>(say(&wolf, old.id, "w-1", "Before").await, 201).await;
    chat_with_last(&moore, "Before").await;
    let users: Value = guest_admin.get_ok("/api/v1/admin/users?search=moore").await;
    let id = users["items"][0]["id"].as_i64().unwrap();
    let deleted = guest_admin
        .delete(&format!("/api/v1/admin/users/{id}"))
        .await;
    assert_eq!(deleted.status(), 204);
    // On corp, Moore has left the chat Wolf keeps.
    eventually(PATIENCE, "Moore gone from corp's direct chat", || async {
        let detail: ChatDetail = wolf.get_ok(&format!("/api/v1/chats/{}", old.id)).await;
        (detail.members.len() == 1).then_some(())
    })
    .await;
    add_user(&guest_admin, "moore", "Albert Moore").await;
    let moore = guest.sign_in("moore", PASSWORD).await;
    let new: ChatDetail = expect(
        moore
            .post_json("/api/v1/chats/direct", &json!({ "with": "wolf@corp" }))
            .await,
        201,
    )
    .await;
    assert!(
        history(&moore, new.id).await.is_empty(),
        "nothing inherited"
    );
    let chats: Vec<ChatSummary> = wolf.get_ok("/api/v1/chats").await;
    assert_eq!(chats.len(), 2, "the old chat and a new one: {chats:?}");
    corp.stop().await;
    guest.stop().await;
}

/// The Federation page's states follow real traffic, not only the outbox's
/// deliveries: a look-up that gets an answer makes a server reachable, a
/// signed request from it is "heard from", and a look-up that gets none makes
/// it unreachable, with the reason.
#[tokio::test]
async fn the_federation_page_follows_real_traffic() {
    let Pair {
        corp,
        guest,
        corp_admin,
        guest_admin,
        ..
    } = pair().await;
    // Corp asks guest about Moore (no chat, so no delivery of the outbox).
    let found: Value = corp_admin
        .get_ok("/api/v1/people/lookup?id=moore%40guest")
        .await;
    assert_eq!(found["display_name"], "Albert Moore");
    let status = guest_status(&corp_admin, "an answer from guest", |p| {
        p["reachable"] == true && p["last_success_at"].is_i64()
    })
    .await;
    assert_eq!(status["queue"], 0, "{status}");
    // Guest heard a signed request from corp.
    let heard = eventually(PATIENCE, "guest hears corp", || async {
        let status: Value = guest_admin.get_ok("/api/v1/admin/federation/status").await;
        status["peers"]
            .as_array()?
            .iter()
            .find(|p| p["server_name"] == "corp" && p["last_heard_at"].is_i64())
            .cloned()
    })
    .await;
    assert_eq!(heard["allowed"], true, "{heard}");

    // Guest goes away: the next look-up gets no answer, and the page says so.
    let stopped = guest.stop_keeping_data().await;
    let response = corp_admin
        .get("/api/v1/people/lookup?id=moore%40guest")
        .await;
    assert!(
        response.status().is_client_error()
            || response.status().as_u16() == 502
            || response.status().as_u16() == 503,
        "{}",
        response.status()
    );
    let status = guest_status(&corp_admin, "guest unreachable", |p| {
        p["reachable"] == false
    })
    .await;
    assert!(
        status["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{status}"
    );
    assert!(
        status["last_error_at"].as_i64() > status["last_success_at"].as_i64(),
        "{status}"
    );

    // Back: the next answer makes it reachable again.
    let guest = stopped.start().await;
    let _: Value = corp_admin
        .get_ok("/api/v1/people/lookup?id=moore%40guest")
        .await;
    guest_status(&corp_admin, "guest reachable again", |p| {
        p["reachable"] == true
    })
    .await;
    corp.stop().await;
    guest.stop().await;
}
