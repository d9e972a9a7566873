//! What the spec says about routes, as static data the generated server emits, and the
//! checks that run before a handler, in the order the API documents: credentials, PAT
//! binding, handle, scopes, role, plan feature, rate limit and write quota.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use tenx_auth::{PatFormat, ScopeRule};

use crate::app::ServerState;
use crate::failure::{Failure, Situation};
use crate::jwt::JwtError;
use crate::limits::retry_after_seconds;
use crate::schema::{FieldSchema, Ty};
use crate::store::UNAVAILABLE_RETRY_AFTER;

/// An auth mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// A user's JWT.
    Jwt,
    /// A PAT bound to one handle.
    Pat,
    /// The visitor session cookie.
    VisitorCookie,
    /// No credential.
    None,
}

/// Where a credential travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A header, with an optional scheme word.
    Header {
        /// Header name.
        name: &'static str,
        /// Scheme word (`Bearer`).
        scheme: Option<&'static str>,
    },
    /// A cookie.
    Cookie {
        /// Cookie name.
        name: &'static str,
    },
}

/// One auth mode of the spec.
#[derive(Debug, Clone, Copy)]
pub struct AuthModeSpec {
    /// Which mode.
    pub kind: AuthKind,
    /// Where the credential travels; the first is canonical.
    pub transports: &'static [Transport],
    /// Code for no credential.
    pub missing: Option<&'static str>,
    /// Code for a malformed, unknown or revoked credential.
    pub invalid: Option<&'static str>,
    /// Code for an expired credential.
    pub expired: Option<&'static str>,
    /// Code for a PAT used on another handle.
    pub wrong_binding: Option<&'static str>,
    /// The path parameter a PAT is bound to.
    pub bound_to: Option<&'static str>,
}

/// One plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanSpec {
    /// Wire name.
    pub name: &'static str,
    /// Requests per minute per handle.
    pub requests_per_minute: u32,
    /// Daily write quota.
    pub writes_per_day: Option<u32>,
    /// Features it unlocks.
    pub features: &'static [&'static str],
}

/// The API-wide facts the checks use.
#[derive(Debug, Clone, Copy)]
pub struct ServerSpec {
    /// How scopes satisfy each other.
    pub scope_rule: ScopeRule,
    /// The PAT format, if the API has PATs.
    pub pat_format: Option<PatFormat>,
    /// The auth modes.
    pub modes: &'static [AuthModeSpec],
    /// Roles on the subject, least powerful first.
    pub subject_roles: &'static [&'static str],
    /// The path parameter naming the API's subject (`handle`): roles, plans,
    /// per-subject limits and PAT bindings apply to it.
    pub subject: Option<&'static str>,
    /// Every route of the spec: the router runs the checks of one whose family the app
    /// did not mount before it answers (not implemented, or a stub's answer).
    pub routes: &'static [&'static RouteSpec],
    /// Every scope of the spec's catalogue, wildcards included.
    pub scopes: &'static [&'static str],
    /// The codes whose error body carries typed details, and the details' type.
    pub error_details: &'static [(&'static str, Ty)],
    /// Plans, cheapest first.
    pub plans: &'static [PlanSpec],
    /// The code a spent daily quota answers with.
    pub quota_error: Option<&'static str>,
    /// Requests per minute per signed-in caller, on routes limited per user.
    pub user_requests_per_minute: Option<u32>,
    /// Requests per minute per client IP, on routes limited per IP.
    pub ip_requests_per_minute: Option<u32>,
    /// The signed click context, if the API has one.
    pub context_token: Option<crate::ctx::ContextTokenSpec>,
    /// The code for each situation the runtime meets on its own.
    pub answers: crate::failure::Answers,
}

/// A route's role requirement.
#[derive(Debug, Clone, Copy)]
pub enum RoleReq {
    /// This subject role or a higher one, on the path's subject.
    Subject(&'static str),
    /// This platform role.
    Platform(&'static str),
}

/// What a route is rate limited per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKey {
    /// Per subject (the path's `{handle}`), by its plan.
    Subject,
    /// Per signed-in caller (the JWT's user, the visitor, the PAT).
    User,
    /// Per client IP (the connection's peer address).
    Ip,
    /// Not limited.
    None,
}

/// Where a route's idempotency key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdempotencyCarrier {
    /// A body field.
    Field(&'static str),
    /// A request header.
    Header(&'static str),
}

/// How a route deduplicates.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencySpec {
    /// Where the key travels.
    pub key: IdempotencyCarrier,
    /// Whether a request without a key is refused.
    pub required: bool,
    /// The status of a repeat (`None`: the first answer's).
    pub repeat_status: Option<u16>,
    /// The field set to `true` on a repeat, if any.
    pub deduped_field: Option<&'static str>,
    /// How long an answered key is remembered, in seconds.
    pub retention_seconds: u64,
}

impl AuthContext {
    /// Who is calling, as the scope of their idempotency keys: one caller's key never
    /// replays another caller's answer.
    pub fn principal(&self) -> String {
        match self {
            AuthContext::None => String::new(),
            AuthContext::Jwt(j) => format!("user:{}", j.user_id),
            AuthContext::Pat(p) => format!("pat:{}", p.token_id),
            AuthContext::Visitor(v) => format!("visitor:{}", v.visitor_id),
        }
    }
}

/// Everything the router checks for one route.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// The route id.
    pub id: &'static str,
    /// The family the route belongs to (what an app mounts).
    pub family: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template (`/v2/handles/{handle}/links/{slug}`).
    pub path: &'static str,
    /// Accepted auth modes.
    pub auth: &'static [AuthKind],
    /// Scopes a PAT must hold.
    pub scopes: &'static [&'static str],
    /// Role requirement for JWT users.
    pub min_role: Option<RoleReq>,
    /// Plan feature and the plan that has it.
    pub feature: Option<(&'static str, &'static str)>,
    /// Rate-limit key.
    pub rate_limit: RateKey,
    /// Whether a call counts toward the daily write quota.
    pub counts_write: bool,
    /// Path parameters.
    pub path_params: &'static [FieldSchema],
    /// Query parameters.
    pub query: &'static [FieldSchema],
    /// Body type.
    pub body: Option<Ty>,
    /// The success answer's type, which debug builds hold every answer to.
    pub response: Option<Ty>,
    /// The success statuses, in the spec's order (the first is the usual one).
    pub success: &'static [u16],
    /// Every error code the route may answer (declared and implied by its checks).
    pub errors: &'static [&'static str],
    /// Idempotency.
    pub idempotency: Option<IdempotencySpec>,
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtContext {
    /// The user id.
    pub user_id: String,
    /// The user's role on the path's handle, for handle routes.
    pub role: Option<String>,
}

/// A PAT caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatContext {
    /// The token id.
    pub token_id: String,
    /// The handle the token is bound to.
    pub handle: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
}

/// A signed-in visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorContext {
    /// The visitor id.
    pub visitor_id: String,
    /// The visitor's email.
    pub email: String,
}

/// Who is calling, by auth mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthContext {
    /// No credential.
    None,
    /// A JWT user.
    Jwt(JwtContext),
    /// A PAT.
    Pat(PatContext),
    /// A visitor.
    Visitor(VisitorContext),
}

/// A mode's code for a credential problem, else the spec's answer for `fallback`.
fn code_or(spec: &ServerSpec, code: Option<&'static str>, fallback: Situation) -> &'static str {
    code.unwrap_or_else(|| spec.answers.code(fallback))
}

/// The credential the request carries for a mode, if any.
pub fn credential<'h>(headers: &'h HeaderMap, transport: &Transport) -> Option<Result<&'h str, ()>> {
    match transport {
        Transport::Header { name, scheme } => {
            let value = headers.get(*name)?;
            let Ok(text) = value.to_str() else { return Some(Err(())) };
            Some(match scheme {
                Some(scheme) => match text.split_once(' ') {
                    Some((word, token)) if word.eq_ignore_ascii_case(scheme) && !token.trim().is_empty() => {
                        Ok(token.trim())
                    }
                    _ => Err(()),
                },
                None if !text.trim().is_empty() => Ok(text.trim()),
                None => Err(()),
            })
        }
        Transport::Cookie { name } => cookie(headers, name).map(Ok),
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get_all(axum::http::header::COOKIE).iter().find_map(|v| {
        let text = v.to_str().ok()?;
        text.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(n, _)| *n == name).map(|(_, v)| v)
    })
}

/// Runs checks 1 to 6 for `route`. `peer` is the client's address, for routes limited
/// per IP (`None` when the server was not given connection info: every such request
/// then shares one count, which limits too much rather than not at all).
pub async fn authorize(
    state: &ServerState,
    route: &RouteSpec,
    headers: &HeaderMap,
    params: &[(String, String)],
    peer: Option<std::net::IpAddr>,
    now: SystemTime,
) -> Result<AuthContext, Failure> {
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let spec = state.spec;
    let auth = authenticate(state, route, headers, now)?;
    let handle = spec.subject.and_then(param);
    let subject = spec.subject.unwrap_or("subject");

    // 2. A PAT works only on the handle it is bound to.
    if let AuthContext::Pat(pat) = &auth {
        let mode = spec.modes.iter().find(|m| m.kind == AuthKind::Pat);
        let bound = mode.and_then(|m| m.bound_to).and_then(param);
        if let Some(asked) = bound.filter(|asked| *asked != pat.handle) {
            let code = code_or(spec, mode.and_then(|m| m.wrong_binding), Situation::InsufficientScope);
            return Err(Failure::new(code, format!("Token is bound to {subject} `{}`, not `{asked}`.", pat.handle)));
        }
    }
    if let Some(h) = handle.filter(|h| !state.data.handle_exists(h)) {
        let code = spec.answers.code(Situation::SubjectNotFound);
        return Err(Failure::new(code, format!("The {subject} `{h}` does not exist.")));
    }

    // 3. Scopes.
    if let AuthContext::Pat(pat) = &auth {
        if let Some(missing) = spec.scope_rule.missing(&pat.scopes, route.scopes) {
            return Err(Failure::new(
                spec.answers.code(Situation::InsufficientScope),
                format!("Token does not have the required scope: {missing}"),
            ));
        }
    }

    // 4. Role.
    let auth = match (auth, route.min_role) {
        (AuthContext::Jwt(mut user), required) => {
            user.role = handle.and_then(|h| state.data.role(&user.user_id, h));
            match required {
                Some(RoleReq::Subject(needed)) => {
                    let rank = |r: &str| spec.subject_roles.iter().position(|x| *x == r);
                    let has = user.role.as_deref().and_then(rank);
                    if has.is_none() || has < rank(needed) {
                        return Err(Failure::new(
                            spec.answers.code(Situation::InsufficientRole),
                            format!(
                                "This action needs the {needed} role or higher on {subject} `{}`.",
                                handle.unwrap_or_default()
                            ),
                        ));
                    }
                }
                Some(RoleReq::Platform(needed)) if !state.data.has_platform_role(&user.user_id, needed) => {
                    return Err(Failure::new(
                        spec.answers.code(Situation::InsufficientRole),
                        format!("This action needs the {needed} platform role."),
                    ));
                }
                _ => {}
            }
            AuthContext::Jwt(user)
        }
        (other, _) => other,
    };

    // 5. Plan feature; 6. rate limit and write quota (per handle, by plan).
    // A handle that exists has a plan of the spec; if the store says otherwise, the plan
    // gate and limits cannot be checked, so the request ends here instead of skipping them.
    let plan = match handle {
        Some(h) if !spec.plans.is_empty() => {
            let name = state.data.plan(h);
            let plan = name.as_deref().and_then(|p| spec.plans.iter().find(|s| s.name == p));
            Some(plan.ok_or_else(|| Failure::internal(format!("handle `{h}` is on no plan of the spec ({name:?})")))?)
        }
        _ => None,
    };
    if let (Some((feature, required)), Some(plan)) = (route.feature, plan) {
        if !plan.features.contains(&feature) {
            return Err(Failure::new(
                spec.answers.code(Situation::FeatureLocked),
                format!("`{feature}` needs the {required} plan; this {subject} is on {}.", plan.name),
            )
            .detail("feature", feature)
            .detail("requiredPlan", required));
        }
    }
    let per_minute = match (route.rate_limit, handle, plan) {
        (RateKey::Subject, Some(h), Some(plan)) => {
            Some((format!("rpm:{h}"), plan.requests_per_minute, format!("the {} plan", plan.name)))
        }
        (RateKey::User, _, _) => spec
            .user_requests_per_minute
            .zip(caller_key(&auth))
            .map(|(limit, who)| (format!("user:{who}"), limit, "each signed-in caller".to_owned())),
        (RateKey::Ip, _, _) => spec.ip_requests_per_minute.map(|limit| {
            let ip = peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            (format!("ip:{ip}"), limit, "each client address".to_owned())
        }),
        _ => None,
    };
    if let Some((key, limit, whom)) = per_minute {
        let minute = Duration::from_secs(60);
        let hit = match state.limiter_health.call("rate-limit", || state.limiter.hit(&key, limit, minute, now)).await {
            Ok(hit) => hit,
            // Degraded, not open: counted in this process until the store is back (see `store`).
            Err(_) => state.local_limiter.count(&key, limit, minute, now),
        };
        if let Err(wait) = hit {
            return Err(Failure::new(
                spec.answers.code(Situation::RateLimited),
                format!("Rate limit of {limit} requests per minute exceeded for {whom}."),
            )
            .retry_after(retry_after_seconds(wait)));
        }
    }
    if let (true, Some(h), Some(plan)) = (route.counts_write, handle, plan) {
        if let Some(limit) = plan.writes_per_day {
            // Days are counted in UTC: the account timezone is not known to the router.
            // Before the epoch counts as day 0: such a clock is broken, not an attack.
            let day_key = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400;
            let day = Duration::from_secs(86_400);
            let writes_key = format!("writes:{h}");
            let hit = state
                .limiter_health
                .call("rate-limit", || state.limiter.hit(&writes_key, limit, day, now))
                .await
                .map_err(|_| unavailable("The daily write quota cannot be counted right now; try again shortly."))?;
            if let Err(wait) = hit {
                let day = day_string(day_key);
                return Err(Failure::new(
                    code_or(spec, spec.quota_error, Situation::RateLimited),
                    format!("Daily write quota exceeded for {}.", plan.name),
                )
                .detail("plan", plan.name)
                .detail("limits", serde_json::json!({ "writesPerDay": limit }))
                .detail("usage", serde_json::json!({ "writesToday": limit, "writesDay": day }))
                .retry_after(retry_after_seconds(wait)));
            }
        }
    }
    Ok(auth)
}

/// The answer when a store the check needs is unavailable: a 503 that says to retry.
/// It carries no cause to log: the store's health logs the outage when it starts and
/// when it ends (`store::StoreHealth`), not once per refused request.
pub(crate) fn unavailable(message: &str) -> Failure {
    Failure::of(Situation::Unavailable, message.to_owned()).retry_after(UNAVAILABLE_RETRY_AFTER)
}

/// Who a per-user limit counts: the user, the visitor or the token.
fn caller_key(auth: &AuthContext) -> Option<String> {
    match auth {
        AuthContext::Jwt(c) => Some(format!("jwt:{}", c.user_id)),
        AuthContext::Pat(c) => Some(format!("pat:{}", c.token_id)),
        AuthContext::Visitor(c) => Some(format!("visitor:{}", c.visitor_id)),
        AuthContext::None => None,
    }
}

/// `YYYYMMDD` of a day number since the epoch (civil calendar, UTC).
fn day_string(days: u64) -> String {
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}{m:02}{d:02}")
}

/// `(year, month, day)` of a day number since 1970-01-01 (proleptic Gregorian, UTC):
/// Howard Hinnant's days-to-civil algorithm.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// RFC 3339 UTC (`2026-11-28T06:00:00Z`) of a time, as a `date-time` field is sent; a
/// time before the epoch reads as the epoch.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Check 1: the credential of one of the route's modes.
fn authenticate(
    state: &ServerState,
    route: &RouteSpec,
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<AuthContext, Failure> {
    let spec = state.spec;
    if route.auth.contains(&AuthKind::None) {
        return Ok(AuthContext::None);
    }
    let modes: Vec<&AuthModeSpec> =
        route.auth.iter().filter_map(|m| spec.modes.iter().find(|s| s.kind == *m)).collect();
    let mut first_missing = None;
    for mode in &modes {
        for transport in mode.transports {
            match credential(headers, transport) {
                None => continue,
                Some(Err(())) => {
                    return Err(Failure::new(
                        code_or(spec, mode.invalid, Situation::Internal),
                        "The credential is malformed.",
                    ));
                }
                Some(Ok(token)) => return verify(state, route, mode, token, now),
            }
        }
        first_missing.get_or_insert(*mode);
    }
    let mode = first_missing.or(modes.first().copied());
    let code = code_or(spec, mode.and_then(|m| m.missing), Situation::Internal);
    // Said in the terms of each mode's canonical transport, whatever the API calls it.
    let mut ways: Vec<String> = Vec::new();
    for transport in modes.iter().filter_map(|m| m.transports.first()) {
        let way = match transport {
            Transport::Cookie { name } => format!("sign in for the `{name}` cookie"),
            Transport::Header { name, scheme: Some(scheme) } => format!("send `{name}: {scheme} <token>`"),
            Transport::Header { name, scheme: None } => format!("send `{name}: <token>`"),
        };
        if !ways.contains(&way) {
            ways.push(way);
        }
    }
    let how = match ways.as_slice() {
        [] => "No credential was sent.".to_owned(),
        ways => format!("No credential was sent: {}.", ways.join(", or ")),
    };
    Err(Failure::new(code, how))
}

fn verify(
    state: &ServerState,
    route: &RouteSpec,
    mode: &AuthModeSpec,
    token: &str,
    now: SystemTime,
) -> Result<AuthContext, Failure> {
    let spec = state.spec;
    let invalid = |message: &str| Failure::new(code_or(spec, mode.invalid, Situation::Internal), message.to_owned());
    // A mode without an expiry code answers an expired credential as an invalid one.
    let expired = |message: &str| {
        Failure::new(code_or(spec, mode.expired.or(mode.invalid), Situation::Internal), message.to_owned())
    };
    let is_pat = spec.pat_format.is_some_and(|f| f.looks_like(token));
    match mode.kind {
        AuthKind::Jwt | AuthKind::Pat if is_pat => {
            if !route.auth.contains(&AuthKind::Pat) {
                return Err(invalid("This route takes a JWT; a PAT opens only its handle's automation routes."));
            }
            let format = spec.pat_format.ok_or_else(|| invalid("This API has no PATs."))?;
            let (id, secret) = format.split(token).map_err(|e| invalid(&format!("The token is malformed: {e}.")))?;
            let record =
                state.data.pat(id).filter(|r| !r.revoked).ok_or_else(|| invalid("The token is unknown or revoked."))?;
            if !record.secret_matches(secret) {
                return Err(invalid("The token's secret is wrong."));
            }
            if record.expires_at.is_some_and(|at| at <= now) {
                return Err(expired("The token has expired: create a new one."));
            }
            Ok(AuthContext::Pat(PatContext { token_id: record.token_id, handle: record.handle, scopes: record.scopes }))
        }
        AuthKind::Jwt | AuthKind::Pat => {
            if !route.auth.contains(&AuthKind::Jwt) {
                return Err(invalid(&format!(
                    "This route takes a PAT ({}).",
                    spec.pat_format.map_or("", |f| f.display)
                )));
            }
            match state.jwt.verify(token) {
                Ok(claims) if state.data.user_exists(&claims.sub) => {
                    Ok(AuthContext::Jwt(JwtContext { user_id: claims.sub, role: None }))
                }
                Ok(_) => Err(invalid("The JWT's user no longer exists.")),
                Err(JwtError::Expired) => Err(expired("The JWT has expired: refresh or log in again.")),
                Err(JwtError::Invalid) => Err(invalid("The JWT is malformed or its signature is wrong.")),
            }
        }
        AuthKind::VisitorCookie => match state.data.visitor(token) {
            Some(v) if v.expires_at > now => {
                Ok(AuthContext::Visitor(VisitorContext { visitor_id: v.visitor_id, email: v.email }))
            }
            Some(_) => Err(expired("The visitor session has expired: sign in again.")),
            None => Err(invalid("The visitor session is unknown: sign in again.")),
        },
        AuthKind::None => Ok(AuthContext::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use proptest::prelude::*;

    #[test]
    fn a_missing_credential_is_explained_in_the_terms_of_its_transport() {
        static KEY_MODE: [AuthModeSpec; 1] = [AuthModeSpec {
            kind: AuthKind::Pat,
            transports: &[Transport::Header { name: "x-api-key", scheme: None }],
            missing: Some("missing_api_key"),
            invalid: None,
            expired: None,
            wrong_binding: None,
            bound_to: None,
        }];
        static SPEC: ServerSpec = ServerSpec {
            scope_rule: ScopeRule::Exact,
            pat_format: None,
            modes: &KEY_MODE,
            subject_roles: &[],
            subject: Some("handle"),
            routes: &[],
            scopes: &[],
            error_details: &[],
            plans: &[],
            quota_error: None,
            user_requests_per_minute: None,
            ip_requests_per_minute: None,
            context_token: None,
            answers: crate::failure::Answers { codes: &[], catalogue: &[] },
        };
        static ROUTE: RouteSpec = RouteSpec {
            id: "list_parcels",
            family: "parcels",
            method: "GET",
            path: "/v1/accounts/{account}/parcels",
            auth: &[AuthKind::Pat],
            scopes: &[],
            min_role: None,
            feature: None,
            rate_limit: RateKey::None,
            counts_write: false,
            path_params: &[],
            query: &[],
            body: None,
            response: None,
            success: &[200],
            errors: &["missing_api_key"],
            idempotency: None,
        };
        let state =
            ServerState::new(&SPEC, std::sync::Arc::new(crate::MemoryAuthData::new()), crate::JwtKeys::hs256(b"k"));
        let failure = authorize(&state, &ROUTE, &HeaderMap::new(), &[], None, SystemTime::now())
            .now_or_never()
            .expect("memory stores answer at once")
            .expect_err("no key");
        assert_eq!(failure.code.to_string(), "missing_api_key");
        assert_eq!(failure.message, "No credential was sent: send `x-api-key: <token>`.");
    }

    #[test]
    fn civil_days() {
        assert_eq!(day_string(0), "19700101");
        assert_eq!(day_string(20_509), "20260225");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn credential_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut headers = HeaderMap::new();
            if let Ok(v) = axum::http::HeaderValue::from_bytes(&bytes) {
                headers.insert("authorization", v.clone());
                headers.insert("cookie", v);
            }
            let _ = credential(&headers, &Transport::Header { name: "authorization", scheme: Some("Bearer") });
            let _ = credential(&headers, &Transport::Header { name: "authorization", scheme: None });
            let _ = credential(&headers, &Transport::Cookie { name: "_10x_visitor" });
            let format = PatFormat { prefix: "patv1_", separator: '.', display: "patv1_<tokenId>.<secret>" };
            let _ = format.split(&String::from_utf8_lossy(&bytes));
        }
    }
}
