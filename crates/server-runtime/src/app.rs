//! The glue every generated route handler goes through: request ids, the checks, query,
//! path and body validation, idempotency, panics, and rendering.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::context::{AddedHeaders, RequestContext};
use crate::data::{AuthData, MemoryAuthData};
use crate::failure::{Failure, Situation};
use crate::guard::{
    AuthContext, IdempotencyCarrier, IdempotencySpec, JwtContext, PatContext, RouteSpec, ServerSpec, VisitorContext,
    authorize, unavailable,
};
use crate::idempotency::{IdempotencyStore, MemoryIdempotency, Reservation, Stored, fingerprint, fingerprint_bytes};
use crate::jwt::JwtKeys;
use crate::limits::{MemoryLimiter, RateLimiter};
use crate::schema::{self, FieldSchema, Ty};
use crate::store::StoreHealth;

/// Largest request body read, in bytes.
const MAX_BODY: usize = 1 << 20;

/// What the router needs: the spec's facts and the app's data.
pub struct ServerState {
    /// The API-wide facts.
    pub spec: &'static ServerSpec,
    /// Users, handles, roles, plans, PATs, visitors.
    pub data: Arc<dyn AuthData>,
    /// JWT keys.
    pub jwt: JwtKeys,
    /// Rate-limit counters.
    pub limiter: Arc<dyn RateLimiter>,
    /// Where per-minute limits are counted while `limiter` is unavailable (see
    /// [`store`](crate::store)).
    pub local_limiter: MemoryLimiter,
    /// Idempotency records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The wall clock (tests share a virtual one with the client).
    pub now: Arc<dyn Fn() -> SystemTime + Send + Sync>,
    /// Whether `limiter` failed recently (see [`store`](crate::store)).
    pub(crate) limiter_health: StoreHealth,
    /// Whether `idempotency` failed recently.
    pub(crate) idempotency_health: StoreHealth,
}

impl ServerState {
    /// State with the app's data and keys, and in-memory limiter and idempotency records.
    pub fn new(spec: &'static ServerSpec, data: Arc<dyn AuthData>, jwt: JwtKeys) -> Self {
        ServerState {
            spec,
            data,
            jwt,
            limiter: Arc::new(MemoryLimiter::new()),
            local_limiter: MemoryLimiter::new(),
            idempotency: Arc::new(MemoryIdempotency::new()),
            now: Arc::new(SystemTime::now),
            limiter_health: StoreHealth::default(),
            idempotency_health: StoreHealth::default(),
        }
    }

    /// State backed entirely by memory (tests and examples).
    pub fn in_memory(spec: &'static ServerSpec, data: Arc<MemoryAuthData>, jwt: JwtKeys) -> Self {
        Self::new(spec, data, jwt)
    }
}

/// One checked request, as a handler's glue sees it.
#[derive(Debug)]
pub struct Call {
    /// Who is calling.
    pub auth: AuthContext,
    /// The request id.
    pub request_id: String,
    params: Vec<(String, String)>,
    query: Value,
    body: Option<Value>,
    /// A `text` or `binary` body, as received (checked: text is UTF-8).
    raw: Option<bytes::Bytes>,
}

impl Call {
    /// A path parameter (validated).
    ///
    /// # Panics
    /// When the route declares no parameter `name`: generated glue asks only for the
    /// route's own, which the checks found present (the router answers a panic with a
    /// bare `internal_error`).
    pub fn param(&self, name: &str) -> String {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .expect("the checks found every declared path parameter")
    }

    /// The query parameters, typed (validated).
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        serde_json::from_value(self.query.clone())
            .map_err(|e| Failure::of(Situation::InvalidInput, format!("query: {e}")))
    }

    /// The body, typed (validated). It is moved out: a handler reads it once.
    pub fn body<T: DeserializeOwned>(&mut self) -> Result<T, Failure> {
        // A route without a body reads as `null`, which only `()`-like types accept.
        let value = self.body.take().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| Failure::of(Situation::InvalidInput, format!("body: {e}")))
    }

    /// A `text` body (the router checked it is UTF-8). Moved out: read once.
    pub fn text(&mut self) -> Result<String, Failure> {
        let raw = self.raw.take().unwrap_or_default();
        String::from_utf8(raw.to_vec()).map_err(|_| Failure::of(Situation::InvalidBody, "The body is not UTF-8 text."))
    }

    /// A `binary` body. Moved out: read once.
    pub fn bytes(&mut self) -> Vec<u8> {
        self.raw.take().map(|b| b.to_vec()).unwrap_or_default()
    }

    /// The JWT user (the route takes only JWTs).
    pub fn jwt(&self) -> Result<JwtContext, Failure> {
        match &self.auth {
            AuthContext::Jwt(c) => Ok(c.clone()),
            other => Err(Failure::internal(format!("expected a JWT context, got {other:?}"))),
        }
    }

    /// The PAT caller (the route takes only PATs).
    pub fn pat(&self) -> Result<PatContext, Failure> {
        match &self.auth {
            AuthContext::Pat(c) => Ok(c.clone()),
            other => Err(Failure::internal(format!("expected a PAT context, got {other:?}"))),
        }
    }

    /// The visitor (the route takes only the visitor cookie).
    pub fn visitor(&self) -> Result<VisitorContext, Failure> {
        match &self.auth {
            AuthContext::Visitor(c) => Ok(c.clone()),
            other => Err(Failure::internal(format!("expected a visitor context, got {other:?}"))),
        }
    }
}

/// A handler's answer: a status and an optional body, already serialised (the typed
/// value goes straight to bytes, with no `Value` in between), and its media type.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: Option<bytes::Bytes>,
    /// The body's media type.
    pub content_type: &'static str,
}

impl Reply {
    /// A JSON answer.
    pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Reply, Failure> {
        let bytes = serde_json::to_vec(body).map_err(Failure::internal)?;
        Ok(Reply { status, body: Some(bytes.into()), content_type: "application/json" })
    }

    /// A plain-text answer.
    pub fn text(status: u16, body: String) -> Result<Reply, Failure> {
        Ok(Reply { status, body: Some(body.into()), content_type: "text/plain; charset=utf-8" })
    }

    /// A binary answer.
    pub fn bytes(status: u16, body: Vec<u8>) -> Result<Reply, Failure> {
        Ok(Reply { status, body: Some(body.into()), content_type: "application/octet-stream" })
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> Result<Reply, Failure> {
        Ok(Reply { status, body: None, content_type: "application/json" })
    }

    fn into_response(self) -> Response {
        // A status outside 100..=999 is a handler's bug: a 500, not a guessed success.
        let Ok(status) = StatusCode::from_u16(self.status) else {
            return Failure::internal(format!("a handler answered the status {}", self.status)).into_response();
        };
        match self.body {
            Some(body) => {
                let media = [(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(self.content_type))];
                (status, media, body).into_response()
            }
            None => status.into_response(),
        }
    }
}

/// The axum method router of one route: every request goes through [`handle`], and
/// `handler` gets the API with the checked call and its context. Generic here, so each
/// generated route is one closure and one future for rustc to check, not three.
pub fn endpoint<A, F, Fut>(
    method: axum::routing::MethodFilter,
    state: &Arc<ServerState>,
    api: &Arc<A>,
    route: &'static RouteSpec,
    handler: F,
) -> axum::routing::MethodRouter
where
    A: Send + Sync + 'static + ?Sized,
    F: Fn(Arc<A>, Call, RequestContext) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Reply, Failure>> + Send + 'static,
{
    let (state, api) = (state.clone(), api.clone());
    axum::routing::on(method, move |request: Request| {
        let (state, api, handler) = (state.clone(), api.clone(), handler.clone());
        async move { handle(state, route, request, move |call, cx| handler(api, call, cx)).await }
    })
}

/// Runs one route: the checks, validation, idempotency, the handler (a panic becomes a
/// bare `internal_error`), and rendering.
pub async fn handle<F, Fut>(
    state: Arc<ServerState>,
    route: &'static RouteSpec,
    request: Request,
    handler: F,
) -> Response
where
    F: FnOnce(Call, RequestContext) -> Fut,
    Fut: Future<Output = Result<Reply, Failure>>,
{
    let request_id = request_id_of(request.headers());
    let added = AddedHeaders::default();
    let response = run(state, route, request, request_id.clone(), added.clone(), handler).await;
    let mut response = finish_response(response, &request_id, route.id);
    // The handler's future has ended, and with it every borrow of its context.
    for (name, value) in std::mem::take(&mut *added.lock().unwrap_or_else(std::sync::PoisonError::into_inner)) {
        response.headers_mut().append(name, value);
    }
    response
}

async fn run<F, Fut>(
    state: Arc<ServerState>,
    route: &'static RouteSpec,
    request: Request,
    request_id: String,
    added: AddedHeaders,
    handler: F,
) -> Response
where
    F: FnOnce(Call, RequestContext) -> Fut,
    Fut: Future<Output = Result<Reply, Failure>>,
{
    let request_headers = request.headers().clone();
    // Read before `prepare` takes the request; checked after the route's own checks.
    let header_key = match route.idempotency.map(|i| i.key) {
        Some(IdempotencyCarrier::Header(name)) => request.headers().get(name).map(|v| v.as_bytes().to_vec()),
        _ => None,
    };
    let prepared = prepare(&state, route, request, request_id.clone())
        .await
        .and_then(|call| Ok((idempotency_key(route, &call, header_key.as_deref())?, call)));
    let answer = |mut failure: Failure| {
        // Logged here, once, with the request id: what went wrong inside stays inside.
        if let Some(cause) = failure.cause.take() {
            tracing::error!(request_id = %request_id, route = route.id, cause = %cause, "internal error");
        }
        failure.resolve(&state.spec.answers).into_response()
    };
    match prepared {
        Err(failure) => answer(failure),
        Ok((key, call)) => {
            // One caller's key never replays another's answer.
            let key = key.map(|(spec, key, fp)| (spec, format!("{}\u{0}{key}", call.auth.principal()), key, fp));
            let cx = RequestContext::new(request_id.clone(), route.id, call.auth.clone(), request_headers, added);
            let run = async move {
                match AssertUnwindSafe(handler(call, cx)).catch_unwind().await {
                    Ok(result) => result,
                    Err(panic) => {
                        let text = panic
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_owned())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default(); // a payload that is not text has none to log
                        Err(Failure::internal(format!("the handler panicked: {text}")))
                    }
                }
            };
            let result = match key {
                Some((spec, scoped, key, fp)) => deduplicate(&state, route.id, &scoped, &key, fp, spec, run).await,
                None => run.await,
            };
            // Debug builds (and so every test) hold each answer to its declared type: a
            // handler's wrong answer is a loud 500 there, not a silent 200.
            let result =
                result.and_then(|reply| if cfg!(debug_assertions) { checked(route, reply) } else { Ok(reply) });
            match result {
                Ok(reply) => reply.into_response(),
                Err(failure) => answer(failure),
            }
        }
    }
}

/// `reply` if its JSON body is of the route's declared answer type, else an internal
/// failure saying how it departs (debug builds only: see `run`).
fn checked(route: &RouteSpec, reply: Reply) -> Result<Reply, Failure> {
    let (Some(ty), Some(body)) = (route.response, &reply.body) else { return Ok(reply) };
    if reply.content_type != "application/json" || !(200..300).contains(&reply.status) {
        return Ok(reply);
    }
    match schema::check_answer(body, &ty) {
        Ok(()) => Ok(reply),
        Err(why) => {
            let message = format!("(debug build) the answer of `{}` breaks the spec: {why}", route.id);
            Err(Failure { cause: Some(message.clone()), ..Failure::of(Situation::Internal, message) })
        }
    }
}

/// The route's idempotency key, with what the request is fingerprinted by (the body),
/// or none when the route does not deduplicate or the caller sent no key (a route
/// whose key is `required` refuses that). A header key is an RFC 8941 string, quoted
/// or bare, of 1 to 255 printable characters.
fn idempotency_key(
    route: &RouteSpec,
    call: &Call,
    header: Option<&[u8]>,
) -> Result<Option<(IdempotencySpec, String, [u8; 32])>, Failure> {
    let Some(spec) = route.idempotency else { return Ok(None) };
    let fp = match (&call.body, &call.raw) {
        (Some(body), _) => fingerprint(body),
        (None, Some(raw)) => fingerprint_bytes(raw),
        (None, None) => fingerprint(&Value::Null),
    };
    let key = match spec.key {
        IdempotencyCarrier::Field(field) => call.body.as_ref().and_then(|b| b.get(field)?.as_str().map(str::to_owned)),
        IdempotencyCarrier::Header(name) => match header {
            None => None,
            Some(raw) => {
                let text = std::str::from_utf8(raw).unwrap_or_default().trim();
                let bare = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
                let printable = bare.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
                if bare.is_empty() || bare.len() > 255 || !printable {
                    return Err(Failure::of(
                        Situation::InvalidInput,
                        format!("`{name}` must be 1 to 255 printable characters, quoted or not."),
                    ));
                }
                Some(bare.to_owned())
            }
        },
    };
    match key {
        Some(key) => Ok(Some((spec, key, fp))),
        None if spec.required => {
            let name = match spec.key {
                IdempotencyCarrier::Field(n) | IdempotencyCarrier::Header(n) => n,
            };
            Err(Failure::of(Situation::InvalidInput, format!("This route needs an idempotency key in `{name}`.")))
        }
        None => Ok(None),
    }
}

async fn deduplicate<Fut>(
    state: &ServerState,
    scope: &str,
    scoped_key: &str,
    key: &str,
    fp: [u8; 32],
    spec: IdempotencySpec,
    run: Fut,
) -> Result<Reply, Failure>
where
    Fut: Future<Output = Result<Reply, Failure>>,
{
    let mut run = Some(run);
    loop {
        let now = (state.now)();
        let reserved = state
            .idempotency_health
            .call("idempotency", || state.idempotency.reserve(scope, scoped_key, fp, now))
            .await;
        let reserved = reserved.map_err(|_| {
            unavailable("Idempotency keys cannot be checked right now, so nothing was done; try again shortly.")
        })?;
        match reserved {
            Reservation::New => {
                let Some(run) = run.take() else { return Err(Failure::internal("idempotent handler ran twice")) };
                let result = run.await;
                let stored = result.as_ref().ok().map(|r| Stored {
                    status: r.status,
                    // `Reply::json` wrote these bytes, so they parse; an empty answer is `null`.
                    body: r.body.as_ref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null),
                });
                let keep_until = now + std::time::Duration::from_secs(spec.retention_seconds);
                let recorded = state.idempotency.complete(scope, scoped_key, stored, keep_until);
                // Asked even while the store is paused: the effect ran, and without its
                // record the key stays claimed until it is abandoned.
                if let Err(e) = state.idempotency_health.ask("idempotency", recorded).await {
                    // The effect happened: its answer goes out. See `store` for what a retry finds.
                    tracing::error!(error = %e, route = scope, "the idempotency record was not written");
                }
                return result;
            }
            Reservation::Done(stored) => {
                let mut body = stored.body;
                if let (Value::Object(map), Some(field)) = (&mut body, spec.deduped_field) {
                    map.insert(field.to_owned(), Value::Bool(true));
                }
                let status = spec.repeat_status.unwrap_or(stored.status);
                return if body.is_null() { Reply::empty(status) } else { Reply::json(status, &body) };
            }
            Reservation::Full(wait) => {
                // Bounded by design: a full store refuses rather than grows.
                return Err(Failure::of(
                    Situation::Unavailable,
                    "Too many requests with idempotency keys are remembered right now; try again shortly.",
                )
                .retry_after(crate::limits::retry_after_seconds(wait)));
            }
            Reservation::Conflict => {
                return Err(Failure::of(
                    Situation::Conflict,
                    format!("The idempotency key `{key}` was already used with another body."),
                ));
            }
            Reservation::Pending(mut rx) => {
                // Wait for the first request with this key; if it fails, try to run.
                while rx.borrow().is_none() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            }
        }
    }
}

async fn prepare(
    state: &ServerState,
    route: &'static RouteSpec,
    request: Request,
    request_id: String,
) -> Result<Call, Failure> {
    let (mut parts, body) = request.into_parts();
    // Every check below needs the path's parameters: a path that does not decode ends
    // the request here, before any check could be skipped for want of them.
    let params = path_params(&mut parts).await?;
    let mut path_values = Vec::with_capacity(route.path_params.len());
    for field in route.path_params {
        let Some((_, value)) = params.iter().find(|(n, _)| n == field.name) else {
            return Err(Failure::internal(format!("route `{}` matched without `{}`", route.id, field.name)));
        };
        path_values.push((field, Value::String(value.clone())));
    }
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let now = (state.now)();
    let auth = authorize(state, route, &parts.headers, &params, peer, now).await?;

    // 7. Parameters and body.
    for (field, value) in &path_values {
        schema::check(value, field, field.name)?;
    }
    // No query string is an empty one.
    let query = query_value(parts.uri.query().unwrap_or_default(), route.query)?;
    let read = |body: axum::body::Body| async move {
        axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| Failure::of(Situation::InvalidBody, format!("The body is larger than {MAX_BODY} bytes.")))
    };
    let (body, raw) = match route.body {
        Some(Ty::Text) => {
            // The validator keeps text bodies off cookie-authenticated routes: a
            // cross-site page may send `text/plain` unasked, but never this credential.
            if !media_is(&parts.headers, |m| m == "text/plain") {
                return Err(Failure::of(
                    Situation::InvalidBody,
                    "The body must be text: send `Content-Type: text/plain`.",
                ));
            }
            let bytes = read(body).await?;
            if std::str::from_utf8(&bytes).is_err() {
                return Err(Failure::of(Situation::InvalidBody, "The body is not UTF-8 text."));
            }
            (None, Some(bytes))
        }
        Some(Ty::Binary) => {
            if !media_is(&parts.headers, |m| m == "application/octet-stream") {
                return Err(Failure::of(
                    Situation::InvalidBody,
                    "The body must be bytes: send `Content-Type: application/octet-stream`.",
                ));
            }
            (None, Some(read(body).await?))
        }
        Some(ty) => {
            if !media_is(&parts.headers, |m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            }) {
                // A form or text body is what a cross-site page can send without asking;
                // JSON only, so such a request never reaches a handler.
                return Err(Failure::of(
                    Situation::InvalidBody,
                    "The body must be JSON: send `Content-Type: application/json`.",
                ));
            }
            let value = schema::check_body(&read(body).await?, &ty)?;
            // A free-form request body is still an object: the docs describe none that
            // is not (the OpenAPI export says so too).
            if matches!(ty, Ty::Json) && !value.is_object() {
                return Err(Failure::of(Situation::InvalidInput, "`body` must be a JSON object"));
            }
            (Some(value), None)
        }
        None => (None, None),
    };
    Ok(Call { auth, request_id, params, query, body, raw })
}

/// The decoded path parameters of a matched route; a segment that does not decode is
/// invalid input (in the error model, never axum's plain-text rejection).
pub async fn path_params(parts: &mut axum::http::request::Parts) -> Result<Vec<(String, String)>, Failure> {
    match RawPathParams::from_request_parts(parts, &()).await {
        Ok(p) => Ok(p.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()),
        Err(RawPathParamsRejection::InvalidUtf8InPathParam(e)) => {
            Err(Failure::of(Situation::InvalidInput, format!("The path is not valid: {}.", e.body_text())))
        }
        Err(e) => Err(Failure::internal(format!("a handler of an unparameterised route read its parameters: {e}"))),
    }
}

/// Whether the request's media type (without parameters, lowercased) passes `accept`.
fn media_is(headers: &axum::http::HeaderMap, accept: impl Fn(&str) -> bool) -> bool {
    let Some(value) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    accept(&value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// Query parameters as a JSON object, typed by the spec and checked.
fn query_value(raw: &str, fields: &[FieldSchema]) -> Result<Value, Failure> {
    if fields.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| Failure::of(Situation::InvalidInput, format!("query string: {e}")))?;
    let mut map = Map::new();
    for field in fields {
        let values: Vec<&str> = pairs.iter().filter(|(k, _)| k == field.name).map(|(_, v)| v.as_str()).collect();
        let typed = |text: &str, ty: &Ty| -> Value {
            match ty {
                Ty::Integer => text.parse::<i64>().map_or_else(|_| Value::String(text.to_owned()), Value::from),
                Ty::Number => text.parse::<f64>().map_or_else(|_| Value::String(text.to_owned()), Value::from),
                Ty::Boolean => match text {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    other => Value::String(other.to_owned()),
                },
                _ => Value::String(text.to_owned()),
            }
        };
        let value = match (&field.ty, values.as_slice()) {
            (_, []) if field.optional => continue,
            (_, []) => {
                return Err(schema::fail(&field.rules, field.name, "is required"));
            }
            (Ty::List(inner), many) => Value::Array(many.iter().map(|v| typed(v, inner)).collect()),
            (ty, [one, ..]) => typed(one, ty),
        };
        schema::check(&value, field, field.name)?;
        map.insert(field.name.to_owned(), value);
    }
    Ok(Value::Object(map))
}

/// The request's id: the caller's `x-request-id` when it is sensible, else a new one.
fn request_id_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned)
}

/// Every response carries its request id, and every request is logged with it. Done
/// here rather than in a middleware layer: a layer costs a boxed service call per request.
fn finish_response(mut response: Response, request_id: &str, route: &str) -> Response {
    tracing::info!(request_id, route, status = response.status().as_u16(), "request");
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A fresh request id: a random per-process prefix and a counter (unique, and cheap
/// enough for every request; ids need to be unique, not secret).
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    format!("{prefix:016x}-{:012x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The answer for a request no route takes: a path of the spec asked with a method it
/// does not have (405, with `Allow`), or no such path. (A router [`finish`] made mounts
/// every route of the spec; on one that did not, a route of the spec answers "not
/// implemented" here, without its checks.)
pub fn not_found(spec: &ServerSpec, request: &Request) -> Response {
    let request_id = request_id_of(request.headers());
    let (method, path) = (request.method().as_str(), request.uri().path());
    // As the router does, a literal segment wins over a parameter: `/links/export` is
    // the export route, not `/links/{slug}`.
    let matching: Vec<&RouteSpec> = spec.routes.iter().copied().filter(|r| template_matches(r.path, path)).collect();
    let best = matching.iter().map(|r| literal_segments(r.path)).max();
    let mut allowed: Vec<&str> =
        matching.iter().filter(|r| Some(literal_segments(r.path)) == best).map(|r| r.method).collect();
    allowed.sort_unstable();
    allowed.dedup();
    let failure = if allowed.contains(&method) {
        Failure::of(
            Situation::NotImplemented,
            format!("{method} {path} is in the spec, but this server does not implement it."),
        )
    } else if !allowed.is_empty() {
        Failure::of(Situation::MethodNotAllowed, format!("{path} takes {}, not {method}.", allowed.join(", ")))
    } else {
        Failure::of(Situation::NotFound, format!("No route {method} {path}."))
    };
    let mut response = failure.resolve(&spec.answers).into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        if let Ok(allow) = HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(axum::http::header::ALLOW, allow);
        }
    }
    finish_response(response, &request_id, "not_found")
}

/// Which segments of a template are literal, first segment first: the more specific
/// template compares greater.
fn literal_segments(template: &str) -> Vec<bool> {
    template.split('/').map(|s| !s.starts_with('{')).collect()
}

/// Whether `path` fits a route template: segment by segment, `{param}` standing for
/// any one non-empty segment.
fn template_matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') && ts.ends_with('}') && !ps.is_empty() => {}
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

/// What answers a route of a family the app did not mount, once the route's checks
/// passed: credentials, scopes, role, plan, limits, parameters, body and idempotency
/// run for it as for a mounted one.
pub trait Unmounted: Send + Sync + 'static {
    /// The answer to a checked `call` of `route`.
    fn answer(
        &self,
        route: &'static RouteSpec,
        call: Call,
        cx: RequestContext,
    ) -> futures_util::future::BoxFuture<'static, Result<Reply, Failure>>;
}

/// Answers every route it is given "not implemented" (`not_implemented`, 501, where the
/// spec names it), after the route's checks: a call without its credential is still a
/// 401, a call of a locked feature still a 403.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotImplemented;

impl Unmounted for NotImplemented {
    fn answer(
        &self,
        route: &'static RouteSpec,
        _call: Call,
        _cx: RequestContext,
    ) -> futures_util::future::BoxFuture<'static, Result<Reply, Failure>> {
        let message = format!("{} {} is in the spec, but this server does not implement it.", route.method, route.path);
        Box::pin(std::future::ready(Err(Failure::of(Situation::NotImplemented, message))))
    }
}

/// Finishes a router: every route of a family not in `mounted` is answered by
/// `unmounted` after its checks, and unknown paths and wrong methods get error-model
/// answers with the spec's codes.
pub fn finish(
    mut router: axum::Router,
    state: &Arc<ServerState>,
    mounted: &[&str],
    unmounted: &Arc<dyn Unmounted>,
) -> axum::Router {
    let spec = state.spec;
    for &route in spec.routes.iter().filter(|r| !mounted.contains(&r.family)) {
        let method = axum::http::Method::from_bytes(route.method.as_bytes())
            .ok()
            .and_then(|m| axum::routing::MethodFilter::try_from(m).ok())
            .expect("the spec's methods are HTTP methods axum routes");
        let answer = endpoint(method, state, unmounted, route, move |fill, call, cx| fill.answer(route, call, cx));
        router = router.route(route.path, answer);
    }
    let fallback = move |request: Request| async move { not_found(spec, &request) };
    router.fallback(fallback).method_not_allowed_fallback(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::{AuthKind, RateKey};
    use crate::schema::{FieldSchema, ObjectSchema, Rules};

    static LINK: ObjectSchema = ObjectSchema {
        name: "Link",
        fields: &[FieldSchema {
            name: "expiresAt",
            ty: Ty::String,
            optional: false,
            nullable: false,
            rules: Rules { format: Some(crate::schema::Format::DateTime), ..Rules::NONE },
        }],
    };
    static ROUTE: RouteSpec = RouteSpec {
        id: "get_link",
        family: "links",
        method: "GET",
        path: "/v2/links/{slug}",
        auth: &[AuthKind::None],
        scopes: &[],
        min_role: None,
        feature: None,
        rate_limit: RateKey::None,
        counts_write: false,
        path_params: &[],
        query: &[],
        body: None,
        response: Some(Ty::Object(&LINK)),
        success: &[200],
        errors: &[],
        idempotency: None,
    };

    #[test]
    fn a_required_header_key_is_required_and_bounded() {
        static KEYED: RouteSpec = RouteSpec {
            idempotency: Some(IdempotencySpec {
                key: IdempotencyCarrier::Header("idempotency-key"),
                required: true,
                repeat_status: None,
                deduped_field: None,
                retention_seconds: 60,
            }),
            ..ROUTE
        };
        let call = Call {
            auth: AuthContext::None,
            request_id: "r".into(),
            params: Vec::new(),
            query: Value::Null,
            body: Some(serde_json::json!({"n": 1})),
            raw: None,
        };
        let key = |header: Option<&[u8]>| idempotency_key(&KEYED, &call, header).map(|k| k.map(|(_, key, _)| key));
        let missing = key(None).expect_err("a required key");
        assert_eq!(
            (missing.situation, missing.message.as_str()),
            (Some(Situation::InvalidInput), "This route needs an idempotency key in `idempotency-key`.")
        );
        // Quoted or bare, the same key; too long or not printable, refused.
        assert_eq!(key(Some(b"\"order-1\"")).ok().flatten().as_deref(), Some("order-1"));
        assert_eq!(key(Some(b"order-1")).ok().flatten().as_deref(), Some("order-1"));
        assert!(key(Some("k".repeat(256).as_bytes())).is_err());
        assert!(key(Some(b"tab\there")).is_err());
    }

    #[test]
    fn an_answer_off_its_declared_type_is_refused() {
        let answer = |json: serde_json::Value| checked(&ROUTE, Reply::json(200, &json).expect("serialises"));
        assert!(answer(serde_json::json!({"expiresAt": "2026-11-29T05:00:00Z"})).is_ok());
        // The defect the conformance harness found: epoch seconds in a string.
        let f = answer(serde_json::json!({"expiresAt": "1796015585"})).expect_err("not a date-time");
        assert!(f.message.contains("`body.expiresAt`"), "{}", f.message);
        // A missing field, and a field the type does not declare.
        assert!(answer(serde_json::json!({})).is_err());
        let f = answer(serde_json::json!({"expiresAt": "2026-11-29T05:00:00Z", "secret": "x"})).expect_err("extra");
        assert!(f.message.contains("undeclared fields: `body.secret`"), "{}", f.message);
        // Error answers and non-JSON answers are not held to the success type.
        assert!(checked(&ROUTE, Reply::text(200, "x".into()).expect("text")).is_ok());
    }

    #[test]
    fn templates_match_segment_by_segment() {
        assert!(template_matches("/v2/handles/{handle}/files", "/v2/handles/demo/files"));
        assert!(!template_matches("/v2/handles/{handle}/files", "/v2/handles//files"));
        assert!(!template_matches("/v2/handles/{handle}/files", "/v2/handles/demo/files/x"));
        assert!(template_matches("/v1/accounts/{account}/parcels:search", "/v1/accounts/a/parcels:search"));
        assert!(!template_matches("/v1/track/{n}", "/v1/track"));
        assert!(
            literal_segments("/v2/handles/{handle}/links/export")
                > literal_segments("/v2/handles/{handle}/links/{slug}")
        );
    }
}
