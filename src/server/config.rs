//! Configuration from environment variables (SPEC §10), mirrored by command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use url::Url;

use super::domain::outbound::Allowlist;
use super::domain::webhook::RetrySchedule;
use super::domain::RegistrationMode;
use super::http::client_ip::TrustedProxies;

/// The instance's settings. Every field has the environment variable of SPEC §10.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Listen address.
    #[arg(long = "addr", env = "APP_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub addr: SocketAddr,

    /// Base URL used in emails and redirects (default: http:// + APP_ADDR).
    #[arg(long = "public-url", env = "APP_PUBLIC_URL", global = true)]
    pub public_url: Option<Url>,

    /// `sqlite://…` or `postgres://…` (default: a SQLite file in APP_DATA_DIR).
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Where the embedded database, the mail folder and the generated secret live.
    #[arg(long = "data-dir", env = "APP_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Key for signed links and HMACs (default: generated once, kept in APP_DATA_DIR).
    #[arg(long = "secret-key", env = "APP_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<String>,

    /// `open`, `invite_only` or `closed`.
    #[arg(long = "registration", env = "APP_REGISTRATION", default_value = "open", global = true)]
    pub registration: RegistrationMode,

    /// Slug of the one organization in single-organization mode; unset = off.
    #[arg(long = "single-org", env = "APP_SINGLE_ORG", global = true)]
    pub single_org: Option<String>,

    /// `smtp://user:pass@host:port`, `smtps://…` or `file:///path/to/dir`.
    #[arg(long = "mail-url", env = "APP_MAIL_URL", hide_env_values = true, global = true)]
    pub mail_url: Option<String>,

    /// Sender of outgoing mail (default: Gatehouse <noreply@HOST of APP_PUBLIC_URL>).
    #[arg(long = "mail-from", env = "APP_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// Default invite validity in days (1–30).
    #[arg(long = "invite-days-valid", env = "APP_INVITE_DAYS_VALID", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=30), global = true)]
    pub invite_days_valid: u32,

    /// Base URL of a k-anonymity range API for breached passwords; unset = check off.
    #[arg(long = "breached-passwords-url", env = "APP_BREACHED_PASSWORDS_URL", global = true)]
    pub breached_passwords_url: Option<Url>,

    /// Refuse a password seen in breaches at least this many times (with APP_BREACHED_PASSWORDS_URL).
    #[arg(
        long = "breached-passwords-min-count",
        env = "APP_BREACHED_PASSWORDS_MIN_COUNT",
        default_value_t = 1,
        global = true
    )]
    pub breached_passwords_min_count: u64,

    /// Private hosts, addresses and CIDR ranges that requests an organization configured
    /// (its identity provider) may reach, comma-separated (SPEC §9.9); unset = none.
    #[arg(
        long = "outbound-allowlist",
        env = "APP_OUTBOUND_ALLOWLIST",
        default_value = "",
        hide_default_value = true,
        global = true
    )]
    pub outbound_allowlist: Allowlist,

    /// Registrations allowed per client address per hour; 0 turns the limit off.
    #[arg(long = "register-limit-per-ip", env = "APP_REGISTER_LIMIT_PER_IP", default_value_t = 20, global = true)]
    pub register_limit_per_ip: u32,

    /// Peers whose `X-Forwarded-For` is believed: comma-separated IPs or CIDR blocks
    /// (SPEC §9.4). Unset: the client is always the TCP peer.
    #[arg(
        long = "trusted-proxies",
        env = "APP_TRUSTED_PROXIES",
        default_value = "",
        hide_default_value = true,
        global = true
    )]
    pub trusted_proxies: TrustedProxies,

    /// Password hashes that may wait for a hashing thread; when that many wait, sign-in and
    /// registration answer 503 at once (SPEC §9.3, §9.4). Default: 16 per hashing thread.
    #[arg(long = "password-hash-queue", env = "APP_PASSWORD_HASH_QUEUE", global = true)]
    pub password_hash_queue: Option<usize>,

    /// Listen address of the Prometheus metrics (`GET /metrics`); unset = off. Keep it
    /// private: a separate listener so that metrics are never public by accident.
    #[arg(long = "metrics-addr", env = "APP_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Webhook retry delays in seconds, comma-separated (SPEC §8): after the first failed
    /// attempt the next comes 5 s later, then 5 min, and so on; then the delivery has failed.
    #[arg(
        long = "webhook-retry-schedule",
        env = "APP_WEBHOOK_RETRY_SCHEDULE",
        default_value = "5,300,1800,7200,18000,36000,36000",
        global = true
    )]
    pub webhook_retry_schedule: RetrySchedule,

    /// Log format: `text` or `json`.
    #[arg(long = "log-format", env = "APP_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// The settings with every default and no environment, for tests and tools.
    pub fn defaults() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        Only::parse_from(["gatehouse"]).config
    }

    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        let url = match &self.public_url {
            Some(url) => url.to_string(),
            None => format!("http://{}", self.addr),
        };
        url.trim_end_matches('/').to_owned()
    }

    /// Cookies get `Secure` when the site is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    /// The database URL, defaulting to `APP_DATA_DIR/gatehouse.sqlite3`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("gatehouse.sqlite3").display()),
        }
    }

    /// The mail transport URL, defaulting to a folder of `.eml` files in the data dir.
    pub fn mail_url(&self) -> String {
        match &self.mail_url {
            Some(url) => url.clone(),
            None => {
                let dir = self.data_dir.join("mail");
                let dir = std::path::absolute(&dir).unwrap_or(dir);
                format!("file://{}", dir.display())
            }
        }
    }

    /// The sender address of outgoing mail.
    pub fn mail_from(&self) -> String {
        if let Some(from) = &self.mail_from {
            return from.clone();
        }
        let host = url::Url::parse(&self.public_url()).ok().and_then(|u| u.host_str().map(str::to_owned));
        let domain = match host {
            Some(h) if h.contains('.') && !h.chars().all(|c| c.is_ascii_digit() || c == '.') => h,
            _ => "gatehouse.localhost".to_owned(),
        };
        format!("Gatehouse <noreply@{domain}>")
    }

    /// The secret key: `APP_SECRET_KEY`, else the one kept in `APP_DATA_DIR/secret_key`,
    /// generated (32 random bytes, file mode 0600) on first start.
    pub fn load_or_create_secret(&self) -> std::io::Result<Vec<u8>> {
        if let Some(key) = &self.secret_key {
            return Ok(key.as_bytes().to_vec());
        }
        secret_file(&self.data_dir.join("secret_key"))
    }
}

fn secret_file(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, key.as_bytes())?;
            Ok(key.into_bytes())
        }
        // Another instance wrote it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(path)?.trim().as_bytes().to_vec())
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let config = Config::defaults();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url(), "http://127.0.0.1:3000");
        assert_eq!(config.registration, RegistrationMode::Open);
        assert_eq!(config.invite_days_valid, 30);
        assert!(config.database_url().starts_with("sqlite://"));
        assert!(!config.secure_cookies());
        assert!(config.trusted_proxies.is_empty());
        assert!(config.outbound_allowlist.is_empty(), "no private destination unless listed");
        assert_eq!(config.password_hash_queue, None);
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_list_of_addresses_and_blocks() {
        use clap::Parser;
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        let config = Only::try_parse_from(["gatehouse", "--trusted-proxies", "10.0.0.0/8, 127.0.0.1"]).unwrap().config;
        assert!(config.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(config.trusted_proxies.contains("127.0.0.1".parse().unwrap()));
        assert!(!config.trusted_proxies.contains("127.0.0.2".parse().unwrap()));
        assert!(Only::try_parse_from(["gatehouse", "--trusted-proxies", "lb.internal"]).is_err());
    }

    #[test]
    fn the_generated_secret_is_kept_between_starts() {
        let dir = tempfile::tempdir().unwrap();
        let first = secret_file(&dir.path().join("secret_key")).unwrap();
        let second = secret_file(&dir.path().join("secret_key")).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
    }
}
