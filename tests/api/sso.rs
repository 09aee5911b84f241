//! Single sign-on through a real OpenID Connect provider (`idp.rs`): configuration,
//! the code flow, every refused ID token, identity linking, and invites accepted on the
//! way back (SPEC §3 `auth-provider`, §5.2, §5.3 step 7, §5.5).

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::harness::{send, spawn_app, TestApp, PASSWORD};
use crate::idp::{self, Idp};

const OWNER_IDP_PASSWORD: &str = "owner-idp-password";

/// An app with organization `acme` (owner signed in `owner`), a provider, and the owner's
/// directory entry at it.
async fn setup() -> (TestApp, Idp, Client) {
    let app = spawn_app().await;
    let owner = app.user("owner@example.com", "Olive Owner").await;
    app.create_org(&owner, "Acme", "acme").await;
    let idp = Idp::start(&app).await;
    idp.add_user("owner-0001", "owner@idp.test", true, "Olive Owner", OWNER_IDP_PASSWORD).await;
    (app, idp, owner)
}

async fn configure(app: &TestApp, idp: &Idp, owner: &Client, require: bool, jit: bool) {
    let (status, body) =
        send(owner, app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(idp.settings(false, jit))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    if require {
        link_owner(app, idp, owner).await;
        let (status, body) =
            send(owner, app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(json!({"requireSso": true})))
                .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

async fn link_owner(app: &TestApp, idp: &Idp, owner: &Client) {
    let done = idp::link(app, idp, owner, "acme", PASSWORD, "owner@idp.test", OWNER_IDP_PASSWORD).await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/organizations/acme/"));
}

/// Hal, who joined `acme` by invite before its owner (linked) made single sign-on required.
async fn member_of_a_required_sso_org(app: &TestApp, idp: &Idp, owner: &Client) -> Client {
    configure(app, idp, owner, false, false).await;
    let id = app.invite(owner, "acme", "hal@example.com", "member").await;
    let (page, _) = app.invite_link(id).await;
    let hal = app.user("hal@example.com", "Hal").await;
    let (status, _) =
        send(&hal, app, "POST", &format!("/api/0{}", page.replacen("/accept/", "/accept-invite/", 1)), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    link_owner(app, idp, owner).await;
    let (status, _) =
        send(owner, app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(json!({"requireSso": true}))).await;
    assert_eq!(status, StatusCode::OK);
    hal
}

/// The sign-in page of `acme` as the client sees it (shows and clears the last notice).
async fn sso_page(app: &TestApp, client: &Client) -> String {
    let res = client.get(app.url("/auth/login/acme/")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql_i64(sql).await
}

#[tokio::test]
async fn an_owner_connects_a_provider_whose_secret_is_write_only_sealed_and_audited() {
    let (app, idp, owner) = setup().await;
    let path = "/api/0/organizations/acme/auth-provider/";
    let (status, _) = send(&owner, &app, "GET", path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no provider yet");

    // Bad input: every field named, nothing saved.
    let (status, body) =
        send(&owner, &app, "PUT", path, Some(json!({"issuer": "http://idp.example.com", "clientId": " "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["issuer"][0].as_str().unwrap().contains("https://"), "{body}");
    for field in ["clientId", "clientSecret", "displayName"] {
        assert!(body[field].is_array(), "{field} in {body}");
    }
    let (status, body) = send(&owner, &app, "PUT", path, Some(json!({"issuer": 7}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // An issuer without a discovery document is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut wrong = idp.settings(false, false);
    wrong["issuer"] = json!(format!("http://{closed}"));
    let (status, body) = send(&owner, &app, "PUT", path, Some(wrong)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["issuer"][0].as_str().unwrap().contains("openid-configuration"), "{body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM auth_providers").await, 0);

    // Requiring SSO before the owner has linked an identity would lock them out.
    let (status, body) = send(&owner, &app, "PUT", path, Some(idp.settings(true, false))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["requireSso"][0].as_str().unwrap().contains("link your own account"), "{body}");

    let (status, body) = send(&owner, &app, "PUT", path, Some(idp.settings(false, false))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["issuer"], json!(idp.issuer));
    assert_eq!(body["clientSecretSet"], json!(true));
    assert_eq!(body["redirectUri"], json!(app.url("/auth/sso/callback/")));
    assert!(body.get("clientSecret").is_none(), "the secret is write-only: {body}");
    let (_, read) = send(&owner, &app, "GET", path, None).await;
    assert!(!read.to_string().contains(idp::CLIENT_SECRET));
    let stored: String = sqlx::query_scalar("SELECT client_secret_sealed FROM auth_providers")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains(idp::CLIENT_SECRET), "sealed at rest");

    // Others cannot see or change it.
    let member = app.user("member@example.com", "Mo Member").await;
    let (status, _) = send(&member, &app, "GET", path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a member: nothing to see");
    let id = app.invite(&owner, "acme", "manager@example.com", "manager").await;
    let manager = app.user("manager@example.com", "Max Manager").await;
    let (invite_path, _) = app.invite_link(id).await;
    let (status, _) = send(
        &manager,
        &app,
        "POST",
        &format!("/api/0{}", invite_path.replacen("/accept/", "/accept-invite/", 1)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&manager, &app, "PUT", path, Some(json!({"displayName": "Mine"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Link, require, change the secret only, remove: each audited, the secret never.
    link_owner(&app, &idp, &owner).await;
    let (status, body) =
        send(&owner, &app, "PUT", path, Some(json!({"requireSso": true, "clientSecret": "rotated-secret"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["youAreLinked"], json!(true));
    let (_, log) = send(&owner, &app, "GET", "/api/0/organizations/acme/audit-logs/", None).await;
    let events: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(
        events.contains(&"sso.enable") && events.contains(&"sso.edit") && events.contains(&"sso.identity-link"),
        "{events:?}"
    );
    let edit = log.as_array().unwrap().iter().find(|e| e["event"] == "sso.edit").unwrap();
    assert_eq!(edit["data"]["requireSso"], json!({"from": false, "to": true}));
    assert_eq!(edit["data"]["clientSecret"], json!("changed"));
    assert!(!log.to_string().contains("rotated-secret") && !log.to_string().contains(idp::CLIENT_SECRET));

    let (status, _) = send(&owner, &app, "DELETE", path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&owner, &app, "GET", path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM auth_identities").await, 0, "identities unlinked");
    let (_, log) = send(&owner, &app, "GET", "/api/0/organizations/acme/audit-logs/", None).await;
    assert_eq!(log[0]["event"], json!("sso.disable"));
}

#[tokio::test]
async fn the_code_flow_links_a_signed_in_user_and_signs_them_in_later() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, false).await;
    link_owner(&app, &idp, &owner).await;
    let (status, ids) = send(&owner, &app, "GET", "/api/0/users/me/identities/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids[0]["organization"]["slug"], json!("acme"));
    assert_eq!(ids[0]["email"], json!("owner@idp.test"));
    assert_eq!(ids[0]["provider"], json!("Acme SSO"));

    // A new browser signs in through the provider alone, to the linked account.
    let browser = app.other_client();
    let done = idp::sign_in(&app, &idp, &browser, "acme", "owner@idp.test", OWNER_IDP_PASSWORD).await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/organizations/acme/"));
    let (_, me) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(me["email"], json!("owner@example.com"));

    // The provider's directory entry cannot be linked to a second account.
    let other = app.user("other@example.com", "Otto Other").await;
    let done = idp::sign_in(&app, &idp, &other, "acme", "owner@idp.test", OWNER_IDP_PASSWORD).await;
    assert_eq!(done.location, "/auth/login/acme/");
    assert!(sso_page(&app, &other).await.contains("linked to another account"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM auth_identities").await, 1);
}

#[tokio::test]
async fn every_kind_of_bad_id_token_is_refused_and_changes_nothing() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, true).await;
    idp.add_user("ada-9", "ada9@idp.test", true, "Ada Nine", "ada-pass").await;
    let users_before = app.user_count().await;
    for (mode, problem) in [
        ("bad_signature", "signature"),
        ("wrong_audience", "audience"),
        ("wrong_issuer", "issuer"),
        ("expired", "expired"),
        ("wrong_nonce", "nonce"),
    ] {
        idp.tamper(mode).await;
        let browser = app.other_client();
        let done = idp::sign_in(&app, &idp, &browser, "acme", "ada9@idp.test", "ada-pass").await;
        assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/auth/login/acme/"), "{mode}");
        let page = sso_page(&app, &browser).await;
        assert!(page.contains(&format!("could not be verified ({problem})")), "{mode}: {page}");
        let (status, _) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{mode}: not signed in");
        assert_eq!(app.user_count().await, users_before, "{mode}: no account");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM auth_identities").await, 0, "{mode}: nothing linked");
    }
    // The same person with honest tokens gets in (just-in-time membership is on).
    idp.tamper("none").await;
    let browser = app.other_client();
    let done = idp::sign_in(&app, &idp, &browser, "acme", "ada9@idp.test", "ada-pass").await;
    assert_eq!(done.location, "/organizations/acme/");
    assert_eq!(app.user_count().await, users_before + 1);
}

#[tokio::test]
async fn a_replayed_missing_or_foreign_state_is_refused() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, false).await;
    let done = idp::link(&app, &idp, &owner, "acme", PASSWORD, "owner@idp.test", OWNER_IDP_PASSWORD).await;
    assert_eq!(done.location, "/organizations/acme/");

    // The same callback again: the flow was used up.
    let res = owner.get(&done.url).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/auth/login/acme/");
    assert!(sso_page(&app, &owner).await.contains("already been used or has expired"));

    // In another browser, which started nothing: refused, sent to the login page.
    let stranger = app.other_client();
    let res = stranger.get(&done.url).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.headers()["location"], "/auth/login/");
    let login =
        stranger.get(app.url("/auth/login/")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(login.contains("already been used or has expired"), "{login}");

    // A flow started here but answered with another state.
    let browser = app.other_client();
    let res = idp::start(&app, &browser, "acme", idp::Intent::Login).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let forged = done.url.split("state=").next().unwrap().to_owned() + "state=forged";
    let res = browser.get(&forged).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/auth/login/acme/");
    let (status, _) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Garbage in the query is a refusal too, never a 500.
    let res = browser.get(app.url("/auth/sso/callback/?code=%ff&state[]=x")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM auth_identities").await, 1, "only the owner's identity");
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_again() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, false).await;
    link_owner(&app, &idp, &owner).await; // the key set is now cached
    idp.rotate().await;
    let browser = app.other_client();
    let done = idp::sign_in(&app, &idp, &browser, "acme", "owner@idp.test", OWNER_IDP_PASSWORD).await;
    assert_eq!(done.location, "/organizations/acme/", "a token signed with the new key is accepted");
}

#[tokio::test]
async fn details_report_optional_and_required_sso_and_accept_refuses_without_a_link() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, false).await;
    let id = app.invite(&owner, "acme", "carol@idp.test", "member").await;
    let (page, _) = app.invite_link(id).await;
    let api = format!("/api/0{}", page.replacen("/accept/", "/accept-invite/", 1));
    let anon = app.other_client();
    let (status, details) = send(&anon, &app, "GET", &api, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            details["hasAuthProvider"].clone(),
            details["requireSso"].clone(),
            details["needsSso"].clone(),
            details["ssoProvider"].clone()
        ),
        (json!(true), json!(false), json!(false), json!("Acme SSO"))
    );
    let html = anon.get(app.url(&page)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Join with Acme SSO") && html.contains("Create a new account"), "optional: both paths");

    // Required: the invite page offers only the provider; accepting without a link is refused.
    link_owner(&app, &idp, &owner).await;
    let (status, _) =
        send(&owner, &app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(json!({"requireSso": true}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, details) = send(&anon, &app, "GET", &api, None).await;
    assert_eq!((details["requireSso"].clone(), details["needsSso"].clone()), (json!(true), json!(true)));
    let html = anon.get(app.url(&page)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Join with Acme SSO") && !html.contains("Create a new account"), "required: only SSO");

    let carol = app.user("carol@idp.test", "Carol").await;
    let (_, details) = send(&carol, &app, "GET", &api, None).await;
    assert_eq!(details["needsSso"], json!(true));
    let (status, body) = send(&carol, &app, "POST", &api, None).await;
    assert_eq!(
        (status, body["reason"].clone()),
        (StatusCode::BAD_REQUEST, json!("needs_sso")),
        "never a silent success"
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM members WHERE id = {id} AND user_id IS NULL")).await,
        1,
        "still pending"
    );

    // Carol links through the provider: the invite waiting in her session is accepted.
    idp.add_user("carol-1", "carol@idp.test", true, "Carol", "carol-pass").await;
    let done = idp::link(&app, &idp, &carol, "acme", PASSWORD, "carol@idp.test", "carol-pass").await;
    assert_eq!(done.location, "/organizations/acme/");
    let (status, _) = send(&carol, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!(status, StatusCode::OK, "a member who signed in through the provider");
    let (_, body) = send(&carol, &app, "GET", &api, None).await;
    assert_eq!(body["reason"], json!("already_used"));
}

#[tokio::test]
async fn a_new_invitee_of_a_required_sso_organization_joins_through_the_provider() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, true, false).await;
    let id = app.invite(&owner, "acme", "dave@idp.test", "manager").await;
    let (page, _) = app.invite_link(id).await;
    idp.add_user("dave-1", "dave@idp.test", true, "Dave Newman", "dave-pass").await;

    let browser = app.other_client();
    let res = browser.get(app.url(&page)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let done = idp::sign_in(&app, &idp, &browser, "acme", "dave@idp.test", "dave-pass").await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/organizations/acme/"));
    let (_, me) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(
        (me["email"].clone(), me["name"].clone(), me["emailVerified"].clone(), me["hasPasswordAuth"].clone()),
        (json!("dave@idp.test"), json!("Dave Newman"), json!(true), json!(false))
    );
    let (status, org) = send(&browser, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!((status, org["role"].clone()), (StatusCode::OK, json!("manager")));
    let (_, log) = send(&owner, &app, "GET", "/api/0/organizations/acme/audit-logs/", None).await;
    let accepted = log.as_array().unwrap().iter().find(|e| e["event"] == "member.accept-invite").unwrap();
    assert_eq!(accepted["data"]["via"], json!("sso"));
    // An account made by the provider has no password to sign in with.
    let res = app
        .other_client()
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "dave@idp.test", "password": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_pending_invite_for_the_verified_email_becomes_a_membership_and_a_request_does_not() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, false).await;
    // An invite the person never opened here: found by the provider-verified address.
    app.invite(&owner, "acme", "erin@idp.test", "member").await;
    idp.add_user("erin-1", "erin@idp.test", true, "Erin", "erin-pass").await;
    let erin = app.other_client();
    let done = idp::sign_in(&app, &idp, &erin, "acme", "erin@idp.test", "erin-pass").await;
    assert_eq!(done.location, "/organizations/acme/");

    // An invite request stays a request until an owner or manager approves it (§5.7).
    let (status, body) = send(
        &owner,
        &app,
        "POST",
        "/api/0/organizations/acme/invite-requests/",
        Some(json!({"email": "frank@idp.test", "role": "manager"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    idp.add_user("frank-1", "frank@idp.test", true, "Frank", "frank-pass").await;
    let users = app.user_count().await;
    let frank = app.other_client();
    let done = idp::sign_in(&app, &idp, &frank, "acme", "frank@idp.test", "frank-pass").await;
    assert_eq!(done.location, "/auth/login/acme/");
    assert!(sso_page(&app, &frank).await.contains("has no invitation for frank@idp.test"));
    assert_eq!(app.user_count().await, users, "no account for a request");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM members WHERE invite_status = 'requested_to_be_invited'").await, 1);

    // Nobody invited, no just-in-time membership: no account is made.
    idp.add_user("gina-1", "gina@idp.test", true, "Gina", "gina-pass").await;
    let users = app.user_count().await;
    let gina = app.other_client();
    let done = idp::sign_in(&app, &idp, &gina, "acme", "gina@idp.test", "gina-pass").await;
    assert_eq!(done.location, "/auth/login/acme/");
    assert!(sso_page(&app, &gina).await.contains("has no invitation for gina@idp.test"));
    assert_eq!(app.user_count().await, users);

    // With just-in-time membership on, the default role.
    let (status, _) = send(
        &owner,
        &app,
        "PUT",
        "/api/0/organizations/acme/auth-provider/",
        Some(json!({"allowJitMembership": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let gina = app.other_client();
    let done = idp::sign_in(&app, &idp, &gina, "acme", "gina@idp.test", "gina-pass").await;
    assert_eq!(done.location, "/organizations/acme/");
    let (_, org) = send(&gina, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!(org["role"], json!("member"));
}

#[tokio::test]
async fn an_email_claim_never_takes_over_an_existing_account() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, true).await;
    let victim = app.user("victim@idp.test", "Victor Victim").await;
    drop(victim);
    // Someone at the provider (or a provider that lies) claims the victim's address.
    idp.add_user("attacker-1", "victim@idp.test", true, "Not Victor", "attacker-pass").await;
    let attacker = app.other_client();
    let done = idp::sign_in(&app, &idp, &attacker, "acme", "victim@idp.test", "attacker-pass").await;
    assert_eq!(done.location, "/auth/login/acme/");
    assert!(sso_page(&app, &attacker).await.contains("already exists. Sign in with your password first"));
    let (status, _) = send(&attacker, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not signed in as the victim");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM auth_identities").await, 0);

    // An unverified address creates nothing either (the provider's own Eve is unverified).
    let users = app.user_count().await;
    let eve = app.other_client();
    let done = idp::sign_in(&app, &idp, &eve, "acme", "eve@idp.test", "eve-password").await;
    assert_eq!(done.location, "/auth/login/acme/");
    assert!(sso_page(&app, &eve).await.contains("did not confirm an email address"));
    assert_eq!(app.user_count().await, users);
}

#[tokio::test]
async fn members_of_a_required_sso_organization_must_link_before_using_it() {
    let (app, idp, owner) = setup().await;
    let hal = member_of_a_required_sso_org(&app, &idp, &owner).await;

    let (status, body) = send(&hal, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!((status, body["reason"].clone()), (StatusCode::UNAUTHORIZED, json!("sso_required")));
    let html = hal
        .get(app.url("/organizations/acme/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("requires signing in with Acme SSO") && html.contains("/auth/login/acme/"), "{html}");
    let (status, _) = send(&owner, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!(status, StatusCode::OK, "the linked owner goes on");

    idp.add_user("hal-1", "hal@corp.test", true, "Hal", "hal-pass").await;
    let done = idp::link(&app, &idp, &hal, "acme", PASSWORD, "hal@corp.test", "hal-pass").await;
    assert_eq!(done.location, "/organizations/acme/");
    let (status, _) = send(&hal, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!(status, StatusCode::OK, "linked now");
}

#[tokio::test]
async fn an_account_with_two_factor_still_gives_its_code_after_the_provider() {
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, false).await;
    link_owner(&app, &idp, &owner).await;
    let (secret, _, _) = crate::harness::enrol_totp(&app, &owner).await;

    let browser = app.other_client();
    let done = idp::sign_in(&app, &idp, &browser, "acme", "owner@idp.test", OWNER_IDP_PASSWORD).await;
    assert_eq!(done.location, "/auth/2fa/");
    let (status, _) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not signed in before the second factor");
    let (status, body) =
        send(&browser, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": crate::harness::totp_code(&secret, 1)})))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], json!("owner@example.com"));
}

#[tokio::test]
async fn a_userinfo_answer_about_another_subject_is_refused() {
    // The provider runs in its default claim settings: `email` and `name` come only from
    // its UserInfo endpoint, which must speak of the ID token's subject.
    let (app, idp, owner) = setup().await;
    configure(&app, &idp, &owner, false, true).await;
    idp.add_user("ada-8", "ada8@idp.test", true, "Ada Eight", "ada-pass").await;
    let users = app.user_count().await;
    idp.tamper("userinfo_other_sub").await;
    let browser = app.other_client();
    let done = idp::sign_in(&app, &idp, &browser, "acme", "ada8@idp.test", "ada-pass").await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/auth/login/acme/"));
    let page = sso_page(&app, &browser).await;
    assert!(page.contains("could not be verified (userinfo subject)"), "{page}");
    let (status, _) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not signed in");
    assert_eq!(app.user_count().await, users, "no account");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM auth_identities").await, 0, "nothing linked");

    // Honest answers: the claims read from UserInfo make the account.
    idp.tamper("none").await;
    let browser = app.other_client();
    let done = idp::sign_in(&app, &idp, &browser, "acme", "ada8@idp.test", "ada-pass").await;
    assert_eq!(done.location, "/organizations/acme/");
    let (_, me) = send(&browser, &app, "GET", "/api/0/users/me/", None).await;
    assert_eq!(
        (me["email"].clone(), me["name"].clone(), me["emailVerified"].clone()),
        // A provider's word proves the address only in its own organization: the account
        // verifies it by mail like any other (else it would unlock other organizations'
        // invitations and domain-limited join links).
        (json!("ada8@idp.test"), json!("Ada Eight"), json!(false))
    );
    assert_eq!(app.verification_links("ada8@idp.test").await.len(), 1, "the verification mail is queued");
}

#[tokio::test]
async fn a_required_sign_in_is_the_same_refusal_through_both_doors() {
    let (app, idp, owner) = setup().await;
    let hal = member_of_a_required_sso_org(&app, &idp, &owner).await;

    let (status, body) = send(&hal, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::UNAUTHORIZED, Some("sso_required")), "{body}");
    let details = body["details"].as_str().unwrap().to_owned();
    assert!(details.contains("requires signing in with") && details.contains("/auth/login/acme/"), "{details}");
    let (fn_status, error) = crate::doors::call_fn(&hal, &app, "orgs/overview", &[("slug", "acme")]).await;
    assert_eq!(fn_status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["Refused"], json!({"details": details, "reason": "sso_required"}), "{error}");
}
