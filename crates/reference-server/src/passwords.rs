//! Password hashing under a bound that holds. argon2id spends tens of milliseconds of CPU
//! and 19 MiB of memory per hash on purpose (OWASP's first recommended setting: m = 19 MiB,
//! t = 2, p = 1, the `argon2` crate's default), so a login flood must not decide how many
//! run at once:
//! - at most `concurrent` hashes run, each on the blocking pool holding its permit until
//!   the hash ends, whatever happens to the request (a permit dropped with a cancelled
//!   request let its hash run on while another started: a flood of clients that gave up
//!   ran hashes without bound, 19 MiB each);
//! - at most `waiting` requests wait for a permit, each for at most `wait`; past either,
//!   the request is answered at once with the API's overload answer (503 with
//!   `Retry-After`, which clients retry), without hashing.
//!
//! Known and unknown emails take the same path (an unknown one is checked against a
//! stand-in hash), so under the bound they still take the same time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tenx_server::Failure;
use tenx_server_runtime::Situation;
use tokio::sync::Semaphore;

/// How many password hashes may run and wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordBound {
    /// Hashes that run at once.
    pub concurrent: usize,
    /// Requests that may wait for a turn.
    pub waiting: usize,
    /// How long a request may wait for its turn.
    pub wait: Duration,
}

impl Default for PasswordBound {
    /// Half the cores (the rest serve every other route), as many waiting as can be served
    /// within the wait at about 20 hashes a second per core, and a 2 s wait: the memory
    /// the hashes hold is `concurrent` × 19 MiB.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let concurrent = (cores / 2).max(1);
        PasswordBound { concurrent, waiting: 32 * concurrent, wait: Duration::from_secs(2) }
    }
}

/// Runs password work within a [`PasswordBound`].
#[derive(Clone)]
pub(crate) struct Passwords {
    bound: PasswordBound,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    /// The most hashes seen running at once (what the tests hold to the bound).
    peak: Arc<AtomicUsize>,
}

/// Counts a unit in `counter` while alive.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn enter(counter: &Arc<AtomicUsize>) -> (Counted, usize) {
        let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
        (Counted(counter.clone()), now)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The overload answer: nothing was hashed, try again shortly.
fn overloaded() -> Failure {
    Failure::of(Situation::Unavailable, "Too many passwords are being checked right now; try again shortly.")
        .retry_after(1)
}

impl Passwords {
    pub(crate) fn new(bound: PasswordBound) -> Self {
        Passwords {
            bound,
            permits: Arc::new(Semaphore::new(bound.concurrent.max(1))),
            waiting: Arc::default(),
            running: Arc::default(),
            peak: Arc::default(),
        }
    }

    /// The most hashes that ran at once so far.
    #[cfg(test)]
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `work` on the blocking pool once a permit is free, within the bound.
    pub(crate) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Failure> {
        let (queued, position) = Counted::enter(&self.waiting);
        if position > self.bound.waiting {
            return Err(overloaded());
        }
        let permit = match tokio::time::timeout(self.bound.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(closed)) => return Err(Failure::internal(closed)),
            Err(_) => return Err(overloaded()),
        };
        drop(queued);
        let (running, peak) = (self.running.clone(), self.peak.clone());
        let hashing = tokio::task::spawn_blocking(move || {
            // The permit and the count end with the hash, not with the request.
            let _permit = permit;
            let (_running, now) = Counted::enter(&running);
            peak.fetch_max(now, Ordering::SeqCst);
            work()
        });
        hashing.await.map_err(Failure::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow() -> impl FnOnce() + Send + 'static {
        || std::thread::sleep(Duration::from_millis(40))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_than_the_bound_even_when_their_requests_are_dropped() {
        let passwords = Passwords::new(PasswordBound { concurrent: 1, waiting: 100, wait: Duration::from_secs(10) });
        // One request every 10 ms, each giving up 5 ms in, while its hash (40 ms) runs or
        // it waits for its turn: a permit that ended with its request would let the
        // next one start a hash beside the one still running.
        for _ in 0..20 {
            let gave_up = tokio::time::timeout(Duration::from_millis(5), passwords.run(slow())).await.is_err();
            assert!(gave_up, "the request gave up before its hash ended");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Whatever was started runs to its end; none of it beside another.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let finished = passwords.run(|| ()).await;
        assert!(finished.is_ok());
        assert_eq!(passwords.peak(), 1, "hashes ran beside each other");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_queue_or_the_wait_a_request_is_answered_overloaded_without_hashing() {
        let passwords = Passwords::new(PasswordBound { concurrent: 1, waiting: 3, wait: Duration::from_millis(100) });
        let hashed = Arc::new(AtomicUsize::new(0));
        let calls = (0..12).map(|_| {
            let (p, hashed) = (passwords.clone(), hashed.clone());
            async move {
                p.run(move || {
                    hashed.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(40));
                })
                .await
            }
        });
        let answers = futures_util::future::join_all(calls).await;
        let refused: Vec<&Failure> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
        // Three wait at most, and 100 ms of waiting serves about two of them.
        assert!(refused.len() >= 8, "{} refused", refused.len());
        assert_eq!(hashed.load(Ordering::SeqCst), answers.len() - refused.len(), "a refused request hashed nothing");
        for failure in refused {
            assert_eq!((failure.situation, failure.retry_after), (Some(Situation::Unavailable), Some(1)));
        }
    }
}
