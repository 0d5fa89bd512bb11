//! The browser client's files (`/pkg`) and pages: compressed as the browser
//! accepts; files named by their content kept for a year, others and pages
//! revalidated and answered 304 when the browser's copy is current; an
//! upgraded server tells open tabs.

use app::types::Push;
use futures_util::StreamExt;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::common::TestServer;

/// A server whose site folder holds a client: the wasm, and the `.br` and
/// `.gz` the build writes beside it (contents told apart, not real
/// compressions: what is served is what matters here).
async fn with_client() -> (TestServer, tempfile::TempDir) {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("causeway.wasm"), b"the raw wasm").unwrap();
    std::fs::write(pkg.join("causeway.wasm.br"), b"the brotli wasm").unwrap();
    std::fs::write(pkg.join("causeway.wasm.gz"), b"the gzip wasm").unwrap();
    let root = site.path().to_path_buf();
    let server = TestServer::start_with(|config| config.site_root = root).await;
    (server, site)
}

async fn fetch(
    server: &TestServer,
    accept: &str,
    since: Option<&str>,
) -> (u16, Option<String>, Option<String>, Option<String>, Vec<u8>) {
    let mut request = reqwest::Client::new()
        .get(server.url("/pkg/causeway.wasm"))
        .header(ACCEPT_ENCODING, accept);
    if let Some(since) = since {
        request = request.header(IF_MODIFIED_SINCE, since);
    }
    let response = request.send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (encoding, cache, modified) = (
        header(CONTENT_ENCODING),
        header(CACHE_CONTROL),
        header(LAST_MODIFIED),
    );
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap().to_vec();
    (status, encoding, cache, modified, body)
}

#[tokio::test]
async fn the_client_is_sent_compressed_as_the_browser_accepts() {
    let (server, _site) = with_client().await;
    let (status, encoding, cache, _, body) = fetch(&server, "gzip, deflate, br", None).await;
    assert_eq!(status, 200);
    assert_eq!(encoding.as_deref(), Some("br"));
    assert_eq!(body, b"the brotli wasm");
    assert_eq!(cache.as_deref(), Some("no-cache"), "always revalidated");

    let (_, encoding, _, _, body) = fetch(&server, "gzip", None).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(body, b"the gzip wasm");

    let (_, encoding, _, _, body) = fetch(&server, "identity", None).await;
    assert_eq!(encoding, None);
    assert_eq!(body, b"the raw wasm");
    server.stop().await;
}

#[tokio::test]
async fn a_repeat_visit_downloads_nothing_while_the_client_is_unchanged() {
    let (server, site) = with_client().await;
    let (_, _, _, modified, _) = fetch(&server, "br", None).await;
    let modified = modified.expect("a Last-Modified to revalidate against");
    let (status, _, cache, _, body) = fetch(&server, "br", Some(&modified)).await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert_eq!(cache.as_deref(), Some("no-cache"));

    // An upgrade writes new files (here dated a minute on: HTTP dates count
    // whole seconds): the browser's copy is stale, and the new client comes
    // in full.
    let next = site.path().join("pkg/causeway.wasm.br");
    std::fs::write(&next, b"the next brotli wasm").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&next)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let (status, _, _, _, body) = fetch(&server, "br", Some(&modified)).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"the next brotli wasm");
    server.stop().await;
}

const JS: &str = "0fc2e3d82b4ff03c";
const WASM: &str = "d7a7c8360af4ffc9";
const CSS: &str = "b2e5b5d0abc23f6f";
/// A lazy route's module (the control panel's users page, say).
const LAZY: &str = "causeway-lazy-split___users_route_view_1.2222c8360af4ffc9";

/// A server whose site folder holds a release build: content-hashed names
/// listed in `hash.txt`.
async fn with_release_build() -> (TestServer, tempfile::TempDir) {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm = pkg.join(format!("causeway.{WASM}.wasm"));
    std::fs::write(&wasm, b"the raw wasm").unwrap();
    std::fs::write(
        pkg.join(format!("causeway.{WASM}.wasm.br")),
        b"the brotli wasm",
    )
    .unwrap();
    std::fs::write(pkg.join(format!("causeway.{JS}.js")), b"export default 1;").unwrap();
    std::fs::write(pkg.join(format!("causeway.{CSS}.css")), b"body {}").unwrap();
    std::fs::write(
        pkg.join(format!("causeway-link.{JS}.js")),
        b"export const x = 2;",
    )
    .unwrap();
    std::fs::write(pkg.join(format!("{LAZY}.wasm")), b"the users page").unwrap();
    std::fs::write(
        site.path().join("hash.txt"),
        format!("js: {JS}\nwasm: {WASM}\ncss: {CSS}\n"),
    )
    .unwrap();
    std::fs::write(
        site.path().join("lazy.json"),
        format!(r#"{{"__users_route_view_1": ["{LAZY}"], "bad": ["../../etc/passwd"]}}"#),
    )
    .unwrap();
    let root = site.path().to_path_buf();
    let server = TestServer::start_with(|config| config.site_root = root).await;
    (server, site)
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_file_named_by_its_content_is_kept_a_year_and_revalidated_by_its_tag() {
    let (server, _site) = with_release_build().await;
    let http = reqwest::Client::new();
    let url = server.url(&format!("/pkg/causeway.{WASM}.wasm"));
    let first = http
        .get(&url)
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, CONTENT_ENCODING).as_deref(), Some("br"));
    assert_eq!(
        header(&first, CACHE_CONTROL).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let tag = header(&first, ETAG).expect("an ETag");
    assert_eq!(tag, format!("W/\"{WASM}\""));
    assert_eq!(first.bytes().await.unwrap().as_ref(), b"the brotli wasm");

    // The browser asks again with its tag: nothing is sent.
    let again = http
        .get(&url)
        .header(ACCEPT_ENCODING, "br")
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, ETAG).as_deref(), Some(tag.as_str()));
    assert!(again.bytes().await.unwrap().is_empty());

    // Another tag (a file of another build that happens to share the name
    // shape) gets the file.
    let other = http
        .get(&url)
        .header(IF_NONE_MATCH, "W/\"ffffffffffffffff\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(other.bytes().await.unwrap().as_ref(), b"the raw wasm");

    // A name of the hashed shape that this build does not have is a 404
    // that no browser may keep.
    let missing = http
        .get(server.url("/pkg/causeway.0123456789abcdef.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_ne!(
        header(&missing, CACHE_CONTROL).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    server.stop().await;
}

#[tokio::test]
async fn nothing_outside_the_site_folder_is_served() {
    let outside = tempfile::tempdir().unwrap();
    let site = outside.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/causeway.wasm"), b"the raw wasm").unwrap();
    std::fs::write(
        outside.path().join("secret.txt"),
        b"a secret beside the site",
    )
    .unwrap();
    let server = TestServer::start_with(|config| config.site_root = site).await;
    // Sent as written: a client library would tidy the dots away.
    for path in [
        "/pkg/../../secret.txt",
        "/pkg/%2e%2e/%2e%2e/secret.txt",
        "/pkg/..%2f..%2fsecret.txt",
        "/pkg/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/pkg/..\\..\\secret.txt",
    ] {
        let (status, body) = raw_get(&server, path).await;
        assert!(
            !body.contains("a secret beside the site"),
            "{path} reached a file outside the site folder ({status})"
        );
        assert!(status.starts_with("HTTP/1.1 4"), "{path}: {status}");
    }
    server.stop().await;
}

/// A GET written byte for byte, its status line and body.
async fn raw_get(server: &TestServer, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    (status, answer)
}

#[tokio::test]
async fn pages_name_the_build_and_answer_304_while_unchanged() {
    let (server, _site) = with_release_build().await;
    let http = reqwest::Client::new();
    let first = http.get(server.url("/login")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, CACHE_CONTROL).as_deref(), Some("no-cache"));
    let tag = header(&first, ETAG).expect("a page has an ETag");
    let policy = header(&first, CONTENT_SECURITY_POLICY).expect("a policy");
    let page = first.text().await.unwrap();
    assert!(page.contains(&format!("/pkg/causeway.{CSS}.css")), "{page}");
    assert!(
        page.contains(&format!("/pkg/causeway.{JS}.js")),
        "the hydration script names the client's JS"
    );
    assert!(
        page.contains(&format!("/pkg/causeway-link.{JS}.js")),
        "and the module that links lazy routes' modules"
    );
    assert!(
        page.contains(&format!("/pkg/causeway.{WASM}.wasm")),
        "and its wasm"
    );
    assert!(
        client_version(&page).is_some_and(|version| version.len() == 16),
        "the page says which client it loads"
    );

    // Asked again with the tag: the same page (but for its nonce) is a 304
    // whose policy names the nonce of the copy the browser keeps.
    let again = http
        .get(server.url("/login"))
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(
        header(&again, CONTENT_SECURITY_POLICY).as_deref(),
        Some(policy.as_str())
    );
    assert!(again.bytes().await.unwrap().is_empty());

    // Another page has another tag: sent in full.
    let other = http
        .get(server.url("/login?ended=account_disabled"))
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    server.stop().await;
}

/// The version in a page's `<meta name="causeway-client">`.
fn client_version(page: &str) -> Option<String> {
    let start = page.find(r#"<meta name="causeway-client" content=""#)? + 38;
    let end = start + page[start..].find('"')?;
    Some(page[start..end].to_owned())
}

#[tokio::test]
async fn a_lazy_routes_module_is_kept_a_year_like_the_rest() {
    let (server, _site) = with_release_build().await;
    let lazy = reqwest::get(server.url(&format!("/pkg/{LAZY}.wasm")))
        .await
        .unwrap();
    assert_eq!(lazy.status(), 200);
    assert_eq!(
        header(&lazy, CACHE_CONTROL).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let link = reqwest::get(server.url(&format!("/pkg/causeway-link.{JS}.js")))
        .await
        .unwrap();
    assert_eq!(
        header(&link, CACHE_CONTROL).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    // A page of no lazy route names no lazy module.
    let page = reqwest::get(server.url("/login"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("causeway-lazy-"), "{page}");
    server.stop().await;
}

#[tokio::test]
async fn an_open_tab_learns_the_client_version_at_every_connection() {
    let (server, _site) = with_release_build().await;
    let page = reqwest::get(server.url("/login"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let version = client_version(&page).expect("the page's version");
    let response = server
        .client()
        .login("admin", &server.admin_password, false)
        .await;
    assert_eq!(response.status(), 200);
    let cookie = format!("causeway_session={}", crate::common::session_id(&response));
    let mut socket = crate::common::open_socket(&server, &cookie).await;
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("a first frame")
        .unwrap()
        .unwrap();
    let Ws::Text(text) = first else {
        panic!("a text frame, got {first:?}")
    };
    let push: Push = serde_json::from_str(&text).unwrap();
    assert_eq!(push, Push::Ready { client: version });
    server.stop().await;
}
