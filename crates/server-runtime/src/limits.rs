//! Rate limits: requests per minute per key, and daily write quotas.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Counts requests in windows. The in-memory [`MemoryLimiter`] ships; a cluster would
/// back this with a shared store.
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one request for `key` in the fixed window of `window` containing `now`;
    /// `Err(wait)` when `limit` requests were already counted in it.
    fn hit(&self, key: &str, limit: u32, window: Duration, now: SystemTime) -> Result<u32, Duration>;
}

/// Fixed-window counters in memory.
#[derive(Default)]
pub struct MemoryLimiter {
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl MemoryLimiter {
    /// No counts yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl RateLimiter for MemoryLimiter {
    fn hit(&self, key: &str, limit: u32, window: Duration, now: SystemTime) -> Result<u32, Duration> {
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let len = window.as_millis().max(1) as u64;
        let index = since.as_millis() as u64 / len;
        let Ok(mut windows) = self.windows.lock() else { return Ok(0) };
        // Look up by `&str` first: the key is allocated only the first time it is seen.
        if !windows.contains_key(key) {
            windows.insert(key.to_owned(), (index, 0));
        }
        let Some(slot) = windows.get_mut(key) else { return Ok(0) };
        if slot.0 != index {
            *slot = (index, 0);
        }
        if slot.1 >= limit {
            let ends = Duration::from_millis((index + 1) * len);
            return Err(ends.saturating_sub(since));
        }
        slot.1 += 1;
        Ok(slot.1)
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
            assert_eq!(l.hit("a", 3, Duration::from_secs(60), t), Ok(n));
        }
        let wait = l.hit("a", 3, Duration::from_secs(60), t + Duration::from_secs(20));
        assert_eq!(wait, Err(Duration::from_secs(40)));
        assert_eq!(l.hit("b", 3, Duration::from_secs(60), t), Ok(1), "another key is unaffected");
        assert_eq!(l.hit("a", 3, Duration::from_secs(60), t + Duration::from_secs(60)), Ok(1), "a new window");
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(40_001)), 41);
    }
}
