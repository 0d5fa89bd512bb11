//! The chat core on its own: a real store (SQLite in a temporary folder), and
//! a `HostLink` that records what would go to a host and answers as told.
//! No HTTP, no second server.

use std::sync::{Arc, Mutex};

use app::types::{CausewayId, ChatKind, ChatRole, ErrorCode, Message, SendMessage, ServerName};

use super::*;
use crate::config::Config;
use crate::settings::Settings;
use crate::storage::{ReplicaChat, Store};

/// What the fake host was asked, and what it answers to a forwarded action.
#[derive(Default)]
struct FakeHost {
    forwarded: Mutex<Vec<(CausewayId, Action)>>,
    refuse: Option<(ErrorCode, &'static str)>,
}

#[async_trait::async_trait]
impl HostLink for FakeHost {
    async fn forward(
        &self,
        chat: &ChatRow,
        actor: &CausewayId,
        action: Action,
    ) -> Result<ActionDone, ChatError> {
        self.forwarded
            .lock()
            .unwrap()
            .push((actor.clone(), action.clone()));
        if let Some((code, message)) = self.refuse {
            return Err(ChatError::Refused {
                code,
                message: message.to_owned(),
            });
        }
        let message = match action {
            Action::Send {
                client_id, body, ..
            } => Some(Message {
                chat_id: chat.id.0,
                seq: 2,
                sender: actor.clone(),
                client_id,
                body,
                reply_to: None,
                created_at: 0,
                edited_at: None,
                deleted_at: None,
                file: None,
            }),
            _ => None,
        };
        Ok(ActionDone {
            message,
            repeated: false,
        })
    }

    async fn reachable(&self, _: &CausewayId, _: &CausewayId) -> Result<(), ChatError> {
        Ok(())
    }

    async fn open_direct(&self, _: &CausewayId, _: &CausewayId) -> Result<ChatRow, ChatError> {
        Err(ChatError::Unavailable("not in these tests".to_owned()))
    }
}

struct Nobody;

impl Presence for Nobody {
    fn is_online(&self, _: &str) -> bool {
        false
    }
}

struct Core {
    chats: ChatService,
    store: Store,
    host: Arc<FakeHost>,
    _dir: tempfile::TempDir,
}

async fn core(host: FakeHost) -> Core {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("core.db").display());
    let store = Store::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let config = Config::default();
    let settings = Settings::load(store.clone(), &config).await.unwrap();
    let host = Arc::new(host);
    let chats = ChatService::new(
        store.clone(),
        settings,
        config.server_name.clone(),
        EventBus::new(),
        host.clone(),
        Arc::new(Nobody),
    );
    Core {
        chats,
        store,
        host,
        _dir: dir,
    }
}

fn id(text: &str) -> CausewayId {
    text.parse().unwrap()
}

/// Ann of this server (`localhost`), as the chat core knows her.
fn ann() -> Actor {
    Actor::Local(UserId(1), id("ann@localhost"))
}

/// A copy here of a group chat hosted by `corp.example`, with Ann in it.
async fn copy(store: &Store) -> ChatId {
    let replica = ReplicaChat {
        host: "corp.example".to_owned(),
        host_chat_id: 40,
        kind: ChatKind::Group,
        title: "Launch".to_owned(),
        direct_key: None,
        created_by: "wolf@corp.example".to_owned(),
        created_at: 1,
        members: vec![
            ("wolf@corp.example".to_owned(), ChatRole::Owner, 1, 1),
            ("ann@localhost".to_owned(), ChatRole::Member, 1, 1),
        ],
        own_server: "localhost".to_owned(),
        events: Vec::new(),
    };
    store.apply_replica(&replica).await.unwrap().chat.id
}

fn send(body: &str) -> SendMessage {
    SendMessage {
        client_id: "c-1".to_owned(),
        body: body.to_owned(),
        reply_to: None,
        file: None,
    }
}

#[tokio::test]
async fn what_is_done_in_a_copy_goes_to_its_host_and_nothing_is_stored_here() {
    let core = core(FakeHost::default()).await;
    let chat = core.copy_id().await;
    let (message, created) = core.chats.send(&ann(), chat, send("hello")).await.unwrap();
    assert!(created);
    assert_eq!(message.body, "hello");
    let forwarded = core.host.forwarded.lock().unwrap().clone();
    assert_eq!(
        forwarded,
        [(
            id("ann@localhost"),
            Action::Send {
                client_id: "c-1".to_owned(),
                body: "hello".to_owned(),
                reply_to: None,
                file: None,
            }
        )]
    );
    // The message arrives with the host's update, not from here.
    assert!(
        core.store
            .events_after(chat, Seq(0), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_host_s_refusal_reaches_the_user_as_the_host_said_it() {
    let host = FakeHost {
        refuse: Some((ErrorCode::Forbidden, "Guests may not do that here.")),
        ..FakeHost::default()
    };
    let core = core(host).await;
    let chat = core.copy_id().await;
    let refused = core.chats.delete(&ann(), chat, Seq(2)).await.unwrap_err();
    match refused {
        ChatError::Refused { code, message } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert_eq!(message, "Guests may not do that here.");
        }
        other => panic!("expected the host's refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_user_of_another_server_never_acts_in_a_copy_here() {
    let core = core(FakeHost::default()).await;
    let chat = core.copy_id().await;
    // Wolf's own server reaches his host directly: through this server he
    // reaches nothing, not even by naming a chat he is in.
    let wolf = Actor::Remote(id("wolf@corp.example"));
    let refused = core
        .chats
        .act(
            &wolf,
            chat,
            Action::Send {
                client_id: "c-2".to_owned(),
                body: "relayed".to_owned(),
                reply_to: None,
                file: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, ChatError::Missing("chat")), "{refused:?}");
    assert!(core.host.forwarded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_change_hosted_here_is_published_once_committed_to_everyone_it_concerns() {
    let core = core(FakeHost::default()).await;
    let mut events = core.chats.events().follow();
    let guest = id("moore@guest.example");
    let detail = core
        .chats
        .create_group(&ann(), "Plans", vec![guest.clone()])
        .await
        .unwrap();
    let Event::Chat {
        chat_id,
        location,
        event,
        to,
    } = &*events.recv().await.unwrap()
    else {
        panic!("expected the chat's first event");
    };
    assert_eq!(chat_id.0, detail.id);
    assert_eq!(*location, ChatLocation::Hosted);
    assert_eq!(event.kind, app::types::EventKind::Created);
    let mut to = to.clone();
    to.sort();
    assert_eq!(to, ["ann@localhost", "moore@guest.example"]);
    // The guest's server has an outbox cursor from the first event on.
    let pending = core.store.destinations_pending().await.unwrap();
    assert_eq!(pending, ["guest.example"]);
}

#[tokio::test]
async fn people_to_add_are_all_checked_before_anyone_is_added() {
    let core = core(FakeHost::default()).await;
    let detail = core
        .chats
        .create_group(&ann(), "Plans", Vec::new())
        .await
        .unwrap();
    let people = vec![id("bob@localhost"), id("moore@guest.example")];
    // Bob has no account here: nobody is added, not even Moore.
    let refused = core
        .chats
        .add_members(&ann(), ChatId(detail.id), people)
        .await;
    assert!(matches!(refused, Err(ChatError::Invalid(_))), "{refused:?}");
    let members = core.store.chat_members(ChatId(detail.id)).await.unwrap();
    assert_eq!(members.len(), 1);
}

impl Core {
    async fn copy_id(&self) -> ChatId {
        copy(&self.store).await
    }
}

#[test]
fn the_host_of_a_direct_chat_is_the_name_that_sorts_first() {
    let corp = ServerName::parse("corp.example").unwrap();
    let guest = ServerName::parse("guest.example").unwrap();
    assert_eq!(direct_host(&corp, &guest), &corp);
    assert_eq!(direct_host(&guest, &corp), &corp);
}

fn unsent_file(message_seq: Option<i64>, created_at: i64) -> crate::storage::FileRow {
    crate::storage::FileRow {
        id: 1,
        chat_id: ChatId(1),
        sha256: "0".repeat(64),
        name: "a.txt".to_owned(),
        size: 1,
        media_type: "text/plain".to_owned(),
        uploaded_by: "wolf@corp".to_owned(),
        created_at,
        message_seq: message_seq.map(Seq),
        host_file_id: None,
    }
}

#[test]
fn an_upload_not_sent_within_a_day_expires() {
    let day = 24 * 3600 * 1000;
    let now = 10 * day;
    assert!(
        !expired_unsent(&unsent_file(None, now - day), now),
        "a day exactly"
    );
    assert!(expired_unsent(&unsent_file(None, now - day - 1), now));
    assert!(
        !expired_unsent(&unsent_file(Some(3), 0), now),
        "a sent file never expires"
    );
}
