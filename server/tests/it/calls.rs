//! A call's signalling over the tab's socket (`/api/v1/events`): an offer in,
//! the forwarding unit's answer out, the unit's own offers when tracks come,
//! and the rights the server decides (issue 14): members only, starting a group
//! conference needs *Create group conferences*, joining one that runs does not;
//! malformed descriptions, doubled joins and oversized frames are refused.

use std::time::{Duration, Instant};

use app::types::{CallState, ChatDetail, ChatSummary, ClientFrame, ErrorCode, Push};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use server::media::RoomId;
use str0m::Rtc;
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::common::{self, Client, Socket, TestServer};

const PASSWORD: &str = "correct horse battery";

async fn person(admin: &Client, login: &str, groups: &[i64]) {
    let response = admin
        .post_json(
            "/api/v1/admin/users",
            &json!({ "login": login, "password": PASSWORD,
                     "profile": { "display_name": login }, "group_ids": groups }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// Signs in and opens the socket (its `ready` read).
async fn tab(server: &TestServer, login: &str) -> (Client, Socket) {
    let client = server.client();
    let response = client.login(login, PASSWORD, false).await;
    assert_eq!(response.status(), 200);
    let cookie = format!("causeway_session={}", common::session_id(&response));
    let mut socket = common::open_socket(server, &cookie).await;
    assert!(matches!(next(&mut socket).await, Push::Ready { .. }));
    (client, socket)
}

/// The next push that is about calls (presence and the like are skipped).
async fn next_call(socket: &mut Socket) -> Push {
    loop {
        let push = next(socket).await;
        if matches!(
            push,
            Push::CallAnswer { .. } | Push::CallOffer { .. } | Push::CallRefused { .. }
        ) {
            return push;
        }
    }
}

async fn next(socket: &mut Socket) -> Push {
    common::next_push(socket, Duration::from_secs(5)).await
}

async fn send(socket: &mut Socket, frame: &ClientFrame) {
    let text = serde_json::to_string(frame).unwrap();
    socket.send(Ws::Text(text.into())).await.unwrap();
}

/// A browser-like offer: one audio track to send.
fn offer() -> String {
    let mut rtc = Rtc::builder().build(Instant::now());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    change.apply().unwrap().0.to_sdp_string()
}

/// Joins the call of `chat_id`; the answer's SDP.
async fn join(socket: &mut Socket, chat_id: i64) -> Result<String, (ErrorCode, String)> {
    send(
        socket,
        &ClientFrame::CallOffer {
            chat_id,
            sdp: offer(),
        },
    )
    .await;
    match next_call(socket).await {
        Push::CallAnswer {
            chat_id: c, sdp, ..
        } if c == chat_id => Ok(sdp),
        Push::CallRefused { code, message, .. } => Err((code, message)),
        other => panic!("{other:?}"),
    }
}

async fn count(server: &TestServer, chat_id: i64) -> usize {
    server.state.media.count(RoomId(chat_id)).await.unwrap()
}

#[tokio::test]
async fn a_call_is_signalled_over_the_socket_and_its_rights_are_the_servers() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let hosts: Value = admin
        .post_json(
            "/api/v1/admin/groups",
            &json!({ "name": "Hosts", "rights": ["create_group_conferences"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let hosts = hosts["id"].as_i64().unwrap();
    person(&admin, "ann", &[hosts]).await;
    person(&admin, "ben", &[]).await;
    person(&admin, "cy", &[]).await;
    let (ann_api, mut ann) = tab(&server, "ann").await;
    let (_, mut ben) = tab(&server, "ben").await;
    let (_, mut cy) = tab(&server, "cy").await;
    let server_name = server.config.server_name.to_string();
    let direct: ChatDetail = ann_api
        .post_json(
            "/api/v1/chats/direct",
            &json!({ "with": format!("ben@{server_name}") }),
        )
        .await
        .json()
        .await
        .unwrap();
    let group: ChatDetail = ann_api
        .post_json(
            "/api/v1/chats",
            &json!({ "title": "Plans", "members": [format!("ben@{server_name}"), format!("cy@{server_name}")] }),
        )
        .await
        .json()
        .await
        .unwrap();

    // A direct call: Ann's offer gets the unit's answer; Ben joins, and Ann's
    // side gets the unit's offer of Ben's track, which she answers.
    let answer = join(&mut ann, direct.id).await.unwrap();
    assert!(SdpAnswer::from_sdp_string(&answer).is_ok(), "{answer}");
    join(&mut ben, direct.id).await.unwrap();
    assert_eq!(count(&server, direct.id).await, 2);
    // (The unit offers Ben's track once his connection has sent one: here it
    // never does, so no offer comes; the media tests cover that path.)

    // Someone not in the chat is refused as if there were no chat.
    let (code, _) = join(&mut cy, direct.id).await.unwrap_err();
    assert_eq!(code, ErrorCode::NotFound);

    // A group conference: Ben may not start it; Ann may; then Ben may join.
    let (code, message) = join(&mut ben, group.id).await.unwrap_err();
    assert_eq!(code, ErrorCode::Forbidden, "{message}");
    assert!(message.contains("Create group conferences"), "{message}");
    assert_eq!(count(&server, group.id).await, 0);
    join(&mut ann, group.id).await.unwrap();
    join(&mut cy, group.id).await.unwrap();
    assert_eq!(count(&server, group.id).await, 2);

    // Bad frames: a description that does not parse, joining twice, a third
    // call, an answer with no call; none changes the rooms.
    send(
        &mut ben,
        &ClientFrame::CallOffer {
            chat_id: group.id,
            sdp: "v=0 nonsense".into(),
        },
    )
    .await;
    assert!(matches!(
        next_call(&mut ben).await,
        Push::CallRefused {
            code: ErrorCode::InvalidInput,
            ..
        }
    ));
    let (code, _) = join(&mut ann, group.id).await.unwrap_err();
    assert_eq!(code, ErrorCode::Conflict);
    let third: ChatDetail = ann_api
        .post_json(
            "/api/v1/chats",
            &json!({ "title": "Third", "members": [format!("ben@{server_name}")] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let (code, message) = join(&mut ann, third.id).await.unwrap_err();
    assert_eq!(code, ErrorCode::InvalidInput, "{message}");
    send(
        &mut cy,
        &ClientFrame::CallAnswer {
            chat_id: direct.id,
            sdp: answer.clone(),
        },
    )
    .await;
    assert!(matches!(
        next_call(&mut cy).await,
        Push::CallRefused {
            code: ErrorCode::InvalidInput,
            ..
        }
    ));
    assert_eq!(
        (
            count(&server, direct.id).await,
            count(&server, group.id).await
        ),
        (2, 2)
    );

    // Leaving: by a frame, and by closing the tab.
    send(&mut ann, &ClientFrame::CallLeave { chat_id: group.id }).await;
    drop(cy);
    let limit = Instant::now() + Duration::from_secs(5);
    while count(&server, group.id).await != 0 {
        assert!(Instant::now() < limit, "the conference empties");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A frame larger than a tab may send closes its socket.
    ben.send(Ws::Text("x".repeat(40 * 1024).into()))
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ben.next().await {
                None | Some(Err(_)) | Some(Ok(Ws::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the oversized frame ends the socket");
    let limit = Instant::now() + Duration::from_secs(5);
    while count(&server, direct.id).await != 1 {
        assert!(
            Instant::now() < limit,
            "Ben's part of the direct call ends with his socket"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

/// The next roster push for `chat_id` (other pushes are skipped).
async fn next_roster(socket: &mut Socket, chat_id: i64) -> Option<CallState> {
    loop {
        if let Push::Call { chat_id: c, call } = next(socket).await
            && c == chat_id
        {
            return call;
        }
    }
}

fn logins(call: &CallState) -> Vec<String> {
    call.people
        .iter()
        .map(|p| p.member.login.to_string())
        .collect()
}

#[tokio::test]
async fn every_member_sees_who_is_in_a_call_and_a_direct_call_rings_until_declined() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    person(&admin, "ann", &[]).await;
    person(&admin, "ben", &[]).await;
    person(&admin, "cy", &[]).await;
    let (ann_api, mut ann) = tab(&server, "ann").await;
    let (ben_api, mut ben) = tab(&server, "ben").await;
    let (_, mut cy) = tab(&server, "cy").await;
    let server_name = server.config.server_name.to_string();
    let direct: ChatDetail = ann_api
        .post_json(
            "/api/v1/chats/direct",
            &json!({ "with": format!("ben@{server_name}") }),
        )
        .await
        .json()
        .await
        .unwrap();
    let with_cy: ChatDetail = ann_api
        .post_json(
            "/api/v1/chats/direct",
            &json!({ "with": format!("cy@{server_name}") }),
        )
        .await
        .json()
        .await
        .unwrap();

    // Ann calls: both see her in it; the answer names the stream her tracks
    // come down in, and the roster pairs it with her.
    send(
        &mut ann,
        &ClientFrame::CallOffer {
            chat_id: direct.id,
            sdp: offer(),
        },
    )
    .await;
    let Push::CallAnswer { stream, .. } = next_call(&mut ann).await else {
        panic!("Ann is in the call");
    };
    let ringing = next_roster(&mut ben, direct.id).await.expect("it runs");
    assert_eq!(logins(&ringing), ["ann"]);
    assert_eq!(ringing.people[0].stream, stream);
    assert_eq!(ringing.started_by.login.to_string(), "ann");

    // The chat list shows it running, to Ben who is not in it yet.
    let list: Vec<ChatSummary> = ben_api.get("/api/v1/chats").await.json().await.unwrap();
    let row = list.iter().find(|c| c.id == direct.id).unwrap();
    assert_eq!(row.call.as_ref().map(logins), Some(vec!["ann".to_owned()]));

    // Declining: refused in a chat one is not in (as if there were none), in
    // a chat where nothing rings, and to the caller herself; Ben's decline
    // reaches Ann.
    send(&mut cy, &ClientFrame::CallDecline { chat_id: direct.id }).await;
    assert!(matches!(
        next_call(&mut cy).await,
        Push::CallRefused {
            code: ErrorCode::NotFound,
            ..
        }
    ));
    send(
        &mut cy,
        &ClientFrame::CallDecline {
            chat_id: with_cy.id,
        },
    )
    .await;
    assert!(matches!(
        next_call(&mut cy).await,
        Push::CallRefused {
            code: ErrorCode::InvalidInput,
            ..
        }
    ));
    send(&mut ann, &ClientFrame::CallDecline { chat_id: direct.id }).await;
    assert!(matches!(
        next_call(&mut ann).await,
        Push::CallRefused {
            code: ErrorCode::InvalidInput,
            ..
        }
    ));
    send(&mut ben, &ClientFrame::CallDecline { chat_id: direct.id }).await;
    let declined = loop {
        if let Push::CallDeclined { chat_id, member } = next(&mut ann).await {
            break (chat_id, member.login.to_string());
        }
    };
    assert_eq!(declined, (direct.id, "ben".to_owned()));

    // Ben changes his mind and joins: both see two people.
    join(&mut ben, direct.id).await.unwrap();
    let both = next_roster(&mut ann, direct.id).await.unwrap();
    assert_eq!(logins(&both), ["ann", "ben"]);
    assert_eq!(both.headcount(), 2);

    // Ann's tab disappears without hanging up: Ben sees her gone; when he
    // leaves, the call has ended.
    drop(ann);
    loop {
        match next(&mut ben).await {
            Push::Call {
                chat_id,
                call: Some(call),
            } if chat_id == direct.id && logins(&call) == ["ben"] => {
                break;
            }
            Push::CallLeft { .. } => panic!("a tab that went away did not hang up"),
            _ => {}
        }
    }
    // Hanging up is told as such (the other side of a direct call ends it).
    send(&mut ben, &ClientFrame::CallLeave { chat_id: direct.id }).await;
    let (mut hung_up, mut ended) = (None, false);
    while hung_up.is_none() || !ended {
        match next(&mut ben).await {
            Push::CallLeft { chat_id, member } => {
                hung_up = Some((chat_id, member.login.to_string()));
            }
            Push::Call { chat_id, call } if chat_id == direct.id => ended = call.is_none(),
            _ => {}
        }
    }
    assert_eq!(hung_up, Some((direct.id, "ben".to_owned())));
    let list: Vec<ChatSummary> = ben_api.get("/api/v1/chats").await.json().await.unwrap();
    assert!(list.iter().all(|c| c.call.is_none()), "{list:?}");

    // Cy, in no chat with a call, heard of none: the first push he gets
    // after all this is Ann's typing in their chat, not a roster.
    let (_, mut ann) = tab(&server, "ann").await;
    send(
        &mut ann,
        &ClientFrame::Typing {
            chat_id: with_cy.id,
        },
    )
    .await;
    loop {
        match next(&mut cy).await {
            Push::Typing { chat_id, .. } if chat_id == with_cy.id => break,
            Push::Call { .. } | Push::CallDeclined { .. } => panic!("Cy heard of a call"),
            _ => {}
        }
    }
    server.stop().await;
}
