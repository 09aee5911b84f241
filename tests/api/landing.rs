//! `/` and the organization switcher start from the organization last opened (SPEC §2,
//! §5.10); "Switch accounts" keeps the invite (§5.6).

use reqwest::StatusCode;

use crate::harness::*;

fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

async fn start_page(app: &TestApp, client: &reqwest::Client) -> String {
    let res = client.get(app.url("/")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    location(&res)
}

async fn open(app: &TestApp, client: &reqwest::Client, path: &str) {
    let res = client.get(app.url(path)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
}

#[tokio::test]
async fn the_start_page_goes_to_the_organization_opened_last_and_skips_one_left_since() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com", "Ada").await;
    app.create_org(&ada, "Acme", "acme").await;
    app.create_org(&ada, "Beta", "beta").await;
    let bob = app.user("bob@example.com", "Bob").await;
    let id = app.invite(&ada, "beta", "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;
    let accept = link.replacen("/accept/", "/api/0/accept-invite/", 1);
    assert_eq!(bob.post(app.url(&accept)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    app.create_org(&bob, "Bob's", "bobs").await;

    // Without an organization opened yet: the oldest membership.
    assert_eq!(start_page(&app, &ada).await, "/organizations/acme/");
    open(&app, &ada, "/organizations/beta/members/").await;
    assert_eq!(start_page(&app, &ada).await, "/organizations/beta/");
    open(&app, &ada, "/organizations/acme/").await;
    assert_eq!(start_page(&app, &ada).await, "/organizations/acme/");

    // Bob opens Beta, then leaves it: the start page no longer offers it.
    open(&app, &bob, "/organizations/beta/").await;
    assert_eq!(start_page(&app, &bob).await, "/organizations/beta/");
    let left = bob.delete(app.url("/api/0/organizations/beta/members/me/")).send().await.unwrap();
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(start_page(&app, &bob).await, "/organizations/bobs/");
}

#[tokio::test]
async fn opening_an_organization_one_is_not_a_member_of_remembers_nothing() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com", "Ada").await;
    app.create_org(&ada, "Acme", "acme").await;
    let eve = app.user("eve@example.com", "Eve").await;
    app.create_org(&eve, "Evil", "evil").await;
    app.create_org(&eve, "Evil Two", "evil-two").await;
    // Eve's visit to Acme's page is refused and changes nothing of hers or Ada's.
    let _ = eve.get(app.url("/organizations/acme/")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(start_page(&app, &eve).await, "/organizations/evil/");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM users WHERE last_org_id IS NOT NULL").await, 0);
}

/// A request carrying the session cookie `cookie` (no cookie store: the test decides).
fn with_cookie(req: reqwest::RequestBuilder, cookie: &str) -> reqwest::RequestBuilder {
    req.header("cookie", format!("gatehouse_session={cookie}"))
}

#[tokio::test]
async fn switching_accounts_on_the_invite_page_keeps_the_invite_in_a_new_session_and_ends_the_old_one() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com", "Ada").await;
    app.create_org(&ada, "Acme", "acme").await;
    app.user("bob@example.com", "Bob").await;
    app.user("eve@example.com", "Eve").await;
    let id = app.invite(&ada, "acme", "bob@example.com", "member").await;
    let (link, _) = app.invite_link(id).await;

    // Eve is signed in (her cookie kept by hand) and opens Bob's invite.
    let plain = new_client();
    let res = plain
        .post(app.url("/api/0/auth/login/"))
        .json(&serde_json::json!({"username": "eve@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let old = session_cookie(res.headers()).expect("a session cookie");
    let page = with_cookie(plain.get(app.url(&link)), &old).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    let switched = with_cookie(plain.post(app.url("/_fn/invite/switch-accounts")), &old)
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("referer", app.url(&link))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), StatusCode::FOUND);
    assert_eq!(location(&switched), "/auth/login/");
    let new = session_cookie(switched.headers()).expect("the invite kept in a session");
    assert_ne!(new, old, "a new session id");
    let me = with_cookie(plain.get(app.url("/api/0/users/me/")), &old).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "the old session is over");
    let me = with_cookie(plain.get(app.url("/api/0/users/me/")), &new).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "nobody is signed in in the new one");

    // Bob signs in through the form in the new session and comes back to the invite.
    let login = with_cookie(plain.post(app.url("/_fn/auth/login")), &new)
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("referer", app.url("/auth/login/"))
        .form(&[("username", "bob@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FOUND);
    assert_eq!(location(&login), link);
}
