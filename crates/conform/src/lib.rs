//! Checks any running server against a spec: ours, or one a team wrote by hand.
//!
//! For every route (or those `--routes` names) the harness sends, from the spec alone:
//! a valid request built from the types ([`values`]); the same request with each rule of
//! each parameter and body field broken in turn; and, on routes that need a credential,
//! none, a malformed one and an unknown one. Every answer is held to what the route
//! declares ([`check`]): a declared status, a success body of exactly the declared type
//! (unknown fields are violations), an error envelope whose code the route may return
//! with that code's status, `Retry-After` on 429, `x-request-id` always. Requests that
//! break a rule must be refused with a 4xx; missing or bad credentials with a 401.

pub mod check;
pub mod values;

use std::fmt::Write as _;

use serde_json::Value;
use tenx_spec::{AuthKind, Route, Spec, Transport, TypeKind, TypeRef};

use crate::check::Answer;
use crate::values::Generator;

/// The credentials the harness may use, for the accounts the caller set up.
#[derive(Clone, Default)]
pub struct Credentials {
    /// A JWT of a user with the highest role on `subject`.
    pub jwt: Option<String>,
    /// A PAT bound to `subject`, with every scope.
    pub pat: Option<String>,
    /// A visitor session cookie value.
    pub visitor: Option<String>,
    /// An existing subject (`{handle}`) the JWT's user owns and the PAT is bound to.
    pub subject: Option<String>,
    /// Accounts for the refusals a route's access rules imply (each case runs when its
    /// account is given).
    pub access: Access,
}

/// Credentials that must be refused, for the access cases.
#[derive(Clone, Default)]
pub struct Access {
    /// A PAT bound to `subject` with these scopes only: routes needing others refuse it.
    pub pat_limited: Option<(String, Vec<String>)>,
    /// Another existing subject, the PAT is not bound to: PAT routes refuse it there.
    pub other_subject: Option<String>,
    /// A JWT of a user with this (low) role on `subject`: routes needing more refuse it.
    pub jwt_low_role: Option<(String, String)>,
    /// A subject the JWT's user owns on this plan: routes gated by a feature the plan
    /// lacks refuse it.
    pub low_plan_subject: Option<(String, String)>,
    /// A JWT past its expiry.
    pub jwt_expired: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs.
        f.debug_struct("Credentials")
            .field("jwt", &self.jwt.as_ref().map(|_| "[redacted]"))
            .field("pat", &self.pat.as_ref().map(|_| "[redacted]"))
            .field("visitor", &self.visitor.as_ref().map(|_| "[redacted]"))
            .field("subject", &self.subject)
            .field("access", &"[redacted]")
            .finish()
    }
}

/// What to check, and how.
#[derive(Default)]
pub struct Options {
    /// Route id globs (`links*`, `*_link`); empty: every route.
    pub routes: Vec<String>,
    /// Seeds the generated values.
    pub seed: u64,
    /// Called before each route (a test moves a shared clock past the rate-limit window).
    pub before_route: Option<Box<dyn Fn() + Send + Sync>>,
}

/// One answer that departs from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The route id.
    pub route: String,
    /// The request, said briefly (`POST /v2/… [body.slug: pattern broken]`).
    pub request: String,
    /// What the spec wants.
    pub expected: String,
    /// What came.
    pub got: String,
}

/// What happened on one route.
#[derive(Debug, Clone, Default)]
pub struct RouteReport {
    /// The route id.
    pub id: String,
    /// Requests sent.
    pub requests: usize,
    /// Why the route was not exercised, if it was not.
    pub skipped: Option<String>,
    /// Its violations.
    pub violations: Vec<Violation>,
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per route considered, in spec order.
    pub routes: Vec<RouteReport>,
}

impl Report {
    /// Every violation.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.routes.iter().flat_map(|r| r.violations.iter())
    }

    /// Requests that conformed and requests that did not.
    pub fn counts(&self) -> (usize, usize) {
        let sent: usize = self.routes.iter().map(|r| r.requests).sum();
        let failed = self.violations().map(|v| (&v.route, &v.request)).collect::<std::collections::BTreeSet<_>>().len();
        (sent - failed, failed)
    }

    /// One line per violation, the routes not exercised, and the summary
    /// `N passed, N failed`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for v in self.violations() {
            let _ = writeln!(out, "{}: {}: expected {}, got {}", v.route, v.request, v.expected, v.got);
        }
        for r in self.routes.iter().filter(|r| r.skipped.is_some()) {
            let _ = writeln!(out, "{}: not exercised: {}", r.id, r.skipped.as_deref().unwrap_or_default());
        }
        let counts: Vec<String> =
            self.routes.iter().filter(|r| r.skipped.is_none()).map(|r| format!("{} {}", r.id, r.requests)).collect();
        if !counts.is_empty() {
            let _ = writeln!(out, "requests per route: {}", counts.join(", "));
        }
        let exercised = self.routes.iter().filter(|r| r.skipped.is_none()).count();
        let (passed, failed) = self.counts();
        let _ = writeln!(
            out,
            "{exercised} routes exercised ({} not), {} requests: {passed} passed, {failed} failed",
            self.routes.len() - exercised,
            passed + failed
        );
        out
    }
}

/// Whether `id` matches a glob of `*` wildcards.
pub fn glob(pattern: &str, id: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = id;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(after) = rest.strip_prefix(part) else { return false };
            rest = after;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    rest.is_empty()
}

/// Runs every selected route of `spec` against the server at `base`.
pub async fn run(spec: &Spec, base: &str, credentials: &Credentials, options: &Options) -> Result<Report, String> {
    let base = url::Url::parse(base).map_err(|e| format!("`{base}` is not a URL: {e}"))?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let mut generator = Generator::new(spec, options.seed);
    let mut report = Report::default();
    for route in spec.routes() {
        if !options.routes.is_empty() && !options.routes.iter().any(|g| glob(g, &route.id.value)) {
            continue;
        }
        if let Some(hook) = &options.before_route {
            hook();
        }
        let mut runner = RouteRun { spec, route, http: &http, base: &base, report: RouteReport::default() };
        runner.report.id = route.id.value.clone();
        runner.run(&mut generator, credentials).await;
        report.routes.push(runner.report);
    }
    Ok(report)
}

/// A credential on the wire: a header (name, value) or a cookie.
#[derive(Debug, Clone)]
enum Sent {
    None,
    Header(String, String),
}

/// One request the harness makes.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    query: Vec<(String, String)>,
    body: Option<(Vec<u8>, &'static str)>,
    credential: Sent,
    /// For the report: what is special about it.
    label: String,
}

struct RouteRun<'a> {
    spec: &'a Spec,
    route: &'a Route,
    http: &'a reqwest::Client,
    base: &'a url::Url,
    report: RouteReport,
}

impl RouteRun<'_> {
    async fn run(&mut self, generator: &mut Generator<'_>, credentials: &Credentials) {
        let route = self.route;
        let Some((credential, mode)) = self.credential(credentials) else {
            let modes: Vec<&str> = route.auth.iter().map(|a| a.value.as_str()).collect();
            self.report.skipped = Some(format!("no credential given for {}", modes.join(" or ")));
            return;
        };
        let subject = self.spec.api.subject();
        let mut path_values: Vec<(String, Value)> = Vec::new();
        for p in &route.path_params {
            let value = match (subject, &credentials.subject) {
                (Some(s), Some(given)) if s == p.name => Value::String(given.clone()),
                _ => generator.field(p),
            };
            path_values.push((p.name.clone(), value));
        }
        let query: Vec<(String, Value)> =
            route.query.iter().filter(|q| !q.optional).map(|q| (q.name.clone(), generator.field(q))).collect();
        let body = route.request.as_ref().map(|t| generator.value(&t.value, &Default::default()));
        let valid = Request {
            path: self.path(&path_values),
            query: flatten(&query),
            body: body.as_ref().map(|b| encode_body(self.route, b)),
            credential,
            label: "valid".to_owned(),
        };
        let first = self.send(&valid).await;
        // A partial server says which routes it lacks: those are not exercised, not passed.
        let not_implemented = self.spec.answers.not_implemented.as_ref().map(|c| c.value.as_str());
        if first.as_ref().and_then(Answer::code).as_deref().is_some_and(|c| Some(c) == not_implemented) {
            self.report.violations.clear();
            self.report.skipped = Some("not implemented by this server".to_owned());
            return;
        }
        // Checks that come before input validation may refuse the valid request; then
        // the broken inputs cannot be told apart, and are not sent.
        // (A route that takes no credential meets no credential check: its 401s come after
        // the input's.)
        let open = route.auth.iter().any(|a| a.value == AuthKind::None);
        let refused_early =
            |a: &Answer| a.status == 429 || (!open && matches!(a.status, 401 | 403)) || self.subject_missing(a);
        let reached = first.as_ref().is_some_and(|a| !refused_early(a));
        if reached {
            self.broken_inputs(generator, &valid, &path_values, &query, body.as_ref()).await;
        }
        if !route.auth.iter().any(|a| a.value == AuthKind::None) {
            self.credential_cases(&valid).await;
        }
        self.access_cases(&valid, mode, &path_values, &credentials.access).await;
    }

    /// Each access rule of the route, broken by an account the caller gave: a scope
    /// short, a PAT on another subject, a role short, a plan short, an expired JWT. Each
    /// must be refused with the code the spec names for it.
    async fn access_cases(
        &mut self,
        valid: &Request,
        mode: AuthKind,
        path_values: &[(String, Value)],
        access: &Access,
    ) {
        let (spec, route) = (self.spec, self.route);
        let accepts = |k: AuthKind| route.auth.iter().any(|a| a.value == k);
        let code = |c: &Option<tenx_spec::Spanned<String>>| c.as_ref().map(|c| c.value.clone());
        let answers = &spec.answers;
        let pat_mode = spec.auth_mode(AuthKind::Pat);
        let jwt_mode = spec.auth_mode(AuthKind::Jwt);
        let subject = spec.api.subject();
        let with_subject = |this: &Self, value: &str| -> String {
            let values: Vec<(String, Value)> = path_values
                .iter()
                .map(|(n, v)| {
                    if Some(n.as_str()) == subject {
                        (n.clone(), Value::String(value.to_owned()))
                    } else {
                        (n.clone(), v.clone())
                    }
                })
                .collect();
            this.path(&values)
        };
        let mut cases: Vec<(Request, u16, Option<String>)> = Vec::new();
        if accepts(AuthKind::Pat) && !route.scopes.is_empty() {
            if let Some((token, granted)) = &access.pat_limited {
                let required: Vec<&str> = route.scopes.iter().map(|s| s.value.as_str()).collect();
                if spec.scope_rule.missing(granted, &required).is_some() {
                    if let Some(credential) = self.carry(AuthKind::Pat, token) {
                        let label = "a PAT short of a scope".to_owned();
                        cases.push((
                            Request { credential, label, ..valid.clone() },
                            403,
                            code(&answers.insufficient_scope),
                        ));
                    }
                }
            }
        }
        let bound = pat_mode.and_then(|m| m.bound_to.as_deref());
        if let (Some(other), Some(bound)) = (&access.other_subject, bound) {
            if accepts(AuthKind::Pat) && route.path_params.iter().any(|p| p.name == bound) && mode == AuthKind::Pat {
                let expected =
                    pat_mode.and_then(|m| code(&m.errors.wrong_binding)).or_else(|| code(&answers.insufficient_scope));
                let request = Request {
                    path: with_subject(self, other),
                    label: "a PAT on another subject".to_owned(),
                    ..valid.clone()
                };
                cases.push((request, 403, expected));
            }
        }
        let level_of = |role: &str| spec.role(role).map(|r| r.level);
        if let (Some((token, low)), Some(min)) = (&access.jwt_low_role, &route.min_role) {
            let rank =
                |r: &str| spec.roles.iter().filter(|d| level_of(&d.name) == level_of(low)).position(|d| d.name == r);
            let short = match (rank(low), rank(&min.value)) {
                (Some(have), Some(need)) => have < need,
                // A platform role the low user does not hold.
                _ => level_of(&min.value) != level_of(low),
            };
            if accepts(AuthKind::Jwt) && short {
                if let Some(credential) = self.carry(AuthKind::Jwt, token) {
                    let label = format!("a JWT with the role `{low}`");
                    cases.push((Request { credential, label, ..valid.clone() }, 403, code(&answers.insufficient_role)));
                }
            }
        }
        if let (Some((low, plan)), Some(feature)) = (&access.low_plan_subject, &route.feature) {
            let has = spec
                .plans
                .iter()
                .find(|p| p.name == *plan)
                .is_some_and(|p| p.features.iter().any(|f| f.value == feature.value));
            if !has && subject.is_some_and(|s| route.path_params.iter().any(|p| p.name == s)) && mode == AuthKind::Jwt {
                let request =
                    Request { path: with_subject(self, low), label: format!("a subject on `{plan}`"), ..valid.clone() };
                cases.push((request, 403, code(&answers.feature_locked)));
            }
        }
        if let (Some(token), true) = (&access.jwt_expired, accepts(AuthKind::Jwt)) {
            if let Some(credential) = self.carry(AuthKind::Jwt, token) {
                let expected = jwt_mode.and_then(|m| code(&m.errors.expired).or_else(|| code(&m.errors.invalid)));
                cases.push((
                    Request { credential, label: "an expired JWT".to_owned(), ..valid.clone() },
                    401,
                    expected,
                ));
            }
        }
        for (request, status, code) in cases {
            if let Some(answer) = self.send(&request).await {
                let got = answer.code();
                if answer.status != status || (code.is_some() && got != code) {
                    let expected = format!("{status} {}", code.unwrap_or_default());
                    self.violation(&request, expected, format!("{} {}", answer.status, got.unwrap_or_default()));
                }
            }
        }
    }

    /// Whether an answer is the subject's own 404 (the path's `{handle}` does not exist).
    fn subject_missing(&self, answer: &Answer) -> bool {
        let code = self.spec.answers.subject_not_found.as_ref().map(|c| c.value.as_str());
        answer.status == 404 && answer.code().as_deref() == code
    }

    /// The first accepted credential the caller gave, and its mode.
    fn credential(&self, given: &Credentials) -> Option<(Sent, AuthKind)> {
        for mode in &self.route.auth {
            let token = match mode.value {
                AuthKind::None => return Some((Sent::None, AuthKind::None)),
                AuthKind::Jwt => given.jwt.as_deref(),
                AuthKind::Pat => given.pat.as_deref(),
                AuthKind::VisitorCookie => given.visitor.as_deref(),
            };
            if let Some(token) = token {
                return self.carry(mode.value, token).map(|sent| (sent, mode.value));
            }
        }
        None
    }

    /// `token` as the mode's canonical carrier sends it.
    fn carry(&self, mode: AuthKind, token: &str) -> Option<Sent> {
        match self.spec.auth_mode(mode)?.transports.first()? {
            Transport::Header { name, scheme: Some(scheme) } => {
                Some(Sent::Header(name.clone(), format!("{scheme} {token}")))
            }
            Transport::Header { name, scheme: None } => Some(Sent::Header(name.clone(), token.to_owned())),
            Transport::Cookie { name } => Some(Sent::Header("cookie".to_owned(), format!("{name}={token}"))),
        }
    }

    fn path(&self, values: &[(String, Value)]) -> String {
        let mut path = self.route.path.value.clone();
        for (name, value) in values {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let encoded: String =
                url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20");
            path = path.replace(&format!("{{{name}}}"), &encoded);
        }
        path
    }

    async fn broken_inputs(
        &mut self,
        generator: &mut Generator<'_>,
        valid: &Request,
        path_values: &[(String, Value)],
        query: &[(String, Value)],
        body: Option<&Value>,
    ) {
        let route = self.route;
        let subject = self.spec.api.subject();
        for p in route.path_params.iter().filter(|p| Some(p.name.as_str()) != subject) {
            for broken in generator.broken(p) {
                // A path segment cannot be absent, nor hold a non-string: only string rules.
                let Some(Value::String(bad)) = broken.value else { continue };
                let values: Vec<(String, Value)> =
                    path_values
                        .iter()
                        .map(|(n, v)| {
                            if *n == p.name { (n.clone(), Value::String(bad.clone())) } else { (n.clone(), v.clone()) }
                        })
                        .collect();
                let request = Request {
                    path: self.path(&values),
                    label: format!("path `{}`: {} broken", p.name, broken.rule),
                    ..valid.clone()
                };
                self.expect_refusal(&request).await;
            }
        }
        for q in &route.query {
            // A query string carries text: a number where a string is due is text too.
            for broken in generator.broken(q).into_iter().filter(|b| !(b.rule == "type" && is_text(self.spec, q))) {
                let mut values: Vec<(String, Value)> = query.iter().filter(|(n, _)| *n != q.name).cloned().collect();
                if let Some(v) = broken.value {
                    values.push((q.name.clone(), v));
                }
                let request = Request {
                    query: flatten(&values),
                    label: format!("query `{}`: {} broken", q.name, broken.rule),
                    ..valid.clone()
                };
                self.expect_refusal(&request).await;
            }
        }
        let fields = match route.request.as_ref().map(|t| &t.value) {
            Some(TypeRef::Named(n)) => match self.spec.type_def(n).map(|t| &t.kind) {
                Some(TypeKind::Object(fields)) => fields.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        if let Some(body) = body.filter(|b| b.is_object()) {
            let mut nested = Vec::new();
            nested_fields(self.spec, &fields, &[], &mut nested);
            for (path, f) in &nested {
                for broken in generator.broken(f) {
                    let mut changed = body.clone();
                    set_at(&mut changed, path, broken.value);
                    let request = Request {
                        body: Some(encode_body(route, &changed)),
                        label: format!("body `{}`: {} broken", path.join("."), broken.rule),
                        ..valid.clone()
                    };
                    self.expect_refusal(&request).await;
                }
            }
        }
    }

    async fn credential_cases(&mut self, valid: &Request) {
        let route = self.route;
        let mode = route.auth.first().map(|a| a.value);
        let Some(mode) = mode else { return };
        // The mode's own header (or cookie header), holding what no scheme or format takes.
        let malformed = match self.carry(mode, "") {
            Some(Sent::Header(name, _)) => Sent::Header(name, "malformed credential".to_owned()),
            _ => Sent::None,
        };
        let unknown_token = match self.spec.auth_mode(mode).and_then(|m| m.token_format.as_ref()) {
            Some(f) => format!("{}conformunknown{}conformsecret", f.prefix, f.separator),
            None => "conform.unknown.token".to_owned(),
        };
        let unknown = self.carry(mode, &unknown_token).unwrap_or(Sent::None);
        for (label, credential) in
            [("no credential", Sent::None), ("a malformed credential", malformed), ("an unknown credential", unknown)]
        {
            let request = Request { credential, label: label.to_owned(), ..valid.clone() };
            if let Some(answer) = self.send(&request).await {
                if answer.status != 401 {
                    self.violation(
                        &request,
                        "401".to_owned(),
                        format!("{} {}", answer.status, answer.code().unwrap_or_default()),
                    );
                }
            }
        }
    }

    /// Sends a request that breaks a rule: it must be refused with a 4xx.
    async fn expect_refusal(&mut self, request: &Request) {
        if let Some(answer) = self.send(request).await {
            if !(400..500).contains(&answer.status) || answer.status == 404 && !self.route.path.value.contains('{') {
                let got = format!("{} {}", answer.status, answer.code().unwrap_or_default());
                self.violation(request, "a 4xx refusal".to_owned(), got);
            }
        }
    }

    /// Sends one request and checks its answer against the route; `None` when no answer
    /// came (reported).
    async fn send(&mut self, request: &Request) -> Option<Answer> {
        self.report.requests += 1;
        let mut url = self.base.clone();
        url.set_path(&format!("{}{}", self.base.path().trim_end_matches('/'), request.path));
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        let method = reqwest::Method::from_bytes(self.route.method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self.http.request(method, url);
        if let Sent::Header(name, value) = &request.credential {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some((bytes, media)) = &request.body {
            builder = builder.header("content-type", *media).body(bytes.clone());
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                self.violation(request, "an answer".to_owned(), format!("no answer: {e}"));
                return None;
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (content_type, request_id, retry_after) =
            (header("content-type"), header("x-request-id").is_some(), header("retry-after").is_some());
        let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let answer = Answer { status, content_type, request_id, retry_after, body };
        for problem in check::answer(self.spec, self.route, &answer) {
            self.violation(request, "an answer the route declares".to_owned(), problem);
        }
        Some(answer)
    }

    fn violation(&mut self, request: &Request, expected: String, got: String) {
        let shown = format!("{} {} [{}]", self.route.method.as_str(), request.path, request.label);
        self.report.violations.push(Violation { route: self.route.id.value.clone(), request: shown, expected, got });
    }
}

/// Every field of an object type and of the objects its fields hold (not inside lists),
/// with its path from the body, at most four levels deep.
fn nested_fields(
    spec: &Spec,
    fields: &[tenx_spec::Field],
    prefix: &[String],
    out: &mut Vec<(Vec<String>, tenx_spec::Field)>,
) {
    for f in fields {
        let mut path = prefix.to_vec();
        path.push(f.name.clone());
        if let TypeRef::Named(n) = &f.ty.value {
            if let Some(TypeKind::Object(inner)) = spec.type_def(n).map(|t| &t.kind) {
                if path.len() < 4 {
                    nested_fields(spec, inner, &path, out);
                }
            }
        }
        out.push((path, f.clone()));
    }
}

/// `body` with the value at `path` replaced (`None`: removed).
fn set_at(body: &mut Value, path: &[String], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut at = body;
    for key in parents {
        match at.get_mut(key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Object(map) = at {
        match value {
            Some(v) => map.insert(last.clone(), v),
            None => map.remove(last),
        };
    }
}

/// Query pairs, lists as repeated keys.
fn flatten(values: &[(String, Value)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in values {
        match value {
            Value::Array(items) => out.extend(items.iter().map(|i| (name.clone(), text(i)))),
            other => out.push((name.clone(), text(other))),
        }
    }
    out
}

/// Whether a parameter's values are strings, or lists of them (then any text is of the
/// right type: a query string carries text, and one value is a list of one).
fn is_text(spec: &Spec, field: &tenx_spec::Field) -> bool {
    let mut ty = &field.ty.value;
    if let TypeRef::List(inner) = ty {
        ty = inner;
    }
    matches!(spec.wire_type(ty), TypeRef::String)
        || matches!(ty, TypeRef::Named(n) if matches!(spec.type_def(n).map(|t| &t.kind), Some(TypeKind::Enum(_))))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn encode_body(route: &Route, body: &Value) -> (Vec<u8>, &'static str) {
    match route.request.as_ref().map(|t| &t.value) {
        Some(TypeRef::Text) => (text(body).into_bytes(), "text/plain; charset=utf-8"),
        Some(TypeRef::Binary) => (b"conform".to_vec(), "application/octet-stream"),
        _ => (serde_json::to_vec(body).unwrap_or_default(), "application/json"),
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_whole_ids() {
        assert!(glob("*", "upsert_link"));
        assert!(glob("*_link", "upsert_link"));
        assert!(glob("pat_*", "pat_get_link"));
        assert!(glob("pat_*_link", "pat_get_link"));
        assert!(!glob("pat_*", "get_link"));
        assert!(glob("get_link", "get_link"));
        assert!(!glob("get_link", "get_links"));
    }
}
