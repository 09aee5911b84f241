//! Organization policies in the accept flow (SPEC §5.3 steps 4–8, §5.4, §6, §7), the
//! organization settings API, two-factor login and email verification.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;

const ORG: &str = "acme";

async fn app_with_org() -> TestApp {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme Corp", ORG).await;
    app
}

fn api(link: &str) -> String {
    format!("/api/0/accept-invite{}", link.trim_start_matches("/accept"))
}

async fn settings(app: &TestApp, client: &Client, body: Value) -> (StatusCode, Value) {
    send(client, app, "PUT", &format!("/api/0/organizations/{ORG}/"), Some(body)).await
}

async fn is_member(app: &TestApp, email: &str) -> bool {
    app.sql_i64(&format!("SELECT COUNT(*) FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = '{email}'"))
        .await
        == 1
}

#[tokio::test]
async fn owners_change_settings_members_cannot_and_managers_cannot_default_to_owner() {
    let app = app_with_org().await;
    let (status, body) =
        settings(&app, &app.client, json!({"allowJoinRequests": true, "defaultRole": "manager", "memberLimit": 10}))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["allowJoinRequests"].as_bool(), body["defaultRole"].as_str(), body["memberLimit"].as_i64()),
        (Some(true), Some("manager"), Some(10))
    );
    // Absent keys stay; null removes the limit.
    let (_, body) = settings(&app, &app.client, json!({"memberLimit": null})).await;
    assert_eq!((body["memberLimit"].clone(), body["allowJoinRequests"].as_bool()), (Value::Null, Some(true)));
    let entry = app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'org.edit'").await;
    assert_eq!(entry, 2);

    let manager_id = app.invite(&app.client, ORG, "manny@example.com", "manager").await;
    let (link, _) = app.invite_link(manager_id).await;
    let manny = app.user("manny@example.com", "Manny").await;
    assert_eq!(send(&manny, &app, "POST", &api(&link), None).await.0, StatusCode::NO_CONTENT);
    let (status, body) = settings(&app, &manny, json!({"defaultRole": "owner"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["defaultRole"][0].as_str().unwrap().contains("higher than your own"));
    assert_eq!(settings(&app, &manny, json!({"allowEmailMismatch": true})).await.0, StatusCode::OK);

    let member_id = app.invite(&app.client, ORG, "mel@example.com", "member").await;
    let (link, _) = app.invite_link(member_id).await;
    let mel = app.user("mel@example.com", "Mel").await;
    assert_eq!(send(&mel, &app, "POST", &api(&link), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(settings(&app, &mel, json!({"allowJoinRequests": false})).await.0, StatusCode::FORBIDDEN);
    let outsider = app.user("out@example.com", "Out").await;
    assert_eq!(settings(&app, &outsider, json!({"allowJoinRequests": false})).await.0, StatusCode::NOT_FOUND);
    // Bad input changes nothing.
    for bad in [
        json!({"memberLimit": 0}),
        json!({"memberLimit": "ten"}),
        json!({"defaultRole": "king"}),
        json!({"require2FA": "yes"}),
        json!({"color": "red"}),
    ] {
        let (status, body) = settings(&app, &app.client, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
    }
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM organizations WHERE default_role = 'manager' AND allow_email_mismatch = 1")
            .await,
        1
    );
}

#[tokio::test]
async fn requiring_two_factor_needs_it_on_your_own_account_first() {
    let app = app_with_org().await;
    let (status, body) = settings(&app, &app.client, json!({"require2FA": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["require2FA"].is_array());
    enrol_totp(&app, &app.client).await;
    assert_eq!(settings(&app, &app.client, json!({"require2FA": true})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_2fa_organization_s_invitee_registers_enrols_and_is_then_a_member_without_another_click() {
    let app = app_with_org().await;
    enrol_totp(&app, &app.client).await;
    settings(&app, &app.client, json!({"require2FA": true})).await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;

    let bob = app.other_client();
    let (status, details) = send(&bob, &app, "GET", &api(&link), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((details["needsAuthentication"].as_bool(), details["needs2fa"].as_bool()), (Some(true), Some(true)));
    // Registering through the link without JavaScript: sent back to the invite page.
    let res = app
        .post_form_nojs(
            &bob,
            "/_fn/auth/register",
            &link,
            &[("email", "bob@example.com"), ("name", "Bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.headers()["location"].to_str().unwrap(), link);
    assert!(!is_member(&app, "bob@example.com").await);
    let (_, details) = send(&bob, &app, "GET", &api(&link), None).await;
    assert_eq!((details["needs2fa"].as_bool(), details["needsEmailVerification"].as_bool()), (Some(true), Some(false)));
    let (status, body) = send(&bob, &app, "POST", &api(&link), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("needs_2fa")));

    let (_, codes, body) = enrol_totp(&app, &bob).await;
    assert_eq!(codes.len(), 10);
    assert_eq!(body["joinedOrganization"].as_str(), Some(ORG));
    assert!(is_member(&app, "bob@example.com").await);
    let (_, details) = send(&bob, &app, "GET", &api(&link), None).await;
    assert_eq!(details["reason"].as_str(), Some("already_used"));
}

#[tokio::test]
async fn enrolment_refuses_a_wrong_code_a_foreign_secret_and_a_second_enrolment() {
    let app = app_with_org().await;
    let (status, body) = send(&app.client, &app, "GET", "/api/0/users/me/authenticators/totp/enroll/", None).await;
    assert_eq!(status, StatusCode::OK);
    let secret = body["secret"].as_str().unwrap().to_owned();
    let wrong = if totp_code(&secret, 0) == "000000" { "111111" } else { "000000" };
    let (status, body) = send(
        &app.client,
        &app,
        "POST",
        "/api/0/users/me/authenticators/totp/enroll/",
        Some(json!({"secret": secret, "otp": wrong})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["otp"].is_array());
    let foreign = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let (status, body) = send(
        &app.client,
        &app,
        "POST",
        "/api/0/users/me/authenticators/totp/enroll/",
        Some(json!({"secret": foreign, "otp": totp_code(foreign, 0)})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["secret"].is_array());
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM totp_authenticators").await, 0);
    let (status, _) = send(
        &app.client,
        &app,
        "POST",
        "/api/0/users/me/authenticators/totp/enroll/",
        Some(json!({"secret": secret, "otp": totp_code(&secret, 0)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(&app.client, &app, "GET", "/api/0/users/me/authenticators/totp/enroll/", None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("already_enrolled")));
}

async fn password_login(app: &TestApp, client: &Client, email: &str) -> Value {
    let (status, body) =
        send(client, app, "POST", "/api/0/auth/login/", Some(json!({"username": email, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn login_with_totp_needs_the_second_step_codes_are_not_replayed_and_recovery_codes_work_once() {
    let app = app_with_org().await;
    let (secret, codes, _) = enrol_totp(&app, &app.client).await;

    let browser = app.other_client();
    assert_eq!(password_login(&app, &browser, "owner@example.com").await, json!({"2faRequired": true}));
    assert_eq!(
        send(&browser, &app, "GET", "/api/0/users/me/", None).await.0,
        StatusCode::UNAUTHORIZED,
        "not signed in before the second step"
    );
    let (status, body) = send(&browser, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": "12345x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // The code used at enrolment is spent; the next step's code (clock skew) works.
    let next = totp_code(&secret, 1);
    let (status, body) = send(&browser, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": next}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"].as_str(), Some("owner@example.com"));
    assert_eq!(send(&browser, &app, "GET", "/api/0/users/me/", None).await.0, StatusCode::OK);

    // The same code again, in another login, is refused.
    let replay = app.other_client();
    password_login(&app, &replay, "owner@example.com").await;
    let (status, _) = send(&replay, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": next}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A recovery code works once.
    let (status, _) =
        send(&replay, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": codes[3].to_uppercase()}))).await;
    assert_eq!(status, StatusCode::OK);
    let again = app.other_client();
    password_login(&app, &again, "owner@example.com").await;
    let (status, _) = send(&again, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": codes[3]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Without a password step there is nothing to complete.
    let (status, body) =
        send(&app.other_client(), &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": codes[4]}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("no_pending_login")));
}

#[tokio::test]
async fn the_login_page_sends_a_totp_user_to_the_second_step_without_javascript() {
    let app = app_with_org().await;
    let (secret, _, _) = enrol_totp(&app, &app.client).await;
    let browser = app.other_client();
    let res = app
        .post_form_nojs(
            &browser,
            "/_fn/auth/login",
            "/auth/login/",
            &[("username", "owner@example.com"), ("password", PASSWORD), ("next", "/organizations/acme/members/")],
        )
        .await;
    assert_eq!(res.headers()["location"].to_str().unwrap(), "/auth/2fa/");
    let page =
        browser.get(app.url("/auth/2fa/")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Authentication code"), "{page}");
    let res = app.post_form_nojs(&browser, "/_fn/auth/2fa", "/auth/2fa/", &[("otp", &totp_code(&secret, 1))]).await;
    assert_eq!(res.headers()["location"].to_str().unwrap(), "/organizations/acme/members/");
}

#[tokio::test]
async fn registration_sends_a_verification_link_that_works_once() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let link = app.verification_link("ada@example.com").await;
    let token = link.trim_start_matches("/auth/verify-email/").trim_end_matches('/').to_owned();
    assert_eq!(token.len(), 96);
    // Opening the page changes nothing.
    let page = app.get_page(&link).await.text().await.unwrap();
    assert!(page.contains("ada@example.com"), "{page}");
    assert_eq!(app.sql_i64("SELECT email_verified FROM users").await, 0);
    // A forged signature is refused.
    let forged = format!("{}{}", &token[..32], "0".repeat(64));
    let (status, body) =
        send(&app.client, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": forged}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")));
    // From another browser, not signed in: the link alone verifies.
    let other = app.other_client();
    let (status, body) = send(&other, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["emailVerified"].as_bool(), Some(true));
    let (status, body) = send(&other, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("already_used")));
    let (status, body) = send(&app.client, &app, "POST", "/api/0/users/me/emails/verify/", None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("already_verified")));
}

#[tokio::test]
async fn an_expired_verification_link_is_refused_and_a_new_one_can_be_sent() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    // A link issued four days ago (the signature covers the expiry, so it is issued in the
    // past through the service rather than edited in the table).
    let first = app.verification_link("ada@example.com").await;
    let user = {
        let mut conn = app.state.db.conn().await.unwrap();
        gatehouse::server::db::users::find_by_email(&mut conn, "ada@example.com").await.unwrap().unwrap()
    };
    {
        let mut tx = app.state.db.begin().await.unwrap();
        let past = time::OffsetDateTime::now_utc().unix_timestamp() - 4 * 86_400;
        gatehouse::server::service::emails::queue(&app.state, &mut tx, &user, past).await.unwrap();
        tx.commit().await.unwrap();
    }
    let old = loop {
        let links = app.verification_links("ada@example.com").await;
        if let Some(old) = links.into_iter().find(|l| *l != first) {
            break old;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let token = old.trim_start_matches("/auth/verify-email/").trim_end_matches('/');
    let (status, body) =
        send(&app.client, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("expired")), "{body}");
    let (status, _) = send(&app.client, &app, "POST", "/api/0/users/me/emails/verify/", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fresh = loop {
        let links = app.verification_links("ada@example.com").await;
        if let Some(fresh) = links.into_iter().find(|l| *l != first && *l != old) {
            break fresh;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let token = fresh.trim_start_matches("/auth/verify-email/").trim_end_matches('/');
    assert_eq!(
        send(&app.client, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_mismatch_is_refused_unless_allowed_and_then_email_verification_gates_the_join() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@work.example", "member").await;
    let (link, _) = app.invite_link(id).await;
    let bob = app.user("bob@home.example", "Bob").await;
    let (_, details) = send(&bob, &app, "GET", &api(&link), None).await;
    assert_eq!(details["emailMismatch"].as_bool(), Some(true));
    let (status, body) = send(&bob, &app, "POST", &api(&link), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("email_mismatch")));

    settings(&app, &app.client, json!({"allowEmailMismatch": true, "requireEmailVerification": true})).await;
    let (_, details) = send(&bob, &app, "GET", &api(&link), None).await;
    assert_eq!(details["needsEmailVerification"].as_bool(), Some(true));
    let (status, body) = send(&bob, &app, "POST", &api(&link), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("needs_email_verification")));
    // Verifying in the same browser lifts the refusal, but an invite sent to another
    // address waits for Bob's own click on Join (§4.3 step 4).
    let verify = app.verification_link("bob@home.example").await;
    let token = verify.trim_start_matches("/auth/verify-email/").trim_end_matches('/');
    let (status, body) = send(&bob, &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["joinedOrganization"], Value::Null, "not joined implicitly for another address");
    assert!(!is_member(&app, "bob@home.example").await);
    let (status, body) = send(&bob, &app, "POST", &api(&link), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(is_member(&app, "bob@home.example").await);
    let data = app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'member.accept-invite' AND data LIKE '%bob@work.example%' AND data LIKE '%bob@home.example%'").await;
    assert_eq!(data, 1, "the audit entry records both addresses");
}

#[tokio::test]
async fn seats_count_members_and_pending_invites() {
    let app = app_with_org().await;
    settings(&app, &app.client, json!({"memberLimit": 2})).await;
    app.invite(&app.client, ORG, "a@example.com", "member").await;
    let (status, body) = send(
        &app.client,
        &app,
        "POST",
        &format!("/api/0/organizations/{ORG}/members/"),
        Some(json!({"email": "b@example.com"})),
    )
    .await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("seat_limit")), "{body}");
    let (status, body) = settings(&app, &app.client, json!({"memberLimit": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["memberLimit"][0].as_str().unwrap().contains("2 seats are in use"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invites_and_accepts_never_exceed_the_seat_limit() {
    let app = app_with_org().await;
    settings(&app, &app.client, json!({"memberLimit": 4})).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (client, url) = (app.client.clone(), app.url(&format!("/api/0/organizations/{ORG}/members/")));
            tokio::spawn(async move {
                client.post(url).json(&json!({"email": format!("p{i}@example.com")})).send().await.unwrap().status()
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == StatusCode::CREATED || status == StatusCode::CONFLICT, "{status}");
        created += usize::from(status == StatusCode::CREATED);
    }
    assert_eq!(created, 3, "owner + 3 invites fill 4 seats");
    // An operator lowers the limit behind the application's back; racing accepts still
    // stop at it.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM members WHERE user_id IS NULL ORDER BY id")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    let mut invitees = Vec::new();
    for id in &ids {
        let (link, _) = app.invite_link(*id).await;
        let email: String = sqlx::query_scalar(&format!("SELECT email FROM members WHERE id = {id}"))
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        invitees.push((app.user(&email, "P").await, link));
    }
    app.sql_exec("UPDATE organizations SET member_limit = 2").await;
    let tasks: Vec<_> = invitees
        .into_iter()
        .map(|(client, link)| {
            let url = app.url(&api(&link));
            tokio::spawn(async move {
                let res = client.post(url).send().await.unwrap();
                (res.status(), res.text().await.unwrap())
            })
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(
            status == StatusCode::NO_CONTENT || (status == StatusCode::BAD_REQUEST && body.contains("seat_limit")),
            "{status} {body}"
        );
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE user_id IS NOT NULL").await, 2);
}

/// The invite page shows the step the server's §5.3 checks found first, not its own
/// reading of the flags: with a mismatch allowed and two-factor authentication required,
/// the next step is 2FA, not a Join button the server would refuse.
#[tokio::test]
async fn the_invite_page_shows_the_first_refusal_the_server_decided() {
    let app = app_with_org().await;
    enrol_totp(&app, &app.client).await;
    let (status, body) = settings(&app, &app.client, json!({"allowEmailMismatch": true, "require2FA": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = app.invite(&app.client, ORG, "bob@work.example", "member").await;
    let (link, _) = app.invite_link(id).await;
    let bob = app.user("bob@home.example", "Bob").await;

    let (_, details) = send(&bob, &app, "GET", &api(&link), None).await;
    assert_eq!((details["emailMismatch"].as_bool(), details["needs2fa"].as_bool()), (Some(true), Some(true)));
    let (status, body) = send(&bob, &app, "POST", &api(&link), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("needs_2fa")));

    let html = bob.get(app.url(&link)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("requires two-factor authentication for its members"), "{html}");
    assert!(html.contains("Set up two-factor authentication"), "{html}");
    assert!(!html.contains("Join as bob@home.example"), "no Join button the server would refuse: {html}");
    assert!(html.contains("you are signed in as"), "the other address is still said: {html}");
}
