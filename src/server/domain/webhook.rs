//! Webhook signatures as the Standard Webhooks specification states them (SPEC §8): a
//! secret `whsec_` + base64 of its bytes; the signature of an attempt is
//! `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")), and while a rotated-out
//! secret still signs, both signatures are sent, separated by a space.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::Mac;

use super::outbound::{Allowlist, Blocked};

/// The prefix of every webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret.
pub const SECRET_BYTES: usize = 32;

/// A webhook endpoint's signing secret (its bytes; shown to its owner once, as text).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// A new secret of [`SECRET_BYTES`] random bytes.
    pub fn generate() -> Self {
        Self(rand::random::<[u8; SECRET_BYTES]>().to_vec())
    }

    /// Reads `whsec_<base64>`; `None` for anything else or an empty key.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = STANDARD.decode(text.strip_prefix(SECRET_PREFIX)?).ok()?;
        (!bytes.is_empty()).then_some(Self(bytes))
    }

    /// The text the owner copies: `whsec_<base64>`.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,<base64 signature>` of one attempt.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = super::hmac_sha256(&self.0);
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header of one attempt: one signature per active secret (the
/// current one first), space-separated.
pub fn signature_header(secrets: &[&WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// The event types of SPEC §8, in the order pages list them.
pub const EVENT_TYPES: [&str; 10] = [
    "member.invited",
    "member.joined",
    "member.removed",
    "member.role_changed",
    "member.left",
    "invite.revoked",
    "invite.declined",
    "invite_request.created",
    "join_request.created",
    "organization.ownership_transferred",
];

/// How long an answer may take: only a 2xx within this counts (SPEC §8).
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP_SECS: i64 = 24 * 3600;
/// An endpoint failing for this long is disabled and its owners are mailed.
pub const DISABLE_AFTER_FAILING_SECS: i64 = 5 * 24 * 3600;
/// How long attempts (and finished deliveries) are kept.
pub const KEEP_SECS: i64 = 14 * 24 * 3600;
/// How much of an answer's body is kept in the attempt log.
pub const ANSWER_KEPT: usize = 1024;
/// Endpoints one organization may have.
pub const MAX_ENDPOINTS: i64 = 20;
/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// Why an endpoint no longer receives deliveries, besides its owner turning it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledReason {
    /// The receiver answered `410 Gone`.
    Gone,
    /// Every attempt failed for [`DISABLE_AFTER_FAILING_SECS`].
    Failing,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gone => "gone",
            Self::Failing => "failing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "gone" => Some(Self::Gone),
            "failing" => Some(Self::Failing),
            _ => None,
        }
    }
}

/// The delays before each retry (`APP_WEBHOOK_RETRY_SCHEDULE`): after attempt `n` fails,
/// the next comes `delays[n - 1]` seconds later; with none left the delivery has failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<i64>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(vec![5, 300, 1800, 7200, 18000, 36000, 36000])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: give 1 to 20 delays in seconds (1 to 604800 each), comma-separated, such as 5,300,1800")]
pub struct BadSchedule(pub String);

impl std::str::FromStr for RetrySchedule {
    type Err = BadSchedule;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || BadSchedule(raw.to_owned());
        let delays = raw
            .split(',')
            .map(|item| item.trim().parse::<i64>().ok().filter(|d| (1..=604_800).contains(d)).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() || delays.len() > 20 {
            return Err(bad());
        }
        Ok(Self(delays))
    }
}

impl std::fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
    }
}

impl RetrySchedule {
    /// The delay before the attempt after attempt `attempts` (1-based) failed; `None` when
    /// that was the last one.
    pub fn after(&self, attempts: i64) -> Option<i64> {
        usize::try_from(attempts - 1).ok().and_then(|i| self.0.get(i)).copied()
    }
}

/// The URL of an endpoint, checked (SPEC §8, §9.9): `https`, or `http` to a host the
/// operator listed; no credentials; an address written in the URL must be public or listed.
/// Names are checked again on their addresses at every delivery (`server::outbound`).
pub fn endpoint_url(raw: &str, allow: &Allowlist) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the URL that receives the events.".into());
    }
    if raw.len() > MAX_URL_LEN {
        return Err(format!("The URL is too long (at most {MAX_URL_LEN} characters)."));
    }
    let url = url::Url::parse(raw).map_err(|_| "Enter a full URL, such as https://example.com/hooks.".to_owned())?;
    let host = match url.host() {
        Some(host) if matches!(url.scheme(), "http" | "https") => host,
        _ => return Err("Enter an https:// URL.".into()),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave the user name and password out of the URL; requests are signed instead.".into());
    }
    let not_allowed = private_address_refused;
    let listed = match host {
        url::Host::Domain(name) => {
            let name = name.strip_suffix('.').unwrap_or(name);
            let loopback = name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost");
            if loopback && !allow.allows_host(name) {
                return Err(not_allowed(Blocked::Loopback));
            }
            allow.allows_host(name)
        }
        url::Host::Ipv4(ip) => {
            allow.check(None, ip.into()).map_err(not_allowed)?;
            allow.allows_ip(ip.into())
        }
        url::Host::Ipv6(ip) => {
            allow.check(None, ip.into()).map_err(not_allowed)?;
            allow.allows_ip(ip.into())
        }
    };
    if url.scheme() == "http" && !listed {
        return Err("Enter an https:// URL (plain http only to hosts the server's operator allows).".into());
    }
    Ok(url)
}

/// The refusal of an endpoint URL whose host is (or resolves to) a `reason` address. Said
/// to an owner, who cannot change the operator's allow-list, so it names no setting.
pub fn private_address_refused(reason: Blocked) -> String {
    format!(
        "This URL points to a {reason} address. Webhooks reach only public addresses, unless the server's \
         operator allows the host."
    )
}

/// The event types an endpoint asks for: at least one, each of [`EVENT_TYPES`], in that
/// order, each once.
pub fn event_types<S: AsRef<str>>(raw: &[S]) -> Result<Vec<&'static str>, String> {
    if let Some(unknown) = raw.iter().map(AsRef::as_ref).find(|t| !EVENT_TYPES.contains(&t.trim())) {
        let shown: String = unknown.chars().take(60).collect();
        return Err(format!("{shown:?} is not an event type. Choose among: {}.", EVENT_TYPES.join(", ")));
    }
    let wanted: Vec<&'static str> =
        EVENT_TYPES.iter().copied().filter(|t| raw.iter().any(|r| r.as_ref().trim() == *t)).collect();
    if wanted.is_empty() {
        return Err("Choose at least one event type.".into());
    }
    Ok(wanted)
}

/// The start of an answer as the attempt log keeps it: at most [`ANSWER_KEPT`] bytes, cut
/// at a character boundary, invalid UTF-8 replaced.
pub fn answer_start(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(ANSWER_KEPT)]).into_owned();
    let mut end = text.len().min(ANSWER_KEPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A new message id: `msg_` and 26 characters of randomness (the same on every retry and
/// redelivery of one delivery).
pub fn message_id() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("msg_{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_vector_of_the_spec_signs_as_stated() {
        let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            secret.sign("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn two_active_secrets_give_two_signatures_the_current_first() {
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::generate());
        let header = signature_header(&[&new, &old], "msg_1", 10, b"{}");
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(parts, [new.sign("msg_1", 10, b"{}"), old.sign("msg_1", 10, b"{}")]);
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn secrets_round_trip_and_odd_text_is_refused() {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text), Some(secret));
        for bad in ["", "whsec_", "whsec_***", "C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "wh_abc"] {
            assert_eq!(WebhookSecret::parse(bad), None, "{bad}");
        }
        // Never in a log line.
        assert_eq!(format!("{:?}", WebhookSecret::generate()), "WebhookSecret(…)");
    }

    #[test]
    fn a_retry_schedule_reads_delays_and_says_when_to_stop() {
        let schedule: RetrySchedule = "5, 300,1800".parse().unwrap();
        assert_eq!(
            [schedule.after(1), schedule.after(3), schedule.after(4), schedule.after(0)],
            [Some(5), Some(1800), None, None]
        );
        assert_eq!(RetrySchedule::default().to_string(), "5,300,1800,7200,18000,36000,36000");
        let too_many = format!("{}1", "1,".repeat(20));
        for bad in ["", "5,,6", "0", "-1", "x", "604801", too_many.as_str()] {
            assert!(bad.parse::<RetrySchedule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoint_urls_are_https_or_listed_and_never_private_unless_listed() {
        let none = Allowlist::default();
        let listed: Allowlist = "127.0.0.1,hooks.internal".parse().unwrap();
        assert!(endpoint_url("https://hooks.example.com/in?x=1", &none).is_ok());
        for bad in [
            "",
            "hooks.example.com",
            "ftp://hooks.example.com/",
            "http://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://127.0.0.1/",
            "https://10.0.0.5/x",
            "https://[::1]/",
            "https://169.254.169.254/latest",
            "https://localhost/x",
            "https://api.localhost/x",
            "https://0x7f.1/",
        ] {
            assert!(endpoint_url(bad, &none).is_err(), "{bad}");
        }
        assert!(endpoint_url(&format!("https://h.example/{}", "a".repeat(MAX_URL_LEN)), &none).is_err());
        assert!(endpoint_url("http://127.0.0.1:8080/hook", &listed).is_ok());
        assert!(endpoint_url("http://hooks.internal/in", &listed).is_ok());
        assert!(endpoint_url("http://10.0.0.5/", &listed).is_err(), "not listed");
    }

    #[test]
    fn event_types_are_known_ordered_and_at_least_one() {
        assert_eq!(
            event_types(&["member.left", "member.invited", "member.left"]).unwrap(),
            ["member.invited", "member.left"]
        );
        assert!(event_types::<&str>(&[]).is_err());
        assert!(event_types(&["member.exploded"]).unwrap_err().contains("member.exploded"));
    }

    #[test]
    fn the_answer_kept_is_at_most_one_kibibyte_cut_at_a_character() {
        assert_eq!(answer_start(b"ok"), "ok");
        let long = "é".repeat(1000);
        let kept = answer_start(long.as_bytes());
        assert!(kept.len() <= ANSWER_KEPT && kept.chars().all(|c| c == 'é' || c == '\u{fffd}'));
        assert!(message_id().starts_with("msg_") && message_id() != message_id());
    }
}
