//! Realtime pushes over `/api/v1/events`, and catching up after a reconnect.

use std::collections::HashMap;
use std::time::Duration;

use app::types::{ChatDetail, ChatEvent, Push};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{self, Client, Socket, TestServer};

const PASSWORD: &str = "correct horse battery";

/// Signs in and returns the API client and the raw session cookie.
async fn sign_in(server: &TestServer, login: &str) -> (Client, String) {
    let client = server.client();
    let response = client.login(login, PASSWORD, false).await;
    assert_eq!(response.status(), 200);
    let cookie = format!("causeway_session={}", common::session_id(&response));
    (client, cookie)
}

async fn connect(server: &TestServer, cookie: &str) -> Socket {
    let mut socket = common::open_socket(server, cookie).await;
    assert!(
        matches!(next(&mut socket).await, Push::Ready { .. }),
        "the first frame says the socket is live"
    );
    socket
}

/// The next push, or a failure after two seconds.
async fn next(socket: &mut Socket) -> Push {
    common::next_push(socket, Duration::from_secs(2)).await
}

/// Nothing arrives within a quarter second.
async fn quiet(socket: &mut Socket) {
    if let Ok(Some(Ok(Ws::Text(text)))) =
        tokio::time::timeout(Duration::from_millis(250), socket.next()).await
    {
        panic!("unexpected push: {text}");
    }
}

fn chat_event(push: Push) -> (i64, ChatEvent) {
    match push {
        Push::ChatEvent { chat_id, event } => (chat_id, *event),
        other => panic!("expected a chat event, got {other:?}"),
    }
}

async fn setup() -> TestServer {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for (login, name) in [("wolf", "Wolf"), ("moore", "Albert Moore"), ("eve", "Eve")] {
        let response = admin
            .post_json(
                "/api/v1/admin/users",
                &json!({ "login": login, "password": PASSWORD, "profile": { "display_name": name } }),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    server
}

#[tokio::test]
async fn sockets_need_a_session() {
    let server = TestServer::start().await;
    let request = format!("ws://{}/api/v1/events", server.addr)
        .into_client_request()
        .unwrap();
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!(
            "an anonymous socket must be refused, got {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    server.stop().await;
}

#[tokio::test]
async fn members_get_what_happens_in_their_chats_and_no_one_else_does() {
    let server = setup().await;
    let (wolf, wolf_cookie) = sign_in(&server, "wolf").await;
    let (moore, moore_cookie) = sign_in(&server, "moore").await;
    let (_eve, eve_cookie) = sign_in(&server, "eve").await;
    let mut moore_socket = connect(&server, &moore_cookie).await;
    let mut wolf_socket = connect(&server, &wolf_cookie).await;
    let mut eve_socket = connect(&server, &eve_cookie).await;
    // Two tabs of one person both get everything.
    let mut moore_second_tab = connect(&server, &moore_cookie).await;

    let response = wolf
        .post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let chat: ChatDetail = response.json().await.unwrap();
    let (chat_id, created) = chat_event(next(&mut moore_socket).await);
    assert_eq!(
        (chat_id, created.seq, created.kind.as_str()),
        (chat.id, 1, "created")
    );
    chat_event(next(&mut wolf_socket).await);
    chat_event(next(&mut moore_second_tab).await);

    let messages = format!("/api/v1/chats/{}/messages", chat.id);
    let response = wolf
        .post_json(
            &messages,
            &json!({ "client_id": "w-1", "body": "Hello Albert" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let (_, posted) = chat_event(next(&mut moore_socket).await);
    assert_eq!(posted.kind, app::types::EventKind::Message);
    assert_eq!(posted.message.as_ref().unwrap().body, "Hello Albert");
    assert_eq!(posted.actor.to_string(), "wolf@localhost");
    assert_eq!(chat_event(next(&mut moore_second_tab).await).1.seq, 2);
    assert_eq!(
        chat_event(next(&mut wolf_socket).await).1.seq,
        2,
        "the sender's other tabs follow too"
    );

    // A retried send is not pushed again.
    let response = wolf
        .post_json(
            &messages,
            &json!({ "client_id": "w-1", "body": "Hello Albert" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = wolf
        .patch_json(
            &format!("{messages}/2"),
            &json!({ "body": "Hello, Albert" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (_, edited) = chat_event(next(&mut moore_socket).await);
    assert_eq!((edited.seq, edited.kind.as_str()), (3, "edit"));
    assert_eq!(edited.message.unwrap().body, "Hello, Albert");
    chat_event(next(&mut wolf_socket).await);

    // Read positions reach the other member.
    let response = moore
        .put_json(
            &format!("/api/v1/chats/{}/read", chat.id),
            &json!({ "seq": 3 }),
        )
        .await;
    assert_eq!(response.status(), 200);
    match next(&mut wolf_socket).await {
        Push::Read {
            chat_id,
            member,
            seq,
        } => {
            assert_eq!(
                (chat_id, member.to_string().as_str(), seq),
                (chat.id, "moore@localhost", 3)
            );
        }
        other => panic!("expected a read position, got {other:?}"),
    }

    // Eve is in none of this.
    quiet(&mut eve_socket).await;
    assert_eq!(server.state.hub.connections(), 4);
    drop(eve_socket);
    server.stop().await;
}

#[tokio::test]
async fn a_reconnecting_client_catches_up_without_gaps_or_duplicates() {
    let server = setup().await;
    let (wolf, _) = sign_in(&server, "wolf").await;
    let (moore, moore_cookie) = sign_in(&server, "moore").await;
    let chat: ChatDetail = wolf
        .post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let messages = format!("/api/v1/chats/{}/messages", chat.id);
    let mut socket = connect(&server, &moore_cookie).await;
    wolf.post_json(&messages, &json!({ "client_id": "a", "body": "one" }))
        .await;
    let (_, seen) = chat_event(next(&mut socket).await);
    let last_seen = seen.seq;
    socket.close(None).await.unwrap();
    drop(socket);

    // While Moore is away.
    for (i, body) in ["two", "three", "four"].iter().enumerate() {
        let id = format!("b{i}");
        let response = wolf
            .post_json(&messages, &json!({ "client_id": id, "body": body }))
            .await;
        assert_eq!(response.status(), 201);
    }
    let mut socket = connect(&server, &moore_cookie).await;
    let missed: Vec<ChatEvent> = moore
        .get_ok(&format!(
            "/api/v1/chats/{}/events?after={last_seen}",
            chat.id
        ))
        .await;
    let bodies: Vec<String> = missed
        .iter()
        .map(|e| e.message.as_ref().unwrap().body.clone())
        .collect();
    assert_eq!(bodies, ["two", "three", "four"]);
    let seqs: Vec<i64> = missed.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [last_seen + 1, last_seen + 2, last_seen + 3]);
    // And from then on the socket carries the rest.
    wolf.post_json(&messages, &json!({ "client_id": "c", "body": "five" }))
        .await;
    let (_, live) = chat_event(next(&mut socket).await);
    assert_eq!(live.seq, last_seen + 4);
    server.stop().await;
}

#[tokio::test]
async fn a_removed_member_hears_of_it_and_nothing_after() {
    let server = setup().await;
    let (wolf, _) = sign_in(&server, "wolf").await;
    let (_eve, eve_cookie) = sign_in(&server, "eve").await;
    let response = wolf
        .post_json(
            "/api/v1/chats",
            &json!({ "title": "Ops", "members": ["eve@localhost"] }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let chat: ChatDetail = response.json().await.unwrap();
    let mut eve_socket = connect(&server, &eve_cookie).await;
    let response = wolf
        .delete(&format!("/api/v1/chats/{}/members/eve@localhost", chat.id))
        .await;
    assert_eq!(response.status(), 204);
    let (_, removed) = chat_event(next(&mut eve_socket).await);
    assert_eq!(removed.kind, app::types::EventKind::MemberRemoved);
    assert_eq!(removed.subject.unwrap().to_string(), "eve@localhost");
    let response = wolf
        .post_json(
            &format!("/api/v1/chats/{}/messages", chat.id),
            &json!({ "client_id": "after", "body": "not for Eve" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    quiet(&mut eve_socket).await;
    server.stop().await;
}

#[tokio::test]
async fn another_site_cannot_open_a_socket_with_the_users_cookie() {
    let server = setup().await;
    let (_wolf, cookie) = sign_in(&server, "wolf").await;
    let mut request = format!("ws://{}/api/v1/events", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!(
            "a socket from another site must be refused, got {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    // From the server's own origin it opens.
    let mut request = format!("ws://{}/api/v1/events", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", format!("http://{}", server.addr).parse().unwrap());
    let (_socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);
    server.stop().await;
}

#[tokio::test]
async fn chat_partners_see_presence_and_typing_and_outsiders_do_not() {
    let server = setup().await;
    let (wolf, wolf_cookie) = sign_in(&server, "wolf").await;
    let (_moore, moore_cookie) = sign_in(&server, "moore").await;
    let (_eve, eve_cookie) = sign_in(&server, "eve").await;
    let chat: ChatDetail = wolf
        .post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        chat.members.iter().all(|m| !m.online),
        "no one has a tab open yet"
    );
    let mut wolf_socket = connect(&server, &wolf_cookie).await;
    let mut eve_socket = connect(&server, &eve_cookie).await;

    // Moore comes online: Wolf, who shares a chat with him, hears it; Eve does not.
    let mut moore_socket = connect(&server, &moore_cookie).await;
    assert_eq!(
        next(&mut wolf_socket).await,
        Push::Presence {
            member: "moore@localhost".parse().unwrap(),
            online: true
        }
    );
    let shown: ChatDetail = wolf.get_ok(&format!("/api/v1/chats/{}", chat.id)).await;
    let moore = shown
        .members
        .iter()
        .find(|m| m.causeway_id.login.as_str() == "moore")
        .unwrap();
    assert!(moore.online);
    // A second tab is not news.
    let second_tab = connect(&server, &moore_cookie).await;
    quiet(&mut wolf_socket).await;

    // Typing reaches the other member, once per interval, and never an outsider.
    for _ in 0..3 {
        moore_socket
            .send(Ws::Text(
                json!({ "type": "typing", "chat_id": chat.id })
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
    }
    assert_eq!(
        next(&mut wolf_socket).await,
        Push::Typing {
            chat_id: chat.id,
            member: "moore@localhost".parse().unwrap()
        }
    );
    quiet(&mut wolf_socket).await;
    // Eve is not in the chat: her typing notice for it goes nowhere, and garbage
    // does not cost her the socket.
    eve_socket
        .send(Ws::Text(
            json!({ "type": "typing", "chat_id": chat.id })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    eve_socket.send(Ws::Text("not json".into())).await.unwrap();
    quiet(&mut wolf_socket).await;
    quiet(&mut eve_socket).await;

    // Moore closes both tabs: Wolf hears he went offline, once.
    drop(second_tab);
    moore_socket.close(None).await.unwrap();
    drop(moore_socket);
    assert_eq!(
        next(&mut wolf_socket).await,
        Push::Presence {
            member: "moore@localhost".parse().unwrap(),
            online: false
        }
    );
    server.stop().await;
}

/// The close frame a socket gets next, as `(code, reason)`, skipping pushes
/// (presence may come first); a failure if none comes within five seconds.
async fn closed(socket: &mut Socket) -> (u16, String) {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("the socket is closed within five seconds")
            .expect("a close frame before the stream ends")
            .expect("a frame");
        match frame {
            Ws::Close(Some(close)) => return (u16::from(close.code), close.reason.to_string()),
            Ws::Close(None) => panic!("a close frame without a code"),
            _ => {}
        }
    }
}

/// Sign-out, password changes, deactivation and deletion close the sockets of
/// the sessions they end at once, with a close code the client acts on; the
/// session that changed its own password keeps its socket.
async fn ended_sessions_close_their_sockets(database: Option<String>) {
    let server = TestServer::start_with(move |c| c.database.url = database).await;
    let admin = server.admin().await;
    let mut ids = HashMap::new();
    for (login, name) in [("wolf", "Wolf"), ("moore", "Albert Moore")] {
        let response = admin
            .post_json(
                "/api/v1/admin/users",
                &json!({ "login": login, "password": PASSWORD, "profile": { "display_name": name } }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let user: serde_json::Value = response.json().await.unwrap();
        ids.insert(login, user["id"].as_i64().unwrap());
    }
    let (moore, _) = sign_in(&server, "moore").await;
    let response = moore
        .post_json("/api/v1/chats/direct", &json!({ "with": "wolf@localhost" }))
        .await;
    assert_eq!(response.status(), 201);
    let chat: ChatDetail = response.json().await.unwrap();

    // Signing out closes that session's socket, not the same person's other one.
    let (wolf_a, cookie_a) = sign_in(&server, "wolf").await;
    let (_wolf_b, cookie_b) = sign_in(&server, "wolf").await;
    let mut socket_a = connect(&server, &cookie_a).await;
    let mut socket_b = connect(&server, &cookie_b).await;
    assert_eq!(wolf_a.logout().await.status(), 204);
    assert_eq!(
        closed(&mut socket_a).await,
        (4001, "session ended".to_owned())
    );

    // Changing one's own password ends the other sessions and their sockets;
    // the socket of the session that changed it stays open and live.
    let (wolf_c, cookie_c) = sign_in(&server, "wolf").await;
    let mut socket_c = connect(&server, &cookie_c).await;
    let response = wolf_c
        .put_json(
            "/api/v1/me/password",
            &json!({ "current_password": PASSWORD, "new_password": "a new horse battery" }),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        closed(&mut socket_b).await,
        (4001, "session ended".to_owned())
    );
    let response = moore
        .post_json(
            &format!("/api/v1/chats/{}/messages", chat.id),
            &json!({ "client_id": "marker-1", "body": "still there?" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let (_, marker) = chat_event(next(&mut socket_c).await);
    assert_eq!(
        marker.message.map(|m| m.body).as_deref(),
        Some("still there?"),
        "the changing session's socket is open and gets the next push"
    );

    // A password set by an administrator ends every session, this one too.
    let wolf_id = ids["wolf"];
    let response = admin
        .put_json(
            &format!("/api/v1/admin/users/{wolf_id}/password"),
            &json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        closed(&mut socket_c).await,
        (4001, "session ended".to_owned())
    );

    // Deactivation says so.
    let (_wolf, cookie) = sign_in(&server, "wolf").await;
    let mut socket = connect(&server, &cookie).await;
    let response = admin
        .patch_json(
            &format!("/api/v1/admin/users/{wolf_id}"),
            &json!({ "is_active": false }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        closed(&mut socket).await,
        (4003, "account disabled".to_owned())
    );

    // Deletion too.
    let response = admin
        .patch_json(
            &format!("/api/v1/admin/users/{wolf_id}"),
            &json!({ "is_active": true }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (_wolf, cookie) = sign_in(&server, "wolf").await;
    let mut socket = connect(&server, &cookie).await;
    let response = admin
        .delete(&format!("/api/v1/admin/users/{wolf_id}"))
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        closed(&mut socket).await,
        (4001, "account deleted".to_owned())
    );
    server.stop().await;
}

#[tokio::test]
async fn ended_sessions_close_their_sockets_on_sqlite() {
    ended_sessions_close_their_sockets(None).await;
}

#[tokio::test]
async fn ended_sessions_close_their_sockets_on_postgres() {
    let Some(db) = common::PgDatabase::create().await else {
        return;
    };
    ended_sessions_close_their_sockets(Some(db.url.clone())).await;
    db.drop_now().await;
}
