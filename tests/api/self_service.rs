//! Self-service account management (SPEC §4.5–§4.7, §6, §9.4): password reset and
//! change, name and email changes, the session list, recovery codes, turning TOTP off and
//! deleting the account.
//!
//! Every client of a test comes from 127.0.0.1, and reset requests are limited to 5 per
//! client address per minute: a test that does not test that limit asks for at most 5.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;

const NEW_PASSWORD: &str = "amber-quarry-willow-73";
const THIRD_PASSWORD: &str = "copper-meadow-falcon-58";
const FIREFOX: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHANGED: &str = "Your password was changed";

// ---------------------------------------------------------------------------------------
// Helpers

async fn login(app: &TestApp, client: &Client, email: &str, password: &str) -> (StatusCode, Value) {
    send(client, app, "POST", "/api/0/auth/login/", Some(json!({"username": email, "password": password}))).await
}

/// A sign-in from a fresh client: its status.
async fn sign_in(app: &TestApp, email: &str, password: &str) -> StatusCode {
    login(app, &app.other_client(), email, password).await.0
}

async fn me(app: &TestApp, client: &Client) -> (StatusCode, Value) {
    send(client, app, "GET", "/api/0/users/me/", None).await
}

async fn my_id(app: &TestApp, client: &Client) -> String {
    let (status, body) = me(app, client).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

fn reset_request(app: &TestApp, client: &Client, email: &str) -> RequestBuilder {
    client.post(app.url("/api/0/auth/password-reset/")).json(&json!({"email": email}))
}

async fn request_reset(app: &TestApp, client: &Client, email: &str) -> StatusCode {
    reset_request(app, client, email).send().await.unwrap().status()
}

fn confirm_request(app: &TestApp, client: &Client, user_id: &str, token: &str, password: &str) -> RequestBuilder {
    client
        .post(app.url("/api/0/auth/password-reset/confirm/"))
        .json(&json!({"userId": user_id, "token": token, "password": password}))
}

async fn confirm_reset(
    app: &TestApp,
    client: &Client,
    user_id: &str,
    token: &str,
    password: &str,
) -> (StatusCode, Value) {
    let res = confirm_request(app, client, user_id, token, password).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asks for a reset of `email` from a fresh client and returns its link `(path, user_id, token)`.
async fn reset_link_for(app: &TestApp, email: &str) -> (String, String, String) {
    assert_eq!(request_reset(app, &app.other_client(), email).await, StatusCode::NO_CONTENT);
    app.reset_link(email).await
}

async fn change_password(app: &TestApp, client: &Client, current: &str, new: &str) -> (StatusCode, Value) {
    send(client, app, "PUT", "/api/0/users/me/password/", Some(json!({"password": current, "passwordNew": new}))).await
}

/// How many mails to `email` contain `needle`.
async fn count_mails(app: &TestApp, email: &str, needle: &str) -> usize {
    app.mails_to(email).await.iter().filter(|mail| mail.contains(needle)).count()
}

/// Waits up to 5 s for more than `before` mails to `email`; the mails that came after them.
async fn new_mails_to(app: &TestApp, email: &str, before: usize) -> Vec<String> {
    for _ in 0..50 {
        let mails = app.mails_to(email).await;
        if mails.len() > before {
            return mails[before..].to_vec();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no new mail to {email}");
}

/// Lets queued background work (a reset mail) land before checking that nothing came.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

fn reason(body: &Value) -> Option<&str> {
    body["reason"].as_str()
}

fn messages(body: &Value, field: &str) -> Vec<String> {
    serde_json::from_value(body[field].clone()).unwrap_or_default()
}

/// Invites `email` into `slug` with `role` and registers that user (not yet accepted):
/// their client, the member id and the invite link.
async fn invited_user(app: &TestApp, inviter: &Client, slug: &str, email: &str, role: &str) -> (Client, i64, String) {
    let member_id = app.invite(inviter, slug, email, role).await;
    let (link, _) = app.invite_link(member_id).await;
    let client = app.user(email, "Someone").await;
    (client, member_id, link)
}

async fn accept(app: &TestApp, client: &Client, link: &str) {
    let path = format!("/api/0/accept-invite{}", link.trim_start_matches("/accept"));
    let (status, body) = send(client, app, "POST", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "accept {link}: {body}");
}

/// Invites `email` into `slug` with `role` and accepts: the member's client and member id.
async fn member(app: &TestApp, inviter: &Client, slug: &str, email: &str, role: &str) -> (Client, i64) {
    let (client, member_id, link) = invited_user(app, inviter, slug, email, role).await;
    accept(app, &client, &link).await;
    (client, member_id)
}

/// Olive owns "Acme Corp" (`acme`) through `app.client`.
async fn app_with_org() -> TestApp {
    let app = spawn_app().await;
    assert_eq!(app.register("olive@example.com", "Olive Owner", PASSWORD).await.status(), StatusCode::CREATED);
    app.create_org(&app.client, "Acme Corp", "acme").await;
    app
}

async fn delete_account(app: &TestApp, client: &Client, password: &str) -> (StatusCode, Value) {
    send(client, app, "DELETE", "/api/0/users/me/", Some(json!({"password": password}))).await
}

async fn owners_of(app: &TestApp, slug: &str) -> i64 {
    app.sql_i64(&format!(
        "SELECT COUNT(*) FROM members m JOIN organizations o ON o.id = m.organization_id \
         WHERE o.slug = '{slug}' AND m.role = 'owner' AND m.user_id IS NOT NULL"
    ))
    .await
}

fn is_recovery_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    bytes.len() == 9
        && bytes[4] == b'-'
        && bytes.iter().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit() || b.is_ascii_lowercase())
}

// ---------------------------------------------------------------------------------------
// §4.5 Password reset

/// Status, header names (apart from `Date`) and body bytes of an answer.
async fn shape_of(res: reqwest::Response) -> (StatusCode, Vec<String>, Vec<u8>) {
    let status = res.status();
    let mut names: Vec<String> =
        res.headers().keys().map(|name| name.as_str().to_owned()).filter(|name| name != "date").collect();
    names.sort();
    names.dedup();
    (status, names, res.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_request_answers_alike_for_a_known_and_an_unknown_address_and_mails_only_the_account() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let ada_id = my_id(&app, &app.client).await;

    let unknown = shape_of(reset_request(&app, &app.other_client(), "nobody@example.com").send().await.unwrap()).await;
    let known = shape_of(reset_request(&app, &app.other_client(), "ada@example.com").send().await.unwrap()).await;
    assert_eq!(known.0, StatusCode::NO_CONTENT);
    assert!(known.2.is_empty(), "an empty body: {:?}", String::from_utf8_lossy(&known.2));
    assert_eq!(known, unknown, "the same answer whether or not the address has an account");

    let (path, user_id, token) = app.reset_link("ada@example.com").await;
    assert_eq!(user_id, ada_id);
    let mail = app.mails_to("ada@example.com").await.into_iter().find(|mail| mail.contains(&token)).unwrap();
    assert!(mail.contains("Subject: Reset your Gatehouse password"), "{mail}");
    assert!(mail.contains(&format!("{}{path}", app.base)), "the link carries the public address: {mail}");
    settle().await;
    assert!(app.mails_to("nobody@example.com").await.is_empty(), "no mail for an address without an account");
    assert_eq!(count_mails(&app, "ada@example.com", "/account/recover/confirm/").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_the_reset_link_only_shows_the_form_and_the_link_still_works() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (path, user_id, token) = reset_link_for(&app, "ada@example.com").await;
    // A mail scanner opens the link, twice.
    let scanner = app.other_client();
    for _ in 0..2 {
        let res = scanner.get(app.url(&path)).header("accept", "text/html").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        // The page carries the token in its address and form: no cache keeps it, and no
        // other site learns it through the Referer header.
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["referrer-policy"], "same-origin");
        let html = res.text().await.unwrap();
        assert!(html.contains("Choose a new password") && html.contains("ada@example.com"), "{html}");
    }
    assert_eq!(me(&app, &scanner).await.0, StatusCode::UNAUTHORIZED, "opening the link signs no one in");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK, "the password is unchanged");
    let browser = app.other_client();
    let (status, body) = confirm_reset(&app, &browser, &user_id, &token, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_sets_the_password_signs_in_signs_out_every_other_session_and_mails_a_notice() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let laptop = app.other_client();
    assert_eq!(login(&app, &laptop, "ada@example.com", PASSWORD).await.0, StatusCode::OK);

    let browser = app.other_client();
    assert_eq!(request_reset(&app, &browser, "ada@example.com").await, StatusCode::NO_CONTENT);
    let (_, user_id, token) = app.reset_link("ada@example.com").await;
    assert_eq!(count_mails(&app, "ada@example.com", CHANGED).await, 0);
    let res = confirm_request(&app, &browser, &user_id, &token, NEW_PASSWORD).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.text().await.unwrap().is_empty());

    let (status, body) = me(&app, &browser).await;
    assert_eq!((status, body["email"].as_str()), (StatusCode::OK, Some("ada@example.com")), "signed in");
    assert_eq!(me(&app, &app.client).await.0, StatusCode::UNAUTHORIZED, "the registration session ended");
    assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED, "the laptop session ended");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "ada@example.com", NEW_PASSWORD).await, StatusCode::OK);
    app.mail_to_containing("ada@example.com", CHANGED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_works_once() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (_, user_id, token) = reset_link_for(&app, "ada@example.com").await;
    let (status, body) = confirm_reset(&app, &app.other_client(), &user_id, &token, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let again = app.other_client();
    let (status, body) = confirm_reset(&app, &again, &user_id, &token, THIRD_PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("invalid")), "{body}");
    assert!(body["details"].is_string(), "{body}");
    assert_eq!(me(&app, &again).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "ada@example.com", NEW_PASSWORD).await, StatusCode::OK);
    assert_eq!(sign_in(&app, "ada@example.com", THIRD_PASSWORD).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_token_or_another_user_s_id_is_invalid_and_spends_nothing() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let bob = app.user("bob@example.com", "Bob").await;
    let bob_id = my_id(&app, &bob).await;
    let (_, ada_id, token) = reset_link_for(&app, "ada@example.com").await;
    let browser = app.other_client();

    let (status, body) = confirm_reset(&app, &browser, &ada_id, &"0".repeat(64), NEW_PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("invalid")), "unknown token: {body}");
    let (status, body) = confirm_reset(&app, &browser, &bob_id, &token, NEW_PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("invalid")), "another user's id: {body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await.0, StatusCode::OK, "Bob's session is untouched");
    assert_eq!(sign_in(&app, "bob@example.com", PASSWORD).await, StatusCode::OK, "Bob's password is unchanged");
    assert_eq!(sign_in(&app, "bob@example.com", NEW_PASSWORD).await, StatusCode::UNAUTHORIZED);
    // Ada's link still works.
    let (status, body) = confirm_reset(&app, &browser, &ada_id, &token, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_older_than_an_hour_is_expired() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (_, user_id, token) = reset_link_for(&app, "ada@example.com").await;
    app.sql_exec("UPDATE password_resets SET expires_at = expires_at - 7200").await;
    let browser = app.other_client();
    let (status, body) = confirm_reset(&app, &browser, &user_id, &token, NEW_PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("expired")), "{body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &app.client).await.0, StatusCode::OK, "no session ended");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_dies_when_the_password_is_changed_after_it_was_mailed() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (_, user_id, token) = reset_link_for(&app, "ada@example.com").await;
    let (status, body) = change_password(&app, &app.client, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let browser = app.other_client();
    let (status, body) = confirm_reset(&app, &browser, &user_id, &token, THIRD_PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("invalid")), "{body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "ada@example.com", NEW_PASSWORD).await, StatusCode::OK);
    assert_eq!(sign_in(&app, "ada@example.com", THIRD_PASSWORD).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_new_password_is_refused_at_reset_and_the_link_still_works() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (_, user_id, token) = reset_link_for(&app, "ada@example.com").await;
    let browser = app.other_client();
    let (status, body) = confirm_reset(&app, &browser, &user_id, &token, "12345678").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!messages(&body, "password").is_empty(), "password messages in {body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &app.client).await.0, StatusCode::OK, "no session ended");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK);
    let (status, body) = confirm_reset(&app, &browser, &user_id, &token, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(sign_in(&app, "ada@example.com", NEW_PASSWORD).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_of_an_account_with_totp_signs_in_only_after_the_second_step() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (secret, _, _) = enrol_totp(&app, &app.client).await;
    let browser = app.other_client();
    assert_eq!(request_reset(&app, &browser, "ada@example.com").await, StatusCode::NO_CONTENT);
    let (_, user_id, token) = app.reset_link("ada@example.com").await;
    let (status, body) = confirm_reset(&app, &browser, &user_id, &token, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED, "not signed in before the second step");
    assert_eq!(me(&app, &app.client).await.0, StatusCode::UNAUTHORIZED, "the other session ended");
    let (status, body) =
        send(&browser, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": totp_code(&secret, 1)}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::OK);
    let (status, body) = login(&app, &app.other_client(), "ada@example.com", NEW_PASSWORD).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"2faRequired": true})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_a_password_can_set_its_first_one_through_a_reset() {
    let app = spawn_app().await;
    app.user("sso@example.com", "Sso").await;
    app.sql_exec("UPDATE users SET password_hash = NULL WHERE email = 'sso@example.com'").await;
    assert_eq!(sign_in(&app, "sso@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED);
    let browser = app.other_client();
    assert_eq!(request_reset(&app, &browser, "sso@example.com").await, StatusCode::NO_CONTENT);
    let (_, user_id, token) = app.reset_link("sso@example.com").await;
    let (status, body) = confirm_reset(&app, &browser, &user_id, &token, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = me(&app, &browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["hasPasswordAuth"].as_bool(), Some(true), "{body}");
    assert_eq!(sign_in(&app, "sso@example.com", NEW_PASSWORD).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_requests_are_limited_per_address_with_or_without_an_account_and_the_limit_lifts() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    crate::hardening::within_one_window().await;
    // Each request from another client address, so that only the per-address limit counts.
    for (email, first_ip) in [("nobody@example.com", 10), ("ada@example.com", 20)] {
        for i in 0..5 {
            let client = client_from(&format!("127.0.0.{}", first_ip + i));
            assert_eq!(request_reset(&app, &client, email).await, StatusCode::NO_CONTENT, "{email} #{i}");
        }
        let client = client_from(&format!("127.0.0.{}", first_ip + 5));
        let res = reset_request(&app, &client, email).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the sixth request for {email}");
        assert!(retry_after(res.headers()) > 0);
    }
    settle().await;
    assert!(count_mails(&app, "ada@example.com", "/account/recover/confirm/").await <= 5);
    // Another address is not limited by these.
    assert_eq!(request_reset(&app, &client_from("127.0.0.30"), "carol@example.com").await, StatusCode::NO_CONTENT);
    // An hour later the address may ask again.
    app.sql_exec("UPDATE rate_limits SET window_start = window_start - 86400").await;
    assert_eq!(request_reset(&app, &client_from("127.0.0.31"), "ada@example.com").await, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_requests_are_limited_per_client_address() {
    let app = spawn_app().await;
    crate::hardening::within_one_window().await;
    let client = app.other_client();
    for i in 0..5 {
        let email = format!("person{i}@example.com");
        assert_eq!(request_reset(&app, &client, &email).await, StatusCode::NO_CONTENT, "{email}");
    }
    let res = reset_request(&app, &app.other_client(), "person5@example.com").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the sixth address from 127.0.0.1 in a minute");
    assert!(retry_after(res.headers()) > 0);
    assert_eq!(request_reset(&app, &client_from("127.0.0.2"), "person6@example.com").await, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_reset_requests_for_one_address_get_five_answers_and_five_mails_at_most() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    crate::hardening::within_one_window().await;
    let answers =
        all_at_once((0..40).map(|_| reset_request(&app, &app.other_client(), "ada@example.com")).collect()).await;
    assert_eq!(tally(&answers), [(204, 5), (429, 35)]);
    for (_, headers, _) in answers.iter().filter(|(status, _, _)| *status == StatusCode::TOO_MANY_REQUESTS) {
        assert!(retry_after(headers) > 0);
    }
    app.reset_link("ada@example.com").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = count_mails(&app, "ada@example.com", "/account/recover/confirm/").await;
    assert!((1..=5).contains(&mails), "{mails} reset mails");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_confirms_of_one_link_set_exactly_one_password() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (_, user_id, token) = reset_link_for(&app, "ada@example.com").await;
    let password = |i: usize| format!("{NEW_PASSWORD}-{i}");
    let answers = all_at_once(
        (0..40).map(|i| confirm_request(&app, &app.other_client(), &user_id, &token, &password(i))).collect(),
    )
    .await;
    let winners: Vec<usize> = (0..40).filter(|i| answers[*i].0 == StatusCode::NO_CONTENT).collect();
    assert_eq!(winners.len(), 1, "{:?}", tally(&answers));
    for (status, _, body) in &answers {
        assert!(
            [StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST, StatusCode::SERVICE_UNAVAILABLE].contains(status),
            "{status} {body}"
        );
        if *status == StatusCode::BAD_REQUEST {
            assert_eq!(reason(body), Some("invalid"), "{body}");
        }
    }
    let winner = winners[0];
    assert_eq!(sign_in(&app, "ada@example.com", &password(winner)).await, StatusCode::OK);
    assert_eq!(sign_in(&app, "ada@example.com", &password((winner + 1) % 40)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------------------
// §4.5 Password change

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_renews_this_session_and_signs_out_every_other_one() {
    let app = spawn_app().await;
    let res = app.register("ada@example.com", "Ada", PASSWORD).await;
    let before = session_cookie(res.headers()).unwrap();
    let laptop = app.other_client();
    assert_eq!(login(&app, &laptop, "ada@example.com", PASSWORD).await.0, StatusCode::OK);

    let res = app
        .client
        .put(app.url("/api/0/users/me/password/"))
        .json(&json!({"password": PASSWORD, "passwordNew": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let after = session_cookie(res.headers()).expect("a renewed session cookie");
    assert_ne!(after, before, "the session id is renewed");
    assert_eq!(app.me().await.status(), StatusCode::OK, "this client stays signed in");
    assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED, "the other session ended");
    let replay = reqwest::Client::new()
        .get(app.url("/api/0/users/me/"))
        .header("cookie", format!("gatehouse_session={before}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "the old session id is dead");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "ada@example.com", NEW_PASSWORD).await, StatusCode::OK);
    app.mail_to_containing("ada@example.com", CHANGED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_current_password_changes_nothing_and_the_sixth_attempt_is_limited() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    crate::hardening::within_one_window().await;
    for i in 0..5 {
        let (status, body) = change_password(&app, &app.client, "not-the-password-1", NEW_PASSWORD).await;
        assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("wrong_password")), "#{i}: {body}");
    }
    let res = app
        .client
        .put(app.url("/api/0/users/me/password/"))
        .json(&json!({"password": "not-the-password-1", "passwordNew": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the sixth wrong attempt");
    assert!(retry_after(res.headers()) > 0);
    assert_eq!(app.me().await.status(), StatusCode::OK, "still signed in");
    // From another client address the account's owner still signs in, with the old password.
    assert_eq!(login(&app, &client_from("127.0.0.2"), "ada@example.com", PASSWORD).await.0, StatusCode::OK);
    assert_eq!(
        login(&app, &client_from("127.0.0.3"), "ada@example.com", NEW_PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(count_mails(&app, "ada@example.com", CHANGED).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_new_password_an_anonymous_caller_and_a_cross_site_request_change_nothing() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let laptop = app.other_client();
    assert_eq!(login(&app, &laptop, "ada@example.com", PASSWORD).await.0, StatusCode::OK);

    let (status, body) = change_password(&app, &app.client, PASSWORD, "12345678").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!messages(&body, "passwordNew").is_empty(), "passwordNew messages in {body}");

    let (status, _) = change_password(&app, &app.other_client(), PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous");

    let res = app
        .client
        .put(app.url("/api/0/users/me/password/"))
        .header("origin", "https://evil.example")
        .json(&json!({"password": PASSWORD, "passwordNew": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "cross-site");

    assert_eq!(app.me().await.status(), StatusCode::OK);
    assert_eq!(me(&app, &laptop).await.0, StatusCode::OK, "no session ended");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK);
    assert_eq!(sign_in(&app, "ada@example.com", NEW_PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(count_mails(&app, "ada@example.com", CHANGED).await, 0);
}

// ---------------------------------------------------------------------------------------
// §4.7 Name and email

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_can_be_changed_but_not_emptied_and_unknown_fields_are_refused() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (status, body) = send(&app.client, &app, "PUT", "/api/0/users/me/", Some(json!({"name": "Ada King"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["name"].as_str(), body["email"].as_str()), (Some("Ada King"), Some("ada@example.com")));
    assert_eq!(me(&app, &app.client).await.1["name"], "Ada King");

    let (status, body) = send(&app.client, &app, "PUT", "/api/0/users/me/", Some(json!({"name": ""}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!messages(&body, "name").is_empty(), "name messages in {body}");
    let (status, body) =
        send(&app.client, &app, "PUT", "/api/0/users/me/", Some(json!({"name": "Eve", "email": "eve@example.com"})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown field: {body}");
    let (status, _) = send(&app.other_client(), &app, "PUT", "/api/0/users/me/", Some(json!({"name": "Eve"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (_, body) = me(&app, &app.client).await;
    assert_eq!((body["name"].as_str(), body["email"].as_str()), (Some("Ada King"), Some("ada@example.com")));
}

fn token_of(verification_link: &str) -> String {
    verification_link.trim_start_matches("/auth/verify-email/").trim_end_matches('/').to_owned()
}

async fn request_email_change(app: &TestApp, client: &Client, email: &str, password: &str) -> (StatusCode, Value) {
    send(client, app, "POST", "/api/0/users/me/email/", Some(json!({"email": email, "password": password}))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_email_takes_effect_only_when_the_link_mailed_to_it_is_followed() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let old_mails = app.mails_to("ada@example.com").await.len();

    let (status, body) = request_email_change(&app, &app.client, "ada@new.example", PASSWORD).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(me(&app, &app.client).await.1["email"], "ada@example.com", "not changed yet");
    let link = app.verification_link("ada@new.example").await;
    let token = token_of(&link);
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK, "the old address still signs in");

    let (status, body) =
        send(&app.client, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    assert!(status.is_success(), "{status} {body}");
    let (_, body) = me(&app, &app.client).await;
    assert_eq!((body["email"].as_str(), body["emailVerified"].as_bool()), (Some("ada@new.example"), Some(true)));
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "ada@new.example", PASSWORD).await, StatusCode::OK);
    // The old address was told, and never got the link.
    let notices = new_mails_to(&app, "ada@example.com", old_mails).await;
    assert!(notices.iter().all(|mail| !mail.contains(&token)), "the old address never gets the link");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_change_to_a_taken_or_the_current_address_or_with_a_wrong_password_is_refused() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    app.user("other@example.com", "Other").await;
    let other_mails = app.mails_to("other@example.com").await.len();
    let ada_mails = app.mails_to("ada@example.com").await.len();

    for taken in ["Other@Example.com", "other@example.com", "ada@example.com", "not-an-email"] {
        let (status, body) = request_email_change(&app, &app.client, taken, PASSWORD).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{taken}: {body}");
        assert!(!messages(&body, "email").is_empty(), "{taken}: email messages in {body}");
    }
    let (status, body) = request_email_change(&app, &app.client, "ada@new.example", "not-the-password-1").await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("wrong_password")), "{body}");

    settle().await;
    assert_eq!(app.mails_to("other@example.com").await.len(), other_mails, "no mail to the taken address");
    assert_eq!(app.mails_to("ada@example.com").await.len(), ada_mails, "no notice for a refused change");
    assert!(app.mails_to("ada@new.example").await.is_empty());
    assert_eq!(me(&app, &app.client).await.1["email"], "ada@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_registered_by_someone_else_before_the_link_is_followed_refuses_the_change() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (status, body) = request_email_change(&app, &app.client, "new@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let token = token_of(&app.verification_link("new@example.com").await);
    app.user("new@example.com", "Newcomer").await;

    let (status, body) =
        send(&app.client, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    assert_eq!((status, reason(&body)), (StatusCode::CONFLICT, Some("email_taken")), "{body}");
    assert_eq!(me(&app, &app.client).await.1["email"], "ada@example.com");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK);
    let (status, body) = login(&app, &app.other_client(), "new@example.com", PASSWORD).await;
    assert_eq!((status, body["user"]["name"].as_str()), (StatusCode::OK, Some("Newcomer")));
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM users WHERE email = 'new@example.com'").await, 1);
}

// ---------------------------------------------------------------------------------------
// §4.6 Sessions

fn firefox_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .user_agent(FIREFOX)
        .build()
        .unwrap()
}

async fn sessions(app: &TestApp, client: &Client) -> (Vec<Value>, String) {
    let res = client.get(app.url("/api/0/users/me/sessions/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let list: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON array: {text}"));
    (list, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_list_shows_each_device_and_address_and_marks_this_one_without_revealing_session_ids() {
    let app = spawn_app().await;
    let res = app.register("ada@example.com", "Ada", PASSWORD).await;
    let first_cookie = session_cookie(res.headers()).unwrap();
    let firefox = firefox_client();
    let res = firefox
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let firefox_cookie = session_cookie(res.headers()).unwrap();
    app.user("bob@example.com", "Bob").await;

    let (list, text) = sessions(&app, &firefox).await;
    assert_eq!(list.len(), 2, "Ada's two sessions, not Bob's: {text}");
    for cookie in [&first_cookie, &firefox_cookie] {
        assert!(!text.contains(cookie.as_str()), "a session id in the listing: {text}");
    }
    for entry in &list {
        for key in ["id", "current", "browser", "os", "device", "ipAddress", "dateCreated", "lastActive"] {
            assert!(entry.get(key).is_some(), "{key} in {entry}");
        }
        assert!(entry["id"].is_string(), "{entry}");
        assert_eq!(entry["ipAddress"], "127.0.0.1", "{entry}");
    }
    let current: Vec<&Value> = list.iter().filter(|e| e["current"] == true).collect();
    assert_eq!(current.len(), 1, "{text}");
    let this = current[0];
    assert_eq!(this["browser"], "Firefox", "{this}");
    assert!(this["os"].as_str().unwrap().contains("Windows"), "{this}");
    assert!(this["device"].as_str().unwrap().contains("Firefox"), "{this}");
    assert_ne!(list[0]["id"], list[1]["id"]);

    // The other client sees the same two sessions, with the other one marked.
    let (list, _) = sessions(&app, &app.client).await;
    let current: Vec<&Value> = list.iter().filter(|e| e["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_ne!(current[0]["id"], this["id"]);
    assert_ne!(current[0]["browser"], "Firefox");
    assert_eq!(
        send(&app.other_client(), &app, "GET", "/api/0/users/me/sessions/", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_one_session_ends_only_that_one_and_foreign_or_unknown_ids_are_not_found() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let firefox = firefox_client();
    assert_eq!(login(&app, &firefox, "ada@example.com", PASSWORD).await.0, StatusCode::OK);
    let bob = app.user("bob@example.com", "Bob").await;
    let (bob_list, _) = sessions(&app, &bob).await;
    let bob_session = bob_list[0]["id"].as_str().unwrap().to_owned();

    let (list, _) = sessions(&app, &app.client).await;
    let other = list.iter().find(|e| e["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/0/users/me/sessions/{other}/");
    assert_eq!(send(&app.client, &app, "DELETE", &path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &firefox).await.0, StatusCode::UNAUTHORIZED, "that session ended");
    assert_eq!(me(&app, &app.client).await.0, StatusCode::OK, "this one goes on");
    assert_eq!(sessions(&app, &app.client).await.0.len(), 1);

    let foreign = format!("/api/0/users/me/sessions/{bob_session}/");
    assert_eq!(send(&app.client, &app, "DELETE", &foreign, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(me(&app, &bob).await.0, StatusCode::OK, "Bob's session still works");
    assert_eq!(send(&app.client, &app, "DELETE", &path, None).await.0, StatusCode::NOT_FOUND, "already gone");
    let unknown = "/api/0/users/me/sessions/no-such-session/";
    assert_eq!(send(&app.client, &app, "DELETE", unknown, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(me(&app, &app.client).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_all_other_sessions_keeps_this_one_and_other_accounts() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (phone, laptop) = (app.other_client(), firefox_client());
    for client in [&phone, &laptop] {
        assert_eq!(login(&app, client, "ada@example.com", PASSWORD).await.0, StatusCode::OK);
    }
    let bob = app.user("bob@example.com", "Bob").await;
    assert_eq!(sessions(&app, &app.client).await.0.len(), 3);

    assert_eq!(send(&app.client, &app, "DELETE", "/api/0/users/me/sessions/", None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &phone).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &app.client).await.0, StatusCode::OK);
    assert_eq!(me(&app, &bob).await.0, StatusCode::OK);
    let (list, _) = sessions(&app, &app.client).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["current"], true);
}

// ---------------------------------------------------------------------------------------
// §6 Recovery codes and turning TOTP off

async fn regenerate(app: &TestApp, client: &Client, password: &str) -> (StatusCode, Value) {
    send(client, app, "POST", "/api/0/users/me/authenticators/recovery-codes/", Some(json!({"password": password})))
        .await
}

async fn disable_totp(app: &TestApp, client: &Client, password: &str) -> (StatusCode, Value) {
    send(client, app, "DELETE", "/api/0/users/me/authenticators/totp/", Some(json!({"password": password}))).await
}

/// Signs in with the password from a fresh client, which then has a pending second step.
async fn pending_second_step(app: &TestApp, email: &str) -> Client {
    let client = app.other_client();
    let (status, body) = login(app, &client, email, PASSWORD).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"2faRequired": true})));
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerating_recovery_codes_replaces_the_old_set_and_mails_a_notice() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (_, old_codes, _) = enrol_totp(&app, &app.client).await;
    let before = app.mails_to("ada@example.com").await.len();

    let (status, body) = regenerate(&app, &app.client, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes: Vec<String> = serde_json::from_value(body["recoveryCodes"].clone()).unwrap();
    assert_eq!(codes.len(), 10, "{body}");
    assert!(codes.iter().all(|code| !old_codes.contains(code)), "a new set");
    new_mails_to(&app, "ada@example.com", before).await;

    let browser = pending_second_step(&app, "ada@example.com").await;
    let (status, body) = send(&browser, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": old_codes[0]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an old code: {body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = send(&browser, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": codes[0]}))).await;
    assert_eq!(status, StatusCode::OK, "a new code: {body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::OK);
    // SPEC §6: codes of the form `xxxx-xxxx`.
    assert!(codes.iter().all(|code| is_recovery_code(code)), "xxxx-xxxx codes: {codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_codes_need_totp_and_the_right_password() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (status, body) = regenerate(&app, &app.client, PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::CONFLICT, Some("not_enrolled")), "{body}");

    let (_, old_codes, _) = enrol_totp(&app, &app.client).await;
    let (status, body) = regenerate(&app, &app.client, "not-the-password-1").await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("wrong_password")), "{body}");
    assert!(body.get("recoveryCodes").is_none());
    let (status, _) = regenerate(&app, &app.other_client(), PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous");
    // The old codes still work.
    let browser = pending_second_step(&app, "ada@example.com").await;
    let (status, body) = send(&browser, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": old_codes[0]}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_totp_off_needs_the_password_then_sign_in_has_one_step_and_a_notice_is_mailed() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    enrol_totp(&app, &app.client).await;
    let before = app.mails_to("ada@example.com").await.len();

    let (status, body) = disable_totp(&app, &app.client, "not-the-password-1").await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("wrong_password")), "{body}");
    pending_second_step(&app, "ada@example.com").await;

    let (status, body) = disable_totp(&app, &app.client, PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    new_mails_to(&app, "ada@example.com", before).await;
    let browser = app.other_client();
    let (status, body) = login(&app, &browser, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["email"], "ada@example.com", "no second step: {body}");
    assert_eq!(me(&app, &browser).await.0, StatusCode::OK);
    // With TOTP off there are no recovery codes to regenerate.
    let (status, body) = regenerate(&app, &app.client, PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::CONFLICT, Some("not_enrolled")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_totp_off_is_refused_while_an_organization_requires_it() {
    let app = app_with_org().await;
    enrol_totp(&app, &app.client).await;
    let (status, body) =
        send(&app.client, &app, "PUT", "/api/0/organizations/acme/", Some(json!({"require2FA": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (bob, bob_member, link) = invited_user(&app, &app.client, "acme", "bob@example.com", "member").await;
    enrol_totp(&app, &bob).await;
    accept(&app, &bob, &link).await;

    for client in [&app.client, &bob] {
        let (status, body) = disable_totp(&app, client, PASSWORD).await;
        assert_eq!((status, reason(&body)), (StatusCode::CONFLICT, Some("org_requires_2fa")), "{body}");
        let details = body["details"].as_str().unwrap();
        assert!(details.contains("Acme Corp") || details.contains("acme"), "the organization is named: {details}");
    }
    pending_second_step(&app, "bob@example.com").await;

    let path = format!("/api/0/organizations/acme/members/{bob_member}/");
    assert_eq!(send(&app.client, &app, "DELETE", &path, None).await.0, StatusCode::NO_CONTENT);
    let (status, body) = disable_totp(&app, &bob, PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "no longer a member: {body}");
    let (status, body) = login(&app, &app.other_client(), "bob@example.com", PASSWORD).await;
    assert_eq!((status, body["user"]["email"].as_str()), (StatusCode::OK, Some("bob@example.com")));
}

// ---------------------------------------------------------------------------------------
// §4.7 Deleting the account

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_account_ends_its_sessions_and_sign_in_mails_a_notice_and_removes_organizations_of_one() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    app.create_org(&app.client, "Solo", "solo").await;
    let laptop = app.other_client();
    assert_eq!(login(&app, &laptop, "ada@example.com", PASSWORD).await.0, StatusCode::OK);
    let bob = app.user("bob@example.com", "Bob").await;

    let (status, body) = delete_account(&app, &app.client, "not-the-password-1").await;
    assert_eq!((status, reason(&body)), (StatusCode::BAD_REQUEST, Some("wrong_password")), "{body}");
    assert_eq!(app.user_count().await, 2);
    assert_eq!(me(&app, &app.client).await.0, StatusCode::OK);
    assert_eq!(delete_account(&app, &app.other_client(), PASSWORD).await.0, StatusCode::UNAUTHORIZED, "anonymous");

    let (status, body) = delete_account(&app, &app.client, PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(me(&app, &app.client).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED, "every session goes with the account");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED);
    app.mail_to_containing("ada@example.com", "Your Gatehouse account was deleted").await;
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM organizations WHERE slug = 'solo'").await, 0);
    assert_eq!(send(&bob, &app, "GET", "/api/0/organizations/solo/", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(me(&app, &bob).await.0, StatusCode::OK, "other accounts are untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_only_owner_of_an_organization_with_members_cannot_delete_the_account_until_another_owner_exists() {
    let app = app_with_org().await;
    let (bob, bob_member) = member(&app, &app.client, "acme", "bob@example.com", "member").await;

    let (status, body) = delete_account(&app, &app.client, PASSWORD).await;
    assert_eq!((status, reason(&body)), (StatusCode::CONFLICT, Some("sole_owner")), "{body}");
    let details = body["details"].as_str().unwrap();
    assert!(details.contains("Acme Corp") || details.contains("acme"), "the organization is named: {details}");
    assert_eq!(me(&app, &app.client).await.0, StatusCode::OK);
    assert_eq!(app.user_count().await, 2);

    // Find Bob's member id in the list, and make him an owner.
    let (_, list) = send(&app.client, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    let listed = list.as_array().unwrap().iter().find(|m| m["email"] == "bob@example.com").unwrap()["id"].clone();
    assert_eq!(listed, json!(bob_member));
    let path = format!("/api/0/organizations/acme/members/{bob_member}/");
    let (status, body) = send(&app.client, &app, "PUT", &path, Some(json!({"role": "owner"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = delete_account(&app, &app.client, PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(me(&app, &app.client).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&bob, &app, "GET", "/api/0/organizations/acme/", None).await.0, StatusCode::OK);
    let (_, list) = send(&bob, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    let emails: Vec<&str> = list.as_array().unwrap().iter().filter_map(|m| m["email"].as_str()).collect();
    assert_eq!(emails, ["bob@example.com"]);
    assert_eq!(owners_of(&app, "acme").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_of_a_deleted_user_survive_and_still_show_their_email() {
    let app = app_with_org().await;
    let (bob, _) = member(&app, &app.client, "acme", "bob@example.com", "manager").await;
    let bob_id = my_id(&app, &bob).await;
    app.invite(&bob, "acme", "carl@example.com", "member").await;
    let (_, log) = send(&app.client, &app, "GET", "/api/0/organizations/acme/audit-logs/", None).await;
    let by_bob: Vec<Value> =
        log.as_array().unwrap().iter().filter(|e| e["actor"]["id"] == bob_id.as_str()).cloned().collect();
    assert!(by_bob.iter().any(|e| e["event"] == "member.invite"), "Bob's invite is audited: {log}");

    let (status, body) = delete_account(&app, &bob, PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, log) = send(&app.client, &app, "GET", "/api/0/organizations/acme/audit-logs/", None).await;
    assert_eq!(status, StatusCode::OK);
    for old in &by_bob {
        let entry = log.as_array().unwrap().iter().find(|e| e["id"] == old["id"]).expect("the entry survives");
        assert_eq!(entry["event"], old["event"]);
        assert!(entry.to_string().contains("bob@example.com"), "the actor's email in {entry}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_co_owners_deleting_their_accounts_at_once_leave_the_organization_an_owner() {
    let app = app_with_org().await;
    let (bob, bob_member) = member(&app, &app.client, "acme", "bob@example.com", "member").await;
    let path = format!("/api/0/organizations/acme/members/{bob_member}/");
    let (status, body) = send(&app.client, &app, "PUT", &path, Some(json!({"role": "owner"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    member(&app, &app.client, "acme", "carl@example.com", "member").await;
    assert_eq!(owners_of(&app, "acme").await, 2);

    let (olive, bob_answer) =
        tokio::join!(delete_account(&app, &app.client, PASSWORD), delete_account(&app, &bob, PASSWORD));
    let mut answers = [olive, bob_answer];
    answers.sort_by_key(|(status, _)| status.as_u16());
    assert_eq!(answers[0].0, StatusCode::NO_CONTENT, "{answers:?}");
    assert_eq!((answers[1].0, reason(&answers[1].1)), (StatusCode::CONFLICT, Some("sole_owner")), "{answers:?}");
    assert_eq!(owners_of(&app, "acme").await, 1);
    assert_eq!(app.user_count().await, 2);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM organizations WHERE slug = 'acme'").await, 1);
}

// ---------------------------------------------------------------------------------------
// §9.8 Malformed input on the new routes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_route_answers_wrong_types_invalid_json_and_unknown_fields_with_400() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let routes: [(&str, &str, Value, Value); 8] = [
        ("POST", "/api/0/auth/password-reset/", json!({"email": 5}), json!({"email": "ada@example.com", "x": 1})),
        (
            "POST",
            "/api/0/auth/password-reset/confirm/",
            json!({"userId": "1", "token": 5, "password": NEW_PASSWORD}),
            json!({"userId": "1", "token": "0", "password": NEW_PASSWORD, "x": 1}),
        ),
        (
            "PUT",
            "/api/0/users/me/password/",
            json!({"password": 5, "passwordNew": NEW_PASSWORD}),
            json!({"password": PASSWORD, "passwordNew": NEW_PASSWORD, "x": 1}),
        ),
        ("PUT", "/api/0/users/me/", json!({"name": 5}), json!({"name": "Eve", "x": 1})),
        (
            "POST",
            "/api/0/users/me/email/",
            json!({"email": 5, "password": PASSWORD}),
            json!({"email": "eve@example.com", "password": PASSWORD, "x": 1}),
        ),
        ("DELETE", "/api/0/users/me/", json!({"password": 5}), json!({"password": PASSWORD, "x": 1})),
        (
            "DELETE",
            "/api/0/users/me/authenticators/totp/",
            json!({"password": 5}),
            json!({"password": PASSWORD, "x": 1}),
        ),
        (
            "POST",
            "/api/0/users/me/authenticators/recovery-codes/",
            json!({"password": 5}),
            json!({"password": PASSWORD, "x": 1}),
        ),
    ];
    let mut ip = 10;
    for (method, path, wrong_type, unknown_field) in routes {
        let bodies = [
            serde_json::to_vec(&wrong_type).unwrap(),
            b"{\"password\": ".to_vec(),
            serde_json::to_vec(&unknown_field).unwrap(),
        ];
        for body in bodies {
            // The anonymous reset routes each from another client address, so that no rate
            // limit answers first; the others as Ada.
            ip += 1;
            let client = if path.starts_with("/api/0/auth/") {
                client_from(&format!("127.0.0.{ip}"))
            } else {
                app.client.clone()
            };
            let req = match method {
                "POST" => client.post(app.url(path)),
                "PUT" => client.put(app.url(path)),
                _ => client.delete(app.url(path)),
            };
            let res = req.header("content-type", "application/json").body(body.clone()).send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            let shown = String::from_utf8_lossy(&body);
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} {shown}: {text}");
            let json: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON error: {text}"));
            assert!(json.as_object().is_some_and(|o| !o.is_empty()), "{text}");
        }
    }
    let (status, body) = me(&app, &app.client).await;
    assert_eq!(status, StatusCode::OK, "nothing deleted, no session ended");
    assert_eq!((body["name"].as_str(), body["email"].as_str()), (Some("Ada"), Some("ada@example.com")));
    assert_eq!(app.user_count().await, 1);
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK);
    settle().await;
    assert!(app.mails_to("eve@example.com").await.is_empty());
    assert_eq!(count_mails(&app, "ada@example.com", "/account/recover/confirm/").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_change_requests_are_limited_per_account_even_in_parallel() {
    // Each request mails an address of the user's choosing and says whether another account
    // has it: 5 per hour, counted before the work, also when 40 arrive at once.
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let requests = (0..40)
        .map(|i| {
            app.client
                .post(app.url("/api/0/users/me/email/"))
                .json(&json!({"email": format!("new{i}@example.com"), "password": PASSWORD}))
        })
        .collect();
    let answers = all_at_once(requests).await;
    assert_eq!(tally(&answers), vec![(202, 5), (429, 35)], "{answers:?}");
    assert!(answers.iter().filter(|a| a.0 == 429).all(|a| retry_after(&a.1) > 0));
    let change_links: i64 = app.sql_i64("SELECT COUNT(*) FROM email_verifications WHERE purpose = 'change'").await;
    assert_eq!(change_links, 1, "a newer request replaces an unconfirmed one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_list_is_paged_with_a_link_header() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await, StatusCode::OK);
    }
    let page = |query: &str| app.client.get(app.url(&format!("/api/0/users/me/sessions/{query}"))).send();
    let res = page("?per_page=2").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("rel=\"previous\"; results=\"false\""), "{link}");
    assert!(link.contains("rel=\"next\"; results=\"true\""), "{link}");
    let first: Vec<Value> = res.json().await.unwrap();
    assert_eq!(first.len(), 2);
    let next = link.split(", ").find(|l| l.contains("rel=\"next\"")).unwrap();
    let cursor = next.split("cursor=\"").nth(1).unwrap().trim_end_matches('"');
    let res = page(&format!("?per_page=2&cursor={cursor}")).await.unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("rel=\"next\"; results=\"false\""), "{link}");
    assert!(link.contains("rel=\"previous\"; results=\"true\""), "{link}");
    let second: Vec<Value> = res.json().await.unwrap();
    assert_eq!(second.len(), 1, "three sessions in all");
    assert!(!first.iter().any(|s| s["id"] == second[0]["id"]));
    for bad in ["?per_page=0", "?per_page=101", "?per_page=x", "?cursor=nonsense"] {
        let res = page(bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert!(body["reason"].as_str().is_some(), "{bad}: {body}");
    }
}
