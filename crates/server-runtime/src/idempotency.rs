//! Idempotency keys: the first request with a key runs; a repeat with the same key and
//! body gets the first answer marked deduplicated; the same key with another body is a
//! conflict; concurrent requests with one key wait for the first instead of running.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::store::StoreFuture;

/// A stored answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Its status.
    pub status: u16,
    /// Its JSON body.
    pub body: Value,
}

/// What a key's reservation found.
#[derive(Debug)]
pub enum Reservation {
    /// The key is new: run the handler, then [`IdempotencyStore::complete`].
    New,
    /// The key was answered before with the same body.
    Done(Stored),
    /// The key was used with another body.
    Conflict,
    /// The first request with this key is still running: wait for it.
    Pending(watch::Receiver<Option<Stored>>),
    /// The store holds as many keys as it may and none has expired: try again after
    /// this wait (a bounded store refuses rather than grows).
    Full(Duration),
}

/// Where idempotency records live: [`MemoryIdempotency`] in this process; a shared
/// store (the reference server's SQLite, [`RedisStore`](crate::RedisStore)) makes a key
/// hold across restarts and instances.
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Reserves `key` in `scope` for a body with this fingerprint, at `now`.
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        fingerprint: [u8; 32],
        now: SystemTime,
    ) -> StoreFuture<'a, Reservation>;
    /// Stores the answer of a reservation, remembered until `keep_until`; `None`
    /// releases it (the handler failed, so a retry may run again).
    fn complete<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        answer: Option<Stored>,
        keep_until: SystemTime,
    ) -> StoreFuture<'a, ()>;
}

enum Entry {
    Running([u8; 32], watch::Sender<Option<Stored>>),
    Done([u8; 32], Stored, SystemTime),
}

/// Idempotency records in memory: answered keys are forgotten after their retention,
/// and at most [`MemoryIdempotency::MAX_KEYS`] are held at once.
pub struct MemoryIdempotency {
    entries: Mutex<Records>,
    max_keys: usize,
}

#[derive(Default)]
struct Records {
    map: HashMap<(String, String), Entry>,
    /// When expired answers are next swept out.
    next_sweep: Option<SystemTime>,
}

/// How often expired answers are swept out, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

impl Default for MemoryIdempotency {
    fn default() -> Self {
        MemoryIdempotency { entries: Mutex::default(), max_keys: Self::MAX_KEYS }
    }
}

impl MemoryIdempotency {
    /// Keys held at once, running and answered. With keys bounded by the spec (255
    /// bytes for 10x conversions) and answers small, this bounds the store's memory.
    pub const MAX_KEYS: usize = 100_000;

    /// No records.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding at most `max_keys` keys.
    pub fn with_max_keys(max_keys: usize) -> Self {
        MemoryIdempotency { entries: Mutex::default(), max_keys: max_keys.max(1) }
    }

    /// Keys held now (running and answered).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A poisoned lock only means a panic between two map operations; answering `New`
    // instead would run an effect again, so the records stay in use.
    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Records {
    fn sweep(&mut self, now: SystemTime) {
        self.map.retain(|_, e| !matches!(e, Entry::Done(_, _, until) if *until <= now));
        self.next_sweep = Some(now + SWEEP_EVERY);
    }
}

impl IdempotencyStore for MemoryIdempotency {
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        fingerprint: [u8; 32],
        now: SystemTime,
    ) -> StoreFuture<'a, Reservation> {
        Box::pin(std::future::ready(Ok(self.reserve_now(scope, key, fingerprint, now))))
    }

    fn complete<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        answer: Option<Stored>,
        keep_until: SystemTime,
    ) -> StoreFuture<'a, ()> {
        self.complete_now(scope, key, answer, keep_until);
        Box::pin(std::future::ready(Ok(())))
    }
}

impl MemoryIdempotency {
    /// [`IdempotencyStore::reserve`], here and now: memory never fails to answer.
    pub fn reserve_now(&self, scope: &str, key: &str, fingerprint: [u8; 32], now: SystemTime) -> Reservation {
        let mut records = self.lock();
        if records.next_sweep.is_none_or(|at| at <= now) {
            records.sweep(now);
        }
        let id = (scope.to_owned(), key.to_owned());
        match records.map.get(&id) {
            Some(Entry::Done(fp, stored, until)) if *until > now => {
                return if *fp == fingerprint { Reservation::Done(stored.clone()) } else { Reservation::Conflict };
            }
            Some(Entry::Running(fp, sender)) if *fp == fingerprint => return Reservation::Pending(sender.subscribe()),
            Some(Entry::Running(..)) => return Reservation::Conflict,
            // Expired: the key is new again.
            Some(Entry::Done(..)) | None => {}
        }
        if records.map.len() >= self.max_keys {
            records.sweep(now);
            if records.map.len() >= self.max_keys {
                let soonest = records.map.values().filter_map(|e| match e {
                    Entry::Done(_, _, until) => until.duration_since(now).ok(),
                    Entry::Running(..) => None,
                });
                return Reservation::Full(soonest.min().unwrap_or(SWEEP_EVERY).max(Duration::from_secs(1)));
            }
        }
        records.map.insert(id, Entry::Running(fingerprint, watch::channel(None).0));
        Reservation::New
    }

    /// [`IdempotencyStore::complete`], here and now.
    pub fn complete_now(&self, scope: &str, key: &str, answer: Option<Stored>, keep_until: SystemTime) {
        let mut records = self.lock();
        let id = (scope.to_owned(), key.to_owned());
        match (records.map.remove(&id), answer) {
            (Some(Entry::Running(fp, sender)), Some(stored)) => {
                let _ = sender.send(Some(stored.clone()));
                records.map.insert(id, Entry::Done(fp, stored, keep_until));
            }
            // Released: waiters see the channel close and reserve again.
            (Some(Entry::Running(..)), None) | (None, _) => {}
            (Some(done), _) => {
                records.map.insert(id, done);
            }
        }
    }
}

/// The fingerprint of a JSON body: SHA-256 of its canonical form (keys sorted).
pub fn fingerprint(body: &Value) -> [u8; 32] {
    fingerprint_bytes(&serde_json::to_vec(body).expect("a JSON value always serializes"))
}

/// The fingerprint of a raw (`text` or `binary`) body: SHA-256 of its bytes.
pub fn fingerprint_bytes(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_done_conflict_and_release() {
        let store = MemoryIdempotency::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let later = now + Duration::from_secs(3600);
        let (a, b) = (fingerprint(&serde_json::json!({"x": 1})), fingerprint(&serde_json::json!({"x": 2})));
        assert!(matches!(store.reserve_now("r", "k", a, now), Reservation::New));
        assert!(matches!(store.reserve_now("r", "k", a, now), Reservation::Pending(_)));
        assert!(matches!(store.reserve_now("r", "k", b, now), Reservation::Conflict));
        store.complete_now("r", "k", Some(Stored { status: 201, body: serde_json::json!({"id": 1}) }), later);
        assert!(matches!(store.reserve_now("r", "k", a, now), Reservation::Done(Stored { status: 201, .. })));
        assert!(matches!(store.reserve_now("r", "k2", a, now), Reservation::New));
        store.complete_now("r", "k2", None, later);
        assert!(matches!(store.reserve_now("r", "k2", a, now), Reservation::New), "a failed first run is released");
        assert!(matches!(store.reserve_now("r", "k", b, later), Reservation::New), "past its retention the key is new");
        assert_eq!(
            fingerprint(&serde_json::json!({"b": 1, "a": 2})),
            fingerprint(&serde_json::json!({"a": 2, "b": 1}))
        );
    }

    #[test]
    fn ten_thousand_keys_are_forgotten_after_their_retention() {
        let store = MemoryIdempotency::new();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let day = Duration::from_secs(86_400);
        let fp = fingerprint(&serde_json::json!({}));
        for n in 0..10_000 {
            let key = format!("key-{n}");
            assert!(matches!(store.reserve_now("r", &key, fp, start), Reservation::New));
            store.complete_now("r", &key, Some(Stored { status: 200, body: serde_json::json!({}) }), start + day);
        }
        assert_eq!(store.len(), 10_000);
        // The next request after the retention sweeps the expired answers out.
        assert!(matches!(store.reserve_now("r", "fresh", fp, start + day + SWEEP_EVERY), Reservation::New));
        assert_eq!(store.len(), 1, "back to the floor: the one running key");
    }

    #[test]
    fn a_full_store_refuses_new_keys_until_one_expires() {
        let store = MemoryIdempotency::with_max_keys(2);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let fp = fingerprint(&serde_json::json!({}));
        for key in ["a", "b"] {
            assert!(matches!(store.reserve_now("r", key, fp, now), Reservation::New));
            store.complete_now(
                "r",
                key,
                Some(Stored { status: 200, body: serde_json::json!({}) }),
                now + Duration::from_secs(30),
            );
        }
        assert!(
            matches!(store.reserve_now("r", "c", fp, now), Reservation::Full(wait) if wait == Duration::from_secs(30))
        );
        assert!(matches!(store.reserve_now("r", "a", fp, now), Reservation::Done(_)), "known keys still answer");
        assert!(matches!(store.reserve_now("r", "c", fp, now + Duration::from_secs(30)), Reservation::New));
    }
}
