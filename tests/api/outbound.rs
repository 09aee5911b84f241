//! Requests an organization configures cannot be aimed inside (SPEC §9.9): the identity
//! provider's discovery, key set and token endpoints reach loopback and private addresses
//! only when `APP_OUTBOUND_ALLOWLIST` lists them, nothing is fetched from a refused
//! address, and the owner is told a short category, never an error chain.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{send, spawn_app, spawn_app_with, Options, TestApp};
use crate::idp::{self, Idp};

const PROVIDER: &str = "/api/0/organizations/acme/auth-provider/";

/// A tiny HTTP server on `ip` that counts the connections it accepts and answers each
/// request with the JSON registered for its path (404 otherwise), then closes.
struct Spy {
    base: String,
    connections: Arc<AtomicUsize>,
    routes: Arc<Mutex<HashMap<String, Value>>>,
}

impl Spy {
    fn start(ip: &str) -> Spy {
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|err| panic!("bind {ip}: {err}"));
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let routes: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
        let (count, table) = (connections.clone(), routes.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let answer = table.lock().unwrap().get(&path).cloned();
                let (status, body) = match answer {
                    Some(body) => ("200 OK", body.to_string()),
                    None => ("404 Not Found", "{}".to_owned()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Spy { base, connections, routes }
    }

    fn serve(&self, path: &str, body: Value) {
        self.routes.lock().unwrap().insert(path.to_owned(), body);
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A discovery document for the issuer `base` with every endpoint on `base`.
fn discovery(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/auth"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/me"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

fn settings(issuer: &str) -> Value {
    json!({"issuer": issuer, "clientId": "gatehouse", "clientSecret": "a-client-secret", "displayName": "Acme SSO"})
}

async fn org_with_owner(app: &TestApp) -> reqwest::Client {
    let owner = app.user("owner@example.com", "Olive Owner").await;
    app.create_org(&owner, "Acme", "acme").await;
    owner
}

/// The owner is told a category, not how the request failed inside.
fn assert_short(message: &str) {
    for inside in [
        "error sending request",
        "dns error",
        "tcp connect",
        "Connection refused",
        "client error",
        "os error",
        "hyper",
        "reqwest",
    ] {
        assert!(!message.contains(inside), "no internal error chain in {message:?}");
    }
}

#[tokio::test]
async fn a_loopback_issuer_is_refused_unless_listed_and_nothing_is_fetched() {
    let app = spawn_app_with(Options { outbound_allowlist: Some(""), ..Options::default() }).await;
    let owner = org_with_owner(&app).await;
    let spy = Spy::start("127.0.0.1");
    spy.serve("/.well-known/openid-configuration", discovery(&spy.base));
    spy.serve("/jwks", json!({"keys": []}));
    let port = spy.base.rsplit(':').next().unwrap().to_owned();

    for issuer in [spy.base.clone(), format!("http://localhost:{port}")] {
        let (status, body) = send(&owner, &app, "PUT", PROVIDER, Some(settings(&issuer))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{issuer}: {body}");
        let message = body["issuer"][0].as_str().unwrap_or_default();
        assert_eq!(
            message,
            format!("Could not read {issuer}/.well-known/openid-configuration: not allowed (a private or internal address)."),
            "{body}"
        );
        assert_short(message);
    }
    assert_eq!(spy.connections(), 0, "nothing was fetched from a refused address");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM auth_providers").await, 0);
}

#[tokio::test]
async fn a_listed_address_is_reached_and_an_unreachable_one_is_named_so() {
    // The harness lists 127.0.0.1 (the test provider's address).
    let app = spawn_app().await;
    let owner = org_with_owner(&app).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let issuer = format!("http://{closed}");
    let (status, body) = send(&owner, &app, "PUT", PROVIDER, Some(settings(&issuer))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["issuer"][0].as_str().unwrap();
    assert_eq!(message, format!("Could not read {issuer}/.well-known/openid-configuration: unreachable (no answer)."));
    assert_short(message);

    // An answer that is not a discovery document.
    let spy = Spy::start("127.0.0.1");
    spy.serve("/.well-known/openid-configuration", json!({"hello": "<html>internal admin page</html>"}));
    let (status, body) = send(&owner, &app, "PUT", PROVIDER, Some(settings(&spy.base))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["issuer"][0].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "Could not read {}/.well-known/openid-configuration: bad answer (not an OpenID Connect configuration).",
            spy.base
        )
    );
    assert!(!message.contains("internal admin page"), "no raw body: {message}");

    // A listed address that answers properly is saved.
    let good = Spy::start("127.0.0.1");
    good.serve("/.well-known/openid-configuration", discovery(&good.base));
    good.serve("/jwks", json!({"keys": []}));
    let (status, body) = send(&owner, &app, "PUT", PROVIDER, Some(settings(&good.base))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(good.connections() >= 1);
}

#[tokio::test]
async fn a_discovery_document_cannot_point_the_key_set_at_an_address_that_is_not_listed() {
    let app = spawn_app().await; // 127.0.0.1 listed, 127.0.0.2 not
    let owner = org_with_owner(&app).await;
    let inside = Spy::start("127.0.0.2");
    inside.serve("/jwks", json!({"keys": []}));
    let front = Spy::start("127.0.0.1");
    let mut doc = discovery(&front.base);
    doc["jwks_uri"] = json!(format!("{}/jwks", inside.base));
    front.serve("/.well-known/openid-configuration", doc);

    let (status, body) = send(&owner, &app, "PUT", PROVIDER, Some(settings(&front.base))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["issuer"][0].as_str().unwrap();
    assert!(message.ends_with(": not allowed (a private or internal address)."), "{message}");
    assert!(!message.contains("127.0.0.2"), "{message}");
    assert_short(message);
    assert_eq!(inside.connections(), 0, "the key set was not fetched");
    assert!(front.connections() >= 1, "the listed front was read");
}

#[tokio::test]
async fn a_token_endpoint_at_an_address_that_is_not_listed_is_never_called() {
    let app = spawn_app().await;
    let owner = org_with_owner(&app).await;
    let idp = Idp::start(&app).await;
    idp.add_user("ada-7", "ada7@idp.test", true, "Ada Seven", "ada-pass").await;
    // The real provider's configuration, published by a listed front whose token and
    // userinfo endpoints are on an address that is not listed.
    let real: Value =
        reqwest::get(format!("{}/.well-known/openid-configuration", idp.issuer)).await.unwrap().json().await.unwrap();
    let inside = Spy::start("127.0.0.2");
    inside.serve("/token", json!({"access_token": "x", "token_type": "Bearer", "id_token": "x.y.z"}));
    let front = Spy::start("127.0.0.1");
    let mut doc = real.clone();
    doc["issuer"] = json!(front.base);
    doc["token_endpoint"] = json!(format!("{}/token", inside.base));
    doc["userinfo_endpoint"] = json!(format!("{}/me", inside.base));
    front.serve("/.well-known/openid-configuration", doc);
    let mut saved = settings(&front.base);
    saved["clientId"] = json!(idp::CLIENT_ID);
    saved["clientSecret"] = json!(idp::CLIENT_SECRET);
    saved["allowJitMembership"] = json!(true);
    let (status, body) = send(&owner, &app, "PUT", PROVIDER, Some(saved)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let browser = app.other_client();
    let done = idp::sign_in(&app, &idp, &browser, "acme", "ada7@idp.test", "ada-pass").await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/auth/login/acme/"));
    let page = browser
        .get(app.url("/auth/login/acme/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Acme SSO did not confirm the sign-in"), "{page}");
    assert!(!page.contains("127.0.0.2"), "no address or error chain for the user");
    assert_short(&page);
    assert_eq!(inside.connections(), 0, "the code was not sent to an address that is not listed");
    let (status, _) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
