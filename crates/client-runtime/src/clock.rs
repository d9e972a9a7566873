//! Time, injectable: the retry loop sleeps and reads the wall clock through [`Clock`], so
//! tests run the documented schedule (1 s, 2 s, 4 s, …) in microseconds.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A boxed sleep.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the retry loop gets the time and how it waits.
pub trait Clock: Send + Sync + 'static {
    /// The wall-clock time (for `Retry-After` HTTP dates).
    fn now(&self) -> SystemTime;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: `SystemTime::now` and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A virtual clock for tests: sleeping returns at once, moves the clock forward and
/// records the wait.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    state: Arc<Mutex<(SystemTime, Vec<Duration>)>>,
}

impl VirtualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        VirtualClock { state: Arc::new(Mutex::new((start, Vec::new()))) }
    }

    /// Every wait so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().map(|s| s.1.clone()).unwrap_or_default()
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        // A fixed start keeps HTTP-date tests reproducible.
        Self::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000))
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        self.state.lock().map(|s| s.0).unwrap_or(SystemTime::UNIX_EPOCH)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        if let Ok(mut s) = self.state.lock() {
            s.0 += duration;
            s.1.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}
