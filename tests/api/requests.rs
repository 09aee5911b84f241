//! Invite requests and join requests (SPEC §5.7).

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::harness::*;

const ORG: &str = "acme";

/// Owner (on `app.client`), a manager and a member.
async fn app_with_team() -> (TestApp, Client, Client) {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme Corp", ORG).await;
    let mut joined = Vec::new();
    for (email, role) in [("manny@example.com", "manager"), ("mel@example.com", "member")] {
        let id = app.invite(&app.client, ORG, email, role).await;
        let (link, _) = app.invite_link(id).await;
        let client = app.user(email, email).await;
        let (status, _) =
            send(&client, &app, "POST", &format!("/api/0/accept-invite{}", link.trim_start_matches("/accept")), None)
                .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        joined.push(client);
    }
    let mel = joined.pop().unwrap();
    let manny = joined.pop().unwrap();
    (app, manny, mel)
}

fn requests_path() -> String {
    format!("/api/0/organizations/{ORG}/invite-requests/")
}

#[tokio::test]
async fn a_member_requests_an_invite_admins_are_emailed_and_an_approval_sends_a_working_link() {
    let (app, manny, mel) = app_with_team().await;
    // Members cannot invite, but can ask.
    let (status, _) = send(
        &mel,
        &app,
        "POST",
        &format!("/api/0/organizations/{ORG}/members/"),
        Some(json!({"email": "new@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) =
        send(&mel, &app, "POST", &requests_path(), Some(json!({"email": "New@Example.com", "role": "owner"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["inviteStatus"].as_str(), body["pending"].as_bool()),
        (Some("requested_to_be_invited"), Some(true))
    );
    let id = body["id"].as_i64().unwrap();
    let mails = app.mails().await;
    for admin in ["owner@example.com", "manny@example.com"] {
        assert!(
            mails.iter().any(|m| m.contains(&format!("To: {admin}")) && m.contains("asked to invite new@example.com")),
            "{admin} not told"
        );
    }
    assert!(!mails.iter().any(|m| m.contains("To: mel@example.com") && m.contains("asked to invite")));
    let (status, body) = send(&mel, &app, "POST", &requests_path(), Some(json!({"email": "new@example.com"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Only owners and managers see the requests.
    assert_eq!(send(&mel, &app, "GET", &requests_path(), None).await.0, StatusCode::FORBIDDEN);
    let (status, list) = send(&manny, &app, "GET", &requests_path(), None).await;
    assert_eq!((status, list.as_array().unwrap().len()), (StatusCode::OK, 1));
    // A manager cannot approve it as owner; with a lower role they can.
    let one = format!("{}{id}/", requests_path());
    let (status, _) = send(&manny, &app, "PUT", &one, Some(json!({"approve": true}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(&manny, &app, "PUT", &one, Some(json!({"approve": true, "role": "member"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["inviteStatus"].as_str(), body["role"].as_str()), (Some("approved"), Some("member")));
    let (link, _) = app.invite_link(id).await;
    let newbie = app.user("new@example.com", "Newbie").await;
    let (status, _) =
        send(&newbie, &app, "POST", &format!("/api/0/accept-invite{}", link.trim_start_matches("/accept")), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let events: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_log WHERE target_member_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(events, ["invite-request.create", "invite-request.approve", "member.accept-invite"]);
}

#[tokio::test]
async fn rejecting_a_request_deletes_it_and_an_invite_replaces_a_request() {
    let (app, _manny, mel) = app_with_team().await;
    let (_, body) = send(&mel, &app, "POST", &requests_path(), Some(json!({"email": "x@example.com"}))).await;
    let id = body["id"].as_i64().unwrap();
    assert_eq!(send(&mel, &app, "DELETE", &format!("{}{id}/", requests_path()), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&app.client, &app, "DELETE", &format!("{}{id}/", requests_path()), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'x@example.com'").await, 0);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'invite-request.reject'").await, 1);
    assert_eq!(
        send(&app.client, &app, "PUT", &format!("{}{id}/", requests_path()), Some(json!({"approve": true}))).await.0,
        StatusCode::NOT_FOUND
    );

    send(&mel, &app, "POST", &requests_path(), Some(json!({"email": "y@example.com"}))).await;
    app.invite(&app.client, ORG, "y@example.com", "member").await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'y@example.com' AND invite_status = 'approved'").await,
        1
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'y@example.com'").await, 1);
}

#[tokio::test]
async fn join_requests_need_the_setting_reveal_nothing_and_are_limited_per_address() {
    let (app, _manny, _mel) = app_with_team().await;
    let anon = app.other_client();
    let path = format!("/api/0/organizations/{ORG}/join-request/");
    let (status, body) = send(&anon, &app, "POST", &path, Some(json!({"email": "j@example.com"}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::FORBIDDEN, Some("join_requests_disabled")));
    assert_eq!(
        send(&anon, &app, "POST", "/api/0/organizations/nope/join-request/", Some(json!({"email": "j@example.com"})))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    send(
        &app.client,
        &app,
        "PUT",
        &format!("/api/0/organizations/{ORG}/"),
        Some(json!({"allowJoinRequests": true, "defaultRole": "manager"})),
    )
    .await;

    let (status, body) = send(&anon, &app, "POST", &path, Some(json!({"email": "not an email"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A new address, an existing member and a repeat all get the same 204.
    for email in ["j@example.com", "mel@example.com", "j@example.com"] {
        assert_eq!(
            send(&anon, &app, "POST", &path, Some(json!({"email": email}))).await.0,
            StatusCode::NO_CONTENT,
            "{email}"
        );
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE invite_status = 'requested_to_join'").await, 1);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM members WHERE invite_status = 'requested_to_join' AND role = 'manager'")
            .await,
        1
    );
    assert!(app
        .mails()
        .await
        .iter()
        .any(|m| m.contains("To: owner@example.com") && m.contains("j@example.com asked to join")));
    // Three requests were counted (the invalid address was refused before counting); the
    // fourth and fifth pass, the sixth is refused.
    for email in ["k@example.com", "m@example.com"] {
        assert_eq!(send(&anon, &app, "POST", &path, Some(json!({"email": email}))).await.0, StatusCode::NO_CONTENT);
    }
    let (status, body) = send(&anon, &app, "POST", &path, Some(json!({"email": "l@example.com"}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{body}");
    assert!(body["details"].as_str().unwrap().contains("Try again tomorrow"));
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'l@example.com'").await, 0);

    // The owner approves the join request; the requester gets an invite.
    let id = app.sql_i64("SELECT id FROM members WHERE email = 'j@example.com'").await;
    let (status, _) =
        send(&app.client, &app, "PUT", &format!("{}{id}/", requests_path()), Some(json!({"approve": true}))).await;
    assert_eq!(status, StatusCode::OK);
    app.invite_link(id).await;
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'join-request.create'").await, 3);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event = 'join-request.approve'").await, 1);
}

#[tokio::test]
async fn the_join_request_page_and_the_members_page_work_without_javascript() {
    let (app, _manny, _mel) = app_with_team().await;
    send(&app.client, &app, "PUT", &format!("/api/0/organizations/{ORG}/"), Some(json!({"allowJoinRequests": true})))
        .await;
    let anon = app.other_client();
    let page = anon
        .get(app.url("/join-request/acme/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Ask to join") && page.contains("Acme Corp") && page.contains("Your email"), "{page}");
    let res = app
        .post_form_nojs(
            &anon,
            "/_fn/orgs/join-request",
            "/join-request/acme/",
            &[("slug", ORG), ("email", "j@example.com")],
        )
        .await;
    assert_eq!(res.headers()["location"].to_str().unwrap(), "/join-request/acme/?sent=1");
    let members = app.get_page("/organizations/acme/members/").await.text().await.unwrap();
    assert!(members.contains("Asked to join") && members.contains("j@example.com"), "{members}");
    let id = app.sql_i64("SELECT id FROM members WHERE email = 'j@example.com'").await.to_string();
    let res = app
        .post_form_nojs(
            &app.client,
            "/_fn/orgs/decide-request",
            "/organizations/acme/members/",
            &[("slug", ORG), ("member_id", &id), ("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'j@example.com' AND invite_status = 'approved' AND token_hash IS NOT NULL").await, 1);
}
