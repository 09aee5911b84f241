//! Argon2id password hashing on a bounded pool of blocking threads.
//!
//! Hashing costs tens of milliseconds of CPU. Running it on the async executor would stall
//! every other request; running it unbounded on `spawn_blocking` would let a flood of
//! registrations take every core. A semaphore sized to the machine bounds the hashes in
//! flight, and the rest wait their turn without blocking the executor.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::server::domain::Password;

/// Memory cost in KiB (the OWASP minimum for argon2id).
pub const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;

/// A PHC-format argon2id hash as stored. Not `Serialize`, redacted in `Debug`.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Hashes and verifies passwords with explicit argon2id parameters on a bounded pool.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not exist so that
    /// unknown users take as long as known ones.
    dummy: Arc<OnceCell<PasswordHash>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("permits", &self.permits.available_permits()).finish()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHasher {
    /// A hasher running at most `parallelism` hashes at once.
    pub fn new(parallelism: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(parallelism.max(1))), dummy: Arc::default() }
    }

    /// Sized to the machine's cores.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.expect("the hashing semaphore is never closed");
        Ok(tokio::task::spawn_blocking(job).await?)
    }

    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let password = password.clone();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| PasswordHash(h.to_string()))
                .map_err(|e| HashError::Hash(e.to_string()))
        })
        .await?
    }

    /// Verifies `password` against `stored`; with no stored hash (unknown user, or an
    /// account without a password) it verifies against a dummy hash and answers `false`,
    /// so both cases cost one full argon2 computation.
    pub async fn verify(&self, password: &Password, stored: Option<&PasswordHash>) -> Result<bool, HashError> {
        let (phc, real) = match stored {
            Some(hash) => (hash.as_phc().to_owned(), true),
            None => (self.dummy().await?.as_phc().to_owned(), false),
        };
        let password = password.clone();
        let matches = self
            .run(move || {
                argon2::PasswordHash::new(&phc)
                    .map(|parsed| argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        Ok(real && matches)
    }

    async fn dummy(&self) -> Result<&PasswordHash, HashError> {
        self.dummy
            .get_or_try_init(|| async {
                let random: [u8; 16] = rand::random();
                self.hash(&Password::new(hex::encode(random))).await
            })
            .await
    }

    /// Computes the dummy hash ahead of the first unknown-user login.
    pub async fn warm_up(&self) -> Result<(), HashError> {
        self.dummy().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = PasswordHasher::new(2);
        let hash = hasher.hash(&Password::new("correct horse battery")).await.unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&Password::new("correct horse battery"), Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&Password::new("wrong horse battery"), Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new(1);
        assert!(!hasher.verify(&Password::new("anything at all"), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_a_mismatch_not_a_panic() {
        let hasher = PasswordHasher::new(1);
        let bogus = PasswordHash::from_stored("not a phc string".into());
        assert!(!hasher.verify(&Password::new("anything at all"), Some(&bogus)).await.unwrap());
    }
}
