//! Secrets the server must read back (identity providers' client secrets, users' TOTP
//! secrets, webhook signing secrets), sealed at rest with ChaCha20-Poly1305 under keys derived from
//! `APP_SECRET_KEY`, one per purpose.
//!
//! The owner's id (organization, user) is the associated data: a sealed value copied into
//! another row does not open. A database dump without the secret key reveals
//! nothing; rotating `APP_SECRET_KEY` means entering the client secrets again.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::Mac;

/// Version prefix of the stored form, so the scheme can change later.
const PREFIX: &str = "v1:";

/// A key for sealing client secrets, derived from the instance secret.
#[derive(Clone)]
pub struct SealingKey(Key);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the sealed secret cannot be opened (was APP_SECRET_KEY changed?)")]
pub struct OpenError;

impl SealingKey {
    /// Derives the key: HMAC-SHA256 of a fixed label under the instance secret, so this
    /// key is unrelated to the other uses of that secret.
    pub fn derive(instance_secret: &[u8]) -> Self {
        Self::derive_for(instance_secret, b"gatehouse/auth-provider-client-secret/v1")
    }

    /// The key for users' TOTP secrets (SPEC §6), sealed with the user id as associated data.
    pub fn totp(instance_secret: &[u8]) -> Self {
        Self::derive_for(instance_secret, b"gatehouse/totp-secret/v1")
    }

    /// The key for webhook endpoints' signing secrets (SPEC §8), sealed with the endpoint
    /// id as associated data.
    pub fn webhooks(instance_secret: &[u8]) -> Self {
        Self::derive_for(instance_secret, b"gatehouse/webhook-secret/v1")
    }

    fn derive_for(instance_secret: &[u8], label: &[u8]) -> Self {
        let mut mac = crate::server::domain::hmac_sha256(instance_secret);
        mac.update(label);
        Self(Key::clone_from_slice(&mac.finalize().into_bytes()))
    }

    /// Whether a stored value is in the sealed form (older rows may hold plain text).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    /// Seals `plaintext` for organization `org_id`: `v1:` + hex(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, org_id: i64, plaintext: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        let aad = org_id.to_be_bytes();
        let sealed = ChaCha20Poly1305::new(&self.0)
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: &aad })
            .expect("ChaCha20-Poly1305 encryption of a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", hex::encode(out))
    }

    /// Opens a value sealed for organization `org_id`.
    pub fn open(&self, org_id: i64, stored: &str) -> Result<String, OpenError> {
        let raw = stored.strip_prefix(PREFIX).and_then(|h| hex::decode(h).ok()).ok_or(OpenError)?;
        if raw.len() < 12 + 16 {
            return Err(OpenError);
        }
        let (nonce, sealed) = raw.split_at(12);
        let aad = org_id.to_be_bytes();
        let plain = ChaCha20Poly1305::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: &aad })
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_organization_and_is_not_stored_in_clear() {
        let key = SealingKey::derive(b"instance secret");
        let sealed = key.seal(7, "client-secret-value");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("client-secret-value"));
        assert_eq!(key.open(7, &sealed).unwrap(), "client-secret-value");
        assert_ne!(sealed, key.seal(7, "client-secret-value"), "a fresh nonce each time");
    }

    #[test]
    fn a_sealed_secret_does_not_open_elsewhere_or_after_tampering() {
        let key = SealingKey::derive(b"instance secret");
        let sealed = key.seal(7, "s3cret");
        assert_eq!(key.open(8, &sealed), Err(OpenError), "another organization's row");
        assert_eq!(SealingKey::derive(b"another secret").open(7, &sealed), Err(OpenError));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(key.open(7, std::str::from_utf8(&tampered).unwrap()), Err(OpenError));
        assert_eq!(key.open(7, "v1:00"), Err(OpenError));
        assert_eq!(key.open(7, "plain"), Err(OpenError));
    }
}
