//! Successful answers: the typed body with status, headers, request id and rate-limit
//! headers beside it.

use std::fmt;

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A successful answer. Its `Debug` output shows headers that carry credentials
/// (`Set-Cookie`, `Cookie`, `Authorization`, and any marked sensitive) as `[redacted]`.
#[derive(Clone)]
pub struct Response<T> {
    /// The HTTP status.
    pub status: u16,
    /// Every response header.
    pub headers: HeaderMap,
    /// The request id the server sent (`x-request-id`).
    pub request_id: Option<String>,
    /// Rate-limit headers, where the server sends them.
    pub rate_limit: RateLimit,
    /// Requests made, this one included.
    pub attempts: u32,
    /// The typed body.
    pub body: T,
}

impl<T> Response<T> {
    /// The body alone.
    pub fn into_body(self) -> T {
        self.body
    }

    /// The same answer with its body transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            status: self.status,
            headers: self.headers,
            request_id: self.request_id,
            rate_limit: self.rate_limit,
            attempts: self.attempts,
            body: f(self.body),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &Redacted(&self.headers))
            .field("request_id", &self.request_id)
            .field("rate_limit", &self.rate_limit)
            .field("attempts", &self.attempts)
            .field("body", &self.body)
            .finish()
    }
}

/// Headers whose values are credentials.
const SECRET_HEADERS: [&str; 5] = ["set-cookie", "cookie", "authorization", "proxy-authorization", "x-api-key"];

/// A header map whose credential values print as `[redacted]`.
pub(crate) struct Redacted<'h>(pub(crate) &'h HeaderMap);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if value.is_sensitive() || SECRET_HEADERS.contains(&name.as_str()) {
                map.entry(&name.as_str(), &"[redacted]");
            } else {
                map.entry(&name.as_str(), &value);
            }
        }
        map.finish()
    }
}

/// The conventional `X-RateLimit-*` headers, read when present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests allowed in the window.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: requests left in the window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: seconds until the window resets.
    pub reset: Option<u64>,
}

impl RateLimit {
    fn from_headers(headers: &HeaderMap) -> Self {
        let number = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
        RateLimit {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
        }
    }
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A successful answer before its body is decoded; the generated client turns it into a
/// typed [`Response`].
pub struct RawResponse {
    pub(crate) route: &'static str,
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: bytes::Bytes,
    pub(crate) attempts: u32,
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("route", &self.route)
            .field("status", &self.status)
            .field("headers", &Redacted(&self.headers))
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl RawResponse {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    fn wrap<T>(self, body: T) -> Response<T> {
        Response {
            status: self.status,
            request_id: request_id(&self.headers),
            rate_limit: RateLimit::from_headers(&self.headers),
            headers: self.headers,
            attempts: self.attempts,
            body,
        }
    }

    /// The body decoded as JSON.
    pub fn json<T: DeserializeOwned>(self) -> Result<Response<T>, Error> {
        match serde_json::from_slice(&self.body) {
            Ok(body) => Ok(self.wrap(body)),
            Err(e) => Err(self.undecodable(e)),
        }
    }

    /// The body as UTF-8 text (a `text` answer).
    pub fn text(self) -> Result<Response<String>, Error> {
        match String::from_utf8(self.body.to_vec()) {
            Ok(text) => Ok(self.wrap(text)),
            Err(e) => Err(self.undecodable(e)),
        }
    }

    /// The body's bytes (a `binary` answer).
    pub fn bytes(self) -> Response<Vec<u8>> {
        let body = self.body.to_vec();
        self.wrap(body)
    }

    /// An answer whose body, if any, is not read.
    pub fn empty(self) -> Response<()> {
        self.wrap(())
    }

    /// A success answer whose body is not what the spec says.
    fn undecodable(self, error: impl std::fmt::Display) -> Error {
        Error::Decode {
            route: self.route,
            status: self.status,
            message: error.to_string(),
            request_id: request_id(&self.headers),
            body: self.body,
        }
    }

    /// A success status the spec does not list for this route.
    pub fn unexpected(self) -> Error {
        Error::UnexpectedStatus {
            route: self.route,
            status: self.status,
            request_id: request_id(&self.headers),
            body: self.body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn debug_output_hides_credentials_in_headers() {
        let mut headers = HeaderMap::new();
        headers.append("set-cookie", HeaderValue::from_static("refresh_token=r3fr3sh; HttpOnly"));
        headers.append("x-request-id", HeaderValue::from_static("req-1"));
        let mut marked = HeaderValue::from_static("s1gned");
        marked.set_sensitive(true);
        headers.append("x-signature", marked);
        let raw =
            RawResponse { route: "login", status: 200, headers, body: bytes::Bytes::from_static(b"{}"), attempts: 1 };
        let shown_raw = format!("{raw:?}");
        let response = raw.json::<serde_json::Value>().unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{response:?} {shown_raw}");
        for secret in ["r3fr3sh", "s1gned"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("req-1") && shown.contains("set-cookie"), "{shown}");
    }
}
