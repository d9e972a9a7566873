//! Failures rendered in the error model: `{"error": {"code", "message", "statusCode", …}}`
//! with the catalogue's status, whatever went wrong.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tenx_errors::{ApiError, ErrorBody, ErrorCode};

/// A request that cannot be answered with success. Handlers return it; the router's
/// checks produce it; either way the client sees the error model.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The error code (its catalogue entry gives the status).
    pub code: ErrorCode,
    /// The message for the caller: never internals.
    pub message: String,
    /// The code's declared details (`feature`, `requiredPlan`, …).
    pub details: Map<String, Value>,
    /// Seconds for `Retry-After`, on rate limits.
    pub retry_after: Option<u64>,
}

impl Failure {
    /// A failure with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure { code, message: message.into(), details: Map::new(), retry_after: None }
    }

    /// Adds a detail field.
    pub fn detail(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.details.insert(name.to_owned(), value.into());
        self
    }

    /// Sets `Retry-After`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// An internal failure: logged in full with the request id by the router, answered
    /// as a bare `internal_error`.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Failure::new(ErrorCode::InternalError, "The server failed unexpectedly; the request id identifies it.")
    }

    /// `not_found` for a resource the handler looked for.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Failure::new(ErrorCode::NotFound, format!("{what} does not exist."))
    }

    /// The HTTP status: the catalogue's, or 500 for a code it does not know.
    pub fn status(&self) -> u16 {
        self.code.status().unwrap_or(500)
    }

    /// The body as the error model has it.
    pub fn body(&self) -> ErrorBody {
        let mut error = ApiError::new(self.code.clone(), self.message.clone());
        error.status_code = self.status();
        error.extra = self.details.clone();
        ErrorBody { error }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_nested_envelope_with_details() {
        let f = Failure::new(ErrorCode::FeatureLocked, "Growth tools need the PRO plan.")
            .detail("feature", "growth_tools")
            .detail("requiredPlan", "PRO");
        let body = serde_json::to_value(f.body()).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "feature_locked", "message": "Growth tools need the PRO plan.", "statusCode": 403, "feature": "growth_tools", "requiredPlan": "PRO"}})
        );
        assert_eq!(Failure::new(ErrorCode::from_wire("mystery"), "x").status(), 500);
    }
}
