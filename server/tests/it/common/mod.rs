//! Test harness: real servers on `127.0.0.1:0`, each with its own data folder and
//! database, driven over HTTP; and throw-away PostgreSQL databases.

use std::net::SocketAddr;

use app::types::{CurrentUser, LoginRequest};
use server::config::Config;
use server::http::AppState;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A browser tab's WebSocket to `/api/v1/events`.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/api/v1/events` with the session cookie `cookie` (`causeway_session=…`).
pub async fn open_socket(server: &TestServer, cookie: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/api/v1/events", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
}

/// The next push on `socket`, or a failure after `within`.
pub async fn next_push(socket: &mut Socket, within: std::time::Duration) -> app::types::Push {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(within, socket.next())
            .await
            .expect("a push in time")
            .expect("the socket is open")
            .expect("a frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            return serde_json::from_str(&text).expect("a Push");
        }
    }
}

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub admin_password: String,
    pub state: AppState,
    pub config: Config,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A server stopped with its data kept, to be started again on the same address.
pub struct StoppedServer {
    config: Config,
    admin_password: String,
    dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server on SQLite in a fresh folder; `adjust` may change the config.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        };
        adjust(&mut config);
        Self::run(config, dir, None).await
    }

    async fn run(
        mut config: Config,
        dir: tempfile::TempDir,
        admin_password: Option<String>,
    ) -> Self {
        // `TEST_LOG=server=debug cargo test …` shows the servers' logs.
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let listener = TcpListener::bind(config.listen).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        config.listen = addr;
        let prepared = server::server::prepare(config.clone())
            .await
            .expect("server prepares");
        let admin_password = admin_password.unwrap_or_else(|| {
            prepared
                .first_admin
                .as_ref()
                .expect("a first start creates an administrator")
                .password
                .clone()
        });
        let state = prepared.state.clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                server::server::serve(prepared.state, listener, shutdown)
                    .await
                    .expect("server runs");
            }
        });
        Self {
            base: format!("http://{addr}"),
            addr,
            admin_password,
            state,
            config,
            shutdown,
            handle: Some(handle),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with its own cookie jar (one browser), not following redirects.
    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Signs in as the first administrator and returns the signed-in client.
    pub async fn admin(&self) -> Client {
        let client = self.client();
        let response = client.login("admin", &self.admin_password, false).await;
        assert_eq!(response.status(), 200, "the administrator signs in");
        client
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.expect("server task ends cleanly");
        }
    }

    /// Stops the server and keeps its data folder, to start it again.
    pub async fn stop_keeping_data(mut self) -> StoppedServer {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.expect("server task ends cleanly");
        }
        StoppedServer {
            config: self.config,
            admin_password: self.admin_password,
            dir: self._dir,
        }
    }
}

impl StoppedServer {
    /// Starts the server again on the same address, with the same data.
    pub async fn start(self) -> TestServer {
        TestServer::run(self.config, self.dir, Some(self.admin_password)).await
    }
}

/// The API as a client program sees it.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

/// The session id a sign-in response sets (the `causeway_session` cookie's value).
pub fn session_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("causeway_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

impl Client {
    pub async fn login(&self, login: &str, password: &str, remember_me: bool) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&LoginRequest {
                login: login.to_owned(),
                password: password.to_owned(),
                remember_me,
            })
            .send()
            .await
            .unwrap()
    }

    pub async fn me(&self) -> reqwest::Response {
        self.get("/api/v1/me").await
    }

    pub async fn me_ok(&self) -> CurrentUser {
        let response = self.me().await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn logout(&self) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/auth/logout", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Any method, with a JSON body when one is given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let request = self.http.request(method, format!("{}{path}", self.base));
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        request.send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// `GET path`, which must answer 200, read as `T`.
    pub async fn get_ok<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self.get(path).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
    }
}

impl TestServer {
    /// Signs in as `login` and returns the signed-in client.
    pub async fn sign_in(&self, login: &str, password: &str) -> Client {
        let client = self.client();
        let response = client.login(login, password, false).await;
        assert_eq!(response.status(), 200, "{login} signs in");
        client
    }
}

/// Reads an API error body and returns its `(code, message)`.
pub async fn error_of(response: reqwest::Response) -> (String, String) {
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    (
        body["error"]["code"]
            .as_str()
            .expect("an error code")
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .expect("an error message")
            .to_owned(),
    )
}

/// A PostgreSQL database made for one test and dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

fn pg_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl PgDatabase {
    /// Creates a fresh database, or returns `None` when no PostgreSQL server is
    /// reachable — which fails the test under CI (`CI=true`), where it must run.
    pub async fn create() -> Option<Self> {
        use sqlx::Connection;
        let admin_url = pg_admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(error) => {
                if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                    panic!(
                        "PostgreSQL is required under CI but {admin_url} is unreachable: {error}"
                    );
                }
                eprintln!("SKIPPED: PostgreSQL at {admin_url} is unreachable ({error})");
                return None;
            }
        };
        let name = format!(
            "causeway_test_{}_{}",
            std::process::id(),
            rand::random::<u32>()
        );
        sqlx::query(&format!("create database {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        conn.close().await.ok();
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEST_POSTGRES_URL must end with /database"),
        };
        Some(Self {
            url,
            admin_url,
            name,
        })
    }

    pub async fn drop_now(self) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("connect to drop the test database");
        sqlx::query(&format!(
            "drop database if exists {} with (force)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .expect("drop the test database");
        conn.close().await.ok();
    }
}
