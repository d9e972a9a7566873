//! Idempotency records in the server's database: an answered key is remembered across
//! restarts and by every process on the database, and a key another process is still
//! answering is waited on.

use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, params};
use tenx_server_runtime::{IdempotencyStore, Reservation, StoreFuture, Stored};
use tokio::sync::watch;

use crate::Db;
use crate::db::millis;

/// A claim older than this is taken over: the process that made it stopped answering
/// (a crash between the effect and the record; the effect's own transaction decides
/// what the retry finds).
const ABANDONED_AFTER_MS: i64 = 30_000;
/// How often a waiter looks at another process's claim.
const POLL: Duration = Duration::from_millis(25);

impl IdempotencyStore for Db {
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        fingerprint: [u8; 32],
        now: SystemTime,
    ) -> StoreFuture<'a, Reservation> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.store_op(move |db, conn| db.reserve_on(conn, &scope, &key, fingerprint, now))
    }

    fn complete<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        answer: Option<Stored>,
        keep_until: SystemTime,
    ) -> StoreFuture<'a, ()> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.store_op(move |_, conn| complete_on(conn, &scope, &key, answer.as_ref(), keep_until))
    }
}

impl Db {
    /// [`IdempotencyStore::reserve`] on this database, here and now.
    pub fn reserve_now(
        &self,
        scope: &str,
        key: &str,
        fingerprint: [u8; 32],
        now: SystemTime,
    ) -> rusqlite::Result<Reservation> {
        self.reserve_on(&mut self.store_conn(), scope, key, fingerprint, now)
    }

    /// [`IdempotencyStore::reserve`] on `conn`.
    fn reserve_on(
        &self,
        conn: &mut Connection,
        scope: &str,
        key: &str,
        fingerprint: [u8; 32],
        now: SystemTime,
    ) -> rusqlite::Result<Reservation> {
        Ok(match claim(conn, scope, key, &fingerprint, millis(now))? {
            Claim::New => Reservation::New,
            Claim::Done(stored) => Reservation::Done(stored),
            Claim::Conflict => Reservation::Conflict,
            Claim::Running => Reservation::Pending(self.watch(scope, key)),
        })
    }

    /// [`IdempotencyStore::complete`] on this database, here and now.
    pub fn complete_now(
        &self,
        scope: &str,
        key: &str,
        answer: Option<Stored>,
        keep_until: SystemTime,
    ) -> rusqlite::Result<()> {
        complete_on(&self.store_conn(), scope, key, answer.as_ref(), keep_until)
    }
}

/// [`IdempotencyStore::complete`] on `conn`.
fn complete_on(
    conn: &Connection,
    scope: &str,
    key: &str,
    answer: Option<&Stored>,
    keep_until: SystemTime,
) -> rusqlite::Result<()> {
    match answer {
        Some(stored) => conn.execute(
            "UPDATE idempotency SET state = 'done', status = ?3, body = ?4, keep_until = ?5 WHERE scope = ?1 AND key = ?2",
            params![scope, key, stored.status, stored.body.to_string(), millis(keep_until)],
        ),
        // The handler failed: release the key, so a retry runs again.
        None => conn.execute("DELETE FROM idempotency WHERE scope = ?1 AND key = ?2", params![scope, key]),
    }?;
    Ok(())
}

/// A key's row.
struct Record {
    fingerprint: Vec<u8>,
    state: String,
    status: Option<u16>,
    body: Option<String>,
    claimed_at: i64,
    keep_until: Option<i64>,
}

impl Record {
    /// The answer, once the key is answered.
    fn stored(&self) -> Option<Stored> {
        (self.state == "done").then(|| Stored {
            status: self.status.unwrap_or(200),
            body: self.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default(),
        })
    }
}

fn record(conn: &rusqlite::Connection, scope: &str, key: &str) -> rusqlite::Result<Option<Record>> {
    conn.query_row(
        "SELECT fingerprint, state, status, body, claimed_at, keep_until FROM idempotency WHERE scope = ?1 AND key = ?2",
        params![scope, key],
        |r| {
            Ok(Record {
                fingerprint: r.get(0)?,
                state: r.get(1)?,
                status: r.get(2)?,
                body: r.get(3)?,
                claimed_at: r.get(4)?,
                keep_until: r.get(5)?,
            })
        },
    )
    .optional()
}

enum Claim {
    New,
    Done(Stored),
    Conflict,
    Running,
}

/// Claims `key` for this request in one IMMEDIATE transaction, or says what holds it.
fn claim(conn: &mut Connection, scope: &str, key: &str, fingerprint: &[u8; 32], now: i64) -> rusqlite::Result<Claim> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let claim = match record(&tx, scope, key)? {
        Some(r) => {
            let expired = r.state == "done" && r.keep_until.is_some_and(|k| k <= now);
            let abandoned = r.state == "running" && now - r.claimed_at >= ABANDONED_AFTER_MS;
            if expired || abandoned {
                None
            } else if r.fingerprint != fingerprint.as_slice() {
                Some(Claim::Conflict)
            } else if let Some(stored) = r.stored() {
                Some(Claim::Done(stored))
            } else {
                Some(Claim::Running)
            }
        }
        None => None,
    };
    if let Some(claim) = claim {
        return Ok(claim);
    }
    tx.execute(
        "INSERT INTO idempotency (scope, key, fingerprint, state, claimed_at) VALUES (?1, ?2, ?3, 'running', ?4)
             ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'running',
               status = NULL, body = NULL, claimed_at = excluded.claimed_at, keep_until = NULL",
        params![scope, key, fingerprint.as_slice(), now],
    )?;
    // Answered keys past their retention go, so the table holds live keys only.
    tx.execute("DELETE FROM idempotency WHERE state = 'done' AND keep_until <= ?1", [now])?;
    tx.commit()?;
    Ok(Claim::New)
}

impl Db {
    /// A channel that gets the answer of a key another request (here or in another
    /// process) is running, or closes when that request gave the key up.
    fn watch(&self, scope: &str, key: &str) -> watch::Receiver<Option<Stored>> {
        let (tx, rx) = watch::channel(None);
        let (db, scope, key) = (self.clone(), scope.to_owned(), key.to_owned());
        // A claim nobody answers (its process died) is taken over after
        // `ABANDONED_AFTER_MS`: the channel then closes, and the waiter claims it again.
        let give_up = tokio::time::Instant::now() + Duration::from_millis(ABANDONED_AFTER_MS.unsigned_abs());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(POLL).await;
                let (s, k) = (scope.clone(), key.clone());
                let found = db.store_op(move |_, conn| record(conn, &s, &k)).await;
                match found {
                    Ok(Some(r)) if r.state == "done" => {
                        let _ = tx.send(r.stored());
                        return;
                    }
                    // Still running: keep waiting, unless nobody waits any more or
                    // the claim is old enough to be taken over.
                    Ok(Some(_)) if !tx.is_closed() && tokio::time::Instant::now() < give_up => {}
                    // Given up (or the store failed): the waiter tries to claim it again.
                    _ => return,
                }
            }
        });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn stored(n: i64) -> Stored {
        Stored { status: 201, body: serde_json::json!({ "n": n }) }
    }

    #[tokio::test]
    async fn a_key_is_claimed_answered_remembered_and_forgotten() {
        let db = Db::in_memory().expect("db");
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fp = [1u8; 32];
        assert!(matches!(db.reserve_now("r", "k", fp, t).expect("db"), Reservation::New));
        // While it runs, a repeat waits; another body is a conflict.
        assert!(matches!(db.reserve_now("r", "k", fp, t).expect("db"), Reservation::Pending(_)));
        assert!(matches!(db.reserve_now("r", "k", [2u8; 32], t).expect("db"), Reservation::Conflict));
        db.complete_now("r", "k", Some(stored(1)), t + Duration::from_secs(60)).expect("db");
        assert!(matches!(db.reserve_now("r", "k", fp, t).expect("db"), Reservation::Done(s) if s == stored(1)));
        // Past its retention the key is new again.
        assert!(matches!(db.reserve_now("r", "k", fp, t + Duration::from_secs(61)).expect("db"), Reservation::New));
        // A claim nobody completes is taken over once abandoned; a released key is new.
        assert!(matches!(db.reserve_now("r", "a", fp, t).expect("db"), Reservation::Pending(_) | Reservation::New));
        assert!(matches!(db.reserve_now("r", "a", fp, t + Duration::from_secs(31)).expect("db"), Reservation::New));
        db.complete_now("r", "a", None, t).expect("db");
        assert!(matches!(db.reserve_now("r", "a", fp, t).expect("db"), Reservation::New));
    }

    #[tokio::test]
    async fn a_waiter_gets_the_answer_another_process_writes() {
        let db = Db::in_memory().expect("db");
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(matches!(db.reserve_now("r", "k", [1; 32], t).expect("db"), Reservation::New));
        let Reservation::Pending(mut rx) = db.reserve_now("r", "k", [1; 32], t).expect("db") else {
            panic!("a running key waits")
        };
        db.complete_now("r", "k", Some(stored(7)), t + Duration::from_secs(60)).expect("db");
        rx.changed().await.expect("the answer comes");
        assert_eq!(rx.borrow().clone(), Some(stored(7)));
    }
}
