//! The Prometheus listener (SPEC §10): its own address, counters that move with what
//! happens, route labels that are patterns.

use reqwest::StatusCode;
use serde_json::json;

use super::{call, client, invite, user, Shared};

/// The sum of the samples of `name` whose labels include every pair of `labels` (0 when
/// there is none: a counter appears once first counted).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, number) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
                .then(|| number.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

#[tokio::test]
async fn metrics_count_sign_ins_joins_refusals_and_limits_by_route_pattern_on_their_own_listener() {
    let shared = Shared::new().await;
    let app = shared.start(true).await;
    let metrics_url = format!("{}/metrics", app.metrics.as_ref().unwrap());
    let scrape = || async {
        let res = reqwest::get(&metrics_url).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        res.text().await.unwrap()
    };
    let before = scrape().await;
    // Methods outside the standard ones are one label value, whatever their name.
    for name in ["PURGE", "BREW", "X-ONE", "X-TWO"] {
        let method = reqwest::Method::from_bytes(name.as_bytes()).unwrap();
        client().request(method, app.url("/auth/login/")).send().await.unwrap();
    }
    // Never on the public listener.
    assert_eq!(client().get(app.url("/metrics")).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let olive = user(&app, "olive@example.com").await;
    let org = json!({"name": "Acme", "slug": "acme"});
    assert_eq!(call(&olive, &app, "POST", "/api/0/organizations/", Some(org)).await.0, StatusCode::CREATED);
    let id = invite(&olive, &app, "acme", "bob@example.com", "member").await;
    let path = shared.invite_path(id).await;
    let token = path.trim_end_matches('/').rsplit('/').next().unwrap().to_owned();
    let bob = user(&app, "bob@example.com").await;
    // Six wrong passwords for one account from one address: five refusals, then the limit.
    let wrong = json!({"username": "bob@example.com", "password": "not-the-password-1"});
    let stranger = client();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(call(&stranger, &app, "POST", "/api/0/auth/login/", Some(wrong.clone())).await.0);
    }
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5], "{statuses:?}");
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
    // A sign-in with the password, an accept, and an accept refused (used already).
    let right = json!({"username": "olive@example.com", "password": super::PASSWORD});
    assert_eq!(call(&client(), &app, "POST", "/api/0/auth/login/", Some(right)).await.0, StatusCode::OK);
    assert_eq!(call(&bob, &app, "POST", &path, None).await.0, StatusCode::NO_CONTENT);
    let (again, answer) = call(&bob, &app, "POST", &path, None).await;
    assert_eq!(again, StatusCode::BAD_REQUEST, "{answer}");
    let refused_reason = answer["reason"].as_str().unwrap().to_owned();

    // The mail worker counts its deliveries once the invite and verification mails are out.
    let mut after = scrape().await;
    for _ in 0..100 {
        if value(&after, "gatehouse_outbox_deliveries_total", &[("outbox", "mail"), ("outcome", "sent")]) >= 3.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = scrape().await;
    }
    let moved = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    assert_eq!(moved("gatehouse_registrations_total", &[("method", "password")]), 2.0, "{after}");
    assert_eq!(moved("gatehouse_sign_ins_total", &[("method", "registration")]), 2.0);
    assert_eq!(moved("gatehouse_sign_ins_total", &[("method", "password")]), 1.0);
    assert_eq!(moved("gatehouse_joins_total", &[("method", "invite")]), 1.0);
    assert_eq!(
        moved("gatehouse_refusals_total", &[("kind", "not_authenticated"), ("reason", "invalid_credentials")]),
        5.0
    );
    assert_eq!(moved("gatehouse_refusals_total", &[("kind", "refused"), ("reason", &refused_reason)]), 1.0);
    assert_eq!(moved("gatehouse_refusals_total", &[("kind", "limited")]), 1.0);
    assert_eq!(moved("gatehouse_rate_limited_total", &[("limit", "login-account-ip")]), 1.0);
    assert!(moved("gatehouse_outbox_deliveries_total", &[("outbox", "mail"), ("outcome", "sent")]) >= 3.0, "{after}");
    // Requests by route pattern and status, with their latency.
    let accept = [("method", "POST"), ("route", "/api/0/accept-invite/{member_id}/{token}/")];
    assert_eq!(moved("gatehouse_http_requests_total", &[accept[0], accept[1], ("status", "204")]), 1.0);
    assert_eq!(moved("gatehouse_http_requests_total", &[accept[0], accept[1], ("status", "400")]), 1.0);
    let login = [("method", "POST"), ("route", "/api/0/auth/login/")];
    assert_eq!(moved("gatehouse_http_request_duration_seconds_count", &login), 7.0);
    assert!(after.contains("gatehouse_http_request_duration_seconds_bucket{"), "a histogram with buckets");
    assert_eq!(moved("gatehouse_http_requests_total", &[("method", "other")]), 4.0);
    assert!(!after.contains("PURGE") && !after.contains("X-ONE"), "a method name from outside in a label");
    // Never a raw path or a token in a label.
    assert!(!after.contains(&token), "a token in the metrics");
    assert!(!after.contains(&format!("/accept-invite/{id}/")), "a raw path in the metrics");
    // The gauges read at scrape time.
    assert!(after.contains("gatehouse_outbox_depth{outbox=\"mail\"}"), "{after}");
    assert!(after.contains("gatehouse_outbox_oldest_age_seconds{outbox=\"events\"}"));
    assert!(value(&after, "gatehouse_db_pool_connections", &[("state", "max")]) >= 1.0);
    assert!(after.contains("gatehouse_password_hash_queue_depth "));
}
