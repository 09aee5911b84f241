//! The HTTP client for requests an organization configured (SPEC §9.9): its identity
//! provider's discovery, key set, token and UserInfo endpoints, and its webhooks.
//!
//! Such URLs come from outside — an owner types the issuer, the provider's discovery
//! document names the rest — so, unguarded, they let an organization owner aim the server
//! at itself, the cloud metadata service or the private network, and read the answer back
//! from error messages. The guard decides on the address a connection is about to reach,
//! never on the URL's text alone (a public-looking name can resolve to `10.0.0.1`):
//!
//! - names are resolved by [`GuardedResolver`], which hands the connector only the
//!   addresses [`Allowlist::check`] accepts, and fails with [`NotAllowed`] when none is
//!   left — before any connection is made;
//! - IP-literal hosts (`http://169.254.169.254/`) never reach a resolver (the connector
//!   parses them itself), so [`Outbound::send`] checks them before the request leaves;
//! - a redirect is followed only when asked for ([`Outbound::new`]'s `redirects`), and then
//!   each hop goes through the same two checks (literal hosts in the redirect policy,
//!   names in the resolver);
//! - proxies from the environment are ignored: through a proxy the destination would be
//!   resolved, and reached, by the proxy, out of the guard's sight.
//!
//! What went wrong is reported by [`Category`], short enough to show to an owner; the full
//! error is for the logs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use reqwest::Url;

use super::domain::outbound::{Allowlist, Blocked};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What an owner is told about a request that failed: never the answer's body or the
/// error chain, which would make the server a port scanner and a reader of internal pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// No answer: the name does not resolve, the connection is refused or times out.
    Unreachable,
    /// The destination (or an address it resolves to) is private or internal, and not in
    /// `APP_OUTBOUND_ALLOWLIST`; nothing was sent to it.
    NotAllowed,
    /// An answer came, but not the expected one (status, content, size).
    BadAnswer,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::NotAllowed => "not allowed",
            Self::BadAnswer => "bad answer",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A destination the guard refused. It travels inside reqwest's error chain (from the
/// resolver or the redirect policy), where [`category_of`] finds it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{destination} is a {reason} address, not in APP_OUTBOUND_ALLOWLIST")]
pub struct NotAllowed {
    /// The host or address as the request named it.
    pub destination: String,
    pub reason: Blocked,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error(transparent)]
    NotAllowed(#[from] NotAllowed),
    /// Only `http` and `https` URLs with a host are fetched.
    #[error("{0} is not an http(s) URL with a host")]
    Url(String),
    /// The answer was larger than the caller accepts.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    /// The answer could not be turned into what the caller reads.
    #[error("unreadable answer: {0}")]
    Answer(String),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

impl OutboundError {
    pub fn category(&self) -> Category {
        match self {
            Self::NotAllowed(_) | Self::Url(_) => Category::NotAllowed,
            Self::TooLarge(_) | Self::Answer(_) => Category::BadAnswer,
            Self::Http(err) => category_of(err),
        }
    }
}

/// The category of any error from a guarded request, including errors of libraries that
/// wrap ours (the OpenID Connect crate keeps it as their source): a refusal of the guard
/// anywhere in the chain is [`Category::NotAllowed`]; an HTTP status or an undecodable
/// answer is [`Category::BadAnswer`]; anything else kept the answer from arriving.
pub fn category_of(err: &(dyn std::error::Error + 'static)) -> Category {
    let mut http = None;
    let mut source = Some(err);
    while let Some(cause) = source {
        if cause.is::<NotAllowed>() {
            return Category::NotAllowed;
        }
        if let Some(outbound) = cause.downcast_ref::<OutboundError>() {
            if !matches!(outbound, OutboundError::Http(_)) {
                return outbound.category();
            }
        }
        if http.is_none() {
            http = cause.downcast_ref::<reqwest::Error>();
        }
        source = cause.source();
    }
    match http {
        Some(err) if err.is_status() || err.is_decode() => Category::BadAnswer,
        _ => Category::Unreachable,
    }
}

/// Resolves names like the system resolver, then keeps only the addresses the allowlist
/// accepts for that name; with none left the connection fails with [`NotAllowed`].
#[derive(Debug)]
struct GuardedResolver {
    allow: Arc<Allowlist>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(found) => found.collect(),
                Err(err) => return Err(Box::new(err) as BoxError),
            };
            let mut refused = None;
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match allow.check(Some(&host), addr.ip()) {
                    Ok(()) => true,
                    Err(reason) => {
                        refused.get_or_insert(reason);
                        false
                    }
                })
                .collect();
            match (kept.is_empty(), refused) {
                (true, Some(reason)) => Err(Box::new(NotAllowed { destination: host, reason }) as BoxError),
                _ => Ok(Box::new(kept.into_iter()) as Addrs),
            }
        })
    }
}

/// Checks what the resolver never sees: the scheme, and a host written as an IP address.
fn check_url(allow: &Allowlist, url: &Url) -> Result<(), OutboundError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::Url(url.scheme().to_owned()));
    }
    let ip = match url.host() {
        None => return Err(OutboundError::Url(url.to_string())),
        Some(url::Host::Domain(_)) => return Ok(()),
        Some(url::Host::Ipv4(ip)) => ip.into(),
        Some(url::Host::Ipv6(ip)) => ip.into(),
    };
    allow.check(None, ip).map_err(|reason| NotAllowed { destination: ip.to_string(), reason }.into())
}

/// Whether the host of `url` resolves only to addresses the allowlist accepts: the check
/// an owner gets when saving a URL (every request is checked again as it connects). A name
/// that does not resolve (yet), or not within 3 s, passes.
pub async fn resolves_allowed(allow: &Allowlist, url: &str) -> Result<(), Blocked> {
    let Ok(url) = Url::parse(url) else { return Ok(()) };
    let Some(url::Host::Domain(host)) = url.host() else { return Ok(()) };
    if allow.allows_host(host) {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host((host, port))).await;
    let Ok(Ok(found)) = lookup else { return Ok(()) };
    for addr in found {
        allow.check(Some(host), addr.ip())?;
    }
    Ok(())
}

/// The guarded client (cheap to clone; one connection pool).
#[derive(Clone, Debug)]
pub struct Outbound {
    client: reqwest::Client,
    allow: Arc<Allowlist>,
}

impl Outbound {
    /// A client whose requests reach public addresses and those `allow` lists, each within
    /// `timeout`, following at most `redirects` redirects (0: a redirect is answered as is).
    pub fn new(allow: Allowlist, timeout: Duration, redirects: usize) -> anyhow::Result<Self> {
        let allow = Arc::new(allow);
        let policy = if redirects == 0 {
            Policy::none()
        } else {
            let hops = allow.clone();
            Policy::custom(move |attempt| {
                if attempt.previous().len() > redirects {
                    return attempt.error("too many redirects");
                }
                match check_url(&hops, attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(err) => attempt.error(err),
                }
            })
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { allow: allow.clone() }))
            .no_proxy()
            .redirect(policy)
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self { client, allow })
    }

    /// Sends `request` when its destination is allowed (names are checked again, on their
    /// addresses, as the connection is made).
    pub async fn send(&self, request: reqwest::Request) -> Result<reqwest::Response, OutboundError> {
        check_url(&self.allow, request.url())?;
        Ok(self.client.execute(request).await?)
    }

    /// The body of `response`, refused when it grows past `limit` bytes (a provider's
    /// answers are small; a huge one would only cost memory).
    pub async fn body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, OutboundError> {
        if response.content_length().is_some_and(|len| len > limit as u64) {
            return Err(OutboundError::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > limit {
                return Err(OutboundError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allow: &str) -> Outbound {
        Outbound::new(allow.parse().unwrap(), Duration::from_secs(2), 3).unwrap()
    }

    async fn category_of_get(outbound: &Outbound, url: &str) -> Category {
        let request = reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
        outbound.send(request).await.expect_err(url).category()
    }

    #[test]
    fn ip_literal_hosts_are_checked_before_anything_is_sent() {
        let allow: Allowlist = "10.1.0.0/16".parse().unwrap();
        for url in [
            "http://127.0.0.1:9/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://0x7f.1/",
            "http://2130706433/",
        ] {
            let err = check_url(&allow, &url.parse().unwrap()).expect_err(url);
            assert_eq!(err.category(), Category::NotAllowed, "{url}: {err}");
        }
        assert!(check_url(&allow, &"http://10.1.2.3/".parse().unwrap()).is_ok(), "listed range");
        assert!(check_url(&allow, &"https://93.184.215.14/".parse().unwrap()).is_ok(), "public address");
        assert!(
            check_url(&allow, &"https://idp.example.com/".parse().unwrap()).is_ok(),
            "names are checked by the resolver"
        );
        assert!(matches!(check_url(&allow, &"file:///etc/passwd".parse().unwrap()), Err(OutboundError::Url(_))));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_without_a_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let outbound = guard("");
        assert_eq!(category_of_get(&outbound, &format!("http://localhost:{port}/")).await, Category::NotAllowed);
        assert_eq!(category_of_get(&outbound, &format!("http://127.0.0.1:{port}/")).await, Category::NotAllowed);
        assert!(listener.accept().is_err(), "no connection was made");
    }

    #[tokio::test]
    async fn a_listed_name_or_address_is_reached_and_a_closed_port_is_unreachable() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert_eq!(
            category_of_get(&guard("localhost"), &format!("http://localhost:{closed}/")).await,
            Category::Unreachable
        );
        assert_eq!(
            category_of_get(&guard("127.0.0.0/8"), &format!("http://127.0.0.1:{closed}/")).await,
            Category::Unreachable
        );
    }

    #[tokio::test]
    async fn a_redirect_to_an_address_that_is_not_listed_is_not_followed() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                let mut stream = stream.unwrap();
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        let outbound = guard("127.0.0.1");
        assert_eq!(category_of_get(&outbound, &format!("http://127.0.0.1:{port}/")).await, Category::NotAllowed);
    }
}
