//! The browser client's files (`/pkg`): compressed as the browser accepts,
//! always revalidated, and answered 304 when the browser's copy is current.

use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, IF_MODIFIED_SINCE, LAST_MODIFIED,
};

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
