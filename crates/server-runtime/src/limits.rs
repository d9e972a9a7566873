//! Rate limits: requests per minute per key, and daily write quotas.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::StoreFuture;

/// A request counted ([`Ok`] with the count in its window, this one included), or
/// refused ([`Err`] with the wait until the window ends).
pub type Hit = Result<u32, Duration>;

/// Counts requests in fixed windows. [`MemoryLimiter`] counts in this process; a store
/// shared by every instance (the reference server's SQLite, [`RedisStore`](crate::RedisStore))
/// makes a limit hold across a cluster.
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one request for `key` in the fixed window of `window` containing `now`
    /// (a shared store may read its own clock instead, so that every instance agrees);
    /// `Err(wait)` inside when `limit` requests were already counted in it.
    fn hit<'a>(&'a self, key: &'a str, limit: u32, window: Duration, now: SystemTime) -> StoreFuture<'a, Hit>;
}

/// Fixed-window counters in memory, at most [`MemoryLimiter::MAX_KEYS`] of them.
pub struct MemoryLimiter {
    windows: Mutex<HashMap<String, Slot>>,
    max_keys: usize,
}

/// A key's window: its index, its length in milliseconds, and the count in it.
#[derive(Clone, Copy)]
struct Slot {
    index: u64,
    len: u64,
    count: u32,
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        MemoryLimiter { windows: Mutex::default(), max_keys: Self::MAX_KEYS }
    }
}

impl MemoryLimiter {
    /// Keys counted at once: past it, ended windows are dropped, and while every slot
    /// is still live a new key is refused (it waits for a window to end) rather than
    /// let memory grow with the number of clients.
    pub const MAX_KEYS: usize = 100_000;

    /// No counts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A limiter holding at most `max_keys` keys.
    pub fn with_max_keys(max_keys: usize) -> Self {
        MemoryLimiter { windows: Mutex::default(), max_keys: max_keys.max(1) }
    }
}

impl RateLimiter for MemoryLimiter {
    fn hit<'a>(&'a self, key: &'a str, limit: u32, window: Duration, now: SystemTime) -> StoreFuture<'a, Hit> {
        Box::pin(std::future::ready(Ok(self.count(key, limit, window, now))))
    }
}

impl MemoryLimiter {
    /// [`RateLimiter::hit`], here and now: memory never fails to answer.
    pub fn count(&self, key: &str, limit: u32, window: Duration, now: SystemTime) -> Hit {
        // Before the epoch counts as the epoch: clocks that far off are not worth a failure.
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let now_ms = u64::try_from(since.as_millis()).unwrap_or(u64::MAX);
        let len = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let index = now_ms / len;
        let wait = |index: u64, len: u64| Duration::from_millis((index + 1).saturating_mul(len).saturating_sub(now_ms));
        // A poisoned lock only means another request panicked holding it; the counts are
        // plain integers and still valid, so keep limiting rather than let all through.
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Look up by `&str` first: the key is allocated only the first time it is seen.
        if !windows.contains_key(key) {
            if windows.len() >= self.max_keys {
                windows.retain(|_, s| now_ms / s.len == s.index);
            }
            if windows.len() >= self.max_keys {
                let soonest = windows.values().map(|s| wait(s.index, s.len)).min().unwrap_or(window);
                return Err(soonest);
            }
            windows.insert(key.to_owned(), Slot { index, len, count: 0 });
        }
        let slot = windows.get_mut(key).expect("the key was inserted above");
        if slot.index != index || slot.len != len {
            *slot = Slot { index, len, count: 0 };
        }
        if slot.count >= limit {
            return Err(wait(index, len));
        }
        slot.count += 1;
        Ok(slot.count)
    }
}

/// Seconds for `Retry-After`: the wait rounded up, at least 1.
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_window() {
        let l = MemoryLimiter::new();
        let t = UNIX_EPOCH + Duration::from_secs(120);
        for n in 1..=3 {
            assert_eq!(l.count("a", 3, Duration::from_secs(60), t), Ok(n));
        }
        let wait = l.count("a", 3, Duration::from_secs(60), t + Duration::from_secs(20));
        assert_eq!(wait, Err(Duration::from_secs(40)));
        assert_eq!(l.count("b", 3, Duration::from_secs(60), t), Ok(1), "another key is unaffected");
        assert_eq!(l.count("a", 3, Duration::from_secs(60), t + Duration::from_secs(60)), Ok(1), "a new window");
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(40_001)), 41);
    }

    #[test]
    fn memory_stays_bounded_and_full_means_wait() {
        let l = MemoryLimiter::with_max_keys(2);
        let minute = Duration::from_secs(60);
        let t = UNIX_EPOCH + Duration::from_secs(600);
        assert_eq!(l.count("a", 5, minute, t), Ok(1));
        assert_eq!(l.count("b", 5, minute, t), Ok(1));
        // A third client while both windows are live: refused until the first one ends.
        assert_eq!(l.count("c", 5, minute, t + Duration::from_secs(15)), Err(Duration::from_secs(45)));
        // Once they have ended, their slots are reused.
        assert_eq!(l.count("c", 5, minute, t + minute), Ok(1));
        assert!(l.windows.lock().map(|w| w.len()).unwrap_or(0) <= 2);
    }

    #[test]
    fn a_poisoned_lock_still_limits() {
        let l = std::sync::Arc::new(MemoryLimiter::new());
        let t = UNIX_EPOCH;
        assert_eq!(l.count("a", 1, Duration::from_secs(60), t), Ok(1));
        let l2 = l.clone();
        let _ = std::thread::spawn(move || {
            let _guard = l2.windows.lock();
            panic!("poison the lock");
        })
        .join();
        assert!(l.windows.is_poisoned());
        assert!(l.count("a", 1, Duration::from_secs(60), t).is_err(), "the spent window stays spent");
    }
}
