//! Who is on the other end of a request: the client's address, as the rate limits, the
//! connection caps and the transcode caps count it.
//!
//! Behind a TLS proxy every request arrives from the proxy's address, so counting by the
//! socket peer would put all users in one bucket and let one client lock everyone out. The
//! proxy's own header says who its client was, but anyone can write that header, so it is
//! believed only from the proxies named in `MARQUEE_TRUSTED_PROXIES`: the client is the
//! nearest address in the `Forwarded` (or else `X-Forwarded-For`) chain that is not one of
//! them. IPv6 clients are counted by /64, the block one home or one VM is usually given.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::state::AppState;

/// The networks whose forwarding headers are believed (`MARQUEE_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets.into())
    }

    /// Parses a comma-separated list of CIDRs or single addresses (`10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| item.to_owned())?;
            nets.push(net);
        }
        Ok(Self::new(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A request's client, put in its extensions by [`layer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr {
    /// The client's address (the peer's, unless a trusted proxy said otherwise).
    pub ip: IpAddr,
    /// What limits count: `ip`, or its /64 for IPv6.
    pub bucket: IpAddr,
}

impl ClientAddr {
    pub fn new(ip: IpAddr) -> Self {
        let ip = canonical(ip);
        Self {
            ip,
            bucket: bucket(ip),
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report) is the
/// IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The unit of the limits: an IPv4 address, or an IPv6 /64.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The client of a request that came from `peer` with `headers` (see the module docs).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.trusts(peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    let mut client = peer;
    for hop in chain.iter().rev() {
        let Some(hop) = hop else {
            // A hop the proxy could not name ("unknown", an obfuscated id): the nearest
            // address we can stand behind is the last one before it.
            break;
        };
        client = canonical(*hop);
        if !trusted.trusts(client) {
            break;
        }
    }
    client
}

/// The addresses a request passed through, nearest last: `Forwarded`'s `for=` values if the
/// header is present, else `X-Forwarded-For`. `None` for a hop that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = raw.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    raw.strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

/// Finds the request's [`ClientAddr`] and puts it in the extensions, for every layer and
/// handler after this one.
pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let ip = client_ip(peer, request.headers(), &state.trusted_proxies);
        request.extensions_mut().insert(ClientAddr::new(ip));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5").unwrap();
        let spoof = headers(&[("x-forwarded-for", "6.6.6.6")]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &spoof, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(ip("10.1.2.3"), &spoof, &trusted), ip("6.6.6.6"));
        // A client that writes its own header behind a trusted proxy: the proxy appends the
        // real address, and that is the one taken.
        let appended = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(
            client_ip(ip("192.168.1.5"), &appended, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.1.2.3"), &headers(&[]), &trusted),
            ip("10.1.2.3"),
            "no header: the proxy itself"
        );
        let none = TrustedProxies::default();
        assert_eq!(client_ip(ip("10.1.2.3"), &spoof, &none), ip("10.1.2.3"));
    }

    #[test]
    fn forwarded_is_read_in_all_its_forms() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.4"#,
        )]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted),
            ip("2001:db8:cafe::17")
        );
        let unknown = headers(&[("forwarded", "for=6.6.6.6, for=unknown")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &unknown, &trusted),
            ip("10.0.0.1")
        );
        assert!(TrustedProxies::parse("10.0.0.0/8, nonsense").is_err());
    }

    #[test]
    fn ipv6_clients_count_by_slash_64() {
        assert_eq!(
            ClientAddr::new(ip("2001:db8:1:2:aaaa::1")).bucket,
            ClientAddr::new(ip("2001:db8:1:2:ffff::9")).bucket
        );
        assert_ne!(
            ClientAddr::new(ip("2001:db8:1:2::1")).bucket,
            ClientAddr::new(ip("2001:db8:1:3::1")).bucket
        );
        assert_eq!(ClientAddr::new(ip("::ffff:1.2.3.4")).ip, ip("1.2.3.4"));
        assert_eq!(ClientAddr::new(ip("1.2.3.4")).bucket, ip("1.2.3.4"));
    }
}
