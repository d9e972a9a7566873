//! What the router asks of a shared store (rate-limit counters, idempotency records),
//! and what it does when the store cannot answer.
//!
//! A store may live in another process (SQLite on disk, Redis on the network), so every
//! call is asynchronous, may fail with [`StoreUnavailable`], and is cut off after
//! [`STORE_TIMEOUT`] by the router whatever the backend does: no request waits on a
//! store's future longer than that. (A backend that blocks while making or polling its
//! future cannot be cut off: it must bound its own waits below the timeout, as the
//! reference server's SQLite stores do.) What each check does then is decided once, here:
//!
//! | check                         | store unavailable                                   |
//! |-------------------------------|-----------------------------------------------------|
//! | per-minute limits (plan, user, IP) | counted in this process instead ([`ServerState::local_limiter`](crate::ServerState)): the limit holds per instance, so it degrades to N× with N instances, and reads stay up |
//! | daily write quota             | 503 `unavailable` with `Retry-After`: a write that cannot be counted is not taken |
//! | idempotency key               | 503 `unavailable` with `Retry-After`, before the handler runs: an effect is never run without its record |
//! | recording the answer          | the answer is sent; the key's in-flight marker expires and a retry runs again (the effect's own store decides, as the reference server's conversions do) |
//!
//! A store that failed is left alone for [`STORE_PAUSE`] ([`StoreHealth`]): meanwhile
//! the router answers as above at once instead of making every request wait up to the
//! timeout on a store that is down, and an outage is logged when it starts and when it
//! ends, not once per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use futures_util::FutureExt;

/// The longest the router waits for a store before it answers without it.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// `Retry-After` (seconds) of a 503 answered because a store was unavailable: the
/// pause, so a client's retry is the next one to find out.
pub const UNAVAILABLE_RETRY_AFTER: u64 = STORE_PAUSE.as_secs();

/// How long the router stops asking a store after it failed.
pub const STORE_PAUSE: Duration = Duration::from_secs(2);

/// A store's answer, later.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreUnavailable>> + Send + 'a>>;

/// A store that could not answer: down, unreachable, failing or too slow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreUnavailable(pub String);

/// `call`, failed with [`StoreUnavailable`] if it takes longer than [`STORE_TIMEOUT`].
async fn bounded<T>(what: &str, mut call: StoreFuture<'_, T>) -> Result<T, StoreUnavailable> {
    // A store that answers at once (memory, a local SQLite) needs no timer.
    if let Some(answer) = (&mut call).now_or_never() {
        return answer;
    }
    match tokio::time::timeout(STORE_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreUnavailable(format!("the {what} store did not answer within {STORE_TIMEOUT:?}"))),
    }
}

/// Whether a store failed recently: while it is paused, calls fail at once without
/// asking it; the first call after the pause asks it again. One per store.
#[derive(Debug, Default)]
pub struct StoreHealth {
    /// When the store may be asked again; `None` while it answers.
    paused_until: Mutex<Option<Instant>>,
}

impl StoreHealth {
    /// The store call `ask` makes, through this store's health: failed at once while
    /// the store is paused, without asking it (`ask` is not called: a store that does
    /// its work when asked, as a synchronous one does, would otherwise act on a request
    /// the router then refuses), else bounded by [`STORE_TIMEOUT`]; a failure pauses
    /// the store, an answer ends the pause.
    pub(crate) async fn call<'a, T>(
        &self,
        what: &str,
        ask: impl FnOnce() -> StoreFuture<'a, T>,
    ) -> Result<T, StoreUnavailable> {
        if let Some(until) = *self.lock() {
            if Instant::now() < until {
                return Err(StoreUnavailable(format!(
                    "the {what} store failed less than {STORE_PAUSE:?} ago; it is asked again after that"
                )));
            }
        }
        self.ask(what, ask()).await
    }

    /// Asks the store with `call` even while it is paused (for a record worth trying
    /// whatever the store's last answer was), bounded by [`STORE_TIMEOUT`]; the outcome
    /// pauses the store or ends the pause as in [`StoreHealth::call`].
    pub(crate) async fn ask<T>(&self, what: &str, call: StoreFuture<'_, T>) -> Result<T, StoreUnavailable> {
        let result = bounded(what, call).await;
        let mut paused = self.lock();
        match &result {
            Ok(_) => {
                if paused.take().is_some() {
                    tracing::info!(store = what, "the store answers again");
                }
            }
            Err(e) => {
                if paused.replace(Instant::now() + STORE_PAUSE).is_none() {
                    tracing::warn!(store = what, error = %e, "the store is unavailable; answering without it until it is back");
                }
            }
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // The guarded value is a plain `Option`, valid whatever a panicking holder did.
        self.paused_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A store call that fails (or answers) and counts how often the store was asked.
    /// It counts when made, not when polled, as a synchronous store (SQLite) does its
    /// work when asked: a paused store must not be asked at all.
    fn store<'a>(asked: &'a AtomicUsize, answer: Result<(), &'static str>) -> StoreFuture<'a, ()> {
        asked.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(answer.map_err(|e| StoreUnavailable(e.to_owned()))))
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_store_is_not_asked_again_until_its_pause_ends() {
        let (health, asked) = (StoreHealth::default(), AtomicUsize::new(0));
        assert!(health.call("test", || store(&asked, Err("refused"))).await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // Within the pause: refused at once, the store not asked.
        let started = Instant::now();
        for _ in 0..10 {
            let err = health.call("test", || store(&asked, Ok(()))).await.expect_err("paused");
            assert!(err.0.contains("asked again after"), "{err}");
        }
        assert_eq!((asked.load(Ordering::SeqCst), started.elapsed()), (1, Duration::ZERO));
        // After it: asked again; a failure pauses it again, an answer ends the pause.
        tokio::time::advance(STORE_PAUSE).await;
        assert!(health.call("test", || store(&asked, Err("still down"))).await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        assert!(health.call("test", || store(&asked, Ok(()))).await.is_err(), "paused again");
        tokio::time::advance(STORE_PAUSE).await;
        health.call("test", || store(&asked, Ok(()))).await.expect("back");
        health.call("test", || store(&asked, Ok(()))).await.expect("no pause once it answers");
        assert_eq!(asked.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_store_costs_one_timeout_per_pause_not_one_per_request() {
        let health = StoreHealth::default();
        let started = Instant::now();
        for _ in 0..5 {
            let hang = || -> StoreFuture<'_, ()> { Box::pin(std::future::pending()) };
            assert!(health.call("test", hang).await.is_err());
        }
        assert_eq!(started.elapsed(), STORE_TIMEOUT, "the first waits the timeout, the next four not at all");
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_that_hangs_is_cut_off_at_the_timeout() {
        let started = tokio::time::Instant::now();
        let hang: StoreFuture<'_, ()> = Box::pin(std::future::pending());
        let err = bounded("test", hang).await.expect_err("cut off");
        assert_eq!(started.elapsed(), STORE_TIMEOUT);
        assert!(err.0.contains("did not answer within 2s"), "{err}");
    }
}
