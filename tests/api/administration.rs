//! Administering an organization (SPEC §3, §5.1, §5.10): every write answers the member as
//! it reads back, one member's details, resend and regenerate, the default role, refusals
//! that change nothing, leaving, transferring ownership, teams, paging of the member list
//! and of the audit log, audit notes and addresses, events, cross-site refusals, and owners
//! racing each other.

use reqwest::header::HeaderMap;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;

const ORG: &str = "acme";
const TRANSFER: &str = "/api/0/organizations/acme/transfer-ownership/";
const LEAVE: &str = "/api/0/organizations/acme/members/me/";
const MEMBER_KEYS: [&str; 12] = [
    "dateCreated",
    "email",
    "expired",
    "id",
    "inviteStatus",
    "inviterName",
    "mailStatus",
    "name",
    "pending",
    "role",
    "teams",
    "user",
];

// ---------------------------------------------------------------------------------------
// Helpers

/// An app whose organization `acme` is owned by "Ada Owner", signed in on the returned client.
async fn app_with_owner() -> (TestApp, Client) {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com", "Ada Owner").await;
    app.create_org(&ada, "Acme Corp", ORG).await;
    (app, ada)
}

fn member_path(id: impl std::fmt::Display) -> String {
    format!("/api/0/organizations/{ORG}/members/{id}/")
}

fn team_path(id: i64, team: &str) -> String {
    format!("/api/0/organizations/{ORG}/members/{id}/teams/{team}/")
}

fn accept_path(link: &str) -> String {
    format!("/api/0/accept-invite{}", link.trim_start_matches("/accept"))
}

/// `email`, invited by `inviter` as `role`, registers as `name` and joins through the link:
/// their signed-in client and their member id.
async fn join(app: &TestApp, inviter: &Client, email: &str, name: &str, role: &str) -> (Client, i64) {
    let id = app.invite(inviter, ORG, email, role).await;
    let (link, _) = app.invite_link(id).await;
    let client = app.user(email, name).await;
    let (status, body) = send(&client, app, "POST", &accept_path(&link), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{email} joins: {body}");
    (client, id)
}

async fn org_id(app: &TestApp, slug: &str) -> i64 {
    app.sql_i64(&format!("SELECT id FROM organizations WHERE slug = '{slug}'")).await
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.sql_i64(&format!("SELECT id FROM users WHERE email = '{email}'")).await
}

/// The member id of `email`'s membership of `acme`.
async fn membership_id(app: &TestApp, email: &str) -> i64 {
    app.sql_i64(&format!(
        "SELECT m.id FROM members m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id \
         WHERE u.email = '{email}' AND o.slug = '{ORG}'"
    ))
    .await
}

/// The stored role of member row `id`, `None` when the row is gone.
async fn role_of(app: &TestApp, id: i64) -> Option<String> {
    sqlx::query_scalar::<_, String>(&format!("SELECT role FROM members WHERE id = {id}"))
        .fetch_optional(app.state.db.pool())
        .await
        .unwrap()
}

/// Owners of `acme` with an account (pending invites do not count).
async fn owners(app: &TestApp) -> i64 {
    let org = org_id(app, ORG).await;
    app.sql_i64(&format!(
        "SELECT COUNT(*) FROM members WHERE organization_id = {org} AND role = 'owner' AND user_id IS NOT NULL"
    ))
    .await
}

async fn count(app: &TestApp, table: &str, event: &str) -> i64 {
    app.sql_i64(&format!("SELECT COUNT(*) FROM {table} WHERE event = '{event}'")).await
}

async fn ids(app: &TestApp, sql: &str) -> Vec<i64> {
    sqlx::query_scalar::<_, i64>(sql).fetch_all(app.state.db.pool()).await.unwrap()
}

/// How far an invite's mail has got: the state only moves forward while the mail worker runs.
fn mail_rank(state: &Value) -> u8 {
    match state.as_str() {
        Some("queued") => 0,
        Some("sending") => 1,
        Some("sent" | "failed") => 2,
        _ => panic!("mailStatus {state} is none of queued, sending, sent, failed"),
    }
}

fn assert_member_shape(member: &Value) {
    let mut keys: Vec<&str> =
        member.as_object().unwrap_or_else(|| panic!("{member}")).keys().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, MEMBER_KEYS, "{member}");
}

/// Asserts that a write's answer is the whole member JSON that `GET .../members/{id}/`
/// returns right after. Only the invite's mail state may have moved on meanwhile (the mail
/// worker runs in the background), and only forward. Returns what was read.
async fn assert_read_back(app: &TestApp, client: &Client, written: &Value) -> Value {
    assert_member_shape(written);
    let id = written["id"].as_i64().unwrap_or_else(|| panic!("a numeric id in {written}"));
    let (status, read) = send(client, app, "GET", &member_path(id), None).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    let (mut w, mut r) = (written.clone(), read.clone());
    let (w_mail, r_mail) = (w["mailStatus"].take(), r["mailStatus"].take());
    if w_mail != r_mail {
        assert!(
            !w_mail.is_null() && mail_rank(&w_mail) < mail_rank(&r_mail),
            "mailStatus answered {w_mail}, read back {r_mail}"
        );
    }
    assert_eq!(w, r, "the write's answer differs from what reads back");
    read
}

/// Every invite token mailed for member `id`, oldest mail first.
async fn tokens_mailed(app: &TestApp, id: i64) -> Vec<String> {
    let needle = format!("/accept/{id}/");
    app.mails()
        .await
        .iter()
        .filter_map(|mail| {
            let at = mail.find(&needle)?;
            Some(mail[at + needle.len()..].chars().take_while(|c| c.is_ascii_hexdigit()).collect())
        })
        .collect()
}

/// Waits up to 5 s for a mailed token of member `id` other than `old`.
async fn new_token(app: &TestApp, id: i64, old: &str) -> String {
    for _ in 0..50 {
        if let Some(token) = tokens_mailed(app, id).await.into_iter().find(|t| t != old) {
            return token;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail with a new link for member {id}");
}

/// Waits up to 5 s for `n` mails to `email`; all of them.
async fn mails_to_at_least(app: &TestApp, email: &str, n: usize) -> Vec<String> {
    for _ in 0..50 {
        let mails = app.mails_to(email).await;
        if mails.len() >= n {
            return mails;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} mails to {email}");
}

/// A list page: status, headers and JSON.
async fn page(app: &TestApp, client: &Client, path: &str, query: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
    let res = client.get(app.url(path)).query(query).send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The `rel` side of a `Link` header: whether rows lie there, and its cursor.
fn link_side(headers: &HeaderMap, rel: &str) -> (bool, String) {
    let link = headers.get("link").expect("a Link header").to_str().unwrap();
    let part = link
        .split(", <")
        .find(|part| part.contains(&format!("rel=\"{rel}\"")))
        .unwrap_or_else(|| panic!("no rel=\"{rel}\" in {link}"));
    let attr = |name: &str| {
        let key = format!("{name}=\"");
        let rest = &part[part.find(&key).unwrap_or_else(|| panic!("no {name} in {link}")) + key.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    };
    let results = match attr("results").as_str() {
        "true" => true,
        "false" => false,
        other => panic!("results={other:?} in {link}"),
    };
    (results, attr("cursor"))
}

/// Walks a list from its first page, following `rel="next"` until it says there are no
/// more results: every page's rows and headers.
async fn walk(
    app: &TestApp,
    client: &Client,
    path: &str,
    filters: &[(&str, &str)],
    per_page: usize,
) -> Vec<(Vec<Value>, HeaderMap)> {
    let per = per_page.to_string();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut query = filters.to_vec();
        query.push(("per_page", per.as_str()));
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.as_str()));
        }
        let (status, headers, body) = page(app, client, path, &query).await;
        assert_eq!(status, StatusCode::OK, "{query:?}: {body}");
        let rows = body.as_array().unwrap_or_else(|| panic!("an array: {body}")).clone();
        assert!(rows.len() <= per_page, "{} rows on a page of {per_page}", rows.len());
        let (more, next) = link_side(&headers, "next");
        pages.push((rows, headers));
        if !more {
            return pages;
        }
        assert!(pages.len() < 1000, "the walk does not end");
        cursor = Some(next);
    }
}

/// An id as the API writes it (a number, or a number in a string).
fn id_of(row: &Value) -> i64 {
    match &row["id"] {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("id {other} in {row}"),
    }
}

fn ids_of(pages: &[(Vec<Value>, HeaderMap)]) -> Vec<i64> {
    pages.iter().flat_map(|(rows, _)| rows.iter().map(id_of)).collect()
}

/// A list walked with 100 and with 7 rows a page gives `expected` in order; from the third
/// page of 100, `rel="previous"` gives the second page back; the edges say no more rows.
async fn assert_walks(app: &TestApp, client: &Client, path: &str, filters: &[(&str, &str)], expected: &[i64]) {
    let pages = walk(app, client, path, filters, 100).await;
    assert_eq!(pages.iter().map(|(rows, _)| rows.len()).collect::<Vec<_>>(), [100, 100, 50], "{path}");
    assert_eq!(ids_of(&pages), expected, "{path}: every row once, in order");
    assert!(!link_side(&pages[0].1, "previous").0, "nothing before the first page");
    let (more, previous) = link_side(&pages[2].1, "previous");
    assert!(more, "rows before the third page");
    let mut query = filters.to_vec();
    query.extend([("per_page", "100"), ("cursor", previous.as_str())]);
    let (status, _, body) = page(app, client, path, &query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, Value::Array(pages[1].0.clone()), "previous from page 3 is page 2");

    let small = walk(app, client, path, filters, 7).await;
    assert_eq!(small.len(), 36, "{path}: 250 rows are 36 pages of 7");
    assert_eq!(ids_of(&small), expected, "{path}: every row once, in order, 7 a page");
}

/// `per_page` outside 1–100 and a cursor not given by the server are refused.
async fn assert_bad_paging_refused(app: &TestApp, client: &Client, path: &str) {
    for per_page in ["0", "101", "x"] {
        let (status, _, body) = page(app, client, path, &[("per_page", per_page)]).await;
        assert_eq!(
            (status, body["reason"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_per_page")),
            "{per_page}"
        );
    }
    let (status, _, body) = page(app, client, path, &[("cursor", "zzz")]).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_cursor")), "{body}");
}

async fn audit(app: &TestApp, client: &Client, query: &[(&str, &str)]) -> Vec<Value> {
    let (status, _, body) = page(app, client, "/api/0/organizations/acme/audit-logs/", query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

// ---------------------------------------------------------------------------------------
// Every write answers the member as it reads back (SPEC §3).

#[tokio::test]
async fn every_write_answers_the_member_exactly_as_a_following_read_returns_it() {
    let (app, ada) = app_with_owner().await;
    let (status, _) =
        send(&ada, &app, "POST", "/api/0/organizations/acme/teams/", Some(json!({"name": "Backend"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;

    // Invite.
    let (status, invited) = send(
        &ada,
        &app,
        "POST",
        "/api/0/organizations/acme/members/",
        Some(json!({"email": "bob@example.com", "role": "member"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let bob_id = invited["id"].as_i64().unwrap();
    let read = assert_read_back(&app, &ada, &invited).await;
    assert_eq!((read["pending"].as_bool(), read["inviterName"].as_str()), (Some(true), Some("Ada Owner")));
    mail_rank(&read["mailStatus"]);

    // Role change of a membership: the answer names the member's account, not the actor's.
    let (status, changed) = send(&ada, &app, "PUT", &member_path(mel_id), Some(json!({"role": "manager"}))).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let read = assert_read_back(&app, &ada, &changed).await;
    assert_eq!(read["role"], "manager");
    assert_eq!(read["user"]["email"], "mel@example.com");
    assert_eq!(read["user"]["id"], user_id(&app, "mel@example.com").await.to_string());
    assert_eq!(read["mailStatus"], Value::Null, "memberships have no mail state");

    // Resend and regenerate; team assignment and removal.
    for body in [json!({"reinvite": true}), json!({"regenerate": true})] {
        let (status, answer) = send(&ada, &app, "PUT", &member_path(bob_id), Some(body.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
        assert_read_back(&app, &ada, &answer).await;
    }
    for id in [mel_id, bob_id] {
        let (status, added) = send(&ada, &app, "POST", &team_path(id, "backend"), None).await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        assert_eq!(assert_read_back(&app, &ada, &added).await["teams"], json!(["backend"]));
    }
    let (status, removed) = send(&ada, &app, "DELETE", &team_path(mel_id, "backend"), None).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(assert_read_back(&app, &ada, &removed).await["teams"], json!([]));

    // Transfer of ownership.
    let (status, new_owner) =
        send(&ada, &app, "POST", TRANSFER, Some(json!({"memberId": mel_id, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::OK, "{new_owner}");
    assert_eq!(assert_read_back(&app, &ada, &new_owner).await["role"], "owner");
}

#[tokio::test]
async fn a_resend_by_another_manager_keeps_the_original_inviter_and_the_mail_ends_up_sent() {
    let (app, ada) = app_with_owner().await;
    let (max, _) = join(&app, &ada, "max@example.com", "Max Manager", "manager").await;
    let bob_id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    for body in [json!({"reinvite": true}), json!({"regenerate": true})] {
        let (status, answer) = send(&max, &app, "PUT", &member_path(bob_id), Some(body.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
        assert_eq!(answer["inviterName"], "Ada Owner", "{body}: the row's inviter, not the sender");
        mail_rank(&answer["mailStatus"]);
        assert_eq!(assert_read_back(&app, &max, &answer).await["inviterName"], "Ada Owner");
    }
    // Once the outbox is delivered, the newest mail reads as sent.
    let mut state = Value::Null;
    for _ in 0..50 {
        app.mails().await;
        state = send(&ada, &app, "GET", &member_path(bob_id), None).await.1["mailStatus"].clone();
        if state == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, "sent");
}

// ---------------------------------------------------------------------------------------
// GET .../members/{id}/

#[tokio::test]
async fn one_member_reads_for_any_member_and_is_not_found_elsewhere() {
    let (app, ada) = app_with_owner().await;
    let (mel, _) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let ada_id = membership_id(&app, "ada@example.com").await;
    let bob_id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let zed = app.user("zed@example.com", "Zed").await;
    app.create_org(&zed, "Beta", "beta").await;
    let beta_invite = app.invite(&zed, "beta", "x@example.com", "member").await;
    let zed_membership = app
        .sql_i64("SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'zed@example.com'")
        .await;

    // A plain member reads a membership and an invite.
    let (status, owner) = send(&mel, &app, "GET", &member_path(ada_id), None).await;
    assert_eq!((status, owner["role"].as_str(), owner["id"].as_i64()), (StatusCode::OK, Some("owner"), Some(ada_id)));
    assert_member_shape(&owner);
    let (status, invite) = send(&mel, &app, "GET", &member_path(bob_id), None).await;
    assert_eq!((status, invite["email"].as_str()), (StatusCode::OK, Some("bob@example.com")), "{invite}");

    // Rows of another organization, unknown and non-numeric ids are not found.
    for id in [beta_invite.to_string(), zed_membership.to_string(), "999999".into(), "abc".into()] {
        let (status, body) = send(&ada, &app, "GET", &member_path(&id), None).await;
        assert_eq!((status, body["reason"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{id}: {body}");
    }
    // An outsider learns nothing, not even that the member exists.
    let (status, _) = send(&zed, &app, "GET", &member_path(ada_id), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An invite request is not shown to a plain member as a member.
    let (status, request) = send(
        &mel,
        &app,
        "POST",
        "/api/0/organizations/acme/invite-requests/",
        Some(json!({"email": "friend@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let (status, _) = send(&mel, &app, "GET", &member_path(request["id"].as_i64().unwrap()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// Resend and regenerate (SPEC §5.1).

#[tokio::test]
async fn a_resend_mails_the_same_link_and_the_first_mail_still_works() {
    let (app, ada) = app_with_owner().await;
    let id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let (link, token) = app.invite_link(id).await;
    let (status, body) = send(&ada, &app, "PUT", &member_path(id), Some(json!({"reinvite": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mails = mails_to_at_least(&app, "bob@example.com", 2).await;
    assert_eq!(mails.len(), 2);
    for mail in &mails {
        assert!(mail.contains(&app.url(&link)), "every mail carries the first link: {mail}");
    }
    assert_eq!(tokens_mailed(&app, id).await, [token.clone(), token]);
    let bob = app.user("bob@example.com", "Bob").await;
    let (status, body) = send(&bob, &app, "POST", &accept_path(&link), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, member) = send(&ada, &app, "GET", &member_path(id), None).await;
    assert_eq!((member["pending"].as_bool(), member["user"]["email"].as_str()), (Some(false), Some("bob@example.com")));
}

#[tokio::test]
async fn an_expired_invite_is_not_resent_but_regenerating_replaces_its_link() {
    let (app, ada) = app_with_owner().await;
    let id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let (old_link, old_token) = app.invite_link(id).await;
    app.sql_exec(&format!("UPDATE members SET token_expires_at = 1 WHERE id = {id}")).await;
    assert_eq!(send(&ada, &app, "GET", &member_path(id), None).await.1["expired"], true);

    let (status, body) = send(&ada, &app, "PUT", &member_path(id), Some(json!({"reinvite": true}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["reason"], "conflict");
    assert_eq!(body["details"], "You cannot resend an expired invitation without regenerating it.");
    assert_eq!(app.sql_i64(&format!("SELECT token_expires_at FROM members WHERE id = {id}")).await, 1);
    assert_eq!(app.mails_to("bob@example.com").await.len(), 1, "nothing was mailed");

    let (status, body) = send(&ada, &app, "PUT", &member_path(id), Some(json!({"regenerate": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expired"], false);
    let (status, body) = send(&app.other_client(), &app, "GET", &accept_path(&old_link), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")), "{body}");
    let token = new_token(&app, id, &old_token).await;
    let bob = app.user("bob@example.com", "Bob").await;
    let path = format!("/api/0/accept-invite/{id}/{token}/");
    assert_eq!(send(&bob, &app, "GET", &path, None).await.0, StatusCode::OK);
    let (status, body) = send(&bob, &app, "POST", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

// ---------------------------------------------------------------------------------------
// The default role (SPEC §5.1).

#[tokio::test]
async fn an_invite_without_a_role_gets_the_organizations_default_role() {
    let (app, ada) = app_with_owner().await;
    let (status, body) =
        send(&ada, &app, "PUT", "/api/0/organizations/acme/", Some(json!({"defaultRole": "manager"}))).await;
    assert_eq!((status, body["defaultRole"].as_str()), (StatusCode::OK, Some("manager")), "{body}");
    let (status, invited) =
        send(&ada, &app, "POST", "/api/0/organizations/acme/members/", Some(json!({"email": "bob@example.com"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(invited["role"], "manager");
    assert_eq!(role_of(&app, invited["id"].as_i64().unwrap()).await.as_deref(), Some("manager"));
}

// ---------------------------------------------------------------------------------------
// Refusals change nothing (SPEC §5.10).

#[tokio::test]
async fn a_plain_member_cannot_remove_change_roles_manage_teams_or_read_the_audit_log() {
    let (app, ada) = app_with_owner().await;
    send(&ada, &app, "POST", "/api/0/organizations/acme/teams/", Some(json!({"name": "Backend"}))).await;
    let (mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let (_sam, sam_id) = join(&app, &ada, "sam@example.com", "Sam", "member").await;

    let (status, _) = send(&mel, &app, "DELETE", &member_path(sam_id), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "remove another member");
    for (target, role) in [(sam_id, "manager"), (mel_id, "owner"), (mel_id, "manager")] {
        let (status, _) = send(&mel, &app, "PUT", &member_path(target), Some(json!({"role": role}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "make {target} {role}");
    }
    let (status, _) =
        send(&mel, &app, "POST", "/api/0/organizations/acme/teams/", Some(json!({"name": "Rogue"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "create a team");
    for target in [sam_id, mel_id] {
        let (status, _) = send(&mel, &app, "POST", &team_path(target, "backend"), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "assign {target} to a team");
    }
    let (status, _, _) = page(&app, &mel, "/api/0/organizations/acme/audit-logs/", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "read the audit log");

    assert_eq!(role_of(&app, sam_id).await.as_deref(), Some("member"));
    assert_eq!(role_of(&app, mel_id).await.as_deref(), Some("member"));
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM teams").await, 1);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM team_members").await, 0);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE event IN ('member.edit', 'member.remove')").await, 0);
}

#[tokio::test]
async fn a_manager_can_neither_make_an_owner_nor_demote_or_remove_one() {
    let (app, ada) = app_with_owner().await;
    let ada_id = membership_id(&app, "ada@example.com").await;
    let (_bea, bea_id) = join(&app, &ada, "bea@example.com", "Bea", "owner").await;
    let (max, max_id) = join(&app, &ada, "max@example.com", "Max", "manager").await;
    let (_mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;

    for (target, role) in [(mel_id, "owner"), (max_id, "owner"), (bea_id, "member"), (ada_id, "manager")] {
        let (status, body) = send(&max, &app, "PUT", &member_path(target), Some(json!({"role": role}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "make {target} {role}: {body}");
    }
    for target in [bea_id, ada_id] {
        let (status, body) = send(&max, &app, "DELETE", &member_path(target), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "remove owner {target}: {body}");
    }
    for (id, role) in [(ada_id, "owner"), (bea_id, "owner"), (max_id, "manager"), (mel_id, "member")] {
        assert_eq!(role_of(&app, id).await.as_deref(), Some(role), "member {id}");
    }
}

#[tokio::test]
async fn the_last_owner_can_neither_leave_nor_be_demoted_nor_be_removed() {
    let (app, ada) = app_with_owner().await;
    let ada_id = membership_id(&app, "ada@example.com").await;
    join(&app, &ada, "max@example.com", "Max", "manager").await;
    let attempts = [
        ("DELETE", LEAVE.to_owned(), None),
        ("PUT", member_path(ada_id), Some(json!({"role": "manager"}))),
        ("PUT", member_path(ada_id), Some(json!({"role": "member"}))),
        ("DELETE", member_path(ada_id), None),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = send(&ada, &app, method, &path, body.clone()).await;
        assert_eq!(
            (status, answer["reason"].as_str()),
            (StatusCode::CONFLICT, Some("last_owner")),
            "{method} {path} {body:?}: {answer}"
        );
        assert_eq!(role_of(&app, ada_id).await.as_deref(), Some("owner"));
    }
    let (status, org) = send(&ada, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!((status, org["role"].as_str()), (StatusCode::OK, Some("owner")));
}

#[tokio::test]
async fn a_transfer_is_refused_to_non_owners_wrong_or_missing_passwords_invites_and_oneself() {
    let (app, ada) = app_with_owner().await;
    let ada_id = membership_id(&app, "ada@example.com").await;
    let (max, max_id) = join(&app, &ada, "max@example.com", "Max", "manager").await;
    let (_mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let bob_id = app.invite(&ada, ORG, "bob@example.com", "member").await;

    let (status, body) =
        send(&max, &app, "POST", TRANSFER, Some(json!({"memberId": mel_id, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a manager: {body}");
    let (status, body) =
        send(&ada, &app, "POST", TRANSFER, Some(json!({"memberId": mel_id, "password": "not-my-password-7"}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("wrong_password")), "{body}");
    let (status, body) = send(&ada, &app, "POST", TRANSFER, Some(json!({"memberId": mel_id}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["password"].is_array(), "a message at the password field: {body}");
    for id in [bob_id, 999_999] {
        let (status, body) =
            send(&ada, &app, "POST", TRANSFER, Some(json!({"memberId": id, "password": PASSWORD}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
    }
    let (status, body) =
        send(&ada, &app, "POST", TRANSFER, Some(json!({"memberId": ada_id, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "to oneself: {body}");

    for (id, role) in [(ada_id, "owner"), (max_id, "manager"), (mel_id, "member"), (bob_id, "member")] {
        assert_eq!(role_of(&app, id).await.as_deref(), Some(role), "member {id}");
    }
    assert_eq!(count(&app, "audit_log", "org.transfer-ownership").await, 0);
    assert_eq!(count(&app, "event_outbox", "organization.ownership_transferred").await, 0);
}

// ---------------------------------------------------------------------------------------
// Leaving (SPEC §5.10).

#[tokio::test]
async fn a_member_who_leaves_loses_the_organization_and_the_leave_is_audited() {
    let (app, ada) = app_with_owner().await;
    let (mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let (status, body) = send(&mel, &app, "DELETE", LEAVE, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(send(&mel, &app, "GET", "/api/0/organizations/acme/", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(&ada, &app, "GET", &member_path(mel_id), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(role_of(&app, mel_id).await, None);
    let left = audit(&app, &ada, &[("event", "member.leave")]).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["actor"]["email"], "mel@example.com");
}

#[tokio::test]
async fn an_owner_who_is_not_the_last_may_leave() {
    let (app, ada) = app_with_owner().await;
    let (bea, bea_id) = join(&app, &ada, "bea@example.com", "Bea", "owner").await;
    let (status, body) = send(&bea, &app, "DELETE", LEAVE, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(role_of(&app, bea_id).await, None);
    assert_eq!(owners(&app).await, 1);
    assert_eq!(send(&bea, &app, "GET", "/api/0/organizations/acme/", None).await.0, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// Transferring ownership (SPEC §5.10).

#[tokio::test]
async fn an_owner_hands_ownership_to_a_member_and_stays_as_manager() {
    let (app, ada) = app_with_owner().await;
    let ada_id = membership_id(&app, "ada@example.com").await;
    let (mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let (status, body) =
        send(&ada, &app, "POST", TRANSFER, Some(json!({"memberId": mel_id, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["id"].as_i64(), body["role"].as_str()), (Some(mel_id), Some("owner")));

    let (status, list) = send(&ada, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!(status, StatusCode::OK);
    let role = |id: i64| list.as_array().unwrap().iter().find(|m| m["id"] == id).map(|m| m["role"].clone());
    assert_eq!(role(ada_id), Some(json!("manager")));
    assert_eq!(role(mel_id), Some(json!("owner")));
    assert_eq!(send(&mel, &app, "GET", "/api/0/organizations/acme/", None).await.1["role"], "owner");
    assert_eq!(count(&app, "event_outbox", "organization.ownership_transferred").await, 1);
    assert_eq!(count(&app, "audit_log", "org.transfer-ownership").await, 1);
}

// ---------------------------------------------------------------------------------------
// Teams (SPEC §5.10).

#[tokio::test]
async fn teams_take_members_and_invites_and_an_invite_s_team_carries_into_the_membership() {
    let (app, ada) = app_with_owner().await;
    let (status, team) =
        send(&ada, &app, "POST", "/api/0/organizations/acme/teams/", Some(json!({"name": "Backend"}))).await;
    assert_eq!((status, team), (StatusCode::CREATED, json!({"slug": "backend", "name": "Backend"})));
    let (_, teams) = send(&ada, &app, "GET", "/api/0/organizations/acme/teams/", None).await;
    assert_eq!(teams, json!([{"slug": "backend", "name": "Backend"}]));

    let (_mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let (status, first) = send(&ada, &app, "POST", &team_path(mel_id, "backend"), None).await;
    assert_eq!((status, &first["teams"]), (StatusCode::CREATED, &json!(["backend"])), "{first}");
    let (status, again) = send(&ada, &app, "POST", &team_path(mel_id, "backend"), None).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first), "adding again changes nothing");

    let bob_id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let (status, invite) = send(&ada, &app, "POST", &team_path(bob_id, "backend"), None).await;
    assert_eq!((status, &invite["teams"]), (StatusCode::CREATED, &json!(["backend"])), "{invite}");
    let (link, _) = app.invite_link(bob_id).await;
    let bob = app.user("bob@example.com", "Bob").await;
    assert_eq!(send(&bob, &app, "POST", &accept_path(&link), None).await.0, StatusCode::NO_CONTENT);
    let (_, joined) = send(&ada, &app, "GET", &member_path(bob_id), None).await;
    assert_eq!((joined["pending"].as_bool(), &joined["teams"]), (Some(false), &json!(["backend"])), "{joined}");

    let (status, removed) = send(&ada, &app, "DELETE", &team_path(mel_id, "backend"), None).await;
    assert_eq!((status, &removed["teams"]), (StatusCode::OK, &json!([])), "{removed}");
    assert_eq!(send(&ada, &app, "GET", &member_path(mel_id), None).await.1["teams"], json!([]));

    let (status, _) = send(&ada, &app, "POST", &team_path(mel_id, "nope"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "unknown team");
    let zed = app.user("zed@example.com", "Zed").await;
    app.create_org(&zed, "Beta", "beta").await;
    let beta_invite = app.invite(&zed, "beta", "x@example.com", "member").await;
    let (status, _) = send(&ada, &app, "POST", &team_path(beta_invite, "backend"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another organization's member");
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM team_members WHERE member_id = {beta_invite}")).await, 0);
}

// ---------------------------------------------------------------------------------------
// Paging (SPEC §3).

#[tokio::test]
async fn the_member_list_pages_every_membership_then_every_invite_exactly_once() {
    let (app, ada) = app_with_owner().await;
    let org = org_id(&app, ORG).await;
    let ada_uid = user_id(&app, "ada@example.com").await;
    let now = gatehouse::server::db::now();
    // 199 invites first, then 50 memberships (with higher ids: memberships still come first),
    // and three invite requests, which are not in this list.
    let invites: Vec<String> = (0..199)
        .map(|i| {
            format!(
                "({org}, 'p{i:03}@example.com', 'member', {ada_uid}, 'approved', '{i:064x}', {}, {now}, 0)",
                now + 30 * 86_400
            )
        })
        .collect();
    app.sql_exec(&format!(
        "INSERT INTO members (organization_id, email, role, inviter_id, invite_status, token_hash, token_expires_at, \
         created_at, token_generation) VALUES {}",
        invites.join(", ")
    ))
    .await;
    let users: Vec<String> = (0..50).map(|i| format!("('u{i:02}@example.com', 'User {i}', {now})")).collect();
    app.sql_exec(&format!("INSERT INTO users (email, name, created_at) VALUES {}", users.join(", "))).await;
    app.sql_exec(&format!(
        "INSERT INTO members (organization_id, user_id, role, invite_status, created_at) \
         SELECT {org}, id, 'member', 'approved', {now} FROM users WHERE email LIKE 'u%@example.com'"
    ))
    .await;
    let requests: Vec<String> = (0..3)
        .map(|i| format!("({org}, 'r{i}@example.com', 'member', {ada_uid}, 'requested_to_be_invited', {now})"))
        .collect();
    app.sql_exec(&format!(
        "INSERT INTO members (organization_id, email, role, inviter_id, invite_status, created_at) VALUES {}",
        requests.join(", ")
    ))
    .await;
    let expected = ids(
        &app,
        &format!(
            "SELECT id FROM members WHERE organization_id = {org} AND invite_status = 'approved' \
             ORDER BY CASE WHEN user_id IS NULL THEN 1 ELSE 0 END, id"
        ),
    )
    .await;
    assert_eq!(expected.len(), 250);

    let path = "/api/0/organizations/acme/members/";
    assert_walks(&app, &ada, path, &[], &expected).await;
    assert_bad_paging_refused(&app, &ada, path).await;
}

#[tokio::test]
async fn the_audit_log_pages_every_entry_newest_first_exactly_once() {
    let (app, ada) = app_with_owner().await;
    app.create_org(&ada, "Beta", "beta").await;
    let (org, beta) = (org_id(&app, ORG).await, org_id(&app, "beta").await);
    let ada_uid = user_id(&app, "ada@example.com").await;
    let now = gatehouse::server::db::now();
    let existing = app.sql_i64(&format!("SELECT COUNT(*) FROM audit_log WHERE organization_id = {org}")).await;
    // Entries of both organizations, interleaved: only acme's are listed.
    let rows: Vec<String> = (0..(250 - existing) * 2)
        .map(|i| format!("({}, {ada_uid}, 'org.edit', '{{}}', {now})", if i % 2 == 0 { org } else { beta }))
        .collect();
    app.sql_exec(&format!(
        "INSERT INTO audit_log (organization_id, actor_id, event, data, created_at) VALUES {}",
        rows.join(", ")
    ))
    .await;
    let expected = ids(&app, &format!("SELECT id FROM audit_log WHERE organization_id = {org} ORDER BY id DESC")).await;
    assert_eq!(expected.len(), 250);

    let path = "/api/0/organizations/acme/audit-logs/";
    assert_walks(&app, &ada, path, &[], &expected).await;
    assert_bad_paging_refused(&app, &ada, path).await;
    // A filter holds on every page.
    let edits = walk(&app, &ada, path, &[("event", "org.edit")], 7).await;
    let expected_edits = ids(
        &app,
        &format!("SELECT id FROM audit_log WHERE organization_id = {org} AND event = 'org.edit' ORDER BY id DESC"),
    )
    .await;
    assert_eq!(ids_of(&edits), expected_edits);
}

// ---------------------------------------------------------------------------------------
// The audit log: notes, filters, addresses.

#[tokio::test]
async fn audit_entries_read_as_sentences_and_filter_by_event_and_actor() {
    let (app, ada) = app_with_owner().await;
    let id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let entries = audit(&app, &ada, &[]).await;
    assert!(
        entries
            .iter()
            .any(|e| e["note"].as_str().is_some_and(|n| n.contains("Ada Owner invited bob@example.com as member"))),
        "{entries:?}"
    );
    let (link, _) = app.invite_link(id).await;
    let bob = app.user("bob@example.com", "Bob").await;
    assert_eq!(send(&bob, &app, "POST", &accept_path(&link), None).await.0, StatusCode::NO_CONTENT);
    let entries = audit(&app, &ada, &[]).await;
    assert!(
        entries.iter().any(|e| e["note"].as_str().is_some_and(|n| n.contains("Bob joined") && n.contains("Ada Owner"))),
        "{entries:?}"
    );
    assert!(entries.iter().all(|e| e["note"].as_str().is_some_and(|n| !n.is_empty())), "every entry has a note");

    let invites = audit(&app, &ada, &[("event", "member.invite")]).await;
    assert!(!invites.is_empty());
    assert!(invites.iter().all(|e| e["event"] == "member.invite"), "{invites:?}");
    let bob_uid = user_id(&app, "bob@example.com").await.to_string();
    let by_bob = audit(&app, &ada, &[("actor", bob_uid.as_str())]).await;
    assert!(!by_bob.is_empty());
    assert!(by_bob.iter().all(|e| e["actor"]["id"] == bob_uid.as_str()), "{by_bob:?}");
    assert!(entries.len() > by_bob.len(), "the filter left Ada's entries out");

    assert_eq!(audit(&app, &ada, &[("event", "no.such-event")]).await, Vec::<Value>::new());
    let (status, _, body) = page(&app, &ada, "/api/0/organizations/acme/audit-logs/", &[("actor", "bob")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn audit_entries_carry_the_client_address_for_the_api_and_for_pages() {
    let (app, ada) = app_with_owner().await;
    app.invite(&ada, ORG, "bob@example.com", "member").await;
    // The members page's invite form, posted without JavaScript.
    let res = app
        .post_form_nojs(
            &ada,
            "/_fn/orgs/invite",
            "/organizations/acme/members/",
            &[("slug", ORG), ("email", "carol@example.com"), ("role", "member")],
        )
        .await;
    assert!([StatusCode::FOUND, StatusCode::SEE_OTHER].contains(&res.status()), "{}", res.status());
    let invites = audit(&app, &ada, &[("event", "member.invite")]).await;
    for email in ["bob@example.com", "carol@example.com"] {
        let entry = invites
            .iter()
            .find(|e| e["data"]["email"] == email || e["note"].as_str().is_some_and(|n| n.contains(email)))
            .unwrap_or_else(|| panic!("no invite entry for {email}: {invites:?}"));
        assert_eq!(entry["ipAddress"], "127.0.0.1", "{email}: {entry}");
    }
}

// ---------------------------------------------------------------------------------------
// Owners racing each other (SPEC §5.10).

/// Three owners and a member; forty requests at once in which every owner demotes and
/// removes another, leaves, and hands ownership on. `backwards` turns who targets whom
/// around; `round` shifts which owner does what. A transfer checks the password under the sign-in
/// limits, so some may be limited (429); none may fail (5xx) or be malformed (400).
async fn owners_racing(round: usize, backwards: bool) {
    let (app, ada) = app_with_owner().await;
    let ada_id = membership_id(&app, "ada@example.com").await;
    let (bea, bea_id) = join(&app, &ada, "bea@example.com", "Bea", "owner").await;
    let (cal, cal_id) = join(&app, &ada, "cal@example.com", "Cal", "owner").await;
    let (_dan, dan_id) = join(&app, &ada, "dan@example.com", "Dan", "member").await;
    let owners_now = [(&ada, ada_id), (&bea, bea_id), (&cal, cal_id)];
    let mut requests = Vec::new();
    for i in 0..40 {
        let actor = owners_now[i % 3].0;
        let target = owners_now[if backwards { (i + 2) % 3 } else { (i + 1) % 3 }].1;
        requests.push(match (i / 3 + round) % 5 {
            0 => actor.put(app.url(&member_path(target))).json(&json!({"role": "member"})),
            1 => actor.delete(app.url(&member_path(target))),
            2 => actor.delete(app.url(LEAVE)),
            3 => actor.post(app.url(TRANSFER)).json(&json!({"memberId": dan_id, "password": PASSWORD})),
            _ => actor.post(app.url(TRANSFER)).json(&json!({"memberId": target, "password": PASSWORD})),
        });
    }
    let answers = all_at_once(requests).await;
    let statuses = tally(&answers);
    assert!(
        statuses.iter().all(|(status, _)| [200, 204, 403, 404, 409, 429].contains(status)),
        "round {round}, backwards {backwards}: {statuses:?} {:?}",
        answers.iter().filter(|(s, _, _)| s.is_server_error() || *s == StatusCode::BAD_REQUEST).collect::<Vec<_>>()
    );
    assert!(
        statuses.iter().any(|(status, _)| [200, 204].contains(status)),
        "round {round}, backwards {backwards}: the race changed nothing: {statuses:?}"
    );
    assert!(owners(&app).await >= 1, "round {round}, backwards {backwards}: no owner left after {statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_demotions_removals_leaves_and_transfers_among_owners_always_leave_an_owner() {
    for round in 0..3 {
        owners_racing(round, false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_race_with_every_owner_targeting_the_other_neighbour_leaves_an_owner() {
    for round in 0..3 {
        owners_racing(round, true).await;
    }
}

// ---------------------------------------------------------------------------------------
// Events (SPEC §8).

#[tokio::test]
async fn removals_role_changes_leaves_and_revokes_write_their_events() {
    let (app, ada) = app_with_owner().await;
    let org = org_id(&app, ORG).await;
    let (_mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let (_max, max_id) = join(&app, &ada, "max@example.com", "Max", "member").await;
    let (sam, _) = join(&app, &ada, "sam@example.com", "Sam", "member").await;
    let bob_id = app.invite(&ada, ORG, "bob@example.com", "member").await;
    let events = |event: &'static str| {
        let app = &app;
        async move {
            app.sql_i64(&format!(
                "SELECT COUNT(*) FROM event_outbox WHERE organization_id = {org} AND event = '{event}'"
            ))
            .await
        }
    };
    for event in ["member.removed", "member.role_changed", "member.left", "invite.revoked"] {
        assert_eq!(events(event).await, 0, "{event} before");
    }
    assert_eq!(send(&ada, &app, "DELETE", &member_path(mel_id), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(events("member.removed").await, 1);
    let (status, _) = send(&ada, &app, "PUT", &member_path(max_id), Some(json!({"role": "manager"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events("member.role_changed").await, 1);
    assert_eq!(send(&sam, &app, "DELETE", LEAVE, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(events("member.left").await, 1);
    assert_eq!(send(&ada, &app, "DELETE", &member_path(bob_id), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(events("invite.revoked").await, 1);
    assert_eq!(events("member.removed").await, 1, "a revoke is not a removal");
}

// ---------------------------------------------------------------------------------------
// Cross-site requests (SPEC §9.1).

#[tokio::test]
async fn leaving_and_transferring_from_another_site_are_refused_and_change_nothing() {
    let (app, ada) = app_with_owner().await;
    let ada_id = membership_id(&app, "ada@example.com").await;
    let (mel, mel_id) = join(&app, &ada, "mel@example.com", "Mel", "member").await;
    let res = mel.delete(app.url(LEAVE)).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = ada
        .post(app.url(TRANSFER))
        .header("origin", "https://evil.example")
        .json(&json!({"memberId": mel_id, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(role_of(&app, mel_id).await.as_deref(), Some("member"));
    assert_eq!(role_of(&app, ada_id).await.as_deref(), Some("owner"));
    assert_eq!(
        count(&app, "audit_log", "member.leave").await + count(&app, "audit_log", "org.transfer-ownership").await,
        0
    );
}

// ---------------------------------------------------------------------------------------
// Found in review: an owner-role invite is an owner's to change; deleting an account
// races a transfer; switching accounts leaves nothing of the old session behind.

#[tokio::test]
async fn a_manager_cannot_resend_regenerate_or_revoke_an_invite_for_an_owner() {
    let (app, ada) = app_with_owner().await;
    let (max, _) = join(&app, &ada, "max@example.com", "Max", "manager").await;
    let id = app.invite(&ada, ORG, "olive@example.com", "owner").await;
    for body in [json!({"reinvite": true}), json!({"regenerate": true})] {
        let (status, answer) = send(&max, &app, "PUT", &member_path(id), Some(body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
    }
    assert_eq!(send(&max, &app, "DELETE", &member_path(id), None).await.0, StatusCode::FORBIDDEN);
    let (status, invite) = send(&ada, &app, "GET", &member_path(id), None).await;
    assert_eq!(status, StatusCode::OK, "the invite is still there: {invite}");
    assert_eq!(invite["role"], "owner");
    // Its owner may.
    assert_eq!(send(&ada, &app, "DELETE", &member_path(id), None).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn deleting_an_account_while_being_made_the_only_owner_never_leaves_the_organization_ownerless() {
    for round in 0..6 {
        let (app, ada) = app_with_owner().await;
        let (bob, bob_id) = join(&app, &ada, "bob@example.com", "Bob", "manager").await;
        join(&app, &ada, "cy@example.com", "Cy", "member").await;
        let answers = all_at_once(vec![
            ada.post(app.url(TRANSFER)).json(&json!({"memberId": bob_id, "password": PASSWORD})),
            bob.delete(app.url("/api/0/users/me/")).json(&json!({"password": PASSWORD})),
        ])
        .await;
        let owners = app
            .sql_i64(
                "SELECT COUNT(*) FROM members m JOIN organizations o ON o.id = m.organization_id \
                 WHERE o.slug = 'acme' AND m.role = 'owner' AND m.user_id IS NOT NULL",
            )
            .await;
        assert!(owners >= 1, "round {round}: no owner left after {:?}", tally(&answers));
        assert!(answers.iter().all(|(s, _, _)| !s.is_server_error()), "round {round}: {:?}", tally(&answers));
    }
}
