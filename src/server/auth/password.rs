//! Argon2id password hashing on a dedicated pool of low-priority threads.
//!
//! Hashing costs tens of milliseconds of CPU. Running it on the async executor would stall
//! every other request; running it unbounded on `spawn_blocking` would let a flood of
//! registrations take every core. A fixed pool of threads, one per core, takes hashes
//! from a queue (the rest wait their turn without blocking the executor), and on Linux
//! those threads run at nice 10: while registrations keep every core busy hashing, page
//! rendering gets most of the CPU, and when nothing else runs the hashes get all of it.
//! (`SCHED_IDLE` would favour pages even more, but starves hashes outright on a busy
//! machine.)
//!
//! The queue is bounded (SPEC §9.3, §9.4): when as many hashes wait as it holds, a new
//! one is refused at once with [`HashError::Busy`], which sign-in and registration answer
//! with 503 and `Retry-After`. Waiting without end would only hold connections and memory
//! while the answers come too late to matter.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::oneshot;

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
    #[error("the password hashing pool is gone")]
    PoolGone,
    /// The queue is full: try again in [`BUSY_RETRY_AFTER_SECS`].
    #[error("the password hashing queue is full")]
    Busy,
}

/// Hashes that may wait per hashing thread, by default. A hash takes tens of
/// milliseconds of one core, so a full queue drains within about a second: a burst of
/// sign-ins waits its turn, a flood is turned away instead of being answered too late.
pub const QUEUE_PER_THREAD: usize = 16;
/// The `Retry-After` of a refusal for a full queue: it drains within a second.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

type Job = Box<dyn FnOnce() + Send>;

/// The nice value of the hashing threads: below request handling, but never starved.
pub const HASHING_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority (Linux: per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id has no memory effects.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, HASHING_NICE) != 0 {
            tracing::debug!("could not lower the hashing thread's priority");
        }
    }
}

/// Starts `threads` hashing threads sharing one queue.
fn start_pool(threads: usize) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..threads {
        let rx = Arc::clone(&rx);
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                lower_priority();
                loop {
                    let job = match rx.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .expect("spawn a hashing thread");
    }
    tx
}

/// Hashes and verifies passwords with explicit argon2id parameters on a bounded pool.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: mpsc::Sender<Job>,
    threads: usize,
    /// Jobs sent and not yet started by a thread.
    waiting: Arc<AtomicUsize>,
    /// How many may wait.
    capacity: usize,
    /// Verified against when the user does not exist, so that unknown users take as long
    /// as known ones (see [`dummy_hash`]).
    dummy: Arc<PasswordHash>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("threads", &self.threads).field("capacity", &self.capacity).finish()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHasher {
    /// A hasher running at most `parallelism` hashes at once, with the default queue.
    pub fn new(parallelism: usize) -> Self {
        Self::with_queue(parallelism, None)
    }

    /// A hasher running at most `parallelism` hashes at once, with at most `queue` more
    /// waiting (default: [`QUEUE_PER_THREAD`] per thread).
    pub fn with_queue(parallelism: usize, queue: Option<usize>) -> Self {
        let threads = parallelism.max(1);
        Self {
            queue: start_pool(threads),
            threads,
            waiting: Arc::default(),
            capacity: queue.unwrap_or(threads * QUEUE_PER_THREAD),
            dummy: Arc::new(dummy_hash()),
        }
    }

    /// Sized to the machine's cores, with at most `queue` hashes waiting.
    pub fn for_this_machine(queue: Option<usize>) -> Self {
        Self::with_queue(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), queue)
    }

    /// Hashes waiting for a thread now (not counting those running).
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        // A place in the queue, or `Busy` at once.
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.capacity).then_some(n + 1))
            .map_err(|_| HashError::Busy)?;
        let waiting = Arc::clone(&self.waiting);
        let (done, result) = oneshot::channel();
        let sent = self.queue.send(Box::new(move || {
            waiting.fetch_sub(1, Ordering::AcqRel);
            let _ = done.send(job());
        }));
        if sent.is_err() {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::PoolGone);
        }
        result.await.map_err(|_| HashError::PoolGone)
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
            None => (self.dummy.as_phc().to_owned(), false),
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
}

/// A hash with the production parameters, a random salt and a random output: verifying
/// any password against it costs one full argon2id computation, exactly like a real hash,
/// and never succeeds. Made without hashing, so that the server does not compute (and
/// keep the 19 MiB of) a hash at start for it.
fn dummy_hash() -> PasswordHash {
    let salt = SaltString::generate(&mut OsRng);
    let output =
        argon2::password_hash::Output::new(&rand::random::<[u8; 32]>()).expect("32 bytes is a valid output length");
    PasswordHash(format!("$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}${}${output}", salt.as_str()))
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
    async fn the_dummy_hash_has_the_real_parameters_so_it_costs_a_real_verification() {
        let hasher = PasswordHasher::new(1);
        let real = hasher.hash(&Password::new("correct horse battery")).await.unwrap();
        let (dummy, real) = (
            argon2::PasswordHash::new(hasher.dummy.as_phc()).unwrap(),
            argon2::PasswordHash::new(real.as_phc()).unwrap(),
        );
        assert_eq!((dummy.algorithm, dummy.version, &dummy.params), (real.algorithm, real.version, &real.params));
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert_ne!(PasswordHasher::new(1).dummy.as_phc(), hasher.dummy.as_phc(), "random per process");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_takes_work_again_once_it_drains() {
        let hasher = PasswordHasher::with_queue(1, Some(1));
        // One thread busy, one job waiting: the queue is full.
        let (started_tx, started_rx) = oneshot::channel::<()>();
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let running = {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                hasher
                    .run(move || {
                        let _ = started_tx.send(());
                        blocked.recv().ok()
                    })
                    .await
            })
        };
        started_rx.await.unwrap();
        let waiting = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.run(|| 2).await })
        };
        while hasher.queue_depth() == 0 {
            tokio::task::yield_now().await;
        }
        // Refused at once: waiting here would wait for ever, the thread is held.
        assert!(matches!(hasher.hash(&Password::new("correct horse battery")).await, Err(HashError::Busy)));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), Some(()));
        assert_eq!(waiting.await.unwrap().unwrap(), 2);
        assert_eq!(hasher.queue_depth(), 0);
        assert!(hasher.hash(&Password::new("correct horse battery")).await.is_ok());
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_a_mismatch_not_a_panic() {
        let hasher = PasswordHasher::new(1);
        let bogus = PasswordHash::from_stored("not a phc string".into());
        assert!(!hasher.verify(&Password::new("anything at all"), Some(&bogus)).await.unwrap());
    }
}
