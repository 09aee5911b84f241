//! Prometheus metrics (SPEC §10), served in the text format on their own listener
//! (`APP_METRICS_ADDR`, off when unset) so that they are never public by accident.
//!
//! Every metric name and label is written here once; the code that counts calls one of the
//! functions below. Without `APP_METRICS_ADDR` no recorder is installed and each call is a
//! no-op of the `metrics` facade. Labels never carry a raw path, a token or an address:
//! routes are the router's patterns (`/accept/{member_id}/{token}/`), reasons and limits
//! are fixed names.

use std::sync::OnceLock;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::db::{self, outbox};
use super::state::AppState;

const REQUESTS: &str = "gatehouse_http_requests_total";
const REQUEST_SECONDS: &str = "gatehouse_http_request_duration_seconds";
const SIGN_INS: &str = "gatehouse_sign_ins_total";
const REGISTRATIONS: &str = "gatehouse_registrations_total";
const JOINS: &str = "gatehouse_joins_total";
const REFUSALS: &str = "gatehouse_refusals_total";
const RATE_LIMITED: &str = "gatehouse_rate_limited_total";
const DELIVERIES: &str = "gatehouse_outbox_deliveries_total";
const OUTBOX_DEPTH: &str = "gatehouse_outbox_depth";
const OUTBOX_AGE: &str = "gatehouse_outbox_oldest_age_seconds";
const HASH_QUEUE: &str = "gatehouse_password_hash_queue_depth";
const POOL: &str = "gatehouse_db_pool_connections";

/// Request latency buckets, in seconds: a page render takes milliseconds, a password hash
/// about a tenth of a second, an overloaded request seconds.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use (one per process: the `metrics` facade
/// has one global recorder). `None` if another recorder was installed first.
fn recorder() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.to_owned()), &LATENCY_BUCKETS)
                .and_then(|builder| builder.install_recorder())
                .inspect_err(|err| tracing::error!(error = %err, "metrics recorder not installed"))
                .ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    describe_counter!(REQUESTS, "HTTP requests answered, by method, route pattern and status.");
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer an HTTP request, by method, route pattern and status."
    );
    describe_counter!(SIGN_INS, "Sign-ins, by how (password, second_factor, sso, reset, registration).");
    describe_counter!(REGISTRATIONS, "Accounts created, by how (password, sso).");
    describe_counter!(JOINS, "Memberships gained, by how (invite, join_link).");
    describe_counter!(REFUSALS, "Requests refused, by kind and reason (bad_credentials, needs_2fa, seat_limit, …).");
    describe_counter!(RATE_LIMITED, "Requests refused by a rate limit, by limit.");
    describe_counter!(DELIVERIES, "Outbox delivery attempts, by outbox (mail, events) and outcome.");
    describe_gauge!(OUTBOX_DEPTH, "Rows waiting in an outbox (queued or in flight), by outbox.");
    describe_gauge!(OUTBOX_AGE, Unit::Seconds, "Age of the oldest row waiting in an outbox, by outbox.");
    describe_gauge!(HASH_QUEUE, "Password hashes running or waiting for the hashing pool.");
    describe_gauge!(POOL, "Database pool connections, by state (in_use, idle, max).");
}

/// Binds the metrics listener on `APP_METRICS_ADDR`, installing the recorder.
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    recorder().ok_or_else(|| anyhow::anyhow!("the metrics recorder could not be installed"))?;
    Ok(tokio::net::TcpListener::bind(addr).await?)
}

/// Serves `GET /metrics` on `listener` until the task is aborted; the histograms are
/// trimmed every few seconds, as the exporter asks.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) {
    let Some(handle) = recorder() else { return };
    let upkeep = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            ticks.tick().await;
            handle.run_upkeep();
        }
    });
    let app = Router::new().route("/metrics", get(render)).with_state(state);
    if let Err(err) = axum::serve(listener, app).await {
        tracing::error!(error = %err, "metrics listener");
    }
    upkeep.abort();
}

/// The text format, with the gauges read now: outbox depth and age, the hashing queue,
/// the database pool.
async fn render(State(state): State<AppState>) -> Response {
    let Some(handle) = recorder() else { return axum::http::StatusCode::NOT_FOUND.into_response() };
    match state.db.conn().await {
        Ok(mut conn) => match outbox::backlog(&mut conn, db::now()).await {
            Ok(backlog) => {
                for row in backlog {
                    gauge!(OUTBOX_DEPTH, "outbox" => row.outbox).set(row.depth as f64);
                    gauge!(OUTBOX_AGE, "outbox" => row.outbox).set(row.oldest_age_secs as f64);
                }
            }
            Err(err) => tracing::warn!(error = %err, "metrics: outbox backlog unreadable"),
        },
        Err(err) => tracing::warn!(error = %err, "metrics: no database connection"),
    }
    gauge!(HASH_QUEUE).set(state.hasher.queue_depth() as f64);
    let pool = state.db.pool();
    let idle = pool.num_idle() as f64;
    gauge!(POOL, "state" => "in_use").set(f64::from(pool.size()) - idle);
    gauge!(POOL, "state" => "idle").set(idle);
    gauge!(POOL, "state" => "max").set(f64::from(pool.options().get_max_connections()));
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Middleware: counts each request and its latency by method, route pattern and status.
/// A request no route matched (static files, unknown paths) is labelled `fallback`.
pub async fn track(req: Request, next: Next) -> Response {
    if recorder_installed() {
        let method = method_label(req.method());
        let route =
            req.extensions().get::<MatchedPath>().map_or_else(|| "fallback".to_owned(), |p| p.as_str().to_owned());
        let started = std::time::Instant::now();
        let res = next.run(req).await;
        let labels = [("method", method.to_owned()), ("route", route), ("status", res.status().as_u16().to_string())];
        counter!(REQUESTS, &labels).increment(1);
        histogram!(REQUEST_SECONDS, &labels).record(started.elapsed().as_secs_f64());
        res
    } else {
        next.run(req).await
    }
}

/// The standard methods by name; any other (a client may send any token) as `other`, so
/// that nobody outside can make label values without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Whether this process serves metrics (the middleware does no work otherwise).
fn recorder_installed() -> bool {
    HANDLE.get().is_some_and(Option::is_some)
}

/// How someone came to be signed in.
#[derive(Debug, Clone, Copy)]
pub enum SignIn {
    Password,
    SecondFactor,
    Sso,
    /// A new password chosen through a reset link.
    Reset,
    Registration,
}

pub fn signed_in(how: SignIn) {
    let how = match how {
        SignIn::Password => "password",
        SignIn::SecondFactor => "second_factor",
        SignIn::Sso => "sso",
        SignIn::Reset => "reset",
        SignIn::Registration => "registration",
    };
    counter!(SIGN_INS, "method" => how).increment(1);
}

/// An account was created (`password` registration, `sso`).
pub fn registered(how: &'static str) {
    counter!(REGISTRATIONS, "method" => how).increment(1);
}

/// A membership was gained (`invite`, `join_link`).
pub fn joined(how: &'static str) {
    counter!(JOINS, "method" => how).increment(1);
}

/// A request was refused with a reason (every adapter answers failures through this).
pub fn refused(kind: &'static str, reason: &'static str) {
    counter!(REFUSALS, "kind" => kind, "reason" => reason).increment(1);
}

/// A rate limit refused a request.
pub fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// Outbox delivery attempts: `outbox` is `mail` or `events`, `outcome` `sent` / `failed`.
pub fn delivered(outbox: &'static str, outcome: &'static str, count: usize) {
    if count > 0 {
        counter!(DELIVERIES, "outbox" => outbox, "outcome" => outcome).increment(count as u64);
    }
}
