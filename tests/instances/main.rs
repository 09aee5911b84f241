//! Tests that run the real server binary as separate processes (SPEC §10): the metrics
//! listener, several instances on one database, and an instance killed mid-burst.
//!
//! Each test gets a fresh database: a SQLite file in a temporary folder (every instance of
//! the test opens that one file), or, when `TEST_DATABASE_URL` names a PostgreSQL server,
//! a new database created on it.

mod instances;
mod metrics;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "vivid-harbor-lantern-42";

/// What the instances of one test share: a data folder (the SQLite file, the mail folder,
/// the generated secret) and a database.
pub struct Shared {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    /// The address every instance puts in its links (as behind one load balancer).
    pub public_url: String,
}

/// One server process.
pub struct Instance {
    pub base: String,
    pub metrics: Option<String>,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Shared {
    pub async fn new() -> Shared {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(server) if server.starts_with("postgres") => {
                use sqlx::Connection;
                let name = format!("gh_inst_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
                let mut conn = sqlx::PgConnection::connect(&server).await.expect("connect to TEST_DATABASE_URL");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
                let mut url = url::Url::parse(&server).unwrap();
                url.set_path(&format!("/{name}"));
                url.to_string()
            }
            _ => format!("sqlite://{}", dir.path().join("shared.sqlite3").display()),
        };
        Shared { public_url: format!("http://127.0.0.1:{}", free_port()), dir, database_url }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// Starts an instance (with a metrics listener when `metrics`) and waits until
    /// `/readyz` answers 200.
    pub async fn start(&self, metrics: bool) -> Instance {
        let port = free_port();
        let metrics_addr = metrics.then(|| format!("127.0.0.1:{}", free_port()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command
            .arg("serve")
            .env("APP_ADDR", format!("127.0.0.1:{port}"))
            .env("APP_PUBLIC_URL", &self.public_url)
            .env("APP_DATA_DIR", self.dir.path())
            .env("DATABASE_URL", &self.database_url)
            .env("APP_REGISTER_LIMIT_PER_IP", "0")
            // Webhook receivers of the tests listen on loopback; retries come quickly.
            .env("APP_OUTBOUND_ALLOWLIST", "127.0.0.1")
            .env("APP_WEBHOOK_RETRY_SCHEDULE", "1,1,1")
            .env("RUST_LOG", "warn")
            .env_remove("APP_METRICS_ADDR")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(addr) = &metrics_addr {
            command.env("APP_METRICS_ADDR", addr);
        }
        let child = command.spawn().expect("start the server binary");
        let instance = Instance {
            base: format!("http://127.0.0.1:{port}"),
            metrics: metrics_addr.map(|a| format!("http://{a}")),
            child,
        };
        let probe = Client::new();
        for _ in 0..600 {
            if probe.get(instance.url("/readyz")).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
                return instance;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("instance on port {port} never became ready");
    }

    /// The `.eml` files in the shared mail folder, decoded enough to read links.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<_> =
            std::fs::read_dir(self.dir.path().join("mail")).into_iter().flatten().flatten().collect();
        files.sort_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .map(|raw| raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="))
            .collect()
    }

    /// The invite link of `member_id` from its mail, waiting for the mail: the API path.
    pub async fn invite_path(&self, member_id: i64) -> String {
        let needle = format!("/accept/{member_id}/");
        for _ in 0..300 {
            for mail in self.mails() {
                if let Some(at) = mail.find(&needle) {
                    let token: String =
                        mail[at + needle.len()..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                    return format!("/api/0/accept-invite/{member_id}/{token}/");
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no invite mail for member {member_id}");
    }

    /// A connection to the shared database, for checking what the instances left there.
    pub async fn db(&self) -> gatehouse::server::db::Db {
        gatehouse::server::db::Db::connect(&self.database_url).await.unwrap()
    }
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the process at once (SIGKILL): no shutdown, no flush.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A client that keeps cookies (one jar for every instance: cookies do not depend on the
/// port) and does not follow redirects.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Sends a JSON request and returns the status and the JSON answer (`Null` when empty).
pub async fn call(
    client: &Client,
    at: &Instance,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method.parse().unwrap(), at.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Registers `email` through `at` in a new client and returns that client, signed in.
pub async fn user(at: &Instance, email: &str) -> Client {
    let client = client();
    let body = json!({"email": email, "name": email.split('@').next().unwrap(), "password": PASSWORD});
    let (status, answer) = call(&client, at, "POST", "/api/0/auth/register/", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "register {email}: {answer}");
    client
}

/// Invites `email` to `slug` through `at`; returns the member id.
pub async fn invite(client: &Client, at: &Instance, slug: &str, email: &str, role: &str) -> i64 {
    let body = json!({"email": email, "role": role});
    let (status, answer) = call(client, at, "POST", &format!("/api/0/organizations/{slug}/members/"), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "invite {email}: {answer}");
    answer["id"].as_i64().unwrap()
}

/// A webhook receiver on loopback: counts the deliveries it got by `webhook-id` and answers
/// 204.
pub struct Receiver {
    pub url: String,
    got: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> = Default::default();
        let counted = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let counted = counted.clone();
                async move {
                    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    *counted.lock().unwrap().entry(id).or_default() += 1;
                    StatusCode::NO_CONTENT
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, got }
    }

    /// How many times each `webhook-id` came.
    pub fn got(&self) -> std::collections::HashMap<String, usize> {
        self.got.lock().unwrap().clone()
    }

    /// Adds an endpoint for `events` of `slug` pointing here, as `owner` through `at`.
    pub async fn subscribe(&self, owner: &Client, at: &Instance, slug: &str, events: &[&str]) {
        let body = json!({"url": self.url, "events": events});
        let (status, answer) =
            call(owner, at, "POST", &format!("/api/0/organizations/{slug}/webhooks/"), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "webhook endpoint: {answer}");
    }
}

/// Waits (up to `secs`) until `sql` counts nothing.
pub async fn until_none(db: &gatehouse::server::db::Db, sql: &str, secs: u64) {
    for _ in 0..secs * 20 {
        if sql_i64(db, sql).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One number from the database.
pub async fn sql_i64(db: &gatehouse::server::db::Db, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap()
}
