//! The client's IP address (SPEC §9.4): what every per-address rate limit and the audit
//! log key on.
//!
//! It is the TCP peer, unless the peer is a proxy listed in `APP_TRUSTED_PROXIES`: then
//! `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first
//! address that is not one is the client. Only the part of the header that trusted
//! proxies wrote is read: everything left of the client's address came from the client
//! and could be anything, so a client cannot pick the address its requests count under.
//!
//! One pure function ([`client_ip`]) decides; the [`ClientIp`] extractor feeds it the
//! request, and every adapter (JSON API, server functions, SSO routes) uses that
//! extractor, so that no limit reads the peer or the header on its own.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;

use super::reply::ApiError;
use crate::server::service::problem::Problem;
use crate::server::state::AppState;

/// The header trusted proxies append the address of their own peer to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The peers whose `X-Forwarded-For` is believed: single addresses or CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of addresses (`10.0.0.7`, `::1`) and CIDR blocks
    /// (`10.0.0.0/8`, `fd00::/8`); blanks around items and empty items are ignored, so an
    /// empty string is the empty list. Anything else is refused with the item named, so
    /// that a typo stops the start instead of silently trusting nobody.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip.to_canonical()),
                    Err(_) => {
                        return Err(format!("{item:?} is neither an IP address nor a CIDR block (like 10.0.0.0/8)"))
                    }
                },
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&items.join(","))
    }
}

/// One `X-Forwarded-For` entry: an IP address, or an address with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`), which some proxies write. `None` for anything else.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))?;
    Some(ip.to_canonical())
}

/// The client's address.
///
/// - A peer that is not a trusted proxy is the client; its `X-Forwarded-For` is ignored.
/// - From a trusted proxy, the header lines (`forwarded_for`, in the order received) are
///   read as one list, from the right. Trusted proxies are skipped; the first address that
///   is not one is the client. When every address is trusted, the left-most one is.
/// - A malformed entry (not an address, empty, or an unreadable header line) stops the
///   walk: the client is then the last trusted hop reached (the peer when it is the
///   right-most entry). That hop is what handed us the entry we cannot read; everything
///   further left is no more believable, and the hop is not the client's to choose, so a
///   malformed header never lets a client change the address it is counted under.
///
/// IPv4-mapped IPv6 addresses are answered as IPv4, so one client has one address.
pub fn client_ip<'a, I>(peer: IpAddr, forwarded_for: I, trusted: &TrustedProxies) -> IpAddr
where
    I: IntoIterator<Item = &'a str>,
    I::IntoIter: DoubleEndedIterator,
{
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    for line in forwarded_for.into_iter().rev() {
        for entry in line.rsplit(',') {
            let Some(ip) = parse_entry(entry) else { return client };
            client = ip;
            if !trusted.contains(ip) {
                return client;
            }
        }
    }
    client
}

/// The client's address as [`client_ip`] decides it, as an extractor for handlers and
/// server functions (`leptos_axum::extract_with_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ClientIp {
    /// From a request's parts: its peer (`ConnectInfo`, set by the server) and headers.
    /// `None` when the server was started without connect info.
    pub fn of(parts: &Parts, trusted: &TrustedProxies) -> Option<Self> {
        let ConnectInfo(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>()?;
        // A line that is not visible ASCII reads as "" (malformed) and stops the walk.
        let lines: Vec<&str> =
            parts.headers.get_all(X_FORWARDED_FOR).iter().map(|v| v.to_str().unwrap_or("")).collect();
        Some(Self(client_ip(peer.ip(), lines, trusted)))
    }
}

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Self::of(parts, &state.config.trusted_proxies).ok_or_else(|| {
            ApiError::from(Problem::internal(anyhow::anyhow!("no peer address: the server must run with connect info")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    #[test]
    fn a_peer_that_is_not_trusted_is_the_client_whatever_it_forwards() {
        let proxies = trusted("10.0.0.1");
        assert_eq!(client_ip(ip("198.51.100.9"), ["203.0.113.5"], &proxies), ip("198.51.100.9"));
        assert_eq!(
            client_ip(ip("198.51.100.9"), ["garbage", "1.2.3.4"], &TrustedProxies::default()),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        assert_eq!(client_ip(ip("10.0.0.1"), [], &trusted("10.0.0.1")), ip("10.0.0.1"));
    }

    #[test]
    fn the_right_most_address_that_is_not_a_trusted_proxy_is_the_client() {
        let proxies = trusted("10.0.0.0/8");
        // The client wrote "6.6.6.6" itself; the trusted proxy appended the real peer.
        assert_eq!(client_ip(ip("10.0.0.1"), ["6.6.6.6, 203.0.113.5"], &proxies), ip("203.0.113.5"));
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        let proxies = trusted("10.0.0.0/8, 192.0.2.1");
        assert_eq!(
            client_ip(ip("10.0.0.1"), ["6.6.6.6, 203.0.113.5, 192.0.2.1, 10.1.2.3"], &proxies),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn when_every_address_is_trusted_the_left_most_is_the_client() {
        let proxies = trusted("10.0.0.0/8");
        assert_eq!(client_ip(ip("10.0.0.1"), ["10.9.9.9, 10.0.0.2"], &proxies), ip("10.9.9.9"));
    }

    #[test]
    fn several_header_lines_read_as_one_list_in_order() {
        let proxies = trusted("10.0.0.0/8");
        assert_eq!(client_ip(ip("10.0.0.1"), ["6.6.6.6", "203.0.113.5, 10.0.0.3"], &proxies), ip("203.0.113.5"));
        assert_eq!(client_ip(ip("10.0.0.1"), ["203.0.113.5", "10.0.0.3"], &proxies), ip("203.0.113.5"));
    }

    #[test]
    fn a_malformed_entry_stops_the_walk_at_the_last_trusted_hop() {
        let proxies = trusted("10.0.0.0/8");
        assert_eq!(client_ip(ip("10.0.0.1"), ["unknown"], &proxies), ip("10.0.0.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), ["203.0.113.5, unknown, 10.0.0.7"], &proxies), ip("10.0.0.7"));
        // Garbage left of the client is never reached.
        assert_eq!(client_ip(ip("10.0.0.1"), ["<script>, 203.0.113.5"], &proxies), ip("203.0.113.5"));
    }

    #[test]
    fn an_empty_header_or_an_empty_entry_is_malformed() {
        let proxies = trusted("10.0.0.0/8");
        assert_eq!(client_ip(ip("10.0.0.1"), [""], &proxies), ip("10.0.0.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), ["203.0.113.5,"], &proxies), ip("10.0.0.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), ["203.0.113.5,,10.0.0.2"], &proxies), ip("10.0.0.2"));
    }

    #[test]
    fn addresses_with_ports_ipv6_and_ipv4_mapped_ipv6_are_understood() {
        let proxies = trusted("10.0.0.0/8, fd00::/8");
        assert_eq!(client_ip(ip("10.0.0.1"), ["203.0.113.5:51234"], &proxies), ip("203.0.113.5"));
        assert_eq!(client_ip(ip("fd00::1"), ["[2001:db8::7]:443"], &proxies), ip("2001:db8::7"));
        assert_eq!(client_ip(ip("::ffff:10.0.0.1"), ["::ffff:203.0.113.5"], &proxies), ip("203.0.113.5"));
        assert_eq!(client_ip(ip("::ffff:198.51.100.9"), ["203.0.113.5"], &proxies), ip("198.51.100.9"));
    }

    #[test]
    fn the_setting_takes_addresses_and_cidr_blocks_and_refuses_anything_else() {
        let proxies = trusted(" 127.0.0.1 , 10.0.0.0/8,::1,, fd00::/8 ");
        assert!(proxies.contains(ip("127.0.0.1")) && proxies.contains(ip("10.200.0.1")) && proxies.contains(ip("::1")));
        assert!(
            proxies.contains(ip("fd12::3")) && !proxies.contains(ip("127.0.0.2")) && !proxies.contains(ip("11.0.0.1"))
        );
        assert!(trusted("").is_empty());
        assert_eq!(trusted("10.1.2.3/8").to_string(), "10.0.0.0/8");
        let err = "10.0.0.0/8, proxy.local".parse::<TrustedProxies>().unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
    }
}
