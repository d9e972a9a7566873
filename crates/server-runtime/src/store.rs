//! What the router asks of a shared store (rate-limit counters, idempotency records),
//! and what it does when the store cannot answer.
//!
//! A store may live in another process (SQLite on disk, Redis on the network), so every
//! call is asynchronous, may fail with [`StoreUnavailable`], and is cut off after
//! [`STORE_TIMEOUT`] by the router whatever the backend does: no request waits on a
//! store longer than that. What each check does then is decided once, here:
//!
//! | check                         | store unavailable                                   |
//! |-------------------------------|-----------------------------------------------------|
//! | per-minute limits (plan, user, IP) | counted in this process instead ([`ServerState::local_limiter`](crate::ServerState)): the limit holds per instance, so it degrades to N× with N instances, and reads stay up |
//! | daily write quota             | 503 `unavailable` with `Retry-After`: a write that cannot be counted is not taken |
//! | idempotency key               | 503 `unavailable` with `Retry-After`, before the handler runs: an effect is never run without its record |
//! | recording the answer          | the answer is sent; the key's in-flight marker expires and a retry runs again (the effect's own store decides, as the reference server's conversions do) |

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::FutureExt;

/// The longest the router waits for a store before it answers without it.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// `Retry-After` (seconds) of a 503 answered because a store was unavailable.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 2;

/// A store's answer, later.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreUnavailable>> + Send + 'a>>;

/// A store that could not answer: down, unreachable, failing or too slow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreUnavailable(pub String);

/// `call`, failed with [`StoreUnavailable`] if it takes longer than [`STORE_TIMEOUT`].
pub(crate) async fn bounded<T>(what: &str, mut call: StoreFuture<'_, T>) -> Result<T, StoreUnavailable> {
    // A store that answers at once (memory, a local SQLite) needs no timer.
    if let Some(answer) = (&mut call).now_or_never() {
        return answer;
    }
    match tokio::time::timeout(STORE_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreUnavailable(format!("the {what} store did not answer within {STORE_TIMEOUT:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_store_that_hangs_is_cut_off_at_the_timeout() {
        let started = tokio::time::Instant::now();
        let hang: StoreFuture<'_, ()> = Box::pin(std::future::pending());
        let err = bounded("test", hang).await.expect_err("cut off");
        assert_eq!(started.elapsed(), STORE_TIMEOUT);
        assert!(err.0.contains("did not answer within 2s"), "{err}");
    }
}
