//! Wiring: configuration → database → state → router → server.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tower_sessions::session_store::ExpiredDeletion;

use super::auth::breached::BreachedPasswords;
use super::auth::password::PasswordHasher;
use super::config::{Config, LogFormat};
use super::db::sessions::DbSessionStore;
use super::db::{Db, DbKind};
use super::http;
use super::mail::{Mailer, Transport};
use super::state::{AppState, Shared};

/// Installs the log subscriber (`server::logs`): `RUST_LOG` filter (default `info`), text
/// or JSON lines.
pub fn init_tracing(format: LogFormat) {
    super::logs::init(format);
}

/// Where the compiled site (wasm bundle, stylesheet, public files) is: `LEPTOS_SITE_ROOT`
/// when set (cargo-leptos sets it), else a `site` folder next to the binary, else
/// `target/site` (a checkout).
pub fn site_root() -> PathBuf {
    if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
        return PathBuf::from(root);
    }
    let beside_binary = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("site")));
    match beside_binary {
        Some(dir) if dir.is_dir() => dir,
        _ => PathBuf::from("target/site"),
    }
}

/// The list of hashed file names that `cargo leptos build` writes beside the server binary
/// (`hash-files = true`); without it (a test binary, a build by plain cargo) names are plain.
const HASH_FILE: &str = "hash.txt";

fn leptos_options(config: &Config) -> LeptosOptions {
    let hash_file = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE)));
    LeptosOptions::builder()
        .output_name(std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "gatehouse".to_owned()))
        .site_root(site_root().to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .hash_files(hash_file.is_some_and(|f| f.is_file()))
        .hash_file(std::sync::Arc::from(HASH_FILE))
        .build()
}

/// Connects and migrates the database, and builds the state every request shares.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)?;
    let db = Db::connect(&config.database_url()).await?;
    db.migrate().await?;
    let secret = config.load_or_create_secret()?;
    let mailer = Mailer {
        transport: Transport::from_url(&config.mail_url())?,
        from: config.mail_from().parse().map_err(|e| anyhow::anyhow!("APP_MAIL_FROM: {e}"))?,
    };
    let hasher = PasswordHasher::for_this_machine(config.password_hash_queue);
    let breached = match &config.breached_passwords_url {
        Some(url) => Some(BreachedPasswords::new(url.clone(), config.breached_passwords_min_count)?),
        None => None,
    };
    // Requests to identity providers go through the outbound guard (SPEC §9.9).
    let oidc = super::auth::oidc::Oidc::new(config.outbound_allowlist.clone())?;
    let state = AppState::new(Shared {
        breached,
        leptos_options: leptos_options(&config),
        config: Arc::new(config),
        db,
        hasher,
        mailer,
        oidc,
        secret: Arc::new(secret),
        workers: Arc::default(),
    });
    super::service::organizations::ensure_single_org(&state).await?;
    let sealed = super::service::two_factor::seal_plain_secrets(&state).await?;
    if sealed > 0 {
        tracing::info!(sealed, "TOTP secrets stored in plain text were sealed");
    }
    Ok(state)
}

/// A bound, ready server; `run` serves until `shutdown` resolves.
pub struct Server {
    listener: TcpListener,
    /// The Prometheus listener, when `APP_METRICS_ADDR` is set.
    metrics: Option<TcpListener>,
    state: AppState,
}

impl Server {
    pub async fn bind(state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(state.config.addr).await?;
        let metrics = match state.config.metrics_addr {
            Some(addr) => Some(super::metrics::bind(addr).await?),
            None => None,
        };
        Ok(Self { listener, metrics, state })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let store = DbSessionStore::new(self.state.db.clone());
        let sweep_state = self.state.clone();
        let mut background = vec![every(Duration::from_secs(3600), move || {
            let (store, state) = (store.clone(), sweep_state.clone());
            async move {
                if let Err(err) = store.delete_expired().await {
                    tracing::warn!(error = %err, "could not delete expired sessions");
                }
                if let Err(err) = super::service::limits::sweep(&state).await {
                    tracing::warn!(error = %err, "could not delete old rate-limit counters");
                }
            }
        })];
        if self.state.db.kind() == DbKind::Sqlite {
            let db = self.state.db.clone();
            background.push(every(super::db::CHECKPOINT_EVERY, move || {
                let db = db.clone();
                async move {
                    if let Err(err) = db.checkpoint().await {
                        tracing::warn!(error = %err, "could not checkpoint the database");
                    }
                }
            }));
        }
        if self.state.db.kind() == DbKind::Postgres {
            let url = self.state.config.database_url();
            let wake = std::sync::Arc::clone(self.state.db.outbox_wake());
            background.push(tokio::spawn(super::db::outbox::listen(url, move || wake.wake())));
        }
        let (mailer, db) = (self.state.mailer.clone(), self.state.db.clone());
        background.push(self.state.workers.supervise("mail", move |beat| mailer.clone().run(db.clone(), beat)));
        let db = self.state.db.clone();
        background.push(self.state.workers.supervise("events", move |beat| super::events::run(db.clone(), beat)));
        let state = self.state.clone();
        background
            .push(self.state.workers.supervise("webhooks", move |beat| super::webhooks::run(state.clone(), beat)));
        if let Some(listener) = self.metrics {
            tracing::info!(addr = %listener.local_addr()?, "metrics listening");
            background.push(tokio::spawn(super::metrics::serve(listener, self.state.clone())));
        }
        let app = http::router(self.state.clone());
        tracing::info!(addr = %self.listener.local_addr()?, public_url = %self.state.config.public_url(), "listening");
        axum::serve(self.listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await?;
        for task in background {
            task.abort();
        }
        self.state.db.close().await;
        Ok(())
    }
}

/// Runs `job` now and then every `period` (a late run does not bunch up the next ones),
/// until the returned task is aborted.
fn every<F>(period: Duration, job: impl Fn() -> F + Send + 'static) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            job().await;
        }
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
