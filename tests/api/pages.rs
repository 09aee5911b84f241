//! Pages and the server functions behind their forms, as a browser without JavaScript
//! uses them: plain GETs, form POSTs, redirects.

use gatehouse::server::domain::RegistrationMode;
use reqwest::StatusCode;

use crate::harness::*;

fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn the_start_page_sends_anonymous_visitors_to_login_and_users_to_their_landing_page() {
    let app = spawn_app().await;
    let res = app.get_page("/").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/auth/login/");
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let res = app.get_page("/").await;
    assert_eq!(location(&res), "/organizations/new/");
}

#[tokio::test]
async fn the_login_and_register_pages_render_labelled_forms() {
    let app = spawn_app().await;
    let login = app.get_page("/auth/login/").await;
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(html.contains(r#"action="/_fn/auth/login""#), "{html}");
    assert!(html.contains(r#"<label for="username">"#));
    assert!(html.contains(r#"href="/auth/register/""#), "registration link shown when registration is open");

    let register = app.get_page("/auth/register/").await.text().await.unwrap();
    assert!(register.contains(r#"action="/_fn/auth/register""#));
    for field in ["email", "name", "password"] {
        assert!(register.contains(&format!(r#"<label for="{field}">"#)), "label for {field}");
    }
}

#[tokio::test]
async fn closed_registration_hides_the_form_and_the_link() {
    let app = spawn_app_with(Options { registration: Some(RegistrationMode::Closed), ..Options::default() }).await;
    let login = app.get_page("/auth/login/").await.text().await.unwrap();
    assert!(!login.contains(r#"href="/auth/register/""#));
    let register = app.get_page("/auth/register/").await.text().await.unwrap();
    assert!(!register.contains(r#"action="/_fn/auth/register""#));
    assert!(register.contains("by invitation only"));
}

#[tokio::test]
async fn a_signed_in_page_redirects_anonymous_visitors_to_login() {
    let app = spawn_app().await;
    let res = app.get_page("/organizations/new/").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/auth/login/?next=/organizations/new/");
}

#[tokio::test]
async fn the_landing_page_shows_who_you_are() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada Lovelace", PASSWORD).await;
    let res = app.get_page("/organizations/new/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Welcome, <!>Ada Lovelace") || html.contains("Welcome, Ada Lovelace"), "{html}");
    assert!(html.contains("ada@example.com"));
}

#[tokio::test]
async fn registering_without_javascript_redirects_to_the_landing_page_signed_in() {
    let app = spawn_app().await;
    let res = app
        .post_form_nojs(
            &app.client,
            "/_fn/auth/register",
            "/auth/register/",
            &[("email", " Ada@Example.com "), ("name", "Ada"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/organizations/new/");
    assert!(session_cookie(res.headers()).is_some());
    let (_, me) = json_of(app.me().await).await;
    assert_eq!(me["email"], "ada@example.com");
}

#[tokio::test]
async fn an_invalid_form_without_javascript_comes_back_with_errors_and_values_but_no_password() {
    let app = spawn_app().await;
    let res = app
        .post_form_nojs(
            &app.client,
            "/_fn/auth/register",
            "/auth/register/",
            &[("email", "ada@example"), ("name", "Ada Typed"), ("password", "short1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = location(&res);
    assert!(back.starts_with(&app.url("/auth/register/?")), "{back}");
    assert!(back.contains("__err="));
    assert!(!back.contains("short1"), "the password must never come back: {back}");

    let html = app.client.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Enter a valid email address."), "{html}");
    assert!(html.contains("This password is too short. It must contain at least 8 characters."));
    assert!(html.contains(r#"value="ada@example""#), "typed email kept");
    assert!(html.contains(r#"value="Ada Typed""#), "typed name kept");
    assert!(!html.contains("short1"));
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn login_without_javascript_honours_next_on_this_site_only() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    for (next, expected) in [
        ("/organizations/new/?x=1", "/organizations/new/?x=1"),
        ("https://evil.example/steal", "/organizations/new/"),
        ("//evil.example/", "/organizations/new/"),
        ("/\\evil.example", "/organizations/new/"),
        ("", "/organizations/new/"),
    ] {
        let client = app.other_client();
        let res = app
            .post_form_nojs(
                &client,
                "/_fn/auth/login",
                "/auth/login/",
                &[("username", "ada@example.com"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FOUND, "next={next:?}");
        assert_eq!(location(&res), expected, "next={next:?}");
    }
}

#[tokio::test]
async fn a_failed_login_without_javascript_shows_the_generic_error_and_keeps_the_email() {
    let app = spawn_app().await;
    let client = app.other_client();
    let res = app
        .post_form_nojs(
            &client,
            "/_fn/auth/login",
            "/auth/login/",
            &[("username", "nobody@example.com"), ("password", "whatever-it-is"), ("next", "")],
        )
        .await;
    let back = location(&res);
    let html = client.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Please enter a correct email and password."));
    assert!(html.contains(r#"value="nobody@example.com""#));
}

#[tokio::test]
async fn a_server_function_called_by_the_hydrated_app_gets_a_400_for_invalid_input() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/_fn/auth/register"))
        .header("accept", "application/json")
        .form(&[("email", "x"), ("name", ""), ("password", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["Invalid"]["fields"]["email"][0], "Enter a valid email address.");
}

#[tokio::test]
async fn logout_without_javascript_lands_on_the_login_page() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let res = app.post_form_nojs(&app.client, "/_fn/auth/logout", "/organizations/new/", &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/auth/login/");
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn healthz_reports_the_database() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.get("/healthz").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let app = spawn_app().await;
    let res = app.get_page("/no/such/page/").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

/// Page rendering must not depend on what else the process is doing: starting another
/// server (which lays out the page routes) while this one renders pages that load data
/// once left such a render waiting forever.
#[tokio::test]
async fn pages_keep_answering_while_other_servers_of_the_process_start() {
    let app = spawn_app().await;
    let starting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let starts = {
        let starting = starting.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                for _ in 0..15 {
                    drop(spawn_app().await);
                }
            });
            starting.store(false, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let mut visits = 0;
    while starting.load(std::sync::atomic::Ordering::SeqCst) || visits < 20 {
        visits += 1;
        // Not from the page cache (a query), so the page's data is loaded for this visit.
        let page = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let res = app.get_page("/auth/login/?next=/organizations/new/").await;
            (res.status(), res.text().await.unwrap())
        })
        .await
        .unwrap_or_else(|_| panic!("visit {visits} was not answered within 10 s"));
        assert_eq!(page.0, StatusCode::OK);
        assert!(page.1.contains("</html>"), "visit {visits}: the page is complete: {}", page.1);
    }
    starts.join().unwrap();
}
