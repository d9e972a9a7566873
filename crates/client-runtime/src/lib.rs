//! The request pipeline the generated 10x client calls.
//!
//! Generated methods only describe a call: the route, its path segments, query and
//! body, and the credential of the client they live on. Everything else happens here,
//! in ordinary Rust with unit tests: credentials on the wire ([`Credentials`]), JSON,
//! error decoding ([`decode_error_body`]), the retry loop and its one decision function
//! ([`RetryPolicy::decide`]), `Retry-After` ([`parse_retry_after`]), idempotency keys,
//! timeouts, session refresh, and hooks. A fix here needs no regeneration.
//!
//! Secrets ([`Secret`], [`Pat`], [`Session`]) never show in `Debug` or `Display`, and
//! header values carrying them are marked sensitive.

mod clock;
mod credentials;
mod error;
mod response;
mod retry;
mod runtime;

pub use clock::{Clock, Sleep, SystemClock, VirtualClock};
pub use credentials::{Pat, Session};
pub use error::{ApiFailure, Error, decode_error_body};
pub use response::{RateLimit, RawResponse, Response};
pub use retry::{Decision, FailedAttempt, Jitter, RetryPolicy, parse_retry_after};
pub use runtime::{
    AttemptEvent, AttemptInfo, CallFuture, CallOptions, CallOutcome, Config, Credentials, Hook, IdempotencyCarrier,
    RouteInfo, Runtime, SessionRefresh, Transport,
};
pub use tenx_auth::{PatError, PatFormat, Secret};

/// Re-exported so generated code and users name one version.
pub use reqwest;
pub use tenx_error_model;
