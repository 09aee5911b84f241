//! The background workers (the mail and event outboxes) under a supervisor (SPEC §10): a
//! worker that stops — a panic, an abort — is started again after a pause, and `/readyz`
//! names a worker that is not running, or has not finished a round for [`STALE`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinHandle};

/// A worker that has not finished a round for this long is reported as stuck.
pub const STALE: Duration = Duration::from_secs(300);
/// The pause before a stopped worker is started again.
pub const RESTART_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Entry {
    running: bool,
    last_round: Instant,
    task: Option<AbortHandle>,
    restarts: u64,
}

/// What the supervisor knows of each worker, by name.
#[derive(Debug, Default)]
pub struct Workers(Mutex<BTreeMap<&'static str, Entry>>);

/// Handed to a worker: it calls [`Heartbeat::round_done`] after each round.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    workers: Arc<Workers>,
    name: &'static str,
}

impl Heartbeat {
    pub fn round_done(&self) {
        if let Some(entry) = self.workers.lock().get_mut(self.name) {
            entry.last_round = Instant::now();
        }
    }
}

impl Workers {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Entry>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The workers that are not running or are stuck, by name (empty: all well).
    pub fn unhealthy(&self) -> Vec<&'static str> {
        self.lock()
            .iter()
            .filter(|(_, e)| !e.running || e.last_round.elapsed() > STALE)
            .map(|(name, _)| *name)
            .collect()
    }

    /// How many times the worker was started again.
    pub fn restarts(&self, name: &str) -> u64 {
        self.lock().get(name).map_or(0, |e| e.restarts)
    }

    /// Stops a worker's current run (it is started again after [`RESTART_AFTER`]); `false`
    /// when there is no such worker running.
    pub fn stop(&self, name: &str) -> bool {
        let mut workers = self.lock();
        let Some(entry) = workers.get_mut(name).filter(|e| e.running) else { return false };
        entry.running = false;
        if let Some(task) = entry.task.take() {
            task.abort();
        }
        true
    }

    /// Runs `start()`'s worker under supervision until the returned task is aborted.
    pub fn supervise<F, Fut>(self: &Arc<Self>, name: &'static str, start: F) -> JoinHandle<()>
    where
        F: Fn(Heartbeat) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let workers = Arc::clone(self);
        let heartbeat = Heartbeat { workers: Arc::clone(self), name };
        workers.lock().insert(name, Entry { running: false, last_round: Instant::now(), task: None, restarts: 0 });
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let task = tokio::spawn(start(heartbeat.clone()));
                {
                    let mut all = workers.lock();
                    let entry = all.get_mut(name).expect("registered above");
                    entry.running = true;
                    entry.last_round = Instant::now();
                    entry.task = Some(task.abort_handle());
                    if !first {
                        entry.restarts += 1;
                    }
                }
                first = false;
                let ended = task.await;
                if let Some(entry) = workers.lock().get_mut(name) {
                    entry.running = false;
                    entry.task = None;
                }
                match ended {
                    Err(err) if err.is_panic() => tracing::error!(worker = name, "worker panicked; starting it again"),
                    Err(_) => tracing::warn!(worker = name, "worker stopped; starting it again"),
                    Ok(()) => tracing::warn!(worker = name, "worker returned; starting it again"),
                }
                tokio::time::sleep(RESTART_AFTER).await;
            }
        })
    }
}

/// Wakes the outbox workers when there is new work, so that a queued mail or event goes
/// out at once instead of at the next poll. A generation counter and a [`Notify`]: a wake
/// that comes while a worker is busy is not lost, it makes the worker go round again.
/// Each database handle has one (`Db::outbox_wake`): woken by every committed SQLite
/// transaction of this process, and on PostgreSQL by the `LISTEN` task when any instance
/// commits an outbox row.
#[derive(Debug)]
pub struct Wake {
    generation: AtomicU64,
    notify: Notify,
}

impl Wake {
    pub const fn new() -> Self {
        Self { generation: AtomicU64::new(0), notify: Notify::const_new() }
    }

    pub fn wake(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// The current generation: read it before a round, hand it to [`Wake::wait`] after.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Returns once woken after generation `seen` (at once if that already happened), or
    /// after `poll` (the fallback: work written by another process on SQLite, retries
    /// that come due, a lost notification).
    pub async fn wait(&self, seen: u64, poll: Duration) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.generation() != seen {
            return;
        }
        let _ = tokio::time::timeout(poll, notified).await;
    }
}

impl Default for Wake {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (up to 10 s) until `check` holds.
    async fn eventually(check: impl Fn() -> bool) -> bool {
        for _ in 0..200 {
            if check() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_stopped_or_panicking_worker_is_reported_then_started_again() {
        let workers = Arc::new(Workers::default());
        let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = Arc::clone(&runs);
        let supervisor = workers.supervise("test", move |beat| {
            let counted = Arc::clone(&counted);
            async move {
                // The first run panics after one round; later runs keep going.
                let run = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                beat.round_done();
                if run == 0 {
                    panic!("a bug in a worker");
                }
                std::future::pending::<()>().await;
            }
        });
        assert!(eventually(|| workers.restarts("test") == 1 && workers.unhealthy().is_empty()).await);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2, "started again after its panic");
        // Stopped: reported at once, then started again.
        assert!(workers.stop("test"));
        assert_eq!(workers.unhealthy(), ["test"]);
        assert!(!workers.stop("test"), "already stopped");
        assert!(eventually(|| workers.restarts("test") == 2 && workers.unhealthy().is_empty()).await);
        supervisor.abort();
    }

    #[tokio::test]
    async fn a_wake_during_a_round_is_not_lost_and_an_idle_wait_ends_when_woken() {
        let wake = Arc::new(Wake::new());
        // Woken while "busy" (between reading the generation and waiting): returns at once.
        let seen = wake.generation();
        wake.wake();
        tokio::time::timeout(Duration::from_secs(1), wake.wait(seen, Duration::from_secs(3600)))
            .await
            .expect("a wake during the round makes the worker go round again");
        // Idle: a wait of an hour ends when woken.
        let seen = wake.generation();
        let waiter = tokio::spawn({
            let wake = Arc::clone(&wake);
            async move { wake.wait(seen, Duration::from_secs(3600)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiter.is_finished(), "waiting: nothing woke it");
        wake.wake();
        tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken").unwrap();
    }
}
