//! Rate-limit and quota counters in the server's database: every process on one
//! database counts together, and a restart keeps the counts (the daily write quota
//! especially).

use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, params};
use tenx_server_runtime::{Hit, RateLimiter, StoreFuture};

use crate::Db;
use crate::db::millis;

/// How often windows that ended are deleted, at most.
const SWEEP_EVERY_MS: i64 = 60_000;

impl RateLimiter for Db {
    fn hit<'a>(&'a self, key: &'a str, limit: u32, window: Duration, now: SystemTime) -> StoreFuture<'a, Hit> {
        // A store that cannot count says so; the router decides what that means.
        let key = key.to_owned();
        self.store_op(move |_, conn| hit_on(conn, &key, limit, window, now))
    }
}

impl Db {
    /// [`RateLimiter::hit`] on this database, here and now.
    pub fn hit_now(&self, key: &str, limit: u32, window: Duration, now: SystemTime) -> rusqlite::Result<Hit> {
        hit_on(&mut self.store_conn(), key, limit, window, now)
    }
}

/// [`RateLimiter::hit`] on `conn`.
fn hit_on(conn: &mut Connection, key: &str, limit: u32, window: Duration, now: SystemTime) -> rusqlite::Result<Hit> {
    let now_ms = millis(now);
    let len = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
    let start = now_ms - now_ms.rem_euclid(len);
    let wait = Duration::from_millis(u64::try_from(start + len - now_ms).unwrap_or(0));
    let count = count(conn, key, start, len, now_ms)?;
    Ok(if count <= i64::from(limit) { Ok(u32::try_from(count).unwrap_or(u32::MAX)) } else { Err(wait) })
}

/// Counts one request in the window starting at `start`, in one IMMEDIATE transaction
/// (another process waits for it); a window that ended starts over.
fn count(conn: &mut Connection, key: &str, start: i64, len: i64, now_ms: i64) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let count: i64 = tx.query_row(
        "INSERT INTO rate_windows (key, start, len, count) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (key) DO UPDATE SET
               count = CASE WHEN start = excluded.start AND len = excluded.len THEN count + 1 ELSE 1 END,
               start = excluded.start, len = excluded.len
             RETURNING count",
        params![key, start, len],
        |r| r.get(0),
    )?;
    // Keys of windows that ended are swept out once a minute: the table holds the
    // keys of live windows, not every client ever seen.
    let swept: Option<i64> = tx
        .query_row("SELECT value FROM settings WHERE key = 'rate_swept_at'", [], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|v| v.parse().ok());
    if swept.is_none_or(|at| now_ms - at >= SWEEP_EVERY_MS) {
        tx.execute("DELETE FROM rate_windows WHERE start + len <= ?1", [now_ms])?;
        tx.execute(
                "INSERT INTO settings (key, value) VALUES ('rate_swept_at', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [now_ms.to_string()],
            )?;
    }
    tx.commit()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn counts_per_window_and_start_over_in_the_next() {
        let db = Db::in_memory().expect("db");
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let minute = Duration::from_secs(60);
        assert_eq!(db.hit_now("k", 2, minute, t).expect("db"), Ok(1));
        assert_eq!(db.hit_now("k", 2, minute, t + Duration::from_secs(1)).expect("db"), Ok(2));
        let wait = db.hit_now("k", 2, minute, t + Duration::from_secs(2)).expect("db").expect_err("over the limit");
        assert!(wait <= minute && wait > Duration::ZERO, "{wait:?}");
        assert_eq!(db.hit_now("other", 2, minute, t).expect("db"), Ok(1));
        assert_eq!(db.hit_now("k", 2, minute, t + minute).expect("db"), Ok(1), "a new window starts over");
    }

    #[test]
    fn ended_windows_are_swept() {
        let db = Db::in_memory().expect("db");
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for i in 0..100 {
            let _ = db.hit_now(&format!("client-{i}"), 5, Duration::from_secs(60), t);
        }
        let _ = db.hit_now("late", 5, Duration::from_secs(60), t + Duration::from_secs(3600));
        let left: i64 = db.conn().query_row("SELECT COUNT(*) FROM rate_windows", [], |r| r.get(0)).expect("count");
        assert_eq!(left, 1);
    }
}
