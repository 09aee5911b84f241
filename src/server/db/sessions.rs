//! The server-side session store (`sessions` table) behind `tower-sessions`.
//!
//! Sessions live in the application database so that every instance behind a load balancer
//! sees the same ones. The cookie carries only the random session id. Each row also
//! names its signed-in user (`user_id`, copied from the session data on every write), so
//! that a user's sessions can be listed and ended (SPEC §4.6).

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use super::{Conn, Db};
use crate::server::auth::session;

/// `tower-sessions` store over [`Db`].
///
/// Creating and saving sessions is the one write of many requests (every first visit of
/// an invite link writes a session), so those writes are committed in groups: each waits
/// for the one task that writes them, which takes every write queued meanwhile (up to
/// [`MAX_GROUP`]) and commits them at once: one statement, or a transaction of two. Under
/// load this is one commit for many sessions instead of one each, and on SQLite the
/// writes never collide with each other or sleep in the busy handler: the group writes in
/// the process's write turn, like every transaction. A write returns once committed.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
    writer: Arc<OnceLock<mpsc::UnboundedSender<Write>>>,
}

/// The most writes one group commits.
pub const MAX_GROUP: usize = 128;

/// A session row to write, and who waits for it.
#[derive(Debug)]
struct Write {
    id: String,
    data: String,
    expires_at: i64,
    user_id: Option<i64>,
    /// `create` must not replace a row with the same id; `save` replaces it.
    create: bool,
    /// `Ok(false)`: a `create` whose id was taken (the caller draws another).
    done: oneshot::Sender<Result<bool, String>>,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db, writer: Arc::default() }
    }

    /// Queues a write for the group writer (started on first use, on the caller's
    /// runtime) and waits until it is committed.
    async fn write(&self, record: &Record, create: bool) -> session_store::Result<bool> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        let (done, committed) = oneshot::channel();
        let user_id = record.data.get(session::USER_ID).and_then(serde_json::Value::as_i64);
        let write = Write {
            id: record.id.to_string(),
            data,
            expires_at: record.expiry_date.unix_timestamp(),
            user_id,
            create,
            done,
        };
        let writer = self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_groups(self.db.clone(), rx));
            tx
        });
        const STOPPED: &str = "the session writer has stopped";
        writer.send(write).map_err(|_| backend(STOPPED))?;
        committed.await.map_err(|_| backend(STOPPED))?.map_err(backend)
    }
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// The group writer: commits whatever is queued, group after group, until every store
/// handle is gone.
async fn write_groups(db: Db, mut queue: mpsc::UnboundedReceiver<Write>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        let outcome = write_group(&db, &group).await;
        for (i, write) in group.drain(..).enumerate() {
            let _ = write.done.send(outcome.as_ref().map(|went_in| went_in[i]).map_err(Clone::clone));
        }
    }
}

/// One commit: the new sessions (`ON CONFLICT DO NOTHING`, returning the ids that went
/// in), then the saved ones (updates of rows that still exist: a session signed out
/// elsewhere meanwhile stays signed out); a transaction only when the group has more than
/// one statement. Of two
/// writes of one id in a group the later wins, as if they had been written one after the
/// other: an earlier save is replaced, an earlier create draws another id. Returns, per
/// write, whether it went in.
async fn write_group(db: &Db, group: &[Write]) -> Result<Vec<bool>, String> {
    let mut went_in = vec![true; group.len()];
    let (mut creates, mut saves) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for (i, write) in group.iter().enumerate().rev() {
        if !seen.insert(write.id.as_str()) {
            went_in[i] = !write.create;
        } else if write.create {
            creates.push(i);
        } else {
            saves.push(i);
        }
    }
    // One statement commits on its own; more share a transaction.
    if saves.is_empty() || (creates.is_empty() && saves.len() == 1) {
        let mut conn = db.single_write().await.map_err(|e| e.to_string())?;
        write_statements(&mut conn, group, &creates, &saves, &mut went_in).await?;
    } else {
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        write_statements(&mut tx, group, &creates, &saves, &mut went_in).await?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(went_in)
}

/// The group's statements on `conn`: the creates (setting `went_in` for each), then the saves.
async fn write_statements(
    conn: &mut super::Conn,
    group: &[Write],
    creates: &[usize],
    saves: &[usize],
    went_in: &mut [bool],
) -> Result<(), String> {
    if !creates.is_empty() {
        let sql = format!(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
            placeholders(creates.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).persistent(false);
        for &i in creates {
            query = query.bind(&group[i].id).bind(&group[i].data).bind(group[i].expires_at).bind(group[i].user_id);
        }
        let inserted: HashSet<String> =
            query.fetch_all(&mut *conn).await.map_err(|e| e.to_string())?.into_iter().collect();
        for &i in creates {
            went_in[i] = inserted.contains(&group[i].id);
        }
    }
    for &i in saves {
        sqlx::query("UPDATE sessions SET data = $1, expires_at = $2, user_id = $3 WHERE id = $4")
            .bind(&group[i].data)
            .bind(group[i].expires_at)
            .bind(group[i].user_id)
            .bind(&group[i].id)
            .execute(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `($1, $2, $3, $4), ($5, …), …` for `rows` rows of four values.
fn placeholders(rows: usize) -> String {
    (0..rows)
        .map(|r| format!("(${}, ${}, ${}, ${})", 4 * r + 1, 4 * r + 2, 4 * r + 3, 4 * r + 4))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A signed-in session of a user, as stored.
#[derive(Debug, Clone)]
pub struct UserSession {
    pub id: String,
    pub data: String,
}

/// The live sessions of a user.
pub async fn for_user(conn: &mut Conn, user_id: i64, now: i64) -> Result<Vec<UserSession>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, data FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY id")
            .bind(user_id)
            .bind(now)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(id, data)| UserSession { id, data }).collect())
}

/// Ends every session of a user but `except` (the one making the change, if any).
pub async fn delete_for_user(conn: &mut Conn, user_id: i64, except: Option<&str>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(except.unwrap_or(""))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Ends one session of a user: false when the user has no such session.
pub async fn delete_one(conn: &mut Conn, user_id: i64, id: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2").bind(user_id).bind(id).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id; on the astronomically unlikely collision, draw again.
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, false).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id.to_string())
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .fetch_optional(self.db.pool())
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get("data").map_err(backend)?;
        let expires_at: i64 = row.try_get("expires_at").map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(backend)?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at).map_err(backend)?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (DbSessionStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("s.sqlite3").display())).await.unwrap();
        db.migrate().await.unwrap();
        (DbSessionStore::new(db), dir)
    }

    fn record(value: &str) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert("k".to_owned(), serde_json::json!(value));
        Record { id: Id::default(), data, expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1) }
    }

    fn write(record: &Record, value: &str, create: bool) -> (Write, oneshot::Receiver<Result<bool, String>>) {
        let (done, rx) = oneshot::channel();
        let data = serde_json::json!({ "k": value }).to_string();
        let expires_at = record.expiry_date.unix_timestamp();
        (Write { id: record.id.to_string(), data, expires_at, user_id: None, create, done }, rx)
    }

    async fn value(store: &DbSessionStore, id: &Id) -> Option<String> {
        store.load(id).await.unwrap().map(|r| r.data["k"].as_str().unwrap().to_owned())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_sessions_are_each_stored_with_their_own_data() {
        let (store, _dir) = store().await;
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..300 {
            let store = store.clone();
            writes.spawn(async move {
                let mut r = record(&format!("visitor {i}"));
                store.create(&mut r).await.unwrap();
                (i, r)
            });
        }
        let mut records = writes.join_all().await;
        records.sort_by_key(|(i, _)| *i);
        let records: Vec<Record> = records.into_iter().map(|(_, r)| r).collect();
        for (i, r) in records.iter().enumerate() {
            assert_eq!(value(&store, &r.id).await.as_deref(), Some(format!("visitor {i}").as_str()));
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(store.db.pool()).await.unwrap();
        assert_eq!(rows, 300);
    }

    #[tokio::test]
    async fn a_new_session_never_replaces_one_with_the_same_id() {
        let (store, _dir) = store().await;
        let mut first = record("first");
        store.create(&mut first).await.unwrap();
        let mut second = record("second");
        second.id = first.id;
        store.create(&mut second).await.unwrap();
        assert_ne!(second.id, first.id, "a taken id is drawn again");
        assert_eq!(value(&store, &first.id).await.as_deref(), Some("first"));
        assert_eq!(value(&store, &second.id).await.as_deref(), Some("second"));
    }

    #[tokio::test]
    async fn in_one_group_the_later_write_of_a_session_wins() {
        let (store, _dir) = store().await;
        let mut r = record("unused");
        store.create(&mut r).await.unwrap();
        let (a, a_done) = write(&r, "earlier", false);
        let (b, b_done) = write(&r, "later", false);
        let fresh = record("unused");
        let (c, _) = write(&fresh, "created first", true);
        let (d, _) = write(&fresh, "created second", true);
        let went_in = write_group(&store.db, &[a, b, c, d]).await.unwrap();
        assert_eq!(went_in, [true, true, false, true], "an earlier save is replaced; an earlier create draws again");
        assert_eq!(value(&store, &r.id).await.as_deref(), Some("later"));
        assert_eq!(value(&store, &fresh.id).await.as_deref(), Some("created second"));
        drop((a_done, b_done));
    }

    #[tokio::test]
    async fn a_session_ended_elsewhere_is_not_brought_back_by_a_later_save() {
        let (store, _dir) = store().await;
        let mut r = record("signed in");
        store.create(&mut r).await.unwrap();
        store.delete(&r.id).await.unwrap();
        store.save(&record_with_id(r.id, "touched")).await.unwrap();
        assert_eq!(value(&store, &r.id).await, None);
    }

    #[tokio::test]
    async fn a_session_row_names_its_signed_in_user() {
        let (store, _dir) = store().await;
        let mut r = record("x");
        r.data.insert(session::USER_ID.to_owned(), serde_json::json!(42));
        store.create(&mut r).await.unwrap();
        let mut conn = store.db.conn().await.unwrap();
        let mine = for_user(&mut conn, 42, 0).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].id, r.id.to_string());
        assert_eq!(delete_for_user(&mut conn, 42, Some(&r.id.to_string())).await.unwrap(), 0, "the one kept");
        assert_eq!(delete_for_user(&mut conn, 42, None).await.unwrap(), 1);
    }

    fn record_with_id(id: Id, value: &str) -> Record {
        Record { id, ..record(value) }
    }
}
