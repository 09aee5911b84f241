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
