//! Rate limits (SPEC §9.4), the breached-password check (§4.2) and security headers (§9.7).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::*;

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    let res = app
        .other_client()
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Moves every rate-limit window one day into the past: the windows end.
async fn let_time_pass(app: &TestApp) {
    app.sql_exec("UPDATE rate_limits SET window_start = window_start - 86400").await;
}

#[tokio::test]
async fn five_failed_logins_lock_the_account_for_the_window_then_it_lifts() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    crate::hardening::within_one_window().await;
    for _ in 0..5 {
        assert_eq!(login(&app, "ada@example.com", "wrong-password-1").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    assert!(body["details"].as_str().unwrap().contains("Wait a minute"));
    let_time_pass(&app).await;
    assert_eq!(login(&app, "ada@example.com", PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test]
async fn failed_logins_are_also_limited_per_client_address() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    crate::hardening::within_one_window().await;
    for i in 0..20 {
        assert_eq!(
            login(&app, &format!("nobody{i}@example.com"), "wrong-password-1").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&app, "ada@example.com", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    let_time_pass(&app).await;
    assert_eq!(login(&app, "ada@example.com", PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test]
async fn registrations_per_address_are_limited_and_the_limit_lifts() {
    let app = spawn_app_with(Options { register_limit: Some(2), ..Options::default() }).await;
    for i in 0..2 {
        let res = app
            .other_client()
            .post(app.url("/api/0/auth/register/"))
            .json(&json!({"email": format!("u{i}@example.com"), "name": "U", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .other_client()
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "u9@example.com", "name": "U", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    assert_eq!(app.user_count().await, 2);
    let_time_pass(&app).await;
    let res = app
        .other_client()
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "u9@example.com", "name": "U", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// A local server speaking the k-anonymity range API: `GET /range/{prefix}`, with one
/// known breached password and an optional delay.
async fn range_server(breached: &str, count: u64, delay: Duration) -> String {
    use sha1::{Digest, Sha1};
    let digest = hex::encode_upper(Sha1::digest(breached.as_bytes()));
    let (prefix, suffix) = (digest[..5].to_owned(), digest[5..].to_owned());
    let app = axum::Router::new().route(
        "/range/{prefix}",
        axum::routing::get(move |axum::extract::Path(asked): axum::extract::Path<String>| {
            let (prefix, suffix) = (prefix.clone(), suffix.clone());
            async move {
                tokio::time::sleep(delay).await;
                let mut body = String::from("0000000000000000000000000000000000A:3\r\n");
                if asked == prefix {
                    body.push_str(&format!("{suffix}:{count}\r\n"));
                }
                body.push_str("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0\r\n");
                body
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}

#[tokio::test]
async fn a_breached_password_is_refused_through_the_range_api() {
    let breached = "correct-horse-battery-9";
    let url = range_server(breached, 4242, Duration::ZERO).await;
    let app = spawn_app_with(Options { breached_url: Some(url), ..Options::default() }).await;
    let (status, body) = json_of(app.register("ada@example.com", "Ada", breached).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["password"][0].as_str().unwrap().contains("4242 times"), "{body}");
    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.register("ada@example.com", "Ada", PASSWORD).await.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breached_password_is_refused_at_a_reset_and_at_a_change_too() {
    let breached = "correct-horse-battery-9";
    let url = range_server(breached, 4242, Duration::ZERO).await;
    let app = spawn_app_with(Options { breached_url: Some(url), ..Options::default() }).await;
    assert_eq!(app.register("ada@example.com", "Ada", PASSWORD).await.status(), StatusCode::CREATED);

    let body = json!({"password": PASSWORD, "passwordNew": breached});
    let (status, body) = send(&app.client, &app, "PUT", "/api/0/users/me/password/", Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["passwordNew"][0].as_str().unwrap().contains("4242 times"), "{body}");

    let asked = json!({"email": "ada@example.com"});
    assert_eq!(send(&app.other_client(), &app, "POST", "/api/0/auth/password-reset/", Some(asked)).await.0, 204);
    let (_, user_id, token) = app.reset_link("ada@example.com").await;
    let confirm = json!({"userId": user_id, "token": token, "password": breached});
    let (status, body) =
        send(&app.other_client(), &app, "POST", "/api/0/auth/password-reset/confirm/", Some(confirm)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["password"][0].as_str().unwrap().contains("4242 times"), "{body}");
    // Nothing changed: the old password still signs in.
    let login = json!({"username": "ada@example.com", "password": PASSWORD});
    assert_eq!(send(&app.other_client(), &app, "POST", "/api/0/auth/login/", Some(login)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_breached_password_check_fails_open_when_the_api_is_slow_or_down() {
    let breached = "correct-horse-battery-9";
    // The range API would call the password breached, after 30 s: a registration that passes
    // gave up waiting for it (a 400 would mean it waited and read the answer).
    let slow = range_server(breached, 4242, Duration::from_secs(30)).await;
    let app = spawn_app_with(Options { breached_url: Some(slow), ..Options::default() }).await;
    assert_eq!(app.register("ada@example.com", "Ada", breached).await.status(), StatusCode::CREATED);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let app = spawn_app_with(Options { breached_url: Some(format!("http://{closed}/")), ..Options::default() }).await;
    assert_eq!(app.register("ada@example.com", "Ada", breached).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_and_everything_else_a_policy_that_allows_nothing() {
    let app = spawn_app().await;
    let res = app.get_page("/auth/login/").await;
    let policy = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["referrer-policy"], "same-origin");
    let html = res.text().await.unwrap();
    let nonce = policy.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
    assert!(policy.contains("'wasm-unsafe-eval'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    // The second anonymous visit is served from the page cache: the same page, with a
    // nonce of its own in the header and in every script.
    let again = app.get_page("/auth/login/").await;
    let policy2 = again.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_ne!(policy2, policy, "a fresh nonce per response");
    assert_eq!(again.headers()["x-frame-options"], "DENY");
    let nonce2 = policy2.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
    let html2 = again.text().await.unwrap();
    assert!(html2.contains(&format!("nonce=\"{nonce2}\"")) && !html2.contains(&nonce));
    assert_eq!(html2.replace(&nonce2, "N"), html.replace(&nonce, "N"), "the same page otherwise");
    // A visitor with a session, or with a query, gets a page rendered for them.
    let next = app.get_page("/auth/login/?next=/organizations/new/").await.text().await.unwrap();
    assert!(next.contains("value=\"/organizations/new/\""), "the next path is in the form");
    let api = app.get("/api/0/users/me/").await;
    assert!(api.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
}
