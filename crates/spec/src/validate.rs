//! Cross-reference and consistency checks on a loaded spec. Each rule reports at the
//! place to edit, with what to do.

use std::collections::HashMap;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Names the generated Rust and TypeScript clients and the server define or import beside
/// the spec's types: a spec type of one of these names would be shadowed (Rust) or
/// declared twice (TypeScript) in generated code.
const RESERVED_TYPE_NAMES: &[&str] = &[
    // Rust client and server crates.
    "ApiFailure",
    "Arc",
    "AttemptEvent",
    "AttemptInfo",
    "AuthContext",
    "CallFuture",
    "CallOptions",
    "CallOutcome",
    "Client",
    "Clock",
    "Config",
    "Error",
    "ErrorCategory",
    "ErrorCode",
    "ErrorDetails",
    "ErrorExt",
    "Failure",
    "Future",
    "Hook",
    "Jitter",
    "JwtClient",
    "JwtContext",
    "Method",
    "Pat",
    "PatClient",
    "PatContext",
    "PatError",
    "RateLimit",
    "Reply",
    "RequestContext",
    "Response",
    "RetryClass",
    "RetryPolicy",
    "RouteInfo",
    "Router",
    "RouterBuilder",
    "Secret",
    "ServerState",
    "Session",
    "SystemClock",
    "VirtualClock",
    "VisitorClient",
    "VisitorContext",
    // TypeScript client.
    "Answer",
    "ApiError",
    "CatalogueEntry",
    "ClientOptions",
    "Core",
    "Credentials",
    "Decision",
    "ErrorDetailsByCode",
    "FailedAttempt",
    "KnownApiError",
    "PatFormat",
    "PatFormatError",
    "PayloadKind",
    "SessionRefresh",
    "Transport",
    "TransportError",
    "UnexpectedAnswerError",
];

use crate::diagnostic::{Diagnostic, Sink};
use crate::model::*;
use crate::source::{Loc, Spanned};
use crate::suggest::help_for;

/// Catalogues of the spec a string field can be restricted to (`catalogue: scopes`).
const CATALOGUES: &[&str] = &["scopes"];

/// Checks the whole spec.
pub(crate) fn validate(spec: &Spec, sink: &mut Sink) {
    let mut v = Validator { spec, sink };
    v.api();
    v.auth_modes();
    v.scopes();
    v.roles();
    v.plans_and_features();
    v.write_quota();
    v.context_token();
    v.answers();
    v.retry();
    v.errors();
    v.types();
    v.families_and_routes();
}

struct Validator<'a> {
    spec: &'a Spec,
    sink: &'a mut Sink,
}

/// Reports the second and later occurrences of a key among `items`.
fn duplicates<'i, T: 'i>(
    items: impl IntoIterator<Item = &'i T>,
    key: impl Fn(&T) -> String,
    loc: impl Fn(&T) -> &Loc,
    what: &str,
    sink: &mut Sink,
) {
    let mut seen: HashMap<String, &Loc> = HashMap::new();
    for item in items {
        let k = key(item);
        let at = loc(item);
        if let Some(first) = seen.get(&k) {
            sink.push(
                Diagnostic::new(at, format!("duplicate {what} `{k}`"))
                    .help(format!("it is first declared at line {}; rename or remove one", first.line)),
            );
        } else {
            seen.insert(k, at);
        }
    }
}

fn is_snake_case(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
}

fn is_upper_camel_case(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

impl Validator<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.sink.push(d);
    }

    /// Reports `name` at `loc` when it is not among `known`.
    fn reference<'k>(&mut self, what: &str, name: &Spanned<String>, known: impl IntoIterator<Item = &'k str> + Clone) {
        if !known.clone().into_iter().any(|k| k == name.value) {
            self.push(
                Diagnostic::new(&name.loc, format!("unknown {what} `{}`", name.value))
                    .help(help_for(&name.value, known)),
            );
        }
    }

    fn error_code(&mut self, name: &Spanned<String>) {
        let spec = self.spec;
        self.reference("error code", name, spec.errors.iter().map(|e| e.code.as_str()));
    }

    fn api(&mut self) {
        let api = &self.spec.api;
        if !is_snake_case(&api.name) {
            self.push(
                Diagnostic::new(&api.loc, format!("the api name `{}` is not snake_case", api.name))
                    .help("crate names are made from it: use lowercase letters, digits and `_`"),
            );
        }
        if !(api.base_url.starts_with("https://") || api.base_url.starts_with("http://")) {
            self.push(
                Diagnostic::new(&api.loc, format!("the base URL `{}` is not an http(s) URL", api.base_url))
                    .help("write `https://host`"),
            );
        }
    }

    fn auth_modes(&mut self) {
        let spec = self.spec;
        duplicates(&spec.auth_modes, |m| m.kind.as_str().to_owned(), |m| &m.loc, "auth mode", self.sink);
        for mode in &spec.auth_modes {
            let here = mode.loc.clone();
            match mode.kind {
                AuthKind::None if !mode.transports.is_empty() => self.push(
                    Diagnostic::new(&here, "auth mode `none` passes no credential, but `passed_in` is set")
                        .help("remove `passed_in` from the `none` mode"),
                ),
                AuthKind::None => {}
                _ if mode.transports.is_empty() => self.push(
                    Diagnostic::new(&here, format!("auth mode `{}` does not say how it is passed", mode.kind.as_str()))
                        .help("add `passed_in: [{header: Authorization, scheme: Bearer}]` or `[{cookie: name}]`"),
                ),
                _ => {}
            }
            if mode.kind == AuthKind::Pat {
                for (present, key, example) in [
                    (mode.token_format.is_some(), "token_format", "{prefix: patv1_, separator: \".\", display: …}"),
                    (mode.bound_to.is_some(), "bound_to", "handle"),
                    (mode.route_prefix.is_some(), "route_prefix", "/v2/public/handles/{handle}/"),
                ] {
                    if !present {
                        self.push(
                            Diagnostic::new(&here, format!("auth mode `pat` has no `{key}`"))
                                .help(format!("add `{key}: {example}`")),
                        );
                    }
                }
                if let (Some(prefix), Some(bound)) = (&mode.route_prefix, &mode.bound_to) {
                    if !path_placeholders(prefix).contains(&bound.as_str()) {
                        self.push(
                            Diagnostic::new(
                                &here,
                                format!("the PAT route prefix `{prefix}` has no `{{{bound}}}` placeholder"),
                            )
                            .help("a PAT is bound to the parameter its route prefix carries"),
                        );
                    }
                }
            }
            if let Some(session) = &mode.session {
                self.session(mode.kind, session);
            }
            let e = &mode.errors;
            for code in [&e.missing, &e.invalid, &e.expired, &e.wrong_binding].into_iter().flatten() {
                self.error_code(code);
            }
        }
    }

    fn session(&mut self, kind: AuthKind, session: &SessionSpec) {
        let spec = self.spec;
        if kind != AuthKind::Jwt {
            self.push(Diagnostic::new(
                &session.login.loc,
                format!("only the `jwt` mode has a session, not `{}`", kind.as_str()),
            ));
        }
        let ids: Vec<&str> = spec.routes().map(|r| r.id.value.as_str()).collect();
        self.reference("route id", &session.refresh, ids.iter().copied());
        self.reference("route id", &session.login, ids.iter().copied());
        let refresh = spec.routes().find(|r| r.id.value == session.refresh.value);
        if let Some(param) = refresh.and_then(|r| r.path_placeholders().first().map(|p| (*p).to_owned())) {
            // The client calls it on its own, when a token expires: it has nothing to fill in.
            self.push(
                Diagnostic::new(
                    &session.refresh.loc,
                    format!("the session's refresh route `{}` has a path parameter `{param}`", session.refresh.value),
                )
                .help("refresh on a path without parameters: the client calls it on its own, with nothing to fill in"),
            );
        }
        let login = spec.routes().find(|r| r.id.value == session.login.value);
        let fields =
            login.and_then(|r| r.response.as_ref()).and_then(|t| t.value.named()).and_then(|n| spec.type_def(n)).map(
                |t| match &t.kind {
                    TypeKind::Object(fields) => fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
                    _ => Vec::new(),
                },
            );
        match fields {
            Some(fields) if !fields.contains(&session.token_field.value.as_str()) => {
                let field = &session.token_field;
                self.push(
                    Diagnostic::new(&field.loc, format!("the login answer has no field `{}`", field.value))
                        .help(help_for(&field.value, fields.iter().copied())),
                );
            }
            Some(_) => {}
            None if login.is_some() => self.push(
                Diagnostic::new(
                    &session.login.loc,
                    format!("login route `{}` has no object response type", session.login.value),
                )
                .help("the access token is read from a field of the login answer"),
            ),
            None => {}
        }
    }

    fn scopes(&mut self) {
        let spec = self.spec;
        duplicates(&spec.scopes, |s| s.name.clone(), |s| &s.loc, "scope", self.sink);
        for scope in &spec.scopes {
            match spec.scope_rule {
                // Wildcards are dot-separated words, so the names must be too.
                ScopeRule::PrefixWildcard => {
                    let base = scope.name.strip_suffix(".*").unwrap_or(&scope.name);
                    let ok = !base.is_empty()
                        && base
                            .split('.')
                            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                    if !ok {
                        self.push(Diagnostic::new(&scope.loc, format!("`{}` is not a scope name", scope.name)).help(
                            "with `scope_rule: prefix_wildcard`, write dot-separated lowercase words, optionally \
                             ending in `.*` (`links.read`, `analytics.*`); `exact` takes names of any syntax",
                        ));
                    }
                }
                // Exact names may be of any syntax OAuth allows (`parcels:read`,
                // `https://x/y`): printable ASCII without spaces, quotes or backslashes.
                ScopeRule::Exact => {
                    let ok = !scope.name.is_empty()
                        && scope.name.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
                    if !ok {
                        self.push(
                            Diagnostic::new(&scope.loc, format!("`{}` is not a scope name", scope.name))
                                .help("a scope is printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3)"),
                        );
                    }
                }
            }
        }
    }

    fn roles(&mut self) {
        let spec = self.spec;
        duplicates(&spec.roles, |r| r.name.clone(), |r| &r.loc, "role", self.sink);
    }

    fn plans_and_features(&mut self) {
        let spec = self.spec;
        duplicates(&spec.plans, |p| p.name.clone(), |p| &p.loc, "plan", self.sink);
        duplicates(&spec.features, |f| f.name.clone(), |f| &f.loc, "feature", self.sink);
        let names: Vec<&str> = spec.features.iter().map(|f| f.name.as_str()).collect();
        for (i, plan) in spec.plans.iter().enumerate() {
            for f in &plan.features {
                self.reference("feature", f, names.iter().copied());
            }
            // Plans are listed cheapest first: a richer plan keeps what a cheaper one has.
            if let Some(prev) = i.checked_sub(1).map(|j| &spec.plans[j]) {
                for f in &prev.features {
                    if !plan.features.iter().any(|g| g.value == f.value) {
                        self.push(
                            Diagnostic::new(
                                &plan.loc,
                                format!(
                                    "plan `{}` lacks feature `{}` of the cheaper plan `{}`",
                                    plan.name, f.value, prev.name
                                ),
                            )
                            .help("plans are listed cheapest first; add the feature to this plan or reorder the plans"),
                        );
                    }
                }
                if plan.requests_per_minute < prev.requests_per_minute {
                    self.push(
                        Diagnostic::new(
                            &plan.loc,
                            format!(
                                "plan `{}` allows fewer requests per minute than the cheaper plan `{}`",
                                plan.name, prev.name
                            ),
                        )
                        .help("plans are listed cheapest first"),
                    );
                }
            }
        }
        for feature in &spec.features {
            if spec.required_plan(&feature.name).is_none() {
                self.push(
                    Diagnostic::new(&feature.loc, format!("no plan unlocks feature `{}`", feature.name))
                        .help("add it to the `features` of the cheapest plan that has it"),
                );
            }
        }
    }

    fn write_quota(&mut self) {
        if let Some(q) = &self.spec.write_quota {
            self.error_code(&q.error);
        }
    }

    fn retry(&mut self) {
        let spec = self.spec;
        let r = &spec.retry;
        let at = r.loc.clone();
        if r.backoff_seconds.is_empty() {
            self.push(
                Diagnostic::new(&at, "the retry policy has an empty `backoff_seconds` schedule")
                    .help("write the waits, e.g. `[1, 2, 4, 8, 16]`"),
            );
        }
        let most = u32::try_from(r.backoff_seconds.len()).unwrap_or(u32::MAX).saturating_add(1);
        if r.max_attempts.value == 0 || r.max_attempts.value > most {
            self.push(
                Diagnostic::new(
                    &r.max_attempts.loc,
                    format!("`max_attempts` is {}, but the schedule allows 1 to {most} requests", r.max_attempts.value),
                )
                .help("the schedule holds one wait per retry: attempts = retries + 1"),
            );
        }
        let lists = [
            ("after_header_statuses", &r.after_header_statuses),
            ("backoff_statuses", &r.backoff_statuses),
            ("never_statuses", &r.never_statuses),
        ];
        for (i, (name, list)) in lists.iter().enumerate() {
            for status in list.iter() {
                if !(100..=599).contains(status) {
                    self.push(Diagnostic::new(&at, format!("`{status}` in `{name}` is not an HTTP status")));
                }
                for (other, other_list) in &lists[i + 1..] {
                    if other_list.contains(status) {
                        self.push(
                            Diagnostic::new(
                                &at,
                                format!("status {status} is in both `{name}` and `{other}` of the retry policy"),
                            )
                            .help("a status has one retry behaviour; keep it in one list"),
                        );
                    }
                }
            }
        }
    }

    fn errors(&mut self) {
        let spec = self.spec;
        duplicates(&spec.errors, |e| e.code.clone(), |e| &e.loc, "error code", self.sink);
        duplicates(
            &spec.errors,
            |e| e.code.to_upper_camel_case(),
            |e| &e.loc,
            "error variant (codes that differ only in case or separators)",
            self.sink,
        );
        let r = &spec.retry;
        for e in &spec.errors {
            if !is_snake_case(&e.code) {
                self.push(
                    Diagnostic::new(&e.loc, format!("error code `{}` is not snake_case", e.code))
                        .help("wire codes are lowercase words joined by `_`"),
                );
            }
            if e.code == "unknown" {
                self.push(
                    Diagnostic::new(&e.loc, "the error code `unknown` is reserved")
                        .help("`ErrorCode::Unknown` holds codes the client does not know"),
                );
            }
            let status = e.status.value;
            if !e.category.admits(status) {
                let expected = ErrorCategory::ALL.into_iter().find(|c| c.admits(status));
                let help = match expected {
                    Some(c) => {
                        format!("status {status} belongs to category `{}`; fix the status or the category", c.as_str())
                    }
                    None => format!("no category admits status {status}"),
                };
                self.push(
                    Diagnostic::new(
                        &e.status.loc,
                        format!("status {status} disagrees with category `{}` of `{}`", e.category.as_str(), e.code),
                    )
                    .help(help),
                );
            }
            let policy = if r.never_statuses.contains(&status) {
                Some(RetryClass::Never)
            } else if r.after_header_statuses.contains(&status) {
                Some(RetryClass::AfterHeader)
            } else if r.backoff_statuses.contains(&status) {
                Some(RetryClass::Backoff)
            } else {
                None
            };
            if let Some(expected) = policy.filter(|p| *p != e.retry) {
                self.push(
                    Diagnostic::new(
                        &e.status.loc,
                        format!(
                            "`{}` is a {status} with retry class `{}`, but the retry policy says `{}` for {status}",
                            e.code,
                            e.retry.as_str(),
                            expected.as_str()
                        ),
                    )
                    .help(format!("set `retry: {}`, or change the retry policy's status lists", expected.as_str())),
                );
            }
            if let Some(details) = &e.details {
                match spec.type_def(&details.value) {
                    Some(TypeDef { kind: TypeKind::Object(_), .. }) => {}
                    Some(_) => self.push(
                        Diagnostic::new(&details.loc, format!("the details of `{}` must be an object type", e.code))
                            .help("details are fields the error body carries beside `code` and `message`"),
                    ),
                    None => self.reference("type", details, spec.types.iter().map(|t| t.name.as_str())),
                }
            }
            for key in &e.inferred {
                self.reference("error key", key, ["status", "category", "retry", "meaning", "fix", "details"]);
            }
        }
    }

    /// Checks a type expression; `whole_body` when it is a route's request or response,
    /// the only place a raw `text` or `binary` body may stand.
    fn type_ref(&mut self, ty: &Spanned<TypeRef>, whole_body: bool) {
        let spec = self.spec;
        if let Some(name) = ty.value.named() {
            if spec.type_def(name).is_none() {
                let s = Spanned::new(name.to_owned(), ty.loc.clone());
                self.reference("type", &s, spec.types.iter().map(|t| t.name.as_str()));
            }
        }
        fn has_raw(t: &TypeRef) -> bool {
            match t {
                TypeRef::Text | TypeRef::Binary => true,
                TypeRef::List(inner) | TypeRef::Map(inner) => has_raw(inner),
                _ => false,
            }
        }
        if has_raw(&ty.value) && !(whole_body && ty.value.is_raw()) {
            self.push(
                Diagnostic::new(&ty.loc, format!("`{}` stands for a whole body, not a value in one", ty.value))
                    .help("use `text` or `binary` as a route's `request` or `response`; inside JSON, use `string`"),
            );
        }
    }

    /// Checks fields of a body type or a query (`path: None`), whose Rust names are made
    /// unique by `rust_field_names`, so a wire name only needs to be a key a string
    /// literal and a query string can carry; or path parameters (`path: Some(route)`),
    /// which become function arguments and must be words.
    fn fields(&mut self, fields: &[Field], path: Option<&str>) {
        if let Some(route) = path {
            let what = format!("field (in Rust) of the path of `{route}`");
            duplicates(fields, |f| f.name.to_snake_case(), |f| &f.loc, &what, self.sink);
        }
        for f in fields {
            self.type_ref(&f.ty, false);
            let ok = match path {
                None => !f.name.is_empty() && f.name.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\'),
                Some(_) => {
                    let snake = f.name.to_snake_case();
                    !snake.is_empty()
                        && !UNRAWABLE.contains(&snake.as_str())
                        && f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                }
            };
            if !ok {
                let help = match path {
                    None => "a wire name is printable ASCII without spaces, `\"` or `\\`",
                    Some(_) => "a path parameter becomes an argument: use a camelCase word of ASCII letters and digits",
                };
                self.push(Diagnostic::new(&f.loc, format!("`{}` cannot name a field", f.name)).help(help));
            }
            self.constraints(f);
        }
    }

    fn constraints(&mut self, f: &Field) {
        self.check_constraints(&f.name, &f.loc, &f.ty.value, &f.constraints);
    }

    /// Checks that each constraint fits the type it is on (a named scalar counts as its
    /// primitive) and that every name it uses resolves.
    fn check_constraints(&mut self, name: &str, loc: &Loc, ty: &TypeRef, c: &Constraints) {
        let spec = self.spec;
        let base = match spec.wire_type(ty) {
            TypeRef::Named(n) => match spec.type_def(&n).map(|t| &t.kind) {
                Some(TypeKind::Enum(_)) => TypeRef::String,
                _ => TypeRef::Named(n),
            },
            t => t,
        };
        let string_only = c.pattern.is_some()
            || c.format.is_some()
            || c.min_length.is_some()
            || c.max_length.is_some()
            || c.catalogue.is_some();
        if string_only && base != TypeRef::String {
            self.push(
                Diagnostic::new(loc, format!("`{name}` has string constraints but is a `{ty}`"))
                    .help("`pattern`, `format`, `min_length`, `max_length` and `catalogue` apply to strings; for a list, name a scalar type that has them: `[ScopeName]`"),
            );
        }
        if (c.minimum.is_some() || c.maximum.is_some()) && !matches!(base, TypeRef::Integer | TypeRef::Number) {
            self.push(
                Diagnostic::new(loc, format!("`{name}` has `minimum`/`maximum` but is a `{ty}`"))
                    .help("bounds apply to `integer` and `number`"),
            );
        }
        if c.max_items.is_some() && !matches!(base, TypeRef::List(_)) {
            self.push(Diagnostic::new(loc, format!("`{name}` has `max_items` but is not a list")));
        }
        if let (Some(min), Some(max)) = (c.min_length, c.max_length) {
            if min > max {
                self.push(Diagnostic::new(loc, format!("`{name}` has `min_length` {min} above `max_length` {max}")));
            }
        }
        if let (Some(min), Some(max)) = (c.minimum, c.maximum) {
            if min > max {
                self.push(Diagnostic::new(loc, format!("`{name}` has `minimum` {min} above `maximum` {max}")));
            }
        }
        if let Some(p) = &c.pattern {
            if let Err(e) = regex::Regex::new(&p.value) {
                let why = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
                self.push(
                    Diagnostic::new(&p.loc, format!("`{}` is not a valid regular expression: {why}", p.value))
                        .help("write a Rust `regex` pattern, anchored with `^…$`"),
                );
            }
        }
        if let Some(catalogue) = &c.catalogue {
            self.reference("catalogue", catalogue, CATALOGUES.iter().copied());
        }
        if let Some(code) = &c.error {
            self.error_code(code);
        }
    }

    fn answers(&mut self) {
        let spec = self.spec;
        for (situation, code, category) in spec.answers.all() {
            let Some(code) = code else { continue };
            self.error_code(code);
            if let Some(e) = spec.error(&code.value) {
                if e.category != category {
                    self.push(
                        Diagnostic::new(
                            &code.loc,
                            format!(
                                "`{}` answers `{situation}`, but it is a `{}` error, not `{}`",
                                code.value,
                                e.category.as_str(),
                                category.as_str()
                            ),
                        )
                        .help(format!("name a `{}` code of the catalogue", category.as_str())),
                    );
                }
            }
        }
    }

    fn context_token(&mut self) {
        let Some(ctx) = &self.spec.context_token else { return };
        self.error_code(&ctx.error);
        if ctx.param.is_empty() || !ctx.param.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.push(
                Diagnostic::new(&ctx.loc, format!("`{}` cannot name a query parameter", ctx.param))
                    .help("use a word of ASCII letters, digits and `_`, such as `ctx`"),
            );
        }
        if ctx.ttl_seconds == 0 {
            self.push(
                Diagnostic::new(&ctx.loc, "a context token that lives 0 seconds can never be spent")
                    .help("set `ttl_seconds` to how long a click may lead to a conversion"),
            );
        }
        for key in &ctx.inferred {
            self.reference("context_token key", key, ["ttl_seconds", "param", "error"]);
        }
    }

    fn types(&mut self) {
        let spec = self.spec;
        duplicates(&spec.types, |t| t.name.clone(), |t| &t.loc, "type", self.sink);
        // Names codegen gives routes' own types: a spec type of the same name would be
        // declared twice in the models crate.
        for r in spec.routes() {
            let stem = r.id.value.to_upper_camel_case();
            let own = [(!r.query.is_empty(), "Query", "query parameters"), (r.success.len() > 1, "Outcome", "outcome")];
            for (name, what) in
                own.iter().filter(|(has, _, _)| *has).map(|(_, suffix, what)| (format!("{stem}{suffix}"), what))
            {
                if let Some(t) = spec.type_def(&name) {
                    self.push(
                        Diagnostic::new(
                            &t.loc,
                            format!("type `{name}` has the name codegen gives the {what} of route `{}`", r.id.value),
                        )
                        .help(format!(
                            "rename the type (`{stem}{}`, say)",
                            if *what == "outcome" { "Result" } else { "Params" }
                        )),
                    );
                }
            }
        }
        for t in &spec.types {
            if RESERVED_TYPE_NAMES.contains(&t.name.as_str()) {
                self.push(
                    Diagnostic::new(
                        &t.loc,
                        format!(
                            "type name `{}` is taken by the generated clients or server, beside the spec's types",
                            t.name
                        ),
                    )
                    .help(format!("rename it (`{}Info`, say)", t.name)),
                );
            }
            if !is_upper_camel_case(&t.name) || TypeRef::parse(&t.name) != Some(TypeRef::Named(t.name.clone())) {
                self.push(
                    Diagnostic::new(&t.loc, format!("type name `{}` is not UpperCamelCase", t.name))
                        .help(format!("rename it `{}`", t.name.to_upper_camel_case())),
                );
            }
            match &t.kind {
                TypeKind::Object(fields) => self.fields(fields, None),
                TypeKind::Enum(values) => {
                    if values.is_empty() {
                        self.push(Diagnostic::new(&t.loc, format!("enum `{}` has no values", t.name)));
                    }
                    let mut seen = HashMap::new();
                    for v in values {
                        let variant = v.name.to_upper_camel_case();
                        if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
                            self.push(
                                Diagnostic::new(
                                    &t.loc,
                                    format!("enum value `{}` of `{}` cannot name a Rust variant", v.name, t.name),
                                )
                                .help("start it with a letter"),
                            );
                        } else if let Some(first) = seen.insert(variant.clone(), v.name.clone()) {
                            self.push(Diagnostic::new(
                                &t.loc,
                                format!(
                                    "enum values `{first}` and `{}` of `{}` both become the variant `{variant}`",
                                    v.name, t.name
                                ),
                            ));
                        }
                    }
                }
                TypeKind::Json => {}
                TypeKind::Scalar(scalar) => {
                    let primitive = matches!(
                        scalar.base.value,
                        TypeRef::String | TypeRef::Integer | TypeRef::Number | TypeRef::Boolean
                    );
                    if primitive {
                        self.check_constraints(&t.name, &t.loc, &scalar.base.value, &scalar.constraints);
                    } else {
                        self.push(
                            Diagnostic::new(
                                &scalar.base.loc,
                                format!("scalar type `{}` is a `{}`", t.name, scalar.base.value),
                            )
                            .help("a scalar type is a `string`, `integer`, `number` or `boolean` with checks"),
                        );
                    }
                }
            }
        }
    }

    /// Every situation the router may meet on this route needs its code in `answers`:
    /// a code nobody named would be answered but never documented.
    fn implied_codes(&mut self, r: &Route) {
        let spec = self.spec;
        for (situation, why) in spec.implied_situations(r) {
            if spec.answers.code(situation).is_none() {
                self.push(
                    Diagnostic::new(
                        &r.loc,
                        format!(
                            "route `{}` can meet `{situation}` ({why}), and `answers` names no code for it",
                            r.id.value
                        ),
                    )
                    .help(format!("add `answers: {{ {situation}: <a code of the catalogue> }}`")),
                );
            }
        }
        if let Some(deduped) = r.idempotency.as_ref().and_then(|i| i.deduped_field.as_ref()) {
            let answer = r.response.as_ref().and_then(|t| t.value.named()).and_then(|n| spec.type_def(n));
            let carries = match answer.map(|t| &t.kind) {
                Some(TypeKind::Object(fields)) => {
                    fields.iter().any(|f| f.name == *deduped && f.ty.value == TypeRef::Boolean)
                }
                Some(TypeKind::Json) => true,
                _ => r.response.as_ref().is_some_and(|t| t.value == TypeRef::Json),
            };
            if !carries {
                self.push(
                    Diagnostic::new(
                        &r.loc,
                        format!(
                            "a repeat of `{}` is marked with `{deduped}`, which its answer type has no boolean field for",
                            r.id.value
                        ),
                    )
                    .help(format!("add `{deduped}: {{ type: boolean, optional: true }}` to the answer type")),
                );
            }
        }
    }

    fn families_and_routes(&mut self) {
        let spec = self.spec;
        duplicates(&spec.families, |f| f.name.clone(), |f| &f.loc, "route family", self.sink);
        let routes: Vec<&Route> = spec.routes().collect();
        duplicates(routes.iter().copied(), |r| r.id.value.clone(), |r| &r.id.loc, "route id", self.sink);
        // Placeholders are erased: `/a/{x}` and `/a/{y}` are one route to a router.
        duplicates(
            routes.iter().copied(),
            |r| {
                let mut shape = r.path.value.clone();
                for p in r.path_placeholders() {
                    shape = shape.replacen(&format!("{{{p}}}"), "{}", 1);
                }
                format!("{} {shape}", r.method.as_str())
            },
            |r| &r.path.loc,
            "method and path",
            self.sink,
        );
        for family in &spec.families {
            if !is_snake_case(&family.name) {
                self.push(
                    Diagnostic::new(&family.loc, format!("family name `{}` is not snake_case", family.name))
                        .help(format!("rename it `{}`", family.name.to_snake_case())),
                );
            }
            if family.routes.is_empty() {
                self.push(
                    Diagnostic::new(&family.loc, format!("family `{}` has no routes", family.name))
                        .help("add `routes:` or remove the family"),
                );
            }
            for route in &family.routes {
                self.route(route);
            }
        }
    }

    fn route(&mut self, r: &Route) {
        let spec = self.spec;
        let id = &r.id;
        if !is_snake_case(&id.value) || UNRAWABLE.contains(&id.value.as_str()) {
            self.push(
                Diagnostic::new(&id.loc, format!("route id `{}` is not snake_case", id.value))
                    .help(format!("rename it `{}`; it names a Rust method", id.value.to_snake_case())),
            );
        }
        if r.source.trim().is_empty() {
            self.push(
                Diagnostic::new(&r.loc, format!("route `{}` has an empty `source`", id.value))
                    .help("name the doc page the route comes from"),
            );
        }
        self.path(r);

        // Auth modes.
        if r.auth.is_empty() {
            self.push(
                Diagnostic::new(&r.loc, format!("route `{}` names no auth mode", id.value))
                    .help("write `auth: none` for a public route"),
            );
        }
        let mut seen = Vec::new();
        for a in &r.auth {
            if seen.contains(&a.value) {
                self.push(Diagnostic::new(&a.loc, format!("auth mode `{}` is listed twice", a.value.as_str())));
            }
            seen.push(a.value);
            if spec.auth_mode(a.value).is_none() {
                self.push(
                    Diagnostic::new(
                        &a.loc,
                        format!("auth mode `{}` is not declared in `auth.modes`", a.value.as_str()),
                    )
                    .help("declare how it is passed under `auth.modes`"),
                );
            }
        }
        if r.accepts(AuthKind::None) && r.auth.len() > 1 {
            let at = r.auth.iter().find(|a| a.value == AuthKind::None).map_or(&r.loc, |a| &a.loc);
            self.push(
                Diagnostic::new(at, format!("route `{}` lists `none` beside other auth modes", id.value))
                    .help("a route either needs no credential or names the credentials it accepts"),
            );
        }
        if r.accepts(AuthKind::Pat) {
            if let Some(prefix) = spec.auth_mode(AuthKind::Pat).and_then(|m| m.route_prefix.as_deref()) {
                if !r.path.value.starts_with(prefix) {
                    self.push(
                        Diagnostic::new(&r.path.loc, format!("PAT route `{}` is outside `{prefix}`", id.value))
                            .help(format!("a PAT is bound to one handle: PAT routes live under `{prefix}`")),
                    );
                }
            }
            if r.scopes.is_empty() {
                let at = r.auth.iter().find(|a| a.value == AuthKind::Pat).map_or(&r.loc, |a| &a.loc);
                self.push(
                    Diagnostic::new(at, format!("PAT route `{}` names no scope", id.value))
                        .help("add `scopes: [...]`: the scopes a PAT must hold to call it"),
                );
            }
        } else if let Some(s) = r.scopes.first() {
            self.push(
                Diagnostic::new(&s.loc, format!("route `{}` has scopes but does not accept a PAT", id.value))
                    .help("scopes limit PATs; add `pat` to `auth` or remove `scopes`"),
            );
        }
        for s in &r.scopes {
            self.reference("scope", s, spec.scopes.iter().map(|d| d.name.as_str()));
        }
        if let Some(role) = &r.min_role {
            self.reference("role", role, spec.roles.iter().map(|d| d.name.as_str()));
            let level = spec.role(&role.value).map(|d| d.level);
            if level == Some(RoleLevel::Handle) && !spec.has_subject(r) {
                self.push(
                    Diagnostic::new(
                        &role.loc,
                        format!(
                            "route `{}` needs the subject role `{}` but its path has no {}",
                            id.value,
                            role.value,
                            subject_shown(spec)
                        ),
                    )
                    .help(subject_help(
                        spec,
                        "a subject role is checked on the subject in the path; drop `min_role` or use a platform role",
                    )),
                );
            }
            if !r.accepts(AuthKind::Jwt) {
                self.push(
                    Diagnostic::new(
                        &role.loc,
                        format!("route `{}` has a `min_role` but does not accept a JWT", id.value),
                    )
                    .help("roles belong to signed-in users; PATs are limited by scopes"),
                );
            }
        }
        if let Some(feature) = &r.feature {
            self.reference("feature", feature, spec.features.iter().map(|d| d.name.as_str()));
            // The router gates by the plan of the path's subject: without one there is no
            // plan to ask, and the gate would never close.
            if !spec.has_subject(r) {
                self.push(
                    Diagnostic::new(
                        &feature.loc,
                        format!(
                            "route `{}` is gated by `{}` but its path has no {}",
                            id.value,
                            feature.value,
                            subject_shown(spec)
                        ),
                    )
                    .help(subject_help(spec, "plan gates apply to the subject's plan: put the route under the subject's path, or drop `feature`")),
                );
            }
        }
        self.implied_codes(r);
        let (declared, key) = match r.rate_limit {
            RateLimitKey::User => (spec.rate_limits.user.is_some(), "user"),
            RateLimitKey::Ip => (spec.rate_limits.ip.is_some(), "ip"),
            RateLimitKey::Handle | RateLimitKey::None => (true, ""),
        };
        if !declared {
            self.push(
                Diagnostic::new(
                    &r.loc,
                    format!("route `{}` is rate limited per {key}, but the spec gives no limit per {key}", id.value),
                )
                .help(format!(
                    "add `rate_limits: {{ {key}: {{ requests_per_minute: N, inferred: true }} }}` (mark it inferred \
                     when the docs give no number), or set `rate_limit: none` on the route"
                )),
            );
        }
        if r.rate_limit == RateLimitKey::User && r.auth.iter().all(|a| a.value == AuthKind::None) {
            self.push(
                Diagnostic::new(
                    &r.loc,
                    format!("route `{}` is rate limited per user but takes no credential", id.value),
                )
                .help("use `rate_limit: ip`: without a credential there is no user to count"),
            );
        }
        if r.rate_limit == RateLimitKey::Handle && !spec.has_subject(r) {
            self.push(
                Diagnostic::new(
                    &r.loc,
                    format!(
                        "route `{}` is rate limited per subject (`handle`) but its path has no {}",
                        id.value,
                        subject_shown(spec)
                    ),
                )
                .help(subject_help(spec, "use `rate_limit: user`, `ip` or `none`")),
            );
        }

        // Bodies and parameters.
        if let Some(req) = &r.request {
            self.type_ref(req, true);
            // A cross-site page may POST `text/plain` unasked, and a browser adds its
            // cookies: a cookie credential must not open a text body.
            let cookie_mode = r.auth.iter().any(|a| {
                spec.auth_mode(a.value)
                    .is_some_and(|m| m.transports.iter().any(|t| matches!(t, Transport::Cookie { .. })))
            });
            if req.value == TypeRef::Text && cookie_mode {
                self.push(
                    Diagnostic::new(
                        &req.loc,
                        format!("route `{}` takes a text body and a cookie credential", id.value),
                    )
                    .help("a cross-site page can send that pair unasked: take JSON, or no cookie mode"),
                );
            }
            if matches!(r.method, Method::Get | Method::Head | Method::Delete) {
                self.push(
                    Diagnostic::new(&req.loc, format!("a {} route takes no request body", r.method.as_str()))
                        .help("move the inputs to `query` parameters"),
                );
            }
        }
        if let Some(resp) = &r.response {
            self.type_ref(resp, true);
            if resp.value.is_raw() && r.idempotency.is_some() {
                self.push(
                    Diagnostic::new(
                        &resp.loc,
                        format!("route `{}` deduplicates, but answers `{}`", id.value, resp.value),
                    )
                    .help("a repeat replays a stored JSON answer: answer JSON, or drop `idempotency`"),
                );
            }
        }
        self.fields(&r.query, None);
        for q in &r.query {
            let scalar = |t: &TypeRef| match t {
                TypeRef::String | TypeRef::Integer | TypeRef::Number | TypeRef::Boolean => true,
                TypeRef::Named(n) => {
                    matches!(spec.type_def(n).map(|d| &d.kind), Some(TypeKind::Enum(_) | TypeKind::Scalar(_)))
                }
                _ => false,
            };
            let ok = match &q.ty.value {
                TypeRef::List(inner) => scalar(inner),
                t => scalar(t),
            };
            if !ok {
                self.push(
                    Diagnostic::new(&q.ty.loc, format!("query parameter `{}` is a `{}`", q.name, q.ty.value))
                        .help("query parameters are scalars, string enums, or lists of those"),
                );
            }
        }

        // Statuses.
        let mut outcomes = HashMap::new();
        for s in &r.success {
            if !(200..400).contains(&s.status) {
                self.push(
                    Diagnostic::new(
                        &s.loc,
                        format!("success status {} of `{}` is not a 2xx or 3xx", s.status, id.value),
                    )
                    .help("error statuses come from the error catalogue: list codes under `errors`"),
                );
            }
            if !is_snake_case(&s.outcome) {
                self.push(
                    Diagnostic::new(&s.loc, format!("outcome `{}` is not snake_case", s.outcome))
                        .help("write `201: created`"),
                );
            } else if let Some(first) = outcomes.insert(s.outcome.clone(), s.status) {
                self.push(Diagnostic::new(
                    &s.loc,
                    format!("statuses {first} and {} share the outcome `{}`", s.status, s.outcome),
                ));
            }
        }
        if let Some(idem) = &r.idempotency {
            if let Some(repeat) = idem.repeat_status.filter(|st| !r.success.iter().any(|s| s.status == *st)) {
                self.push(
                    Diagnostic::new(
                        &r.loc,
                        format!("the repeat status {repeat} of `{}` is not one of its success statuses", id.value),
                    )
                    .help("add it under `success`"),
                );
            }
            match &idem.key {
                IdempotencyCarrier::Field(key_field) => {
                    let body_fields = r
                        .request
                        .as_ref()
                        .and_then(|t| t.value.named())
                        .and_then(|n| spec.type_def(n))
                        .map(|t| &t.kind);
                    if let Some(TypeKind::Object(fields)) = body_fields {
                        if !fields.iter().any(|f| f.name == *key_field) {
                            self.push(
                                Diagnostic::new(
                                    &r.loc,
                                    format!(
                                        "the request body of `{}` has no field `{key_field}` for the idempotency key",
                                        id.value
                                    ),
                                )
                                .help(help_for(key_field, fields.iter().map(|f| f.name.as_str()))),
                            );
                        }
                    } else if r.request.as_ref().is_some_and(|t| t.value.is_raw()) {
                        self.push(
                            Diagnostic::new(
                                &r.loc,
                                format!("route `{}` takes a raw body, which has no field `{key_field}`", id.value),
                            )
                            .help("send the key in a header: `key_header: Idempotency-Key`"),
                        );
                    } else if r.request.is_none() {
                        self.push(
                            Diagnostic::new(
                                &r.loc,
                                format!(
                                    "route `{}` is idempotent by `{key_field}` but takes no request body",
                                    id.value
                                ),
                            )
                            .help(
                                "the key travels in the body: add `request`, or send it in a header with `key_header`",
                            ),
                        );
                    }
                    if idem.required {
                        self.push(
                            Diagnostic::new(
                                &r.loc,
                                format!("`required` on the body key `{key_field}` of `{}`", id.value),
                            )
                            .help("a body key is required by its field: make the field required instead"),
                        );
                    }
                }
                IdempotencyCarrier::Header(name) => {
                    let token = !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
                    if !token {
                        self.push(
                            Diagnostic::new(&r.loc, format!("`{name}` is not a header name"))
                                .help("write an HTTP token such as `Idempotency-Key`"),
                        );
                    }
                }
            }
        }
        let mut seen_codes = Vec::new();
        for code in &r.errors {
            self.error_code(code);
            if seen_codes.contains(&&code.value) {
                self.push(Diagnostic::new(&code.loc, format!("error `{}` is listed twice", code.value)));
            }
            seen_codes.push(&code.value);
        }
        for key in &r.inferred {
            self.reference(
                "route key",
                key,
                [
                    "auth",
                    "scopes",
                    "min_role",
                    "feature",
                    "rate_limit",
                    "request",
                    "response",
                    "success",
                    "idempotency",
                    "errors",
                    "method",
                    "path",
                ],
            );
        }
    }

    fn path(&mut self, r: &Route) {
        let path = &r.path;
        let placeholders = r.path_placeholders();
        let well_formed = path.value.starts_with('/')
            && path.value.matches('{').count() == placeholders.len()
            && path.value.matches('}').count() == placeholders.len()
            && !path.value.contains("//")
            && placeholders.iter().all(|p| {
                is_snake_case(&p.to_snake_case()) && !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())
            })
            && path
                .value
                .split('/')
                .skip(1)
                .all(|seg| !seg.contains('{') || (seg.starts_with('{') && seg.ends_with('}')));
        if !well_formed {
            self.push(
                Diagnostic::new(&path.loc, format!("`{}` is not a route path", path.value)).help(
                    "write `/segment/{param}/…`: each placeholder is a whole segment named with letters and digits",
                ),
            );
            return;
        }
        let mut seen = Vec::new();
        for p in &placeholders {
            if seen.contains(p) {
                self.push(Diagnostic::new(
                    &path.loc,
                    format!("path parameter `{p}` appears twice in `{}`", path.value),
                ));
            }
            seen.push(*p);
            if !r.path_params.iter().any(|d| d.name == *p) {
                self.push(
                    Diagnostic::new(&path.loc, format!("path parameter `{p}` of `{}` is not declared", r.id.value))
                        .help(format!("add `{p}: string` under the route's or its family's `params`")),
                );
            }
        }
        for d in &r.path_params {
            if !placeholders.contains(&d.name.as_str()) {
                self.push(
                    Diagnostic::new(
                        &d.loc,
                        format!("parameter `{}` of `{}` is not in its path `{}`", d.name, r.id.value, path.value),
                    )
                    .help(format!("add `{{{}}}` to the path, or move it to `query`", d.name)),
                );
            }
            if d.optional {
                self.push(Diagnostic::new(&d.loc, format!("path parameter `{}` cannot be optional", d.name)));
            }
        }
        self.fields(&r.path_params, Some(&r.id.value));
    }
}

/// How a diagnostic names the API's subject parameter: `` `{handle}` ``, or a
/// placeholder when the API declares none.
fn subject_shown(spec: &Spec) -> String {
    spec.api
        .subject()
        .map_or_else(|| "subject (the API declares no `api.subject`)".to_owned(), |s| format!("`{{{s}}}`"))
}

/// `help`, with how to declare a subject when the API has none.
fn subject_help(spec: &Spec, help: &str) -> String {
    match spec.api.subject() {
        Some(_) => help.to_owned(),
        None => format!("{help}; or name the path parameter of the API's tenant in `api.subject`"),
    }
}
