//! Where this server may send requests of its own accord. An administrator's
//! white-list address is used as given; a server reached at its bare name
//! (`https://{name}`) must be at a public address: a claimed origin must not
//! make this server fetch from loopback, link-local or private networks
//! (server-side request forgery). Names are resolved by [`PublicOnly`] at
//! connect time, so a name that resolves elsewhere between a check and the
//! connection (DNS rebinding) still cannot reach inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Is `ip` an address of the public Internet (not loopback, private, link-local,
/// shared, documentation, benchmarking, multicast, reserved or unspecified)?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && ip.octets()[2] == 0))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local, fc00::/7.
        || (first & 0xfe00) == 0xfc00
        // Link-local, fe80::/10.
        || (first & 0xffc0) == 0xfe80
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // IPv4-compatible and other addresses in ::/96.
        || ip.segments()[..6].iter().all(|s| *s == 0))
}

/// The host part of a server name (`host` or `host:port`, `[v6]:port`), as an
/// IP address when it is one.
pub fn literal_ip(server_name: &str) -> Option<IpAddr> {
    if let Ok(ip) = server_name.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = server_name.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let host = server_name.rsplit_once(':').map_or(server_name, |(h, _)| h);
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()
}

/// A resolver that gives only public addresses, and fails for a name that has none.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn server_names_that_are_addresses_are_recognised() {
        assert_eq!(
            literal_ip("127.0.0.1:3000"),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(literal_ip("10.0.0.5"), Some("10.0.0.5".parse().unwrap()));
        assert_eq!(literal_ip("[::1]:8448"), Some("::1".parse().unwrap()));
        assert_eq!(literal_ip("corp.example.com:3000"), None);
        assert_eq!(literal_ip("localhost"), None);
    }
}
