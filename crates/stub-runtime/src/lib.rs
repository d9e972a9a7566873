//! A server for any API of the format, from its spec alone.
//!
//! [`Stub`] answers every route it is given (through a generated server crate's
//! `RouterBuilder::unmounted`, or [`tenx_server_runtime::finish`]) behind the router's
//! checks: credentials, PAT
//! binding, scopes, role, plan feature, rate limit and quota, parameters, body and
//! idempotency run first, exactly as for a hand-written handler. Once they pass, it
//! answers the route's first declared success with a body built from the declared type
//! ([`values`]: formats, patterns, bounds, enums and nested types kept; deterministic
//! for a seed, the route and its path).
//!
//! Any other declared outcome can be asked for, per request with RFC 7240's `Prefer`
//! header (`Prefer: code=201`, `Prefer: code=feature_locked`; a status picks the
//! route's first error with it), or per route with [`Stub::force`]. An outcome the route
//! does not declare is a 400 saying which it does. Only the stub reads `Prefer`: a real
//! handler never sees a forced outcome.
//!
//! [`kit`] starts a stub server in-process (an ephemeral port, demo accounts and a
//! credential for each auth mode); [`cli`] is the same as a binary.

pub mod cli;
pub mod kit;
pub mod values;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use futures_util::future::BoxFuture;
use serde_json::Value;
use tenx_server_runtime::guard::{RouteSpec, ServerSpec};
use tenx_server_runtime::schema::{Rules, Ty};
use tenx_server_runtime::{Call, Failure, Reply, RequestContext, Situation, Unmounted};

use crate::values::Values;

/// An outcome of a route: one of its success statuses, or one of its error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A status: a success status of the route, or the status of one of its errors.
    Status(u16),
    /// An error code of the route.
    Error(String),
}

impl Outcome {
    /// `201` is a status, anything else a code.
    pub fn parse(text: &str) -> Outcome {
        match text.parse::<u16>() {
            Ok(status) => Outcome::Status(status),
            Err(_) => Outcome::Error(text.to_owned()),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Status(s) => write!(f, "{s}"),
            Outcome::Error(c) => f.write_str(c),
        }
    }
}

/// What a route answers, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decided {
    Success(u16),
    Error(&'static str),
}

/// Why an outcome cannot be forced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForceError {
    /// The spec has no such route.
    #[error("the spec has no route `{0}`")]
    UnknownRoute(String),
    /// The route does not declare the outcome.
    #[error("{0}")]
    Undeclared(String),
}

/// Answers any route from its declaration; see the [crate] docs.
pub struct Stub {
    spec: &'static ServerSpec,
    seed: u64,
    forced: Mutex<HashMap<&'static str, Outcome>>,
}

impl std::fmt::Debug for Stub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stub").field("seed", &self.seed).field("routes", &self.spec.routes.len()).finish()
    }
}

impl Stub {
    /// A stub of the API `spec` describes; `seed` decides every value it answers.
    pub fn new(spec: &'static ServerSpec, seed: u64) -> Self {
        Stub { spec, seed, forced: Mutex::new(HashMap::new()) }
    }

    /// From now on, `route` answers `outcome` (once its checks pass), unless a request
    /// asks for another with `Prefer`.
    ///
    /// # Errors
    /// When the spec has no such route, or the route does not declare the outcome.
    pub fn force(&self, route: &str, outcome: Outcome) -> Result<(), ForceError> {
        let spec = self.route(route).ok_or_else(|| ForceError::UnknownRoute(route.to_owned()))?;
        decide(self.spec, spec, &outcome).map_err(|f| ForceError::Undeclared(f.message))?;
        self.forced.lock().unwrap_or_else(PoisonError::into_inner).insert(spec.id, outcome);
        Ok(())
    }

    /// `route` answers its usual success again.
    pub fn unforce(&self, route: &str) {
        self.forced.lock().unwrap_or_else(PoisonError::into_inner).remove(route);
    }

    fn route(&self, id: &str) -> Option<&'static RouteSpec> {
        self.spec.routes.iter().copied().find(|r| r.id == id)
    }

    /// The answer to a checked call of `route`, with the outcome a request asked for.
    fn reply(&self, route: &'static RouteSpec, call: &Call, prefer: Option<Outcome>) -> Result<Reply, Failure> {
        let forced = || self.forced.lock().unwrap_or_else(PoisonError::into_inner).get(route.id).cloned();
        let decided = match prefer.or_else(forced) {
            Some(outcome) => decide(self.spec, route, &outcome)?,
            None => Decided::Success(route.success.first().copied().unwrap_or(200)),
        };
        // The same seed, route and path give the same answer.
        let mut seed = fnv(self.seed.to_le_bytes().as_slice(), route.id.as_bytes());
        for p in route.path_params {
            seed = fnv(seed.to_le_bytes().as_slice(), call.param(p.name).as_bytes());
        }
        let mut values = Values::new(seed);
        match decided {
            Decided::Success(status) => success(route, status, &mut values),
            Decided::Error(code) => Err(self.error(code, route, &mut values)),
        }
    }

    fn error(&self, code: &'static str, route: &RouteSpec, values: &mut Values) -> Failure {
        let mut failure = Failure::new(code, format!("The stub answers `{}` with `{code}`, as asked.", route.id));
        if let Some((_, ty)) = self.spec.error_details.iter().find(|(c, _)| *c == code) {
            if let Value::Object(details) = values.value(ty, &Rules::NONE, 0) {
                failure.details.extend(details);
            }
        }
        match self.spec.answers.status(code) {
            Some(429 | 503) => failure.retry_after(1),
            _ => failure,
        }
    }
}

impl Unmounted for Stub {
    fn answer(
        &self,
        route: &'static RouteSpec,
        call: Call,
        cx: RequestContext,
    ) -> BoxFuture<'static, Result<Reply, Failure>> {
        Box::pin(std::future::ready(self.reply(route, &call, prefer(&cx))))
    }
}

/// The outcome a request asks for in `Prefer: code=…` (RFC 7240: preferences split by
/// commas, parameters by semicolons, values quoted or not), if any. Other preferences,
/// and a header that is not text, are ignored, as the RFC has servers do.
fn prefer(cx: &RequestContext) -> Option<Outcome> {
    let text = cx.header("prefer")?.to_str().ok()?;
    text.split(',').find_map(|preference| {
        let (name, value) = preference.split(';').next()?.split_once('=')?;
        name.trim().eq_ignore_ascii_case("code").then(|| Outcome::parse(value.trim().trim_matches('"')))
    })
}

/// What `outcome` means for `route`, or a 400 naming what it may answer.
fn decide(spec: &ServerSpec, route: &RouteSpec, outcome: &Outcome) -> Result<Decided, Failure> {
    let found = match outcome {
        Outcome::Status(status) if route.success.contains(status) => Some(Decided::Success(*status)),
        Outcome::Status(status) => {
            route.errors.iter().find(|c| spec.answers.status(c) == Some(*status)).map(|c| Decided::Error(c))
        }
        Outcome::Error(code) => route.errors.iter().find(|c| **c == code).map(|c| Decided::Error(c)),
    };
    found.ok_or_else(|| {
        let success: Vec<String> = route.success.iter().map(u16::to_string).collect();
        Failure::of(
            Situation::InvalidInput,
            format!(
                "`{}` does not declare the outcome `{outcome}`: it answers {} on success, or one of its errors: {}.",
                route.id,
                success.join(", "),
                route.errors.join(", ")
            ),
        )
    })
}

/// A success answer of `route` with `status`, its body built from the declared type.
fn success(route: &RouteSpec, status: u16, values: &mut Values) -> Result<Reply, Failure> {
    match route.response {
        None => Reply::empty(status),
        Some(_) if status == 204 => Reply::empty(status),
        Some(Ty::Binary) => Reply::bytes(status, values.bytes()),
        Some(Ty::Text) => match values.value(&Ty::Text, &Rules::NONE, 0) {
            Value::String(text) => Reply::text(status, text),
            other => Reply::text(status, other.to_string()),
        },
        Some(ty) => Reply::json(status, &values.value(&ty, &Rules::NONE, 0)),
    }
}

/// FNV-1a over `a` then `b`: a stable seed (std's hasher may change between releases).
fn fnv(a: &[u8], b: &[u8]) -> u64 {
    a.iter().chain(b).fold(0xcbf2_9ce4_8422_2325, |h, byte| (h ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenx_server_runtime::AuthContext;
    use tenx_server_runtime::axum::http::{HeaderMap, HeaderValue};

    fn asked(prefer: Option<&'static str>) -> Option<Outcome> {
        let mut headers = HeaderMap::new();
        if let Some(p) = prefer {
            headers.insert("prefer", HeaderValue::from_static(p));
        }
        super::prefer(&RequestContext::detached("r", AuthContext::None, headers))
    }

    #[test]
    fn prefer_names_a_status_or_a_code_among_other_preferences() {
        assert_eq!(asked(Some("code=201")), Some(Outcome::Status(201)));
        assert_eq!(asked(Some("respond-async, code=\"404\"; x=1")), Some(Outcome::Status(404)));
        assert_eq!(asked(Some("Code = feature_locked")), Some(Outcome::Error("feature_locked".into())));
        // Preferences the stub does not know are ignored, as RFC 7240 says.
        assert_eq!(asked(Some("wait=5, return=minimal")), None);
        assert_eq!(asked(None), None);
    }
}
