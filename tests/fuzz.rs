//! Property tests over the decoders and validators (SPEC §9.8): generated JSON bodies,
//! form bodies, raw bytes and paths go through the real router in-process, signed in and
//! anonymous; generated strings go through every validator. Nothing may panic and no
//! answer may be a 5xx. `FUZZ_CASES` sets the number of requests (default 100,000).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use gatehouse::server::config::Config;
use gatehouse::server::domain::{self, EmailAddress, Password, PasswordPolicy, Slug};
use gatehouse::server::{http, startup};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use serde_json::{json, Value};
use tower::ServiceExt;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// Field names the API knows, and some it does not.
const KEYS: &[&str] = &[
    "email",
    "name",
    "password",
    "username",
    "otp",
    "secret",
    "token",
    "role",
    "teams",
    "sendInvite",
    "expiresInDays",
    "reinvite",
    "regenerate",
    "approve",
    "slug",
    "require2FA",
    "requireEmailVerification",
    "allowJoinRequests",
    "defaultRole",
    "allowEmailMismatch",
    "memberLimit",
    "emails",
    "maxUses",
    "emailDomain",
    "expires_in_days",
    "max_uses",
    "email_domain",
    "link_id",
    "member_id",
    "next",
    "x",
    "",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "owner",
            "member",
            "manager",
            "a@b.co",
            "ADA@EXAMPLE.COM ",
            "acme",
            "123456",
            "\u{0}",
            "é"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// Endpoints with a JSON body: (method, path template). `{s}` is an org slug, `{id}` a member id.
const JSON_ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/api/0/auth/register/"),
    ("POST", "/api/0/auth/login/"),
    ("POST", "/api/0/auth/2fa/"),
    ("POST", "/api/0/auth/verify-email/"),
    ("POST", "/api/0/users/me/authenticators/totp/enroll/"),
    ("POST", "/api/0/organizations/"),
    ("PUT", "/api/0/organizations/{s}/"),
    ("POST", "/api/0/organizations/{s}/members/"),
    ("PUT", "/api/0/organizations/{s}/members/{id}/"),
    ("POST", "/api/0/organizations/{s}/teams/"),
    ("GET", "/api/0/organizations/{s}/members/{id}/"),
    ("DELETE", "/api/0/organizations/{s}/members/{id}/"),
    ("DELETE", "/api/0/organizations/{s}/members/me/"),
    ("POST", "/api/0/organizations/{s}/members/{id}/teams/{t}/"),
    ("POST", "/api/0/organizations/{s}/transfer-ownership/"),
    ("GET", "/api/0/organizations/{s}/audit-logs/?cursor={t}&per_page={id}&actor={s}"),
    ("POST", "/api/0/organizations/{s}/invite-requests/"),
    ("PUT", "/api/0/organizations/{s}/invite-requests/{id}/"),
    ("POST", "/api/0/organizations/{s}/join-request/"),
    ("POST", "/api/0/accept-invite/{id}/{t}/"),
    ("GET", "/api/0/accept-invite/{s}/{id}/{t}/"),
    ("GET", "/api/0/users/me/invitations/"),
    ("POST", "/api/0/users/me/invitations/{id}/accept/"),
    ("DELETE", "/api/0/users/me/invitations/{id}/"),
    ("POST", "/api/0/organizations/{s}/members/bulk/"),
    ("GET", "/api/0/organizations/{s}/join-links/"),
    ("POST", "/api/0/organizations/{s}/join-links/"),
    ("DELETE", "/api/0/organizations/{s}/join-links/{id}/"),
    ("GET", "/api/0/join-links/{t}/"),
    ("POST", "/api/0/join-links/{t}/"),
];

/// Server functions posted as forms.
const FORM_ENDPOINTS: &[&str] = &[
    "/_fn/auth/register",
    "/_fn/auth/login",
    "/_fn/auth/2fa",
    "/_fn/orgs/create",
    "/_fn/orgs/invite",
    "/_fn/orgs/settings-save",
    "/_fn/orgs/join-request",
    "/_fn/orgs/decide-request",
    "/_fn/invite/accept",
    "/_fn/invite/switch-accounts",
    "/_fn/orgs/member-role",
    "/_fn/orgs/member-remove",
    "/_fn/orgs/leave",
    "/_fn/orgs/invite-reissue",
    "/_fn/orgs/team-create",
    "/_fn/orgs/team-member",
    "/_fn/orgs/transfer",
    "/_fn/account/totp-confirm",
    "/_fn/account/verify",
    "/_fn/orgs/invite-bulk",
    "/_fn/orgs/join-link-create",
    "/_fn/orgs/join-link-revoke",
    "/_fn/invitations/accept",
    "/_fn/invitations/decline",
    "/_fn/join-link/join",
];

#[derive(Debug, Clone)]
enum Body_ {
    Json(Value),
    Raw(Vec<u8>),
    Form(Vec<(String, String)>),
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("acme".to_owned()),
        Just("1".to_owned()),
        Just("0".repeat(64)),
        ".{0,12}".prop_map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect()),
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

fn request() -> impl Strategy<Value = (String, String, Body_, bool)> {
    let json_case =
        (prop::sample::select(JSON_ENDPOINTS), segment(), segment(), segment(), json_value(), any::<bool>()).prop_map(
            |((method, path), s, id, t, body, signed_in)| {
                let path = path.replace("{s}", &s).replace("{id}", &id).replace("{t}", &t);
                (method.to_owned(), path, Body_::Json(body), signed_in)
            },
        );
    let raw_case = (prop::sample::select(JSON_ENDPOINTS), prop::collection::vec(any::<u8>(), 0..64), any::<bool>())
        .prop_map(|((method, path), bytes, signed_in)| {
            (
                method.to_owned(),
                path.replace("{s}", "acme").replace("{id}", "1").replace("{t}", "x"),
                Body_::Raw(bytes),
                signed_in,
            )
        });
    let form_case = (
        prop::sample::select(FORM_ENDPOINTS),
        prop::collection::vec((prop::sample::select(KEYS).prop_map(str::to_owned), ".{0,20}"), 0..6),
        any::<bool>(),
    )
        .prop_map(|(path, pairs, signed_in)| ("POST".to_owned(), path.to_owned(), Body_::Form(pairs), signed_in));
    prop_oneof![6 => json_case, 2 => raw_case, 3 => form_case]
}

fn build(method: &str, path: &str, body: &Body_, cookie: Option<&str>) -> Option<Request<Body>> {
    let mut req = Request::builder().method(Method::from_bytes(method.as_bytes()).ok()?).uri(path);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let body = match body {
        Body_::Json(value) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(value).unwrap())
        }
        Body_::Raw(bytes) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(bytes.clone())
        }
        Body_::Form(pairs) => {
            req = req
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html");
            Body::from(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
        }
    };
    let mut req = req.body(body).ok()?;
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
    Some(req)
}

#[test]
fn generated_requests_never_get_a_5xx_or_a_panic() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let (router, cookie) = rt.block_on(async {
        let mut config = Config::defaults();
        config.data_dir = data_dir.path().to_path_buf();
        config.register_limit_per_ip = 0;
        let state = startup::build_state(config).await.unwrap();
        let router = http::router(state);
        // A signed-in user with an organization, so that signed-in cases reach the use cases.
        let req = build(
            "POST",
            "/api/0/auth/register/",
            &Body_::Json(json!({"email": "fuzz@example.com", "name": "Fuzz", "password": "vivid-harbor-lantern-42"})),
            None,
        )
        .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
        let req = build(
            "POST",
            "/api/0/organizations/",
            &Body_::Json(json!({"name": "Acme", "slug": "acme"})),
            Some(&cookie),
        )
        .unwrap();
        assert_eq!(router.clone().oneshot(req).await.unwrap().status(), StatusCode::CREATED);
        (router, cookie)
    });
    let sent = Arc::new(AtomicUsize::new(0));
    let mut runner = TestRunner::new(PropConfig { cases: cases(), failure_persistence: None, ..PropConfig::default() });
    let result = runner.run(&request(), |(method, path, body, signed_in)| {
        let Some(req) = build(&method, &path, &body, signed_in.then_some(cookie.as_str())) else { return Ok(()) };
        let status = rt.block_on(router.clone().oneshot(req)).unwrap().status();
        sent.fetch_add(1, Ordering::Relaxed);
        prop_assert!(status.as_u16() < 500, "{method} {path} {body:?} → {status}");
        Ok(())
    });
    println!("requests sent: {}", sent.load(Ordering::Relaxed));
    result.unwrap();
}

#[test]
fn generated_strings_never_panic_the_validators() {
    let mut runner = TestRunner::new(PropConfig { cases: cases(), failure_persistence: None, ..PropConfig::default() });
    runner
        .run(&(".{0,300}", ".{0,80}"), |(text, other)| {
            let email = EmailAddress::parse(&text);
            if let Ok(email) = &email {
                prop_assert!(email.as_str().len() <= 254 && email.as_str() == email.as_str().to_lowercase());
            }
            let _ = domain::DisplayName::parse(&text);
            let _ = PasswordPolicy.check(&Password::new(text.clone()), EmailAddress::parse(&other).ok().as_ref());
            if let Ok(slug) = Slug::parse(&text) {
                prop_assert!(slug.as_str().len() <= 50);
            }
            let _ = Slug::from_name(&text);
            let _ = text.parse::<domain::Role>();
            if let Some(next) = domain::next::safe_next(&text) {
                prop_assert!(next.starts_with('/') && !next.starts_with("//"));
            }
            let zeros = "0".repeat(64);
            prop_assert!(
                !domain::invite::token_matches(&text, Some(&domain::invite::hash_token(&zeros))) || text == zeros
            );
            let _ = domain::totp::TotpSecret::from_base32(&text);
            let _ = domain::totp::hash_recovery_code(b"key", 1, &text);
            let _ = gatehouse::server::auth::breached::count_in_range(&text, &other);
            Ok(())
        })
        .unwrap();
}
