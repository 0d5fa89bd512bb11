//! Sign-in, sessions, pages and the error shape, through real HTTP against a real
//! server on an ephemeral port.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

use crate::common::{PgDatabase, TestServer, error_of};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("causeway_session="))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn health_and_metrics() {
    let server = TestServer::start().await;
    let client = server.client();
    let health = client.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    let metrics = client.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("causeway_build_info"), "{text}");
    assert!(
        text.contains(
            r#"causeway_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "the health check was counted by route: {text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn administrator_signs_in_and_out() {
    let server = TestServer::start().await;
    let client = server.client();

    let response = client.login("admin", &server.admin_password, false).await;
    assert_eq!(response.status(), 200);
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Max-Age"),
        "without Remember me it is a browser session: {cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP serves no Secure cookie: {cookie}"
    );
    let user: app::types::CurrentUser = response.json().await.unwrap();
    assert_eq!(user.causeway_id.to_string(), "admin@localhost");
    assert_eq!(user.display_name, "Administrator");
    assert!(user.is_admin);

    let me = client.me_ok().await;
    assert_eq!(me, user);
    let stored = server
        .state
        .store
        .user_by_login("admin")
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.last_login_at.is_some(),
        "the sign-in time is recorded"
    );

    let response = client.logout().await;
    assert_eq!(response.status(), 204);
    let response = client.me().await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await.0, "unauthenticated");

    // The old cookie, replayed by someone who kept it, is dead too.
    let replay = server.client();
    let response = replay
        .http
        .get(server.url("/api/v1/me"))
        .header("cookie", cookie_value(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn remember_me_makes_a_lasting_cookie() {
    let server = TestServer::start().await;
    let client = server.client();
    let response = client.login("admin", &server.admin_password, true).await;
    assert_eq!(response.status(), 200);
    let cookie = session_cookie(&response).unwrap();
    let max_age = cookie
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Max-Age="))
        .expect("Remember me sets Max-Age");
    assert_eq!(max_age.parse::<i64>().unwrap(), 30 * 86_400);
    server.stop().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let server = TestServer::start().await;
    let client = server.client();

    let wrong = client.login("admin", "not the password", false).await;
    assert_eq!(wrong.status(), 401);
    assert!(
        session_cookie(&wrong).is_none(),
        "a failed sign-in stores no session"
    );
    let wrong = error_of(wrong).await;

    let unknown = client.login("nobody", "not the password", false).await;
    assert_eq!(unknown.status(), 401);
    let unknown = error_of(unknown).await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.0, "invalid_credentials");
    assert_eq!(wrong.1, "The login or password is incorrect.");

    let malformed = client.login("Not A Login!", "x", false).await;
    assert_eq!(malformed.status(), 401);
    assert_eq!(error_of(malformed).await, wrong);

    assert_eq!(client.me().await.status(), 401);
    let text = client.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(r#"causeway_sign_ins_total{outcome="Failure"} 3"#),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn sign_in_with_a_causeway_id() {
    let server = TestServer::start_with(|c| c.server_name = "corp.example".parse().unwrap()).await;
    let client = server.client();
    let own = client
        .login(" Admin@Corp.Example ", &server.admin_password, false)
        .await;
    assert_eq!(
        own.status(),
        200,
        "own Causeway ID, any case, spaces trimmed"
    );

    let other = server
        .client()
        .login("admin@guest.example", &server.admin_password, false)
        .await;
    assert_eq!(other.status(), 401);
    let (code, message) = error_of(other).await;
    assert_eq!(code, "invalid_credentials");
    assert!(
        message.contains("guest.example") && message.contains("corp.example"),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let server = TestServer::start().await;
    let client = server.client();
    let first = client.login("admin", &server.admin_password, false).await;
    let first = cookie_value(&session_cookie(&first).unwrap());
    let second = client.login("admin", &server.admin_password, false).await;
    let second = cookie_value(&session_cookie(&second).unwrap());
    assert_ne!(first, second, "signing in issues a new session id");
    assert_eq!(client.me().await.status(), 200);

    let stale = server
        .client()
        .http
        .get(server.url("/api/v1/me"))
        .header("cookie", first)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401, "the id from before is no longer valid");
    server.stop().await;
}

#[tokio::test]
async fn deactivated_users_cannot_sign_in_and_lose_their_session() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let admin = server
        .state
        .store
        .user_by_login("admin")
        .await
        .unwrap()
        .unwrap();

    server
        .state
        .store
        .set_user_active(admin.id, false)
        .await
        .unwrap();
    let response = client.me().await;
    assert_eq!(response.status(), 401, "the open session ends at once");

    let response = server
        .client()
        .login("admin", &server.admin_password, false)
        .await;
    assert_eq!(response.status(), 403);
    let (code, message) = error_of(response).await;
    assert_eq!(code, "account_disabled");
    assert!(message.contains("deactivated"));

    let response = server
        .client()
        .login("admin", "wrong password", false)
        .await;
    assert_eq!(
        error_of(response).await.0,
        "invalid_credentials",
        "without the right password nothing is revealed about the account"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let server = TestServer::start().await;
    let client = server.client();
    let url = server.url("/api/v1/auth/login");
    let post = |body: String, content_type: &'static str| {
        client
            .http
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let cases: Vec<(String, &str, StatusCode, &str)> = vec![
        (
            "{}".into(),
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "{not json".into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            r#"{"login":"admin"}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            r#"{"login":"admin","password":"x","is_admin":true}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            r#"{"login":5,"password":"x"}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!(r#"{{"login":"{}","password":"x"}}"#, "a".repeat(400)),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            format!(r#"{{"login":"admin","password":"{}"}}"#, "p".repeat(2000)),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            format!(
                r#"{{"login":"admin","password":"{}"}}"#,
                "p".repeat(100_000)
            ),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let preview: String = body.chars().take(60).collect();
        let response = post(body, content_type).await.unwrap();
        assert_eq!(response.status(), status, "{preview}");
        assert!(session_cookie(&response).is_none(), "{preview}: no session");
        let (got, message) = error_of(response).await;
        assert_eq!(got, code, "{preview}");
        assert!(!message.is_empty());
    }
    assert_eq!(client.me().await.status(), 401, "nothing signed in");

    let response = client.get("/api/v1/no-such-thing").await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_of(response).await.0, "not_found");
    let response = client.get("/api/v1/auth/login").await;
    assert_eq!(response.status(), 405);
    assert_eq!(error_of(response).await.0, "method_not_allowed");
    server.stop().await;
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    let body = serde_json::json!({ "login": "admin", "password": server.admin_password });

    let response = client
        .http
        .post(server.url("/api/v1/auth/login"))
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(session_cookie(&response).is_none());
    assert_eq!(error_of(response).await.0, "cross_origin");

    let response = client
        .http
        .post(server.url("/api/v1/auth/login"))
        .header("sec-fetch-site", "cross-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let response = client
        .http
        .post(server.url("/api/v1/auth/login"))
        .header("origin", server.base.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the server's own pages may post");
    server.stop().await;
}

#[tokio::test]
async fn pages_need_a_session_and_render_on_the_server() {
    let server = TestServer::start().await;
    let anonymous = server.client();

    let home = anonymous.get("/").await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()[LOCATION], "/login");
    let deep = anonymous.get("/?tab=chats&id=4").await;
    assert_eq!(
        deep.headers()[LOCATION],
        "/login?next=%2F%3Ftab%3Dchats%26id%3D4"
    );

    let login = anonymous.get("/login").await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["x-content-type-options"], "nosniff");
    assert_eq!(login.headers()["x-frame-options"], "DENY");
    assert_eq!(login.headers()["cross-origin-opener-policy"], "same-origin");
    assert_eq!(
        login.headers()["cross-origin-resource-policy"],
        "same-origin"
    );
    let html = login.text().await.unwrap();
    assert!(html.contains("<h1>Sign in</h1>"), "{html}");
    assert!(html.contains("Login or Causeway ID"));
    assert!(html.contains("Remember me"));
    assert!(
        html.contains("/pkg/causeway.js"),
        "the page loads the front end"
    );

    let admin = server.admin().await;
    let login = admin.get("/login").await;
    assert_eq!(
        login.status(),
        StatusCode::SEE_OTHER,
        "signed in, the form is skipped"
    );
    assert_eq!(login.headers()[LOCATION], "/");
    let home = admin.get("/").await;
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Sign out"));

    let missing = admin.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
    server.stop().await;
}

/// The nonce in the page's policy, and the one on its hydration script.
fn page_nonces(policy: &str, html: &str) -> (String, String) {
    let in_policy = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the policy names a nonce")
        .to_owned();
    let on_script = html
        .split("<script type=\"module\" nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the hydration script carries a nonce")
        .to_owned();
    (in_policy, on_script)
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_a_fresh_nonce() {
    let server = TestServer::start().await;
    let anonymous = server.client();
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let login = anonymous.get("/login").await;
        let policy = login.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{directive} in {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let (in_policy, on_script) = page_nonces(&policy, &login.text().await.unwrap());
        assert_eq!(in_policy, on_script, "the hydration script may run");
        assert!(in_policy.len() >= 22, "at least 128 bits: {in_policy}");
        nonces.push(in_policy);
    }
    assert_ne!(nonces[0], nonces[1], "a new nonce for every page");

    // Everything that is not a page allows nothing.
    for path in ["/api/v1/me", "/api/v1/no-such-route", "/healthz"] {
        let response = anonymous.get(path).await;
        assert_eq!(
            response.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_api_works_the_same_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let server = TestServer::start_with(move |c| c.database.url = Some(url)).await;
    let client = server.admin().await;
    assert_eq!(client.me_ok().await.display_name, "Administrator");
    assert_eq!(client.logout().await.status(), 204);
    assert_eq!(client.me().await.status(), 401);
    let wrong = server.client().login("admin", "nope", false).await;
    assert_eq!(error_of(wrong).await.0, "invalid_credentials");
    server.stop().await;
    db.drop_now().await;
}

// ---------------------------------------------------------------------------
// The sign-in page's own form (`POST /login`), for a browser whose WebAssembly
// has not arrived yet: the plain HTML form signs in, and every outcome is a
// 303 back to a page.
// ---------------------------------------------------------------------------

/// Posts the sign-in page's form as a browser showing this server's page does:
/// URL-encoded fields, `Origin` of this server and `Sec-Fetch-Site: same-origin`.
async fn post_sign_in_form(
    server: &TestServer,
    client: &crate::common::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client
        .http
        .post(server.url("/login"))
        .header("origin", server.base.clone())
        .header("sec-fetch-site", "same-origin")
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// A 303's `Location`, split into its path and decoded query parameters.
fn see_other(response: &reqwest::Response) -> (String, Vec<(String, String)>) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{response:?}");
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let (path, query) = location.split_once('?').unwrap_or((&location, ""));
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    (path.to_owned(), pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The audit log's sign-in entries, newest first, as `(action, target, detail)`,
/// read by a fresh administrator session (whose own sign-in is the newest).
async fn sign_in_audit(server: &TestServer) -> Vec<(String, Option<String>, Option<String>)> {
    let admin = server.admin().await;
    let page: app::types::AuditPage = admin
        .get_ok("/api/v1/admin/audit?action=sign_in.&limit=100")
        .await;
    page.items
        .into_iter()
        .map(|e| {
            assert_eq!(e.address.as_deref(), Some("127.0.0.1"), "{e:?}");
            (e.action, e.target, e.detail)
        })
        .collect()
}

#[tokio::test]
async fn the_sign_in_form_works_without_the_script() {
    let server = TestServer::start().await;
    let browser = server.client();
    let response = post_sign_in_form(
        &server,
        &browser,
        &[
            ("login", "admin"),
            ("password", &server.admin_password),
            ("remember_me", "on"),
            ("next", "/contacts"),
        ],
    )
    .await;
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let max_age = cookie
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Max-Age="))
        .expect("Remember me, checked, sets Max-Age");
    assert_eq!(max_age.parse::<i64>().unwrap(), 30 * 86_400);
    assert_eq!(see_other(&response), ("/contacts".to_owned(), vec![]));

    assert_eq!(
        browser.me_ok().await.causeway_id.to_string(),
        "admin@localhost"
    );
    let contacts = browser.get("/contacts").await;
    assert_eq!(contacts.status(), 200, "the page it was sent to opens");

    // Without Remember me it is a browser session, and without `next` the home page.
    let other = server.client();
    let response = post_sign_in_form(
        &server,
        &other,
        &[("login", "admin"), ("password", &server.admin_password)],
    )
    .await;
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(!cookie.contains("Max-Age"), "{cookie}");
    assert_eq!(see_other(&response), ("/".to_owned(), vec![]));
    assert_eq!(other.me().await.status(), 200);

    let metrics = browser.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"causeway_sign_ins_total{outcome="Success"} 2"#),
        "{metrics}"
    );
    let audit = sign_in_audit(&server).await;
    assert_eq!(
        audit[1..],
        [
            (
                "sign_in.success".to_owned(),
                Some("admin".to_owned()),
                Some("browser session".to_owned())
            ),
            (
                "sign_in.success".to_owned(),
                Some("admin".to_owned()),
                Some("remember me".to_owned())
            ),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_password_on_the_form_goes_back_to_the_form() {
    let server = TestServer::start().await;
    let browser = server.client();
    let response = post_sign_in_form(
        &server,
        &browser,
        &[
            ("login", "admin"),
            ("password", "not the password"),
            ("next", "/contacts"),
        ],
    )
    .await;
    assert!(
        session_cookie(&response).is_none(),
        "a failed sign-in stores no session"
    );
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        !location.contains("incorrect") && !location.contains("password"),
        "only the code goes into the address, never a message or the password: {location}"
    );
    let (path, query) = see_other(&response);
    assert_eq!(path, "/login");
    assert_eq!(param(&query, "error"), Some("invalid_credentials"));
    assert_eq!(param(&query, "login"), Some("admin"));
    assert_eq!(param(&query, "next"), Some("/contacts"));

    // What was typed comes back URL-encoded, and an unknown or malformed login
    // gets the same answer.
    for login in ["nobody", "Not A Login!&next=//evil.example"] {
        let response = post_sign_in_form(
            &server,
            &browser,
            &[("login", login), ("password", "not the password")],
        )
        .await;
        let (path, query) = see_other(&response);
        assert_eq!(path, "/login");
        assert_eq!(param(&query, "error"), Some("invalid_credentials"));
        assert_eq!(param(&query, "login"), Some(login));
        assert_eq!(param(&query, "next"), None, "{query:?}");
    }
    assert_eq!(browser.me().await.status(), 401);

    // Counted as the API counts a failed sign-in: metrics and the audit log.
    let metrics = browser.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"causeway_sign_ins_total{outcome="Failure"} 3"#),
        "{metrics}"
    );
    let audit = sign_in_audit(&server).await;
    let failures: Vec<_> = audit
        .iter()
        .filter(|(action, ..)| action == "sign_in.failure")
        .map(|(_, target, detail)| (target.as_deref(), detail.as_deref()))
        .collect();
    assert_eq!(
        failures,
        [
            (Some("(malformed login)"), Some("wrong login or password")),
            (Some("nobody"), Some("wrong login or password")),
            (Some("admin"), Some("wrong login or password")),
        ]
    );
    server.stop().await;
}

/// The form's failures count towards the account's lock as the API's do, and
/// a locked account is refused on the form (`too_many_requests`) and the API.
async fn the_form_counts_towards_the_lock(database: Option<String>) {
    let server = TestServer::start_with(move |c| c.database.url = database).await;
    let admin = server.admin().await;
    let made = admin
        .post_json(
            "/api/v1/admin/users",
            &serde_json::json!({
                "login": "tim",
                "password": "correct horse battery",
                "profile": { "display_name": "Tim" },
            }),
        )
        .await;
    assert_eq!(made.status(), 201);

    let browser = server.client();
    for _ in 0..5 {
        let response = post_sign_in_form(
            &server,
            &browser,
            &[("login", "tim"), ("password", "wrong password")],
        )
        .await;
        assert_eq!(
            param(&see_other(&response).1, "error"),
            Some("invalid_credentials")
        );
    }
    // Five failures lock the account (the panel's default), for the form and
    // the API alike, even with the right password.
    let response = post_sign_in_form(
        &server,
        &browser,
        &[
            ("login", "tim"),
            ("password", "correct horse battery"),
            ("next", "/contacts"),
        ],
    )
    .await;
    assert!(session_cookie(&response).is_none());
    let (path, query) = see_other(&response);
    assert_eq!(path, "/login");
    assert_eq!(param(&query, "error"), Some("too_many_requests"));
    assert_eq!(param(&query, "login"), Some("tim"));
    assert_eq!(param(&query, "next"), Some("/contacts"));
    assert_eq!(browser.me().await.status(), 401);
    let api = server
        .client()
        .login("tim", "correct horse battery", false)
        .await;
    assert_eq!(api.status(), 429);
    assert_eq!(error_of(api).await.0, "too_many_requests");

    let audit = sign_in_audit(&server).await;
    let tim: Vec<(&str, Option<&str>)> = audit
        .iter()
        .filter(|(_, target, _)| target.as_deref() == Some("tim"))
        .map(|(action, _, detail)| (action.as_str(), detail.as_deref()))
        .collect();
    assert_eq!(
        tim,
        [
            ("sign_in.blocked", Some("too many failed sign-ins")),
            ("sign_in.blocked", Some("too many failed sign-ins")),
            (
                "sign_in.failure",
                Some("wrong login or password; now locked")
            ),
            ("sign_in.failure", Some("wrong login or password")),
            ("sign_in.failure", Some("wrong login or password")),
            ("sign_in.failure", Some("wrong login or password")),
            ("sign_in.failure", Some("wrong login or password")),
        ],
        "newest first: the API's attempt, the form's, then the form's five failures"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_form_counts_towards_the_lock_on_sqlite() {
    the_form_counts_towards_the_lock(None).await;
}

#[tokio::test]
async fn the_form_counts_towards_the_lock_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    the_form_counts_towards_the_lock(Some(db.url.clone())).await;
    db.drop_now().await;
}

#[tokio::test]
async fn the_form_never_sends_anyone_to_another_site() {
    let server = TestServer::start().await;
    for next in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\r\nSet-Cookie: x=y",
        "",
    ] {
        let browser = server.client();
        let response = post_sign_in_form(
            &server,
            &browser,
            &[
                ("login", "admin"),
                ("password", &server.admin_password),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(see_other(&response), ("/".to_owned(), vec![]), "{next:?}");
        assert_eq!(browser.me().await.status(), 200, "{next:?}");

        let response = post_sign_in_form(
            &server,
            &server.client(),
            &[("login", "admin"), ("password", "wrong"), ("next", next)],
        )
        .await;
        let (path, query) = see_other(&response);
        assert_eq!(path, "/login");
        assert_eq!(param(&query, "next"), None, "{next:?} is not passed on");
    }
    // A path of this site, with its query, is kept.
    let response = post_sign_in_form(
        &server,
        &server.client(),
        &[
            ("login", "admin"),
            ("password", &server.admin_password),
            ("next", "/?tab=chats&id=4"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/?tab=chats&id=4");
    server.stop().await;
}

/// Fields longer than the API takes are refused as the API refuses them
/// (`invalid_input`), a body over the form's limit as `payload_too_large`, a
/// form without its fields as `bad_request`: each a 303 back to the form, never
/// a server error, and none of them counts as a failed sign-in.
#[tokio::test]
async fn bad_form_input_goes_back_to_the_form_and_changes_nothing() {
    let server = TestServer::start().await;
    let browser = server.client();
    let long_login = "a".repeat(400);
    let long_password = "p".repeat(2000);
    let huge_password = "p".repeat(10_000);
    let long_next = format!("/{}", "n".repeat(3000));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("login", &long_login), ("password", "x")],
            "invalid_input",
        ),
        (
            vec![("login", "admin"), ("password", &long_password)],
            "invalid_input",
        ),
        (
            vec![
                ("login", "admin"),
                ("password", &server.admin_password),
                ("next", &long_next),
            ],
            "invalid_input",
        ),
        (
            vec![("login", "admin\0"), ("password", "x")],
            "invalid_input",
        ),
        (
            vec![("login", "admin"), ("password", &huge_password)],
            "payload_too_large",
        ),
        (vec![("login", "admin")], "bad_request"),
        (vec![], "bad_request"),
    ];
    for (fields, code) in cases {
        let preview: Vec<(&str, usize)> = fields.iter().map(|(k, v)| (*k, v.len())).collect();
        let response = post_sign_in_form(&server, &browser, &fields).await;
        assert!(session_cookie(&response).is_none(), "{preview:?}");
        let (path, query) = see_other(&response);
        assert_eq!(path, "/login", "{preview:?}");
        assert_eq!(param(&query, "error"), Some(code), "{preview:?}");
        if let Some(login) = param(&query, "login") {
            assert!(login.len() <= 324, "{preview:?}: the echo is bounded");
        }
    }
    // A body of another type is not a form.
    let response = browser
        .http
        .post(server.url("/login"))
        .header("content-type", "application/json")
        .body(r#"{"login":"admin","password":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(param(&see_other(&response).1, "error"), Some("bad_request"));

    assert_eq!(browser.me().await.status(), 401, "nothing signed in");
    let metrics = browser.get("/metrics").await.text().await.unwrap();
    assert!(
        !metrics.contains(r#"causeway_sign_ins_total{outcome="Failure"}"#),
        "refused input is not a failed sign-in: {metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_form_from_another_site_is_refused() {
    let server = TestServer::start().await;
    let browser = server.client();
    let fields = [
        ("login", "admin"),
        ("password", server.admin_password.as_str()),
    ];
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let response = browser
            .http
            .post(server.url("/login"))
            .header(header, value)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{header}: {value}");
        assert!(session_cookie(&response).is_none());
        assert_eq!(error_of(response).await.0, "cross_origin");
    }
    assert_eq!(browser.me().await.status(), 401);
    // The page's policy lets the form post to this server only.
    let page = browser.get("/login").await;
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("form-action 'self'"), "{policy}");
    server.stop().await;
}

/// The page as the server renders it, before any script: a form that posts to
/// `/login` with an enabled button, carrying `next`, the typed login and a
/// fixed message for the error code in the address.
#[tokio::test]
async fn the_sign_in_page_works_as_plain_html() {
    let server = TestServer::start().await;
    let anonymous = server.client();
    let button = |html: &str| {
        let start = html
            .find("<button type=\"submit\"")
            .expect("the Sign in button");
        html[start..start + html[start..].find('>').unwrap()].to_owned()
    };

    let html = anonymous.get("/login").await.text().await.unwrap();
    assert!(html.contains("action=\"/login\""), "{html}");
    assert!(html.contains("method=\"post\""), "{html}");
    assert!(
        !button(&html).contains("disabled"),
        "the button works before hydration: {}",
        button(&html)
    );
    assert!(!html.contains("did not work"), "no error without one");
    assert!(
        !html.contains("data-hydrated"),
        "the mark of a hydrated page is the script's to set"
    );

    let cases = [
        ("invalid_credentials", "The login or password is incorrect."),
        (
            "too_many_requests",
            "Too many sign-in attempts. Wait a few minutes and try again.",
        ),
        ("invalid_input", "Signing in did not work. Try again."),
        ("<b>free text</b>", "Signing in did not work. Try again."),
    ];
    for (code, message) in cases {
        let query = serde_urlencoded::to_string([
            ("error", code),
            ("login", "moore \"<&>"),
            ("next", "/contacts"),
        ])
        .unwrap();
        let response = anonymous.get(&format!("/login?{query}")).await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{code}: {html}");
        assert!(
            !html.contains("free text"),
            "{code}: the code is never shown"
        );
        assert!(
            html.contains("value=\"moore &quot;&lt;&amp;&gt;\""),
            "{code}: the login field holds what was typed, escaped: {html}"
        );
        assert!(
            html.contains("type=\"hidden\" name=\"next\" value=\"/contacts\""),
            "{code}: {html}"
        );
    }
    server.stop().await;
}
