//! Failures rendered in the error model: `{"error": {"code", "message", "statusCode", …}}`
//! with the catalogue's status, whatever went wrong.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::borrow::Cow;
use tenx_error_model::ErrorInfo;

/// An error code on the wire. The runtime knows no API's codes: they come from the spec
/// (as `&'static str`) or from a handler (a generated `ErrorCode` converts into one).
pub type Code = Cow<'static, str>;

/// A situation the runtime meets on its own; the spec's `answers` say which code of
/// its catalogue answers it, so no API's codes are written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    /// A parameter or field breaks its rule.
    InvalidInput,
    /// The body is not JSON, too large, or of another content type.
    InvalidBody,
    /// No such route or resource.
    NotFound,
    /// The subject the path names (`{handle}`) does not exist.
    SubjectNotFound,
    /// A unique thing exists; an idempotency key reused with another body.
    Conflict,
    /// A PAT lacks a required scope.
    InsufficientScope,
    /// A user lacks the route's role.
    InsufficientRole,
    /// The plan lacks the route's feature.
    FeatureLocked,
    /// A limit is spent.
    RateLimited,
    /// The server cannot take the request now.
    Unavailable,
    /// The server failed.
    Internal,
    /// A route of the spec this server does not implement.
    NotImplemented,
    /// A path of the spec asked with a method it does not have.
    MethodNotAllowed,
}

impl Situation {
    /// The spec's name of the situation (the key under `answers`).
    pub fn name(self) -> &'static str {
        match self {
            Situation::InvalidInput => "invalid_input",
            Situation::InvalidBody => "invalid_body",
            Situation::NotFound => "not_found",
            Situation::SubjectNotFound => "subject_not_found",
            Situation::Conflict => "conflict",
            Situation::InsufficientScope => "insufficient_scope",
            Situation::InsufficientRole => "insufficient_role",
            Situation::FeatureLocked => "feature_locked",
            Situation::RateLimited => "rate_limited",
            Situation::Unavailable => "unavailable",
            Situation::Internal => "internal",
            Situation::NotImplemented => "not_implemented",
            Situation::MethodNotAllowed => "method_not_allowed",
        }
    }
}

/// The spec's code for each [`Situation`], and its catalogue (every code's status), as
/// the generated server emits them.
#[derive(Debug, Clone, Copy)]
pub struct Answers {
    /// `(situation, code)` for each situation the spec names.
    pub codes: &'static [(Situation, &'static str)],
    /// The API's catalogue (the generated errors crate's `CATALOGUE`).
    pub catalogue: &'static [ErrorInfo],
}

impl Answers {
    /// The code of `situation`: the spec's, else (an unimplemented route) its not-found
    /// code, else its internal code, else the situation's own name (the validator makes
    /// the spec name every situation a route can meet).
    pub fn code(&self, situation: Situation) -> &'static str {
        let named = |s: Situation| self.codes.iter().find(|(x, _)| *x == s).map(|(_, c)| *c);
        let fallback = match situation {
            Situation::NotImplemented | Situation::MethodNotAllowed => Situation::NotFound,
            _ => Situation::Internal,
        };
        named(situation).or_else(|| named(fallback)).or_else(|| named(Situation::Internal)).unwrap_or(situation.name())
    }

    /// The status the catalogue gives `code`.
    pub fn status(&self, code: &str) -> Option<u16> {
        tenx_error_model::lookup(self.catalogue, code).map(|info| info.status)
    }
}

/// What a caller reads of an internal failure: nothing of the internals.
const INTERNAL_MESSAGE: &str = "The server failed unexpectedly; the request id identifies it.";

/// A request that cannot be answered with success. Handlers return it; the router's
/// checks produce it; either way the client sees the error model.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The error code (its catalogue entry gives the status). For a failure made by
    /// [`Failure::of`], the situation's name until the router resolves it.
    pub code: Code,
    /// The situation, while its code is still to be looked up in the spec.
    pub situation: Option<Situation>,
    /// The status the spec gives the code, once resolved.
    pub spec_status: Option<u16>,
    /// The message for the caller: never internals.
    pub message: String,
    /// The code's declared details (`feature`, `requiredPlan`, …).
    pub details: Map<String, Value>,
    /// Seconds for `Retry-After`, on rate limits.
    pub retry_after: Option<u64>,
    /// What went wrong inside, for the log (with the request id, when the answer is
    /// sent); never sent to the caller.
    pub cause: Option<String>,
}

impl Failure {
    /// A failure with `code` and `message`.
    pub fn new(code: impl Into<Code>, message: impl Into<String>) -> Self {
        Failure {
            code: code.into(),
            situation: None,
            spec_status: None,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
            cause: None,
        }
    }

    /// A failure of a situation; the router answers it with the spec's code for it.
    pub fn of(situation: Situation, message: impl Into<String>) -> Self {
        Failure { situation: Some(situation), ..Failure::new(situation.name(), message) }
    }

    /// The failure with its situation's code, and its code's status, looked up in the
    /// spec: an API's own codes answer with its own statuses.
    pub fn resolve(mut self, answers: &Answers) -> Self {
        if let Some(situation) = self.situation.take() {
            self.code = Cow::Borrowed(answers.code(situation));
        }
        self.spec_status = answers.status(&self.code);
        self
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

    /// An internal failure: answered as a bare `internal_error`; `error` is logged once,
    /// with the request id, when the router sends the answer.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        Failure { cause: Some(error.to_string()), ..Failure::of(Situation::Internal, INTERNAL_MESSAGE) }
    }

    /// A resource the handler looked for does not exist.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Failure::of(Situation::NotFound, format!("{what} does not exist."))
    }

    /// The HTTP status: the catalogue's once resolved, else 500 (a code the catalogue
    /// does not know is a server defect).
    pub fn status(&self) -> u16 {
        self.spec_status.unwrap_or(500)
    }

    /// The body as the error model has it: `{"error": {"code", "message", "statusCode",
    /// …details}}`.
    pub fn body(&self) -> Value {
        let mut error = self.details.clone();
        error.insert("code".to_owned(), Value::from(self.code.as_ref()));
        error.insert("message".to_owned(), Value::from(self.message.as_str()));
        error.insert("statusCode".to_owned(), Value::from(self.status()));
        serde_json::json!({ "error": error })
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        // The router's glue logs a cause with the request id and takes it; a failure
        // answered elsewhere still has its cause logged, once.
        if let Some(cause) = &self.cause {
            tracing::error!(cause = %cause, "internal error");
        }
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

    use tenx_error_model::{ErrorCategory, RetryClass};

    const fn entry(code: &'static str, status: u16, category: ErrorCategory) -> ErrorInfo {
        ErrorInfo { code, status, category, retry: RetryClass::Never, meaning: "", fix: "" }
    }

    static CATALOGUE: [ErrorInfo; 3] = [
        entry("feature_locked", 403, ErrorCategory::Permission),
        entry("no_such_thing", 404, ErrorCategory::NotFound),
        entry("server_broke", 500, ErrorCategory::Server),
    ];
    static ANSWERS: Answers = Answers {
        codes: &[(Situation::NotFound, "no_such_thing"), (Situation::Internal, "server_broke")],
        catalogue: &CATALOGUE,
    };

    #[test]
    fn renders_the_nested_envelope_with_details() {
        let f = Failure::new("feature_locked", "Growth tools need the PRO plan.")
            .detail("feature", "growth_tools")
            .detail("requiredPlan", "PRO")
            .resolve(&ANSWERS);
        assert_eq!(
            f.body(),
            serde_json::json!({"error": {"code": "feature_locked", "message": "Growth tools need the PRO plan.", "statusCode": 403, "feature": "growth_tools", "requiredPlan": "PRO"}})
        );
        // A code outside the catalogue is the server's defect: 500.
        assert_eq!(Failure::new("mystery", "x").resolve(&ANSWERS).status(), 500);
    }

    #[test]
    fn situations_take_the_specs_codes_when_resolved() {
        let f = Failure::not_found("Parcel `p1`").resolve(&ANSWERS);
        assert_eq!((f.code.to_string(), f.situation), ("no_such_thing".to_owned(), None));
        // Another API's code answers with that API's status, not a 500.
        assert_eq!(f.status(), 404);
        assert_eq!(f.clone().into_response().status(), 404);
        // A situation the spec does not name falls back to its internal code.
        assert_eq!(Failure::of(Situation::Conflict, "x").resolve(&ANSWERS).code.to_string(), "server_broke");
        // A code given explicitly stays.
        let f = Failure::new("mine", "x").resolve(&ANSWERS);
        assert_eq!(f.code.to_string(), "mine");
    }
}

#[cfg(test)]
mod internal {
    use super::*;

    #[test]
    fn an_internal_failure_keeps_its_cause_for_the_log_and_says_nothing_of_it() {
        let f = Failure::internal("disk full at /var/lib/tenx");
        assert_eq!(f.cause.as_deref(), Some("disk full at /var/lib/tenx"));
        assert!(!f.message.contains("disk"), "{}", f.message);
        let body = f.body().to_string();
        assert!(!body.contains("disk"), "{body}");
    }
}
