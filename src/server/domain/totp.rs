//! Time-based one-time passwords (RFC 6238) and recovery codes (SPEC §6).
//!
//! Codes are HMAC-SHA1, 6 digits, 30-second steps — what every authenticator app reads
//! from an `otpauth://` URL. A code is accepted for the current step and one step either
//! side (clock skew); the caller stores the step it accepted so a code is never used twice.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Steps accepted either side of the current one.
pub const SKEW_STEPS: u64 = 1;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;

/// A TOTP shared secret: 160 random bits (the HMAC-SHA1 block RFC 4226 recommends).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        Self(rand::random::<[u8; 20]>().to_vec())
    }

    /// Parses the base32 text form (spaces and case ignored). At least 128 bits.
    pub fn from_base32(text: &str) -> Option<Self> {
        let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if cleaned.is_empty() || cleaned.len() > 128 {
            return None;
        }
        let bytes = Secret::Encoded(cleaned).to_bytes().ok()?;
        (bytes.len() >= 16).then_some(Self(bytes))
    }

    /// The base32 text form, as shown to the user and stored.
    pub fn base32(&self) -> String {
        match Secret::Raw(self.0.clone()).to_encoded() {
            Secret::Encoded(text) => text,
            Secret::Raw(_) => unreachable!("to_encoded always encodes"),
        }
    }

    fn totp(&self) -> TOTP {
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECS, self.0.clone())
    }

    /// The code for a time step.
    pub fn code_for_step(&self, step: u64) -> String {
        self.totp().generate(step * STEP_SECS)
    }

    /// The step a presented code belongs to, within the skew window around `now` (Unix
    /// seconds), or `None`. Every candidate is compared in constant time.
    pub fn matching_step(&self, code: &str, now: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = now / STEP_SECS;
        let mut found = None;
        for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
            if bool::from(self.code_for_step(step).as_bytes().ct_eq(code.as_bytes())) {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://` URL an authenticator app reads from the QR code.
    pub fn otpauth_url(&self, issuer: &str, account: &str) -> String {
        let mut url = url::Url::parse("otpauth://totp/").expect("static URL");
        url.set_path(&format!("{}:{}", encode(issuer), encode(account)));
        url.query_pairs_mut()
            .append_pair("secret", &self.base32())
            .append_pair("issuer", issuer)
            .append_pair("algorithm", "SHA1")
            .append_pair("digits", &DIGITS.to_string())
            .append_pair("period", &STEP_SECS.to_string());
        url.to_string()
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Whether a presented second factor looks like a TOTP code (else it is tried as a
/// recovery code).
pub fn looks_like_code(text: &str) -> bool {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A QR code of `data` as an SVG document (dark modules on white).
pub fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    Some(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Characters of a recovery code: its two groups of four.
const RECOVERY_CHARS: usize = 8;

/// Fresh recovery codes, shown once: `xxxx-xxxx` (SPEC §6; about 40 bits each, from an
/// alphabet without look-alike characters).
pub fn generate_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: String = (0..RECOVERY_CHARS)
                .map(|_| RECOVERY_ALPHABET[rand::random::<usize>() % RECOVERY_ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..4], &chars[4..])
        })
        .collect()
}

/// A fresh set of recovery codes for `user_id`: the codes, shown once, and their stored
/// forms ([`hash_recovery_code`]).
pub fn new_recovery_codes(key: &[u8], user_id: i64) -> (Vec<String>, Vec<String>) {
    let codes = generate_recovery_codes();
    let hashes = codes.iter().filter_map(|c| hash_recovery_code(key, user_id, c)).collect();
    (codes, hashes)
}

/// The stored form of a recovery code, from its normalised text (dashes, spaces and case
/// ignored): HMAC-SHA256 keyed with the instance secret and bound to the user, so that a
/// copy of the table alone cannot be searched for the short codes. Codes of the earlier
/// 20-character form (about 98 bits) are stored as their plain SHA-256.
pub fn hash_recovery_code(key: &[u8], user_id: i64, code: &str) -> Option<String> {
    use hmac::Mac;
    let normalised: String =
        code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    match normalised.len() {
        RECOVERY_CHARS => {
            let mut mac = super::hmac_sha256(key);
            mac.update(format!("recovery-code\n{user_id}\n{normalised}").as_bytes());
            Some(hex::encode(mac.finalize().into_bytes()))
        }
        20 => Some(hex::encode(Sha256::digest(normalised.as_bytes()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the test vectors, 8 digits, for the three HMACs.
    fn rfc_code(algorithm: Algorithm, secret: &[u8], time: u64) -> String {
        TOTP::new_unchecked(algorithm, 8, 0, 30, secret.to_vec()).generate(time)
    }

    #[test]
    fn the_rfc_6238_test_vectors_are_reproduced() {
        let sha1 = b"12345678901234567890";
        let sha256 = b"12345678901234567890123456789012";
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, c1, c256, c512) in vectors {
            assert_eq!(rfc_code(Algorithm::SHA1, sha1, time), c1, "SHA1 at {time}");
            assert_eq!(rfc_code(Algorithm::SHA256, sha256, time), c256, "SHA256 at {time}");
            assert_eq!(rfc_code(Algorithm::SHA512, sha512, time), c512, "SHA512 at {time}");
        }
    }

    #[test]
    fn our_six_digit_codes_are_the_last_six_digits_of_the_rfc_sha1_vectors() {
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        assert_eq!(secret.code_for_step(59 / 30), "287082");
        assert_eq!(secret.code_for_step(1111111109 / 30), "081804");
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_not_two() {
        let secret = TotpSecret::generate();
        let now = 1_700_000_015;
        let step = now / STEP_SECS;
        for accepted in [step - 1, step, step + 1] {
            assert_eq!(secret.matching_step(&secret.code_for_step(accepted), now), Some(accepted));
        }
        for refused in [step - 2, step + 2] {
            let code = secret.code_for_step(refused);
            // A different step can share a code by chance (1 in a million); skip that case.
            if (step - 1..=step + 1).all(|s| secret.code_for_step(s) != code) {
                assert_eq!(secret.matching_step(&code, now), None);
            }
        }
    }

    #[test]
    fn malformed_codes_never_match() {
        let secret = TotpSecret::generate();
        for code in ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６"] {
            assert_eq!(secret.matching_step(code, 1_700_000_000), None, "{code:?}");
        }
        let code = secret.code_for_step(1_700_000_000 / 30);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(secret.matching_step(&spaced, 1_700_000_000).is_some(), "spaces are ignored");
    }

    #[test]
    fn the_secret_round_trips_through_base32_and_short_secrets_are_refused() {
        let secret = TotpSecret::generate();
        let text = secret.base32();
        assert_eq!(text.len(), 32);
        assert_eq!(TotpSecret::from_base32(&text.to_lowercase()), Some(secret));
        assert_eq!(TotpSecret::from_base32("JBSWY3DP"), None, "40 bits is too short");
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
        assert_eq!(TotpSecret::from_base32(""), None);
    }

    #[test]
    fn the_otpauth_url_carries_the_secret_issuer_and_account() {
        let secret = TotpSecret::generate();
        let url = secret.otpauth_url("Gatehouse", "ada@example.com");
        assert!(url.starts_with("otpauth://totp/Gatehouse:ada%40example.com?"), "{url}");
        assert!(url.contains(&format!("secret={}", secret.base32())));
        assert!(url.contains("issuer=Gatehouse") && url.contains("digits=6") && url.contains("period=30"));
        assert!(qr_svg(&url).is_some_and(|svg| svg.contains("<svg")));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_the_same_however_they_are_typed() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 9);
        assert!(codes.iter().all(|c| c.chars().enumerate().all(|(i, ch)| (i == 4) == (ch == '-'))), "{codes:?}");
        let key = b"instance secret";
        let hash = hash_recovery_code(key, 7, code).unwrap();
        assert_eq!(hash_recovery_code(key, 7, &code.to_uppercase().replace('-', " ")), Some(hash.clone()));
        assert_ne!(hash_recovery_code(key, 7, &codes[1]), Some(hash.clone()));
        assert_ne!(hash_recovery_code(key, 8, code), Some(hash.clone()), "bound to the user");
        assert_ne!(hash_recovery_code(b"another secret", 7, code), Some(hash), "keyed");
        assert_eq!(hash_recovery_code(key, 7, "short"), None);
        assert!(looks_like_code("123 456") && !looks_like_code(code));
    }
}
