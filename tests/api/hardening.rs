//! Attacks on the limits (SPEC §9.4, §5.1, §5.7, §5.10): parallel floods are limited
//! exactly like sequential requests, the client address is the right one behind trusted
//! proxies and cannot be spoofed otherwise, a full password-hashing queue answers 503 at
//! once, and concurrent owner changes always leave an owner.
//!
//! Parallel attacks fire their requests from spawned tasks on a multi-threaded runtime, all
//! at once.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::json;

use crate::harness::*;

const ORG: &str = "acme";

fn login_request(client: &Client, app: &TestApp, email: &str, password: &str) -> RequestBuilder {
    client.post(app.url("/api/0/auth/login/")).json(&json!({"username": email, "password": password}))
}

/// A six-digit code that is none of the codes of the current, previous and next steps.
fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-2..=2).map(|offset| totp_code(secret, offset)).collect();
    (0..1000).map(|n| format!("{:06}", 123_456 + n)).find(|code| !near.contains(code)).unwrap()
}

/// Waits, when the current minute is nearly over, for the next one: the sign-in and code
/// limits count in fixed one-minute windows, and a test's requests must not straddle two.
pub async fn within_one_window() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let into_minute = now.as_secs_f64() % 60.0;
    if into_minute > 40.0 {
        tokio::time::sleep(Duration::from_secs_f64(60.0 - into_minute + 0.1)).await;
    }
}

// ---------------------------------------------------------------------------------------
// SPEC §9.4: limits are counted before the work, atomically.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_wrong_passwords_for_one_account_get_five_401_and_thirty_five_429() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    within_one_window().await;
    let answers = all_at_once(
        (0..40).map(|_| login_request(&app.other_client(), &app, "ada@example.com", "wrong-password-1")).collect(),
    )
    .await;
    assert_eq!(tally(&answers), [(401, 5), (429, 35)]);
    // The window still holds five failures: the right password is refused too.
    assert_eq!(
        login_request(&app.other_client(), &app, "ada@example.com", PASSWORD).send().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A user with TOTP enrolled, and a second client that passed the password step.
async fn pending_second_step(app: &TestApp) -> (String, Client) {
    let ada = app.user("ada@example.com", "Ada").await;
    let (secret, _, _) = enrol_totp(app, &ada).await;
    let browser = app.other_client();
    let (status, body) = json_of(login_request(&browser, app, "ada@example.com", PASSWORD).send().await.unwrap()).await;
    assert_eq!((status, body["2faRequired"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    (secret, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_wrong_codes_at_the_second_step_get_five_400_and_thirty_five_429() {
    let app = spawn_app().await;
    let (secret, browser) = pending_second_step(&app).await;
    let wrong = wrong_code(&secret);
    within_one_window().await;
    let answers =
        all_at_once((0..40).map(|_| browser.post(app.url("/api/0/auth/2fa/")).json(&json!({"otp": wrong}))).collect())
            .await;
    assert_eq!(tally(&answers), [(400, 5), (429, 35)]);
    // The right code is refused as well until the window ends.
    let res =
        browser.post(app.url("/api/0/auth/2fa/")).json(&json!({"otp": totp_code(&secret, 0)})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_right_code_gives_its_hit_back_and_the_account_limit_spans_sign_ins() {
    let app = spawn_app().await;
    within_one_window().await;
    let (secret, browser) = pending_second_step(&app).await;
    let wrong = wrong_code(&secret);
    for _ in 0..4 {
        let res = browser.post(app.url("/api/0/auth/2fa/")).json(&json!({"otp": wrong})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    // (The enrolment used the current step's code; a code is never accepted twice.)
    let res =
        browser.post(app.url("/api/0/auth/2fa/")).json(&json!({"otp": totp_code(&secret, 1)})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the fifth attempt, right, passes");
    // Another sign-in of the same account: its pending sign-in is fresh, but the account
    // already has four failures this minute, so one more wrong code is allowed, then none.
    let other = app.other_client();
    let (status, _) = json_of(login_request(&other, &app, "ada@example.com", PASSWORD).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let wrong_status = |client: Client| {
        let wrong = wrong.clone();
        let url = app.url("/api/0/auth/2fa/");
        async move { client.post(url).json(&json!({"otp": wrong})).send().await.unwrap().status() }
    };
    assert_eq!(wrong_status(other.clone()).await, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_status(other.clone()).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_wrong_codes_confirming_an_enrolment_get_five_400_and_thirty_five_429() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com", "Ada").await;
    let (status, body) =
        json_of(ada.get(app.url("/api/0/users/me/authenticators/totp/enroll/")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let secret = body["secret"].as_str().unwrap().to_owned();
    let wrong = wrong_code(&secret);
    let url = app.url("/api/0/users/me/authenticators/totp/enroll/");
    within_one_window().await;
    let answers =
        all_at_once((0..40).map(|_| ada.post(&url).json(&json!({"secret": secret, "otp": wrong}))).collect()).await;
    assert_eq!(tally(&answers), [(400, 5), (429, 35)]);
}

// ---------------------------------------------------------------------------------------
// SPEC §9.4: sign-in limits per (account, client) and per client; the client address.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_one_client_never_stop_the_owner_signing_in_from_another() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    within_one_window().await;
    let attacker = client_from("127.0.0.1");
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            login_request(&attacker, &app, "ada@example.com", "wrong-password-1")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    let owner = client_from("127.0.0.2");
    let (status, body) = json_of(login_request(&owner, &app, "ada@example.com", PASSWORD).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_gets_twenty_failures_a_minute_across_accounts_even_in_parallel() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let from_a = client_from("127.0.0.1");
    within_one_window().await;
    let answers = all_at_once(
        (0..40).map(|i| login_request(&from_a, &app, &format!("nobody{i}@example.com"), "wrong-password-1")).collect(),
    )
    .await;
    assert_eq!(tally(&answers), [(401, 20), (429, 20)]);
    let (status, body) = json_of(login_request(&from_a, &app, "ada@example.com", PASSWORD).send().await.unwrap()).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    // Another client is not concerned.
    assert_eq!(
        login_request(&client_from("127.0.0.2"), &app, "ada@example.com", PASSWORD).send().await.unwrap().status(),
        StatusCode::OK
    );
}

/// `n` failed sign-ins for distinct unknown accounts through `client`, each with the
/// given `X-Forwarded-For`; their statuses.
async fn failures_forwarded_for(
    app: &TestApp,
    client: &Client,
    forwarded: impl Fn(usize) -> String,
    n: usize,
    tag: &str,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..n {
        let res = login_request(client, app, &format!("{tag}{i}@example.com"), "wrong-password-1")
            .header("x-forwarded-for", forwarded(i))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxys_forwarded_address_is_the_client_and_each_is_limited_on_its_own() {
    let app = spawn_app_with(Options { trusted_proxies: Some("127.0.0.1, 10.0.0.0/8"), ..Options::default() }).await;
    let proxy = client_from("127.0.0.1");
    within_one_window().await;
    let statuses = failures_forwarded_for(&app, &proxy, |_| "203.0.113.7".into(), 21, "a").await;
    assert_eq!(statuses, [vec![401; 20], vec![429]].concat());
    // The same client, whatever it put left of what the proxies wrote.
    let statuses =
        failures_forwarded_for(&app, &proxy, |i| format!("198.51.100.{i}, 203.0.113.7, 10.1.2.3"), 1, "b").await;
    assert_eq!(statuses, [429]);
    // Another client behind the same proxy is not concerned.
    let statuses = failures_forwarded_for(&app, &proxy, |_| "203.0.113.8".into(), 1, "c").await;
    assert_eq!(statuses, [401]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_peers_forwarded_for_is_ignored_so_spoofing_it_escapes_no_limit() {
    // 10.0.0.0/8 is trusted, the test client (127.0.0.1) is not.
    let app = spawn_app_with(Options { trusted_proxies: Some("10.0.0.0/8"), ..Options::default() }).await;
    let client = client_from("127.0.0.1");
    within_one_window().await;
    let statuses = failures_forwarded_for(&app, &client, |i| format!("203.0.113.{i}"), 22, "a").await;
    assert_eq!(statuses, [vec![401; 20], vec![429; 2]].concat());
    // Pretending to be a trusted proxy does not help either.
    let statuses = failures_forwarded_for(&app, &client, |i| format!("198.51.100.{i}, 10.0.0.1"), 1, "b").await;
    assert_eq!(statuses, [429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_behind_a_trusted_proxy_are_limited_per_forwarded_client() {
    let app =
        spawn_app_with(Options { trusted_proxies: Some("127.0.0.1"), register_limit: Some(2), ..Options::default() })
            .await;
    let register = |email: &str, forwarded: &str| {
        client_from("127.0.0.1")
            .post(app.url("/api/0/auth/register/"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"email": email, "name": "U", "password": PASSWORD}))
            .send()
    };
    assert_eq!(register("u1@example.com", "203.0.113.7").await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(register("u2@example.com", "203.0.113.7").await.unwrap().status(), StatusCode::CREATED);
    let res = register("u3@example.com", "203.0.113.7").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(res.headers()) <= 3600);
    assert_eq!(register("u4@example.com", "203.0.113.8").await.unwrap().status(), StatusCode::CREATED);
}

// ---------------------------------------------------------------------------------------
// SPEC §9.3, §9.4: a bounded hashing queue, and Retry-After on every 429.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_hashing_queue_answers_503_with_retry_after_at_once_while_pages_still_render() {
    let app = spawn_app_with(Options { hash_queue: Some(1), ..Options::default() }).await;
    let mut flood = Vec::new();
    for i in 0..30 {
        flood.push(
            app.other_client()
                .post(app.url("/api/0/auth/register/"))
                .json(&json!({"email": format!("u{i}@example.com"), "name": "U", "password": PASSWORD})),
        );
    }
    for i in 0..10 {
        // Server functions as the hydrated app calls them.
        flood.push(app.other_client().post(app.url("/_fn/auth/register")).form(&[
            ("email", format!("f{i}@example.com")),
            ("name", "F".into()),
            ("password", PASSWORD.into()),
        ]));
    }
    for i in 0..10 {
        flood.push(login_request(&app.other_client(), &app, &format!("nobody{i}@example.com"), "wrong-password-1"));
    }
    let flooding = tokio::spawn(all_at_once(flood));
    // Pages answer meanwhile: rendering one never waits for the hashing queue. (How long it
    // takes is for the benchmark command; on a loaded machine any bound here would flake.)
    tokio::time::sleep(Duration::from_millis(20)).await;
    let page = app.other_client().get(app.url("/auth/login/")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let answers = flooding.await.unwrap();
    let busy: Vec<_> = answers.iter().filter(|(status, _, _)| *status == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "some answers are 503: {:?}", tally(&answers));
    for (_, headers, _) in &busy {
        assert!((1..=10).contains(&retry_after(headers)));
    }
    let (json_api, rest) = answers.split_at(30);
    let (server_fns, logins) = rest.split_at(10);
    assert!(json_api.iter().all(|(s, _, _)| [201, 503].contains(&s.as_u16())), "{:?}", tally(json_api));
    // The first request to reach the queue always gets a place; which kind it is, is chance.
    assert!(
        answers.iter().any(|(s, _, _)| *s != StatusCode::SERVICE_UNAVAILABLE),
        "some requests pass: {:?}",
        tally(&answers)
    );
    assert!(json_api.iter().any(|(s, _, b)| *s == StatusCode::SERVICE_UNAVAILABLE && b["reason"] == "busy"));
    assert!(
        server_fns.iter().all(|(s, _, _)| s.as_u16() < 500 || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{:?}",
        tally(server_fns)
    );
    assert!(logins.iter().all(|(s, _, _)| [401, 503].contains(&s.as_u16())), "{:?}", tally(logins));
    // A refused registration left nothing behind; the accepted ones are there.
    let created = answers.iter().filter(|(s, _, _)| s.is_success() || s.is_redirection()).count() as i64;
    assert_eq!(app.user_count().await, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_429_carries_retry_after_until_its_window_ends() {
    let app = spawn_app_with(Options { register_limit: Some(1), ..Options::default() }).await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    // JSON API, sign-in (one-minute window).
    within_one_window().await;
    for _ in 0..5 {
        login_request(&app.other_client(), &app, "ada@example.com", "wrong-password-1").send().await.unwrap();
    }
    let res = login_request(&app.other_client(), &app, "ada@example.com", "wrong-password-1").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(res.headers())));
    // Server function, sign-in.
    let res = app
        .other_client()
        .post(app.url("/_fn/auth/login"))
        .form(&[("username", "ada@example.com"), ("password", "wrong-password-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(res.headers())));
    // Registration (one-hour window).
    let res = app
        .other_client()
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "bob@example.com", "name": "Bob", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=3600).contains(&retry_after(res.headers())));
    // Daily invite limits (a rolling day).
    let owner = client_from("127.0.0.3");
    assert_eq!(login_request(&owner, &app, "ada@example.com", PASSWORD).send().await.unwrap().status(), StatusCode::OK);
    app.create_org(&owner, "Acme", ORG).await;
    for _ in 0..10 {
        let id = app.invite(&owner, ORG, "spam@example.com", "member").await;
        assert_eq!(
            owner.delete(app.url(&format!("/api/0/organizations/{ORG}/members/{id}/"))).send().await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
    }
    let res = owner
        .post(app.url(&format!("/api/0/organizations/{ORG}/members/")))
        .json(&json!({"email": "spam@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let secs = retry_after(res.headers());
    assert!((86_000..=86_400).contains(&secs), "{secs}");
}

// ---------------------------------------------------------------------------------------
// SPEC §5.7, §5.1, §5.10: invite requests per member, reissues per address, the last owner.

/// The owner (on `app.client`) and one more member joined with `role`.
async fn app_with_member(email: &str, role: &str) -> (TestApp, Client) {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme Corp", ORG).await;
    let id = app.invite(&app.client, ORG, email, role).await;
    let (link, _) = app.invite_link(id).await;
    let client = app.user(email, email).await;
    let (status, _) =
        send(&client, &app, "POST", &format!("/api/0/accept-invite{}", link.trim_start_matches("/accept")), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    (app, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_files_at_most_twenty_invite_requests_a_day_even_in_parallel() {
    let (app, mel) = app_with_member("mel@example.com", "member").await;
    let url = app.url(&format!("/api/0/organizations/{ORG}/invite-requests/"));
    let answers = all_at_once(
        (0..40).map(|i| mel.post(&url).json(&json!({"email": format!("friend{i}@example.com")}))).collect(),
    )
    .await;
    assert_eq!(tally(&answers), [(201, 20), (429, 20)]);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE invite_status = 'requested_to_be_invited'").await, 20);
    let limited = answers.iter().find(|(s, _, _)| *s == StatusCode::TOO_MANY_REQUESTS).unwrap();
    assert!((1..=86_400).contains(&retry_after(&limited.1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resends_and_regenerates_count_against_the_daily_limit_per_address_even_in_parallel() {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme Corp", ORG).await;
    let id = app.invite(&app.client, ORG, "x@example.com", "member").await;
    let url = app.url(&format!("/api/0/organizations/{ORG}/members/{id}/"));
    let answers = all_at_once(
        (0..40)
            .map(|i| {
                app.client.put(&url).json(&if i % 2 == 0 {
                    json!({"reinvite": true})
                } else {
                    json!({"regenerate": true})
                })
            })
            .collect(),
    )
    .await;
    // The invite itself was the first of ten sends today.
    assert_eq!(tally(&answers), [(200, 9), (429, 31)]);
    // Another address is not concerned.
    app.invite(&app.client, ORG, "y@example.com", "member").await;
}

async fn owners(app: &TestApp) -> i64 {
    app.sql_i64("SELECT COUNT(*) FROM members WHERE role = 'owner' AND user_id IS NOT NULL").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_owners_demoting_each_other_at_once_leave_an_owner() {
    let (app, max) = app_with_member("max@example.com", "owner").await;
    let olive_id = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'owner@example.com'")
        .await;
    let max_id = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'max@example.com'")
        .await;
    for round in 0..5 {
        app.sql_exec("UPDATE members SET role = 'owner' WHERE user_id IS NOT NULL").await;
        let mut attempts = Vec::new();
        for _ in 0..20 {
            attempts.push(
                app.client
                    .put(app.url(&format!("/api/0/organizations/{ORG}/members/{max_id}/")))
                    .json(&json!({"role": "member"})),
            );
            attempts.push(
                max.put(app.url(&format!("/api/0/organizations/{ORG}/members/{olive_id}/")))
                    .json(&json!({"role": "member"})),
            );
        }
        let answers = all_at_once(attempts).await;
        assert!(
            answers.iter().all(|(s, _, _)| [200, 403, 409].contains(&s.as_u16())),
            "round {round}: {:?}",
            tally(&answers)
        );
        assert!(owners(&app).await >= 1, "round {round}: no owner left after {:?}", tally(&answers));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_owners_removing_each_other_at_once_leave_an_owner() {
    for round in 0..3 {
        let (app, max) = app_with_member("max@example.com", "owner").await;
        let olive_id = app
            .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'owner@example.com'")
            .await;
        let max_id = app
            .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'max@example.com'")
            .await;
        let mut attempts = Vec::new();
        for i in 0..20 {
            attempts.push(app.client.delete(app.url(&format!("/api/0/organizations/{ORG}/members/{max_id}/"))));
            // Half remove, half demote.
            attempts.push(if i % 2 == 0 {
                max.delete(app.url(&format!("/api/0/organizations/{ORG}/members/{olive_id}/")))
            } else {
                max.put(app.url(&format!("/api/0/organizations/{ORG}/members/{olive_id}/")))
                    .json(&json!({"role": "member"}))
            });
        }
        let answers = all_at_once(attempts).await;
        assert!(answers.iter().all(|(s, _, _)| s.as_u16() < 500), "round {round}: {:?}", tally(&answers));
        assert!(owners(&app).await >= 1, "round {round}: no owner left after {:?}", tally(&answers));
    }
}

/// SPEC §5.1: the inviter's 100 invites a day hold across organizations, even when the
/// invites race in two organizations at once (each organization's lock alone does not
/// serialise them).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_inviters_daily_limit_holds_across_organizations_in_parallel() {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme", "acme").await;
    app.create_org(&app.client, "Beta", "beta").await;
    let requests = (0..120)
        .map(|i| {
            let org = if i % 2 == 0 { "acme" } else { "beta" };
            app.client
                .post(app.url(&format!("/api/0/organizations/{org}/members/")))
                .json(&json!({"email": format!("p{i}@example.com")}))
        })
        .collect();
    let answers = all_at_once(requests).await;
    assert_eq!(tally(&answers), [(201, 100), (429, 20)]);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE user_id IS NULL").await, 100);
}

/// SPEC §5.1: approving a request mails an invite, and counts against the address's limit.
#[tokio::test]
async fn approving_a_request_counts_against_the_addresss_daily_limit() {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme", ORG).await;
    for _ in 0..10 {
        let id = app.invite(&app.client, ORG, "spam@example.com", "member").await;
        assert_eq!(
            app.client
                .delete(app.url(&format!("/api/0/organizations/{ORG}/members/{id}/")))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    let (status, body) = send(
        &app.client,
        &app,
        "POST",
        &format!("/api/0/organizations/{ORG}/invite-requests/"),
        Some(json!({"email": "spam@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = send(
        &app.client,
        &app,
        "PUT",
        &format!("/api/0/organizations/{ORG}/invite-requests/{id}/"),
        Some(json!({"approve": true})),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM members WHERE invite_status = 'approved' AND user_id IS NULL").await,
        0,
        "nothing approved"
    );
}
