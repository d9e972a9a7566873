//! [`RequestContext`]: what a handler may know of its request beyond its typed
//! arguments, and add to its answer beyond its typed result.

use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::guard::AuthContext;

/// Headers a handler added, shared with the router that sends them.
pub(crate) type AddedHeaders = Arc<Mutex<Vec<(HeaderName, HeaderValue)>>>;

/// One request, as its handler sees it: its id, its route, who is calling, its
/// headers and cookies, and the headers to add to its answer (`Set-Cookie`,
/// `Location`).
///
/// Every generated trait method takes `cx: &RequestContext`. It is borrowed for the
/// handler's run, so a header cannot be added after the answer has gone (a task spawned
/// by the handler cannot take the borrow: that is a compile error, not a lost header).
pub struct RequestContext {
    request_id: String,
    route: &'static str,
    auth: AuthContext,
    headers: HeaderMap,
    added: AddedHeaders,
}

impl RequestContext {
    pub(crate) fn new(
        request_id: String,
        route: &'static str,
        auth: AuthContext,
        headers: HeaderMap,
        added: AddedHeaders,
    ) -> Self {
        RequestContext { request_id, route, auth, headers, added }
    }

    /// A context for calling a handler directly, outside the router (unit tests of a
    /// server's handlers): no headers, and what the handler adds is kept in `added`.
    pub fn detached(route: &'static str, auth: AuthContext, headers: HeaderMap) -> Self {
        RequestContext::new(String::from("detached"), route, auth, headers, AddedHeaders::default())
    }

    /// The request id, as the answer's `x-request-id` carries it (and the logs).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The route's id in the spec.
    pub fn route(&self) -> &'static str {
        self.route
    }

    /// Who is calling, as the router authenticated them (also passed to the handler as
    /// its typed `auth` argument, on routes that take a credential).
    pub fn auth(&self) -> &AuthContext {
        &self.auth
    }

    /// A request header.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers.get(name)
    }

    /// The value of a request cookie.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        crate::guard::cookie(&self.headers, name)
    }

    /// Adds a header to the answer, whether it succeeds or fails.
    pub fn add_header(&self, name: HeaderName, value: HeaderValue) {
        // A poisoned lock means a handler panicked, and its answer is a bare 500 anyway.
        self.added.lock().unwrap_or_else(PoisonError::into_inner).push((name, value));
    }

    /// The headers added so far.
    pub fn added_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.added.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl std::fmt::Debug for RequestContext {
    // Request headers carry credentials (`Authorization`, cookies): never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.request_id)
            .field("route", &self.route)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_keeps_added_headers_and_hides_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_static("a=1; refresh=s3cret-cookie"));
        headers.insert("authorization", HeaderValue::from_static("Bearer s3cret-token"));
        let cx = RequestContext::detached("refresh_session", AuthContext::None, headers);
        assert_eq!(cx.cookie("refresh"), Some("s3cret-cookie"));
        assert_eq!(cx.cookie("missing"), None);
        cx.add_header(axum::http::header::LOCATION, HeaderValue::from_static("/next"));
        assert_eq!(cx.added_headers().len(), 1);
        let shown = format!("{cx:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("refresh_session"), "{shown}");
    }
}
