//! Attacks on the sign-in, invite and session paths (SPEC §4.3, §5.6, §5.7, §8, §9.1,
//! §9.5, §9.10): each test reproduces what an attacker could do and checks it no longer
//! works. The provider is the real `oidc-provider` of `idp.rs`.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::harness::{enrol_totp, send, session_cookie, spawn_app, spawn_app_with, Options, TestApp, PASSWORD};
use crate::idp::{self, Idp, Intent};
use gatehouse::server::domain::RegistrationMode;

/// `acme` owned by `owner@example.com`, connected to a fresh test provider (nobody linked).
async fn acme_with_provider(app: &TestApp, jit: bool) -> (Idp, Client) {
    let owner = app.user("owner@example.com", "Olive Owner").await;
    app.create_org(&owner, "Acme", "acme").await;
    let idp = Idp::start(app).await;
    idp.add_user("owner-0001", "owner@idp.test", true, "Olive Owner", "owner-idp-password").await;
    let (status, body) =
        send(&owner, app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(idp.settings(false, jit))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (idp, owner)
}

/// A member of `slug` with address `email`, signed in in its own client.
async fn member(app: &TestApp, owner: &Client, slug: &str, email: &str) -> Client {
    let id = app.invite(owner, slug, email, "member").await;
    let (page, _) = app.invite_link(id).await;
    let client = app.user(email, "Member").await;
    let (status, body) =
        send(&client, app, "POST", &format!("/api/0{}", page.replacen("/accept/", "/accept-invite/", 1)), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    client
}

async fn me(app: &TestApp, client: &Client) -> Option<String> {
    let (status, body) = send(client, app, "GET", "/api/0/users/me/", None).await;
    (status == StatusCode::OK).then(|| body["email"].as_str().unwrap_or_default().to_owned())
}

async fn identities_of(app: &TestApp, email: &str) -> i64 {
    app.sql_i64(&format!(
        "SELECT COUNT(*) FROM auth_identities i JOIN users u ON u.id = i.user_id WHERE u.email = '{email}'"
    ))
    .await
}

async fn sso_page(app: &TestApp, client: &Client, slug: &str) -> String {
    let res = client.get(app.url(&format!("/auth/login/{slug}/"))).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

/// §9.1: an attacker's organization points at a provider they control; a link on their
/// site sends a signed-in victim to "start". Afterwards the attacker must not be able to
/// sign in as the victim through their provider.
#[tokio::test]
async fn another_sites_navigation_to_start_neither_links_nor_signs_in() {
    let app = spawn_app().await;
    let mallory = app.user("mallory@example.com", "Mallory").await;
    app.create_org(&mallory, "Evil", "evil").await;
    let idp = Idp::start(&app).await;
    idp.add_user("mallory-1", "mallory@idp.test", true, "Mallory", "mallory-pass").await;
    let (status, body) =
        send(&mallory, &app, "PUT", "/api/0/organizations/evil/auth-provider/", Some(idp.settings(false, false))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let victim = app.user("victim@example.com", "Victor Victim").await;

    // A link or a redirect from the attacker's page: a cross-site GET navigation.
    let res = victim
        .get(app.url("/auth/login/evil/start/"))
        .header("sec-fetch-site", "cross-site")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let to = idp::location(&res);
    if to.starts_with(&idp.issuer) {
        // The provider session is the attacker's (a provider that signs anyone in as Mallory).
        idp::at_provider(&app, &idp, &victim, &to, "mallory@idp.test", "mallory-pass").await;
    }
    assert_eq!(identities_of(&app, "victim@example.com").await, 0, "nothing linked to the victim by a navigation");
    assert_eq!(
        (res.status(), to.as_str()),
        (StatusCode::SEE_OTHER, "/auth/login/evil/"),
        "a GET starts nothing: it shows the page"
    );

    // A form on the attacker's site posting to "start", with either intent.
    for form in [vec![("intent", "login")], vec![("intent", "link"), ("password", PASSWORD)]] {
        let res = victim
            .post(app.url("/auth/login/evil/start/"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "cross-site start with {form:?}");
    }
    assert_eq!(identities_of(&app, "victim@example.com").await, 0);

    // The attacker signs in through their provider: never as the victim.
    let attacker = app.other_client();
    idp::sign_in(&app, &idp, &attacker, "evil", "mallory@idp.test", "mallory-pass").await;
    assert_ne!(me(&app, &attacker).await.as_deref(), Some("victim@example.com"));
    assert_eq!(me(&app, &victim).await.as_deref(), Some("victim@example.com"), "the victim's own session is untouched");
}

/// §9.1: only a `link` intent, with the account's password, links an identity.
#[tokio::test]
async fn linking_needs_the_link_intent_and_the_accounts_password() {
    let app = spawn_app().await;
    let (idp, _owner) = acme_with_provider(&app, false).await;
    idp.add_user("hal-1", "hal@corp.test", true, "Hal", "hal-pass").await;
    let hal = app.user("hal@example.com", "Hal").await;

    // Signed in, the plain "Continue with" (intent login) does not link.
    idp::sign_in(&app, &idp, &hal, "acme", "hal@corp.test", "hal-pass").await;
    assert_eq!(identities_of(&app, "hal@example.com").await, 0, "a login intent never links");
    assert_eq!(me(&app, &hal).await.as_deref(), Some("hal@example.com"));

    // A wrong password starts nothing.
    let res = idp::start(&app, &hal, "acme", Intent::Link { password: "not-the-password" }).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(idp::location(&res), "/auth/login/acme/", "back to the page, not to the provider");
    assert!(sso_page(&app, &hal, "acme").await.contains("password"), "the page says why");
    assert_eq!(identities_of(&app, "hal@example.com").await, 0);

    // The right password links.
    let done = idp::link(&app, &idp, &hal, "acme", PASSWORD, "hal@corp.test", "hal-pass").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(identities_of(&app, "hal@example.com").await, 1);
    let (_, linked) = send(&hal, &app, "GET", "/api/0/users/me/identities/", None).await;
    assert_eq!(linked.as_array().map(Vec::len), Some(1), "{linked}");

    // The page holding the form lets it lead to the provider, and nowhere else.
    let res = hal.get(app.url("/auth/login/acme/")).header("accept", "text/html").send().await.unwrap();
    let policy = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let origin = url::Url::parse(&idp.issuer).unwrap().origin().ascii_serialization();
    assert!(policy.contains(&format!("form-action 'self' {origin};")), "{policy}");
    let res = hal.get(app.url("/auth/login/")).header("accept", "text/html").send().await.unwrap();
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("form-action 'self';"));

    // The owner of the account removes the link; it no longer signs in.
    let (status, _) = send(&hal, &app, "DELETE", "/api/0/users/me/identities/acme/", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(identities_of(&app, "hal@example.com").await, 0);
    let (status, _) = send(&hal, &app, "DELETE", "/api/0/users/me/identities/acme/", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let laptop = app.other_client();
    idp::sign_in(&app, &idp, &laptop, "acme", "hal@corp.test", "hal-pass").await;
    assert_ne!(me(&app, &laptop).await.as_deref(), Some("hal@example.com"));
}

/// §9.1: a link flow links the account that started it, not whoever is signed in when the
/// provider answers.
#[tokio::test]
async fn a_link_flow_links_only_the_account_that_started_it() {
    let app = spawn_app().await;
    let (idp, _owner) = acme_with_provider(&app, false).await;
    idp.add_user("hal-1", "hal@corp.test", true, "Hal", "hal-pass").await;
    let _ivy = app.user("ivy@example.com", "Ivy").await;
    let hal = app.user("hal@example.com", "Hal").await;
    let res = idp::start(&app, &hal, "acme", Intent::Link { password: PASSWORD }).await;
    let to = idp::location(&res);
    assert!(to.starts_with(&idp.issuer), "{to}");
    // Another account signs in in the same browser before the provider answers.
    let res = hal
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "ivy@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    idp::at_provider(&app, &idp, &hal, &to, "hal@corp.test", "hal-pass").await;
    assert_eq!(identities_of(&app, "ivy@example.com").await, 0, "not linked to the account that did not ask");
    assert_eq!(identities_of(&app, "hal@example.com").await, 0);
}

/// §5.7: a member asks for an owner invite for an address they hold at the provider; the
/// provider sign-in must not turn that request into an (owner) membership.
#[tokio::test]
async fn sso_never_turns_an_unapproved_request_into_a_membership() {
    let app = spawn_app().await;
    let (idp, owner) = acme_with_provider(&app, false).await;
    let mia = member(&app, &owner, "acme", "mia@example.com").await;
    let (status, body) = send(
        &mia,
        &app,
        "POST",
        "/api/0/organizations/acme/invite-requests/",
        Some(json!({"email": "mia2@idp.test", "role": "owner"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    idp.add_user("mia-2", "mia2@idp.test", true, "Mia Two", "mia2-pass").await;

    let other = app.other_client();
    idp::sign_in(&app, &idp, &other, "acme", "mia2@idp.test", "mia2-pass").await;
    let (status, _) = send(&other, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_ne!(status, StatusCode::OK, "the request did not make a membership");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM members WHERE invite_status = 'requested_to_be_invited' AND user_id IS NULL")
            .await,
        1
    );

    // With just-in-time membership: the default role, never the requested one.
    let (status, _) = send(
        &owner,
        &app,
        "PUT",
        "/api/0/organizations/acme/auth-provider/",
        Some(json!({"allowJitMembership": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let other = app.other_client();
    idp::sign_in(&app, &idp, &other, "acme", "mia2@idp.test", "mia2-pass").await;
    let (status, org) = send(&other, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!((status, org["role"].clone()), (StatusCode::OK, json!("member")), "{org}");
}

/// §9.10: a member linked long ago but signed in with a password may not use an
/// organization that requires SSO until they sign in through the provider in this session.
#[tokio::test]
async fn required_sso_needs_a_provider_sign_in_in_this_session() {
    let app = spawn_app().await;
    let (idp, owner) = acme_with_provider(&app, false).await;
    let done = idp::link(&app, &idp, &owner, "acme", PASSWORD, "owner@idp.test", "owner-idp-password").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let (status, body) =
        send(&owner, &app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(json!({"requireSso": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = send(&owner, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!(status, StatusCode::OK, "this session signed in through the provider");

    // The same account, another browser, a password sign-in only.
    let laptop = app.other_client();
    let res = laptop
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "owner@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = send(&laptop, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!(
        (status, body["reason"].clone()),
        (StatusCode::UNAUTHORIZED, json!("sso_required")),
        "a link is not a sign-in"
    );
    let done = idp::sign_in(&app, &idp, &laptop, "acme", "owner@idp.test", "owner-idp-password").await;
    assert_eq!(done.location, "/organizations/acme/");
    let (status, _) = send(&laptop, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!(status, StatusCode::OK);

    // Once the identity is unlinked, earlier sign-ins through it no longer count.
    let (status, _) = send(&laptop, &app, "DELETE", "/api/0/users/me/identities/acme/", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&owner, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!((status, body["reason"].clone()), (StatusCode::UNAUTHORIZED, json!("sso_required")));
}

/// §9.10: with registration closed, the provider creates accounts only for addresses that
/// hold an invite, even with just-in-time membership on.
#[tokio::test]
async fn accounts_created_through_a_provider_respect_closed_registration() {
    let app = spawn_app_with(Options { registration: Some(RegistrationMode::Closed), ..Options::default() }).await;
    let password = gatehouse::server::domain::Password::new(PASSWORD.to_owned());
    gatehouse::server::service::accounts::create_user(&app.state, "owner@example.com", "Olive Owner", &password, false)
        .await
        .unwrap();
    let owner = app.other_client();
    let res = owner
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "owner@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.create_org(&owner, "Acme", "acme").await;
    let idp = Idp::start(&app).await;
    let (status, body) =
        send(&owner, &app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(idp.settings(false, true))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    idp.add_user("gina-1", "gina@idp.test", true, "Gina", "gina-pass").await;
    idp.add_user("dave-1", "dave@idp.test", true, "Dave", "dave-pass").await;

    let users = app.user_count().await;
    let gina = app.other_client();
    let done = idp::sign_in(&app, &idp, &gina, "acme", "gina@idp.test", "gina-pass").await;
    assert_eq!(done.location, "/auth/login/acme/");
    assert_eq!(app.user_count().await, users, "no account without an invite");
    assert_eq!(me(&app, &gina).await, None);

    // An invite opened in this browser and revoked since is no way in either.
    let id = app.invite(&owner, "acme", "hank@idp.test", "member").await;
    let (page, _) = app.invite_link(id).await;
    idp.add_user("hank-1", "hank@idp.test", true, "Hank", "hank-pass").await;
    let hank = app.other_client();
    hank.get(app.url(&page)).header("accept", "text/html").send().await.unwrap();
    let (status, _) = send(&owner, &app, "DELETE", &format!("/api/0/organizations/acme/members/{id}/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let done = idp::sign_in(&app, &idp, &hank, "acme", "hank@idp.test", "hank-pass").await;
    assert_eq!(done.location, "/auth/login/acme/");
    assert_eq!(app.user_count().await, users, "a stale invite in the session makes no account");

    app.invite(&owner, "acme", "dave@idp.test", "member").await;
    let dave = app.other_client();
    let done = idp::sign_in(&app, &idp, &dave, "acme", "dave@idp.test", "dave-pass").await;
    assert_eq!(done.location, "/organizations/acme/");
    assert_eq!(me(&app, &dave).await.as_deref(), Some("dave@idp.test"));
}

/// §9.10: an owner may not send the stored client secret to a new issuer of their choice.
#[tokio::test]
async fn changing_the_issuer_needs_the_client_secret_again() {
    let app = spawn_app().await;
    let (_idp, owner) = acme_with_provider(&app, false).await;
    let other = Idp::start(&app).await;
    let (status, body) =
        send(&owner, &app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(json!({"issuer": other.issuer})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["clientSecret"].is_array(), "{body}");
    let (_, now) = send(&owner, &app, "GET", "/api/0/organizations/acme/auth-provider/", None).await;
    assert_ne!(now["issuer"], json!(other.issuer), "nothing changed");
    let mut with_secret = other.settings(false, false);
    with_secret.as_object_mut().unwrap().retain(|k, _| k == "issuer" || k == "clientSecret");
    let (status, body) = send(&owner, &app, "PUT", "/api/0/organizations/acme/auth-provider/", Some(with_secret)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// §9.10: the anonymous page cache decides "anonymous" as the session layer does: a
/// `Cookie` header the session layer reads as signed in never fills the cache.
#[tokio::test]
async fn the_anonymous_page_cache_cannot_be_poisoned_by_an_odd_cookie_header() {
    let app = spawn_app().await;
    let plain = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = plain
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "victim@example.com", "name": "Victor Victim", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = session_cookie(res.headers()).unwrap();
    for cookie in [
        format!("gatehouse_session ={id}"),
        format!(" gatehouse_session= {id}"),
        format!("x=1;gatehouse_session =\t{id}"),
    ] {
        // The first request for the page after a start fills the cache.
        let _ = plain
            .get(app.url("/auth/login/"))
            .header("cookie", cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let anonymous = plain.get(app.url("/auth/login/")).header("accept", "text/html").send().await.unwrap();
        let html = anonymous.text().await.unwrap();
        assert!(
            !html.contains("victim@example.com") && !html.contains("Victor Victim"),
            "an anonymous visitor got a signed-in render"
        );
    }
}

/// §9.5, §5.6, §8, §6: nothing at rest holds a usable invite token or a TOTP secret.
#[tokio::test]
async fn no_usable_raw_token_or_secret_at_rest() {
    let app = spawn_app().await;
    let owner = app.user("owner@example.com", "Olive Owner").await;
    app.create_org(&owner, "Acme", "acme").await;
    let id = app.invite(&owner, "acme", "bob@example.com", "member").await;
    let (page, token) = app.invite_link(id).await;
    let bob = app.other_client();
    let res = bob.get(app.url(&page)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let like = |table: &str, column: &str| format!("SELECT COUNT(*) FROM {table} WHERE {column} LIKE '%{token}%'");
    assert!(app.sql_i64("SELECT COUNT(*) FROM sessions").await > 0);
    assert_eq!(app.sql_i64(&like("sessions", "data")).await, 0, "the session keeps the token's hash, not the token");
    // Once the mail worker has marked it sent (it writes the file first).
    for _ in 0..100 {
        if app.sql_i64("SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'").await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.sql_i64(&like("mail_outbox", "body")).await, 0, "a sent mail's body is not kept");
    // The pending invite still works from the session: registering lands in the organization.
    let res = bob
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "bob@example.com", "name": "Bob", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (status, org) = send(&bob, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!((status, org["role"].clone()), (StatusCode::OK, json!("member")));

    // An enrolment offered but not confirmed yet keeps its secret sealed in the session.
    let (_, offer) = send(&owner, &app, "GET", "/api/0/users/me/authenticators/totp/enroll/", None).await;
    let offered = offer["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM sessions WHERE data LIKE '%{offered}%'")).await, 0);
    let (secret, _, _) = enrol_totp(&app, &owner).await;
    let stored: String =
        sqlx::query_scalar("SELECT secret FROM totp_authenticators").fetch_one(app.state.db.pool()).await.unwrap();
    assert!(
        !stored.contains(&secret) && !stored.to_uppercase().contains(&secret.to_uppercase()),
        "TOTP secrets are sealed"
    );
    // And the sealed secret still verifies codes.
    let login = app.other_client();
    let (status, body) = send(
        &login,
        &app,
        "POST",
        "/api/0/auth/login/",
        Some(json!({"username": "owner@example.com", "password": PASSWORD})),
    )
    .await;
    assert_eq!((status, body["2faRequired"].clone()), (StatusCode::OK, json!(true)));
    let (status, body) =
        send(&login, &app, "POST", "/api/0/auth/2fa/", Some(json!({"otp": crate::harness::totp_code(&secret, 1)})))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// §4.3 step 4: a link for another address, opened through another site's navigation, is
/// never accepted implicitly at registration or at 2FA enrolment (only by a Join click).
#[tokio::test]
async fn a_planted_invite_for_another_address_is_never_accepted_implicitly() {
    let app = spawn_app().await;
    let owner = app.user("owner@example.com", "Olive Owner").await;
    app.create_org(&owner, "Acme", "acme").await;
    let (status, body) =
        send(&owner, &app, "PUT", "/api/0/organizations/acme/", Some(json!({"allowEmailMismatch": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = app.invite(&owner, "acme", "someone@example.com", "member").await;
    let (page, _) = app.invite_link(id).await;

    // Registration.
    let victim = app.other_client();
    victim
        .get(app.url(&page))
        .header("accept", "text/html")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    let res = victim
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "victim@example.com", "name": "Victor", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (status, _) = send(&victim, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not joined to an organization by registering");

    // 2FA enrolment, in an organization that requires it.
    let (status, _) = send(&owner, &app, "PUT", "/api/0/organizations/acme/", Some(json!({"require2FA": true}))).await;
    assert_ne!(status, StatusCode::OK, "needs the owner's own 2FA first");
    enrol_totp(&app, &owner).await;
    let (status, body) =
        send(&owner, &app, "PUT", "/api/0/organizations/acme/", Some(json!({"require2FA": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = app.user("second@example.com", "Second").await;
    second
        .get(app.url(&page))
        .header("accept", "text/html")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    let (_, _, enrolled) = enrol_totp(&app, &second).await;
    let (status, _) = send(&second, &app, "GET", "/api/0/organizations/acme/", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not joined by enrolling: {enrolled}");

    // The user's own click on Join still works where the organization allows a mismatch.
    let (status, body) =
        send(&second, &app, "POST", &format!("/api/0{}", page.replacen("/accept/", "/accept-invite/", 1)), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// §4.3: self-registrants of the single organization get its default role, never owner.
#[tokio::test]
async fn single_organization_self_registrants_get_the_default_role() {
    let app = spawn_app_with(Options { single_org: Some("main"), ..Options::default() }).await;
    let first = app.user("first@example.com", "First").await;
    let (status, org) = send(&first, &app, "GET", "/api/0/organizations/main/", None).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["role"], json!("member"), "the first self-registrant is not made owner");
}

/// §5.7: requests and the requesters' addresses are for owners and managers only.
#[tokio::test]
async fn plain_members_do_not_see_requests_or_requesters() {
    let app = spawn_app().await;
    let owner = app.user("owner@example.com", "Olive Owner").await;
    app.create_org(&owner, "Acme", "acme").await;
    let (status, _) =
        send(&owner, &app, "PUT", "/api/0/organizations/acme/", Some(json!({"allowJoinRequests": true}))).await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .other_client()
        .post(app.url("/api/0/organizations/acme/join-request/"))
        .json(&json!({"email": "stranger@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mia = member(&app, &owner, "acme", "mia@example.com").await;
    let (status, body) = send(
        &mia,
        &app,
        "POST",
        "/api/0/organizations/acme/invite-requests/",
        Some(json!({"email": "friend@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, list) = send(&mia, &app, "GET", "/api/0/organizations/acme/members/", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = list.to_string();
    assert!(!text.contains("stranger@example.com") && !text.contains("friend@example.com"), "{text}");
    let (status, _) = send(&mia, &app, "GET", "/api/0/organizations/acme/invite-requests/", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let html = mia
        .get(app.url("/organizations/acme/members/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("stranger@example.com"), "the members page does not show requesters either");
    // The owner sees both.
    let (_, list) = send(&owner, &app, "GET", "/api/0/organizations/acme/invite-requests/", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let _: Value = list;
}

/// §9.1, §9.5: a provider's answer is used once, even when the browser (or someone holding
/// its cookie and the callback URL) sends it forty times at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_replays_of_one_callback_sign_in_and_create_once() {
    let app = spawn_app().await;
    let (idp, _owner) = acme_with_provider(&app, true).await;
    idp.add_user("nina-1", "nina@idp.test", true, "Nina", "nina-pass").await;
    let nina = app.other_client();
    let res = idp::start(&app, &nina, "acme", Intent::Login).await;
    let to = idp::location(&res);
    let callback = idp::callback_url(&app, &idp, &nina, &to, "nina@idp.test", "nina-pass").await;
    let users = app.user_count().await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(40));
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (client, url, barrier) = (nina.clone(), callback.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let res = client.get(&url).header("accept", "text/html").send().await.unwrap();
                (res.status(), idp::location(&res))
            })
        })
        .collect();
    let mut joined = 0;
    for task in tasks {
        let (status, location) = task.await.unwrap();
        assert_eq!(status, StatusCode::SEE_OTHER, "a refusal is a redirect with a notice, never an error");
        joined += usize::from(location == "/organizations/acme/");
    }
    assert_eq!(joined, 1, "exactly one answer signs in");
    assert_eq!(app.user_count().await, users + 1, "one account");
    assert_eq!(identities_of(&app, "nina@idp.test").await, 1);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'nina@idp.test'")
            .await,
        1
    );
}
