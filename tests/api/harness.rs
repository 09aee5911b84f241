use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gatehouse::server::config::Config;
use gatehouse::server::domain::RegistrationMode;
use gatehouse::server::startup::{self, Server};
use gatehouse::server::state::AppState;
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "vivid-harbor-lantern-42";

/// A running application on a random port and a client with its own cookie jar.
pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub state: AppState,
    /// The cuttable connection to the database (PostgreSQL with `Options::database_link`).
    pub db_link: Option<Link>,
    _data_dir: tempfile::TempDir,
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct Options {
    pub registration: Option<RegistrationMode>,
    pub single_org: Option<&'static str>,
    /// Registrations per address per hour; off unless a test sets it (every test client
    /// comes from 127.0.0.1).
    pub register_limit: Option<u32>,
    /// Base URL of a breached-password range API.
    pub breached_url: Option<String>,
    /// `APP_OUTBOUND_ALLOWLIST`; unset = `127.0.0.1`, where the test identity provider
    /// listens (a test of the outbound guard sets `Some("")`).
    pub outbound_allowlist: Option<&'static str>,
    /// `APP_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<&'static str>,
    /// `APP_PASSWORD_HASH_QUEUE`: hashes that may wait for a hashing thread.
    pub hash_queue: Option<usize>,
    /// Reach a PostgreSQL database through a [`Link`] the test can cut (`TestApp::db_link`).
    pub database_link: bool,
    /// `APP_WEBHOOK_RETRY_SCHEDULE`: seconds between webhook attempts (`"1,1"`: three
    /// attempts a second apart); unset = the default schedule.
    pub webhook_retry_schedule: Option<&'static str>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut database_url = test_database_url(&data_dir).await;
    let mut db_link = None;
    if options.database_link && database_url.starts_with("postgres") {
        let mut url = url::Url::parse(&database_url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let link = Link::open(&target).await;
        url.set_port(Some(link.port)).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        database_url = url.to_string();
        db_link = Some(link);
    }
    // A free port known before start, so that links in emails carry the real address.
    // Another process may take it before the server binds it (the test provider binds
    // free ports too): then try again with another one.
    let mut attempt = 0;
    let (state, server) = loop {
        attempt += 1;
        let mut config = Config::defaults();
        config.addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        config.data_dir = data_dir.path().to_path_buf();
        config.database_url = Some(database_url.clone());
        config.registration = options.registration.unwrap_or_default();
        config.single_org = options.single_org.map(str::to_owned);
        config.register_limit_per_ip = options.register_limit.unwrap_or(0);
        config.breached_passwords_url = options.breached_url.as_ref().map(|u| u.parse().unwrap());
        config.outbound_allowlist = options.outbound_allowlist.unwrap_or("127.0.0.1").parse().unwrap();
        config.trusted_proxies = options.trusted_proxies.unwrap_or_default().parse().unwrap();
        config.password_hash_queue = options.hash_queue;
        if let Some(schedule) = options.webhook_retry_schedule {
            config.webhook_retry_schedule =
                schedule.parse().unwrap_or_else(|_| panic!("a retry schedule: {schedule:?}"));
        }
        let state = startup::build_state(config).await.expect("state");
        match Server::bind(state.clone()).await {
            Ok(server) => break (state, server),
            Err(err) if attempt < 5 => eprintln!("port taken meanwhile ({err}); another"),
            Err(err) => panic!("bind: {err}"),
        }
    };
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    TestApp { base: format!("http://{addr}"), client: new_client(), state, db_link, _data_dir: data_dir }
}

/// A TCP forwarder to a server that a test can cut (every connection closed, new ones
/// refused) and restore: the database "going away" and coming back.
pub struct Link {
    pub port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl Link {
    async fn open(target: &str) -> Link {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, watch) = tokio::sync::watch::channel(true);
        let target = target.to_owned();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*watch.borrow() {
                    continue; // dropped: refused while cut
                }
                let (target, mut watch) = (target.clone(), watch.clone());
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Link { port, up }
    }

    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// A client that keeps cookies and does not follow redirects (tests look at them).
pub fn new_client() -> Client {
    // A time limit, so that a request the server never answers fails its test instead of
    // hanging the suite.
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

async fn test_database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => fresh_postgres_database(&server).await,
        Ok(other) if !other.is_empty() && !other.starts_with("sqlite") => {
            panic!("TEST_DATABASE_URL must be a postgres:// URL or unset, not {other:?}")
        }
        _ => format!("sqlite://{}", dir.path().join("test.sqlite3").display()),
    }
}

/// Creates `gh_test_<pid>_<n>` on the server and returns its URL.
async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("gh_test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    let mut conn = sqlx::PgConnection::connect(server).await.expect("connect to TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A second browser: same server, empty cookie jar.
    pub fn other_client(&self) -> Client {
        new_client()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A page as a browser asks for it (browsers send `Accept: text/html` on navigation).
    pub async fn get_page(&self, path: &str) -> Response {
        self.client.get(self.url(path)).header("accept", "text/html,application/xhtml+xml").send().await.unwrap()
    }

    pub async fn register(&self, email: &str, name: &str, password: &str) -> Response {
        self.post_json("/api/0/auth/register/", &json!({"email": email, "name": name, "password": password})).await
    }

    pub async fn me(&self) -> Response {
        self.get("/api/0/users/me/").await
    }

    /// Posts a form to a server function the way a browser without JavaScript does.
    pub async fn post_form_nojs(&self, client: &Client, path: &str, referer: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", self.url(referer))
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn user_count(&self) -> i64 {
        let mut conn = self.state.db.conn().await.unwrap();
        gatehouse::server::db::users::count(&mut conn).await.unwrap()
    }
}

impl TestApp {
    /// Registers a user in a client of its own and returns that client, signed in.
    pub async fn user(&self, email: &str, name: &str) -> Client {
        let client = self.other_client();
        let res = client
            .post(self.url("/api/0/auth/register/"))
            .json(&json!({"email": email, "name": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        client
    }

    pub async fn create_org(&self, client: &Client, name: &str, slug: &str) {
        let res = client
            .post(self.url("/api/0/organizations/"))
            .json(&json!({"name": name, "slug": slug}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "create org {slug}");
    }

    /// Invites `email` and returns the member id.
    pub async fn invite(&self, client: &Client, slug: &str, email: &str, role: &str) -> i64 {
        let res = client
            .post(self.url(&format!("/api/0/organizations/{slug}/members/")))
            .json(&json!({"email": email, "role": role}))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(res).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Delivers the mail outbox now and returns every `.eml` written so far, decoded,
    /// oldest first.
    pub async fn mails(&self) -> Vec<String> {
        // The app's own worker, woken by each queued mail, may hold some of them (in
        // flight) while this delivers the rest: wait until none is due or in flight
        // (at most 5 s: a worker a test stopped leaves its mail in flight).
        let waiting = "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sending' \
                       OR (status = 'queued' AND next_attempt_at <= $1)";
        for _ in 0..250 {
            self.state.mailer.deliver_due(&self.state.db).await.unwrap();
            let left: i64 = sqlx::query_scalar(waiting)
                .bind(gatehouse::server::db::now())
                .fetch_one(self.state.db.pool())
                .await
                .unwrap();
            if left == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let dir = self.state.config.data_dir.join("mail");
        let mut files: Vec<_> = std::fs::read_dir(dir).into_iter().flatten().flatten().collect();
        files.sort_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
        let mut mails = Vec::new();
        for entry in files {
            let raw = std::fs::read_to_string(entry.path()).unwrap();
            // Undo quoted-printable soft line breaks so links read whole.
            mails.push(raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="));
        }
        mails
    }

    /// The invite link of `member_id`, read from its email: `(path, token)`.
    pub async fn invite_link(&self, member_id: i64) -> (String, String) {
        for _ in 0..50 {
            for mail in self.mails().await {
                let needle = format!("/accept/{member_id}/");
                if let Some(at) = mail.find(&needle) {
                    let token: String =
                        mail[at + needle.len()..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                    assert_eq!(token.len(), 64, "token in {mail}");
                    return (format!("/accept/{member_id}/{token}/"), token);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no invite email for member {member_id}");
    }

    /// The verification links mailed to `email`, oldest first (waits for at least one).
    pub async fn verification_links(&self, email: &str) -> Vec<String> {
        for _ in 0..50 {
            let links: Vec<String> = self
                .mails()
                .await
                .iter()
                .filter(|mail| mail.contains(&format!("To: {email}")))
                .filter_map(|mail| {
                    let rest = &mail[mail.find("/auth/verify-email/")?..];
                    Some(rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())].to_owned())
                })
                .collect();
            if !links.is_empty() {
                return links;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no verification email for {email}");
    }

    /// The newest verification link mailed to `email`.
    pub async fn verification_link(&self, email: &str) -> String {
        self.verification_links(email).await.pop().unwrap()
    }

    pub async fn sql_exec(&self, sql: &str) {
        sqlx::query(sql).execute(self.state.db.pool()).await.unwrap();
    }

    pub async fn sql_i64(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.state.db.pool()).await.unwrap()
    }
}

/// The session cookie's value in a response's `Set-Cookie` headers.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (pair, _) = v.split_once(';').unwrap_or((v, ""));
        let (name, value) = pair.split_once('=')?;
        (name == "gatehouse_session" && !value.is_empty()).then(|| value.to_owned())
    })
}

/// Sends a request with an optional JSON body; the answer's status and JSON (`null` when
/// the body is not JSON).
pub async fn send(
    client: &Client,
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = match method {
        "GET" => client.get(app.url(path)),
        "POST" => client.post(app.url(path)),
        "PUT" => client.put(app.url(path)),
        "DELETE" => client.delete(app.url(path)),
        other => panic!("unsupported method {other}"),
    };
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn json_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let body = res.text().await.unwrap();
    let value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON ({status}): {body}"));
    (status, value)
}

/// The current TOTP code of a base32 secret, `offset` steps from now.
pub fn totp_code(secret: &str, offset: i64) -> String {
    use gatehouse::server::domain::totp::{TotpSecret, STEP_SECS};
    let secret = TotpSecret::from_base32(secret).expect("secret");
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64 / STEP_SECS;
    secret.code_for_step((now as i64 + offset) as u64)
}

/// Enrols TOTP for the signed-in client; returns the secret and the recovery codes.
pub async fn enrol_totp(app: &TestApp, client: &Client) -> (String, Vec<String>, Value) {
    let (status, body) =
        json_of(client.get(app.url("/api/0/users/me/authenticators/totp/enroll/")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(body["otpauthUrl"].as_str().unwrap().contains(&secret));
    let res = client
        .post(app.url("/api/0/users/me/authenticators/totp/enroll/"))
        .json(&json!({"secret": secret, "otp": totp_code(&secret, 0)}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes = body["recoveryCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (secret, codes, body)
}

impl TestApp {
    /// Every mail sent to `email` so far, oldest first (delivers the outbox first).
    pub async fn mails_to(&self, email: &str) -> Vec<String> {
        let to = format!("To: {email}");
        self.mails().await.into_iter().filter(|mail| mail.lines().any(|line| line.trim_end() == to)).collect()
    }

    /// Waits up to 5 s for a mail to `email` that contains `needle`; the newest such mail.
    pub async fn mail_to_containing(&self, email: &str, needle: &str) -> String {
        for _ in 0..50 {
            if let Some(mail) = self.mails_to(email).await.into_iter().rev().find(|mail| mail.contains(needle)) {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no mail to {email} containing {needle:?}");
    }

    /// The newest password-reset link mailed to `email`, `(path, user_id, token)`; waits up
    /// to 5 s (the mail is queued by a background task shortly after the answer).
    pub async fn reset_link(&self, email: &str) -> (String, String, String) {
        for _ in 0..50 {
            if let Some(found) = self.mails_to(email).await.iter().rev().find_map(|mail| reset_link_in(mail)) {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no password-reset mail to {email}");
    }
}

/// The last `/account/recover/confirm/{user_id}/{token}/` link in a mail.
fn reset_link_in(mail: &str) -> Option<(String, String, String)> {
    const PREFIX: &str = "/account/recover/confirm/";
    let rest = &mail[mail.rfind(PREFIX)? + PREFIX.len()..];
    let user_id: String = rest.chars().take_while(|c| *c != '/' && !c.is_whitespace()).collect();
    let rest = rest[user_id.len()..].strip_prefix('/')?;
    let token: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    assert!(rest[token.len()..].starts_with('/'), "reset link ends with a slash in {mail}");
    assert_eq!(token.len(), 64, "a 256-bit token in {mail}");
    assert!(token.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()), "lower-case hex: {token}");
    Some((format!("{PREFIX}{user_id}/{token}/"), user_id, token))
}

/// Sends every request at once; each answer's status, headers and JSON body (`null` when
/// the body is not JSON), in the order given.
pub async fn all_at_once(requests: Vec<RequestBuilder>) -> Vec<(StatusCode, HeaderMap, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let res = req.send().await.unwrap();
                let (status, headers) = (res.status(), res.headers().clone());
                let text = res.text().await.unwrap();
                (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// How many answers had each status, e.g. `[(401, 5), (429, 35)]`, sorted by status.
pub fn tally(answers: &[(StatusCode, HeaderMap, Value)]) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for (status, _, _) in answers {
        *counts.entry(status.as_u16()).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address reaches the
/// server on Linux), so that the server sees another TCP peer.
pub fn client_from(ip: &str) -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// The `Retry-After` seconds of an answer (panics without one).
pub fn retry_after(headers: &HeaderMap) -> u64 {
    headers.get("retry-after").expect("Retry-After").to_str().unwrap().parse().expect("Retry-After in seconds")
}
