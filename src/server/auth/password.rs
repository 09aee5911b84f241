//! Argon2id password hashing on a dedicated pool of background-priority threads.
//!
//! Hashing costs tens of milliseconds of CPU. Running it on the async executor would stall
//! every other request; running it unbounded on `spawn_blocking` would let a flood of
//! registrations take every core. A fixed pool of threads, one per core, takes hashes
//! from a queue (the rest wait their turn without blocking the executor).
//!
//! On Linux those threads run under `SCHED_IDLE`: a request that wakes up takes the core
//! from a hash at once, so pages stay as fast while registrations keep every core busy,
//! and when nothing else runs the hashes get all of it. The price of that policy is that
//! a machine kept busy by other work would starve hashes outright; so a rescue thread at
//! ordinary (nice 10) priority computes any hash that has waited longer than
//! [`RESCUE_AFTER`] — queued or stalled on a starved thread — and the first result wins.
//! On an overloaded machine sign-ins and registrations slow down; they never stop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{oneshot, OnceCell};

use crate::server::domain::Password;

/// Memory cost in KiB (the OWASP minimum for argon2id).
pub const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;

/// A hash unfinished this long after it was asked for is computed by the rescue thread.
pub const RESCUE_AFTER: Duration = Duration::from_millis(500);
/// The nice value of the rescue thread: below request handling, above the pool.
pub const RESCUE_NICE: i32 = 10;

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
}

/// One hash asked for. `run` may be called twice (pool thread and rescue thread); it
/// delivers its result only the first time.
struct Job {
    asked: Instant,
    /// When a pool thread started it.
    started: std::sync::OnceLock<Instant>,
    rescued: AtomicBool,
    done: AtomicBool,
    run: Box<dyn Fn() + Send + Sync>,
}

impl Job {
    fn run_once(&self) {
        (self.run)();
        self.done.store(true, Ordering::Release);
    }

    /// Waiting for a thread, or running on one, for longer than `after`.
    fn overdue(&self, after: Duration) -> bool {
        !self.rescued.load(Ordering::Acquire)
            && match self.started.get() {
                None => self.asked.elapsed() >= after,
                Some(started) => started.elapsed() >= after,
            }
    }
}

#[derive(Default)]
struct Jobs {
    /// Jobs not finished yet, oldest first.
    unfinished: VecDeque<Arc<Job>>,
    closed: bool,
}

/// The queue shared by the pool threads and the rescue thread.
#[derive(Default)]
struct Queue {
    jobs: Mutex<Jobs>,
    work: Condvar,
}

impl Queue {
    fn push(&self, job: Arc<Job>) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.unfinished.push_back(job);
            self.work.notify_one();
        }
    }

    /// Blocks until a job nobody has started is there; `None` once closed.
    fn take(&self) -> Option<Arc<Job>> {
        let mut jobs = self.jobs.lock().ok()?;
        loop {
            if jobs.closed {
                return None;
            }
            jobs.unfinished.retain(|job| !job.done.load(Ordering::Acquire));
            let next = jobs.unfinished.iter().find(|job| job.started.get().is_none() && !job.rescued.load(Ordering::Acquire));
            if let Some(job) = next {
                let _ = job.started.set(Instant::now());
                return Some(Arc::clone(job));
            }
            jobs = self.work.wait(jobs).ok()?;
        }
    }

    /// The oldest overdue job, marked as rescued; `Err` once closed.
    fn overdue(&self, after: Duration) -> Result<Option<Arc<Job>>, ()> {
        let mut jobs = self.jobs.lock().map_err(|_| ())?;
        if jobs.closed {
            return Err(());
        }
        jobs.unfinished.retain(|job| !job.done.load(Ordering::Acquire));
        let Some(job) = jobs.unfinished.iter().find(|job| job.overdue(after)) else { return Ok(None) };
        job.rescued.store(true, Ordering::Release);
        Ok(Some(Arc::clone(job)))
    }

    fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.closed = true;
            jobs.unfinished.clear();
        }
        self.work.notify_all();
    }
}

/// Closes the queue when the last [`PasswordHasher`] clone is dropped; the threads end.
struct Pool(Arc<Queue>);

impl Drop for Pool {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Puts the calling thread under `SCHED_IDLE` (Linux): it runs only when no ordinary
/// thread wants the core.
fn background_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler on the calling thread (pid 0) with a valid parameter.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
            tracing::debug!("could not put the hashing thread in the background");
        }
    }
}

/// Lowers the calling thread's nice value (Linux: per thread).
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id has no memory effects.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, nice) != 0 {
            tracing::debug!("could not lower the rescue thread's priority");
        }
    }
}

/// Starts `threads` background hashing threads and the rescue thread.
fn start_pool(threads: usize, rescue_after: Duration) -> Pool {
    let queue = Arc::new(Queue::default());
    for i in 0..threads {
        let queue = Arc::clone(&queue);
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                background_priority();
                while let Some(job) = queue.take() {
                    job.run_once();
                }
            })
            .expect("spawn a hashing thread");
    }
    let rescuer = Arc::clone(&queue);
    std::thread::Builder::new()
        .name("argon2-rescue".into())
        .spawn(move || {
            lower_priority(RESCUE_NICE);
            let tick = (rescue_after / 4).max(Duration::from_millis(5));
            while let Ok(job) = rescuer.overdue(rescue_after) {
                match job {
                    Some(job) => job.run_once(),
                    None => std::thread::sleep(tick),
                }
            }
        })
        .expect("spawn the rescue thread");
    Pool(queue)
}

/// Hashes and verifies passwords with explicit argon2id parameters on a bounded pool.
#[derive(Clone)]
pub struct PasswordHasher {
    pool: Arc<Pool>,
    threads: usize,
    /// A hash of a random password, verified against when the user does not exist so that
    /// unknown users take as long as known ones.
    dummy: Arc<OnceCell<PasswordHash>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("threads", &self.threads).finish()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHasher {
    /// A hasher running at most `parallelism` hashes at once.
    pub fn new(parallelism: usize) -> Self {
        Self::with_rescue(parallelism.max(1), RESCUE_AFTER)
    }

    /// `threads` background threads (0: the rescue thread alone) and the given rescue delay.
    fn with_rescue(threads: usize, rescue_after: Duration) -> Self {
        Self { pool: Arc::new(start_pool(threads, rescue_after)), threads, dummy: Arc::default() }
    }

    /// Sized to the machine's cores.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
    }

    /// Runs `job` on the pool. It may run twice (see the module docs): it must be pure.
    async fn run<T: Send + 'static>(&self, job: impl Fn() -> T + Send + Sync + 'static) -> Result<T, HashError> {
        let (done, result) = oneshot::channel();
        let done = Mutex::new(Some(done));
        let run = move || {
            let value = job();
            if let Some(done) = done.lock().ok().and_then(|mut d| d.take()) {
                let _ = done.send(value);
            }
        };
        self.pool.0.push(Arc::new(Job {
            asked: Instant::now(),
            started: std::sync::OnceLock::new(),
            rescued: AtomicBool::new(false),
            done: AtomicBool::new(false),
            run: Box::new(run),
        }));
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
    async fn a_hash_nobody_picks_up_is_computed_by_the_rescue_thread() {
        // No background thread at all: as if they were starved by a busy machine.
        let hasher = PasswordHasher::with_rescue(0, Duration::from_millis(20));
        let hash = hasher.hash(&Password::new("correct horse battery")).await.unwrap();
        assert!(hasher.verify(&Password::new("correct horse battery"), Some(&hash)).await.unwrap());
    }

    #[test]
    fn a_job_is_overdue_when_it_waited_or_ran_too_long_and_is_rescued_once() {
        let queue = Queue::default();
        let job = |asked_ago: u64| {
            Arc::new(Job {
                asked: Instant::now() - Duration::from_millis(asked_ago),
                started: std::sync::OnceLock::new(),
                rescued: AtomicBool::new(false),
                done: AtomicBool::new(false),
                run: Box::new(|| {}),
            })
        };
        let (old, fresh) = (job(1_000), job(0));
        queue.push(Arc::clone(&old));
        queue.push(Arc::clone(&fresh));
        let after = Duration::from_millis(500);
        // A pool thread starts the old one: running for less than `after`, not overdue.
        assert!(Arc::ptr_eq(&queue.take().unwrap(), &old));
        assert!(queue.overdue(after).unwrap().is_none());
        // Started long ago (a starved thread): rescued, once.
        let stalled = job(2_000);
        let _ = stalled.started.set(Instant::now() - Duration::from_millis(900));
        queue.push(Arc::clone(&stalled));
        assert!(Arc::ptr_eq(&queue.overdue(after).unwrap().unwrap(), &stalled));
        assert!(queue.overdue(after).unwrap().is_none());
        // Finished jobs leave; a closed queue gives nothing.
        old.run_once();
        assert!(Arc::ptr_eq(&queue.take().unwrap(), &fresh));
        queue.close();
        assert!(queue.take().is_none());
        assert!(queue.overdue(after).is_err());
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
