//! Probes (SPEC §10): `/livez` says the process answers; `/readyz` (and `/healthz`, the
//! same) that it can do its work — the database answers, every migration of this build is
//! applied, the outbox workers run — and names each part that cannot (503).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::server::state::AppState;

/// The process answers.
pub async fn livez() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready for traffic, or 503 naming what is not.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (database, migrations) = match state.db.ping().await {
        Err(err) => {
            tracing::error!(error = %err, "readiness: database unreachable");
            ("unreachable", "unknown")
        }
        Ok(()) => match state.db.migrations_applied().await {
            Ok(true) => ("ok", "ok"),
            Ok(false) => ("ok", "pending"),
            Err(err) => {
                tracing::error!(error = %err, "readiness: migrations unreadable");
                ("ok", "unknown")
            }
        },
    };
    let stopped = state.workers.unhealthy();
    let ready = database == "ok" && migrations == "ok" && stopped.is_empty();
    let workers = if stopped.is_empty() { json!("ok") } else { json!({"stopped": stopped}) };
    let body = json!({
        "status": if ready { "ok" } else { "error" },
        "database": database,
        "migrations": migrations,
        "workers": workers,
    });
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
