//! The two doors (the JSON API and the server functions the pages call) answer a use
//! case's failure alike: the same status, machine reason and sentence, decided once.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;

/// A server function called as the hydrated app calls it (not asking for HTML): its
/// status and the `AppError` it answered, as JSON.
pub async fn call_fn(client: &Client, app: &TestApp, name: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = client.post(app.url(&format!("/_fn/{name}"))).form(form).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
}

/// `(details, reason)` of a refusal through the server-function door.
fn refused(error: &Value) -> (String, String) {
    let refused = &error["Refused"];
    (
        refused["details"].as_str().unwrap_or_default().to_owned(),
        refused["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn app_with_org() -> TestApp {
    let app = spawn_app().await;
    app.register("owner@example.com", "Olive Owner", PASSWORD).await;
    app.create_org(&app.client, "Acme Corp", "acme").await;
    app
}

#[tokio::test]
async fn an_address_already_invited_is_a_conflict_through_both_doors() {
    let app = app_with_org().await;
    app.invite(&app.client, "acme", "bob@example.com", "member").await;

    let (status, body) = send(
        &app.client,
        &app,
        "POST",
        "/api/0/organizations/acme/members/",
        Some(json!({"email": "bob@example.com", "role": "member"})),
    )
    .await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{body}");
    let sentence = body["details"].as_str().unwrap().to_owned();
    assert!(sentence.contains("already has a pending invite"), "{sentence}");

    let (status, error) = call_fn(
        &app.client,
        &app,
        "orgs/invite",
        &[("slug", "acme"), ("email", "bob@example.com"), ("role", "member")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    // The page shows the same sentence beside the address it is about, with what was typed.
    assert_eq!(error["Invalid"]["fields"]["email"], json!([sentence]), "{error}");
    assert_eq!(error["Invalid"]["values"]["email"], json!("bob@example.com"), "{error}");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'bob@example.com'").await, 1);
}

#[tokio::test]
async fn an_unknown_organization_is_the_same_not_found_through_both_doors() {
    let app = app_with_org().await;
    let outsider = app.user("eve@example.com", "Eve").await;
    for (client, slug) in [(&outsider, "acme"), (&app.client, "no-such-org")] {
        let (status, body) = send(client, &app, "GET", &format!("/api/0/organizations/{slug}/"), None).await;
        assert_eq!((status, body["reason"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
        let (fn_status, error) = call_fn(client, &app, "orgs/overview", &[("slug", slug)]).await;
        assert_eq!(fn_status, StatusCode::NOT_FOUND, "{error}");
        assert_eq!(refused(&error), (body["details"].as_str().unwrap().to_owned(), "not_found".to_owned()));
        assert!(body["details"].as_str().unwrap().contains("not a member"), "{body}");
    }
}

#[tokio::test]
async fn a_lower_role_is_forbidden_alike_through_both_doors() {
    let app = app_with_org().await;
    let id = app.invite(&app.client, "acme", "mia@example.com", "member").await;
    let (page, _) = app.invite_link(id).await;
    let mia = app.user("mia@example.com", "Mia").await;
    let (status, _) =
        send(&mia, &app, "POST", &format!("/api/0{}", page.replacen("/accept/", "/accept-invite/", 1)), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, body) = send(&mia, &app, "GET", "/api/0/organizations/acme/audit-logs/", None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
    let (fn_status, error) = call_fn(&mia, &app, "orgs/audit", &[("slug", "acme")]).await;
    assert_eq!(fn_status, StatusCode::FORBIDDEN);
    assert_eq!(refused(&error), (body["details"].as_str().unwrap().to_owned(), "forbidden".to_owned()));
}

#[tokio::test]
async fn anonymous_callers_get_the_same_refusal_through_both_doors() {
    let app = spawn_app().await;
    let (status, body) = send(&app.client, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_authenticated")), "{body}");
    let (fn_status, error) = call_fn(&app.client, &app, "orgs/overview", &[("slug", "acme")]).await;
    assert_eq!(fn_status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused(&error), (body["details"].as_str().unwrap().to_owned(), "not_authenticated".to_owned()));
}

#[tokio::test]
async fn an_internal_failure_says_nothing_of_its_cause_through_either_door() {
    let app = app_with_org().await;
    // Break the audit log's table: reading it fails on our side.
    app.sql_exec("ALTER TABLE audit_log RENAME TO audit_log_gone").await;
    let (status, body) = send(&app.client, &app, "GET", "/api/0/organizations/acme/audit-logs/", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"details": "Internal error.", "reason": "internal"}));
    let (fn_status, error) = call_fn(&app.client, &app, "orgs/audit", &[("slug", "acme")]).await;
    assert_eq!(fn_status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error, json!("Unexpected"), "nothing of the cause crosses the wire");
}
