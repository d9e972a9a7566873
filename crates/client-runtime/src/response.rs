//! Successful answers: the typed body with status, headers, request id and rate-limit
//! headers beside it.

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A successful answer.
#[derive(Debug, Clone)]
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
#[derive(Debug)]
pub struct RawResponse {
    pub(crate) route: &'static str,
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: bytes::Bytes,
    pub(crate) attempts: u32,
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
            Err(e) => Err(Error::Decode {
                route: self.route,
                status: self.status,
                message: e.to_string(),
                request_id: request_id(&self.headers),
            }),
        }
    }

    /// An answer whose body, if any, is not read.
    pub fn empty(self) -> Response<()> {
        self.wrap(())
    }

    /// A success status the spec does not list for this route.
    pub fn unexpected(self) -> Error {
        Error::Decode {
            route: self.route,
            status: self.status,
            message: format!("status {} is not a success status of this route", self.status),
            request_id: request_id(&self.headers),
        }
    }
}
