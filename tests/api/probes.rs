//! Probes (SPEC §10): `/livez`, `/readyz` and `/healthz`, and the supervisor that starts a
//! stopped outbox worker again.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::*;

async fn probe(app: &TestApp, path: &str) -> (StatusCode, Value) {
    json_of(app.other_client().get(app.url(path)).send().await.unwrap()).await
}

/// Asks `path` until it answers `status` (up to 15 s); the last answer.
async fn until(app: &TestApp, path: &str, status: StatusCode) -> (StatusCode, Value) {
    let mut last = probe(app, path).await;
    for _ in 0..150 {
        if last.0 == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = probe(app, path).await;
    }
    last
}

#[tokio::test]
async fn a_healthy_instance_is_live_and_ready() {
    let app = spawn_app().await;
    assert_eq!(probe(&app, "/livez").await, (StatusCode::OK, serde_json::json!({"status": "ok"})));
    for path in ["/readyz", "/healthz"] {
        let (status, body) = probe(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body, serde_json::json!({"status": "ok", "database": "ok", "migrations": "ok", "workers": "ok"}));
    }
}

#[tokio::test]
async fn a_stopped_outbox_worker_makes_the_instance_unready_until_it_is_started_again() {
    let app = spawn_app().await;
    assert_eq!(until(&app, "/readyz", StatusCode::OK).await.0, StatusCode::OK);
    assert!(app.state.workers.stop("mail"));
    let (status, body) = probe(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["workers"]["stopped"], serde_json::json!(["mail"]), "{body}");
    assert_eq!(body["database"], "ok");
    // Still live: the process answers.
    assert_eq!(probe(&app, "/livez").await.0, StatusCode::OK);
    // The supervisor starts it again, and it works: an invite's mail is delivered.
    let (status, body) = until(&app, "/readyz", StatusCode::OK).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.state.workers.restarts("mail"), 1);
    app.register("ada@example.com", "Ada", PASSWORD).await;
    // Read the folder only (the harness's `mails()` would deliver the outbox itself).
    let folder = app.state.config.data_dir.join("mail");
    let mut delivered = false;
    for _ in 0..100 {
        let files = std::fs::read_dir(&folder).into_iter().flatten().flatten();
        delivered = files.filter_map(|f| std::fs::read_to_string(f.path()).ok()).any(|m| m.contains("ada@example.com"));
        if delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "the restarted worker delivers the verification mail");
}

#[tokio::test]
async fn an_unreachable_database_makes_the_instance_unready_and_its_return_ready_again() {
    let app = spawn_app_with(Options { database_link: true, ..Options::default() }).await;
    assert_eq!(until(&app, "/readyz", StatusCode::OK).await.0, StatusCode::OK);
    match &app.db_link {
        // PostgreSQL through a link the test cuts and restores.
        Some(link) => {
            link.cut();
            let (status, body) = until(&app, "/readyz", StatusCode::SERVICE_UNAVAILABLE).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            assert_eq!(body["database"], "unreachable", "{body}");
            assert_eq!(probe(&app, "/healthz").await.0, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(probe(&app, "/livez").await.0, StatusCode::OK);
            link.restore();
            let (status, body) = until(&app, "/readyz", StatusCode::OK).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // SQLite is a file in the process: its pool closing is the one way it goes away.
        None => {
            app.state.db.close().await;
            let (status, body) = probe(&app, "/readyz").await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            assert_eq!(body["database"], "unreachable", "{body}");
            assert_eq!(probe(&app, "/livez").await.0, StatusCode::OK);
        }
    }
}
