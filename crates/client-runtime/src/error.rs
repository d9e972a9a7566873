//! The one error type of the client, and decoding of error bodies.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};
use tenx_error_model::RetryClass;

/// Everything a call can fail with. More variants may come: match with a `_` arm, or use
/// the helpers ([`Error::status`], [`Error::code`], [`Error::is_retryable`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status.
    #[error("{0}")]
    Api(Box<ApiFailure>),
    /// The server could not be reached or the connection broke.
    #[error("could not reach the server ({message}) after {attempts} attempt(s)")]
    Transport {
        /// What went wrong, without URLs' query strings or credentials.
        message: String,
        /// Requests made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// No answer in time.
    #[error("no answer within the timeout after {attempts} attempt(s)")]
    Timeout {
        /// Requests made.
        attempts: u32,
    },
    /// A success answer whose body is not what the spec says.
    #[error("the {status} answer to `{route}` could not be decoded: {message}")]
    Decode {
        /// The route id.
        route: &'static str,
        /// The HTTP status.
        status: u16,
        /// What the decoder said.
        message: String,
        /// The request id, if the server sent one.
        request_id: Option<String>,
        /// The body as received, for debugging.
        body: bytes::Bytes,
    },
    /// A success status the spec does not list for the route.
    #[error("`{route}` answered {status}, which is not one of its success statuses")]
    UnexpectedStatus {
        /// The route id.
        route: &'static str,
        /// The HTTP status.
        status: u16,
        /// The request id, if the server sent one.
        request_id: Option<String>,
        /// The body as received, for debugging.
        body: bytes::Bytes,
    },
    /// The request could not be built (bad base URL, body that does not serialize).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The API error, if the server answered with one.
    pub fn api(&self) -> Option<&ApiFailure> {
        match self {
            Error::Api(f) => Some(f),
            _ => None,
        }
    }

    /// The error code, if the server answered with one (the generated client's
    /// `ErrorExt::error_code` gives it typed).
    pub fn code(&self) -> Option<&str> {
        self.api().map(|f| f.code.as_str())
    }

    /// Requests made before giving up (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api(f) => f.attempts,
            Error::Transport { attempts, .. } | Error::Timeout { attempts } => *attempts,
            Error::Decode { .. } | Error::UnexpectedStatus { .. } => 1,
            Error::InvalidRequest(_) => 0,
        }
    }

    /// The HTTP status of the answer, if one came.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(f) => Some(f.status),
            Error::Decode { status, .. } | Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::Transport { .. } | Error::Timeout { .. } | Error::InvalidRequest(_) => None,
        }
    }

    /// The request id the server sent, for support reports.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(f) => f.request_id.as_deref(),
            Error::Decode { request_id, .. } | Error::UnexpectedStatus { request_id, .. } => request_id.as_deref(),
            Error::Transport { .. } | Error::Timeout { .. } | Error::InvalidRequest(_) => None,
        }
    }

    /// The body of an answer the client could not use, as received.
    pub fn body(&self) -> Option<&[u8]> {
        match self {
            Error::Decode { body, .. } | Error::UnexpectedStatus { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether trying the same call again later may succeed: the catalogue's retry class
    /// for API errors (`after_header` or `backoff`; an unknown code by its status), and
    /// every transport failure and timeout. The client already retried as the policy
    /// allows; this is for callers who queue work.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(f) => match f.retry_class {
                Some(class) => class != RetryClass::Never,
                None => f.status == 429 || f.status >= 500,
            },
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Decode { .. } | Error::UnexpectedStatus { .. } | Error::InvalidRequest(_) => false,
        }
    }
}

/// An error answer of the API, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFailure {
    /// The error code; for a body without one, `http_<status>`.
    pub code: String,
    /// The catalogue's retry class of the code; `None` for a code it does not know.
    pub retry_class: Option<RetryClass>,
    /// The server's message.
    pub message: String,
    /// The HTTP status.
    pub status: u16,
    /// The request id the server sent (`x-request-id`), for support reports.
    pub request_id: Option<String>,
    /// Extra fields of the body beside code and message (see [`ApiFailure::details`]).
    pub extra: Map<String, Value>,
    /// The `Retry-After` wait the server asked for, if any.
    pub retry_after: Option<Duration>,
    /// Requests made, the last one included.
    pub attempts: u32,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {} [after {} attempt", self.code, self.status, self.message, self.attempts)?;
        f.write_str(if self.attempts == 1 { "]" } else { "s]" })?;
        if let Some(wait) = self.retry_after {
            write!(f, "; retry after {} s", wait.as_secs())?;
        }
        Ok(())
    }
}

/// Decodes an error body: the nested envelope (`{"error": {"code", "message", …}}`), the
/// flat form some pages show (`{"error": "code", "message": …}`), or anything else,
/// which yields the code `http_<status>` with the start of the body as the message.
pub fn decode_error_body(status: u16, body: &[u8]) -> (String, String, Map<String, Value>) {
    let fallback = || {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let message = if text.is_empty() {
            format!("HTTP {status} with an empty body")
        } else {
            text.chars().take(200).collect()
        };
        (format!("http_{status}"), message, Map::new())
    };
    let Ok(Value::Object(mut top)) = serde_json::from_slice::<Value>(body) else { return fallback() };
    let message_of = |m: &mut Map<String, Value>| match m.remove("message") {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    match top.remove("error") {
        Some(Value::Object(mut inner)) => match inner.remove("code") {
            Some(Value::String(code)) => {
                let message = message_of(&mut inner);
                inner.remove("statusCode");
                (code, message, inner)
            }
            _ => fallback(),
        },
        Some(Value::String(code)) => {
            let message = message_of(&mut top);
            top.remove("statusCode");
            (code, message, top)
        }
        _ => fallback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nested_flat_and_garbage_bodies() {
        let nested = br#"{"error":{"code":"insufficient_scope","message":"Token does not have the required scope: analytics.*","statusCode":403}}"#;
        let (code, message, extra) = decode_error_body(403, nested);
        assert_eq!(code, "insufficient_scope");
        assert_eq!(message, "Token does not have the required scope: analytics.*");
        assert!(extra.is_empty());

        let flat = br#"{"error":"feature_locked","feature":"growth_tools","requiredPlan":"PRO","message":"Growth tools require a PRO plan."}"#;
        let (code, message, extra) = decode_error_body(403, flat);
        assert_eq!((code, message.as_str()), ("feature_locked".to_owned(), "Growth tools require a PRO plan."));
        assert_eq!(extra.get("requiredPlan"), Some(&Value::String("PRO".into())));

        let (code, message, _) = decode_error_body(502, b"<html>Bad Gateway</html>");
        assert_eq!((code, message.as_str()), ("http_502".to_owned(), "<html>Bad Gateway</html>"));
        let (code, message, _) = decode_error_body(503, b"");
        assert_eq!((code, message.as_str()), ("http_503".to_owned(), "HTTP 503 with an empty body"));
        let (code, _, _) = decode_error_body(400, br#"{"error":{"message":"no code"}}"#);
        assert_eq!(code, "http_400");
    }

    #[test]
    fn display_names_code_status_message_attempts_and_wait() {
        let f = ApiFailure {
            code: "rate_limited".to_owned(),
            retry_class: Some(RetryClass::AfterHeader),
            message: "slow down".into(),
            status: 429,
            request_id: None,
            extra: Map::new(),
            retry_after: Some(Duration::from_secs(3600)),
            attempts: 1,
        };
        assert_eq!(f.to_string(), "rate_limited (429): slow down [after 1 attempt]; retry after 3600 s");
        let f = ApiFailure { retry_after: None, attempts: 6, status: 500, code: "internal_error".to_owned(), ..f };
        assert_eq!(Error::Api(Box::new(f)).to_string(), "internal_error (500): slow down [after 6 attempts]");
    }
}
