//! SPEC §8: every event of the list is written to the event outbox with its change.

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::harness::{send, spawn_app, TestApp, PASSWORD};

const ORG: &str = "acme";

/// The events written so far, oldest first.
async fn events(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT event FROM event_outbox ORDER BY id").fetch_all(app.state.db.pool()).await.unwrap()
}

/// `email` registers and joins through an invite: the member id and their client.
async fn member(app: &TestApp, email: &str, role: &str) -> (i64, Client) {
    let id = app.invite(&app.client, ORG, email, role).await;
    let (link, _) = app.invite_link(id).await;
    let client = app.user(email, email).await;
    let accept = format!("/api/0/accept-invite{}", link.trim_start_matches("/accept"));
    assert_eq!(send(&client, app, "POST", &accept, None).await.0, StatusCode::NO_CONTENT);
    (id, client)
}

#[tokio::test]
async fn every_event_of_the_list_is_written_with_its_change_and_a_refused_change_writes_none() {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme Corp", ORG).await;
    let members = format!("/api/0/organizations/{ORG}/members/");
    let step = |events: &[String], wanted: &[&str]| {
        let tail: Vec<&str> = events[events.len() - wanted.len()..].iter().map(String::as_str).collect();
        assert_eq!(tail, wanted, "{events:?}");
    };

    let (bob_id, bob) = member(&app, "bob@example.com", "member").await;
    step(&events(&app).await, &["member.invited", "member.joined"]);
    let asked = json!({"email": "friend@example.com"});
    let (status, body) =
        send(&bob, &app, "POST", &format!("/api/0/organizations/{ORG}/invite-requests/"), Some(asked)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    step(&events(&app).await, &["invite_request.created"]);
    send(&app.client, &app, "PUT", &format!("/api/0/organizations/{ORG}/"), Some(json!({"allowJoinRequests": true})))
        .await;
    let knock = json!({"email": "knock@example.com"});
    let (status, body) =
        send(&app.other_client(), &app, "POST", &format!("/api/0/organizations/{ORG}/join-request/"), Some(knock))
            .await;
    assert!(status.is_success(), "{status} {body}");
    step(&events(&app).await, &["join_request.created"]);
    let (status, body) =
        send(&app.client, &app, "PUT", &format!("{members}{bob_id}/"), Some(json!({"role": "manager"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    step(&events(&app).await, &["member.role_changed"]);
    let carl = app.invite(&app.client, ORG, "carl@example.com", "member").await;
    assert_eq!(send(&app.client, &app, "DELETE", &format!("{members}{carl}/"), None).await.0, StatusCode::NO_CONTENT);
    step(&events(&app).await, &["member.invited", "invite.revoked"]);
    // Declined from "your invitations" (a verified address).
    let dora_invite = app.invite(&app.client, ORG, "dora@example.com", "member").await;
    let dora = app.user("dora@example.com", "Dora").await;
    let link = app.verification_link("dora@example.com").await;
    let token = link.trim_start_matches("/auth/verify-email/").trim_end_matches('/');
    send(&app.other_client(), &app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    let declined = send(&dora, &app, "DELETE", &format!("/api/0/users/me/invitations/{dora_invite}/"), None).await;
    assert_eq!(declined.0, StatusCode::NO_CONTENT, "{}", declined.1);
    step(&events(&app).await, &["member.invited", "invite.declined"]);
    let (eve_id, _) = member(&app, "eve@example.com", "member").await;
    assert_eq!(send(&app.client, &app, "DELETE", &format!("{members}{eve_id}/"), None).await.0, StatusCode::NO_CONTENT);
    step(&events(&app).await, &["member.invited", "member.joined", "member.removed"]);
    let (_, fay) = member(&app, "fay@example.com", "member").await;
    assert_eq!(send(&fay, &app, "DELETE", &format!("{members}me/"), None).await.0, StatusCode::NO_CONTENT);
    step(&events(&app).await, &["member.invited", "member.joined", "member.left"]);
    let transfer = json!({"memberId": bob_id, "password": PASSWORD});
    let (status, body) =
        send(&app.client, &app, "POST", &format!("/api/0/organizations/{ORG}/transfer-ownership/"), Some(transfer))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    step(&events(&app).await, &["organization.ownership_transferred"]);

    // Every event of SPEC §8, each with the organization and the member it is about.
    let all = events(&app).await;
    for event in [
        "member.invited",
        "member.joined",
        "member.removed",
        "member.role_changed",
        "member.left",
        "invite.revoked",
        "invite.declined",
        "invite_request.created",
        "join_request.created",
        "organization.ownership_transferred",
    ] {
        assert!(all.iter().any(|e| e == event), "{event} missing from {all:?}");
    }
    let without_member = "SELECT COUNT(*) FROM event_outbox WHERE payload NOT LIKE '%\"memberId\":%'";
    assert_eq!(app.sql_i64(without_member).await, 0);

    // A refused change writes no event: the last owner cannot leave.
    let before = all.len();
    let (status, _) = send(&bob, &app, "DELETE", &format!("{members}me/"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(events(&app).await.len(), before);
}
