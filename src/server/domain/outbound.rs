//! Which addresses a request that an organization configured may reach (SPEC §9.9).
//!
//! An owner types the URL of their identity provider (and, through its discovery document,
//! the provider names more URLs). Without a rule, that lets anyone who can create an
//! organization make the server fetch `http://127.0.0.1:…`, the cloud metadata service at
//! `169.254.169.254` or any host of the private network, and read what came back in error
//! messages. So every such connection is checked on the address it is about to reach:
//! [`blocked`] names the ranges that are never reached from outside, and an operator lists
//! the internal hosts that are meant to be reached (an on-premises provider, tests) in
//! `APP_OUTBOUND_ALLOWLIST`, parsed by [`Allowlist`].
//!
//! Pure rules; the HTTP client that applies them is `server::outbound`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// Why an address is not reached unless allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// `0.0.0.0/8`, `::` — "this host" on most systems.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16` (RFC 1918).
    Private,
    /// `100.64/10`, carrier-grade NAT (RFC 6598): private in practice.
    SharedAddressSpace,
    /// `169.254/16` (the cloud metadata services live here), `fe80::/10`.
    LinkLocal,
    /// `fc00::/7` (RFC 4193), and the deprecated site-local `fec0::/10`.
    UniqueLocal,
    /// Multicast and the limited broadcast address: never one server.
    Multicast,
    /// Documentation, benchmarking, protocol-assignment, discard-only and reserved ranges:
    /// nothing legitimate lives there, and some networks route them internally.
    Reserved,
}

impl Blocked {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::SharedAddressSpace => "shared address space",
            Self::LinkLocal => "link-local",
            Self::UniqueLocal => "unique-local",
            Self::Multicast => "multicast or broadcast",
            Self::Reserved => "reserved",
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reason `ip` is not reached from here without an allowlist entry, or `None` for an
/// ordinary public address. IPv6 addresses that carry an IPv4 address (mapped, compatible,
/// NAT64, 6to4) are judged by the IPv4 address they lead to.
pub fn blocked(ip: IpAddr) -> Option<Blocked> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<Blocked> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => Blocked::Unspecified,
        (127, _, _) => Blocked::Loopback,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Blocked::Private,
        (100, 64..=127, _) => Blocked::SharedAddressSpace,
        (169, 254, _) => Blocked::LinkLocal,
        (224..=239, _, _) => Blocked::Multicast,
        _ if ip.is_broadcast() => Blocked::Multicast,
        // 192.0.0/24 protocol assignments, 192.0.2/24, 198.51.100/24, 203.0.113/24
        // documentation, 198.18/15 benchmarking, 240/4 reserved.
        (192, 0, 0 | 2) | (198, 51, 100) | (203, 0, 113) | (198, 18..=19, _) | (240..=255, _, _) => Blocked::Reserved,
        _ => return None,
    })
}

fn blocked_v6(ip: Ipv6Addr) -> Option<Blocked> {
    if ip.is_unspecified() {
        return Some(Blocked::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Blocked::Loopback);
    }
    let segments = ip.segments();
    let octets = ip.octets();
    let embedded = |at: usize| Ipv4Addr::new(octets[at], octets[at + 1], octets[at + 2], octets[at + 3]);
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the deprecated compatible form): the socket
    // reaches the IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    if segments[..6] == [0; 6] {
        return blocked_v4(embedded(12));
    }
    // NAT64 (64:ff9b::/96, RFC 6052) and 6to4 (2002::/16) lead to an IPv4 address too.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return blocked_v4(embedded(12));
    }
    if segments[0] == 0x2002 {
        return blocked_v4(embedded(2));
    }
    Some(match segments[0] {
        s if s & 0xfe00 == 0xfc00 => Blocked::UniqueLocal,
        s if s & 0xffc0 == 0xfe80 => Blocked::LinkLocal,
        s if s & 0xffc0 == 0xfec0 => Blocked::UniqueLocal,
        s if s & 0xff00 == 0xff00 => Blocked::Multicast,
        // 2001:db8::/32 documentation, 100::/64 discard-only, 64:ff9b:1::/48 local NAT64.
        0x2001 if segments[1] == 0x0db8 => Blocked::Reserved,
        0x0100 if segments[1..4] == [0, 0, 0] => Blocked::Reserved,
        0x0064 if segments[1..3] == [0xff9b, 1] => Blocked::Reserved,
        _ => return None,
    })
}

/// `APP_OUTBOUND_ALLOWLIST`: comma-separated host names (exact, case-insensitive), IP
/// addresses (`10.0.0.5`, `::1`, `[::1]`) and CIDR ranges (`10.20.0.0/16`, `fd00::/8`).
/// A listed host name may resolve to any address; a listed address or range may be reached
/// under any name. Empty items are ignored, so an empty setting allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    hosts: Vec<String>,
    ranges: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a host name, an IP address or a CIDR range (such as idp.corp.example, 10.0.0.5 or 10.20.0.0/16)")]
pub struct BadAllowlistEntry(pub String);

impl FromStr for Allowlist {
    type Err = BadAllowlistEntry;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut list = Allowlist::default();
        for item in raw.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            if let Some(range) = range(item) {
                list.ranges.push(range);
            } else if let Some(host) = host_name(item) {
                list.hosts.push(host);
            } else {
                return Err(BadAllowlistEntry(item.to_owned()));
            }
        }
        Ok(list)
    }
}

/// `10.20.0.0/16`, `fd00::/8`, or one address (`10.0.0.5`, `::1`, `[::1]`) as a range of one.
fn range(raw: &str) -> Option<IpNet> {
    let bare = raw.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(raw);
    bare.parse::<IpAddr>().map(IpNet::from).or_else(|_| raw.parse::<IpNet>()).ok()
}

/// A DNS name as the allowlist compares it: lower case, no trailing dot; `None` for
/// anything else (a URL, a port, a wildcard, a malformed address).
fn host_name(raw: &str) -> Option<String> {
    let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let all_numeric = name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    (name.len() <= 253 && !all_numeric && name.split('.').all(label_ok)).then_some(name)
}

impl Allowlist {
    /// Whether connections to `host` (as written in the URL) are allowed whatever it resolves to.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.hosts.iter().any(|listed| listed.eq_ignore_ascii_case(host))
    }

    /// Whether `ip` is in a listed range.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        // An IPv4 address reached through its IPv4-mapped IPv6 form is the same destination.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.ranges.iter().any(|range| range.contains(&ip))
    }

    /// Whether a connection to `ip`, reached under the name `host` (`None` for an address
    /// written in the URL), may be made: a public address, or one the operator listed.
    pub fn check(&self, host: Option<&str>, ip: IpAddr) -> Result<(), Blocked> {
        match blocked(ip) {
            None => Ok(()),
            Some(_) if host.is_some_and(|h| self.allows_host(h)) || self.allows_ip(ip) => Ok(()),
            Some(reason) => Err(reason),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ranges.is_empty()
    }
}

impl fmt::Display for Allowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.hosts.iter().cloned().chain(self.ranges.iter().map(IpNet::to_string)).collect();
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn reason(raw: &str) -> Option<Blocked> {
        blocked(ip(raw))
    }

    #[test]
    fn loopback_private_link_local_and_unspecified_ipv4_addresses_are_blocked() {
        for (addr, why) in [
            ("127.0.0.1", Blocked::Loopback),
            ("127.255.255.254", Blocked::Loopback),
            ("10.0.0.1", Blocked::Private),
            ("10.255.255.255", Blocked::Private),
            ("172.16.0.1", Blocked::Private),
            ("172.31.255.255", Blocked::Private),
            ("192.168.1.1", Blocked::Private),
            ("169.254.169.254", Blocked::LinkLocal),
            ("100.64.0.1", Blocked::SharedAddressSpace),
            ("100.127.255.255", Blocked::SharedAddressSpace),
            ("0.0.0.0", Blocked::Unspecified),
            ("0.1.2.3", Blocked::Unspecified),
            ("224.0.0.1", Blocked::Multicast),
            ("239.255.255.250", Blocked::Multicast),
            ("255.255.255.255", Blocked::Multicast),
            ("192.0.2.10", Blocked::Reserved),
            ("198.51.100.7", Blocked::Reserved),
            ("203.0.113.9", Blocked::Reserved),
            ("198.18.0.1", Blocked::Reserved),
            ("240.0.0.1", Blocked::Reserved),
        ] {
            assert_eq!(reason(addr), Some(why), "{addr}");
        }
    }

    #[test]
    fn public_ipv4_addresses_next_to_the_blocked_ranges_are_reachable() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "11.0.0.1",
            "192.169.0.1",
            "223.255.255.255",
            "198.20.0.1",
        ] {
            assert_eq!(reason(addr), None, "{addr}");
        }
    }

    #[test]
    fn ipv6_loopback_unique_local_link_local_and_multicast_addresses_are_blocked() {
        for (addr, why) in [
            ("::1", Blocked::Loopback),
            ("::", Blocked::Unspecified),
            ("fc00::1", Blocked::UniqueLocal),
            ("fd12:3456:789a::1", Blocked::UniqueLocal),
            ("fe80::1", Blocked::LinkLocal),
            ("febf::1", Blocked::LinkLocal),
            ("fec0::1", Blocked::UniqueLocal),
            ("ff02::1", Blocked::Multicast),
            ("2001:db8::1", Blocked::Reserved),
            ("100::1", Blocked::Reserved),
        ] {
            assert_eq!(reason(addr), Some(why), "{addr}");
        }
        assert_eq!(reason("2606:4700:4700::1111"), None);
        assert_eq!(reason("2a00:1450:4001:80b::200e"), None);
    }

    #[test]
    fn ipv6_addresses_that_lead_to_an_ipv4_address_are_judged_by_it() {
        assert_eq!(reason("::ffff:127.0.0.1"), Some(Blocked::Loopback), "mapped");
        assert_eq!(reason("::ffff:169.254.169.254"), Some(Blocked::LinkLocal), "mapped");
        assert_eq!(reason("::ffff:10.1.2.3"), Some(Blocked::Private), "mapped");
        assert_eq!(reason("::127.0.0.1"), Some(Blocked::Loopback), "compatible");
        assert_eq!(reason("64:ff9b::a00:1"), Some(Blocked::Private), "NAT64 of 10.0.0.1");
        assert_eq!(reason("2002:7f00:1::"), Some(Blocked::Loopback), "6to4 of 127.0.0.1");
        assert_eq!(reason("::ffff:8.8.8.8"), None, "mapped public address");
        assert_eq!(reason("64:ff9b::808:808"), None, "NAT64 of 8.8.8.8");
    }

    #[test]
    fn an_allowlist_is_hosts_addresses_and_ranges_separated_by_commas() {
        let list: Allowlist =
            " idp.corp.example, 127.0.0.1 ,10.20.0.0/16,[::1], fd00::/8,Login.Internal.,".parse().unwrap();
        assert!(list.allows_host("idp.corp.example"));
        assert!(list.allows_host("IDP.corp.example."), "case and trailing dot do not matter");
        assert!(list.allows_host("login.internal"));
        assert!(!list.allows_host("corp.example"), "exact names, no suffix match");
        assert!(!list.allows_host("evil-idp.corp.example"));
        assert!(list.allows_ip(ip("127.0.0.1")));
        assert!(!list.allows_ip(ip("127.0.0.2")), "a single address is a range of one");
        assert!(list.allows_ip(ip("10.20.255.1")));
        assert!(!list.allows_ip(ip("10.21.0.1")));
        assert!(list.allows_ip(ip("::1")));
        assert!(list.allows_ip(ip("fdff::1")));
        assert!(list.allows_ip(ip("::ffff:127.0.0.1")), "the mapped form of a listed IPv4 address");
        assert_eq!(list.to_string(), "idp.corp.example,login.internal,127.0.0.1/32,10.20.0.0/16,::1/128,fd00::/8");
    }

    #[test]
    fn an_empty_allowlist_allows_nothing_and_malformed_entries_are_refused() {
        let empty: Allowlist = " , ".parse().unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.check(None, ip("127.0.0.1")), Err(Blocked::Loopback));
        for bad in [
            "http://idp.example",
            "idp.example:8443",
            "*.corp.example",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/x",
            "::1/129",
            "300.1.1.1",
            "10.1",
            "a..b",
            "-bad.example",
        ] {
            assert_eq!(bad.parse::<Allowlist>(), Err(BadAllowlistEntry(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn a_blocked_address_is_reached_only_when_its_host_or_address_is_listed() {
        let list: Allowlist = "idp.corp.example,10.0.0.0/8".parse().unwrap();
        assert_eq!(list.check(Some("idp.corp.example"), ip("192.168.1.10")), Ok(()), "listed host, any address");
        assert_eq!(list.check(Some("other.example"), ip("10.9.8.7")), Ok(()), "listed range, any name");
        assert_eq!(list.check(Some("other.example"), ip("192.168.1.10")), Err(Blocked::Private));
        assert_eq!(list.check(None, ip("169.254.169.254")), Err(Blocked::LinkLocal));
        assert_eq!(list.check(Some("example.com"), ip("93.184.215.14")), Ok(()), "public addresses need no entry");
    }
}
