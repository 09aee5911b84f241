//! How long a session lives and how its activity is recorded (SPEC §4.6).

use serde_json::Value;

use crate::harness::*;

/// The stored data and expiry of `user_id`'s only session.
async fn stored(app: &TestApp, email: &str) -> (String, Value, i64) {
    let uid = app.sql_i64(&format!("SELECT id FROM users WHERE email = '{email}'")).await;
    let (id, data, expires_at): (String, String, i64) =
        sqlx::query_as("SELECT id, data, expires_at FROM sessions WHERE user_id = $1")
            .bind(uid)
            .fetch_one(app.state.db.pool())
            .await
            .expect("one session of the user");
    (id, serde_json::from_str(&data).unwrap(), expires_at)
}

/// Rewrites the session's recorded activity: `created` and `last_seen` seconds ago.
async fn age(app: &TestApp, email: &str, created_ago: i64, last_seen_ago: i64) {
    let (id, mut data, _) = stored(app, email).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    data["activity"]["created_at"] = (now - created_ago).into();
    data["activity"]["last_seen_at"] = (now - last_seen_ago).into();
    sqlx::query("UPDATE sessions SET data = $1 WHERE id = $2")
        .bind(data.to_string())
        .bind(id)
        .execute(app.state.db.pool())
        .await
        .unwrap();
}

const DAY: i64 = 86_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_records_when_and_from_where_it_signed_in() {
    let app = spawn_app().await;
    let client = app.user("ada@example.com", "Ada").await;
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 200);
    let (_, data, _) = stored(&app, "ada@example.com").await;
    let activity = &data["activity"];
    assert_eq!(activity["ip"], "127.0.0.1");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - activity["created_at"].as_i64().unwrap()).abs() < 60, "{activity}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_signed_in_ninety_days_ago_is_over_however_busy() {
    let app = spawn_app().await;
    let client = app.user("ada@example.com", "Ada").await;
    age(&app, "ada@example.com", 89 * DAY, 60).await;
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 200, "89 days is fine");
    age(&app, "ada@example.com", 90 * DAY + 1, 60).await;
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 401);
    let uid = app.sql_i64("SELECT id FROM users WHERE email = 'ada@example.com'").await;
    assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM sessions WHERE user_id = {uid}")).await, 0, "ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_idle_for_fourteen_days_is_over() {
    let app = spawn_app().await;
    let client = app.user("ada@example.com", "Ada").await;
    age(&app, "ada@example.com", 20 * DAY, 13 * DAY).await;
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 200, "13 idle days");
    age(&app, "ada@example.com", 20 * DAY, 14 * DAY + 1).await;
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_a_row_do_not_write_the_session_until_its_activity_is_stale() {
    let app = spawn_app().await;
    let client = app.user("ada@example.com", "Ada").await;
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 200);
    let (_, before, expires_before) = stored(&app, "ada@example.com").await;
    // Every write of a session moves its expiry (now + 14 days, in seconds): wait past a
    // second so that a write would show.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for _ in 0..20 {
        assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 200);
    }
    let (_, after, expires_after) = stored(&app, "ada@example.com").await;
    assert_eq!(expires_after, expires_before, "20 requests, no session write");
    assert_eq!(after, before);

    // Five minutes later the next request records the activity once.
    age(&app, "ada@example.com", 600, 301).await;
    let (_, aged, _) = stored(&app, "ada@example.com").await;
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 200);
    let (_, touched, expires_touched) = stored(&app, "ada@example.com").await;
    assert!(expires_touched > expires_before, "written once");
    assert!(touched["activity"]["last_seen_at"].as_i64() > aged["activity"]["last_seen_at"].as_i64());
    assert_eq!(touched["activity"]["created_at"], aged["activity"]["created_at"], "still the same sign-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_file_request_neither_reads_nor_writes_the_session() {
    let app = spawn_app().await;
    let client = app.user("ada@example.com", "Ada").await;
    age(&app, "ada@example.com", 600, 301).await;
    let (_, aged, expires_before) = stored(&app, "ada@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for path in ["/pkg/gatehouse.wasm", "/pkg/gatehouse.css", "/favicon.ico"] {
        client.get(app.url(path)).send().await.unwrap();
    }
    let (_, after, expires_after) = stored(&app, "ada@example.com").await;
    assert_eq!((expires_after, &after), (expires_before, &aged), "no activity recorded for static files");
    assert_eq!(client.get(app.url("/api/0/users/me/")).send().await.unwrap().status(), 200);
    let (_, _, expires_touched) = stored(&app, "ada@example.com").await;
    assert!(expires_touched > expires_before, "a routed request records it");
}
