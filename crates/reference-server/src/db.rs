//! Storage: one SQLite database (a file, or in memory for tests) behind [`Db`], the
//! app's repository. Every method is one short statement under a mutex: enough for a
//! reference server, and state survives a restart.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL, platform_role TEXT);
CREATE TABLE IF NOT EXISTS handles (handle TEXT PRIMARY KEY, plan TEXT NOT NULL, owner TEXT NOT NULL, profile TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS roles (user_id TEXT NOT NULL, handle TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (user_id, handle));
CREATE TABLE IF NOT EXISTS pats (token_id TEXT PRIMARY KEY, handle TEXT NOT NULL, name TEXT NOT NULL, scopes TEXT NOT NULL,
    secret_sha256 BLOB NOT NULL, expires_at INTEGER, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS refresh_tokens (token_sha256 BLOB PRIMARY KEY, user_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS links (handle TEXT NOT NULL, slug TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (handle, slug));
CREATE TABLE IF NOT EXISTS link_history (handle TEXT NOT NULL, slug TEXT NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clicks (handle TEXT NOT NULL, slug TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS conversions (id INTEGER PRIMARY KEY, ctx TEXT NOT NULL, event_type TEXT, value REAL, idempotency_key TEXT);
CREATE TABLE IF NOT EXISTS visitors (session TEXT PRIMARY KEY, visitor_id TEXT NOT NULL, email TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS magic_links (token TEXT PRIMARY KEY, email TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, handle TEXT NOT NULL, endpoint_url TEXT NOT NULL, event_types TEXT NOT NULL, secret_sha256 BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS audit (handle TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL);
";

/// Seconds since the epoch.
pub fn epoch(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// RFC 3339 UTC (`2026-11-28T06:00:00Z`) of a time.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = epoch(t);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The database.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
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
        Self::init(Connection::open(path)?)
    }

    /// A fresh in-memory database.
    pub fn in_memory() -> rusqlite::Result<Db> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> rusqlite::Result<Db> {
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db { conn: Arc::new(Mutex::new(conn)) })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A setting.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.conn()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
    }

    /// Stores a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> rusqlite::Result<()> {
        self.conn()
            .execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)", params![key, value])
            .map(drop)
    }

    /// Adds a user.
    pub fn add_user(&self, id: &str, email: &str, password_hash: &str) -> rusqlite::Result<()> {
        self.conn()
            .execute(
                "INSERT INTO users (id, email, password_hash) VALUES (?1, ?2, ?3)",
                params![id, email, password_hash],
            )
            .map(drop)
    }

    /// The user with this email.
    pub fn user_by_email(&self, email: &str) -> Option<User> {
        self.conn()
            .query_row("SELECT id, email, password_hash FROM users WHERE email = ?1", [email], |r| {
                Ok(User { id: r.get(0)?, email: r.get(1)?, password_hash: r.get(2)? })
            })
            .optional()
            .ok()
            .flatten()
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<User> {
        self.conn()
            .query_row("SELECT id, email, password_hash FROM users WHERE id = ?1", [id], |r| {
                Ok(User { id: r.get(0)?, email: r.get(1)?, password_hash: r.get(2)? })
            })
            .optional()
            .ok()
            .flatten()
    }

    /// Creates a handle owned by `owner`.
    pub fn add_handle(&self, handle: &str, plan: &str, owner: &str) -> rusqlite::Result<()> {
        let conn = self.conn();
        conn.execute("INSERT INTO handles (handle, plan, owner) VALUES (?1, ?2, ?3)", params![handle, plan, owner])?;
        conn.execute(
            "INSERT OR REPLACE INTO roles (user_id, handle, role) VALUES (?1, ?2, 'OWNER')",
            params![owner, handle],
        )
        .map(drop)
    }

    /// Sets a user's role on a handle (`None` removes it).
    pub fn set_role(&self, user: &str, handle: &str, role: Option<&str>) -> rusqlite::Result<()> {
        let conn = self.conn();
        match role {
            Some(role) => conn.execute(
                "INSERT OR REPLACE INTO roles (user_id, handle, role) VALUES (?1, ?2, ?3)",
                params![user, handle, role],
            ),
            None => conn.execute("DELETE FROM roles WHERE user_id = ?1 AND handle = ?2", params![user, handle]),
        }
        .map(drop)
    }

    /// `(user, role)` of every member of a handle, owner included.
    pub fn members(&self, handle: &str) -> Vec<(String, String)> {
        let conn = self.conn();
        let Ok(mut stmt) = conn.prepare("SELECT user_id, role FROM roles WHERE handle = ?1 ORDER BY user_id") else {
            return Vec::new();
        };
        stmt.query_map([handle], |r| Ok((r.get(0)?, r.get(1)?)))
            .map(|rows| rows.flatten().collect())
            .unwrap_or_default()
    }

    /// The handle's owner.
    pub fn owner(&self, handle: &str) -> Option<String> {
        self.conn()
            .query_row("SELECT owner FROM handles WHERE handle = ?1", [handle], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
    }

    /// Makes `user` the owner; the previous owner becomes an operator.
    pub fn transfer(&self, handle: &str, user: &str) -> rusqlite::Result<()> {
        if let Some(old) = self.owner(handle) {
            self.set_role(&old, handle, Some("OPERATOR"))?;
        }
        self.conn().execute("UPDATE handles SET owner = ?1 WHERE handle = ?2", params![user, handle])?;
        self.set_role(user, handle, Some("OWNER"))
    }

    /// Handles the user has a role on, with that role and the handle's plan.
    pub fn handles_of(&self, user: &str) -> Vec<(String, String, String)> {
        let conn = self.conn();
        let Ok(mut stmt) = conn.prepare(
            "SELECT h.handle, r.role, h.plan FROM roles r JOIN handles h ON h.handle = r.handle WHERE r.user_id = ?1 ORDER BY h.handle",
        ) else {
            return Vec::new();
        };
        stmt.query_map([user], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map(|rows| rows.flatten().collect())
            .unwrap_or_default()
    }

    /// A JSON document stored per handle (profile).
    pub fn profile(&self, handle: &str) -> Value {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT profile FROM handles WHERE handle = ?1", [handle], |r| r.get(0))
            .optional()
            .ok()
            .flatten();
        text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null)
    }

    /// Replaces the handle's profile.
    pub fn set_profile(&self, handle: &str, profile: &Value) -> rusqlite::Result<()> {
        self.conn()
            .execute("UPDATE handles SET profile = ?1 WHERE handle = ?2", params![profile.to_string(), handle])
            .map(drop)
    }

    /// Renames a handle everywhere.
    pub fn rename(&self, from: &str, to: &str) -> rusqlite::Result<()> {
        let conn = self.conn();
        for table in ["handles", "roles", "pats", "links", "link_history", "clicks", "webhooks", "audit"] {
            conn.execute(&format!("UPDATE {table} SET handle = ?1 WHERE handle = ?2"), params![to, from])?;
        }
        Ok(())
    }

    /// Records an action.
    pub fn audit(&self, handle: &str, actor: &str, action: &str, now: SystemTime) {
        let _ = self.conn().execute(
            "INSERT INTO audit (handle, at, actor, action) VALUES (?1, ?2, ?3, ?4)",
            params![handle, epoch(now), actor, action],
        );
    }

    /// The audit trail of a handle, newest first.
    pub fn audit_events(&self, handle: &str) -> Vec<Value> {
        let conn = self.conn();
        let Ok(mut stmt) =
            conn.prepare("SELECT at, actor, action FROM audit WHERE handle = ?1 ORDER BY rowid DESC LIMIT 500")
        else {
            return Vec::new();
        };
        stmt.query_map([handle], |r| {
            Ok(serde_json::json!({ "at": r.get::<_, i64>(0)?, "actor": r.get::<_, String>(1)?, "action": r.get::<_, String>(2)? }))
        })
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
    }

    /// A link's stored body.
    pub fn link(&self, handle: &str, slug: &str) -> Option<Value> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT body FROM links WHERE handle = ?1 AND slug = ?2", params![handle, slug], |r| r.get(0))
            .optional()
            .ok()
            .flatten();
        text.and_then(|t| serde_json::from_str(&t).ok())
    }

    /// Stores a link; `true` when it was created, `false` when updated.
    pub fn put_link(&self, handle: &str, slug: &str, body: &Value, now: SystemTime) -> rusqlite::Result<bool> {
        let created = self.link(handle, slug).is_none();
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO links (handle, slug, body) VALUES (?1, ?2, ?3)",
            params![handle, slug, body.to_string()],
        )?;
        conn.execute(
            "INSERT INTO link_history (handle, slug, body, at) VALUES (?1, ?2, ?3, ?4)",
            params![handle, slug, body.to_string(), epoch(now)],
        )?;
        Ok(created)
    }

    /// Deletes a link; `false` when there was none.
    pub fn delete_link(&self, handle: &str, slug: &str) -> bool {
        self.conn()
            .execute("DELETE FROM links WHERE handle = ?1 AND slug = ?2", params![handle, slug])
            .map(|n| n > 0)
            .unwrap_or(false)
    }

    /// Every link of a handle, by slug.
    pub fn links(&self, handle: &str) -> Vec<Value> {
        let conn = self.conn();
        let Ok(mut stmt) = conn.prepare("SELECT body FROM links WHERE handle = ?1 ORDER BY slug") else {
            return Vec::new();
        };
        stmt.query_map([handle], |r| r.get::<_, String>(0))
            .map(|rows| rows.flatten().filter_map(|t| serde_json::from_str(&t).ok()).collect())
            .unwrap_or_default()
    }

    /// Earlier versions of a link, newest first.
    pub fn history(&self, handle: &str, slug: &str) -> Vec<Value> {
        let conn = self.conn();
        let Ok(mut stmt) =
            conn.prepare("SELECT body, at FROM link_history WHERE handle = ?1 AND slug = ?2 ORDER BY rowid DESC")
        else {
            return Vec::new();
        };
        stmt.query_map(params![handle, slug], |r| {
            let body: String = r.get(0)?;
            Ok(serde_json::json!({ "at": r.get::<_, i64>(1)?, "link": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null) }))
        })
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
    }

    /// Records a click.
    pub fn click(&self, handle: &str, slug: &str, now: SystemTime) {
        let _ = self
            .conn()
            .execute("INSERT INTO clicks (handle, slug, at) VALUES (?1, ?2, ?3)", params![handle, slug, epoch(now)]);
    }

    /// Clicks of a handle.
    pub fn click_count(&self, handle: &str) -> i64 {
        self.conn().query_row("SELECT COUNT(*) FROM clicks WHERE handle = ?1", [handle], |r| r.get(0)).unwrap_or(0)
    }

    /// Stores a conversion.
    pub fn add_conversion(
        &self,
        ctx: &str,
        event: Option<&str>,
        value: Option<f64>,
        key: Option<&str>,
    ) -> rusqlite::Result<()> {
        self.conn()
            .execute(
                "INSERT INTO conversions (ctx, event_type, value, idempotency_key) VALUES (?1, ?2, ?3, ?4)",
                params![ctx, event, value, key],
            )
            .map(drop)
    }

    /// `(count, revenue)` of conversions whose ctx names this handle.
    pub fn conversions(&self, handle: &str) -> (i64, f64) {
        self.conn()
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(value), 0) FROM conversions WHERE ctx LIKE ?1",
                [format!("{handle}.%")],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or((0, 0.0))
    }

    /// Conversions stored with this idempotency key.
    pub fn conversions_with_key(&self, key: &str) -> i64 {
        self.conn()
            .query_row("SELECT COUNT(*) FROM conversions WHERE idempotency_key = ?1", [key], |r| r.get(0))
            .unwrap_or(0)
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
        assert_eq!(db.link("acme", "launch"), Some(body));
        assert_eq!(db.members("acme"), [("u".to_owned(), "OWNER".to_owned())]);
    }
}
