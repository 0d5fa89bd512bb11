//! A send is acknowledged only once it is durably stored: the real `causeway`
//! binary is killed (SIGKILL, no shutdown of any kind) during a burst of
//! concurrent sends; after a restart on the same data every acknowledged message
//! is there exactly once with the number it was acknowledged with, the chat's
//! history has no gap, and resending what was not acknowledged is idempotent.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::types::{ChatDetail, ChatEvent, Message};
use serde_json::json;

use crate::common::PgDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_causeway");
const SENDERS: usize = 8;
const EACH: usize = 200;
/// Acknowledgements to wait for before the kill.
const KILL_AFTER: usize = 200;

/// One run of the binary.
struct Process {
    child: Child,
    base: String,
    /// Printed on the first start only.
    admin_password: Option<String>,
    /// Kept open so that nothing the server prints later meets a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

fn start(data: &std::path::Path, database_url: Option<&str>) -> Process {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAUSEWAY_DATA_DIR", data)
        .env("CAUSEWAY_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .current_dir(data)
        .stdout(Stdio::piped())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(data.join("server.log"))
                .unwrap(),
        );
    if let Some(url) = database_url {
        command.env("CAUSEWAY_DATABASE__URL", url);
    }
    let mut child = command.spawn().expect("the server starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut base, mut admin_password) = (None, None);
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let log = std::fs::read_to_string(data.join("server.log")).unwrap_or_default();
            panic!("the server stopped before it was ready:\n{log}");
        }
        if let Some((_, address)) = line.split_once("Listening on ") {
            base = Some(address.trim().to_owned());
        }
        if let Some(password) = line.trim().strip_prefix("Password: ") {
            admin_password = Some(password.to_owned());
        }
        if line.starts_with("Press Ctrl+C") {
            break;
        }
    }
    Process {
        child,
        base: base.expect("the banner names the address"),
        admin_password,
        _stdout: out,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn sign_in(base: &str, password: &str) -> reqwest::Client {
    let client = client();
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "login": "admin", "password": password, "remember_me": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the administrator signs in");
    client
}

/// Sends one message; its number once acknowledged, `None` when the server
/// did not acknowledge it (it was killed).
async fn send(client: &reqwest::Client, url: &str, client_id: &str) -> Option<(u16, i64)> {
    let response = client
        .post(url)
        .json(&json!({ "client_id": client_id, "body": format!("burst {client_id}") }))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.text().await.ok()?;
    assert!(
        status == 201 || status == 200,
        "a send is acknowledged with 201 or 200, got {status}: {body}"
    );
    let message: Message = serde_json::from_str(&body).expect("a message");
    assert_eq!(message.client_id, client_id);
    Some((status, message.seq))
}

/// Every event of the chat, in order.
async fn all_events(client: &reqwest::Client, base: &str, chat: i64) -> Vec<ChatEvent> {
    let mut events: Vec<ChatEvent> = Vec::new();
    loop {
        let after = events.last().map_or(0, |e| e.seq);
        let page: Vec<ChatEvent> = client
            .get(format!(
                "{base}/api/v1/chats/{chat}/events?after={after}&limit=200"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            return events;
        }
        events.extend(page);
    }
}

/// The chat's history must be complete: events 1..=last without a gap, and each
/// message's client id once. Returns client id → seq.
async fn check_history(client: &reqwest::Client, base: &str, chat: i64) -> HashMap<String, i64> {
    let events = all_events(client, base, chat).await;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "the history has no gap"
    );
    let mut stored = HashMap::new();
    for event in events
        .iter()
        .filter(|e| e.kind == app::types::EventKind::Message)
    {
        let message = event
            .message
            .as_ref()
            .expect("a message event has its message");
        assert_eq!(message.seq, event.seq);
        assert!(
            stored
                .insert(message.client_id.clone(), message.seq)
                .is_none(),
            "{} is stored twice",
            message.client_id
        );
    }
    stored
}

async fn burst_survives_a_kill(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), database_url);
    let password = server.admin_password.clone().expect("first start");
    let admin = sign_in(&server.base, &password).await;
    let response = admin
        .post(format!("{}/api/v1/chats", server.base))
        .json(&json!({ "title": "Burst" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let chat: ChatDetail = response.json().await.unwrap();
    let url = format!("{}/api/v1/chats/{}/messages", server.base, chat.id);

    // The burst: each sender sends its messages one after another and stops at
    // the first send that is not acknowledged.
    let acked: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let (admin, url, acked) = (admin.clone(), url.clone(), acked.clone());
        senders.push(tokio::spawn(async move {
            for i in 0..EACH {
                let client_id = format!("s{sender}-{i}");
                match send(&admin, &url, &client_id).await {
                    Some((status, seq)) => {
                        assert_eq!(status, 201, "{client_id} is new");
                        acked.lock().unwrap().push((client_id, seq));
                    }
                    None => return,
                }
            }
        }));
    }
    let waited = Instant::now();
    while acked.lock().unwrap().len() < KILL_AFTER {
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "the burst never got going"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.child.kill().expect("SIGKILL"); // `Child::kill` is SIGKILL on Unix.
    server.child.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.len() < SENDERS * EACH,
        "the kill came during the burst ({} of {} acknowledged)",
        acked.len(),
        SENDERS * EACH
    );

    // After a restart on the same data: every acknowledged message, once, with
    // its number; nothing missing in between.
    let mut server = start(dir.path(), database_url);
    assert!(server.admin_password.is_none(), "the same database again");
    let admin = sign_in(&server.base, &password).await;
    let stored = check_history(&admin, &server.base, chat.id).await;
    for (client_id, seq) in &acked {
        assert_eq!(
            stored.get(client_id),
            Some(seq),
            "acknowledged {client_id} is stored as {seq}"
        );
    }

    // Sending everything again: what is stored (acknowledged or not) answers 200
    // with its number; the rest is stored now, once.
    let url = format!("{}/api/v1/chats/{}/messages", server.base, chat.id);
    let mut resent = HashMap::new();
    for sender in 0..SENDERS {
        for i in 0..EACH {
            let client_id = format!("s{sender}-{i}");
            let (status, seq) = send(&admin, &url, &client_id)
                .await
                .expect("the restarted server acknowledges");
            match stored.get(&client_id) {
                Some(first) => {
                    assert_eq!((status, seq), (200, *first), "{client_id} again")
                }
                None => assert_eq!(status, 201, "{client_id} was not stored before"),
            }
            resent.insert(client_id, seq);
        }
    }
    eprintln!(
        "killed after {} acknowledgements; {} messages were stored in all, {} of them unacknowledged",
        acked.len(),
        stored.len(),
        stored.len() - acked.len()
    );
    let after = check_history(&admin, &server.base, chat.id).await;
    assert_eq!(after, resent, "every message once, as acknowledged");
    assert_eq!(after.len(), SENDERS * EACH);

    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_sends_survive_sigkill_on_sqlite() {
    burst_survives_a_kill(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_sends_survive_sigkill_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    burst_survives_a_kill(Some(&db.url)).await;
    db.drop_now().await;
}
