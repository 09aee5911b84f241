//! The breached-password check of SPEC §4.2 through a k-anonymity range API (the protocol
//! of Have I Been Pwned's `GET {base}/range/{first 5 hex of SHA-1}`): only the first five
//! hex characters of the password's SHA-1 leave the server; the answer lists suffixes with
//! counts, matched here. Any failure (timeout, error status, garbage) fails open.

use std::time::Duration;

use sha1::{Digest, Sha1};
use url::Url;

use crate::server::domain::Password;

/// How long a registration waits for the range API before it gives up and allows the password.
pub const TIMEOUT: Duration = Duration::from_millis(1500);

/// A client of one range API.
#[derive(Debug, Clone)]
pub struct BreachedPasswords {
    client: reqwest::Client,
    base: Url,
    min_count: u64,
}

impl BreachedPasswords {
    pub fn new(base: Url, min_count: u64) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, base, min_count: min_count.max(1) })
    }

    /// How often the range API has seen this password; `None` when it could not be asked.
    pub async fn times_seen(&self, password: &Password) -> Option<u64> {
        let digest = hex::encode_upper(Sha1::digest(password.expose().as_bytes()));
        let (prefix, suffix) = digest.split_at(5);
        let mut url = self.base.clone();
        url.path_segments_mut().ok()?.pop_if_empty().push("range").push(prefix);
        let body = match self.client.get(url).header("Add-Padding", "true").send().await {
            Ok(response) if response.status().is_success() => response.text().await.map_err(|err| err.to_string()),
            Ok(response) => Err(format!("status {}", response.status().as_u16())),
            Err(err) => Err(err.to_string()),
        };
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                // Fails open: a missing answer must not stop anyone registering.
                tracing::warn!(error, "breached-password check failed; allowing the password");
                return None;
            }
        };
        Some(count_in_range(&body, suffix))
    }

    /// The message when the password is breached often enough to refuse, else `None`.
    pub async fn check(&self, password: &Password) -> Option<String> {
        let seen = self.times_seen(password).await?;
        (seen >= self.min_count).then(|| {
            format!(
                "This password has appeared in a data breach {seen} time{}; choose a different one.",
                if seen == 1 { "" } else { "s" }
            )
        })
    }
}

/// The count for `suffix` in a range answer (`SUFFIX:COUNT` lines), 0 when absent.
pub fn count_in_range(body: &str, suffix: &str) -> u64 {
    body.lines()
        .filter_map(|line| line.trim().split_once(':'))
        .find(|(s, _)| s.eq_ignore_ascii_case(suffix))
        .and_then(|(_, count)| count.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suffix_is_found_in_a_range_answer_whatever_its_case() {
        let body = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:3730471\r\n";
        assert_eq!(count_in_range(body, "1E4C9B93F3F0682250B6CF8331B7EE68FD8"), 3_730_471);
        assert_eq!(count_in_range(body, "1e4c9b93f3f0682250b6cf8331b7ee68fd8"), 3_730_471);
        assert_eq!(count_in_range(body, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"), 0);
        assert_eq!(count_in_range("garbage", "1E4C9"), 0);
        // Padding entries carry a count of 0 and never refuse anything.
        assert_eq!(count_in_range("ABC:0\n", "ABC"), 0);
    }
}
