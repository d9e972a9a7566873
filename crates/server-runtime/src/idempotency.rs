//! Idempotency keys: the first request with a key runs; a repeat with the same key and
//! body gets the first answer marked deduplicated; the same key with another body is a
//! conflict; concurrent requests with one key wait for the first instead of running.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

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
}

/// Where idempotency records live.
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Reserves `key` in `scope` for a body with this fingerprint.
    fn reserve(&self, scope: &str, key: &str, fingerprint: [u8; 32]) -> Reservation;
    /// Stores the answer of a reservation; `None` releases it (the handler failed, so a
    /// retry may run again).
    fn complete(&self, scope: &str, key: &str, answer: Option<Stored>);
}

enum Entry {
    Running([u8; 32], watch::Sender<Option<Stored>>),
    Done([u8; 32], Stored),
}

/// Idempotency records in memory.
#[derive(Default)]
pub struct MemoryIdempotency {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl MemoryIdempotency {
    /// No records.
    pub fn new() -> Self {
        Self::default()
    }
}

impl IdempotencyStore for MemoryIdempotency {
    fn reserve(&self, scope: &str, key: &str, fingerprint: [u8; 32]) -> Reservation {
        // A poisoned lock only means a panic between two map operations; answering
        // `New` here would run the effect again, so keep using the records.
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match entries.get(&(scope.to_owned(), key.to_owned())) {
            Some(Entry::Done(fp, stored)) if *fp == fingerprint => Reservation::Done(stored.clone()),
            Some(Entry::Running(fp, sender)) if *fp == fingerprint => Reservation::Pending(sender.subscribe()),
            Some(_) => Reservation::Conflict,
            None => {
                entries.insert((scope.to_owned(), key.to_owned()), Entry::Running(fingerprint, watch::channel(None).0));
                Reservation::New
            }
        }
    }

    fn complete(&self, scope: &str, key: &str, answer: Option<Stored>) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = (scope.to_owned(), key.to_owned());
        match (entries.remove(&id), answer) {
            (Some(Entry::Running(fp, sender)), Some(stored)) => {
                let _ = sender.send(Some(stored.clone()));
                entries.insert(id, Entry::Done(fp, stored));
            }
            // Released: waiters see the channel close and reserve again.
            (Some(Entry::Running(..)), None) | (None, _) => {}
            (Some(done), _) => {
                entries.insert(id, done);
            }
        }
    }
}

/// The fingerprint of a JSON body: SHA-256 of its canonical form (keys sorted).
pub fn fingerprint(body: &Value) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(body).expect("a JSON value always serializes")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_done_conflict_and_release() {
        let store = MemoryIdempotency::new();
        let (a, b) = (fingerprint(&serde_json::json!({"x": 1})), fingerprint(&serde_json::json!({"x": 2})));
        assert!(matches!(store.reserve("r", "k", a), Reservation::New));
        assert!(matches!(store.reserve("r", "k", a), Reservation::Pending(_)));
        assert!(matches!(store.reserve("r", "k", b), Reservation::Conflict));
        store.complete("r", "k", Some(Stored { status: 201, body: serde_json::json!({"id": 1}) }));
        assert!(matches!(store.reserve("r", "k", a), Reservation::Done(Stored { status: 201, .. })));
        assert!(matches!(store.reserve("r", "k2", a), Reservation::New));
        store.complete("r", "k2", None);
        assert!(matches!(store.reserve("r", "k2", a), Reservation::New), "a failed first run is released");
        assert_eq!(
            fingerprint(&serde_json::json!({"b": 1, "a": 2})),
            fingerprint(&serde_json::json!({"a": 2, "b": 1}))
        );
    }
}
