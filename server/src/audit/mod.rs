//! The audit log: who did what, when, from which address. Sign-ins (success and
//! failure) and every administrative change are recorded.

pub mod cap;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use self::cap::RefusalCap;
use crate::storage::{NewAuditEntry, Store};
use crate::time::now_millis;

/// Who is acting, as the audit log records it.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub id: Option<i64>,
    pub login: Option<String>,
    pub address: Option<String>,
}

/// The client's address: the connection's, or the one a trusted reverse proxy
/// forwarded ([`forwarded_client`]).
pub fn client_address(parts: &Parts) -> Option<String> {
    address_in(&parts.extensions)
}

/// [`client_address`], from a request's extensions.
pub fn address_in(extensions: &Extensions) -> Option<String> {
    extensions
        .get::<ForwardedClient>()
        .map(|ForwardedClient(ip)| *ip)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        })
        .map(|ip| ip.to_canonical().to_string())
}

/// The client's address as forwarded by a trusted proxy.
#[derive(Debug, Clone, Copy)]
struct ForwardedClient(IpAddr);

/// Middleware: for a request from a trusted proxy (`trusted`, not empty), notes
/// the client's address it forwarded.
pub async fn forwarded_for(
    axum::extract::State(trusted): axum::extract::State<std::sync::Arc<[IpNet]>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = forwarded_client(peer, request.headers(), &trusted);
        request.extensions_mut().insert(ForwardedClient(client));
    }
    next.run(request).await
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then
/// the nearest address in `X-Forwarded-For` that is not a trusted proxy (each
/// proxy appends the address it got the request from, so the list is read from
/// the right, and whatever a client wrote into it itself is never reached). An
/// entry that is not an address ends the walk at the last address known good.
pub fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip.to_canonical()));
    if !is_trusted(peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("!").split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev().take(32) {
        let entry = entry.trim();
        let entry = entry
            .strip_prefix('[')
            .and_then(|e| e.strip_suffix(']'))
            .unwrap_or(entry);
        let Ok(ip) = entry.parse::<IpAddr>() else {
            return client;
        };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

/// The audit log, as the code that writes to it holds it: the store and the
/// cap on refusals. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Audit {
    store: Store,
    cap: Arc<Mutex<RefusalCap>>,
}

impl Audit {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cap: Arc::default(),
        }
    }

    /// Appends to the audit log. A failure to write is logged, not returned:
    /// the change it describes has already been made.
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) {
        let entry = NewAuditEntry {
            at: now_millis(),
            actor_id: actor.id,
            actor: actor.login.as_deref(),
            address: actor.address.as_deref(),
            action,
            target,
            detail,
        };
        if let Err(error) = self.store.append_audit(&entry).await {
            tracing::error!(%error, action, "writing the audit log failed");
        }
    }

    /// Records a refusal within the cap for its reason (`action` and `code`):
    /// the summary of what the cap held back first, when one is due, then the
    /// refusal itself if the minute's allowance is not used up. `origin` is
    /// what the refused party claims to be (a server name or an address).
    #[allow(clippy::too_many_arguments)] // each is one column of the entry, named at the call
    pub async fn refusal(
        &self,
        action: &'static str,
        code: app::types::ErrorCode,
        origin: &str,
        actor: &Actor,
        target: Option<&str>,
        detail: Option<&str>,
    ) {
        let admit = self.cap.lock().unwrap_or_else(|e| e.into_inner()).admit(
            action,
            code,
            origin,
            std::time::Instant::now(),
        );
        if let Some(summary) = admit.summary {
            self.record(&Actor::default(), action, None, Some(&summary))
                .await;
        }
        if admit.entry {
            self.record(actor, action, target, detail).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let trusted: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        let headers = forwarded(&["203.0.113.9"]);
        // Anyone else's header is ignored.
        assert_eq!(
            forwarded_client(ip("198.51.100.1"), &headers, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            forwarded_client(ip("10.1.2.3"), &headers, &trusted),
            ip("203.0.113.9")
        );
        // Without trusted proxies, the connection decides.
        assert_eq!(
            forwarded_client(ip("10.1.2.3"), &headers, &[]),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn the_list_is_read_from_the_nearest_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer = ip("10.0.0.1");
        // A client that forged an address first: the proxies' own entries win.
        let chain = forwarded(&["1.2.3.4, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(forwarded_client(peer, &chain, &trusted), ip("203.0.113.9"));
        // Several headers are one list.
        let split = forwarded(&["1.2.3.4", "203.0.113.9", "10.0.0.7"]);
        assert_eq!(forwarded_client(peer, &split, &trusted), ip("203.0.113.9"));
        // Garbage stops the walk at the last good hop.
        let garbage = forwarded(&["203.0.113.9, not-an-ip, 10.0.0.7"]);
        assert_eq!(forwarded_client(peer, &garbage, &trusted), ip("10.0.0.7"));
        // No header: the proxy itself.
        assert_eq!(forwarded_client(peer, &HeaderMap::new(), &trusted), peer);
        // IPv6, bracketed or not, and IPv4 mapped into IPv6.
        let six = forwarded(&["[2001:db8::1]"]);
        assert_eq!(forwarded_client(peer, &six, &trusted), ip("2001:db8::1"));
        let mapped = ip("::ffff:10.0.0.1");
        assert_eq!(
            forwarded_client(mapped, &forwarded(&["2001:db8::2"]), &trusted),
            ip("2001:db8::2")
        );
    }
}
