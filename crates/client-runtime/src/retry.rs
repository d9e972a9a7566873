//! The retry policy and the one function that decides, after a failed attempt, whether
//! to wait and try again.

use std::time::{Duration, SystemTime};

use tenx_error_model::RetryClass;

/// Randomisation of backoff waits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// Exactly the documented schedule.
    None,
    /// Each wait is scaled by a random factor in `[1 - fraction, 1]`.
    Proportional(f64),
}

/// When and how a client retries. The generated client builds it from the spec's
/// `retry` section; a client or a single call may override any part.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Statuses answered after the `Retry-After` wait (429).
    pub after_header_statuses: Vec<u16>,
    /// Statuses retried on the backoff schedule (500, 502, 503, 504).
    pub backoff_statuses: Vec<u16>,
    /// Statuses never retried (400, 401, 403, 404, 409).
    pub never_statuses: Vec<u16>,
    /// The wait before each retry: the first retry waits `backoff[0]`.
    pub backoff: Vec<Duration>,
    /// Requests at most, the first included.
    pub max_attempts: u32,
    /// A `Retry-After` longer than this is not waited: the error returns at once.
    pub max_retry_after: Duration,
    /// Whether connect failures and timeouts are retried on the backoff schedule.
    pub retry_transport_errors: bool,
    /// Randomisation of backoff waits (off by default, so the schedule holds).
    pub jitter: Jitter,
    /// Methods safe to send twice: a write with another method is retried only when it
    /// carries an idempotency key.
    pub safe_methods: Vec<reqwest::Method>,
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        RetryPolicy {
            after_header_statuses: Vec::new(),
            backoff_statuses: Vec::new(),
            never_statuses: Vec::new(),
            backoff: Vec::new(),
            max_attempts: 1,
            max_retry_after: Duration::ZERO,
            retry_transport_errors: false,
            jitter: Jitter::None,
            safe_methods: Vec::new(),
        }
    }

    /// The retry class of an error answer: never for a status the policy lists as never
    /// retried; else the code's class when the catalogue knows the code; else the
    /// policy's status lists; else never.
    pub fn class_of(&self, status: u16, code_class: Option<RetryClass>) -> RetryClass {
        if self.never_statuses.contains(&status) {
            return RetryClass::Never;
        }
        if let Some(class) = code_class {
            return class;
        }
        if self.after_header_statuses.contains(&status) {
            RetryClass::AfterHeader
        } else if self.backoff_statuses.contains(&status) {
            RetryClass::Backoff
        } else {
            RetryClass::Never
        }
    }

    /// The backoff wait before retry number `retry` (1-based), with jitter applied.
    fn backoff_wait(&self, retry: u32) -> Option<Duration> {
        let base = *self.backoff.get(usize::try_from(retry).ok()?.checked_sub(1)?)?;
        Some(match self.jitter {
            Jitter::None => base,
            Jitter::Proportional(fraction) => base.mul_f64(1.0 - fraction.clamp(0.0, 1.0) * fastrand::f64()),
        })
    }

    /// What to do after attempt number `attempts` (1-based) failed.
    pub fn decide(&self, attempts: u32, retry_safe: bool, failure: &FailedAttempt) -> Decision {
        let class = match failure {
            FailedAttempt::Status { status, code_class, .. } => self.class_of(*status, *code_class),
            FailedAttempt::Transport if self.retry_transport_errors => RetryClass::Backoff,
            FailedAttempt::Transport => RetryClass::Never,
        };
        if class == RetryClass::Never {
            return Decision::Stop;
        }
        // A wait too long to sleep is returned even when no retry would follow, so the
        // caller learns when to come back.
        if let FailedAttempt::Status { retry_after: Some(wait), .. } = failure {
            if class == RetryClass::AfterHeader && *wait > self.max_retry_after {
                return Decision::StopWaitTooLong(*wait);
            }
        }
        if !retry_safe || attempts >= self.max_attempts {
            return Decision::Stop;
        }
        let wait = match (class, failure) {
            (RetryClass::AfterHeader, FailedAttempt::Status { retry_after: Some(wait), .. }) => Some(*wait),
            _ => self.backoff_wait(attempts),
        };
        wait.map_or(Decision::Stop, Decision::Retry)
    }
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy)]
pub enum FailedAttempt {
    /// The server answered with an error status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The catalogue's retry class of the answer's code, if the catalogue knows it.
        code_class: Option<RetryClass>,
        /// The parsed `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// No answer: connect failure or timeout.
    Transport,
}

/// The retry loop's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then send the same request again.
    Retry(Duration),
    /// Give up with the error.
    Stop,
    /// Give up at once: the server asks for a wait longer than the cap.
    StopWaitTooLong(Duration),
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (a date in the past is a zero
/// wait). `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documented() -> RetryPolicy {
        RetryPolicy {
            after_header_statuses: vec![429],
            backoff_statuses: vec![500, 502, 503, 504],
            never_statuses: vec![400, 401, 403, 404, 409],
            backoff: [1, 2, 4, 8, 16].map(Duration::from_secs).to_vec(),
            max_attempts: 6,
            max_retry_after: Duration::from_secs(60),
            retry_transport_errors: true,
            jitter: Jitter::None,
            safe_methods: vec![reqwest::Method::GET, reqwest::Method::PUT],
        }
    }

    #[test]
    fn a_never_status_is_never_retried_whatever_the_code() {
        // An API may list a 5xx as never retried; the policy's list wins over defaults.
        let p = RetryPolicy { never_statuses: vec![501], backoff_statuses: vec![500, 501], ..documented() };
        let failure = FailedAttempt::Status { status: 501, code_class: None, retry_after: None };
        assert_eq!(p.decide(1, true, &failure), Decision::Stop);
        assert_eq!(p.decide(1, true, &status(500)), Decision::Retry(Duration::from_secs(1)));
    }

    fn status(status: u16) -> FailedAttempt {
        FailedAttempt::Status { status, code_class: None, retry_after: None }
    }

    #[test]
    fn five_xx_follows_the_schedule_then_stops_after_six_attempts() {
        let p = documented();
        let waits: Vec<Decision> = (1..=6).map(|n| p.decide(n, true, &status(503))).collect();
        let secs = |s| Decision::Retry(Duration::from_secs(s));
        assert_eq!(waits, [secs(1), secs(2), secs(4), secs(8), secs(16), Decision::Stop]);
    }

    #[test]
    fn deterministic_client_errors_never_retry() {
        let p = documented();
        for s in [400, 401, 403, 404, 409, 418] {
            assert_eq!(p.decide(1, true, &status(s)), Decision::Stop, "{s}");
        }
        // The code's class wins over the status lists: a 503 whose code is never
        // retried stops, a 500 whose code backs off is retried (unless never_statuses).
        let coded = |status, class| FailedAttempt::Status { status, code_class: Some(class), retry_after: None };
        assert_eq!(p.decide(1, true, &coded(503, RetryClass::Never)), Decision::Stop);
        assert_eq!(p.decide(1, true, &coded(418, RetryClass::Backoff)), Decision::Retry(Duration::from_secs(1)));
        assert_eq!(p.decide(1, true, &coded(401, RetryClass::Backoff)), Decision::Stop);
    }

    #[test]
    fn rate_limits_wait_retry_after_or_fall_back_to_the_schedule() {
        let p = documented();
        let with =
            |s| FailedAttempt::Status { status: 429, code_class: None, retry_after: Some(Duration::from_secs(s)) };
        assert_eq!(p.decide(1, true, &with(3)), Decision::Retry(Duration::from_secs(3)));
        assert_eq!(p.decide(2, true, &status(429)), Decision::Retry(Duration::from_secs(2)));
        assert_eq!(p.decide(1, true, &with(3600)), Decision::StopWaitTooLong(Duration::from_secs(3600)));
        assert_eq!(p.decide(1, false, &with(3600)), Decision::StopWaitTooLong(Duration::from_secs(3600)));
    }

    #[test]
    fn unsafe_requests_and_transport_errors() {
        let p = documented();
        assert_eq!(p.decide(1, false, &status(503)), Decision::Stop);
        assert_eq!(p.decide(1, true, &FailedAttempt::Transport), Decision::Retry(Duration::from_secs(1)));
        let no_transport = RetryPolicy { retry_transport_errors: false, ..documented() };
        assert_eq!(no_transport.decide(1, true, &FailedAttempt::Transport), Decision::Stop);
        assert_eq!(RetryPolicy::never().decide(1, true, &status(503)), Decision::Stop);
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let p = RetryPolicy { jitter: Jitter::Proportional(0.5), ..documented() };
        for _ in 0..200 {
            match p.decide(3, true, &status(500)) {
                Decision::Retry(w) => assert!(w >= Duration::from_secs(2) && w <= Duration::from_secs(4), "{w:?}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
