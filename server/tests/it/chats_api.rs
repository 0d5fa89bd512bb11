//! Chats between users of one server, through the API.

use app::types::{
    ChatDetail, ChatEvent, ChatKind, ChatRole, ChatSummary, Message, ReadUpTo, SearchResults,
};
use serde_json::{Value, json};

use crate::common::{self, Client, PgDatabase, TestServer, error_of};

const PASSWORD: &str = "correct horse battery";

async fn add_user(admin: &Client, login: &str, name: &str, rights_group: Option<i64>) -> i64 {
    let response = admin
        .post_json(
            "/api/v1/admin/users",
            &json!({ "login": login, "password": PASSWORD, "profile": { "display_name": name },
                     "group_ids": rights_group.into_iter().collect::<Vec<_>>() }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn expect<T: serde::de::DeserializeOwned>(response: reqwest::Response, status: u16) -> T {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn refused(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status().as_u16(), status);
    let (got, message) = error_of(response).await;
    assert_eq!(got, code, "{message}");
    message
}

async fn say(client: &Client, chat: i64, client_id: &str, body: &str) -> Message {
    expect(
        client
            .post_json(
                &format!("/api/v1/chats/{chat}/messages"),
                &json!({ "client_id": client_id, "body": body }),
            )
            .await,
        201,
    )
    .await
}

struct People {
    server: TestServer,
    admin: Client,
    wolf: Client,
    moore: Client,
    eve: Client,
}

async fn people() -> People {
    people_on(None).await
}

/// [`people`] on SQLite, or on the PostgreSQL database `database`.
async fn people_on(database: Option<String>) -> People {
    let server = TestServer::start_with(move |c| c.database.url = database).await;
    let admin = server.admin().await;
    add_user(&admin, "wolf", "Wolf", None).await;
    add_user(&admin, "moore", "Albert Moore", None).await;
    add_user(&admin, "eve", "Eve", None).await;
    let wolf = server.sign_in("wolf", PASSWORD).await;
    let moore = server.sign_in("moore", PASSWORD).await;
    let eve = server.sign_in("eve", PASSWORD).await;
    People {
        server,
        admin,
        wolf,
        moore,
        eve,
    }
}

#[tokio::test]
async fn a_pair_has_one_direct_chat_and_talks_in_it() {
    let People {
        server,
        wolf,
        moore,
        eve,
        ..
    } = people().await;
    let opened: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(opened.kind, ChatKind::Direct);
    assert_eq!(
        opened.title, "Albert Moore",
        "a direct chat is titled with the other person"
    );
    assert_eq!(opened.my_role, ChatRole::Member);
    assert_eq!(opened.members.len(), 2);
    let again: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(again.id, opened.id);
    let theirs: ChatDetail = expect(
        moore
            .post_json("/api/v1/chats/direct", &json!({ "with": "wolf@localhost" }))
            .await,
        200,
    )
    .await;
    assert_eq!(theirs.id, opened.id, "the same chat from the other side");
    assert_eq!(theirs.title, "Wolf");

    for (with, status, code) in [
        ("wolf@localhost", 422, "invalid_input"),
        ("ghost@localhost", 422, "invalid_input"),
        ("moore@guest", 403, "server_not_allowed"),
        ("not an id", 400, "bad_request"),
    ] {
        refused(
            wolf.post_json("/api/v1/chats/direct", &json!({ "with": with }))
                .await,
            status,
            code,
        )
        .await;
    }

    // Messages are numbered; a retried send is not a copy.
    let chat = opened.id;
    let hello = say(
        &wolf,
        chat,
        "w-1",
        "Hello Albert, see https://example.com <b>bold</b>",
    )
    .await;
    assert_eq!(hello.seq, 2);
    assert_eq!(hello.sender.to_string(), "wolf@localhost");
    let retry: Message = expect(
        wolf.post_json(&format!("/api/v1/chats/{chat}/messages"), &json!({ "client_id": "w-1", "body": "Hello Albert, see https://example.com <b>bold</b>" }))
            .await,
        200,
    )
    .await;
    assert_eq!(retry, hello);
    let reply: Message = expect(
        moore
            .post_json(
                &format!("/api/v1/chats/{chat}/messages"),
                &json!({ "client_id": "m-1", "body": "Hi Wolf", "reply_to": hello.seq }),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(reply.reply_to, Some(2));

    // Bad sends are refused and store nothing.
    let path = format!("/api/v1/chats/{chat}/messages");
    for (body, status, code) in [
        (
            json!({ "client_id": "x", "body": "   " }),
            422,
            "invalid_input",
        ),
        (
            json!({ "client_id": "x", "body": "a".repeat(10_001) }),
            422,
            "invalid_input",
        ),
        (
            json!({ "client_id": "has space", "body": "hi" }),
            422,
            "invalid_input",
        ),
        (
            json!({ "client_id": "", "body": "hi" }),
            422,
            "invalid_input",
        ),
        (
            json!({ "client_id": "x", "body": "hi", "reply_to": 999 }),
            422,
            "invalid_input",
        ),
        (
            json!({ "client_id": "x", "body": "hi", "extra": true }),
            400,
            "bad_request",
        ),
    ] {
        refused(wolf.post_json(&path, &body).await, status, code).await;
    }

    // Someone outside the chat cannot see or write it: it does not exist for them.
    refused(
        eve.get(&format!("/api/v1/chats/{chat}")).await,
        404,
        "not_found",
    )
    .await;
    refused(eve.get(&path).await, 404, "not_found").await;
    refused(
        eve.post_json(&path, &json!({ "client_id": "e", "body": "hi" }))
            .await,
        404,
        "not_found",
    )
    .await;
    refused(
        eve.put_json(&format!("/api/v1/chats/{chat}/read"), &json!({ "seq": 3 }))
            .await,
        404,
        "not_found",
    )
    .await;
    refused(server.client().get(&path).await, 401, "unauthenticated").await;

    let history: Vec<Message> = wolf.get_ok(&path).await;
    assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(
        history[0].body, "Hello Albert, see https://example.com <b>bold</b>",
        "text is kept as sent"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_chat_list_counts_unread_messages_and_read_positions_move_forward() {
    let People {
        server,
        wolf,
        moore,
        ..
    } = people().await;
    let chat: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await,
        201,
    )
    .await;
    say(&wolf, chat.id, "w-1", "one").await;
    say(&wolf, chat.id, "w-2", "two").await;
    let list: Vec<ChatSummary> = moore.get_ok("/api/v1/chats").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].unread, 2);
    assert_eq!(list[0].title, "Wolf");
    assert_eq!(list[0].last_message.as_ref().unwrap().body, "two");
    let mine: Vec<ChatSummary> = wolf.get_ok("/api/v1/chats").await;
    assert_eq!(mine[0].unread, 0, "one's own messages are not unread");

    let read = format!("/api/v1/chats/{}/read", chat.id);
    let at: ReadUpTo = expect(moore.put_json(&read, &json!({ "seq": 2 })).await, 200).await;
    assert_eq!(at.seq, 2);
    assert_eq!(
        moore.get_ok::<Vec<ChatSummary>>("/api/v1/chats").await[0].unread,
        1
    );
    let at: ReadUpTo = expect(moore.put_json(&read, &json!({ "seq": 1 })).await, 200).await;
    assert_eq!(at.seq, 2, "never back");
    let at: ReadUpTo = expect(moore.put_json(&read, &json!({ "seq": 1_000 })).await, 200).await;
    assert_eq!(at.seq, 3, "not past the last message");
    assert_eq!(
        moore.get_ok::<Vec<ChatSummary>>("/api/v1/chats").await[0].unread,
        0
    );
    let detail: ChatDetail = moore.get_ok(&format!("/api/v1/chats/{}", chat.id)).await;
    assert_eq!(detail.read_seq, 3);
    server.stop().await;
}

#[tokio::test]
async fn history_pages_both_ways_and_catch_up_has_no_gaps() {
    let People {
        server,
        wolf,
        moore,
        ..
    } = people().await;
    let chat: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await,
        201,
    )
    .await;
    for i in 1..=12 {
        say(&wolf, chat.id, &format!("w-{i}"), &format!("message {i}")).await;
    }
    let path = format!("/api/v1/chats/{}/messages", chat.id);
    let seqs = |messages: Vec<Message>| messages.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(moore.get_ok(&format!("{path}?limit=3")).await),
        [11, 12, 13]
    );
    assert_eq!(
        seqs(moore.get_ok(&format!("{path}?before=11&limit=3")).await),
        [8, 9, 10]
    );
    assert_eq!(
        seqs(moore.get_ok(&format!("{path}?after=2&limit=2")).await),
        [3, 4]
    );
    refused(
        moore.get(&format!("{path}?limit=0")).await,
        422,
        "invalid_input",
    )
    .await;
    refused(
        moore.get(&format!("{path}?limit=abc")).await,
        400,
        "bad_request",
    )
    .await;
    refused(
        moore.get(&format!("{path}?sort=asc")).await,
        400,
        "bad_request",
    )
    .await;

    // A client that saw up to 12 catches up on what happened since, in order.
    let edited: Message = expect(
        wolf.patch_json(
            &format!("{path}/13"),
            &json!({ "body": "message 12, corrected" }),
        )
        .await,
        200,
    )
    .await;
    assert!(edited.edited_at.is_some());
    assert_eq!(wolf.delete(&format!("{path}/12")).await.status(), 204);
    let events: Vec<ChatEvent> = moore
        .get_ok(&format!("/api/v1/chats/{}/events?after=12", chat.id))
        .await;
    let kinds: Vec<(i64, &str)> = events.iter().map(|e| (e.seq, e.kind.as_str())).collect();
    assert_eq!(kinds, [(13, "message"), (14, "edit"), (15, "delete")]);
    assert_eq!(
        events[1].message.as_ref().unwrap().body,
        "message 12, corrected"
    );
    assert!(events[2].message.as_ref().unwrap().deleted_at.is_some());
    refused(
        moore
            .get(&format!("/api/v1/chats/{}/events", chat.id))
            .await,
        400,
        "bad_request",
    )
    .await;

    let found: Vec<Message> = moore
        .get_ok(&format!("/api/v1/chats/{}/search?q=CORRECTED", chat.id))
        .await;
    assert_eq!(seqs(found), [13]);
    refused(
        moore
            .get(&format!("/api/v1/chats/{}/search?q=", chat.id))
            .await,
        422,
        "invalid_input",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn who_may_edit_and_delete() {
    let People {
        server,
        admin,
        wolf,
        moore,
        eve,
    } = people().await;
    let group: ChatDetail = expect(
        wolf.post_json("/api/v1/chats", &json!({ "title": " Project X ", "members": ["moore@localhost", "eve@localhost", "wolf@localhost"] }))
            .await,
        201,
    )
    .await;
    assert_eq!(group.title, "Project X");
    assert_eq!(group.my_role, ChatRole::Owner);
    let roles: Vec<(String, ChatRole)> = group
        .members
        .iter()
        .map(|m| (m.causeway_id.to_string(), m.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("eve@localhost".to_owned(), ChatRole::Member),
            ("moore@localhost".to_owned(), ChatRole::Member),
            ("wolf@localhost".to_owned(), ChatRole::Owner),
        ]
    );
    for body in [
        json!({ "title": "" }),
        json!({ "title": "x", "members": ["ghost@localhost"] }),
    ] {
        refused(
            wolf.post_json("/api/v1/chats", &body).await,
            422,
            "invalid_input",
        )
        .await;
    }

    let path = format!("/api/v1/chats/{}/messages", group.id);
    let by_moore = say(&moore, group.id, "m-1", "from Moore").await;
    let by_eve = say(&eve, group.id, "e-1", "from Eve").await;
    // Only the sender edits.
    refused(
        wolf.patch_json(&format!("{path}/{}", by_moore.seq), &json!({ "body": "x" }))
            .await,
        403,
        "forbidden",
    )
    .await;
    let edited: Message = expect(
        moore
            .patch_json(
                &format!("{path}/{}", by_moore.seq),
                &json!({ "body": "from Moore, edited" }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(edited.body, "from Moore, edited");
    // A member may not delete another's message; the owner may.
    refused(
        eve.delete(&format!("{path}/{}", by_moore.seq)).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        wolf.delete(&format!("{path}/{}", by_moore.seq))
            .await
            .status(),
        204
    );
    refused(
        wolf.delete(&format!("{path}/{}", by_moore.seq)).await,
        404,
        "not_found",
    )
    .await;
    refused(
        moore
            .patch_json(&format!("{path}/999"), &json!({ "body": "x" }))
            .await,
        404,
        "not_found",
    )
    .await;

    // Operator rights let a member delete anyone's message.
    let operators: Value = expect(
        admin
            .post_json(
                "/api/v1/admin/groups",
                &json!({ "name": "Operators", "rights": ["operator"] }),
            )
            .await,
        201,
    )
    .await;
    let moore_id = admin
        .get_ok::<Value>("/api/v1/admin/users?search=moore")
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let response = admin
        .put_json(
            &format!("/api/v1/admin/users/{moore_id}/groups"),
            &json!({ "ids": [operators["id"]] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        moore
            .delete(&format!("{path}/{}", by_eve.seq))
            .await
            .status(),
        204
    );
    let history: Vec<Message> = eve.get_ok(&path).await;
    assert!(
        history
            .iter()
            .all(|m| m.deleted_at.is_some() && m.body.is_empty())
    );
    server.stop().await;
}

#[tokio::test]
async fn group_membership_follows_roles() {
    let People {
        server,
        admin,
        wolf,
        moore,
        eve,
    } = people().await;
    add_user(&admin, "bob", "Bob", None).await;
    let bob = server.sign_in("bob", PASSWORD).await;
    let group: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats",
            &json!({ "title": "Ops", "members": ["moore@localhost"] }),
        )
        .await,
        201,
    )
    .await;
    let id = group.id;
    let members = format!("/api/v1/chats/{id}/members");

    // Members may not add; the owner may; adding someone twice changes nothing.
    refused(
        moore
            .post_json(&members, &json!({ "members": ["eve@localhost"] }))
            .await,
        403,
        "forbidden",
    )
    .await;
    let detail: ChatDetail = expect(
        wolf.post_json(
            &members,
            &json!({ "members": ["eve@localhost", "moore@localhost"] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detail.members.len(), 3);
    refused(
        wolf.post_json(&members, &json!({ "members": ["ghost@localhost"] }))
            .await,
        422,
        "invalid_input",
    )
    .await;
    // The new member sees the chat from the moment they were added.
    say(&wolf, id, "w-1", "welcome Eve").await;
    let seen: Vec<Message> = eve.get_ok(&format!("/api/v1/chats/{id}/messages")).await;
    assert_eq!(seen.len(), 1);

    // The owner makes Moore an admin; an admin may add and remove members, not the owner.
    let detail: ChatDetail = expect(
        wolf.put_json(
            &format!("{members}/moore@localhost/role"),
            &json!({ "role": "admin" }),
        )
        .await,
        200,
    )
    .await;
    assert!(
        detail
            .members
            .iter()
            .any(|m| m.causeway_id.to_string() == "moore@localhost" && m.role == ChatRole::Admin)
    );
    refused(
        moore
            .put_json(
                &format!("{members}/eve@localhost/role"),
                &json!({ "role": "admin" }),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    expect::<ChatDetail>(
        moore
            .post_json(&members, &json!({ "members": ["bob@localhost"] }))
            .await,
        200,
    )
    .await;
    refused(
        moore.delete(&format!("{members}/wolf@localhost")).await,
        403,
        "forbidden",
    )
    .await;
    refused(
        eve.delete(&format!("{members}/bob@localhost")).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        moore
            .delete(&format!("{members}/bob@localhost"))
            .await
            .status(),
        204
    );
    refused(
        bob.get(&format!("/api/v1/chats/{id}")).await,
        404,
        "not_found",
    )
    .await;
    refused(
        moore.delete(&format!("{members}/bob@localhost")).await,
        404,
        "not_found",
    )
    .await;
    refused(
        moore.delete(&format!("{members}/not-an-id")).await,
        404,
        "not_found",
    )
    .await;

    // Eve leaves by herself.
    assert_eq!(
        eve.delete(&format!("{members}/eve@localhost"))
            .await
            .status(),
        204
    );
    refused(
        eve.get(&format!("/api/v1/chats/{id}")).await,
        404,
        "not_found",
    )
    .await;

    // The owner leaving hands the chat to the admin.
    assert_eq!(
        wolf.delete(&format!("{members}/wolf@localhost"))
            .await
            .status(),
        204
    );
    let detail: ChatDetail = moore.get_ok(&format!("/api/v1/chats/{id}")).await;
    assert_eq!(detail.my_role, ChatRole::Owner);
    assert_eq!(detail.members.len(), 1);

    // Everything above is in the log, in order.
    let events: Vec<ChatEvent> = moore
        .get_ok(&format!("/api/v1/chats/{id}/events?after=0&limit=200"))
        .await;
    let log: Vec<(&str, Option<String>)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.subject.as_ref().map(ToString::to_string)))
        .collect();
    assert_eq!(
        log,
        [
            ("created", None),
            ("member_added", Some("eve@localhost".to_owned())),
            ("message", None),
            ("role_changed", Some("moore@localhost".to_owned())),
            ("member_added", Some("bob@localhost".to_owned())),
            ("member_removed", Some("bob@localhost".to_owned())),
            ("member_left", Some("eve@localhost".to_owned())),
            ("role_changed", Some("moore@localhost".to_owned())),
            ("member_left", Some("wolf@localhost".to_owned())),
        ]
    );
    assert_eq!(events[3].role, Some(ChatRole::Admin));
    assert_eq!(events[7].role, Some(ChatRole::Owner));

    // A direct chat's members cannot change.
    let direct: ChatDetail = expect(
        wolf.post_json("/api/v1/chats/direct", &json!({ "with": "eve@localhost" }))
            .await,
        201,
    )
    .await;
    refused(
        wolf.post_json(
            &format!("/api/v1/chats/{}/members", direct.id),
            &json!({ "members": ["bob@localhost"] }),
        )
        .await,
        422,
        "invalid_input",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn the_panel_sets_the_message_limit() {
    let People {
        server,
        admin,
        wolf,
        ..
    } = people().await;
    let chat: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats/direct",
            &json!({ "with": "moore@localhost" }),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/api/v1/chats/{}/messages", chat.id);
    let settings = "/api/v1/admin/settings/chats";
    for bad in [
        json!({ "max_message_chars": 0, "edit_window_hours": 48 }),
        json!({ "max_message_chars": 100, "edit_window_hours": 0 }),
        json!({ "max_message_chars": 100 }),
    ] {
        let response = admin.put_json(settings, &bad).await;
        assert!(response.status().is_client_error(), "{bad}");
    }
    refused(
        wolf.put_json(
            settings,
            &json!({ "max_message_chars": 20, "edit_window_hours": 1 }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let saved: Value = expect(
        admin
            .put_json(
                settings,
                &json!({ "max_message_chars": 20, "edit_window_hours": 1 }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(saved["max_message_chars"], 20);
    say(&wolf, chat.id, "ok", &"x".repeat(20)).await;
    let message = refused(
        wolf.post_json(
            &path,
            &json!({ "client_id": "long", "body": "x".repeat(21) }),
        )
        .await,
        422,
        "invalid_input",
    )
    .await;
    assert!(message.contains("20 characters"), "{message}");
    let current: Value = admin.get_ok(settings).await;
    assert_eq!(current["edit_window_hours"], 1);
    server.stop().await;
}

/// Someone added to a chat sees nothing from before they joined: not in the
/// chat list's last message, not in history or search, not as a reply target.
async fn late_joiners_see_nothing_from_before(database: Option<String>) {
    let People {
        server,
        wolf,
        moore,
        eve,
        ..
    } = people_on(database).await;
    let chat: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats",
            &json!({ "title": "Before and after", "members": ["moore@localhost"] }),
        )
        .await,
        201,
    )
    .await;
    let secret = say(&wolf, chat.id, "s-1", "The secret plan").await;
    let response = wolf
        .post_json(
            &format!("/api/v1/chats/{}/members", chat.id),
            &json!({ "members": ["eve@localhost"] }),
        )
        .await;
    assert_eq!(response.status(), 200);

    let chats: Vec<ChatSummary> = eve.get_ok("/api/v1/chats").await;
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].last_message, None, "{:?}", chats[0]);
    assert_eq!(chats[0].unread, 0);
    let found: Vec<Message> = eve
        .get_ok(&format!("/api/v1/chats/{}/search?q=secret", chat.id))
        .await;
    assert!(found.is_empty(), "{found:?}");
    let history: Vec<Message> = eve
        .get_ok(&format!("/api/v1/chats/{}/messages", chat.id))
        .await;
    assert!(history.is_empty(), "{history:?}");
    let message = refused(
        eve.post_json(
            &format!("/api/v1/chats/{}/messages", chat.id),
            &json!({ "client_id": "r-1", "body": "What plan?", "reply_to": secret.seq }),
        )
        .await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(message, "The message replied to is not in this chat.");
    // Moore, there from the start, sees it all; and what Eve sees from now on counts.
    let found: Vec<Message> = moore
        .get_ok(&format!("/api/v1/chats/{}/search?q=secret", chat.id))
        .await;
    assert_eq!(found.len(), 1);
    say(&wolf, chat.id, "s-2", "Welcome, Eve").await;
    let chats: Vec<ChatSummary> = eve.get_ok("/api/v1/chats").await;
    let last = chats[0].last_message.as_ref().expect("the new message");
    assert_eq!(last.body, "Welcome, Eve");
    assert_eq!(chats[0].unread, 1);
    server.stop().await;
}

#[tokio::test]
async fn late_joiners_see_nothing_from_before_on_sqlite() {
    late_joiners_see_nothing_from_before(None).await;
}

#[tokio::test]
async fn late_joiners_see_nothing_from_before_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    late_joiners_see_nothing_from_before(Some(db.url.clone())).await;
    db.drop_now().await;
}

/// Deleting a user takes them out of every chat and every table, so a new
/// account with the same login starts empty; the others keep the history.
async fn a_deleted_user_leaves_nothing_to_inherit(database: Option<String>) {
    let server = TestServer::start_with(move |c| c.database.url = database).await;
    let admin = server.admin().await;
    let senders: Value = expect(
        admin
            .post_json(
                "/api/v1/admin/groups",
                &json!({ "name": "Senders", "rights": ["send_files"] }),
            )
            .await,
        201,
    )
    .await;
    let senders = senders["id"].as_i64().unwrap();
    let ann_id = add_user(&admin, "ann", "Ann", Some(senders)).await;
    add_user(&admin, "bob", "Bob", None).await;
    add_user(&admin, "carl", "Carl", None).await;
    let ann = people_client(&server, "ann").await;
    let bob = people_client(&server, "bob").await;

    let direct: ChatDetail = expect(
        ann.post_json("/api/v1/chats/direct", &json!({ "with": "bob@localhost" }))
            .await,
        201,
    )
    .await;
    say(&ann, direct.id, "a-1", "Hello Bob").await;
    say(&bob, direct.id, "b-1", "Hello Ann").await;
    let group: ChatDetail = expect(
        ann.post_json(
            "/api/v1/chats",
            &json!({ "title": "Plans", "members": ["bob@localhost", "carl@localhost"] }),
        )
        .await,
        201,
    )
    .await;
    let role = format!("/api/v1/chats/{}/members/carl@localhost/role", group.id);
    expect::<ChatDetail>(ann.put_json(&role, &json!({ "role": "admin" })).await, 200).await;
    say(&ann, group.id, "a-2", "The plan is ready").await;
    // An upload she never sent.
    let unsent: Value = expect(
        ann.http
            .post(format!(
                "{}/api/v1/chats/{}/files?name=draft.txt",
                ann.base, group.id
            ))
            .body("draft")
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let unsent = unsent["id"].as_i64().unwrap();
    assert!(
        server
            .state
            .store
            .file(server::storage::ChatId(group.id), unsent)
            .await
            .unwrap()
            .is_some()
    );

    let response = admin.delete(&format!("/api/v1/admin/users/{ann_id}")).await;
    assert_eq!(response.status(), 204);
    assert_eq!(ann.me().await.status(), 401, "her sessions are gone");
    assert!(
        server
            .state
            .store
            .file(server::storage::ChatId(group.id), unsent)
            .await
            .unwrap()
            .is_none(),
        "her unsent upload is gone"
    );

    // A new account with the same login inherits nothing.
    let new_id = add_user(&admin, "ann", "Ann Again", None).await;
    assert_ne!(new_id, ann_id);
    assert_eq!(
        ann.me().await.status(),
        401,
        "the old cookie does not open the new account"
    );
    let new_ann = people_client(&server, "ann").await;
    let chats: Vec<ChatSummary> = new_ann.get_ok("/api/v1/chats").await;
    assert!(chats.is_empty(), "her chat list is empty: {chats:?}");
    for chat in [direct.id, group.id] {
        refused(
            new_ann.get(&format!("/api/v1/chats/{chat}")).await,
            404,
            "not_found",
        )
        .await;
        refused(
            new_ann.get(&format!("/api/v1/chats/{chat}/messages")).await,
            404,
            "not_found",
        )
        .await;
    }
    let user: Value = new_ann.get_ok("/api/v1/me/account").await;
    let groups: Vec<&str> = user["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["Users without a group"], "no group memberships");
    assert!(
        server
            .state
            .store
            .chats_of("ann@localhost")
            .await
            .unwrap()
            .is_empty(),
        "she is a member nowhere"
    );

    // The group passed to its admin; the others saw her go and keep the history.
    let seen: ChatDetail = bob.get_ok(&format!("/api/v1/chats/{}", group.id)).await;
    let mut roles: Vec<(String, ChatRole)> = seen
        .members
        .iter()
        .map(|m| (m.causeway_id.to_string(), m.role))
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("bob@localhost".to_owned(), ChatRole::Member),
            ("carl@localhost".to_owned(), ChatRole::Owner)
        ]
    );
    let events: Vec<ChatEvent> = bob
        .get_ok(&format!("/api/v1/chats/{}/events?after=0", group.id))
        .await;
    assert!(
        events
            .iter()
            .any(|e| e.kind == app::types::EventKind::MemberLeft
                && e.subject.as_ref().map(ToString::to_string).as_deref() == Some("ann@localhost")),
        "{events:?}"
    );
    let history: Vec<Message> = bob
        .get_ok(&format!("/api/v1/chats/{}/messages", group.id))
        .await;
    assert!(
        history
            .iter()
            .any(|m| m.body == "The plan is ready" && m.sender.to_string() == "ann@localhost")
    );
    let history: Vec<Message> = bob
        .get_ok(&format!("/api/v1/chats/{}/messages", direct.id))
        .await;
    let said: Vec<(String, &str)> = history
        .iter()
        .map(|m| (m.sender.to_string(), m.body.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            ("ann@localhost".to_owned(), "Hello Bob"),
            ("bob@localhost".to_owned(), "Hello Ann")
        ]
    );
    let old_direct: ChatDetail = bob.get_ok(&format!("/api/v1/chats/{}", direct.id)).await;
    assert_eq!(old_direct.title, "Ann", "the old chat keeps her name");

    // A direct chat between the new Ann and Bob is a new one.
    let fresh: ChatDetail = expect(
        new_ann
            .post_json("/api/v1/chats/direct", &json!({ "with": "bob@localhost" }))
            .await,
        201,
    )
    .await;
    assert_ne!(fresh.id, direct.id);
    let history: Vec<Message> = new_ann
        .get_ok(&format!("/api/v1/chats/{}/messages", fresh.id))
        .await;
    assert!(history.is_empty());
    server.stop().await;
}

async fn people_client(server: &TestServer, login: &str) -> Client {
    server.sign_in(login, PASSWORD).await
}

#[tokio::test]
async fn a_deleted_user_leaves_nothing_to_inherit_on_sqlite() {
    a_deleted_user_leaves_nothing_to_inherit(None).await;
}

#[tokio::test]
async fn a_deleted_user_leaves_nothing_to_inherit_on_postgres() {
    let Some(db) = common::PgDatabase::create().await else {
        return;
    };
    a_deleted_user_leaves_nothing_to_inherit(Some(db.url.clone())).await;
    db.drop_now().await;
}

/// Never miss a message: unread mentions are counted apart, a mute is the
/// muter's alone, and a chat one is not in cannot be muted.
async fn mentions_and_mutes(database: Option<String>) {
    let People {
        server,
        wolf,
        moore,
        eve,
        ..
    } = people_on(database).await;
    let chat: ChatDetail = expect(
        wolf.post_json(
            "/api/v1/chats",
            &json!({ "title": "Plans", "members": ["moore@localhost"] }),
        )
        .await,
        201,
    )
    .await;
    let summary = |list: Vec<ChatSummary>| list.into_iter().find(|c| c.id == chat.id).unwrap();
    say(&wolf, chat.id, "m1", "morning all").await;
    say(&wolf, chat.id, "m2", "@moore@localhost can you look?").await;
    say(&wolf, chat.id, "m3", "thanks @moore@localhost!").await;
    // Not mentions of Moore: someone else, an address, a longer login.
    say(
        &wolf,
        chat.id,
        "m4",
        "mail moore@localhost or @moorea@localhost",
    )
    .await;
    let deleted = say(&wolf, chat.id, "m5", "@moore@localhost never mind").await;
    let response = wolf
        .delete(&format!(
            "/api/v1/chats/{}/messages/{}",
            chat.id, deleted.seq
        ))
        .await;
    assert_eq!(response.status(), 204);
    let mine = summary(moore.get_ok("/api/v1/chats").await);
    assert_eq!((mine.unread, mine.mentions, mine.muted), (4, 2, false));
    let wolfs = summary(wolf.get_ok("/api/v1/chats").await);
    assert_eq!(
        (wolfs.unread, wolfs.mentions),
        (0, 0),
        "one's own mentions do not count"
    );

    // Muted, for Moore alone.
    let muted: Value = expect(
        moore
            .put_json(
                &format!("/api/v1/chats/{}/mute", chat.id),
                &json!({ "muted": true }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(muted, json!({ "muted": true }));
    let mine = summary(moore.get_ok("/api/v1/chats").await);
    assert_eq!((mine.unread, mine.mentions, mine.muted), (4, 2, true));
    assert!(!summary(wolf.get_ok("/api/v1/chats").await).muted);

    // Reading clears the mentions with the rest.
    let last = say(&wolf, chat.id, "m6", "@moore@localhost one more").await;
    let mine = summary(moore.get_ok("/api/v1/chats").await);
    assert_eq!(mine.mentions, 3);
    expect::<ReadUpTo>(
        moore
            .put_json(
                &format!("/api/v1/chats/{}/read", chat.id),
                &json!({ "seq": last.seq }),
            )
            .await,
        200,
    )
    .await;
    let mine = summary(moore.get_ok("/api/v1/chats").await);
    assert_eq!((mine.unread, mine.mentions, mine.muted), (0, 0, true));

    // Someone not in the chat is told it does not exist; bad bodies change nothing.
    refused(
        eve.put_json(
            &format!("/api/v1/chats/{}/mute", chat.id),
            &json!({ "muted": true }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    for body in [
        json!({ "muted": "yes" }),
        json!({}),
        json!({ "muted": true, "x": 1 }),
    ] {
        let response = moore
            .put_json(&format!("/api/v1/chats/{}/mute", chat.id), &body)
            .await;
        assert_eq!(response.status().as_u16() / 100, 4, "{body}");
    }
    let unmuted: Value = expect(
        moore
            .put_json(
                &format!("/api/v1/chats/{}/mute", chat.id),
                &json!({ "muted": false }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(unmuted["muted"], false);
    assert!(!summary(moore.get_ok("/api/v1/chats").await).muted);
    server.stop().await;
}

#[tokio::test]
async fn mentions_and_mutes_on_sqlite() {
    mentions_and_mutes(None).await;
}

#[tokio::test]
async fn mentions_and_mutes_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    mentions_and_mutes(Some(db.url.clone())).await;
    db.drop_now().await;
}

/// Search across all of one's chats: only chats one is in, only what one could
/// see there, newest first, paged, with the chat and the sender named.
async fn searching_everywhere(database: Option<String>) {
    let People {
        server,
        wolf,
        moore,
        eve,
        ..
    } = people_on(database).await;
    let group = |title: &str, members: &[&str]| json!({ "title": title, "members": members.iter().map(|m| format!("{m}@localhost")).collect::<Vec<_>>() });
    let plans: ChatDetail = expect(
        wolf.post_json("/api/v1/chats", &group("Plans", &["moore"]))
            .await,
        201,
    )
    .await;
    let secret: ChatDetail = expect(
        moore
            .post_json("/api/v1/chats", &group("Secret", &["eve"]))
            .await,
        201,
    )
    .await;
    let direct: ChatDetail = expect(
        wolf.post_json("/api/v1/chats/direct", &json!({ "with": "eve@localhost" }))
            .await,
        201,
    )
    .await;
    say(&moore, plans.id, "s1", "The LAUNCH plan is ready").await;
    say(&wolf, plans.id, "s2", "lunch?").await;
    say(&moore, secret.id, "s3", "launch secret").await;
    say(&eve, direct.id, "s4", "launch date: Friday").await;
    // A file whose name matches, sent without text.
    let query = app::api::encode_query(&[("name", "Launch-deck.pdf".to_owned())]);
    let uploaded: Value = expect(
        wolf.http
            .post(format!(
                "{}/api/v1/chats/{}/files?{query}",
                wolf.base, plans.id
            ))
            .body(b"%PDF-1.4 deck".to_vec())
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    expect::<Message>(
        wolf.post_json(
            &format!("/api/v1/chats/{}/messages", plans.id),
            &json!({ "client_id": "s5", "body": "", "file": uploaded["id"] }),
        )
        .await,
        201,
    )
    .await;

    let found: SearchResults = wolf.get_ok("/api/v1/search?q=launch").await;
    let seen: Vec<(&str, &str, String)> = found
        .hits
        .iter()
        .map(|h| {
            let what = h
                .message
                .file
                .as_ref()
                .map_or_else(|| h.message.body.clone(), |f| f.name.clone());
            (h.chat_title.as_str(), h.sender_name.as_str(), what)
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("Plans", "Wolf", "Launch-deck.pdf".to_owned()),
            ("Eve", "Eve", "launch date: Friday".to_owned()),
            (
                "Plans",
                "Albert Moore",
                "The LAUNCH plan is ready".to_owned()
            ),
        ],
        "newest first; not the chat Wolf is not in; a direct chat titled with the other person"
    );
    assert_eq!(found.next, None);

    // Paged: one at a time gives the same, in the same order.
    let mut paged = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..5 {
        let mut path = "/api/v1/search?q=launch&limit=1".to_owned();
        if let Some(cursor) = &before {
            path.push_str(&format!("&before={cursor}"));
        }
        let page: SearchResults = wolf.get_ok(&path).await;
        paged.extend(page.hits.into_iter().map(|h| (h.chat_id, h.message.seq)));
        before = page.next;
        if before.is_none() {
            break;
        }
    }
    let all: Vec<(i64, i64)> = found
        .hits
        .iter()
        .map(|h| (h.chat_id, h.message.seq))
        .collect();
    assert_eq!(paged, all);

    // Eve, added to Plans now, does not find what was said there before.
    expect::<ChatDetail>(
        wolf.post_json(
            &format!("/api/v1/chats/{}/members", plans.id),
            &json!({ "members": ["eve@localhost"] }),
        )
        .await,
        200,
    )
    .await;
    let eves: SearchResults = eve.get_ok("/api/v1/search?q=launch").await;
    let chats: Vec<&str> = eves.hits.iter().map(|h| h.chat_title.as_str()).collect();
    assert_eq!(chats, ["Wolf", "Secret"]);

    // Bad input: a clear 4xx, never a 500.
    for path in [
        "/api/v1/search?q=",
        "/api/v1/search?q=%20%20",
        &format!("/api/v1/search?q={}", "x".repeat(101)),
        "/api/v1/search?q=a&before=garbage",
        "/api/v1/search?q=a&before=1.2",
        &format!("/api/v1/search?q=a&before={}", "9".repeat(80)),
        "/api/v1/search?q=a&limit=0",
        "/api/v1/search?q=a&limit=201",
    ] {
        refused(wolf.get(path).await, 422, "invalid_input").await;
    }
    assert_eq!(wolf.get("/api/v1/search").await.status(), 400, "no q");
    refused(
        server.client().get("/api/v1/search?q=launch").await,
        401,
        "unauthenticated",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn searching_everywhere_on_sqlite() {
    searching_everywhere(None).await;
}

#[tokio::test]
async fn searching_everywhere_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    searching_everywhere(Some(db.url.clone())).await;
    db.drop_now().await;
}
