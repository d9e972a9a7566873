//! A dependent of the generated client, written as an SDK team would write one on top of
//! it, with `tenx-client` as its only dependency: every name it uses (the clients,
//! `Error`, `ErrorCode`, `ErrorExt`, `Response`, `Hook`, `CallOptions`) comes from that crate. If a
//! name stops being reachable from `tenx_client`, this crate stops compiling.

use std::sync::Mutex;
use std::time::Duration;

use tenx_client::{CallOptions, CallOutcome, Client, Error, ErrorCode, ErrorExt, Hook, Response, reqwest};

/// What the SDK tells its callers about a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The caller must sign in again.
    SignIn,
    /// The caller lacks a permission; the code says which.
    Forbidden(ErrorCode),
    /// Worth trying again later.
    Later,
    /// Anything else, with the status if an answer came.
    Other(Option<u16>),
}

/// Maps the client's error to the SDK's.
pub fn problem(error: &Error) -> Problem {
    match error.error_code() {
        Some(ErrorCode::TokenExpired | ErrorCode::InvalidToken | ErrorCode::MissingBearerToken) => Problem::SignIn,
        Some(code) if error.status() == Some(403) => Problem::Forbidden(code),
        _ if error.is_retryable() => Problem::Later,
        _ => Problem::Other(error.status()),
    }
}

/// Tags every request with the SDK's name and counts outcomes by status.
#[derive(Debug, Default)]
pub struct SdkHook {
    /// Statuses seen, one per call.
    pub statuses: Mutex<Vec<Option<u16>>>,
}

impl Hook for SdkHook {
    fn before_attempt(&self, request: &mut reqwest::Request, _: &tenx_client::AttemptInfo) {
        request.headers_mut().insert("x-sdk", reqwest::header::HeaderValue::from_static("downstream/1"));
    }

    fn on_outcome(&self, outcome: &CallOutcome<'_>) {
        self.statuses.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(outcome.status);
    }
}

/// The SDK's client: the generated one with the SDK's hook and a tighter timeout.
pub fn sdk_client(base_url: &str, hook: std::sync::Arc<SdkHook>) -> Result<Client, Error> {
    let client = Client::with_config(tenx_client::config(base_url).hook(hook))?;
    Ok(client.with_options(CallOptions::new().timeout(Duration::from_secs(5))))
}

/// The status and request id of an answer, whatever its body.
pub fn summary<T>(answer: &Response<T>) -> (u16, Option<&str>) {
    (answer.status, answer.request_id.as_deref())
}
