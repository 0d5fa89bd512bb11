//! The browser client's files (`/pkg`) and how pages and files are cached.
//!
//! - A release build (`site-build`) names the wasm, JS and CSS by their
//!   content (`causeway.<16 hex>.wasm`) and lists the names in the site's
//!   `hash.txt`. Such a file never changes: browsers keep it for a year
//!   (`immutable`) and a conditional request is answered 304 by its `ETag`
//!   without touching the disk. An upgrade changes the names, so a new page
//!   loads the new client.
//! - Any other file under `/pkg` (a development build's plain names) is
//!   revalidated each time (`no-cache`) and answered 304 while unchanged
//!   (`If-Modified-Since`).
//! - Pages are `no-cache` with an `ETag` over their content, answered 304
//!   while what the server would send has not changed (see [`page_validators`]).
//!
//! Files are sent compressed as the browser accepts: the build writes each
//! one's `.br` and `.gz` beside it.

use std::path::Path;

use app::{Bundle, ClientBuild};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};

/// What leptos, the shell and the name checks call the client.
const OUTPUT: &str = "causeway";
/// The list of content-hashed names a release build writes into the site root.
const HASH_FILE: &str = "hash.txt";
/// How long a browser keeps a file named by its content: a year, the most
/// `max-age` caches honour.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Most of a page read to compute its `ETag` (pages are a few KB). A page
/// past it, like one whose render fails midway, is answered 500: its body
/// has been read and cannot be sent.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The site's client build and the leptos options that name its files.
#[derive(Clone, Debug)]
pub struct Site {
    pub leptos: LeptosOptions,
    pub client: ClientBuild,
}

impl Site {
    /// Reads the build in `site_root`. Without a `hash.txt` (a development
    /// build) the files have plain names, one bundle serves every page, and
    /// there is no version.
    pub fn load(site_root: &Path, listen: std::net::SocketAddr) -> Site {
        let root = std::path::absolute(site_root).unwrap_or_else(|_| site_root.to_path_buf());
        let hash_file = root.join(HASH_FILE);
        let text = std::fs::read_to_string(&hash_file).unwrap_or_default();
        let hashes = parse_hashes(&text);
        let complete = hashes.iter().all(|(_, hash)| hash.is_some());
        if !complete && hash_file.exists() {
            tracing::warn!(file = %hash_file.display(), "the site's hash file lacks a name; serving plain names");
        }
        let name = |key: &str, stem: &str, kind: &str| match hashes.iter().find(|(k, _)| *k == key)
        {
            Some((_, Some(hash))) if complete => format!("{stem}.{hash}.{kind}"),
            _ => format!("{OUTPUT}.{kind}"),
        };
        // The link module shares the main JS's hash (they import each other).
        let link = match hashes.iter().find(|(key, _)| *key == "js") {
            Some((_, Some(hash))) if complete => format!("{OUTPUT}-link.{hash}.js"),
            _ => String::new(),
        };
        let client = ClientBuild {
            stylesheet: name("css", OUTPUT, "css"),
            bundle: Bundle {
                js: name("js", OUTPUT, "js"),
                wasm: name("wasm", OUTPUT, "wasm"),
                link,
            },
            lazy: if complete {
                lazy_modules(&root.join(LAZY_FILE))
            } else {
                Default::default()
            },
            version: if complete {
                digest(text.as_bytes())
            } else {
                String::new()
            },
        };
        let leptos = LeptosOptions::builder()
            .output_name(OUTPUT)
            .site_root(root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(listen)
            .build();
        Site { leptos, client }
    }
}

/// The `/pkg` service: see the module's documentation.
pub fn client_files(options: &LeptosOptions) -> Router {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = tower_http::services::ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(from_fn(cache_client_file))
}

/// The names a release build writes into `hash.txt`: `kind: hash` lines
/// (the format cargo-leptos writes).
const HASH_KEYS: [&str; 3] = ["js", "wasm", "css"];

/// Where a release build lists the modules of each lazy route.
const LAZY_FILE: &str = "lazy.json";

/// The build's list of lazy routes and their modules (`{"route": ["file",
/// …]}`), the names checked to be of the build's shape; none if the file is
/// missing or not that.
fn lazy_modules(path: &Path) -> std::collections::HashMap<String, Vec<String>> {
    let parsed = std::fs::read(path).ok().and_then(|bytes| {
        serde_json::from_slice::<std::collections::HashMap<String, Vec<String>>>(&bytes).ok()
    });
    let Some(mut lazy) = parsed else {
        tracing::warn!(file = %path.display(), "the site's list of lazy modules is missing or unreadable: pages will fetch them when shown");
        return Default::default();
    };
    lazy.retain(|_, files| {
        files
            .iter()
            .all(|file| content_hash(&format!("{file}.wasm")).is_some())
    });
    lazy
}

/// Each of [`HASH_KEYS`] with its hash, if the file names one. A hash that is
/// not plain hex is ignored: it becomes part of a file name.
fn parse_hashes(text: &str) -> Vec<(&'static str, Option<String>)> {
    HASH_KEYS
        .iter()
        .map(|key| {
            let hash = text.lines().find_map(|line| {
                let (kind, hash) = line.split_once(':')?;
                let hash = hash.trim();
                let hex = !hash.is_empty()
                    && hash.len() <= 64
                    && hash.bytes().all(|b| b.is_ascii_hexdigit());
                (kind.trim() == *key && hex).then(|| hash.to_owned())
            });
            (*key, hash)
        })
        .collect()
}

/// The content hash in a file name `causeway.<hex>.<ext>` or
/// `causeway-<part>.<hex>.<ext>` (the link module, lazy modules), if it has
/// one.
fn content_hash(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next()?;
    let (stem, rest) = name.split_once('.')?;
    let part = stem.strip_prefix(OUTPUT)?;
    let part_ok = part.is_empty()
        || part.strip_prefix('-').is_some_and(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        });
    if !part_ok {
        return None;
    }
    let (hash, ext) = rest.split_once('.')?;
    let hashed = (8..=64).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit());
    (hashed && matches!(ext, "js" | "wasm" | "css")).then_some(hash)
}

/// Does `If-None-Match` name `tag` (weak comparison, as for GET)?
fn none_match(headers: &HeaderMap, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let want = bare(tag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == want)
}

async fn cache_client_file(request: Request, next: Next) -> Response {
    let Some(hash) = content_hash(request.uri().path()).map(str::to_owned) else {
        let mut response = next.run(request).await;
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return response;
    };
    // One tag for every encoding of the file: weak, since the bytes differ.
    let tag = format!("W/\"{hash}\"");
    let conditional = matches!(*request.method(), Method::GET | Method::HEAD)
        && none_match(request.headers(), &tag);
    let mut response = if conditional {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        next.run(request).await
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        if let Ok(value) = HeaderValue::from_str(&tag) {
            headers.insert(header::ETAG, value);
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Pages: `Cache-Control: no-cache` and an `ETag`, answered 304 when the page
/// the server would send now is the one the browser has.
///
/// A page's inline hydration script carries a nonce that its
/// `Content-Security-Policy` names, new for every response. The tag is taken
/// over the page without its nonce and carries the nonce after a dot, so a
/// 304 can repeat the policy with the nonce of the copy the browser keeps
/// (a browser updates a cached response's headers from the 304).
pub async fn page_validators(request: Request, next: Next) -> Response {
    let get = request.method() == Method::GET;
    let asked = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !get || !html || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE_BYTES).await else {
        // Too big to tag (or the render failed midway): nothing more to send.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let policy = parts
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let nonce = policy.as_deref().and_then(policy_nonce).map(str::to_owned);
    let digest = page_digest(&bytes, nonce.as_deref().unwrap_or_default().as_bytes());
    let tag = format!("W/\"{digest}.{}\"", nonce.as_deref().unwrap_or(""));
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(kept) = asked
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|asked| kept_nonce(asked, &digest))
    {
        // The browser's copy is this page: it keeps its body and its nonce.
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        let headers = not_modified.headers_mut();
        if let (Some(policy), Some(nonce)) = (&policy, &nonce)
            && let Ok(value) = HeaderValue::from_str(&policy.replace(nonce.as_str(), kept))
        {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        if let Ok(value) = HeaderValue::from_str(&format!("W/\"{digest}.{kept}\"")) {
            headers.insert(header::ETAG, value);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        for name in [header::SET_COOKIE, header::VARY] {
            for value in parts.headers.get_all(&name) {
                headers.append(name.clone(), value.clone());
            }
        }
        return not_modified;
    }
    if let Ok(value) = HeaderValue::from_str(&tag) {
        parts.headers.insert(header::ETAG, value);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// The nonce a page's policy allows scripts by (`'nonce-…'`).
fn policy_nonce(policy: &str) -> Option<&str> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let rest = &policy[start..];
    let nonce = &rest[..rest.find('\'')?];
    (!nonce.is_empty()).then_some(nonce)
}

/// The first 16 hex digits of the SHA-256 of the page with every occurrence
/// of its nonce left out.
fn page_digest(page: &[u8], nonce: &[u8]) -> String {
    let mut hasher = Sha256::new();
    if nonce.is_empty() {
        hasher.update(page);
    } else {
        let mut rest = page;
        while let Some(at) = find(rest, nonce) {
            hasher.update(&rest[..at]);
            rest = &rest[at + nonce.len()..];
        }
        hasher.update(rest);
    }
    hex16(&hasher.finalize())
}

/// The first 16 hex digits of the SHA-256 of `bytes`.
fn digest(bytes: &[u8]) -> String {
    hex16(&Sha256::digest(bytes))
}

fn hex16(hash: &[u8]) -> String {
    hash[..8].iter().map(|byte| format!("{byte:02x}")).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The nonce of the browser's copy, when one of the tags it names has this
/// page's digest. Only a nonce of the shape leptos makes (base64) is taken:
/// it goes into a header.
fn kept_nonce<'a>(if_none_match: &'a str, digest: &str) -> Option<&'a str> {
    if_none_match.split(',').find_map(|candidate| {
        let inner = candidate
            .trim()
            .trim_start_matches("W/")
            .strip_prefix('"')?
            .strip_suffix('"')?;
        let (tagged, nonce) = inner.split_once('.')?;
        let shaped = nonce.len() <= 64
            && nonce.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
            });
        (tagged == digest && shaped).then_some(nonce)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_the_build_shape_are_content_hashed() {
        assert_eq!(
            content_hash("/causeway.0fc2e3d82b4ff03c.js"),
            Some("0fc2e3d82b4ff03c")
        );
        assert_eq!(
            content_hash("causeway.d7a7c8360af4ffc9.wasm"),
            Some("d7a7c8360af4ffc9")
        );
        assert_eq!(content_hash("/causeway.wasm"), None);
        assert_eq!(content_hash("/causeway.0fc2e3d82b4ff03c.wasm.br"), None);
        assert_eq!(content_hash("/snippets/x/inline0.js"), None);
        assert_eq!(content_hash("/causeway.nothex!!nothex.js"), None);
        assert_eq!(content_hash("/other.0fc2e3d82b4ff03c.js"), None);
        assert_eq!(
            content_hash("/causeway-link.0fc2e3d82b4ff03c.js"),
            Some("0fc2e3d82b4ff03c")
        );
        assert_eq!(
            content_hash("/causeway-lazy-split___search_route_view_105.7a5971059994ea9d.wasm"),
            Some("7a5971059994ea9d")
        );
        assert_eq!(content_hash("/causeway-.0fc2e3d82b4ff03c.js"), None);
        assert_eq!(content_hash("/causeway-a/b.0fc2e3d82b4ff03c.js"), None);
        assert_eq!(content_hash("/causewayx.0fc2e3d82b4ff03c.js"), None);
    }

    #[test]
    fn the_lazy_list_keeps_only_routes_whose_files_have_the_builds_shape() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(LAZY_FILE);
        std::fs::write(
            &file,
            r#"{"a": ["causeway-lazy-chunk_1.0fc2e3d82b4ff03c"], "b": ["causeway-lazy-x.0fc2e3d82b4ff03c", "../../etc/passwd"]}"#,
        )
        .unwrap();
        let lazy = lazy_modules(&file);
        assert_eq!(lazy.len(), 1);
        assert_eq!(lazy["a"], ["causeway-lazy-chunk_1.0fc2e3d82b4ff03c"]);
        std::fs::write(&file, "not json").unwrap();
        assert!(lazy_modules(&file).is_empty());
        assert!(lazy_modules(&dir.path().join("missing.json")).is_empty());
    }

    #[test]
    fn the_hash_file_gives_names_and_ignores_what_is_not_hex() {
        let hashes = parse_hashes("js: 0fc2\nwasm: d7a7\ncss: ../../etc\nnoise\n");
        let hash = |key: &str| hashes.iter().find(|(k, _)| *k == key).unwrap().1.clone();
        assert_eq!(hash("js").as_deref(), Some("0fc2"));
        assert_eq!(hash("wasm").as_deref(), Some("d7a7"));
        assert_eq!(hash("css"), None);
    }

    #[test]
    fn a_page_tag_ignores_the_nonce_and_keeps_the_copys_nonce() {
        let one = page_digest(b"<script nonce=\"abc\">x</script>", b"abc");
        let two = page_digest(b"<script nonce=\"XYZ\">x</script>", b"XYZ");
        assert_eq!(one, two);
        assert_ne!(
            one,
            page_digest(b"<script nonce=\"abc\">y</script>", b"abc")
        );
        let header = format!("W/\"{one}.abc\"");
        assert_eq!(kept_nonce(&header, &one), Some("abc"));
        assert_eq!(kept_nonce(&header, "ffff"), None);
        let hostile = format!("W/\"{one}.a'b\"");
        assert_eq!(kept_nonce(&hostile, &one), None);
        assert_eq!(
            policy_nonce("script-src 'self' 'nonce-Zm9v' 'wasm-unsafe-eval'"),
            Some("Zm9v")
        );
    }
}
