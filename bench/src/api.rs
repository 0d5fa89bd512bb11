//! The parts of Causeway's HTTP API and WebSocket the benchmark drives, the way a
//! client program does: cookie sessions, JSON over HTTP, pushes over
//! `/api/v1/events`.

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub const PASSWORD: &str = "bench password 1234";
/// No single request or frame of the benchmark may take longer than this.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A signed-in person: their HTTP client (one browser) and session cookie.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub http: reqwest::Client,
    pub cookie: String,
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .timeout(TIMEOUT)
        .pool_max_idle_per_host(64)
        .build()?)
}

pub async fn sign_in(
    base: &str,
    server_name: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<User> {
    let http = client()?;
    let response = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "login": login, "password": password, "remember_me": true }))
        .send()
        .await?;
    if response.status() != 200 {
        bail!("{login} cannot sign in: {}", response.text().await?);
    }
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("causeway_session="))
        .and_then(|v| v.split(';').next())
        .context("a session cookie")?
        .to_owned();
    Ok(User {
        id: format!("{login}@{server_name}"),
        http,
        cookie,
    })
}

/// The administrator creates a user with the benchmark's password.
pub async fn create_user(admin: &User, base: &str, login: &str) -> anyhow::Result<()> {
    let response = admin
        .http
        .post(format!("{base}/api/v1/admin/users"))
        .json(
            &json!({ "login": login, "password": PASSWORD, "profile": { "display_name": login } }),
        )
        .send()
        .await?;
    if response.status() != 201 {
        bail!("creating {login}: {}", response.text().await?);
    }
    Ok(())
}

/// A group chat of `owner` with `members`; its id.
pub async fn create_chat(
    owner: &User,
    base: &str,
    title: &str,
    members: &[String],
) -> anyhow::Result<i64> {
    let response = owner
        .http
        .post(format!("{base}/api/v1/chats"))
        .json(&json!({ "title": title, "members": members }))
        .send()
        .await?;
    if response.status() != 201 {
        bail!("creating chat {title}: {}", response.text().await?);
    }
    let chat: Value = response.json().await?;
    chat["id"].as_i64().context("the chat's id")
}

/// The chat's latest sequence number.
pub async fn last_seq(user: &User, base: &str, chat: i64) -> anyhow::Result<i64> {
    let chat: Value = user
        .http
        .get(format!("{base}/api/v1/chats/{chat}"))
        .send()
        .await?
        .json()
        .await?;
    chat["last_seq"].as_i64().context("the chat's last_seq")
}

/// Sends a message and waits for its acknowledgement (201: stored).
pub async fn send(user: &User, url: &str, client_id: &str) -> anyhow::Result<()> {
    let response = user
        .http
        .post(url)
        .json(&json!({ "client_id": client_id, "body": format!("Benchmark message {client_id}") }))
        .send()
        .await?;
    let status = response.status();
    if status != 201 {
        bail!("send {client_id}: {status} {}", response.text().await?);
    }
    // The body is the stored message; read it, as a client would.
    response.bytes().await?;
    Ok(())
}

pub fn messages_url(base: &str, chat: i64) -> String {
    format!("{base}/api/v1/chats/{chat}/messages")
}

/// Opens `/api/v1/events` with the user's session and waits for `ready`.
pub async fn connect(addr: &str, cookie: &str) -> anyhow::Result<Socket> {
    let mut request = format!("ws://{addr}/api/v1/events").into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    // A small read buffer: tungstenite zeroes the whole buffer before every
    // read, 128 KiB by default, which with 1,000 sockets on two cores made the
    // client, not the server, the slow side of the fan-out.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) = tokio::time::timeout(
        TIMEOUT,
        tokio_tungstenite::connect_async_with_config(request, Some(config), true),
    )
    .await
    .context("connecting the WebSocket timed out")??;
    let first = next_text(&mut socket).await?;
    if !first.contains(r#""type":"ready""#) {
        bail!("the first frame is not ready: {first}");
    }
    Ok(socket)
}

/// The next text frame.
pub async fn next_text(socket: &mut Socket) -> anyhow::Result<String> {
    loop {
        let frame = tokio::time::timeout(TIMEOUT, socket.next())
            .await
            .context("no frame in time")?
            .context("the socket closed")??;
        match frame {
            Ws::Text(text) => return Ok(text.as_str().to_owned()),
            Ws::Close(close) => bail!("the server closed the socket: {close:?}"),
            _ => {}
        }
    }
}

/// The `client_id` of the message a push carries, if it carries one. A plain
/// search rather than a parse: the fan-out's clients are 1,000 sockets on the
/// same two cores as the server.
pub fn pushed_client_id(frame: &str) -> Option<&str> {
    let start = frame.find(r#""client_id":""#)? + r#""client_id":""#.len();
    let len = frame[start..].find('"')?;
    Some(&frame[start..start + len])
}

pub async fn close(mut socket: Socket) {
    let _ = socket.send(Ws::Close(None)).await;
}
