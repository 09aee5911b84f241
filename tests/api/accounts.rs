//! Registration, login, logout and sessions through the JSON API (SPEC §4).

use gatehouse::server::domain::RegistrationMode;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_registration_creates_the_user_and_signs_them_in() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.register("ada@example.com", "Ada Lovelace", PASSWORD).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["name"], "Ada Lovelace");
    assert_eq!(body["emailVerified"], false);
    assert!(body.get("password").is_none() && !body.to_string().contains("argon2"));

    let (status, me) = json_of(app.me().await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_hash_is_argon2id_with_the_production_parameters() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let mut conn = app.state.db.conn().await.unwrap();
    let user = gatehouse::server::db::users::find_by_email(&mut conn, "ada@example.com").await.unwrap().unwrap();
    assert!(user.password_hash.unwrap().as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_is_trimmed_and_lower_cased() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.register("  Ada.Lovelace@Example.COM ", "Ada", PASSWORD).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "ada.lovelace@example.com");
    // and login works with any letter case
    let other = spawn_client_login(&app, "ADA.LOVELACE@example.com", PASSWORD).await;
    assert_eq!(other, StatusCode::OK);
}

async fn spawn_client_login(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.other_client()
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_email_in_another_letter_case_is_refused() {
    let app = spawn_app().await;
    assert_eq!(app.register("ada@example.com", "Ada", PASSWORD).await.status(), StatusCode::CREATED);
    let second = spawn_app_client(&app);
    let res = second
        .post(app.url("/api/0/auth/register/"))
        .json(&json!({"email": "ADA@Example.com", "name": "Other", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"email": ["An account is already registered with that email address."]}));
    assert_eq!(app.user_count().await, 1);
}

fn spawn_app_client(app: &TestApp) -> reqwest::Client {
    app.other_client()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_field_is_reported_and_nothing_is_created() {
    let app = spawn_app().await;
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("", "Ada", PASSWORD, "email", "This field is required."),
        ("not-an-email", "Ada", PASSWORD, "email", "Enter a valid email address."),
        ("ada@example", "Ada", PASSWORD, "email", "Enter a valid email address."),
        ("ada@example.com", "", PASSWORD, "name", "This field is required."),
        ("ada@example.com", "Ada", "", "password", "This field is required."),
        (
            "ada@example.com",
            "Ada",
            "Xq7#pL2",
            "password",
            "This password is too short. It must contain at least 8 characters.",
        ),
        ("ada@example.com", "Ada", "80923461825", "password", "This password is entirely numeric."),
        ("ada@example.com", "Ada", "Password1", "password", "This password is too common."),
        ("ada.lovelace@example.com", "Ada", "lovelace!", "password", "The password is too similar to the email."),
    ];
    for (email, name, password, field, message) in cases {
        let (status, body) = json_of(app.register(email, name, password).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email:?} {name:?} {password:?}: {body}");
        let messages: Vec<String> = serde_json::from_value(body[field].clone()).unwrap_or_default();
        assert!(messages.iter().any(|m| m == message), "{field}: expected {message:?} in {body}");
    }
    let long_name = "n".repeat(201);
    let (_, body) = json_of(app.register("ada@example.com", &long_name, PASSWORD).await).await;
    assert_eq!(body["name"][0], "Ensure this field has no more than 200 characters.");
    let long_password = "Zq9#vLtW".repeat(33);
    let (_, body) = json_of(app.register("ada@example.com", "Ada", &long_password).await).await;
    assert_eq!(body["password"][0], "This password is too long. It must contain at most 256 characters.");
    let long_email = format!("{}@example.com", "a".repeat(250));
    let (_, body) = json_of(app.register(&long_email, "Ada", PASSWORD).await).await;
    assert_eq!(body["email"][0], "Ensure this field has no more than 254 characters.");

    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_failing_password_rules_come_together_with_the_other_fields() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.register("bad", "", "123456").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "email": ["Enter a valid email address."],
            "name": ["This field is required."],
            "password": [
                "This password is too short. It must contain at least 8 characters.",
                "This password is entirely numeric.",
                "This password is too common."
            ]
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_while_signed_in_is_a_conflict() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let (status, body) = json_of(app.register("bob@example.com", "Bob", PASSWORD).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["reason"], "already_authenticated");
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_only_registration_is_refused_without_an_invite() {
    let app = spawn_app_with(Options { registration: Some(RegistrationMode::InviteOnly), ..Options::default() }).await;
    let (status, body) = json_of(app.register("ada@example.com", "Ada", PASSWORD).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["reason"], "registration_disabled");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_registration_is_refused() {
    let app = spawn_app_with(Options { registration: Some(RegistrationMode::Closed), ..Options::default() }).await;
    let (status, body) = json_of(app.register("ada@example.com", "Ada", PASSWORD).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["reason"], "registration_disabled");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_registration_is_the_default() {
    let app = spawn_app_with(Options { registration: Some(RegistrationMode::Open), ..Options::default() }).await;
    assert_eq!(app.register("ada@example.com", "Ada", PASSWORD).await.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_the_right_password_signs_in() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let client = app.other_client();
    let res = client
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["email"], "ada@example.com");
    let me = client.get(app.url("/api/0/users/me/")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let wrong = app
        .other_client()
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "ada@example.com", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    let unknown = app
        .other_client()
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "nobody@example.com", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    let (s1, b1) = json_of(wrong).await;
    let (s2, b2) = json_of(unknown).await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!((s1, &b1), (s2, &b2));
    assert_eq!(b1, json!({"details": "Please enter a correct email and password.", "reason": "invalid_credentials"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_id_is_renewed_at_login() {
    let app = spawn_app().await;
    app.register("ada@example.com", "Ada", PASSWORD).await;
    let client = app.other_client();
    let first = client
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie1 = session_cookie(first.headers()).expect("session cookie after login");
    let second = client
        .post(app.url("/api/0/auth/login/"))
        .json(&json!({"username": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie2 = session_cookie(second.headers()).expect("session cookie after second login");
    assert_ne!(cookie1, cookie2, "login must issue a new session id");
    // The old id no longer signs anyone in.
    let stale = reqwest::Client::new()
        .get(app.url("/api/0/users/me/"))
        .header("cookie", format!("gatehouse_session={cookie1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let fresh = reqwest::Client::new()
        .get(app.url("/api/0/users/me/"))
        .header("cookie", format!("gatehouse_session={cookie2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    let res = app.register("ada@example.com", "Ada", PASSWORD).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("gatehouse_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-HTTP instance must not set Secure: {cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_destroys_the_session() {
    let app = spawn_app().await;
    let res = app.register("ada@example.com", "Ada", PASSWORD).await;
    let cookie = session_cookie(res.headers()).unwrap();
    let res = app.client.delete(app.url("/api/0/auth/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
    let replay = reqwest::Client::new()
        .get(app.url("/api/0/users/me/"))
        .header("cookie", format!("gatehouse_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "the old cookie must not work after logout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    for headers in
        [vec![("origin", "https://evil.example")], vec![("sec-fetch-site", "cross-site")], vec![("origin", "null")]]
    {
        let mut req = app
            .client
            .post(app.url("/api/0/auth/register/"))
            .json(&json!({"email": "ada@example.com", "name": "Ada", "password": PASSWORD}));
        for (k, v) in &headers {
            req = req.header(*k, *v);
        }
        let (status, body) = json_of(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(body["reason"], "csrf");
    }
    // The same for a server function posted by a form on another site.
    let res = app
        .client
        .post(app.url("/_fn/auth/register"))
        .header("origin", "https://evil.example")
        .header("accept", "text/html")
        .form(&[("email", "ada@example.com"), ("name", "Ada"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.user_count().await, 0);
    // A same-origin request passes.
    let res = app
        .client
        .post(app.url("/api/0/auth/register/"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"email": "ada@example.com", "name": "Ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_is_401_when_anonymous() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.me().await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["reason"], "not_authenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_registrations_of_one_address_create_exactly_one_account() {
    let app = spawn_app().await;
    let attempts = (0..10).map(|i| {
        let client = app.other_client();
        let url = app.url("/api/0/auth/register/");
        async move {
            let res = client
                .post(url)
                .json(&json!({"email": "Ada@Example.com", "name": format!("Ada {i}"), "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            json_of(res).await
        }
    });
    let results = futures_join_all(attempts).await;
    let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["email"][0], "An account is already registered with that email address.");
    }
    assert_eq!(app.user_count().await, 1);
}

/// Runs futures concurrently on the test's runtime and collects their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
