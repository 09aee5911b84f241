//! More ways in (SPEC §5.9): your invitations across organizations, bulk invites and
//! governed join links, through the real router — with the attacks on each: ids and
//! tokens that are not yours, malformed input, other sites, limits reached mid-request
//! and parallel requests racing for one invite, one link or its last uses.

use std::fmt::Display;

use gatehouse::server::domain::RegistrationMode;
use gatehouse::server::http::json::rfc3339;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;

const ORG: &str = "acme";
const MINE: &str = "/api/0/users/me/invitations/";
const EVIL: &str = "https://evil.example";
const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------
// Helpers

/// An app whose organization `acme` ("Acme Corp") is owned by "Ada Owner", signed in on
/// the returned client.
async fn app_with_owner() -> (TestApp, Client) {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com", "Ada Owner").await;
    app.create_org(&ada, "Acme Corp", ORG).await;
    (app, ada)
}

fn accept_path(id: impl Display) -> String {
    format!("{MINE}{id}/accept/")
}

fn decline_path(id: impl Display) -> String {
    format!("{MINE}{id}/")
}

fn bulk_path(slug: &str) -> String {
    format!("/api/0/organizations/{slug}/members/bulk/")
}

fn links_path(slug: &str) -> String {
    format!("/api/0/organizations/{slug}/join-links/")
}

fn link_path(slug: &str, id: impl Display) -> String {
    format!("/api/0/organizations/{slug}/join-links/{id}/")
}

fn join_path(token: &str) -> String {
    format!("/api/0/join-links/{token}/")
}

/// An id as the API writes it (a number, or a number in a string).
fn num(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not an id: {value}")),
        other => panic!("not an id: {other}"),
    }
}

fn rows(body: &Value) -> Vec<Value> {
    body.as_array().unwrap_or_else(|| panic!("an array: {body}")).clone()
}

fn absent(value: &Value, key: &str) -> bool {
    value.get(key).is_none_or(Value::is_null)
}

async fn org_id(app: &TestApp, slug: &str) -> i64 {
    app.sql_i64(&format!("SELECT id FROM organizations WHERE slug = '{slug}'")).await
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.sql_i64(&format!("SELECT id FROM users WHERE email = '{email}'")).await
}

async fn is_member_of(app: &TestApp, email: &str, slug: &str) -> bool {
    app.sql_i64(&format!(
        "SELECT COUNT(*) FROM members m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id \
         WHERE u.email = '{email}' AND o.slug = '{slug}'"
    ))
    .await
        == 1
}

async fn members_of(app: &TestApp, slug: &str) -> i64 {
    let org = org_id(app, slug).await;
    app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE organization_id = {org} AND user_id IS NOT NULL")).await
}

async fn pending_invites(app: &TestApp) -> i64 {
    app.sql_i64("SELECT COUNT(*) FROM members WHERE user_id IS NULL").await
}

async fn events(app: &TestApp, table: &str, event: &str) -> i64 {
    app.sql_i64(&format!("SELECT COUNT(*) FROM {table} WHERE event = '{event}'")).await
}

/// Verifies `email` by following the newest link mailed to it, from a browser of its own
/// (so that nothing pending in the user's session is accepted as a side effect).
async fn verify(app: &TestApp, email: &str) {
    let link = app.verification_link(email).await;
    let token = link.trim_start_matches("/auth/verify-email/").trim_end_matches('/');
    let (status, body) =
        send(&app.other_client(), app, "POST", "/api/0/auth/verify-email/", Some(json!({"token": token}))).await;
    assert_eq!(status, StatusCode::OK, "verify {email}: {body}");
}

async fn verified_user(app: &TestApp, email: &str, name: &str) -> Client {
    let client = app.user(email, name).await;
    verify(app, email).await;
    client
}

/// `email` is invited to `slug` by `inviter` as `role`, registers and joins through the
/// invite link: their signed-in client.
async fn join_by_invite(app: &TestApp, inviter: &Client, slug: &str, email: &str, name: &str, role: &str) -> Client {
    let id = app.invite(inviter, slug, email, role).await;
    let (link, _) = app.invite_link(id).await;
    let client = app.user(email, name).await;
    let api = format!("/api/0/accept-invite{}", link.trim_start_matches("/accept"));
    let (status, body) = send(&client, app, "POST", &api, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{email} joins {slug}: {body}");
    client
}

async fn settings(app: &TestApp, client: &Client, slug: &str, body: Value) {
    let (status, answer) = send(client, app, "PUT", &format!("/api/0/organizations/{slug}/"), Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}: {answer}");
}

/// Enrols TOTP for `owner` and makes `slug` require two-factor authentication.
async fn require_2fa(app: &TestApp, owner: &Client, slug: &str) {
    enrol_totp(app, owner).await;
    settings(app, owner, slug, json!({"require2FA": true})).await;
}

async fn audit(app: &TestApp, client: &Client, slug: &str, event: &str) -> Vec<Value> {
    let res = client
        .get(app.url(&format!("/api/0/organizations/{slug}/audit-logs/")))
        .query(&[("event", event)])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rows(&body)
}

/// The token of a join link's URL, which must be `{base}/join/{64 lower-case hex}/`.
fn token_of(app: &TestApp, url: &str) -> String {
    let prefix = format!("{}/join/", app.base);
    let token = url
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{url} is not {prefix}<token>/"));
    assert!(
        token.len() == 64 && token.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "a 64 lower-case hex token: {url}"
    );
    token.to_owned()
}

/// Creates a join link of `slug`: its id, token and JSON.
async fn create_link(app: &TestApp, client: &Client, slug: &str, body: Value) -> (i64, String, Value) {
    let (status, link) = send(client, app, "POST", &links_path(slug), Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}: {link}");
    let token = token_of(app, link["url"].as_str().unwrap_or_else(|| panic!("a url in {link}")));
    (num(&link["id"]), token, link)
}

async fn list_links(app: &TestApp, client: &Client, slug: &str) -> Vec<Value> {
    let (status, body) = send(client, app, "GET", &links_path(slug), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rows(&body)
}

async fn link_row(app: &TestApp, client: &Client, slug: &str, id: i64) -> Value {
    list_links(app, client, slug).await.into_iter().find(|l| num(&l["id"]) == id).expect("the link is listed")
}

async fn uses(app: &TestApp, id: i64) -> i64 {
    app.sql_i64(&format!("SELECT uses FROM join_links WHERE id = {id}")).await
}

/// Asserts a 400 answer with `reason`.
fn refused(answer: &(StatusCode, Value), reason: &str) {
    assert_eq!((answer.0, answer.1["reason"].as_str()), (StatusCode::BAD_REQUEST, Some(reason)), "{}", answer.1);
    assert!(answer.1["details"].as_str().is_some_and(|d| !d.is_empty()), "a sentence: {}", answer.1);
}

/// Registers every address in a browser of its own, twenty at a time (each costs an
/// Argon2 hash): their signed-in clients, in order.
async fn register_many(app: &TestApp, emails: &[String]) -> Vec<Client> {
    let mut clients = Vec::new();
    for chunk in emails.chunks(20) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|email| {
                let (url, email) = (app.url("/api/0/auth/register/"), email.clone());
                tokio::spawn(async move {
                    let client = new_client();
                    let res = client
                        .post(url)
                        .json(&json!({"email": email, "name": "Joiner", "password": PASSWORD}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
                    client
                })
            })
            .collect();
        for task in tasks {
            clients.push(task.await.unwrap());
        }
    }
    clients
}

fn no_server_error(answers: &[(StatusCode, reqwest::header::HeaderMap, Value)]) {
    assert!(answers.iter().all(|(s, _, _)| !s.is_server_error()), "a 5xx among {:?}", tally(answers));
}

// ---------------------------------------------------------------------------------------
// Your invitations (GET /api/0/users/me/invitations/)

#[tokio::test]
async fn your_invitations_list_every_pending_invite_of_your_verified_address_and_nothing_else() {
    let (app, ada) = app_with_owner().await;
    let bea = app.user("bea@example.com", "Bea Boss").await;
    app.create_org(&bea, "Beta Inc", "beta").await;
    app.create_org(&bea, "Gamma LLC", "gamma").await;
    app.create_org(&ada, "Delta", "delta").await;
    app.create_org(&ada, "Epsilon", "eps").await;

    // Three organizations invite Bob, in three letter cases.
    let acme = app.invite(&ada, "acme", "bob@example.com", "member").await;
    let beta = app.invite(&bea, "beta", "BOB@Example.COM", "manager").await;
    let gamma = app.invite(&bea, "gamma", "Bob@example.com", "member").await;
    // Not Bob's, or not an invite he can use.
    let expired = app.invite(&ada, "delta", "bob@example.com", "member").await;
    app.sql_exec(&format!("UPDATE members SET token_expires_at = 1 WHERE id = {expired}")).await;
    app.invite(&ada, "eps", "carol@example.com", "member").await;
    app.invite(&ada, "delta", "bob@example.co", "member").await;
    app.invite(&ada, "delta", "xbob@example.com", "member").await;
    let eps = org_id(&app, "eps").await;
    let now = gatehouse::server::db::now();
    app.sql_exec(&format!(
        "INSERT INTO members (organization_id, email, role, invite_status, created_at) \
         VALUES ({eps}, 'bob@example.com', 'member', 'requested_to_join', {now})"
    ))
    .await;
    // Distinct creation times, so that "newest first" has one answer.
    for (id, age) in [(acme, 300), (beta, 200), (gamma, 100)] {
        app.sql_exec(&format!("UPDATE members SET created_at = {} WHERE id = {id}", now - age)).await;
    }

    // Anonymous: 401.
    let (status, _) = send(&app.other_client(), &app, "GET", MINE, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Unverified: nothing, and the invite cannot be accepted by id either.
    let bob = app.user("Bob@Example.com", "Bob").await;
    let (status, body) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!([])), "an unverified address sees nothing");
    let (status, body) = send(&bob, &app, "POST", &accept_path(acme), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    let (status, _) = send(&bob, &app, "DELETE", &decline_path(acme), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {acme}")).await, 1);

    // Verified: exactly the three, newest first.
    verify(&app, "bob@example.com").await;
    let (status, body) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = rows(&body);
    assert_eq!(list.iter().map(|i| num(&i["id"])).collect::<Vec<_>>(), [gamma, beta, acme], "{body}");
    let expected = [
        (gamma, "gamma", "Gamma LLC", "member", "Bea Boss"),
        (beta, "beta", "Beta Inc", "manager", "Bea Boss"),
        (acme, "acme", "Acme Corp", "member", "Ada Owner"),
    ];
    for (entry, (id, slug, name, role, inviter)) in list.iter().zip(expected) {
        assert_eq!(entry["orgSlug"], slug, "{entry}");
        assert_eq!(entry["orgName"], name, "{entry}");
        assert_eq!(entry["role"], role, "{entry}");
        assert_eq!(entry["inviterName"], inviter, "{entry}");
        assert_eq!(entry["email"], "bob@example.com", "{entry}");
        assert_eq!(entry["needs"], Value::Null, "nothing stands in the way: {entry}");
        let expires = app.sql_i64(&format!("SELECT token_expires_at FROM members WHERE id = {id}")).await;
        assert_eq!(entry["expiresAt"], rfc3339(expires), "{entry}");
        let created = app.sql_i64(&format!("SELECT created_at FROM members WHERE id = {id}")).await;
        assert_eq!(entry["dateCreated"], rfc3339(created), "{entry}");
    }
    // Nothing secret in the list.
    let tokens: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM members WHERE token_hash IS NOT NULL")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert!(tokens.iter().all(|t| !body.to_string().contains(t.as_str())), "no token hash in {body}");
    // Carol's list does not show Bob's invites, and Bob's does not show hers.
    let carol = verified_user(&app, "carol@example.com", "Carol").await;
    let (_, list) = send(&carol, &app, "GET", MINE, None).await;
    assert_eq!(rows(&list).len(), 1, "{list}");
    assert_eq!(list[0]["orgSlug"], "eps");
}

#[tokio::test]
async fn accepting_an_invitation_joins_with_its_role_audits_and_leaves_the_list() {
    let (app, ada) = app_with_owner().await;
    let id = app.invite(&ada, ORG, "bob@example.com", "manager").await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    let (status, body) = send(&bob, &app, "POST", &accept_path(id), None).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!({"orgSlug": "acme"})), "{body}");
    assert!(is_member_of(&app, "bob@example.com", ORG).await);
    let (status, org) = send(&bob, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!((status, org["role"].as_str()), (StatusCode::OK, Some("manager")));
    let accepted = audit(&app, &ada, ORG, "member.accept-invite").await;
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert_eq!(accepted[0]["actor"]["id"], user_id(&app, "bob@example.com").await.to_string());
    assert_eq!(events(&app, "event_outbox", "member.joined").await, 1);
    let (_, list) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!(list, json!([]));
    // Accepting again: the id is now a membership, not an invite.
    let (status, body) = send(&bob, &app, "POST", &accept_path(id), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    assert_eq!(events(&app, "audit_log", "member.accept-invite").await, 1);
}

#[tokio::test]
async fn an_invitation_to_a_2fa_organization_says_so_and_is_refused_until_bob_has_two_factor() {
    let (app, ada) = app_with_owner().await;
    require_2fa(&app, &ada, ORG).await;
    let id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    let (_, list) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!(rows(&list).len(), 1, "{list}");
    assert_eq!(list[0]["needs"], "needs_2fa", "{list}");
    let answer = send(&bob, &app, "POST", &accept_path(id), None).await;
    refused(&answer, "needs_2fa");
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {id} AND user_id IS NULL")).await, 1);

    enrol_totp(&app, &bob).await;
    let (_, list) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!(list[0]["needs"], Value::Null, "{list}");
    let (status, body) = send(&bob, &app, "POST", &accept_path(id), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(is_member_of(&app, "bob@example.com", ORG).await);
}

#[tokio::test]
async fn an_expired_invitation_is_not_listed_and_accepting_it_says_expired() {
    let (app, ada) = app_with_owner().await;
    let id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    app.sql_exec(&format!("UPDATE members SET token_expires_at = 1 WHERE id = {id}")).await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    let (_, list) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!(list, json!([]));
    let answer = send(&bob, &app, "POST", &accept_path(id), None).await;
    refused(&answer, "expired");
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
}

#[tokio::test]
async fn declining_deletes_the_invite_audits_and_tells_the_inviter() {
    let (app, ada) = app_with_owner().await;
    let id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    let (status, body) = send(&bob, &app, "DELETE", &decline_path(id), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {id}")).await, 0);
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    let bob_uid = user_id(&app, "bob@example.com").await;
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE event = 'invite.decline' AND actor_id = {bob_uid} \
             AND target_email = 'bob@example.com'"
        ))
        .await,
        1
    );
    assert_eq!(events(&app, "event_outbox", "invite.declined").await, 1);
    let mail = app.mail_to_containing("ada@example.com", "declined").await;
    assert!(mail.lines().any(|l| l.starts_with("Subject:") && l.contains("declined")), "{mail}");
    let (_, list) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!(list, json!([]));
    // Declining or accepting again: not found, and nothing more is written.
    let (status, body) = send(&bob, &app, "DELETE", &decline_path(id), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    let (status, _) = send(&bob, &app, "POST", &accept_path(id), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(events(&app, "audit_log", "invite.decline").await, 1);
}

/// Attack: ids that are not the caller's own pending invite — another user's invite, the
/// caller's own membership, a join request for the caller's address, unknown and odd ids —
/// are all "not found" and change nothing.
#[tokio::test]
async fn ids_that_are_not_your_invitation_are_not_found_and_change_nothing() {
    let (app, ada) = app_with_owner().await;
    let carol_invite = app.invite(&ada, ORG, "carol@example.com", "member").await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    verified_user(&app, "carol@example.com", "Carol").await;
    app.create_org(&bob, "Bob's", "bobs").await;
    let bob_membership = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'bob@example.com'")
        .await;
    let ada_membership = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'ada@example.com'")
        .await;
    let acme = org_id(&app, ORG).await;
    let now = gatehouse::server::db::now();
    app.sql_exec(&format!(
        "INSERT INTO members (organization_id, email, role, invite_status, created_at) \
         VALUES ({acme}, 'bob@example.com', 'member', 'requested_to_join', {now})"
    ))
    .await;
    let request = app.sql_i64("SELECT id FROM members WHERE invite_status = 'requested_to_join'").await;

    let ids: Vec<String> = [carol_invite, bob_membership, ada_membership, request, 999_999]
        .iter()
        .map(i64::to_string)
        .chain(["abc", "-1", "1.5", "99999999999999999999999", "%20"].map(str::to_owned))
        .collect();
    for id in &ids {
        let (status, body) = send(&bob, &app, "POST", &accept_path(id), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "accept {id}: {body}");
        let (status, body) = send(&bob, &app, "DELETE", &decline_path(id), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "decline {id}: {body}");
    }
    for id in [carol_invite, bob_membership, ada_membership, request] {
        assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {id}")).await, 1, "row {id} kept");
    }
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event IN ('member.accept-invite', 'invite.decline')").await,
        0
    );
}

/// Attack: the invitations API from another site, or without a session.
#[tokio::test]
async fn the_invitations_api_needs_a_session_and_refuses_other_sites() {
    let (app, ada) = app_with_owner().await;
    let first = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    let res = bob.post(app.url(&accept_path(first))).header("origin", EVIL).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = bob.delete(app.url(&decline_path(first))).header("origin", EVIL).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let anon = app.other_client();
    assert_eq!(send(&anon, &app, "POST", &accept_path(first), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&anon, &app, "DELETE", &decline_path(first), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {first} AND user_id IS NULL")).await, 1);
}

/// Race: forty declines of one invite at once — one 204, the rest 404, one audit entry and
/// one mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_declines_of_one_invite_succeed_once() {
    let (app, ada) = app_with_owner().await;
    let id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    let answers = all_at_once((0..40).map(|_| bob.delete(app.url(&decline_path(id)))).collect()).await;
    assert_eq!(tally(&answers), [(204, 1), (404, 39)]);
    assert_eq!(events(&app, "audit_log", "invite.decline").await, 1);
    assert_eq!(events(&app, "event_outbox", "invite.declined").await, 1);
    app.mail_to_containing("ada@example.com", "declined").await;
    let declined = app.mails_to("ada@example.com").await.iter().filter(|m| m.contains("declined")).count();
    assert_eq!(declined, 1, "the inviter is told once");
}

/// Race: forty accepts, then twenty accepts against twenty declines of another invite —
/// exactly one success each time, never a 5xx, a duplicate membership or both outcomes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_accepts_and_declines_of_one_invite_succeed_once() {
    let (app, ada) = app_with_owner().await;
    let bea = app.user("bea@example.com", "Bea").await;
    app.create_org(&bea, "Beta", "beta").await;
    let acme = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let beta = app.invite(&bea, "beta", "bob@example.com", "member").await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;

    let answers = all_at_once((0..40).map(|_| bob.post(app.url(&accept_path(acme)))).collect()).await;
    no_server_error(&answers);
    assert_eq!(answers.iter().filter(|(s, _, _)| *s == StatusCode::OK).count(), 1, "{:?}", tally(&answers));
    assert!(
        answers.iter().all(|(s, _, _)| [StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND].contains(s)),
        "{:?}",
        tally(&answers)
    );
    assert_eq!(members_of(&app, ORG).await, 2);
    assert_eq!(events(&app, "audit_log", "member.accept-invite").await, 1);

    let requests =
        (0..40)
            .map(|i| {
                if i % 2 == 0 {
                    bob.post(app.url(&accept_path(beta)))
                } else {
                    bob.delete(app.url(&decline_path(beta)))
                }
            })
            .collect();
    let answers = all_at_once(requests).await;
    no_server_error(&answers);
    let successes = answers.iter().filter(|(s, _, _)| s.is_success()).count();
    assert_eq!(successes, 1, "{:?}", tally(&answers));
    let joined = is_member_of(&app, "bob@example.com", "beta").await;
    let declines = events(&app, "audit_log", "invite.decline").await;
    let accepts = events(&app, "audit_log", "member.accept-invite").await - 1;
    assert_eq!((joined, accepts, declines), if joined { (true, 1, 0) } else { (false, 0, 1) });
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {beta} AND user_id IS NULL")).await, 0);
}

// ---------------------------------------------------------------------------------------
// Bulk invite (POST .../members/bulk/)

async fn bulk(app: &TestApp, client: &Client, slug: &str, body: Value) -> (StatusCode, Value) {
    send(client, app, "POST", &bulk_path(slug), Some(body)).await
}

/// The `(email, status)` pairs of a bulk answer.
fn outcomes(body: &Value) -> Vec<(String, String)> {
    rows(&body["results"])
        .iter()
        .map(|r| (r["email"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(e, s)| ((*e).to_owned(), (*s).to_owned())).collect()
}

#[tokio::test]
async fn a_bulk_invite_answers_each_address_and_invites_the_valid_ones() {
    let (app, ada) = app_with_owner().await;
    let (status, _) =
        send(&ada, &app, "POST", "/api/0/organizations/acme/teams/", Some(json!({"name": "Backend"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    app.invite(&ada, ORG, "pending@example.com", "member").await;
    let (status, body) = bulk(
        &app,
        &ada,
        ORG,
        json!({
            "emails": [" New@Example.com ", "ada@example.com", "PENDING@example.com", "not an address", "NEW@example.COM", "second@example.com"],
            "role": "manager",
            "teams": ["backend"],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(
        outcomes(&body),
        pairs(&[
            ("new@example.com", "invited"),
            ("ada@example.com", "already_member"),
            ("pending@example.com", "already_invited"),
            ("not an address", "invalid"),
            ("second@example.com", "invited"),
        ]),
        "{body}"
    );
    for result in rows(&body["results"]) {
        if result["status"] == "invited" {
            let member = &result["member"];
            assert_eq!(member["email"], result["email"], "{result}");
            assert_eq!((member["pending"].as_bool(), member["role"].as_str()), (Some(true), Some("manager")));
            assert_eq!(member["inviterName"], "Ada Owner");
            assert_eq!(member["teams"], json!(["backend"]));
            let id = num(&member["id"]);
            let email: String = sqlx::query_scalar(&format!("SELECT email FROM members WHERE id = {id}"))
                .fetch_one(app.state.db.pool())
                .await
                .unwrap();
            assert_eq!(member["email"], email.as_str(), "the member JSON is the stored row");
            assert!(absent(&result, "reason"), "{result}");
            // One mail each, with the invite link.
            app.mail_to_containing(&email, &format!("/accept/{id}/")).await;
        } else {
            assert!(absent(&result, "member"), "no member for {result}");
            assert!(result["reason"].as_str().is_some_and(|r| !r.is_empty()), "a sentence for {result}");
        }
    }
    for email in ["new@example.com", "second@example.com"] {
        assert_eq!(
            app.sql_i64(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE event = 'member.invite' AND target_email = '{email}'"
            ))
            .await,
            1,
            "one audit entry for {email}"
        );
        assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE email = '{email}'")).await, 1);
        assert_eq!(app.mails_to(email).await.len(), 1, "one mail to {email}");
    }
    assert_eq!(events(&app, "audit_log", "member.invite").await, 3, "pending's own and the two new ones");
    assert_eq!(pending_invites(&app).await, 3);
}

#[tokio::test]
async fn bulk_takes_one_to_fifty_addresses_and_a_bad_role_or_team_invites_nobody() {
    let (app, ada) = app_with_owner().await;
    let fifty_one: Vec<String> = (0..51).map(|i| format!("p{i}@example.com")).collect();
    for (label, body) in [
        ("51 addresses", json!({"emails": fifty_one, "role": "member"})),
        ("none", json!({"emails": [], "role": "member"})),
        ("blanks", json!({"emails": ["", "  "], "role": "member"})),
    ] {
        let (status, answer) = bulk(&app, &ada, ORG, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{label}: {answer}");
        assert!(answer["emails"][0].as_str().is_some_and(|m| !m.is_empty()), "{label}: {answer}");
    }
    let (status, answer) = bulk(&app, &ada, ORG, json!({"emails": ["a@example.com"], "role": "king"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["role"].is_array(), "{answer}");
    let (status, answer) =
        bulk(&app, &ada, ORG, json!({"emails": ["a@example.com"], "role": "member", "teams": ["nope"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["teams"].is_array(), "{answer}");
    let (status, answer) = bulk(&app, &ada, ORG, json!({"emails": "a@example.com"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(pending_invites(&app).await, 0, "nothing was invited");
    assert_eq!(events(&app, "audit_log", "member.invite").await, 0);

    // Fifty entries are fine; duplicates in another case collapse to one result each.
    let fifty: Vec<String> = (0..25).flat_map(|i| [format!("q{i}@example.com"), format!("Q{i}@EXAMPLE.com")]).collect();
    let (status, answer) = bulk(&app, &ada, ORG, json!({"emails": fifty})).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    let expected: Vec<(String, String)> = (0..25).map(|i| (format!("q{i}@example.com"), "invited".into())).collect();
    assert_eq!(outcomes(&answer), expected);
    assert_eq!(pending_invites(&app).await, 25);
    assert_eq!(events(&app, "audit_log", "member.invite").await, 25);
    // Without a role: the organization's default role.
    assert!(rows(&answer["results"]).iter().all(|r| r["member"]["role"] == "member"), "{answer}");
}

/// Attack: members, managers granting owner, outsiders, anonymous callers and other sites.
#[tokio::test]
async fn bulk_obeys_the_actors_powers_and_refuses_other_sites() {
    let (app, ada) = app_with_owner().await;
    let max = join_by_invite(&app, &ada, ORG, "max@example.com", "Max", "manager").await;
    let mel = join_by_invite(&app, &ada, ORG, "mel@example.com", "Mel", "member").await;
    let eve = app.user("eve@example.com", "Eve").await;
    let before = pending_invites(&app).await;
    let emails = json!(["x@example.com", "y@example.com"]);
    let (status, body) = bulk(&app, &mel, ORG, json!({"emails": emails, "role": "member"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "member: {body}");
    let (status, body) = bulk(&app, &max, ORG, json!({"emails": emails, "role": "owner"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "manager granting owner: {body}");
    let (status, body) = bulk(&app, &eve, ORG, json!({"emails": emails, "role": "member"})).await;
    assert!([StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status), "outsider: {status} {body}");
    let (status, _) = bulk(&app, &app.other_client(), ORG, json!({"emails": emails, "role": "member"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let res = ada
        .post(app.url(&bulk_path(ORG)))
        .header("origin", EVIL)
        .json(&json!({"emails": emails, "role": "member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "cross-site");
    assert_eq!(pending_invites(&app).await, before, "nothing was invited");
    // A manager may bulk-invite members and managers.
    let (status, body) = bulk(&app, &max, ORG, json!({"emails": emails, "role": "manager"})).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(outcomes(&body), pairs(&[("x@example.com", "invited"), ("y@example.com", "invited")]));
}

#[tokio::test]
async fn bulk_stops_at_the_seat_limit_address_by_address() {
    let (app, ada) = app_with_owner().await;
    settings(&app, &ada, ORG, json!({"memberLimit": 3})).await;
    let (status, body) = bulk(
        &app,
        &ada,
        ORG,
        json!({"emails": ["a@example.com", "b@example.com", "c@example.com", "d@example.com"], "role": "member"}),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(
        outcomes(&body),
        pairs(&[
            ("a@example.com", "invited"),
            ("b@example.com", "invited"),
            ("c@example.com", "seat_limit"),
            ("d@example.com", "seat_limit"),
        ]),
        "{body}"
    );
    assert!(body["results"][2]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{body}");
    assert_eq!(pending_invites(&app).await, 2);
    assert_eq!(events(&app, "audit_log", "member.invite").await, 2);
}

#[tokio::test]
async fn bulk_applies_the_daily_limits_per_address() {
    let (app, ada) = app_with_owner().await;
    let (org, ada_uid) = (org_id(&app, ORG).await, user_id(&app, "ada@example.com").await);
    let now = gatehouse::server::db::now();
    // lim@ has been sent its ten invites today (resends count).
    let resends: Vec<String> =
        (0..10).map(|_| format!("({org}, {ada_uid}, 'member.reinvite', 'lim@example.com', '{{}}', {now})")).collect();
    app.sql_exec(&format!(
        "INSERT INTO audit_log (organization_id, actor_id, event, target_email, data, created_at) VALUES {}",
        resends.join(", ")
    ))
    .await;
    let (status, body) = bulk(
        &app,
        &ada,
        ORG,
        json!({"emails": ["ok1@example.com", "lim@example.com", "ok2@example.com"], "role": "member"}),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(
        outcomes(&body),
        pairs(&[("ok1@example.com", "invited"), ("lim@example.com", "limited"), ("ok2@example.com", "invited")])
    );
    let limited = &body["results"][1];
    assert!(limited["reason"].as_str().is_some_and(|r| !r.is_empty()), "{limited}");
    assert!(limited["retryAfter"].as_u64().is_some_and(|s| s > 0 && s <= DAY as u64), "{limited}");
    assert!(absent(limited, "member"));
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM members WHERE email = 'lim@example.com'").await, 0);

    // The organization's hundred a day runs out in the middle of a request.
    let invites: Vec<String> =
        (0..96).map(|i| format!("({org}, NULL, 'member.invite', 'old{i}@example.com', '{{}}', {now})")).collect();
    app.sql_exec(&format!(
        "INSERT INTO audit_log (organization_id, actor_id, event, target_email, data, created_at) VALUES {}",
        invites.join(", ")
    ))
    .await;
    let (status, body) = bulk(
        &app,
        &ada,
        ORG,
        json!({"emails": ["x1@example.com", "x2@example.com", "x3@example.com"], "role": "member"}),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(
        outcomes(&body),
        pairs(&[("x1@example.com", "invited"), ("x2@example.com", "invited"), ("x3@example.com", "limited")]),
        "{body}"
    );
    assert_eq!(pending_invites(&app).await, 4);
}

// ---------------------------------------------------------------------------------------
// Join links: administration

#[tokio::test]
async fn owners_and_managers_create_join_links_whose_token_is_shown_once_and_stored_hashed() {
    let (app, ada) = app_with_owner().await;
    let max = join_by_invite(&app, &ada, ORG, "max@example.com", "Max", "manager").await;

    let (first, first_token, link) = create_link(&app, &ada, ORG, json!({})).await;
    assert_eq!(link["role"], "member", "{link}");
    assert_eq!(link["emailDomain"], Value::Null);
    assert_eq!(
        (link["maxUses"].as_i64(), link["uses"].as_i64(), link["usesLeft"].as_i64()),
        (Some(10), Some(0), Some(10))
    );
    assert_eq!(link["state"], "active");
    assert_eq!(link["createdBy"], "Ada Owner");
    let (expires, created) = (
        app.sql_i64(&format!("SELECT expires_at FROM join_links WHERE id = {first}")).await,
        app.sql_i64(&format!("SELECT created_at FROM join_links WHERE id = {first}")).await,
    );
    assert_eq!(expires - created, 7 * DAY, "seven days by default");
    assert_eq!(link["expiresAt"], rfc3339(expires));
    assert_eq!(link["dateCreated"], rfc3339(created));

    let (second, second_token, link) = create_link(
        &app,
        &ada,
        ORG,
        json!({"expiresInDays": 30, "maxUses": 1000, "role": "manager", "emailDomain": "@Example.COM"}),
    )
    .await;
    assert_eq!((link["role"].as_str(), link["emailDomain"].as_str()), (Some("manager"), Some("example.com")));
    assert_eq!(link["maxUses"], 1000);
    let (expires, created) = (
        app.sql_i64(&format!("SELECT expires_at FROM join_links WHERE id = {second}")).await,
        app.sql_i64(&format!("SELECT created_at FROM join_links WHERE id = {second}")).await,
    );
    assert_eq!(expires - created, 30 * DAY);
    let (third, third_token, link) =
        create_link(&app, &max, ORG, json!({"expiresInDays": 1, "maxUses": 1, "role": "member"})).await;
    assert_eq!(link["createdBy"], "Max");
    let tokens = [first_token, second_token, third_token];
    assert!(tokens[0] != tokens[1] && tokens[1] != tokens[2] && tokens[0] != tokens[2]);

    // The list: newest first, never the token or the URL; managers read it too.
    for client in [&ada, &max] {
        let (status, body) = send(client, &app, "GET", &links_path(ORG), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(rows(&body).iter().map(|l| num(&l["id"])).collect::<Vec<_>>(), [third, second, first]);
        let text = body.to_string();
        assert!(tokens.iter().all(|t| !text.contains(t.as_str())), "no token in {text}");
        assert!(rows(&body).iter().all(|l| l.get("url").is_none() && l.get("token").is_none()), "{body}");
    }
    // At rest: only hashes, and no audit entry carries a token.
    for token in &tokens {
        let stored = app.sql_i64(&format!("SELECT COUNT(*) FROM join_links WHERE token_hash LIKE '%{token}%'")).await;
        assert_eq!(stored, 0, "the token itself is not stored");
        assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM audit_log WHERE data LIKE '%{token}%'")).await, 0);
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM join_links WHERE token_hash IS NULL").await, 0);
    assert_eq!(events(&app, "audit_log", "join-link.create").await, 3);
    // Each token opens its own link.
    for (token, role) in tokens.iter().zip(["member", "manager", "member"]) {
        let (status, details) = send(&app.other_client(), &app, "GET", &join_path(token), None).await;
        assert_eq!(status, StatusCode::OK, "{details}");
        assert_eq!((details["orgSlug"].as_str(), details["orgName"].as_str()), (Some("acme"), Some("Acme Corp")));
        assert_eq!(details["role"], role);
    }
}

#[tokio::test]
async fn every_join_link_limit_is_a_field_error_and_creates_nothing() {
    let (app, ada) = app_with_owner().await;
    for (body, field) in [
        (json!({"expiresInDays": 0}), "expiresInDays"),
        (json!({"expiresInDays": 31}), "expiresInDays"),
        (json!({"expiresInDays": -1}), "expiresInDays"),
        (json!({"maxUses": 0}), "maxUses"),
        (json!({"maxUses": 1001}), "maxUses"),
        (json!({"maxUses": -5}), "maxUses"),
        (json!({"role": "king"}), "role"),
        (json!({"emailDomain": "not a domain"}), "emailDomain"),
        (json!({"emailDomain": "bob@example.com"}), "emailDomain"),
        (json!({"emailDomain": "https://example.com/"}), "emailDomain"),
        (json!({"emailDomain": "example..com"}), "emailDomain"),
        (json!({"emailDomain": "@"}), "emailDomain"),
        (json!({"emailDomain": format!("{}.com", "x".repeat(300))}), "emailDomain"),
    ] {
        let (status, answer) = send(&ada, &app, "POST", &links_path(ORG), Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer[field][0].as_str().is_some_and(|m| !m.is_empty()), "{body}: a message under {field}: {answer}");
    }
    let (status, answer) =
        send(&ada, &app, "POST", &links_path(ORG), Some(json!({"expiresInDays": 0, "maxUses": 0}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["expiresInDays"].is_array() && answer["maxUses"].is_array(), "both fields: {answer}");
    for body in [json!({"maxUses": "ten"}), json!({"expiresInDays": 1.5}), json!({"emailDomain": 7})] {
        let (status, answer) = send(&ada, &app, "POST", &links_path(ORG), Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM join_links").await, 0);
    assert_eq!(events(&app, "audit_log", "join-link.create").await, 0);
    // The edges are allowed.
    create_link(&app, &ada, ORG, json!({"expiresInDays": 1, "maxUses": 1})).await;
    create_link(&app, &ada, ORG, json!({"expiresInDays": 30, "maxUses": 1000, "emailDomain": "sub.example.co.uk"}))
        .await;
}

/// Attack: a manager creating links above `member` or revoking an owner's link, members
/// and outsiders managing links, and other sites.
#[tokio::test]
async fn the_role_cap_and_the_members_ban_hold_for_creating_listing_and_revoking() {
    let (app, ada) = app_with_owner().await;
    let max = join_by_invite(&app, &ada, ORG, "max@example.com", "Max", "manager").await;
    let mel = join_by_invite(&app, &ada, ORG, "mel@example.com", "Mel", "member").await;
    let eve = app.user("eve@example.com", "Eve").await;

    for role in ["manager", "owner"] {
        let (status, body) = send(&max, &app, "POST", &links_path(ORG), Some(json!({"role": role}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a manager's {role} link: {body}");
    }
    let (owner_link, _, _) = create_link(&app, &ada, ORG, json!({"role": "owner"})).await;
    let (member_link, _, _) = create_link(&app, &ada, ORG, json!({"role": "member"})).await;
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM join_links").await, 2);

    assert_eq!(send(&mel, &app, "POST", &links_path(ORG), Some(json!({}))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&mel, &app, "GET", &links_path(ORG), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&mel, &app, "DELETE", &link_path(ORG, member_link), None).await.0, StatusCode::FORBIDDEN);
    for (method, path) in [("POST", links_path(ORG)), ("GET", links_path(ORG)), ("DELETE", link_path(ORG, member_link))]
    {
        let (status, body) = send(&eve, &app, method, &path, (method == "POST").then(|| json!({}))).await;
        assert!([StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status), "outsider {method}: {body}");
        let (status, _) = send(&app.other_client(), &app, method, &path, (method == "POST").then(|| json!({}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous {method}");
    }
    assert_eq!(send(&max, &app, "DELETE", &link_path(ORG, owner_link), None).await.0, StatusCode::FORBIDDEN);
    let res = ada.delete(app.url(&link_path(ORG, member_link))).header("origin", EVIL).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "cross-site revoke");
    let res = ada.post(app.url(&links_path(ORG))).header("origin", EVIL).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "cross-site create");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM join_links").await, 2);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM join_links WHERE revoked_at IS NOT NULL").await, 0);
    assert_eq!(events(&app, "audit_log", "join-link.revoke").await, 0);
    // The manager may revoke a member link.
    assert_eq!(send(&max, &app, "DELETE", &link_path(ORG, member_link), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(link_row(&app, &ada, ORG, member_link).await["state"], "revoked");
}

#[tokio::test]
async fn an_organization_has_at_most_fifty_active_links() {
    let (app, ada) = app_with_owner().await;
    let org = org_id(&app, ORG).await;
    let now = gatehouse::server::db::now();
    let active: Vec<String> = (0..49).map(|_| format!("({org}, 'member', 10, 0, {}, {now})", now + DAY)).collect();
    app.sql_exec(&format!(
        "INSERT INTO join_links (organization_id, role, max_uses, uses, expires_at, created_at) VALUES {}",
        active.join(", ")
    ))
    .await;
    let (last, _, _) = create_link(&app, &ada, ORG, json!({})).await;
    let (status, body) = send(&ada, &app, "POST", &links_path(ORG), Some(json!({}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{body}");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM join_links").await, 50);
    assert_eq!(send(&ada, &app, "DELETE", &link_path(ORG, last), None).await.0, StatusCode::NO_CONTENT);
    create_link(&app, &ada, ORG, json!({})).await;
}

#[tokio::test]
async fn a_revoked_link_says_revoked_revoking_is_idempotent_and_another_organizations_id_is_not_found() {
    let (app, ada) = app_with_owner().await;
    let bea = app.user("bea@example.com", "Bea").await;
    app.create_org(&bea, "Beta", "beta").await;
    let (beta_link, beta_token, _) = create_link(&app, &bea, "beta", json!({})).await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({})).await;

    // Another organization's link, an unknown one and odd ids: not found, nothing revoked.
    for other in [beta_link.to_string(), "999999".into(), "abc".into(), "-1".into(), "99999999999999999999999".into()] {
        let (status, body) = send(&ada, &app, "DELETE", &link_path(ORG, &other), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}: {body}");
    }
    let (status, body) = send(&ada, &app, "DELETE", &link_path("beta", beta_link), None).await;
    assert!([StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status), "not Ada's organization: {body}");
    assert_eq!(link_row(&app, &bea, "beta", beta_link).await["state"], "active");
    assert_eq!(send(&app.other_client(), &app, "GET", &join_path(&beta_token), None).await.0, StatusCode::OK);

    assert_eq!(send(&ada, &app, "DELETE", &link_path(ORG, id), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(send(&ada, &app, "DELETE", &link_path(ORG, id), None).await.0, StatusCode::NO_CONTENT, "idempotent");
    assert_eq!(events(&app, "audit_log", "join-link.revoke").await, 1);
    let row = link_row(&app, &ada, ORG, id).await;
    assert_eq!(row["state"], "revoked", "{row}");

    let answer = send(&app.other_client(), &app, "GET", &join_path(&token), None).await;
    refused(&answer, "revoked");
    assert_eq!(answer.1["details"], "This join link has been revoked.");
    let bob = app.user("bob@example.com", "Bob").await;
    refused(&send(&bob, &app, "GET", &join_path(&token), None).await, "revoked");
    refused(&send(&bob, &app, "POST", &join_path(&token), None).await, "revoked");
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    assert_eq!(uses(&app, id).await, 0);
}

#[tokio::test]
async fn an_expired_link_says_expired_and_the_reasons_keep_their_priority() {
    let (app, ada) = app_with_owner().await;
    let bob = app.user("bob@example.com", "Bob").await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({})).await;
    let past = gatehouse::server::db::now() - 10;
    app.sql_exec(&format!("UPDATE join_links SET expires_at = {past} WHERE id = {id}")).await;
    let answer = send(&app.other_client(), &app, "GET", &join_path(&token), None).await;
    refused(&answer, "expired");
    assert_eq!(answer.1["details"], "This join link has expired.");
    refused(&send(&bob, &app, "POST", &join_path(&token), None).await, "expired");
    refused(&send(&app.other_client(), &app, "POST", &join_path(&token), None).await, "expired");
    assert_eq!(link_row(&app, &ada, ORG, id).await["state"], "expired");
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    // Revoked beats expired.
    assert_eq!(send(&ada, &app, "DELETE", &link_path(ORG, id), None).await.0, StatusCode::NO_CONTENT);
    refused(&send(&bob, &app, "GET", &join_path(&token), None).await, "revoked");
    assert_eq!(link_row(&app, &ada, ORG, id).await["state"], "revoked");
    // Expired beats used up.
    let (id, token, _) = create_link(&app, &ada, ORG, json!({"maxUses": 1})).await;
    assert_eq!(send(&bob, &app, "POST", &join_path(&token), None).await.0, StatusCode::OK);
    app.sql_exec(&format!("UPDATE join_links SET expires_at = {past} WHERE id = {id}")).await;
    refused(&send(&bob, &app, "GET", &join_path(&token), None).await, "expired");
}

#[tokio::test]
async fn a_used_up_link_says_used_up() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({"maxUses": 1})).await;
    let carol = app.user("carol@example.com", "Carol").await;
    let dan = app.user("dan@example.com", "Dan").await;
    let (status, body) = send(&carol, &app, "POST", &join_path(&token), None).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!({"orgSlug": "acme"})), "{body}");
    let answer = send(&dan, &app, "POST", &join_path(&token), None).await;
    refused(&answer, "used_up");
    assert_eq!(answer.1["details"], "This join link has been used up.");
    refused(&send(&app.other_client(), &app, "GET", &join_path(&token), None).await, "used_up");
    assert!(is_member_of(&app, "carol@example.com", ORG).await);
    assert!(!is_member_of(&app, "dan@example.com", ORG).await);
    let row = link_row(&app, &ada, ORG, id).await;
    assert_eq!(
        (row["state"].as_str(), row["uses"].as_i64(), row["usesLeft"].as_i64()),
        (Some("used_up"), Some(1), Some(0))
    );
}

// ---------------------------------------------------------------------------------------
// Join links: joining

#[tokio::test]
async fn a_domain_link_needs_a_verified_address_at_exactly_that_domain() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({"emailDomain": "example.com"})).await;
    // Other domains, verified or not, subdomains and look-alikes: domain_mismatch.
    for email in ["eve@other.org", "sam@sub.example.com", "x@example.com.evil.io", "y@notexample.com"] {
        let client = verified_user(&app, email, "Outsider").await;
        let (status, details) = send(&client, &app, "GET", &join_path(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{details}");
        assert_eq!(details["emailDomain"], "example.com");
        assert_eq!(
            (details["domainMismatch"].as_bool(), details["needs"].as_str()),
            (Some(true), Some("domain_mismatch")),
            "{email}: {details}"
        );
        refused(&send(&client, &app, "POST", &join_path(&token), None).await, "domain_mismatch");
        assert!(!is_member_of(&app, email, ORG).await, "{email}");
    }
    // The domain, unverified: needs_email_verification; once verified, joins.
    let pat = app.user("Pat@EXAMPLE.com", "Pat").await;
    let (_, details) = send(&pat, &app, "GET", &join_path(&token), None).await;
    assert_eq!(
        (details["domainMismatch"].as_bool(), details["needsEmailVerification"].as_bool()),
        (Some(false), Some(true)),
        "{details}"
    );
    assert_eq!(details["needs"], "needs_email_verification");
    refused(&send(&pat, &app, "POST", &join_path(&token), None).await, "needs_email_verification");
    assert!(!is_member_of(&app, "pat@example.com", ORG).await);
    assert_eq!(uses(&app, id).await, 0, "refusals use nothing");
    verify(&app, "pat@example.com").await;
    let (_, details) = send(&pat, &app, "GET", &join_path(&token), None).await;
    assert_eq!(details["needs"], Value::Null, "{details}");
    let (status, body) = send(&pat, &app, "POST", &join_path(&token), None).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!({"orgSlug": "acme"})), "{body}");
    assert!(is_member_of(&app, "pat@example.com", ORG).await);
    assert_eq!(uses(&app, id).await, 1);
}

#[tokio::test]
async fn joining_through_a_link_runs_the_organization_policies_in_order() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({})).await;

    // Anonymous: the details say so; joining needs authentication.
    let anon = app.other_client();
    let (status, details) = send(&anon, &app, "GET", &join_path(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{details}");
    assert_eq!(
        (details["needsAuthentication"].as_bool(), details["needs"].as_str()),
        (Some(true), Some("needs_authentication"))
    );
    assert_eq!((details["orgSlug"].as_str(), details["role"].as_str()), (Some("acme"), Some("member")));
    let expires = app.sql_i64(&format!("SELECT expires_at FROM join_links WHERE id = {id}")).await;
    assert_eq!(details["expiresAt"], rfc3339(expires));
    refused(&send(&anon, &app, "POST", &join_path(&token), None).await, "needs_authentication");

    // A member already.
    let (_, details) = send(&ada, &app, "GET", &join_path(&token), None).await;
    assert_eq!((details["existingMember"].as_bool(), details["needs"].as_str()), (Some(true), Some("existing_member")));
    refused(&send(&ada, &app, "POST", &join_path(&token), None).await, "existing_member");

    // Two-factor authentication required: needs_2fa until Bob has it; a domain mismatch
    // comes first.
    require_2fa(&app, &ada, ORG).await;
    let bob = app.user("bob@other.org", "Bob").await;
    let (_, details) = send(&bob, &app, "GET", &join_path(&token), None).await;
    assert_eq!(
        (details["needs2fa"].as_bool(), details["needs"].as_str()),
        (Some(true), Some("needs_2fa")),
        "{details}"
    );
    refused(&send(&bob, &app, "POST", &join_path(&token), None).await, "needs_2fa");
    let (_, domain_token, _) = create_link(&app, &ada, ORG, json!({"emailDomain": "example.com"})).await;
    refused(&send(&bob, &app, "POST", &join_path(&domain_token), None).await, "domain_mismatch");
    assert_eq!(uses(&app, id).await, 0, "refusals use nothing");
    enrol_totp(&app, &bob).await;
    let (status, body) = send(&bob, &app, "POST", &join_path(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(is_member_of(&app, "bob@other.org", ORG).await);

    // A verified address required (another organization), then a full house.
    let bea = app.user("bea@example.com", "Bea").await;
    app.create_org(&bea, "Beta", "beta").await;
    settings(&app, &bea, "beta", json!({"requireEmailVerification": true})).await;
    let (beta_link, beta_token, _) = create_link(&app, &bea, "beta", json!({})).await;
    let carol = app.user("carol@example.com", "Carol").await;
    let (_, details) = send(&carol, &app, "GET", &join_path(&beta_token), None).await;
    assert_eq!(details["needs"], "needs_email_verification", "{details}");
    refused(&send(&carol, &app, "POST", &join_path(&beta_token), None).await, "needs_email_verification");
    verify(&app, "carol@example.com").await;
    assert_eq!(send(&carol, &app, "POST", &join_path(&beta_token), None).await.0, StatusCode::OK);
    settings(&app, &bea, "beta", json!({"memberLimit": 2})).await;
    let dan = verified_user(&app, "dan@example.com", "Dan").await;
    let (_, details) = send(&dan, &app, "GET", &join_path(&beta_token), None).await;
    assert_eq!(details["needs"], "seat_limit", "{details}");
    refused(&send(&dan, &app, "POST", &join_path(&beta_token), None).await, "seat_limit");
    assert!(!is_member_of(&app, "dan@example.com", "beta").await);
    assert_eq!(uses(&app, beta_link).await, 1);
}

#[tokio::test]
async fn a_join_lands_with_the_links_role_and_is_audited_with_the_links_id() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({"role": "manager", "maxUses": 5})).await;
    let bob = app.user("bob@example.com", "Bob").await;
    let (status, body) = send(&bob, &app, "POST", &join_path(&token), None).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!({"orgSlug": "acme"})), "{body}");
    let (status, org) = send(&bob, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!((status, org["role"].as_str()), (StatusCode::OK, Some("manager")));
    let ada_uid = user_id(&app, "ada@example.com").await;
    let bob_uid = user_id(&app, "bob@example.com").await;
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) FROM members WHERE user_id = {bob_uid} AND inviter_id = {ada_uid} \
             AND invite_status = 'approved' AND role = 'manager'"
        ))
        .await,
        1,
        "a normal membership, invited by the link's creator"
    );
    let joins = audit(&app, &ada, ORG, "member.join-link").await;
    assert_eq!(joins.len(), 1, "{joins:?}");
    let data = &joins[0]["data"];
    assert_eq!(num(&data["join_link"]), id, "{data}");
    assert_eq!((data["email"].as_str(), data["role"].as_str()), (Some("bob@example.com"), Some("manager")), "{data}");
    assert_eq!(events(&app, "event_outbox", "member.joined").await, 1);
    let row = link_row(&app, &ada, ORG, id).await;
    assert_eq!(
        (row["uses"].as_i64(), row["usesLeft"].as_i64(), row["state"].as_str()),
        (Some(1), Some(4), Some("active"))
    );
    // Opening the link changes nothing.
    for _ in 0..3 {
        send(&app.other_client(), &app, "GET", &join_path(&token), None).await;
    }
    assert_eq!(uses(&app, id).await, 1);
}

/// Attack: a join from another site.
#[tokio::test]
async fn a_join_from_another_site_is_refused() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({})).await;
    let bob = app.user("bob@example.com", "Bob").await;
    let res = bob.post(app.url(&join_path(&token))).header("origin", EVIL).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    assert_eq!(uses(&app, id).await, 0);
}

/// Race: 200 distinct users join a 10-use link at once — exactly ten get in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_parallel_joins_on_a_ten_use_link_make_exactly_ten_members() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({"maxUses": 10})).await;
    let emails: Vec<String> = (0..200).map(|i| format!("joiner{i}@example.com")).collect();
    let clients = register_many(&app, &emails).await;
    let url = app.url(&join_path(&token));
    let answers = all_at_once(clients.iter().map(|c| c.post(&url)).collect()).await;
    assert_eq!(answers.len(), 200);
    no_server_error(&answers);
    assert_eq!(tally(&answers), [(200, 10), (400, 190)]);
    for (status, _, body) in &answers {
        if *status == StatusCode::BAD_REQUEST {
            assert_eq!(body["reason"], "used_up", "{body}");
        } else {
            assert_eq!(body, &json!({"orgSlug": "acme"}));
        }
    }
    assert_eq!(uses(&app, id).await, 10);
    assert_eq!(members_of(&app, ORG).await, 11, "the owner and ten joiners");
    assert_eq!(events(&app, "audit_log", "member.join-link").await, 10);
    assert_eq!(events(&app, "event_outbox", "member.joined").await, 10);
    let row = link_row(&app, &ada, ORG, id).await;
    assert_eq!((row["state"].as_str(), row["usesLeft"].as_i64()), (Some("used_up"), Some(0)));
}

/// Race: one user joining forty times at once uses the link once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_joins_by_one_user_use_the_link_once() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({"maxUses": 100})).await;
    let bob = app.user("bob@example.com", "Bob").await;
    let answers = all_at_once((0..40).map(|_| bob.post(app.url(&join_path(&token)))).collect()).await;
    no_server_error(&answers);
    assert_eq!(tally(&answers), [(200, 1), (400, 39)]);
    assert!(
        answers
            .iter()
            .filter(|(s, _, _)| *s == StatusCode::BAD_REQUEST)
            .all(|(_, _, b)| b["reason"] == "existing_member"),
        "{answers:?}"
    );
    assert_eq!(uses(&app, id).await, 1);
    assert_eq!(events(&app, "audit_log", "member.join-link").await, 1);
}

/// Race: forty revokes of one link at once — every answer 204, one audit entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_revokes_audit_once() {
    let (app, ada) = app_with_owner().await;
    let (id, _, _) = create_link(&app, &ada, ORG, json!({})).await;
    let answers = all_at_once((0..40).map(|_| ada.delete(app.url(&link_path(ORG, id)))).collect()).await;
    assert_eq!(tally(&answers), [(204, 40)]);
    assert_eq!(events(&app, "audit_log", "join-link.revoke").await, 1);
    assert_eq!(link_row(&app, &ada, ORG, id).await["state"], "revoked");
}

/// Attack: tokens that were never this instance's link — another instance's token for a
/// link with the same id, an invite's token, random hex, the hash that is stored — all get
/// the one "invalid" answer, on details and on join.
#[tokio::test]
async fn tokens_of_another_instance_an_invite_or_random_hex_are_invalid() {
    let (app, ada) = app_with_owner().await;
    let (id, token, _) = create_link(&app, &ada, ORG, json!({})).await;
    let other = spawn_app().await;
    let zed = other.user("zed@example.com", "Zed").await;
    other.create_org(&zed, "Acme Corp", ORG).await;
    let (other_id, other_token, _) = create_link(&other, &zed, ORG, json!({})).await;
    assert_eq!(other_id, id, "the same link id on both instances");
    assert_ne!(other_token, token, "tokens are keyed by the instance secret");
    let invite = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let (_, invite_token) = app.invite_link(invite).await;
    let stored: String = sqlx::query_scalar(&format!("SELECT token_hash FROM join_links WHERE id = {id}"))
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();

    let bob = app.user("bob@example.com", "Bob").await;
    let mut invalid = None;
    for candidate in [other_token, invite_token, "0".repeat(64), "f".repeat(64), stored] {
        for client in [&app.other_client(), &bob] {
            for method in ["GET", "POST"] {
                let answer = send(client, &app, method, &join_path(&candidate), None).await;
                refused(&answer, "invalid");
                // The same answer for all of them.
                let first = invalid.get_or_insert_with(|| answer.1.clone());
                assert_eq!(&answer.1, first, "{method} {candidate}");
            }
        }
    }
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    assert_eq!(uses(&app, id).await, 0);
}

/// Attack: malformed tokens — short, non-hex, very long, encoded slashes and NULs,
/// non-ASCII — are "invalid", never a 5xx.
#[tokio::test]
async fn malformed_tokens_are_invalid_never_a_server_error() {
    let (app, ada) = app_with_owner().await;
    create_link(&app, &ada, ORG, json!({})).await;
    let (_, random) = send(&app.other_client(), &app, "GET", &join_path(&"a".repeat(64)), None).await;
    let bob = app.user("bob@example.com", "Bob").await;
    for token in [
        "short".to_owned(),
        "z".repeat(64),
        "g".repeat(64),
        "0".repeat(63),
        "0".repeat(65),
        "a".repeat(2000),
        "%00".repeat(30),
        "..%2F..%2Fadmin".to_owned(),
        "%C3%A9".repeat(32),
        "0x".to_owned() + &"1".repeat(62),
        " ".repeat(3).replace(' ', "%20") + &"1".repeat(61),
    ] {
        for client in [&app.other_client(), &bob] {
            for method in ["GET", "POST"] {
                let (status, body) = send(client, &app, method, &join_path(&token), None).await;
                assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &random), "{method} {token}");
            }
        }
    }
    assert_eq!(random["reason"], "invalid");
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
}

// ---------------------------------------------------------------------------------------
// Registration through a join link when registration is by invitation only

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_link_is_no_registration_pass_when_registration_is_invite_only() {
    let app = spawn_app_with(Options { registration: Some(RegistrationMode::InviteOnly), ..Options::default() }).await;
    let password = gatehouse::server::domain::Password::new(PASSWORD.to_owned());
    gatehouse::server::service::accounts::create_user(&app.state, "ada@example.com", "Ada Owner", &password, true)
        .await
        .unwrap();
    let res = app.post_json("/api/0/auth/login/", &json!({"username": "ada@example.com", "password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.create_org(&app.client, "Acme Corp", ORG).await;
    let (id, token, _) = create_link(&app, &app.client, ORG, json!({})).await;
    let (revoked, revoked_token, _) = create_link(&app, &app.client, ORG, json!({})).await;
    assert_eq!(send(&app.client, &app, "DELETE", &link_path(ORG, revoked), None).await.0, StatusCode::NO_CONTENT);

    let register = |client: &Client, email: &str| {
        client
            .post(app.url("/api/0/auth/register/"))
            .json(&json!({"email": email, "name": "Newcomer", "password": PASSWORD}))
            .send()
    };
    let visitor = app.other_client();
    assert_eq!(register(&visitor, "bob@example.com").await.unwrap().status(), StatusCode::FORBIDDEN);
    // Neither an unknown nor a revoked link opens registration.
    send(&visitor, &app, "GET", &join_path(&"0".repeat(64)), None).await;
    send(&visitor, &app, "GET", &join_path(&revoked_token), None).await;
    assert_eq!(register(&visitor, "bob@example.com").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.user_count().await, 1);

    // Nor does an active one: a shared link is addressed to no one, and would open
    // registration to everyone who sees it. It admits existing accounts.
    let (status, details) = send(&visitor, &app, "GET", &join_path(&token), None).await;
    assert_eq!((status, details["needsAuthentication"].as_bool()), (StatusCode::OK, Some(true)), "{details}");
    assert_eq!(register(&visitor, "bob@example.com").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.user_count().await, 1);
    let password = gatehouse::server::domain::Password::new(PASSWORD.to_owned());
    gatehouse::server::service::accounts::create_user(&app.state, "bob@example.com", "Bob", &password, false)
        .await
        .unwrap();
    let bob = app.other_client();
    let res =
        bob.post(app.url("/api/0/auth/login/")).json(&json!({"username": "bob@example.com", "password": PASSWORD}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
    let (status, body) = send(&bob, &app, "POST", &join_path(&token), None).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!({"orgSlug": "acme"})), "{body}");
    assert!(is_member_of(&app, "bob@example.com", ORG).await);
    assert_eq!(uses(&app, id).await, 1);
}

/// Attack: a link outliving its maker's authority. A manager's member link dies when the
/// manager is removed; an owner's manager link dies when the owner is made manager.
#[tokio::test]
async fn a_link_stops_when_its_creator_could_no_longer_create_it() {
    let (app, ada) = app_with_owner().await;
    let max = join_by_invite(&app, &ada, ORG, "max@example.com", "Max", "manager").await;
    let (max_link, max_token, _) = create_link(&app, &max, ORG, json!({})).await;
    let (ada_link, ada_token, _) = create_link(&app, &ada, ORG, json!({"role": "manager"})).await;
    let bob = app.user("bob@example.com", "Bob").await;

    let max_member = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'max@example.com'")
        .await;
    let (status, _) =
        send(&ada, &app, "DELETE", &format!("/api/0/organizations/{ORG}/members/{max_member}/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    refused(&send(&bob, &app, "GET", &join_path(&max_token), None).await, "revoked");
    refused(&send(&bob, &app, "POST", &join_path(&max_token), None).await, "revoked");
    assert_eq!(link_row(&app, &ada, ORG, max_link).await["state"].as_str(), Some("revoked"));

    // Ada hands ownership to Carol and becomes manager: her manager link is above what a
    // manager may create.
    let carol = join_by_invite(&app, &ada, ORG, "carol@example.com", "Carol", "member").await;
    let carol_member = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'carol@example.com'")
        .await;
    let (status, body) = send(
        &ada,
        &app,
        "POST",
        &format!("/api/0/organizations/{ORG}/transfer-ownership/"),
        Some(json!({"memberId": carol_member, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    refused(&send(&bob, &app, "POST", &join_path(&ada_token), None).await, "revoked");
    assert_eq!(link_row(&app, &carol, ORG, ada_link).await["state"].as_str(), Some("revoked"));
    assert!(!is_member_of(&app, "bob@example.com", ORG).await);
    assert_eq!(uses(&app, ada_link).await + uses(&app, max_link).await, 0);
}

/// Joining through a link while an invite (or request) of yours is pending there replaces
/// it: it leaves "your invitations", and it does not count against the seat you take.
#[tokio::test]
async fn a_join_replaces_your_pending_invite_and_its_seat() {
    let (app, ada) = app_with_owner().await;
    let invite = app.invite(&ada, ORG, "bob@example.com", "member").await;
    // Two seats: Ada and Bob's invite fill them.
    settings(&app, &ada, ORG, json!({"memberLimit": 2})).await;
    let (_, token, _) = create_link(&app, &ada, ORG, json!({})).await;
    let bob = verified_user(&app, "bob@example.com", "Bob").await;
    let (_, listed) = send(&bob, &app, "GET", MINE, None).await;
    assert_eq!(rows(&listed).len(), 1);
    let (status, body) = send(&bob, &app, "POST", &join_path(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.sql_i64(&format!("SELECT COUNT(*) FROM members WHERE id = {invite}")).await,
        0,
        "the invite is gone"
    );
    let (_, listed) = send(&bob, &app, "GET", MINE, None).await;
    assert!(rows(&listed).is_empty(), "{listed}");
    let joins = audit(&app, &ada, ORG, "member.join-link").await;
    assert_eq!(num(&joins[0]["data"]["replaced"]["id"]), invite, "{joins:?}");
    assert_eq!(members_of(&app, ORG).await, 2);
}
