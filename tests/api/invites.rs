//! Organizations, invites and the accept flow (SPEC §4.3, §5), through the real router.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;

const ORG: &str = "acme";

/// An app with an owner (signed in on `app.client`) and an organization.
async fn app_with_org() -> TestApp {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme Corp", ORG).await;
    app
}

async fn call(client: &Client, app: &TestApp, method: &str, path: &str) -> (StatusCode, Value) {
    let req = match method {
        "GET" => client.get(app.url(path)),
        "POST" => client.post(app.url(path)),
        "DELETE" => client.delete(app.url(path)),
        _ => unreachable!(),
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn api(path: &str) -> String {
    format!("/api/0/accept-invite{}", path.trim_start_matches("/accept"))
}

async fn is_member(app: &TestApp, email: &str) -> bool {
    app.sql_i64(&format!("SELECT COUNT(*) FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = '{email}'"))
        .await
        == 1
}

#[tokio::test]
async fn an_owner_invites_and_the_email_names_inviter_organization_and_link() {
    let app = app_with_org().await;
    let res = app
        .client
        .post(app.url("/api/0/organizations/acme/members/"))
        .json(&json!({"email": " Bob@Example.com ", "role": "member"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "bob@example.com");
    assert_eq!(body["pending"], true);
    assert_eq!(body["inviterName"], "Olive Owner");
    let id = body["id"].as_i64().unwrap();

    let (link, token) = app.invite_link(id).await;
    let mail = app.mails().await.into_iter().find(|m| m.contains(&token)).unwrap();
    assert!(mail.contains("Olive Owner invited you to join Acme Corp"), "{mail}");
    assert!(mail.contains(&app.url(&link)));
    // Only a hash is stored, and no API answer carries the token.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM members WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_ne!(stored, token);
    let (_, list) = call(&app.client, &app, "GET", "/api/0/organizations/acme/members/").await;
    assert!(!list.to_string().contains(&token) && !body.to_string().contains(&token));
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn details_describe_the_invite_and_change_nothing() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let anon = app.other_client();
    for _ in 0..3 {
        let (status, body) = call(&anon, &app, "GET", &api(&link)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["orgSlug"], "acme");
        assert_eq!(body["orgName"], "Acme Corp");
        assert_eq!(body["invitedEmail"], "bob@example.com");
        assert_eq!(body["inviterName"], "Olive Owner");
        assert_eq!(body["needsAuthentication"], true);
        assert_eq!(body["existingMember"], false);
    }
    // The long form answers the same.
    let long = api(&link).replacen("/accept-invite/", "/accept-invite/acme/", 1);
    assert_eq!(call(&anon, &app, "GET", &long).await.0, StatusCode::OK);
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {id} AND user_id IS NULL")).await, 1);
}

#[tokio::test]
async fn every_wrong_link_gets_the_same_invalid_answer() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (_, token) = app.invite_link(id).await;
    let other = "0".repeat(64);
    let invalid = json!({"details": "Invalid invite code", "reason": "invalid"});
    for path in [
        format!("/api/0/accept-invite/{id}/{other}/"),
        format!("/api/0/accept-invite/{}/{token}/", id + 1000),
        format!("/api/0/accept-invite/not-a-number/{token}/"),
        format!("/api/0/accept-invite/{id}/short/"),
        format!("/api/0/accept-invite/wrong-org/{id}/{token}/"),
    ] {
        for method in ["GET", "POST"] {
            let (status, body) = call(&app.other_client(), &app, method, &path).await;
            assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &invalid), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn an_expired_invite_says_so() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    app.sql_exec(&format!("UPDATE members SET token_expires_at = 1 WHERE id = {id}")).await;
    let (status, body) = call(&app.other_client(), &app, "GET", &api(&link)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["reason"], "expired");
}

#[tokio::test]
async fn accepting_anonymously_needs_authentication_and_changes_nothing() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let (status, body) = call(&app.other_client(), &app, "POST", &api(&link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("needs_authentication")));
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {id} AND user_id IS NULL")).await, 1);
}

#[tokio::test]
async fn a_new_user_who_registers_through_the_link_lands_in_the_organization() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "manager").await;
    let (link, _) = app.invite_link(id).await;
    let bob = app.other_client();
    assert_eq!(call(&bob, &app, "GET", &api(&link)).await.0, StatusCode::OK);
    // The registration form, posted without JavaScript.
    let res = app
        .post_form_nojs(
            &bob,
            "/_fn/auth/register",
            "/auth/register/",
            &[("email", "bob@example.com"), ("name", "Bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/organizations/acme/");
    assert!(is_member(&app, "bob@example.com").await);
    let (_, me) = call(&bob, &app, "GET", "/api/0/users/me/").await;
    assert_eq!(me["emailVerified"], true, "registering through the invite proves the address");
    let (status, org) = call(&bob, &app, "GET", "/api/0/organizations/acme/").await;
    assert_eq!((status, org["role"].as_str()), (StatusCode::OK, Some("manager")));
    // The invite is used up and gone from the session.
    let (status, body) = call(&bob, &app, "GET", &api(&link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("already_used")));
    let audit = app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'member.accept-invite'").await;
    assert_eq!(audit, 1);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM event_outbox WHERE event = 'member.joined'").await, 1);
}

#[tokio::test]
async fn registering_with_another_address_is_sent_back_to_the_invite_page_with_the_invite_kept() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let carol = app.other_client();
    call(&carol, &app, "GET", &api(&link)).await;
    let res = app
        .post_form_nojs(
            &carol,
            "/_fn/auth/register",
            "/auth/register/",
            &[("email", "carol@example.com"), ("name", "Carol"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.headers()["location"], link.as_str());
    assert!(!is_member(&app, "carol@example.com").await);
    let (_, me) = call(&carol, &app, "GET", "/api/0/users/me/").await;
    assert_eq!(me["emailVerified"], false);
    let (status, body) = call(&carol, &app, "GET", &api(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["emailMismatch"], true);
    let (status, body) = call(&carol, &app, "POST", &api(&link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("email_mismatch")));
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {id} AND user_id IS NULL")).await, 1);
}

#[tokio::test]
async fn an_existing_user_signs_in_comes_back_to_the_invite_and_joins_with_one_click() {
    let app = app_with_org().await;
    let bob = app.user("bob@example.com", "Bob").await;
    call(&bob, &app, "DELETE", "/api/0/auth/").await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    call(&bob, &app, "GET", &api(&link)).await;
    let res = app
        .post_form_nojs(
            &bob,
            "/_fn/auth/login",
            "/auth/login/",
            &[("username", "bob@example.com"), ("password", PASSWORD), ("next", "")],
        )
        .await;
    assert_eq!(res.headers()["location"], link.as_str(), "login leads back to the invite");
    let (status, body) = call(&bob, &app, "GET", &api(&link)).await;
    assert_eq!((status, body["needsAuthentication"].as_bool()), (StatusCode::OK, Some(false)));
    let (status, _) = call(&bob, &app, "POST", &api(&link)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(is_member(&app, "bob@example.com").await);
    let (status, body) = call(&bob, &app, "POST", &api(&link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("already_used")));
}

#[tokio::test]
async fn an_existing_member_is_told_so_and_only_an_invite_addressed_to_them_is_deleted() {
    let app = app_with_org().await;
    let bob_invite = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (bob_link, _) = app.invite_link(bob_invite).await;
    // The owner opens Bob's link: existing member, and Bob's invite stays.
    let (status, body) = call(&app.client, &app, "POST", &api(&bob_link)).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"details": "member already exists", "reason": "existing_member"}))
    );
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {bob_invite}")).await, 1);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM members WHERE user_id IS NOT NULL").await,
        1,
        "the owner's membership is untouched"
    );

    // Bob joins some other way while his invite is still pending: the invite is now pointless.
    let bob = app.user("bob@example.com", "Bob").await;
    let bob_id = app.sql_i64("SELECT id FROM users WHERE email = 'bob@example.com'").await;
    let org_id = app.sql_i64("SELECT id FROM organizations WHERE slug = 'acme'").await;
    let mut conn = app.state.db.conn().await.unwrap();
    gatehouse::server::db::members::insert_membership(
        &mut conn,
        org_id,
        bob_id,
        gatehouse::model::Role::Member,
        None,
        1,
    )
    .await
    .unwrap();
    drop(conn);
    let (status, body) = call(&bob, &app, "POST", &api(&bob_link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("existing_member")));
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {bob_invite}")).await, 0);
    assert!(is_member(&app, "bob@example.com").await);
}

#[tokio::test]
async fn the_seat_limit_refuses_a_join() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    app.sql_exec("UPDATE organizations SET member_limit = 1").await;
    let bob = app.user("bob@example.com", "Bob").await;
    let (status, body) = call(&bob, &app, "POST", &api(&link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("seat_limit")));
    assert!(!is_member(&app, "bob@example.com").await);
}

#[tokio::test]
async fn a_revoked_invite_link_is_no_longer_valid() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let (status, _) = call(&app.client, &app, "DELETE", &format!("/api/0/organizations/acme/members/{id}/")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&app.other_client(), &app, "GET", &api(&link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")));
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'invite.revoke'").await, 1);
}

#[tokio::test]
async fn duplicates_are_answered_clearly() {
    let app = app_with_org().await;
    app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (status, body) =
        call_json(&app, "/api/0/organizations/acme/members/", json!({"email": "BOB@example.com", "role": "member"}))
            .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["details"].as_str().unwrap().contains("already has a pending invite"));
    let (status, body) =
        call_json(&app, "/api/0/organizations/acme/members/", json!({"email": "owner@example.com", "role": "member"}))
            .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["details"].as_str().unwrap().contains("already a member"));
}

async fn call_json(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    json_of(app.client.post(app.url(path)).json(&body).send().await.unwrap()).await
}

#[tokio::test]
async fn permissions_members_cannot_invite_managers_cannot_grant_owner_outsiders_see_nothing() {
    let app = app_with_org().await;
    for (email, role) in [("mel@example.com", "member"), ("max@example.com", "manager")] {
        let id = app.invite(&app.client, ORG, email, role).await;
        let (link, _) = app.invite_link(id).await;
        let client = app.user(email, role).await;
        assert_eq!(call(&client, &app, "POST", &api(&link)).await.0, StatusCode::NO_CONTENT);
    }
    let mel = login_client(&app, "mel@example.com").await;
    let res = mel
        .post(app.url("/api/0/organizations/acme/members/"))
        .json(&json!({"email": "x@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let max = login_client(&app, "max@example.com").await;
    let res = max
        .post(app.url("/api/0/organizations/acme/members/"))
        .json(&json!({"email": "x@example.com", "role": "owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = max
        .post(app.url("/api/0/organizations/acme/members/"))
        .json(&json!({"email": "x@example.com", "role": "manager"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let outsider = app.user("eve@example.com", "Eve").await;
    for path in
        ["/api/0/organizations/acme/members/", "/api/0/organizations/acme/", "/api/0/organizations/acme/audit-logs/"]
    {
        assert_eq!(call(&outsider, &app, "GET", path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'x@example.com'").await, 1);
}

async fn login_client(app: &TestApp, email: &str) -> Client {
    let client = app.other_client();
    let res = client
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_simultaneous_accepts_by_one_user_make_one_membership() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let bob = app.user("bob@example.com", "Bob").await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (bob, url) = (bob.clone(), app.url(&api(&link)));
            tokio::spawn(async move {
                let res = bob.post(url).send().await.unwrap();
                let status = res.status();
                (status, res.json::<Value>().await.ok())
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::NO_CONTENT {
            ok += 1;
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
            assert!(body.unwrap()["reason"].is_string());
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE user_id IS NOT NULL").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_simultaneous_accepts_by_different_users_make_one_membership() {
    let app = app_with_org().await;
    app.sql_exec("UPDATE organizations SET allow_email_mismatch = 1").await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let mut clients = Vec::new();
    for i in 0..20 {
        clients.push(app.user(&format!("user{i}@example.com"), "U").await);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let url = app.url(&api(&link));
            tokio::spawn(async move { client.post(url).send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::NO_CONTENT || *s == StatusCode::BAD_REQUEST), "{statuses:?}");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE user_id IS NOT NULL").await, 2);
}

#[tokio::test]
async fn joining_completes_the_getting_started_step_through_the_event_outbox() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let bob = app.user("bob@example.com", "Bob").await;
    assert_eq!(call(&bob, &app, "POST", &api(&link)).await.0, StatusCode::NO_CONTENT);
    gatehouse::server::events::deliver_due(&app.state.db).await.unwrap();
    let done = app.sql_i64("SELECT COUNT(*) FROM organizations WHERE first_invitee_joined_at IS NOT NULL").await;
    assert_eq!(done, 1);
}

#[tokio::test]
async fn a_rolled_back_transaction_sends_nothing_and_a_failing_transport_is_retried() {
    use gatehouse::server::db::outbox;
    use gatehouse::server::mail::{Mailer, Transport};
    let mail = |to, subject| outbox::NewMail { to, subject, text: "body", html: None, member_id: None };
    let app = spawn_app().await;
    let mut tx = app.state.db.begin().await.unwrap();
    outbox::queue_mail(&mut tx, mail("x@example.com", "rolled back"), 0).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(app.mails().await.is_empty());

    // A mail server that refuses connections: the attempt is recorded and retried later.
    let down =
        Mailer { transport: Transport::from_url("smtp://127.0.0.1:9").unwrap(), from: app.state.mailer.from.clone() };
    // The app's own worker polls the outbox too; retry until the failing mailer is the one
    // that claims the row.
    let mut claimed = None;
    for _ in 0..20 {
        let mut conn = app.state.db.conn().await.unwrap();
        let id = outbox::queue_mail(&mut conn, mail("y@example.com", "retry me"), 0).await.unwrap();
        drop(conn);
        down.deliver_due(&app.state.db).await.unwrap();
        let (status, attempts, error): (String, i64, Option<String>) =
            sqlx::query_as("SELECT status, attempts, last_error FROM mail_outbox WHERE id = $1")
                .bind(id)
                .fetch_one(app.state.db.pool())
                .await
                .unwrap();
        if status == "queued" {
            assert_eq!(attempts, 1);
            assert!(error.is_some(), "the failure is recorded");
            claimed = Some(id);
            break;
        }
    }
    let id = claimed.expect("the failing transport claimed a mail");
    // Once due again and the transport works, it goes out.
    app.sql_exec(&format!("UPDATE mail_outbox SET next_attempt_at = 0 WHERE id = {id}")).await;
    app.mails().await;
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM mail_outbox WHERE id = {id} AND status = 'sent'")).await, 1);
}

#[tokio::test]
async fn the_invite_page_and_the_join_button_work_without_javascript() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, token) = app.invite_link(id).await;
    let bob = app.other_client();
    let html = bob.get(app.url(&link)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Join <!>Acme Corp") || html.contains("Join Acme Corp"), "{html}");
    assert!(html.contains("Create a new account") && html.contains("Sign in with an existing account"));
    // The registration form is pre-filled with the invited address.
    let html =
        bob.get(app.url("/auth/register/")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"value="bob@example.com""#), "{html}");

    // Register elsewhere first, then come back and press Join.
    let carol = app.other_client();
    carol
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "bob@example.com", "name": "Bob", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let html = carol.get(app.url(&link)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"action="/_fn/invite/accept""#), "{html}");
    let res = app
        .post_form_nojs(
            &carol,
            "/_fn/invite/accept",
            &link,
            &[("org_slug", ""), ("member_id", &id.to_string()), ("token", &token)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/organizations/acme/");
    let html = carol
        .get(app.url("/organizations/acme/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("bob@example.com") && html.contains("owner@example.com"), "{html}");
    // The link now says it was used.
    let html = app
        .other_client()
        .get(app.url(&link))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("This invite has already been accepted."));
}

#[tokio::test]
async fn the_members_page_shows_pending_invites_with_their_delivery_state() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    app.invite_link(id).await;
    let html = app
        .client
        .get(app.url("/organizations/acme/members/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("bob@example.com"), "{html}");
    assert!(html.contains("email <!>sent") || html.contains("email sent"), "{html}");
    let outsider = app.user("eve@example.com", "Eve").await;
    let html = outsider
        .get(app.url("/organizations/acme/members/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("bob@example.com"));
    assert!(html.contains("not a member"));
}

#[tokio::test]
async fn the_invite_page_explains_an_expired_link_and_names_the_inviter() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    app.sql_exec(&format!("UPDATE members SET token_expires_at = 1 WHERE id = {id}")).await;
    let html = app
        .other_client()
        .get(app.url(&link))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("This invite has expired — ask Olive Owner to send a new one."), "{html}");
}

#[tokio::test]
async fn single_organization_mode_adds_a_new_user_without_an_invite_with_audit_and_event() {
    let app = spawn_app_with(Options { single_org: Some("solo"), ..Options::default() }).await;
    let res = app
        .post_form_nojs(
            &app.client,
            "/_fn/auth/register",
            "/auth/register/",
            &[("email", "first@example.com"), ("name", "First"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.headers()["location"], "/organizations/solo/");
    let second = app.other_client();
    let res = app
        .post_form_nojs(
            &second,
            "/_fn/auth/register",
            "/auth/register/",
            &[("email", "second@example.com"), ("name", "Second"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.headers()["location"], "/organizations/solo/");
    let (_, org) = call(&second, &app, "GET", "/api/0/organizations/solo/").await;
    assert_eq!(org["role"], "member", "self-registrants get the default role");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'member.add'").await, 2);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM event_outbox WHERE event = 'member.joined'").await, 2);
}

#[tokio::test]
async fn single_organization_mode_with_an_invite_goes_through_the_invite() {
    let app = spawn_app_with(Options { single_org: Some("solo"), ..Options::default() }).await;
    // The operator's superuser owns the single organization (self-registrants never do).
    let password = gatehouse::server::domain::Password::new(PASSWORD.to_owned());
    gatehouse::server::service::accounts::create_user(&app.state, "owner@example.com", "Olive Owner", &password, true)
        .await
        .unwrap();
    let res =
        app.post_json("/api/0/auth/login/", &json!({"username": "owner@example.com", "password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = app.invite(&app.client, "solo", "bob@example.com", "manager").await;
    let (link, _) = app.invite_link(id).await;
    let bob = app.other_client();
    call(&bob, &app, "GET", &api(&link)).await;
    let res = app
        .post_form_nojs(
            &bob,
            "/_fn/auth/register",
            "/auth/register/",
            &[("email", "bob@example.com"), ("name", "Bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.headers()["location"], "/organizations/solo/");
    let (_, org) = call(&bob, &app, "GET", "/api/0/organizations/solo/").await;
    assert_eq!(org["role"], "manager", "the invite's role, not the default");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'member.add'").await,
        1,
        "only the owner was auto-added"
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'member.accept-invite'").await, 1);
}

#[tokio::test]
async fn regenerate_kills_the_old_link_and_reinvite_sends_a_working_one() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "bob@example.com", "member").await;
    let (old_link, old_token) = app.invite_link(id).await;
    let res = app
        .client
        .put(app.url(&format!("/api/0/organizations/acme/members/{id}/")))
        .json(&json!({"regenerate": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = call(&app.other_client(), &app, "GET", &api(&old_link)).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")));
    // The newest email carries a different, working token.
    let token = newest_token(&app, id, &old_token).await;
    let (status, _) = call(&app.other_client(), &app, "GET", &format!("/api/0/accept-invite/{id}/{token}/")).await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .client
        .put(app.url(&format!("/api/0/organizations/acme/members/{id}/")))
        .json(&json!({"reinvite": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event IN ('invite.regenerate', 'member.reinvite')").await,
        2
    );
    // An expired invite cannot be merely resent.
    app.sql_exec(&format!("UPDATE members SET token_expires_at = 1 WHERE id = {id}")).await;
    let res = app
        .client
        .put(app.url(&format!("/api/0/organizations/acme/members/{id}/")))
        .json(&json!({"reinvite": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

async fn newest_token(app: &TestApp, id: i64, not: &str) -> String {
    for mail in app.mails().await {
        let needle = format!("/accept/{id}/");
        if let Some(at) = mail.find(&needle) {
            let token: String = mail[at + needle.len()..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            if token != not {
                return token;
            }
        }
    }
    panic!("no second invite email");
}

#[tokio::test]
async fn invites_carry_teams_into_the_membership_and_members_can_be_removed() {
    let app = app_with_org().await;
    let res = app
        .client
        .post(app.url("/api/0/organizations/acme/teams/"))
        .json(&json!({"name": "Backend"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .client
        .post(app.url("/api/0/organizations/acme/members/"))
        .json(&json!({"email": "bob@example.com", "role": "member", "teams": ["backend"], "expiresInDays": 7}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["teams"], json!(["backend"]));
    let id = body["id"].as_i64().unwrap();
    let (link, _) = app.invite_link(id).await;
    let bob = app.user("bob@example.com", "Bob").await;
    assert_eq!(call(&bob, &app, "POST", &api(&link)).await.0, StatusCode::NO_CONTENT);
    let (_, audit) = call(&app.client, &app, "GET", "/api/0/organizations/acme/audit-logs/").await;
    let accept = audit.as_array().unwrap().iter().find(|e| e["event"] == "member.accept-invite").unwrap();
    assert_eq!(accept["data"]["teams"], json!(["backend"]));
    let res = app
        .client
        .post(app.url("/api/0/organizations/acme/members/"))
        .json(&json!({"email": "x@example.com", "teams": ["nope"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .client
        .post(app.url("/api/0/organizations/acme/members/"))
        .json(&json!({"email": "x@example.com", "expiresInDays": 31}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Removing the member is audited; the last owner cannot be removed.
    assert_eq!(
        call(&app.client, &app, "DELETE", &format!("/api/0/organizations/acme/members/{id}/")).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(!is_member(&app, "bob@example.com").await);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'member.remove'").await, 1);
    let owner_id = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'owner@example.com'")
        .await;
    assert_eq!(
        call(&app.client, &app, "DELETE", &format!("/api/0/organizations/acme/members/{owner_id}/")).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn cleanup_deletes_only_invites_expired_longer_than_the_grace_period() {
    let app = app_with_org().await;
    let old = app.invite(&app.client, ORG, "old@example.com", "member").await;
    let recent = app.invite(&app.client, ORG, "recent@example.com", "member").await;
    let fresh = app.invite(&app.client, ORG, "fresh@example.com", "member").await;
    let now = gatehouse::server::db::now();
    app.sql_exec(&format!("UPDATE members SET token_expires_at = {} WHERE id = {old}", now - 40 * 86_400)).await;
    app.sql_exec(&format!("UPDATE members SET token_expires_at = {} WHERE id = {recent}", now - 86_400)).await;
    let deleted = gatehouse::server::service::invites::cleanup_expired(&app.state, 30).await.unwrap();
    assert_eq!(deleted, 1);
    for (id, kept) in [(old, 0), (recent, 1), (fresh, 1)] {
        assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {id}")).await, kept);
    }
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM members WHERE user_id IS NOT NULL").await,
        1,
        "memberships are never touched"
    );
}

#[tokio::test]
async fn roles_change_within_the_actor_s_own_powers() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, ORG, "max@example.com", "manager").await;
    let (link, _) = app.invite_link(id).await;
    let max = app.user("max@example.com", "Max").await;
    assert_eq!(call(&max, &app, "POST", &api(&link)).await.0, StatusCode::NO_CONTENT);
    let owner_id = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'owner@example.com'")
        .await;
    let put = |client: &Client, member: i64, body: Value| {
        client.put(app.url(&format!("/api/0/organizations/acme/members/{member}/"))).json(&body).send()
    };
    // A manager cannot demote the owner or make anyone owner.
    assert_eq!(put(&max, owner_id, json!({"role": "member"})).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(put(&max, id, json!({"role": "owner"})).await.unwrap().status(), StatusCode::FORBIDDEN);
    // The last owner cannot be demoted; after promoting Max, it can.
    assert_eq!(put(&app.client, owner_id, json!({"role": "member"})).await.unwrap().status(), StatusCode::CONFLICT);
    assert_eq!(put(&app.client, id, json!({"role": "owner"})).await.unwrap().status(), StatusCode::OK);
    assert_eq!(put(&app.client, owner_id, json!({"role": "manager"})).await.unwrap().status(), StatusCode::OK);
    assert_eq!(put(&app.client, id, json!({"role": "admin"})).await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'member.edit'").await, 2);
}

#[tokio::test]
async fn the_daily_invite_limit_per_address_answers_429() {
    let app = app_with_org().await;
    for _ in 0..10 {
        let id = app.invite(&app.client, ORG, "spam@example.com", "member").await;
        assert_eq!(
            call(&app.client, &app, "DELETE", &format!("/api/0/organizations/acme/members/{id}/")).await.0,
            StatusCode::NO_CONTENT
        );
    }
    let (status, body) =
        call_json(&app, "/api/0/organizations/acme/members/", json!({"email": "spam@example.com"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["reason"], "rate_limited");
    // Another address is still fine.
    let (status, _) = call_json(&app, "/api/0/organizations/acme/members/", json!({"email": "ok@example.com"})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_organization_home_lists_its_teams() {
    let app = app_with_org().await;
    app.client
        .post(app.url("/api/0/organizations/acme/teams/"))
        .json(&json!({"name": "Platform Team"}))
        .send()
        .await
        .unwrap();
    let html = app
        .client
        .get(app.url("/organizations/acme/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Platform Team") && html.contains("platform-team"), "{html}");
}
