//! Bad input of every shape gets a 4xx with a clear message, never a 5xx, and changes
//! nothing (SPEC §9.8).

use reqwest::StatusCode;

use crate::harness::*;

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, String) {
    let res = app.client.post(app.url(path)).header("content-type", content_type).body(body).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn malformed_json_bodies_get_4xx_json_errors() {
    let app = spawn_app().await;
    let valid = br#"{"email":"ada@example.com","name":"Ada","password":"vivid-harbor-lantern-42"}"#.to_vec();
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        ("text/plain", valid.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/x-www-form-urlencoded", b"email=a".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/json", b"{\"email\": ".to_vec(), StatusCode::BAD_REQUEST),
        ("application/json", b"not json at all".to_vec(), StatusCode::BAD_REQUEST),
        ("application/json", b"[]".to_vec(), StatusCode::BAD_REQUEST),
        // An array in the order of the fields: serde would read it as the object.
        (
            "application/json",
            br#"["ada@example.com","Ada","vivid-harbor-lantern-42"]"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("application/json", br#"{"email": 12, "name": [], "password": null}"#.to_vec(), StatusCode::BAD_REQUEST),
        (
            "application/json",
            br#"{"email":"a@b.co","name":"A","password":"x","admin":true}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            b"{\"email\":\"\xff\xfe@example.com\",\"name\":\"A\",\"password\":\"p\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("application/json", vec![], StatusCode::BAD_REQUEST),
    ];
    for (content_type, body, expected) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let (status, text) = post_raw(&app, "/api/0/auth/register/", content_type, body).await;
        assert_eq!(status, expected, "{content_type} {shown:?}: {text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON error body: {text}"));
        // A flow error (`details`) or, for a body that parses, per-field messages.
        assert!(json.as_object().is_some_and(|o| !o.is_empty()), "{text}");
    }
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_huge_body_is_refused_with_413() {
    let app = spawn_app().await;
    let mut body = br#"{"email":"ada@example.com","name":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    body.extend(br#"","password":"vivid-harbor-lantern-42"}"#);
    let (status, _) = post_raw(&app, "/api/0/auth/register/", "application/json", body.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = post_raw(&app, "/_fn/auth/register", "application/x-www-form-urlencoded", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn malformed_server_function_bodies_get_4xx() {
    let app = spawn_app().await;
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", b"email=%ZZ&name".to_vec()),
        ("application/x-www-form-urlencoded", b"\xff\xfe\xfd".to_vec()),
        ("application/x-www-form-urlencoded", b"name=Ada".to_vec()),
        ("application/json", b"{not json".to_vec()),
        ("text/plain", b"hello".to_vec()),
    ] {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let (status, text) = post_raw(&app, "/_fn/auth/register", content_type, body).await;
        assert!(status.is_client_error(), "{content_type} {shown:?} → {status}: {text}");
    }
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_login_with_wrong_types_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let (status, _) =
        post_raw(&app, "/api/0/auth/login/", "application/json", br#"{"username": 1, "password": {}}"#.to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_server_function_is_a_4xx() {
    let app = spawn_app().await;
    let (status, _) =
        post_raw(&app, "/_fn/no/such/function", "application/x-www-form-urlencoded", b"a=b".to_vec()).await;
    assert!(status.is_client_error(), "{status}");
}
