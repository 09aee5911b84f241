//! Organization webhooks (SPEC §8, §9.9) through the real router, delivered to a receiver
//! in this process: what an owner configures, what a receiver gets (Standard Webhooks
//! signatures checked by an implementation of our own, not the app's), retries, `410 Gone`,
//! secret rotation, redelivery, private destinations, and the attacks on each: other roles,
//! other organizations, other sites, malformed bodies and parallel events.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::harness::*;

const ORG: &str = "acme";
const OWNER: &str = "owner@example.com";
const EVIL: &str = "https://evil.example";
/// How long a delivery may take to arrive before a test gives up.
const PATIENCE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------
// A receiver

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Hook {
    method: String,
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    body: Vec<u8>,
}

impl Hook {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("a JSON body: {}", String::from_utf8_lossy(&self.body)))
    }

    fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }
}

/// What the receiver answers: the scripted answers first, then `then` for every request.
struct Script {
    next: VecDeque<(u16, String)>,
    then: (u16, String),
    location: Option<String>,
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Hook>>>,
    script: Arc<Mutex<Script>>,
}

/// A local webhook receiver (axum on a free port) that records every request and answers
/// what its script says.
struct Receiver {
    /// `http://ip:port/hook`
    url: String,
    port: u16,
    shared: Shared,
}

async fn record(
    axum::extract::State(shared): axum::extract::State<Shared>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    shared.seen.lock().unwrap().push(Hook {
        method: method.to_string(),
        path: uri.path().to_owned(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: body.to_vec(),
    });
    let (status, text, location) = {
        let mut script = shared.script.lock().unwrap();
        let (status, text) = script.next.pop_front().unwrap_or_else(|| script.then.clone());
        (status, text, script.location.clone())
    };
    let mut res = (axum::http::StatusCode::from_u16(status).unwrap(), text).into_response();
    if let Some(location) = location {
        res.headers_mut().insert(axum::http::header::LOCATION, location.parse().unwrap());
    }
    res
}

impl Receiver {
    /// A receiver on `ip` that answers 200 `ok` until told otherwise.
    async fn start_on(ip: &str) -> Receiver {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap_or_else(|err| panic!("bind {ip}: {err}"));
        let addr = listener.local_addr().unwrap();
        let shared = Shared {
            seen: Arc::default(),
            script: Arc::new(Mutex::new(Script {
                next: VecDeque::new(),
                then: (200, "ok".to_owned()),
                location: None,
            })),
        };
        let router = axum::Router::new().fallback(record).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Receiver { url: format!("http://{addr}/hook"), port: addr.port(), shared }
    }

    async fn start() -> Receiver {
        Receiver::start_on("127.0.0.1").await
    }

    /// Answers these first (in order), then what it answered before.
    fn answer_first(&self, answers: &[(u16, String)]) {
        self.shared.script.lock().unwrap().next.extend(answers.iter().cloned());
    }

    /// From now on answers `status` (after any scripted answers left).
    fn answer_always(&self, status: u16, body: &str) {
        self.shared.script.lock().unwrap().then = (status, body.to_owned());
    }

    fn redirect_to(&self, location: &str) {
        self.shared.script.lock().unwrap().location = Some(location.to_owned());
    }

    fn hooks(&self) -> Vec<Hook> {
        self.shared.seen.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.shared.seen.lock().unwrap().len()
    }

    /// Waits (at most `PATIENCE`) until `n` requests have come; all of them so far.
    async fn wait_for(&self, n: usize) -> Vec<Hook> {
        self.wait_for_within(n, PATIENCE).await
    }

    async fn wait_for_within(&self, n: usize, patience: Duration) -> Vec<Hook> {
        let start = Instant::now();
        loop {
            let hooks = self.hooks();
            if hooks.len() >= n {
                return hooks;
            }
            if start.elapsed() > patience {
                let kinds: Vec<String> = hooks.iter().map(Hook::kind).collect();
                panic!("{} got {} requests in {patience:?}, not {n}: {kinds:?}", self.url, hooks.len());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Signatures, written here from the Standard Webhooks specification (not the app's code)

/// `v1,<base64 HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")>`.
fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("a whsec_ secret")).expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The request carries exactly one signature per secret given, in that order, each
/// verifying with its secret over this request's id, timestamp and body.
fn assert_signed(hook: &Hook, secrets: &[&str]) {
    let got: Vec<&str> = hook.signature.split(' ').collect();
    let wanted: Vec<String> = secrets.iter().map(|s| sign(s, &hook.id, &hook.timestamp, &hook.body)).collect();
    assert_eq!(got, wanted, "webhook-signature {:?} of {} at {}", hook.signature, hook.id, hook.timestamp);
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// What every delivered request must look like: a JSON POST with a `msg_` id and a
/// current timestamp.
fn assert_well_formed(hook: &Hook) {
    assert_eq!(hook.method, "POST");
    assert_eq!(hook.path, "/hook");
    assert!(hook.content_type.starts_with("application/json"), "content-type {:?}", hook.content_type);
    assert!(hook.id.starts_with("msg_") && hook.id.len() > 8, "webhook-id {:?}", hook.id);
    let at: i64 = hook.timestamp.parse().unwrap_or_else(|_| panic!("webhook-timestamp {:?}", hook.timestamp));
    assert!((now() - at).abs() <= 300, "webhook-timestamp {at} is not within 5 minutes of {}", now());
    let body = hook.json();
    assert!(body["type"].is_string() && body["data"].is_object(), "{body}");
    assert!(body["timestamp"].as_str().is_some_and(|t| t.contains('T')), "an RFC 3339 timestamp: {body}");
}

#[test]
fn the_independent_signer_reproduces_the_test_vector_of_the_spec() {
    assert_eq!(
        sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            "1649367553",
            br#"{"email":"test@example.com","username":"test_user"}"#,
        ),
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
    );
}

// ---------------------------------------------------------------------------------------
// The API

fn hooks_path(slug: &str) -> String {
    format!("/api/0/organizations/{slug}/webhooks/")
}

fn hook_path(slug: &str, id: &str) -> String {
    format!("/api/0/organizations/{slug}/webhooks/{id}/")
}

fn rotate_path(slug: &str, id: &str) -> String {
    format!("/api/0/organizations/{slug}/webhooks/{id}/rotate-secret/")
}

fn deliveries_path(slug: &str, id: &str) -> String {
    format!("/api/0/organizations/{slug}/webhooks/{id}/deliveries/")
}

fn redeliver_path(slug: &str, id: &str, delivery: &str) -> String {
    format!("/api/0/organizations/{slug}/webhooks/{id}/deliveries/{delivery}/redeliver/")
}

/// An id as the API writes it (a number, or a number in a string), as text for a path.
fn id_of(value: &Value) -> String {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or_else(|| panic!("not an id: {value}")).to_string(),
        Value::String(s) if s.parse::<i64>().is_ok() => s.clone(),
        other => panic!("not an id: {other}"),
    }
}

fn rows(body: &Value) -> Vec<Value> {
    body.as_array().unwrap_or_else(|| panic!("an array: {body}")).clone()
}

fn absent(value: &Value, key: &str) -> bool {
    value.get(key).is_none_or(Value::is_null)
}

/// The event types of an endpoint JSON, sorted.
fn events_of(endpoint: &Value) -> Vec<String> {
    let mut events: Vec<String> = rows(&endpoint["events"]).iter().map(|e| e.as_str().unwrap().to_owned()).collect();
    events.sort();
    events
}

/// An app whose organization `acme` is owned by `owner@example.com` on `app.client`.
async fn app_with(options: Options) -> TestApp {
    let app = spawn_app_with(options).await;
    let res = app.register(OWNER, "Olive Owner", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.create_org(&app.client, "Acme Corp", ORG).await;
    app
}

fn fast_retries() -> Options {
    Options { webhook_retry_schedule: Some("1,1"), ..Options::default() }
}

/// Creates an endpoint (201): its id, its secret and the answer.
async fn create(app: &TestApp, client: &Client, slug: &str, url: &str, events: &[&str]) -> (String, String, Value) {
    create_with(app, client, slug, json!({"url": url, "events": events})).await
}

async fn create_with(app: &TestApp, client: &Client, slug: &str, body: Value) -> (String, String, Value) {
    let (status, created) = send(client, app, "POST", &hooks_path(slug), Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}: {created}");
    let secret = created["secret"].as_str().unwrap_or_else(|| panic!("a secret in {created}")).to_owned();
    (id_of(&created["id"]), secret, created)
}

async fn endpoint(app: &TestApp, id: &str) -> Value {
    let (status, body) = send(&app.client, app, "GET", &hook_path(ORG, id), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn list(app: &TestApp, client: &Client, slug: &str) -> Vec<Value> {
    let (status, body) = send(client, app, "GET", &hooks_path(slug), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rows(&body)
}

async fn deliveries(app: &TestApp, id: &str) -> Vec<Value> {
    let (status, body) = send(&app.client, app, "GET", &deliveries_path(ORG, id), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rows(&body)
}

/// Waits (at most `PATIENCE`) until the endpoint's deliveries satisfy `done`; the list.
async fn deliveries_when(app: &TestApp, id: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let list = deliveries(app, id).await;
        if done(&list) {
            return list;
        }
        if start.elapsed() > PATIENCE {
            panic!("deliveries of endpoint {id} never {what}: {}", Value::Array(list));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (at most `PATIENCE`) until the endpoint JSON satisfies `done`.
async fn endpoint_when(app: &TestApp, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let body = endpoint(app, id).await;
        if done(&body) {
            return body;
        }
        if start.elapsed() > PATIENCE {
            panic!("endpoint {id} never {what}: {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `email` registers and joins `acme` through an invite: the member id and their client.
async fn member(app: &TestApp, email: &str, role: &str) -> (i64, Client) {
    let id = app.invite(&app.client, ORG, email, role).await;
    let (link, _) = app.invite_link(id).await;
    let client = app.user(email, email).await;
    let accept = format!("/api/0/accept-invite{}", link.trim_start_matches("/accept"));
    let (status, body) = send(&client, app, "POST", &accept, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    (id, client)
}

fn is_secret(secret: &str) -> bool {
    secret.strip_prefix("whsec_").and_then(|b| STANDARD.decode(b).ok()).is_some_and(|bytes| bytes.len() == 32)
}

// ---------------------------------------------------------------------------------------
// Delivery

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribed_endpoint_gets_the_event_signed_and_others_get_only_what_they_asked_for() {
    let app = app_with(Options::default()).await;
    let joined = Receiver::start().await;
    let invited = Receiver::start().await;
    let off = Receiver::start().await;

    let (joined_id, secret, created) = create(&app, &app.client, ORG, &joined.url, &["member.joined"]).await;
    assert!(is_secret(&secret), "whsec_ and base64 of 32 bytes: {secret}");
    assert_eq!(created["url"], json!(joined.url), "{created}");
    assert_eq!(events_of(&created), ["member.joined"]);
    assert_eq!(created["enabled"], json!(true), "enabled unless said otherwise: {created}");
    assert!(absent(&created, "disabledReason") && absent(&created, "failingSince"), "{created}");
    let (invited_id, invited_secret, _) = create(&app, &app.client, ORG, &invited.url, &["member.invited"]).await;
    let both = json!({"url": off.url, "events": ["member.invited", "member.joined"], "enabled": false});
    let (off_id, off_secret, off_created) = create_with(&app, &app.client, ORG, both).await;
    assert_eq!(off_created["enabled"], json!(false), "{off_created}");
    assert_ne!(secret, invited_secret, "a secret per endpoint");
    assert_ne!(secret, off_secret);

    // The secret is shown once: never in the list or the details.
    let res = app.get(&hooks_path(ORG)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for shown in [&secret, &invited_secret, &off_secret] {
        assert!(!text.contains(shown.trim_start_matches("whsec_")), "a secret in the list: {text}");
    }
    let listed: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.len(), 3, "{text}");
    assert_eq!(id_of(&listed[0]["id"]), off_id, "newest first: {text}");
    assert!(listed.iter().all(|e| e.get("secret").is_none()), "{text}");
    let res = app.get(&hook_path(ORG, &joined_id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(!text.contains(secret.trim_start_matches("whsec_")), "the secret in the details: {text}");
    let details: Value = serde_json::from_str(&text).unwrap();
    assert!(details.get("secret").is_none(), "{details}");
    assert_eq!(id_of(&details["id"]), joined_id);
    assert_eq!(details["url"], json!(joined.url));

    // An invitee joins.
    let (bob_id, _) = member(&app, "bob@example.com", "member").await;
    let hooks = joined.wait_for(1).await;
    let hook = &hooks[0];
    assert_well_formed(hook);
    assert_signed(hook, &[&secret]);
    let body = hook.json();
    assert_eq!(body["type"], json!("member.joined"), "{body}");
    let org_id = app.sql_i64(&format!("SELECT id FROM organizations WHERE slug = '{ORG}'")).await;
    assert_eq!(body["data"]["organization"]["slug"], json!(ORG), "{body}");
    assert_eq!(id_of(&body["data"]["organization"]["id"]), org_id.to_string(), "{body}");
    let joined_member = &body["data"]["member"];
    assert_eq!(joined_member["email"], json!("bob@example.com"), "{body}");
    assert_eq!(id_of(&joined_member["id"]), bob_id.to_string(), "{body}");
    assert_eq!(joined_member["role"], json!("member"), "{body}");
    assert_eq!(joined_member["pending"], json!(false), "{body}");
    assert!(!body.to_string().contains("/accept/"), "no invite link in an event: {body}");

    // The endpoint for invitations got the invitation, and only that; the disabled one
    // got nothing.
    let got = invited.wait_for(1).await;
    assert_signed(&got[0], &[&invited_secret]);
    assert_eq!(got[0].json()["data"]["member"]["email"], json!("bob@example.com"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kinds: Vec<String> = invited.hooks().iter().map(Hook::kind).collect();
    assert_eq!(kinds, ["member.invited"], "an endpoint gets only the types it asked for");
    assert_eq!(joined.count(), 1, "one event, one request: {:?}", joined.hooks());
    assert_eq!(off.count(), 0, "a disabled endpoint gets nothing");
    let ids: HashSet<&str> = [hooks[0].id.as_str(), got[0].id.as_str()].into_iter().collect();
    assert_eq!(ids.len(), 2, "a webhook-id per delivery");

    // The delivery log says so.
    let log = deliveries_when(&app, &joined_id, "delivered", |l| l.len() == 1 && l[0]["state"] == "delivered").await;
    assert_eq!(log[0]["webhookId"], json!(hook.id), "{}", log[0]);
    assert_eq!(log[0]["type"], json!("member.joined"));
    assert_eq!(log[0]["attempts"], json!(1));
    assert_eq!(log[0]["log"][0]["status"], json!(200), "{}", log[0]);

    // Turned on again, it gets the next event; updated events apply at once.
    let (status, on) = send(&app.client, &app, "PUT", &hook_path(ORG, &off_id), Some(json!({"enabled": true}))).await;
    assert_eq!(status, StatusCode::OK, "{on}");
    assert_eq!(on["enabled"], json!(true));
    assert!(on.get("secret").is_none(), "{on}");
    let change = json!({"events": ["member.invited", "member.removed"]});
    let (status, changed) = send(&app.client, &app, "PUT", &hook_path(ORG, &joined_id), Some(change)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(events_of(&changed), ["member.invited", "member.removed"]);
    app.invite(&app.client, ORG, "carl@example.com", "member").await;
    let got = off.wait_for(1).await;
    assert_eq!(got[0].kind(), "member.invited");
    assert_signed(&got[0], &[&off_secret]);
    let got = joined.wait_for(2).await;
    assert_eq!(got[1].kind(), "member.invited");
    assert_eq!(got[1].json()["data"]["member"]["email"], json!("carl@example.com"));

    // Deleted, it gets nothing more.
    invited.wait_for(2).await;
    let (status, _) = send(&app.client, &app, "DELETE", &hook_path(ORG, &invited_id), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&app.client, &app, "GET", &hook_path(ORG, &invited_id), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let before = invited.count();
    app.invite(&app.client, ORG, "dora@example.com", "member").await;
    joined.wait_for(3).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(invited.count(), before, "a deleted endpoint gets nothing");
    assert_eq!(list(&app, &app.client, ORG).await.len(), 2);

    // Who joined is the actor of a join.
    assert_eq!(body["data"]["actor"]["email"], json!("bob@example.com"), "the actor: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_with_the_same_id_and_body_and_every_attempt_is_logged() {
    let app = app_with(fast_retries()).await;
    let receiver = Receiver::start().await;
    let long_failure = format!("failure page {}", "x".repeat(3000));
    receiver.answer_first(&[(500, long_failure.clone()), (500, "again".to_owned())]);
    let (id, secret, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;

    let member_id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let hooks = receiver.wait_for(3).await;
    for hook in &hooks {
        assert_well_formed(hook);
        assert_signed(hook, &[&secret]);
        assert_eq!(hook.id, hooks[0].id, "the same webhook-id on every retry");
        assert_eq!(hook.body, hooks[0].body, "the same body on every retry");
    }
    let stamps: Vec<i64> = hooks.iter().map(|h| h.timestamp.parse().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "the timestamp of each attempt: {stamps:?}");
    let body = hooks[0].json();
    assert_eq!(body["type"], json!("member.invited"));
    assert_eq!(id_of(&body["data"]["member"]["id"]), member_id.to_string());
    assert_eq!(body["data"]["member"]["pending"], json!(true), "{body}");

    let log = deliveries_when(&app, &id, "delivered", |l| l.len() == 1 && l[0]["state"] == "delivered").await;
    let delivery = &log[0];
    assert_eq!(delivery["webhookId"], json!(hooks[0].id), "{delivery}");
    assert_eq!(delivery["type"], json!("member.invited"));
    assert_eq!(delivery["attempts"], json!(3), "{delivery}");
    assert!(delivery["dateDelivered"].is_string(), "{delivery}");
    assert!(absent(delivery, "nextAttempt"), "{delivery}");
    let attempts = rows(&delivery["log"]);
    let statuses: Vec<Value> = attempts.iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(500), json!(200)], "oldest first: {delivery}");
    for attempt in &attempts {
        assert!(attempt["durationMs"].is_number(), "{attempt}");
        assert!(attempt["dateAttempted"].is_string(), "{attempt}");
    }
    let kept = attempts[0]["response"].as_str().unwrap_or_else(|| panic!("the answer kept: {delivery}"));
    assert!(!kept.is_empty() && kept.len() <= 1024, "at most 1 KiB kept, not {} bytes", kept.len());
    assert!(kept.len() >= 512, "the start of the answer is kept, not only {kept:?}");
    assert!(long_failure.starts_with(kept), "the start of the answer: {kept:?}");
    assert_eq!(attempts[1]["response"], json!("again"));
    assert_eq!(attempts[2]["response"], json!("ok"));
    assert!(absent(&attempts[2], "error"), "a success has no error: {delivery}");

    // A success clears the failing mark.
    let endpoint = endpoint(&app, &id).await;
    assert!(absent(&endpoint, "failingSince"), "{endpoint}");
    assert_eq!(endpoint["enabled"], json!(true));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.count(), 3, "nothing after the success");

    // The owner who invited is the actor.
    let actor = &body["data"]["actor"];
    assert_eq!(actor["email"], json!(OWNER), "the actor of an invitation is its inviter: {body}");
    assert_eq!(actor["name"], json!("Olive Owner"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_always_fails_stops_after_the_schedule_and_is_marked_failed() {
    let app = app_with(fast_retries()).await;
    let receiver = Receiver::start().await;
    receiver.answer_always(500, "down");
    let (id, secret, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;

    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let hooks = receiver.wait_for(3).await;
    for hook in &hooks {
        assert_signed(hook, &[&secret]);
        assert_eq!(hook.id, hooks[0].id);
    }
    let log = deliveries_when(&app, &id, "failed", |l| l.len() == 1 && l[0]["state"] == "failed").await;
    assert_eq!(log[0]["attempts"], json!(3), "{}", log[0]);
    assert_eq!(rows(&log[0]["log"]).len(), 3, "{}", log[0]);
    assert!(absent(&log[0], "nextAttempt") && absent(&log[0], "dateDelivered"), "{}", log[0]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.count(), 3, "no attempt after the last of the schedule");
    let endpoint = endpoint(&app, &id).await;
    assert!(endpoint["failingSince"].is_string(), "failing since the first failure: {endpoint}");
    assert_eq!(endpoint["enabled"], json!(true), "not yet disabled: {endpoint}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_endpoint_at_once_until_an_owner_turns_it_on_again() {
    let app = app_with(fast_retries()).await;
    let gone = Receiver::start().await;
    gone.answer_always(410, "gone");
    let witness = Receiver::start().await;
    let (id, _, _) = create(&app, &app.client, ORG, &gone.url, &["member.invited"]).await;
    create(&app, &app.client, ORG, &witness.url, &["member.invited"]).await;

    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    gone.wait_for(1).await;
    let off = endpoint_when(&app, &id, "disabled", |e| e["enabled"] == json!(false)).await;
    assert_eq!(off["disabledReason"], json!("gone"), "{off}");
    let log = deliveries_when(&app, &id, "failed", |l| l.len() == 1 && l[0]["state"] == "failed").await;
    assert_eq!(log[0]["attempts"], json!(1), "no retry after 410: {}", log[0]);
    assert_eq!(log[0]["log"][0]["status"], json!(410), "{}", log[0]);

    // The next event reaches the witness, not the gone endpoint.
    app.invite(&app.client, ORG, "carl@example.com", "member").await;
    witness.wait_for(2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(gone.count(), 1, "no retry and no new event to a gone endpoint");

    // Turned on again, it receives again.
    gone.answer_always(200, "ok");
    let (status, on) = send(&app.client, &app, "PUT", &hook_path(ORG, &id), Some(json!({"enabled": true}))).await;
    assert_eq!(status, StatusCode::OK, "{on}");
    assert_eq!(on["enabled"], json!(true));
    assert!(absent(&on, "disabledReason") && absent(&on, "failingSince"), "{on}");
    app.invite(&app.client, ORG, "dora@example.com", "member").await;
    let hooks = gone.wait_for(2).await;
    assert_eq!(hooks[1].json()["data"]["member"]["email"], json!("dora@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let app = app_with(fast_retries()).await;
    let target = Receiver::start().await;
    let redirecting = Receiver::start().await;
    redirecting.answer_always(307, "");
    redirecting.redirect_to(&target.url);
    let (id, _, _) = create(&app, &app.client, ORG, &redirecting.url, &["member.invited"]).await;

    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    redirecting.wait_for(3).await;
    let log = deliveries_when(&app, &id, "failed", |l| l.len() == 1 && l[0]["state"] == "failed").await;
    let statuses: Vec<Value> = rows(&log[0]["log"]).iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(307), json!(307), json!(307)], "{}", log[0]);
    assert_eq!(target.count(), 0, "the redirect was not followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_became_private_is_never_contacted() {
    // 127.0.0.1 is listed, 127.0.0.2 is not.
    let app = app_with(fast_retries()).await;
    let inside = Receiver::start_on("127.0.0.2").await;
    let (status, body) = send(
        &app.client,
        &app,
        "POST",
        &hooks_path(ORG),
        Some(json!({"url": inside.url, "events": ["member.invited"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an address that is not listed: {body}");
    assert!(body["url"][0].is_string(), "{body}");

    // Saved while allowed, then changed underneath (as a name resolving elsewhere would).
    let front = Receiver::start().await;
    let (id, _, _) = create(&app, &app.client, ORG, &front.url, &["member.invited"]).await;
    app.sql_exec(&format!("UPDATE webhook_endpoints SET url = '{}' WHERE id = {id}", inside.url)).await;
    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let log = deliveries_when(&app, &id, "failed", |l| l.len() == 1 && l[0]["state"] == "failed").await;
    for attempt in rows(&log[0]["log"]) {
        assert_eq!(attempt["error"], json!("not allowed"), "{}", log[0]);
        assert!(absent(&attempt, "status"), "{}", log[0]);
    }
    assert_eq!(inside.count(), 0, "nothing was sent to an address that is not listed");
    assert_eq!(front.count(), 0);
}

// ---------------------------------------------------------------------------------------
// Rotation and redelivery

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_previous_one_until_that_expires() {
    let app = app_with(Options::default()).await;
    let receiver = Receiver::start().await;
    let (id, old, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;
    app.invite(&app.client, ORG, "a@example.com", "member").await;
    let hooks = receiver.wait_for(1).await;
    assert_signed(&hooks[0], &[&old]);
    assert!(absent(&endpoint(&app, &id).await, "previousSecretUntil"));

    let (status, rotated) = send(&app.client, &app, "POST", &rotate_path(ORG, &id), None).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap_or_else(|| panic!("the new secret: {rotated}")).to_owned();
    assert!(is_secret(&new), "{new}");
    assert_ne!(new, old, "a new secret");
    assert!(rotated["previousSecretUntil"].is_string(), "{rotated}");
    let details = endpoint(&app, &id).await;
    assert!(details.get("secret").is_none(), "{details}");
    assert!(details["previousSecretUntil"].is_string(), "{details}");

    // Both sign for a while: the new one first.
    app.invite(&app.client, ORG, "b@example.com", "member").await;
    let hooks = receiver.wait_for(2).await;
    assert_eq!(hooks[1].signature.split(' ').count(), 2, "two signatures: {:?}", hooks[1].signature);
    assert_signed(&hooks[1], &[&new, &old]);

    // Once the previous one has expired, only the new one signs.
    app.sql_exec(&format!("UPDATE webhook_endpoints SET previous_secret_expires_at = 0 WHERE id = {id}")).await;
    app.invite(&app.client, ORG, "c@example.com", "member").await;
    let hooks = receiver.wait_for(3).await;
    assert_signed(&hooks[2], &[&new]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_is_sent_again_on_request_with_the_same_id_and_body() {
    let app = app_with(Options::default()).await;
    let receiver = Receiver::start().await;
    let (id, secret, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;
    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    receiver.wait_for(1).await;
    let log = deliveries_when(&app, &id, "delivered", |l| l.len() == 1 && l[0]["state"] == "delivered").await;
    let delivery = id_of(&log[0]["id"]);

    let (status, again) = send(&app.client, &app, "POST", &redeliver_path(ORG, &id, &delivery), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(id_of(&again["id"]), delivery, "{again}");
    let hooks = receiver.wait_for(2).await;
    assert_eq!(hooks[1].id, hooks[0].id, "the same webhook-id");
    assert_eq!(hooks[1].body, hooks[0].body, "the same body");
    assert_signed(&hooks[1], &[&secret]);
    assert_well_formed(&hooks[1]);
    let log = deliveries_when(&app, &id, "logged the second attempt", |l| {
        l.len() == 1 && l[0]["state"] == "delivered" && l[0]["log"].as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    // The log keeps every attempt; the count is of this run (a redelivery starts the
    // schedule again).
    assert_eq!(log[0]["attempts"], json!(1), "{}", log[0]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.count(), 2, "one request per redelivery");

    // Unknown deliveries are not found; a disabled endpoint redelivers nothing.
    for unknown in ["999999", "abc"] {
        let (status, _) = send(&app.client, &app, "POST", &redeliver_path(ORG, &id, unknown), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    }
    let (status, body) = send(&app.client, &app, "PUT", &hook_path(ORG, &id), Some(json!({"enabled": false}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(&app.client, &app, "POST", &redeliver_path(ORG, &id, &delivery), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.count(), 2, "nothing sent to a disabled endpoint");
}

// ---------------------------------------------------------------------------------------
// Private destinations, limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_and_non_https_destinations_are_refused_unless_listed() {
    let app = app_with(Options { outbound_allowlist: Some(""), ..Options::default() }).await;
    let receiver = Receiver::start().await;
    let port = receiver.port;
    let long = format!("https://hooks.example.com/{}", "a".repeat(2000));
    let refused = [
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        "https://10.0.0.5/x".to_owned(),
        "https://192.168.1.1/x".to_owned(),
        "https://172.16.0.1/x".to_owned(),
        "https://[::1]/x".to_owned(),
        "https://[fd00::1]/x".to_owned(),
        "https://[fe80::1]/x".to_owned(),
        "https://[::ffff:127.0.0.1]/x".to_owned(),
        "https://[::ffff:169.254.169.254]/x".to_owned(),
        "https://0.0.0.0/x".to_owned(),
        "https://169.254.169.254/latest".to_owned(),
        "https://2130706433/x".to_owned(),
        "https://127.1/x".to_owned(),
        "https://localhost/x".to_owned(),
        "https://LOCALHOST/x".to_owned(),
        format!("http://localhost:{port}/hook"),
        "http://example.com/x".to_owned(),
        "ftp://example.com/x".to_owned(),
        "javascript:alert(1)".to_owned(),
        "file:///etc/passwd".to_owned(),
        "https://user:pass@example.com/x".to_owned(),
        "example.com/x".to_owned(),
        "".to_owned(),
        long,
    ];
    for url in &refused {
        let (status, body) =
            send(&app.client, &app, "POST", &hooks_path(ORG), Some(json!({"url": url, "events": ["member.invited"]})))
                .await;
        let shown: String = url.chars().take(60).collect();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{shown}: {body}");
        assert!(body["url"][0].is_string(), "a message on url for {shown}: {body}");
        assert!(body.get("secret").is_none());
    }
    assert!(list(&app, &app.client, ORG).await.is_empty(), "nothing created");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM webhook_endpoints").await, 0);
    assert_eq!(receiver.count(), 0, "nothing was contacted");

    // The default harness lists 127.0.0.1: plain http to it is accepted, other private
    // addresses still are not, on creation or on change.
    let app = app_with(Options::default()).await;
    let url = format!("http://127.0.0.1:{port}/");
    let (id, _, created) = create(&app, &app.client, ORG, &url, &["member.invited"]).await;
    assert_eq!(created["url"], json!(url));
    for url in ["https://10.0.0.5/x", "http://127.0.0.2/x", "https://[::1]/x", "http://example.com/x"] {
        let (status, body) =
            send(&app.client, &app, "POST", &hooks_path(ORG), Some(json!({"url": url, "events": ["member.invited"]})))
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        let (status, body) = send(&app.client, &app, "PUT", &hook_path(ORG, &id), Some(json!({"url": url}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert!(body["url"][0].is_string(), "{body}");
    }
    assert_eq!(endpoint(&app, &id).await["url"], json!(url), "unchanged");
    assert_eq!(list(&app, &app.client, ORG).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_has_at_most_twenty_endpoints() {
    let app = app_with(Options::default()).await;
    let receiver = Receiver::start().await;
    for n in 0..20 {
        create(&app, &app.client, ORG, &format!("{}/{n}", receiver.url), &["member.invited"]).await;
    }
    let (status, body) = send(
        &app.client,
        &app,
        "POST",
        &hooks_path(ORG),
        Some(json!({"url": receiver.url, "events": ["member.invited"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["reason"], json!("conflict"), "{body}");
    assert_eq!(list(&app, &app.client, ORG).await.len(), 20);
}

// ---------------------------------------------------------------------------------------
// Attacks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owners_of_the_organization_manage_its_webhooks() {
    let app = app_with(Options::default()).await;
    let receiver = Receiver::start().await;
    let (_, manager) = member(&app, "manager@example.com", "manager").await;
    let (_, plain) = member(&app, "plain@example.com", "member").await;
    let (id, secret, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;
    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    receiver.wait_for(1).await;
    let log = deliveries_when(&app, &id, "delivered", |l| l.len() == 1 && l[0]["state"] == "delivered").await;
    let delivery = id_of(&log[0]["id"]);
    let new_hook = json!({"url": format!("{}/x", receiver.url), "events": ["member.invited"]});

    // Managers and members: 403.
    for (who, client) in [("manager", &manager), ("member", &plain)] {
        for (method, path, body) in [
            ("GET", hooks_path(ORG), None),
            ("POST", hooks_path(ORG), Some(new_hook.clone())),
            ("GET", hook_path(ORG, &id), None),
            ("PUT", hook_path(ORG, &id), Some(json!({"enabled": false}))),
            ("DELETE", hook_path(ORG, &id), None),
            ("POST", rotate_path(ORG, &id), None),
            ("GET", deliveries_path(ORG, &id), None),
            ("POST", redeliver_path(ORG, &id, &delivery), None),
        ] {
            let (status, answer) = send(client, &app, method, &path, body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {method} {path}: {answer}");
            assert_eq!(answer["reason"], json!("forbidden"), "{who} {method} {path}: {answer}");
            assert!(!answer.to_string().contains(secret.trim_start_matches("whsec_")));
        }
    }

    // Another organization's owner: this organization's endpoint is not found, through
    // either slug.
    let mallory = app.user("mallory@example.com", "Mallory").await;
    app.create_org(&mallory, "Other", "other").await;
    let theirs = Receiver::start().await;
    let (their_id, _, _) = create(&app, &mallory, "other", &theirs.url, &["member.invited"]).await;
    for slug in ["other", ORG] {
        for (method, path, body) in [
            ("GET", hook_path(slug, &id), None),
            ("PUT", hook_path(slug, &id), Some(json!({"url": format!("{}/stolen", theirs.url)}))),
            ("DELETE", hook_path(slug, &id), None),
            ("POST", rotate_path(slug, &id), None),
            ("GET", deliveries_path(slug, &id), None),
            ("POST", redeliver_path(slug, &id, &delivery), None),
            ("POST", redeliver_path(slug, &their_id, &delivery), None),
        ] {
            let (status, answer) = send(&mallory, &app, method, &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "mallory {method} {path}: {answer}");
        }
    }
    let (status, answer) = send(&mallory, &app, "GET", &hooks_path(ORG), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = send(&mallory, &app, "POST", &hooks_path(ORG), Some(new_hook.clone())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    // And the owner cannot reach theirs through acme.
    let (status, _) = send(&app.client, &app, "GET", &hook_path(ORG, &their_id), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&app.client, &app, "GET", &deliveries_path(ORG, &their_id), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nothing changed: one endpoint, same URL, enabled, never rotated, no redelivery.
    let hooks = list(&app, &app.client, ORG).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["url"], json!(receiver.url));
    assert_eq!(hooks[0]["enabled"], json!(true));
    assert!(absent(&hooks[0], "previousSecretUntil"), "not rotated: {}", hooks[0]);
    assert_eq!(deliveries(&app, &id).await[0]["attempts"], json!(1));
    assert_eq!(theirs.count(), 0, "another organization's events are not theirs");
    assert_eq!(receiver.count(), 1);

    // Events of the other organization stay there.
    app.invite(&mallory, "other", "victim@example.com", "member").await;
    theirs.wait_for(1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.count(), 1, "acme's endpoint got nothing from other");
    let hooks = receiver.hooks();
    assert_signed(&hooks[0], &[&secret]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_request_is_refused_and_changes_nothing() {
    let app = app_with(Options::default()).await;
    let receiver = Receiver::start().await;
    let (id, _, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;
    let cross_site = |req: reqwest::RequestBuilder| req.header("origin", EVIL).header("sec-fetch-site", "cross-site");

    let attempts = [
        cross_site(app.client.post(app.url(&hooks_path(ORG))))
            .json(&json!({"url": format!("{}/evil", receiver.url), "events": ["member.invited"]})),
        cross_site(app.client.post(app.url(&rotate_path(ORG, &id)))),
        cross_site(app.client.put(app.url(&hook_path(ORG, &id))))
            .json(&json!({"url": format!("{}/evil", receiver.url)})),
        cross_site(app.client.delete(app.url(&hook_path(ORG, &id)))),
        app.client
            .post(app.url(&hooks_path(ORG)))
            .header("origin", EVIL)
            .json(&json!({"url": receiver.url, "events": ["member.invited"]})),
        app.client.post(app.url(&rotate_path(ORG, &id))).header("sec-fetch-site", "cross-site"),
    ];
    for req in attempts {
        let (status, body) = json_of(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["reason"], json!("csrf"), "{body}");
    }
    let hooks = list(&app, &app.client, ORG).await;
    assert_eq!(hooks.len(), 1, "nothing created: {hooks:?}");
    assert_eq!(hooks[0]["url"], json!(receiver.url), "nothing changed");
    assert!(absent(&hooks[0], "previousSecretUntil"), "not rotated: {}", hooks[0]);

    // The same request from the site itself passes.
    let res = app
        .client
        .post(app.url(&rotate_path(ORG, &id)))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_and_unknown_ids_are_refused_and_change_nothing() {
    let app = app_with(Options::default()).await;
    let receiver = Receiver::start().await;
    let (id, _, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;
    let url = receiver.url.clone();

    let raw: [(&str, String); 14] = [
        ("application/json", "[1]".to_owned()),
        ("application/json", "{\"url\": 5}".to_owned()),
        ("application/json", "{\"url\": 5, \"events\": [\"member.invited\"]}".to_owned()),
        ("application/json", format!("{{\"url\": \"{url}\", \"events\": \"member.invited\"}}")),
        ("application/json", format!("{{\"url\": \"{url}\", \"events\": [1]}}")),
        ("application/json", format!("{{\"url\": \"{url}\", \"events\": [\"member.invited\"], \"admin\": true}}")),
        (
            "application/json",
            format!("{{\"url\": \"{url}\", \"events\": [\"member.invited\"], \"secret\": \"whsec_AAAA\"}}"),
        ),
        ("application/json", format!("{{\"url\": \"{url}\", \"events\": [\"member.invited\"], \"enabled\": \"yes\"}}")),
        ("application/json", format!("{{\"url\": \"{url}\"}}")),
        ("application/json", "{\"events\": [\"member.invited\"]}".to_owned()),
        ("application/json", "{\"url\": ".to_owned()),
        ("application/json", "null".to_owned()),
        ("application/json", String::new()),
        ("text/plain", format!("{{\"url\": \"{url}\", \"events\": [\"member.invited\"]}}")),
    ];
    for (content_type, body) in &raw {
        let res = app
            .client
            .post(app.url(&hooks_path(ORG)))
            .header("content-type", *content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_client_error(), "{content_type} {body}: {status} {text}");
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON error for {body}: {text}"));
        assert!(json.as_object().is_some_and(|o| !o.is_empty()), "{body}: {text}");
    }
    for (events, what) in [
        (json!(["member.exploded"]), "an unknown type"),
        (json!([]), "no type"),
        (json!(["member.invited", "Member.Joined"]), "a type in other case"),
        (json!(["*"]), "a wildcard"),
    ] {
        let body = json!({"url": url, "events": events});
        let (status, answer) = send(&app.client, &app, "POST", &hooks_path(ORG), Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {answer}");
        assert!(answer["events"][0].is_string(), "{what}: a message on events: {answer}");
        let (status, answer) =
            send(&app.client, &app, "PUT", &hook_path(ORG, &id), Some(json!({"events": events}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "PUT {what}: {answer}");
        assert!(answer["events"][0].is_string(), "PUT {what}: {answer}");
    }
    for body in [json!([1]), json!({"url": 5}), json!({"enabled": "no"}), json!({"owner": true})] {
        let (status, answer) = send(&app.client, &app, "PUT", &hook_path(ORG, &id), Some(body.clone())).await;
        assert!(status.is_client_error(), "PUT {body}: {status} {answer}");
        assert!(answer.as_object().is_some_and(|o| !o.is_empty()), "PUT {body}: {answer}");
    }
    let hooks = list(&app, &app.client, ORG).await;
    assert_eq!(hooks.len(), 1, "nothing created: {hooks:?}");
    assert_eq!(events_of(&hooks[0]), ["member.invited"], "nothing changed");
    assert_eq!(hooks[0]["url"], json!(url));
    assert_eq!(hooks[0]["enabled"], json!(true));

    // Unknown and non-numeric ids.
    for bad in ["999999", "0", "-1", "abc", "1.5", "99999999999999999999999"] {
        for (method, path) in [
            ("GET", hook_path(ORG, bad)),
            ("PUT", hook_path(ORG, bad)),
            ("DELETE", hook_path(ORG, bad)),
            ("POST", rotate_path(ORG, bad)),
            ("GET", deliveries_path(ORG, bad)),
            ("POST", redeliver_path(ORG, bad, "1")),
            ("POST", redeliver_path(ORG, &id, bad)),
        ] {
            let body = (method == "PUT").then(|| json!({"enabled": false}));
            let (status, answer) = send(&app.client, &app, method, &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        }
    }
    let (status, _) = send(&app.client, &app, "GET", &hooks_path("no-such-org"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(endpoint(&app, &id).await["enabled"], json!(true), "unchanged");
}

// ---------------------------------------------------------------------------------------
// Failing for days, many at once

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_for_five_days_is_disabled_and_its_owners_are_mailed() {
    let app = app_with(fast_retries()).await;
    member(&app, "manager@example.com", "manager").await;
    let receiver = Receiver::start().await;
    receiver.answer_always(500, "down");
    let (id, _, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;

    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    receiver.wait_for(3).await;
    deliveries_when(&app, &id, "failed", |l| l.len() == 1 && l[0]["state"] == "failed").await;
    let failing = endpoint(&app, &id).await;
    assert!(failing["failingSince"].is_string(), "{failing}");
    assert_eq!(failing["enabled"], json!(true), "failing for seconds, not days: {failing}");
    let disabled_mail = |mails: &[String]| {
        mails
            .iter()
            .find(|m| m.lines().any(|l| l.starts_with("Subject:") && l.to_ascii_lowercase().contains("disabled")))
            .cloned()
    };
    assert!(disabled_mail(&app.mails_to(OWNER).await).is_none(), "no mail yet");

    let six_days_ago = now() - 6 * 86_400;
    app.sql_exec(&format!("UPDATE webhook_endpoints SET failing_since = {six_days_ago} WHERE id = {id}")).await;
    app.invite(&app.client, ORG, "carl@example.com", "member").await;
    receiver.wait_for(4).await;
    let off = endpoint_when(&app, &id, "disabled", |e| e["enabled"] == json!(false)).await;
    assert_eq!(off["disabledReason"], json!("failing"), "{off}");

    let start = Instant::now();
    let mail = loop {
        if let Some(mail) = disabled_mail(&app.mails_to(OWNER).await) {
            break mail;
        }
        assert!(start.elapsed() < PATIENCE, "no mail to the owner whose subject says disabled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        mail.contains(&receiver.url) || mail.to_ascii_lowercase().contains(ORG),
        "which endpoint of which organization: {mail}"
    );
    assert!(disabled_mail(&app.mails_to("manager@example.com").await).is_none(), "owners only");

    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.count(), 4, "no attempt after the endpoint was disabled");
    app.invite(&app.client, ORG, "dora@example.com", "member").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.count(), 4, "a disabled endpoint gets nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_events_at_once_arrive_once_each() {
    let app = app_with(Options::default()).await;
    let receiver = Receiver::start().await;
    let (id, secret, _) = create(&app, &app.client, ORG, &receiver.url, &["member.invited"]).await;
    let members = format!("/api/0/organizations/{ORG}/members/");
    let emails: Vec<String> = (0..40).map(|n| format!("person{n}@example.com")).collect();
    let requests = emails
        .iter()
        .map(|email| app.client.post(app.url(&members)).json(&json!({"email": email, "role": "member"})))
        .collect();
    let answers = all_at_once(requests).await;
    assert_eq!(tally(&answers), [(201, 40)], "{answers:?}");

    receiver.wait_for_within(40, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hooks = receiver.hooks();
    let ids: HashSet<&str> = hooks.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(hooks.len(), 40, "exactly one request per event");
    assert_eq!(ids.len(), 40, "40 distinct webhook-ids, none twice");
    let mut got: Vec<String> =
        hooks.iter().map(|h| h.json()["data"]["member"]["email"].as_str().unwrap().to_owned()).collect();
    got.sort();
    let mut wanted = emails;
    wanted.sort();
    assert_eq!(got, wanted);
    for hook in &hooks {
        assert_signed(hook, &[&secret]);
    }

    // The log pages like the other lists.
    deliveries_when(&app, &id, "all delivered", |l| l.len() == 40 && l.iter().all(|d| d["state"] == "delivered")).await;
    let res = app.get(&format!("{}?per_page=25", deliveries_path(ORG, &id))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("rel=\"next\"; results=\"true\""), "{link}");
    let first: Vec<Value> = res.json().await.unwrap();
    assert_eq!(first.len(), 25);
    let next = link.split(", ").find(|l| l.contains("rel=\"next\"")).unwrap();
    let cursor = next.split("cursor=\"").nth(1).unwrap().trim_end_matches('"');
    let res = app.get(&format!("{}?per_page=25&cursor={cursor}", deliveries_path(ORG, &id))).await;
    let second: Vec<Value> = res.json().await.unwrap();
    assert_eq!(second.len(), 15);
    let all: HashSet<String> = first.iter().chain(&second).map(|d| id_of(&d["id"])).collect();
    assert_eq!(all.len(), 40, "each delivery once across the pages");
}
