//! The request pipeline: build the request, attach credentials, send, decode errors,
//! and retry as the policy says. Generated methods describe a call (route, path
//! segments, query, body) and hand it here.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Serialize;
use url::Url;

use crate::clock::{Clock, SystemClock};
use crate::credentials::{Pat, Session, set_cookies};
use crate::error::{ApiFailure, Error, decode_error_body};
use crate::response::{RawResponse, Response, request_id};
use crate::retry::{Decision, FailedAttempt, RetryPolicy, parse_retry_after};
use tenx_auth::Secret;
use tenx_error_model::{ErrorInfo, RetryClass};

/// The future of one call: boxed, the same type for every route, so generated methods
/// are plain functions (see [`Runtime::call`]). `Send`, and borrowing only the client.
pub type CallFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<crate::Response<T>, Error>> + Send + 'a>>;

/// What the generated code knows about a route at compile time.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// The spec's route id.
    pub id: &'static str,
    /// The HTTP method.
    pub method: reqwest::Method,
    /// Where the idempotency key travels, for routes that deduplicate.
    pub idempotency: Option<IdempotencyCarrier>,
    /// The route's success statuses: any other status below 400 is
    /// [`Error::UnexpectedStatus`].
    pub success: &'static [u16],
}

/// Where a route's idempotency key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdempotencyCarrier {
    /// A body field (`idempotencyKey`): the caller's value, else a UUID v4 written in.
    Field(&'static str),
    /// A header (`Idempotency-Key`, the IETF draft's): the call's
    /// [`CallOptions::idempotency_key`], else a UUID v4, sent as a quoted string.
    Header(&'static str),
}

/// How the refresh route of the spec works, for automatic refresh on `token_expired`.
#[derive(Debug, Clone, Copy)]
pub struct SessionRefresh {
    /// Path segments of the refresh route (`["v2", "auth", "refresh"]`).
    pub segments: &'static [&'static str],
    /// The response field holding the new access token.
    pub token_field: &'static str,
    /// The code that says the access token expired (the JWT mode's `expired`).
    pub expired_code: &'static str,
}

/// Where a credential goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A header, with an optional scheme word (`Authorization: Bearer …`).
    Header {
        /// Header name.
        name: &'static str,
        /// Scheme word.
        scheme: Option<&'static str>,
    },
    /// A cookie.
    Cookie {
        /// Cookie name.
        name: &'static str,
    },
}

/// The credential a call carries.
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    /// None.
    None,
    /// A PAT.
    Pat(Transport, &'a Pat),
    /// A user session (may refresh on `token_expired`).
    Session(Transport, &'a Session),
    /// A visitor session cookie.
    Visitor(Transport, &'a Secret),
}

/// A hook into every call: change each request before it is sent (a trace header, a
/// signature), watch each attempt, and see each call's outcome (metrics). Every method
/// has a default that does nothing; implement the ones you need.
pub trait Hook: Send + Sync + 'static {
    /// Called before each attempt is sent, with the request as it will go out: add or
    /// change headers here. Credential headers are already on it, marked sensitive;
    /// a hook that signs requests may read them, others should leave them alone.
    fn before_attempt(&self, request: &mut reqwest::Request, attempt: &AttemptInfo) {
        let _ = (request, attempt);
    }

    /// Called after each attempt.
    fn on_attempt(&self, event: &AttemptEvent<'_>) {
        let _ = event;
    }

    /// Called once per call, when it is done (after retries and any refresh).
    fn on_outcome(&self, outcome: &CallOutcome<'_>) {
        let _ = outcome;
    }
}

/// Which attempt is about to be sent.
#[derive(Debug, Clone, Copy)]
pub struct AttemptInfo {
    /// The route id.
    pub route: &'static str,
    /// 1-based attempt number, counting attempts before a session refresh.
    pub attempt: u32,
}

/// How a call ended, as hooks see it.
#[derive(Debug)]
pub struct CallOutcome<'a> {
    /// The route id.
    pub route: &'static str,
    /// The final status, if an answer came.
    pub status: Option<u16>,
    /// The error, if the call failed.
    pub error: Option<&'a Error>,
    /// Requests made.
    pub attempts: u32,
    /// Wall time from the first attempt to the outcome (waits included).
    pub elapsed: Duration,
}

/// One attempt, as hooks see it.
#[derive(Debug, Clone)]
pub struct AttemptEvent<'a> {
    /// The route id.
    pub route: &'static str,
    /// The request path (no query string).
    pub path: &'a str,
    /// 1-based attempt number.
    pub attempt: u32,
    /// The status, or `None` for a transport failure.
    pub status: Option<u16>,
    /// The wait before the next attempt, if there will be one.
    pub retry_in: Option<Duration>,
}

/// Settings of a client. The generated client fills in the spec's retry policy.
#[derive(Clone)]
pub struct Config {
    base_url: String,
    retry: RetryPolicy,
    timeout: Option<Duration>,
    auto_refresh: bool,
    user_agent: String,
    clock: Arc<dyn Clock>,
    hooks: Vec<Arc<dyn Hook>>,
    /// Makes the caller's HTTP client builder (a builder cannot be cloned; `Config` is).
    http: Option<Arc<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>>,
    refresh: Option<SessionRefresh>,
    catalogue: &'static [ErrorInfo],
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("auto_refresh", &self.auto_refresh)
            .field("hooks", &self.hooks.len())
            .finish()
    }
}

impl Config {
    /// Settings for `base_url` with `retry` as the policy, a 30 s timeout per attempt,
    /// and automatic refresh off.
    pub fn new(base_url: impl Into<String>, retry: RetryPolicy) -> Self {
        Config {
            base_url: base_url.into(),
            retry,
            timeout: Some(Duration::from_secs(30)),
            auto_refresh: false,
            user_agent: format!("tenx-client-runtime/{}", env!("CARGO_PKG_VERSION")),
            clock: Arc::new(SystemClock),
            hooks: Vec::new(),
            http: None,
            refresh: None,
            catalogue: &[],
        }
    }

    /// Replaces the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The timeout of each attempt (`None`: no timeout).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// On `401 token_expired`, refresh the session once and replay the request once.
    pub fn auto_refresh(mut self, on: bool) -> Self {
        self.auto_refresh = on;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// The clock the retry loop sleeps on (tests use [`crate::VirtualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds a hook told about every attempt.
    pub fn hook(mut self, hook: Arc<dyn Hook>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Builds the HTTP client from the `reqwest` builder `make` returns (proxies, TLS
    /// roots, pools): `config.http_client(|| reqwest::Client::builder().proxy(p.clone()))`.
    /// A builder rather than a client, because the runtime still sets two things on it:
    /// no redirect following (a 3xx is an answer of the API, not something to follow
    /// with the caller's credentials) and the `User-Agent`.
    pub fn http_client(mut self, make: impl Fn() -> reqwest::ClientBuilder + Send + Sync + 'static) -> Self {
        self.http = Some(Arc::new(make));
        self
    }

    /// How the session refreshes (set by the generated client from the spec).
    pub fn session_refresh(mut self, refresh: SessionRefresh) -> Self {
        self.refresh = Some(refresh);
        self
    }

    /// The API's error catalogue, whose retry classes the retry loop follows (set by the
    /// generated client from its errors crate; without one, statuses decide).
    pub fn catalogue(mut self, catalogue: &'static [ErrorInfo]) -> Self {
        self.catalogue = catalogue;
        self
    }
}

/// Overrides for the calls of one client handle; unset fields keep the client's
/// settings. Build one with the setters: `CallOptions::new().timeout(d)`.
///
/// An idempotency key that travels in the body goes in the body's key field
/// (`idempotencyKey` of a conversion); one that travels in a header may be set here,
/// for the one call made through the handle. Either way, without one the client makes a
/// UUID v4 and sends it on every attempt of that call.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Another retry policy.
    pub retry: Option<RetryPolicy>,
    /// Another per-attempt timeout.
    pub timeout: Option<Duration>,
    /// Turn automatic refresh on or off.
    pub auto_refresh: Option<bool>,
    /// The idempotency key of a route whose key is a header.
    pub idempotency_key: Option<String>,
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Another retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The idempotency key of the call, for a route whose key is a header (a body key
    /// goes in the body).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Another per-attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Automatic refresh on or off.
    pub fn auto_refresh(mut self, on: bool) -> Self {
        self.auto_refresh = Some(on);
        self
    }

    /// `self`'s overrides on top of `base`: a field set here wins, the others stay.
    pub fn over(self, base: &CallOptions) -> CallOptions {
        CallOptions {
            retry: self.retry.or_else(|| base.retry.clone()),
            timeout: self.timeout.or(base.timeout),
            auto_refresh: self.auto_refresh.or(base.auto_refresh),
            idempotency_key: self.idempotency_key.or_else(|| base.idempotency_key.clone()),
        }
    }
}

/// A configured client: shared by every handle and credential.
pub struct Runtime {
    http: reqwest::Client,
    base: Url,
    config: Config,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("base", &self.base.as_str()).field("config", &self.config).finish()
    }
}

impl Runtime {
    /// Builds the runtime; fails on a base URL that is not an absolute http(s) URL.
    pub fn new(config: Config) -> Result<Arc<Runtime>, Error> {
        let base = Url::parse(&config.base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| {
                Error::InvalidRequest(format!("`{}` is not an absolute http(s) base URL", config.base_url))
            })?;
        let builder = config.http.as_ref().map_or_else(reqwest::Client::builder, |make| make());
        let http = builder
            .user_agent(config.user_agent.clone())
            // A 3xx is an answer of the API (a download redirect), not something to
            // follow with the caller's credentials: whatever builder the caller gave.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::InvalidRequest(format!("cannot build the HTTP client: {e}")))?;
        Ok(Arc::new(Runtime { http, base, config }))
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn url(&self, segments: &[&str], query: Option<&str>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.set_query(query.filter(|q| !q.is_empty()));
        url
    }

    /// Starts one call: its URL, query and body are encoded now (so the future borrows
    /// none of the arguments), then it is sent, retried as the policy says, the session
    /// refreshed once on `token_expired` when asked to, and a success answer handed to
    /// `decode` (error statuses come back as [`Error::Api`]). A generated method is this
    /// one call: a plain function returning the runtime's one future type, so rustc
    /// checks a state machine per runtime, not one per route.
    #[allow(clippy::too_many_arguments)]
    pub fn call<'a, T: 'a, Q: Serialize + ?Sized, B: Serialize + ?Sized>(
        &'a self,
        route: &'static RouteInfo,
        options: &'a CallOptions,
        credentials: Credentials<'a>,
        segments: &[&str],
        query: Option<&Q>,
        body: Option<&B>,
        decode: fn(RawResponse) -> Result<Response<T>, Error>,
    ) -> CallFuture<'a, T> {
        let prepared = encode_body(route, body).and_then(|(body, body_key)| {
            let body = body.map(|b| (bytes::Bytes::from(b), "application/json"));
            Ok(Prepared { url: self.call_url(route, segments, query)?, body, body_key })
        });
        self.start(route, options, credentials, prepared, decode)
    }

    /// [`Runtime::call`] for a `text` or `binary` body: the bytes go as they are, with
    /// their media type.
    #[allow(clippy::too_many_arguments)]
    pub fn call_raw<'a, T: 'a, Q: Serialize + ?Sized>(
        &'a self,
        route: &'static RouteInfo,
        options: &'a CallOptions,
        credentials: Credentials<'a>,
        segments: &[&str],
        query: Option<&Q>,
        body: (&'static str, Vec<u8>),
        decode: fn(RawResponse) -> Result<Response<T>, Error>,
    ) -> CallFuture<'a, T> {
        let (media, bytes) = body;
        let prepared = self.call_url(route, segments, query).map(|url| Prepared {
            url,
            body: Some((bytes.into(), media)),
            body_key: false,
        });
        self.start(route, options, credentials, prepared, decode)
    }

    fn call_url<Q: Serialize + ?Sized>(
        &self,
        route: &RouteInfo,
        segments: &[&str],
        query: Option<&Q>,
    ) -> Result<Url, Error> {
        let query = query
            .map(encode_query)
            .transpose()
            .map_err(|e| Error::InvalidRequest(format!("query of `{}`: {e}", route.id)))?;
        Ok(self.url(segments, query.as_deref()))
    }

    fn start<'a, T: 'a>(
        &'a self,
        route: &'static RouteInfo,
        options: &'a CallOptions,
        credentials: Credentials<'a>,
        prepared: Result<Prepared, Error>,
        decode: fn(RawResponse) -> Result<Response<T>, Error>,
    ) -> CallFuture<'a, T> {
        Box::pin(async move {
            let Prepared { url, body, body_key } = prepared?;
            decode(self.send_encoded(route, options, credentials, url, body, body_key).await?)
        })
    }

    async fn send_encoded(
        &self,
        route: &RouteInfo,
        options: &CallOptions,
        credentials: Credentials<'_>,
        url: Url,
        body: Option<(bytes::Bytes, &'static str)>,
        body_key: bool,
    ) -> Result<RawResponse, Error> {
        // A header key is made once per call, so every attempt carries the same one.
        let header_key = match route.idempotency {
            Some(IdempotencyCarrier::Header(name)) => {
                let key = options.idempotency_key.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let value = HeaderValue::from_str(&format!("\"{key}\"")).map_err(|_| {
                    Error::InvalidRequest(format!("the idempotency key of `{}` is not a header value", route.id))
                })?;
                Some((name, value))
            }
            _ => None,
        };
        let key_sent = body_key || header_key.is_some();
        let payload = Payload { body, key_header: header_key };
        let policy = options.retry.as_ref().unwrap_or(&self.config.retry);
        // Without a key, only the spec's safe methods may be sent twice.
        let retry_safe = key_sent || policy.safe_methods.contains(&route.method);
        let auto_refresh = options.auto_refresh.unwrap_or(self.config.auto_refresh);
        let started = std::time::Instant::now();
        // The session's generation before the first attempt: if another call refreshes
        // it meanwhile, this one replays with the new token instead of refreshing again.
        let generation = match credentials {
            Credentials::Session(_, session) => session.generation(),
            _ => 0,
        };

        let first = self.attempts(route, &url, credentials, &payload, options, policy, retry_safe, 0).await;
        let expired = |code: &str| self.config.refresh.is_some_and(|r| code == r.expired_code);
        let result = match (&first, credentials) {
            (Err(Error::Api(f)), Credentials::Session(_, session))
                if auto_refresh && expired(&f.code) && session.can_refresh() =>
            {
                let attempts = f.attempts;
                match self.refresh_once(session, generation, options).await {
                    // One replay, not a loop: a second `token_expired` is returned as is.
                    Ok(()) => {
                        self.attempts(route, &url, credentials, &payload, options, policy, retry_safe, attempts).await
                    }
                    Err(_) => first,
                }
            }
            _ => first,
        };
        let result =
            result.and_then(|raw| if route.success.contains(&raw.status) { Ok(raw) } else { Err(raw.unexpected()) });
        let outcome = CallOutcome {
            route: route.id,
            status: match &result {
                Ok(raw) => Some(raw.status),
                Err(e) => e.status(),
            },
            error: result.as_ref().err(),
            attempts: match &result {
                Ok(raw) => raw.attempts,
                Err(e) => e.attempts(),
            },
            elapsed: started.elapsed(),
        };
        for hook in &self.config.hooks {
            hook.on_outcome(&outcome);
        }
        result
    }

    /// Refreshes `session` unless another call already did since `seen`: concurrent
    /// calls that meet `token_expired` wait for one refresh and share it (the server
    /// rotates the refresh cookie on each use, so a second refresh would fail).
    async fn refresh_once(&self, session: &Session, seen: u64, options: &CallOptions) -> Result<(), Error> {
        let _turn = session.refresh_lock().lock().await;
        if session.generation() != seen {
            return Ok(());
        }
        self.refresh(session, options).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempts(
        &self,
        route: &RouteInfo,
        url: &Url,
        credentials: Credentials<'_>,
        payload: &Payload,
        options: &CallOptions,
        policy: &RetryPolicy,
        retry_safe: bool,
        earlier: u32,
    ) -> Result<RawResponse, Error> {
        let timeout = options.timeout.or(self.config.timeout);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let total = earlier + attempt;
            let mut request = self.http.request(route.method.clone(), url.clone());
            if let Some(t) = timeout {
                request = request.timeout(t);
            }
            request = attach(request, credentials);
            if let Some((bytes, media)) = &payload.body {
                // `Bytes` clones share the buffer: every attempt sends the same bytes.
                request = request.header(reqwest::header::CONTENT_TYPE, *media).body(bytes.clone());
            }
            if let Some((name, value)) = &payload.key_header {
                request = request.header(*name, value.clone());
            }
            let mut request =
                request.build().map_err(|e| Error::InvalidRequest(format!("request of `{}`: {e}", route.id)))?;
            let info = AttemptInfo { route: route.id, attempt: total };
            for hook in &self.config.hooks {
                hook.before_attempt(&mut request, &info);
            }
            let outcome = self.http.execute(request).await;
            let (failure_error, decision) = match outcome {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let headers = std::mem::take(response.headers_mut());
                    let bytes = match response.bytes().await {
                        Ok(b) => b,
                        Err(e) => return Err(transport_error(e, total)),
                    };
                    if status < 400 {
                        self.notify(route, url, attempt, Some(status), None);
                        return Ok(RawResponse { route: route.id, status, headers, body: bytes, attempts: total });
                    }
                    let retry_after = headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, self.config.clock.now()));
                    let (code, message, extra) = decode_error_body(status, &bytes);
                    let code_class = self.retry_class(&code);
                    let decision =
                        policy.decide(attempt, retry_safe, &FailedAttempt::Status { status, code_class, retry_after });
                    let failure = ApiFailure {
                        code,
                        retry_class: code_class,
                        message,
                        status,
                        request_id: request_id(&headers),
                        extra,
                        retry_after: match decision {
                            Decision::StopWaitTooLong(wait) => Some(wait),
                            _ => retry_after,
                        },
                        attempts: total,
                    };
                    (Error::Api(Box::new(failure)), decision)
                }
                Err(e) => {
                    let decision = policy.decide(attempt, retry_safe, &FailedAttempt::Transport);
                    (transport_error(e, total), decision)
                }
            };
            let status = failure_error.api().map(|f| f.status);
            match decision {
                Decision::Retry(wait) => {
                    self.notify(route, url, attempt, status, Some(wait));
                    self.config.clock.sleep(wait).await;
                }
                Decision::Stop | Decision::StopWaitTooLong(_) => {
                    self.notify(route, url, attempt, status, None);
                    return Err(failure_error);
                }
            }
        }
    }

    /// The catalogue's retry class of `code`.
    fn retry_class(&self, code: &str) -> Option<RetryClass> {
        tenx_error_model::lookup(self.config.catalogue, code).map(|info| info.retry)
    }

    fn notify(&self, route: &RouteInfo, url: &Url, attempt: u32, status: Option<u16>, retry_in: Option<Duration>) {
        let event = AttemptEvent { route: route.id, path: url.path(), attempt, status, retry_in };
        tracing::debug!(route = event.route, path = event.path, attempt, status = ?status, retry_in = ?retry_in, "10x api attempt");
        for hook in &self.config.hooks {
            hook.on_attempt(&event);
        }
    }

    /// Refreshes `session` through the spec's refresh route, with its cookies.
    async fn refresh(&self, session: &Session, options: &CallOptions) -> Result<(), Error> {
        let refresh =
            self.config.refresh.ok_or_else(|| Error::InvalidRequest("the spec declares no refresh route".into()))?;
        let cookie =
            session.cookie_header().ok_or_else(|| Error::InvalidRequest("the session has no refresh cookie".into()))?;
        let mut request = self.http.post(self.url(refresh.segments, None));
        if let Some(t) = options.timeout.or(self.config.timeout) {
            request = request.timeout(t);
        }
        let mut value =
            HeaderValue::from_str(cookie.expose()).map_err(|_| Error::InvalidRequest("bad cookie".into()))?;
        value.set_sensitive(true);
        let response =
            request.header(reqwest::header::COOKIE, value).send().await.map_err(|e| transport_error(e, 1))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| transport_error(e, 1))?;
        if status >= 400 {
            let (code, message, extra) = decode_error_body(status, &bytes);
            let request_id = request_id(&headers);
            return Err(Error::Api(Box::new(ApiFailure {
                retry_class: self.retry_class(&code),
                code,
                message,
                status,
                request_id,
                extra,
                retry_after: None,
                attempts: 1,
            })));
        }
        let token = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get(refresh.token_field).and_then(|t| t.as_str()).map(Secret::new))
            .ok_or_else(|| Error::Decode {
                route: "refresh",
                status,
                message: format!("no `{}` in the refresh answer", refresh.token_field),
                request_id: request_id(&headers),
                body: bytes.clone(),
            })?;
        session.update(token, set_cookies(&headers));
        Ok(())
    }
}

/// A query struct as `a=1&tag=x&tag=y`: a list repeats its key (what servers read as a
/// list, and what `serde_urlencoded` cannot write), an absent value is left out.
fn encode_query<Q: Serialize + ?Sized>(query: &Q) -> Result<String, String> {
    let value = serde_json::to_value(query).map_err(|e| e.to_string())?;
    let serde_json::Value::Object(fields) = value else {
        return Err("a query is a struct of named parameters".into());
    };
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => Ok(Some(v.to_string())),
        other => Err(format!("a query value cannot be {other}")),
    };
    for (name, value) in &fields {
        let items = match value {
            serde_json::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for item in items {
            if let Some(text) = scalar(item)? {
                out.append_pair(name, &text);
            }
        }
    }
    Ok(out.finish())
}

/// A call encoded before it starts: the URL with its query, the body's bytes and media
/// type, and whether the body carries an idempotency key.
struct Prepared {
    url: Url,
    body: Option<(bytes::Bytes, &'static str)>,
    body_key: bool,
}

/// What every attempt of one call sends beyond the URL: the body's bytes and a header
/// idempotency key, both fixed before the first attempt.
struct Payload {
    body: Option<(bytes::Bytes, &'static str)>,
    key_header: Option<(&'static str, HeaderValue)>,
}

/// Serialises the body once, so every attempt sends the same bytes (and the same
/// idempotency key). Returns whether a key is in the body.
fn encode_body<B: Serialize + ?Sized>(route: &RouteInfo, body: Option<&B>) -> Result<(Option<Vec<u8>>, bool), Error> {
    let invalid = |e: serde_json::Error| Error::InvalidRequest(format!("body of `{}`: {e}", route.id));
    let Some(body) = body else { return Ok((None, false)) };
    let Some(IdempotencyCarrier::Field(field)) = route.idempotency else {
        return serde_json::to_vec(body).map(|b| (Some(b), false)).map_err(invalid);
    };
    let mut value = serde_json::to_value(body).map_err(invalid)?;
    if let serde_json::Value::Object(map) = &mut value {
        let present = map.get(field).is_some_and(|v| !v.is_null());
        if !present {
            map.insert(field.to_owned(), serde_json::Value::String(uuid::Uuid::new_v4().to_string()));
        }
    }
    let has_key = value.get(field).is_some_and(|v| !v.is_null());
    serde_json::to_vec(&value).map(|b| (Some(b), has_key)).map_err(invalid)
}

fn attach(request: reqwest::RequestBuilder, credentials: Credentials<'_>) -> reqwest::RequestBuilder {
    let (transport, secret) = match credentials {
        Credentials::None => return request,
        Credentials::Pat(t, pat) => (t, pat.secret().clone()),
        Credentials::Session(t, session) => (t, session.access_token()),
        Credentials::Visitor(t, cookie) => (t, cookie.clone()),
    };
    let (name, text) = match transport {
        Transport::Header { name, scheme: Some(scheme) } => (name, format!("{scheme} {}", secret.expose())),
        Transport::Header { name, scheme: None } => (name, secret.expose().to_owned()),
        Transport::Cookie { name } => ("cookie", format!("{name}={}", secret.expose())),
    };
    match HeaderValue::from_str(&text) {
        Ok(mut value) => {
            // Marked sensitive so no debug output of the request shows it.
            value.set_sensitive(true);
            request.header(name, value)
        }
        // A credential that cannot be a header value is sent without it; the server
        // answers `missing_bearer_token`, which says what is wrong.
        Err(_) => request,
    }
}

fn transport_error(error: reqwest::Error, attempts: u32) -> Error {
    if error.is_timeout() {
        Error::Timeout { attempts }
    } else {
        // Without the URL: its query could carry tokens some day, and the route is known.
        let source = error.without_url();
        Error::Transport { message: source.to_string(), attempts, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: RouteInfo = RouteInfo {
        id: "record_conversion",
        method: reqwest::Method::POST,
        idempotency: Some(IdempotencyCarrier::Field("idempotencyKey")),
        success: &[200],
    };

    #[test]
    fn a_missing_idempotency_key_is_generated_once() {
        let body = serde_json::json!({"ctx": "c", "idempotencyKey": null});
        let (bytes, has_key) = encode_body(&ROUTE, Some(&body)).unwrap_or_else(|e| panic!("{e}"));
        assert!(has_key);
        let sent: serde_json::Value = serde_json::from_slice(&bytes.unwrap_or_default()).unwrap_or_default();
        let key = sent["idempotencyKey"].as_str().unwrap_or_default();
        assert_eq!(uuid::Uuid::parse_str(key).map(|u| u.get_version_num()).ok(), Some(4));
    }

    #[test]
    fn a_given_key_is_kept() {
        let body = serde_json::json!({"ctx": "c", "idempotencyKey": "order-12345"});
        let (bytes, has_key) = encode_body(&ROUTE, Some(&body)).unwrap_or_else(|e| panic!("{e}"));
        assert!(has_key && String::from_utf8_lossy(&bytes.unwrap_or_default()).contains("order-12345"));
    }

    #[test]
    fn options_override_field_by_field() {
        let base = CallOptions::new().timeout(Duration::from_secs(5)).auto_refresh(true);
        let merged = CallOptions::new().retry(RetryPolicy::never()).over(&base);
        assert_eq!(merged.timeout, Some(Duration::from_secs(5)), "kept");
        assert_eq!(merged.auto_refresh, Some(true), "kept");
        assert_eq!(merged.retry.map(|r| r.max_attempts), Some(1), "set");
        let merged = CallOptions::new().timeout(Duration::from_secs(1)).over(&base);
        assert_eq!(merged.timeout, Some(Duration::from_secs(1)), "replaced");
    }

    #[test]
    fn queries_repeat_list_keys_and_leave_out_absent_values() {
        #[derive(Serialize)]
        struct Query {
            tag: Vec<String>,
            limit: Option<u32>,
            cursor: Option<String>,
            exact: bool,
        }
        let q = Query { tag: vec!["a b".into(), "c&d".into()], limit: Some(5), cursor: None, exact: true };
        assert_eq!(encode_query(&q).as_deref(), Ok("exact=true&limit=5&tag=a+b&tag=c%26d"));
        assert!(encode_query(&vec![1, 2]).is_err());
    }

    #[test]
    fn urls_encode_segments_and_keep_a_base_path() {
        let rt = Runtime::new(Config::new("http://127.0.0.1:1/api/", RetryPolicy::never()))
            .unwrap_or_else(|e| panic!("{e}"));
        let url = rt.url(&["v2", "handles", "a b/c", "links"], Some("limit=5"));
        assert_eq!(url.as_str(), "http://127.0.0.1:1/api/v2/handles/a%20b%2Fc/links?limit=5");
        assert!(Runtime::new(Config::new("not a url", RetryPolicy::never())).is_err());
    }
}
