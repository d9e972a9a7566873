//! Storage: one SQLite database (a file, or in memory for tests) behind [`Db`], the
//! app's repository. Every method is one short statement under a mutex: enough for a
//! reference server, and state survives a restart.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::credentials::sha256;
use crate::repo::{PatListing, Recorded, RepoError, Repository};
use tenx_server_runtime::store::STORE_TIMEOUT;
use tenx_server_runtime::{Click, PatRecord, StoreFuture, StoreUnavailable};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL, platform_role TEXT,
    email_key TEXT, email_skeleton TEXT);
CREATE TABLE IF NOT EXISTS handles (handle TEXT PRIMARY KEY, plan TEXT NOT NULL, owner TEXT NOT NULL, profile TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS roles (user_id TEXT NOT NULL, handle TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (user_id, handle));
CREATE TABLE IF NOT EXISTS pats (token_id TEXT PRIMARY KEY, handle TEXT NOT NULL, name TEXT NOT NULL, scopes TEXT NOT NULL,
    secret_sha256 BLOB NOT NULL, expires_at INTEGER, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS refresh_tokens (token_sha256 BLOB PRIMARY KEY, user_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS links (handle TEXT NOT NULL, slug TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (handle, slug));
CREATE TABLE IF NOT EXISTS link_history (handle TEXT NOT NULL, slug TEXT NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clicks (handle TEXT NOT NULL, slug TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS conversions (id INTEGER PRIMARY KEY, ctx TEXT NOT NULL, event_type TEXT, value REAL, idempotency_key TEXT,
    handle TEXT, slug TEXT, clicked_at INTEGER);
CREATE INDEX IF NOT EXISTS conversions_by_key ON conversions (idempotency_key);
CREATE TABLE IF NOT EXISTS idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint BLOB NOT NULL,
    state TEXT NOT NULL, status INTEGER, body TEXT, claimed_at INTEGER NOT NULL, keep_until INTEGER, PRIMARY KEY (scope, key));
CREATE TABLE IF NOT EXISTS rate_windows (key TEXT PRIMARY KEY, start INTEGER NOT NULL, len INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS visitors (session TEXT PRIMARY KEY, visitor_id TEXT NOT NULL, email TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS magic_links (token TEXT PRIMARY KEY, email TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, handle TEXT NOT NULL, endpoint_url TEXT NOT NULL, event_types TEXT NOT NULL, secret_sha256 BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS audit (handle TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL);
";

impl From<rusqlite::Error> for RepoError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => RepoError::Conflict(e.to_string()),
            // Another process held the write lock past the busy timeout: a refusal to
            // retry, not a fault.
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                RepoError::Busy(e.to_string())
            }
            _ => RepoError::Storage(Box::new(e)),
        }
    }
}

/// A stored JSON document (that this server wrote).
fn json(text: &str) -> Result<Value, RepoError> {
    serde_json::from_str(text).map_err(storage)
}

/// Any failure of the store as a [`RepoError::Storage`].
fn storage(e: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::Storage(Box::new(e))
}

/// Seconds since the epoch.
pub fn epoch(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The time `seconds` after the epoch (negative counts as the epoch).
pub fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

pub use tenx_server_runtime::guard::rfc3339;

/// `t` in milliseconds since the epoch, as the stores keep times (before the epoch
/// reads as the epoch; past `i64` as its largest value).
pub(crate) fn millis(t: SystemTime) -> i64 {
    i64::try_from(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(i64::MAX)
}

/// How long a store operation may wait for another process's lock: below the router's
/// store timeout, so the operation gives up on its own and never claims a key after the
/// router answered without it (a cut-off operation would run on in the blocking pool).
const STORE_BUSY_TIMEOUT: Duration = STORE_TIMEOUT.saturating_sub(Duration::from_millis(500));

/// How long opening the database waits for a twin process that is creating it.
const OPEN_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a handler's write waits for another process's lock before it is refused
/// (503 with `Retry-After`, which clients retry).
const WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `e` says another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// The database.
#[derive(Clone)]
pub struct Db {
    /// The handlers' connection.
    conn: Arc<Mutex<Connection>>,
    /// The router's stores' connection (rate limits, idempotency records; see
    /// [`Db::store_op`]): a store operation waiting on another process's lock then holds
    /// neither the handlers' connection nor an async worker. The same connection for an
    /// in-memory database, where a second one would be another database.
    store: Arc<Mutex<Connection>>,
    /// Taken by every write transaction of this process, the handlers' (`write`) and
    /// the stores' (`store_op`), so they queue here, on a lock that wakes the next at
    /// once, instead of meeting in SQLite, whose busy handler sleeps and retries (16
    /// writers lost 7% of one writer's throughput to those sleeps).
    gate: Arc<Mutex<()>>,
}

/// A stored user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Argon2 PHC string.
    pub password_hash: String,
}

impl Db {
    /// Opens (and creates) a database file.
    pub fn open(path: &std::path::Path) -> rusqlite::Result<Db> {
        let conn = Self::init(Connection::open(path)?)?;
        let store = Connection::open(path)?;
        // A store operation waits for a lock only where `store_op` says so.
        Self::configure(&store, Duration::ZERO)?;
        Ok(Db { conn: Arc::new(Mutex::new(conn)), store: Arc::new(Mutex::new(store)), gate: Arc::default() })
    }

    /// A fresh in-memory database.
    pub fn in_memory() -> rusqlite::Result<Db> {
        let conn = Arc::new(Mutex::new(Self::init(Connection::open_in_memory()?)?));
        Ok(Db { store: conn.clone(), conn, gate: Arc::default() })
    }

    fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
        // Several processes may share the file: a writer waits for another's lock
        // (bounded) instead of failing at once. Set before anything else: switching to
        // WAL needs the lock too, and a twin process may be creating the file right now.
        conn.busy_timeout(OPEN_BUSY_TIMEOUT)?;
        // In WAL mode, NORMAL syncs at checkpoints: a process crash loses nothing
        // committed, and each counted request costs no fsync.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        conn.busy_timeout(busy_timeout)
    }

    fn init(mut conn: Connection) -> rusqlite::Result<Connection> {
        Self::configure(&conn, OPEN_BUSY_TIMEOUT)?;
        conn.execute_batch(SCHEMA)?;
        Self::migrate(&mut conn)?;
        conn.busy_timeout(WRITE_BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// Brings a database made by an earlier version up to this one, in one IMMEDIATE
    /// transaction: a twin process opening it at the same time waits, then finds it done
    /// (two that checked, then altered, would both add a column, and one fail).
    /// - Conversions attributed by a signed ctx carry the click's columns.
    /// - Every account has its email's key and skeleton ([`crate::email`]). Of two
    ///   accounts with one key (made when case told them apart), the older keeps it; the
    ///   other is found by id only, and logged at each start until merged by hand.
    fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let has_column = |table: &str, column: &str| -> rusqlite::Result<bool> {
            let sql = format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1");
            tx.query_row(&sql, [column], |r| r.get::<_, i64>(0).map(|n| n > 0))
        };
        if !has_column("conversions", "handle")? {
            tx.execute_batch(
                "ALTER TABLE conversions ADD COLUMN handle TEXT; ALTER TABLE conversions ADD COLUMN slug TEXT; \
                 ALTER TABLE conversions ADD COLUMN clicked_at INTEGER;",
            )?;
        }
        if !has_column("users", "email_key")? {
            tx.execute_batch(
                "ALTER TABLE users ADD COLUMN email_key TEXT; ALTER TABLE users ADD COLUMN email_skeleton TEXT;",
            )?;
        }
        let unkeyed: Vec<(String, String)> = {
            let mut rows = tx.prepare("SELECT id, email FROM users WHERE email_key IS NULL ORDER BY rowid")?;
            rows.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
        };
        for (id, address) in unkeyed {
            let key = crate::email::key(&address);
            let holder: Option<String> =
                tx.query_row("SELECT id FROM users WHERE email_key = ?1", [&key], |r| r.get(0)).optional()?;
            match holder {
                Some(holder) => {
                    tracing::warn!(user = %id, same_mailbox_as = %holder, "two accounts share one mailbox; the second is found by id only")
                }
                None => {
                    let skeleton = crate::email::skeleton(&address);
                    tx.execute(
                        "UPDATE users SET email_key = ?1, email_skeleton = ?2 WHERE id = ?3",
                        params![key, skeleton, id],
                    )?;
                }
            }
        }
        tx.execute_batch(
            "CREATE UNIQUE INDEX IF NOT EXISTS users_by_email_key ON users (email_key); \
             CREATE INDEX IF NOT EXISTS users_by_email_skeleton ON users (email_skeleton);",
        )?;
        tx.commit()
    }

    /// The row `sql` selects, if any.
    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, RepoError> {
        Ok(self.conn().query_row(sql, params, row).optional()?)
    }

    /// Every row `sql` selects; a row that does not read fails the whole call.
    fn all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, RepoError> {
        let conn = self.conn();
        let mut statement = conn.prepare(sql)?;
        let rows = statement.query_map(params, row)?.collect::<rusqlite::Result<Vec<T>>>()?;
        Ok(rows)
    }

    /// Runs `f` in one write transaction begun IMMEDIATE, and commits it. IMMEDIATE
    /// takes the write lock before the first read (waiting for it up to the busy
    /// timeout, as a plain write does): a deferred transaction that reads, then writes
    /// after another connection committed (this process's stores' connection, or
    /// another process) fails at once with "database is locked", whatever the timeout.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, RepoError>) -> Result<T, RepoError> {
        let mut conn = self.conn();
        let _gate = self.gate();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The handlers' connection. A poisoned lock means a statement panicked mid-call;
    /// SQLite rolled back whatever it had not committed, so the connection is still sound.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The write gate (poisoning as above: it guards no data).
    fn gate(&self) -> MutexGuard<'_, ()> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stores' connection (poisoning as above).
    pub(crate) fn store_conn(&self) -> MutexGuard<'_, Connection> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A store operation on the stores' connection, as a store's answer (an error: the
    /// store is unavailable). Uncontended, the common case, it runs here and now and
    /// waits on no lock: no hand-off to another thread. When another process holds the
    /// write lock (or this process's stores' connection is taken), it runs again on
    /// tokio's blocking pool, where it may wait for the lock until [`STORE_BUSY_TIMEOUT`]
    /// after it was asked, so no async worker waits. Each operation is one transaction,
    /// rolled back when it meets the lock, so running it again is safe.
    pub(crate) fn store_op<T: Send + 'static>(
        &self,
        op: impl Fn(&Db, &mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let unavailable = |e: rusqlite::Error| StoreUnavailable(format!("SQLite: {e}"));
        if let (Ok(mut conn), Ok(_gate)) = (self.store.try_lock(), self.gate.try_lock()) {
            match op(self, &mut conn) {
                Err(e) if is_busy(&e) => {}
                answer => return Box::pin(std::future::ready(answer.map_err(unavailable))),
            }
        }
        let (db, asked) = (self.clone(), std::time::Instant::now());
        Box::pin(async move {
            let waited = tokio::task::spawn_blocking(move || {
                let mut conn = db.store_conn();
                let _gate = db.gate();
                // The whole wait, queueing for this connection and the gate included, stays
                // within the bound: an operation never starts after the router gave up on it.
                let left = STORE_BUSY_TIMEOUT.saturating_sub(asked.elapsed());
                if left.is_zero() {
                    let busy = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY);
                    return Err(rusqlite::Error::SqliteFailure(
                        busy,
                        Some("the stores' connection stayed taken".into()),
                    ));
                }
                conn.busy_timeout(left)?;
                let answer = op(&db, &mut conn);
                // Back to not waiting (an in-memory database shares this connection with
                // the handlers, but has no other connection whose lock it could wait on).
                conn.busy_timeout(Duration::ZERO)?;
                answer
            });
            match waited.await {
                Ok(answer) => answer.map_err(unavailable),
                Err(e) => Err(StoreUnavailable(format!("SQLite: the store's task failed: {e}"))),
            }
        })
    }
}

impl Repository for Db {
    /// A setting.
    fn setting(&self, key: &str) -> Result<Option<String>, RepoError> {
        self.one("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
    }

    fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, RepoError> {
        self.write(|tx| {
            tx.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)", params![key, value])?;
            Ok(tx.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))?)
        })
    }

    fn set_password(&self, email: &str, password_hash: &str) -> Result<(), RepoError> {
        let key = crate::email::key(email);
        self.conn()
            .execute("UPDATE users SET password_hash = ?1 WHERE email_key = ?2", params![password_hash, key])
            .map(drop)
            .map_err(RepoError::from)
    }

    /// Adds a user; an address that is, or looks like, an account's is a conflict.
    fn add_user(&self, id: &str, email: &str, password_hash: &str) -> Result<(), RepoError> {
        let (key, skeleton) = (crate::email::key(email), crate::email::skeleton(email));
        self.write(|tx| {
            // One key has one skeleton: this also finds the same mailbox typed otherwise.
            let look_alike =
                tx.query_row("SELECT 1 FROM users WHERE email_skeleton = ?1", [&skeleton], |_| Ok(())).optional()?;
            if look_alike.is_some() {
                return Err(RepoError::Conflict(format!("an account's email is, or looks like, `{email}`")));
            }
            tx.execute(
                "INSERT INTO users (id, email, email_key, email_skeleton, password_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, email, key, skeleton, password_hash],
            )?;
            Ok(())
        })
    }

    /// The user with this email, however its case or compatibility forms are typed.
    fn user_by_email(&self, email: &str) -> Result<Option<User>, RepoError> {
        self.one("SELECT id, email, password_hash FROM users WHERE email_key = ?1", [crate::email::key(email)], |r| {
            Ok(User { id: r.get(0)?, email: r.get(1)?, password_hash: r.get(2)? })
        })
    }

    /// The user with this id.
    fn user(&self, id: &str) -> Result<Option<User>, RepoError> {
        self.one("SELECT id, email, password_hash FROM users WHERE id = ?1", [id], |r| {
            Ok(User { id: r.get(0)?, email: r.get(1)?, password_hash: r.get(2)? })
        })
    }

    /// Creates a handle owned by `owner`, with its owner role, or neither.
    fn add_handle(&self, handle: &str, plan: &str, owner: &str) -> Result<(), RepoError> {
        self.write(|tx| {
            tx.execute("INSERT INTO handles (handle, plan, owner) VALUES (?1, ?2, ?3)", params![handle, plan, owner])?;
            tx.execute(
                "INSERT OR REPLACE INTO roles (user_id, handle, role) VALUES (?1, ?2, 'OWNER')",
                params![owner, handle],
            )?;
            Ok(())
        })
    }

    /// Sets a user's role on a handle (`None` removes it).
    fn set_role(&self, user: &str, handle: &str, role: Option<&str>) -> Result<(), RepoError> {
        let conn = self.conn();
        match role {
            Some(role) => conn.execute(
                "INSERT OR REPLACE INTO roles (user_id, handle, role) VALUES (?1, ?2, ?3)",
                params![user, handle, role],
            ),
            None => conn.execute("DELETE FROM roles WHERE user_id = ?1 AND handle = ?2", params![user, handle]),
        }
        .map(drop)
        .map_err(RepoError::from)
    }

    /// `(user, role)` of every member of a handle, owner included.
    fn members(&self, handle: &str) -> Result<Vec<(String, String)>, RepoError> {
        self.all("SELECT user_id, role FROM roles WHERE handle = ?1 ORDER BY user_id", [handle], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// The handle's owner.
    fn owner(&self, handle: &str) -> Result<Option<String>, RepoError> {
        self.one("SELECT owner FROM handles WHERE handle = ?1", [handle], |r| r.get(0))
    }

    /// Makes `user` the owner; the previous owner becomes an operator. All or nothing.
    fn transfer(&self, handle: &str, user: &str) -> Result<(), RepoError> {
        self.write(|tx| {
            let old: Option<String> =
                tx.query_row("SELECT owner FROM handles WHERE handle = ?1", [handle], |r| r.get(0)).optional()?;
            let set_role = "INSERT OR REPLACE INTO roles (user_id, handle, role) VALUES (?1, ?2, ?3)";
            if let Some(old) = old {
                tx.execute(set_role, params![old, handle, "OPERATOR"])?;
            }
            tx.execute("UPDATE handles SET owner = ?1 WHERE handle = ?2", params![user, handle])?;
            tx.execute(set_role, params![user, handle, "OWNER"])?;
            Ok(())
        })
    }

    /// Handles the user has a role on, with that role and the handle's plan.
    fn handles_of(&self, user: &str) -> Result<Vec<(String, String, String)>, RepoError> {
        self.all(
            "SELECT h.handle, r.role, h.plan FROM roles r JOIN handles h ON h.handle = r.handle WHERE r.user_id = ?1 ORDER BY h.handle",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// A JSON document stored per handle (profile); `null` for a handle without one.
    fn profile(&self, handle: &str) -> Result<Value, RepoError> {
        let text = self.one("SELECT profile FROM handles WHERE handle = ?1", [handle], |r| r.get::<_, String>(0))?;
        text.map_or(Ok(Value::Null), |t| json(&t))
    }

    /// Replaces the handle's profile.
    fn set_profile(&self, handle: &str, profile: &Value) -> Result<(), RepoError> {
        self.conn()
            .execute("UPDATE handles SET profile = ?1 WHERE handle = ?2", params![profile.to_string(), handle])
            .map(drop)
            .map_err(RepoError::from)
    }

    /// Renames a handle everywhere, all or nothing.
    fn rename(&self, from: &str, to: &str) -> Result<(), RepoError> {
        self.write(|tx| {
            let tables =
                ["handles", "roles", "pats", "links", "link_history", "clicks", "conversions", "webhooks", "audit"];
            for table in tables {
                tx.execute(&format!("UPDATE {table} SET handle = ?1 WHERE handle = ?2"), params![to, from])?;
            }
            Ok(())
        })
    }

    /// Records an action.
    fn audit(&self, handle: &str, actor: &str, action: &str, now: SystemTime) -> Result<(), RepoError> {
        self.conn()
            .execute(
                "INSERT INTO audit (handle, at, actor, action) VALUES (?1, ?2, ?3, ?4)",
                params![handle, epoch(now), actor, action],
            )
            .map(drop)
            .map_err(RepoError::from)
    }

    /// The audit trail of a handle, newest first.
    fn audit_events(&self, handle: &str) -> Result<Vec<Value>, RepoError> {
        self.all("SELECT at, actor, action FROM audit WHERE handle = ?1 ORDER BY rowid DESC LIMIT 500", [handle], |r| {
            Ok(serde_json::json!({ "at": r.get::<_, i64>(0)?, "actor": r.get::<_, String>(1)?, "action": r.get::<_, String>(2)? }))
        })
    }

    /// A link's stored body.
    fn link(&self, handle: &str, slug: &str) -> Result<Option<Value>, RepoError> {
        let text = self.one("SELECT body FROM links WHERE handle = ?1 AND slug = ?2", params![handle, slug], |r| {
            r.get::<_, String>(0)
        })?;
        text.map(|t| json(&t)).transpose()
    }

    /// Stores a link and its history entry, together; `true` when it was created.
    fn put_link(&self, handle: &str, slug: &str, body: &Value, now: SystemTime) -> Result<bool, RepoError> {
        self.write(|tx| {
            let existed = tx
                .query_row("SELECT 1 FROM links WHERE handle = ?1 AND slug = ?2", params![handle, slug], |_| Ok(()))
                .optional()?
                .is_some();
            tx.execute(
                "INSERT OR REPLACE INTO links (handle, slug, body) VALUES (?1, ?2, ?3)",
                params![handle, slug, body.to_string()],
            )?;
            tx.execute(
                "INSERT INTO link_history (handle, slug, body, at) VALUES (?1, ?2, ?3, ?4)",
                params![handle, slug, body.to_string(), epoch(now)],
            )?;
            Ok(!existed)
        })
    }

    /// Deletes a link; `false` when there was none.
    fn delete_link(&self, handle: &str, slug: &str) -> Result<bool, RepoError> {
        Ok(self.conn().execute("DELETE FROM links WHERE handle = ?1 AND slug = ?2", params![handle, slug])? > 0)
    }

    /// Every link of a handle: `(slug, body)`, by slug.
    fn links(&self, handle: &str) -> Result<Vec<(String, Value)>, RepoError> {
        let rows = self.all("SELECT slug, body FROM links WHERE handle = ?1 ORDER BY slug", [handle], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.into_iter().map(|(slug, body)| Ok((slug, json(&body)?))).collect()
    }

    /// Earlier versions of a link, newest first.
    fn history(&self, handle: &str, slug: &str) -> Result<Vec<Value>, RepoError> {
        let rows = self.all(
            "SELECT body, at FROM link_history WHERE handle = ?1 AND slug = ?2 ORDER BY rowid DESC",
            params![handle, slug],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?;
        rows.into_iter().map(|(body, at)| Ok(serde_json::json!({ "at": at, "link": json(&body)? }))).collect()
    }

    /// Records a click.
    fn click(&self, handle: &str, slug: &str, now: SystemTime) -> Result<(), RepoError> {
        self.conn()
            .execute("INSERT INTO clicks (handle, slug, at) VALUES (?1, ?2, ?3)", params![handle, slug, epoch(now)])
            .map(drop)
            .map_err(RepoError::from)
    }

    /// Clicks of a handle.
    fn click_count(&self, handle: &str) -> Result<i64, RepoError> {
        Ok(self.conn().query_row("SELECT COUNT(*) FROM clicks WHERE handle = ?1", [handle], |r| r.get(0))?)
    }

    fn add_conversion(
        &self,
        click: &Click,
        event: Option<&str>,
        value: Option<f64>,
        key: Option<&str>,
    ) -> Result<Recorded, RepoError> {
        let ctx = format!("{}/{}", click.handle, click.slug);
        let at = i64::try_from(click.at).unwrap_or(i64::MAX);
        // In one IMMEDIATE transaction: another process sharing the file cannot slip a
        // row with this key between the check and the insert.
        self.write(|tx| {
            if let Some(key) = key {
                let existing: Option<(String, Option<String>, Option<f64>)> = tx
                    .query_row(
                        "SELECT ctx, event_type, value FROM conversions WHERE idempotency_key = ?1 LIMIT 1",
                        [key],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                if let Some((was_ctx, was_event, was_value)) = existing {
                    let same = was_ctx == ctx && was_event.as_deref() == event && was_value == value;
                    return Ok(if same { Recorded::Repeat } else { Recorded::KeyReused });
                }
            }
            tx.execute(
                "INSERT INTO conversions (ctx, handle, slug, clicked_at, event_type, value, idempotency_key) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![ctx, click.handle, click.slug, at, event, value, key],
            )?;
            Ok(Recorded::New)
        })
    }

    /// `(count, revenue)` of conversions of this handle's clicks.
    fn conversions(&self, handle: &str) -> Result<(i64, f64), RepoError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*), COALESCE(SUM(value), 0) FROM conversions WHERE handle = ?1",
            [handle],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Conversions stored with this idempotency key.
    fn conversions_with_key(&self, key: &str) -> Result<i64, RepoError> {
        Ok(self.conn().query_row("SELECT COUNT(*) FROM conversions WHERE idempotency_key = ?1", [key], |r| r.get(0))?)
    }

    /// Stores a PAT record (its secret only as a hash).
    fn add_pat(&self, record: &PatRecord, name: &str) -> Result<(), RepoError> {
        self.conn()
            .execute(
                "INSERT INTO pats (token_id, handle, name, scopes, secret_sha256, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    record.token_id,
                    record.handle,
                    name,
                    serde_json::json!(record.scopes).to_string(),
                    record.secret_sha256.to_vec(),
                    record.expires_at.map(epoch),
                ],
            )
            .map(drop)
            .map_err(RepoError::from)
    }

    /// A handle's live PATs.
    fn pats_of(&self, handle: &str) -> Result<Vec<PatListing>, RepoError> {
        let rows = self.all(
            "SELECT token_id, name, scopes, expires_at FROM pats WHERE handle = ?1 AND revoked = 0 ORDER BY token_id",
            [handle],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?)),
        )?;
        rows.into_iter()
            .map(|(token_id, name, scopes, expires_at)| {
                let scopes = serde_json::from_value(json(&scopes)?).map_err(storage)?;
                Ok(PatListing { token_id, name, scopes, expires_at })
            })
            .collect()
    }

    /// Revokes a PAT of a handle; `false` when there was none.
    fn revoke_pat(&self, handle: &str, token_id: &str) -> Result<bool, RepoError> {
        let changed = self.conn().execute(
            "UPDATE pats SET revoked = 1 WHERE handle = ?1 AND token_id = ?2 AND revoked = 0",
            params![handle, token_id],
        )?;
        Ok(changed > 0)
    }

    /// Stores a refresh token (hashed) for a user.
    fn add_refresh(&self, token: &str, user: &str, expires: SystemTime) -> Result<(), RepoError> {
        self.conn()
            .execute(
                "INSERT INTO refresh_tokens (token_sha256, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![sha256(token), user, epoch(expires)],
            )
            .map(drop)
            .map_err(RepoError::from)
    }

    /// Takes a refresh token (it is single-use): the user, if it was valid. Deleted and
    /// read in one statement, so two requests racing with one token cannot both win.
    fn take_refresh(&self, token: &str, now: SystemTime) -> Result<Option<String>, RepoError> {
        let row: Option<(String, i64)> = self
            .conn()
            .query_row(
                "DELETE FROM refresh_tokens WHERE token_sha256 = ?1 RETURNING user_id, expires_at",
                [sha256(token)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.filter(|(_, exp)| *exp > epoch(now)).map(|(user, _)| user))
    }

    /// Forgets every refresh token of a user (logout).
    fn drop_refresh(&self, user: &str) -> Result<(), RepoError> {
        self.conn().execute("DELETE FROM refresh_tokens WHERE user_id = ?1", [user]).map(drop).map_err(RepoError::from)
    }

    /// Stores a magic link.
    fn add_magic_link(&self, token: &str, email: &str, expires: SystemTime) -> Result<(), RepoError> {
        self.conn()
            .execute(
                "INSERT INTO magic_links (token, email, expires_at) VALUES (?1, ?2, ?3)",
                params![token, email, epoch(expires)],
            )
            .map(drop)
            .map_err(RepoError::from)
    }

    /// Uses a magic link: `Ok(Ok(email))`, or why not (`"unknown"`, `"used"`, `"expired"`).
    /// Marked used and read in one statement, so a link works once even under a race.
    fn use_magic_link(&self, token: &str, now: SystemTime) -> Result<Result<String, &'static str>, RepoError> {
        let conn = self.conn();
        let email: Option<String> = conn
            .query_row(
                "UPDATE magic_links SET used = 1 WHERE token = ?1 AND used = 0 AND expires_at > ?2 RETURNING email",
                params![token, epoch(now)],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(email) = email {
            return Ok(Ok(email));
        }
        let used: Option<i64> =
            conn.query_row("SELECT used FROM magic_links WHERE token = ?1", [token], |r| r.get(0)).optional()?;
        Ok(Err(match used {
            None => "unknown",
            Some(0) => "expired",
            Some(_) => "used",
        }))
    }

    /// Starts a visitor session.
    fn add_visitor(&self, session: &str, email: &str, expires: SystemTime) -> Result<(), RepoError> {
        let visitor_id = format!("vis_{}", &sha256(email).iter().map(|b| format!("{b:02x}")).collect::<String>()[..12]);
        self.conn()
            .execute(
                "INSERT INTO visitors (session, visitor_id, email, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![session, visitor_id, email, epoch(expires)],
            )
            .map(drop)
            .map_err(RepoError::from)
    }

    /// Ends a visitor session.
    fn drop_visitor(&self, visitor_id: &str) -> Result<(), RepoError> {
        self.conn()
            .execute("DELETE FROM visitors WHERE visitor_id = ?1", [visitor_id])
            .map(drop)
            .map_err(RepoError::from)
    }

    /// Stores a webhook subscription (its secret only as a hash).
    fn add_webhook(&self, id: &str, handle: &str, url: &str, events: &[String], secret: &str) -> Result<(), RepoError> {
        self.conn()
            .execute(
                "INSERT INTO webhooks (id, handle, endpoint_url, event_types, secret_sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, handle, url, serde_json::json!(events).to_string(), sha256(secret)],
            )
            .map(drop)
            .map_err(RepoError::from)
    }

    /// A handle's webhook subscriptions.
    fn webhooks(&self, handle: &str) -> Result<Vec<Value>, RepoError> {
        let rows = self.all(
            "SELECT id, endpoint_url, event_types FROM webhooks WHERE handle = ?1 ORDER BY id",
            [handle],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
        )?;
        rows.into_iter()
            .map(|(id, url, events)| {
                Ok(serde_json::json!({ "subscriptionId": id, "endpointUrl": url, "eventTypes": json(&events)? }))
            })
            .collect()
    }

    /// Deletes a webhook subscription; `false` when there was none.
    fn delete_webhook(&self, handle: &str, id: &str) -> Result<bool, RepoError> {
        Ok(self.conn().execute("DELETE FROM webhooks WHERE handle = ?1 AND id = ?2", params![handle, id])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_798_437_612)), "2026-12-28T06:00:12Z");
    }

    #[test]
    fn accounts_from_before_mailbox_keys_are_keyed_when_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            // The users table as it was: no key, and case made two accounts of one mailbox.
            let old = Connection::open(&path).expect("open");
            old.execute_batch(
                "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL, platform_role TEXT);
                 INSERT INTO users (id, email, password_hash) VALUES ('first', 'Ada@Example.com', 'h1');
                 INSERT INTO users (id, email, password_hash) VALUES ('second', 'ada@example.com', 'h2');
                 INSERT INTO users (id, email, password_hash) VALUES ('other', 'bob@example.com', 'h3');",
            )
            .expect("the old schema");
        }
        let db = Db::open(&path).expect("migrated");
        let found = |email: &str| db.user_by_email(email).expect("a lookup").map(|u| u.id);
        // The older account keeps the mailbox, whatever the case typed; the other does not.
        assert_eq!(found("ADA@example.com").as_deref(), Some("first"));
        assert_eq!(found("ada@example.com").as_deref(), Some("first"));
        assert_eq!(found("bob@EXAMPLE.com").as_deref(), Some("other"));
        assert!(matches!(db.add_user("new", "BOB@example.com", "h"), Err(RepoError::Conflict(_))));
        // Opening again changes nothing.
        drop(db);
        let again = Db::open(&path).expect("reopened");
        assert_eq!(again.user_by_email("ada@EXAMPLE.com").expect("a lookup").map(|u| u.id).as_deref(), Some("first"));
    }

    #[test]
    fn links_upsert_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let db = Db::open(&path).expect("open");
        db.add_user("u", "u@x.io", "hash").expect("user");
        db.add_handle("acme", "PRO", "u").expect("handle");
        let body = serde_json::json!({"destinationUrl": "https://e.com"});
        assert_eq!(db.put_link("acme", "launch", &body, UNIX_EPOCH).ok(), Some(true));
        assert_eq!(db.put_link("acme", "launch", &body, UNIX_EPOCH).ok(), Some(false));
        drop(db);
        let db = Db::open(&path).expect("reopen");
        assert_eq!(db.link("acme", "launch").ok().flatten(), Some(body));
        assert_eq!(db.members("acme").ok(), Some(vec![("u".to_owned(), "OWNER".to_owned())]));
    }
}
