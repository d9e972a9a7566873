//! From YAML trees to the model. Shape errors (missing keys, wrong types, unknown keys,
//! unknown closed-set names) are found here; cross-references are checked by
//! [`crate::validate`].

use crate::diagnostic::{Diagnostic, Sink};
use crate::model::*;
use crate::read::{self, Fields, fields};
use crate::source::{Loc, Spanned};
use crate::yaml::{Kind, Node};

const TOP_LEVEL: &[&str] = &[
    "api",
    "auth",
    "scopes",
    "roles",
    "plans",
    "features",
    "write_quota",
    "rate_limits",
    "context_token",
    "breaking_ok",
    "answers",
    "retry",
    "errors",
    "types",
    "families",
];

/// The parts of a spec as they are gathered from one or several files.
#[derive(Default)]
pub(crate) struct Parts {
    api: Option<(Api, Loc)>,
    auth: Option<((ScopeRule, Vec<AuthMode>), Loc)>,
    write_quota: Option<(WriteQuota, Loc)>,
    retry: Option<(RetryPolicy, Loc)>,
    rate_limits: Option<(RateLimits, Loc)>,
    context_token: Option<(ContextToken, Loc)>,
    breaking_ok: Vec<AcceptedBreak>,
    answers: Option<(Answers, Loc)>,
    scopes: Vec<ScopeDef>,
    roles: Vec<RoleDef>,
    plans: Vec<Plan>,
    features: Vec<Feature>,
    errors: Vec<ErrorDef>,
    types: Vec<TypeDef>,
    families: Vec<Family>,
    /// Where the first file's root is, for "the spec has no `api`" diagnostics.
    first_root: Option<Loc>,
}

/// Sections that may be set once across all files.
fn set_once<T>(slot: &mut Option<(T, Loc)>, value: Option<T>, key: &str, at: &Loc, sink: &mut Sink) {
    let Some(value) = value else { return };
    if let Some((_, first)) = slot {
        sink.push(
            Diagnostic::new(at, format!("`{key}` is set twice in the spec")).help(format!(
                "it is first set at line {} of another file or earlier in this one; keep one",
                first.line
            )),
        );
        return;
    }
    *slot = Some((value, at.clone()));
}

impl Parts {
    /// Notes a file without a document, so "no `api` section" can point somewhere.
    pub(crate) fn add_empty(&mut self, file: crate::source::FileId) {
        self.first_root.get_or_insert(Loc { file, line: 1, col: 1, start: 0, end: 0, path: String::new() });
    }

    /// Adds the sections of one file's root.
    pub(crate) fn add_file(&mut self, root: &Node, sink: &mut Sink) {
        if self.first_root.is_none() {
            self.first_root = Some(root.loc.clone());
        }
        if root.is_null() {
            return;
        }
        let Some(top) = fields(root, "a spec file", TOP_LEVEL, sink) else { return };
        if let Some(n) = top.get("api") {
            set_once(&mut self.api, api(n, sink), "api", &n.loc, sink);
        }
        if let Some(n) = top.get("auth") {
            set_once(&mut self.auth, auth(n, sink), "auth", &n.loc, sink);
        }
        if let Some(n) = top.get("write_quota") {
            set_once(&mut self.write_quota, write_quota(n, sink), "write_quota", &n.loc, sink);
        }
        if let Some(n) = top.get("retry") {
            set_once(&mut self.retry, retry(n, sink), "retry", &n.loc, sink);
        }
        if let Some(n) = top.get("rate_limits") {
            set_once(&mut self.rate_limits, rate_limits(n, sink), "rate_limits", &n.loc, sink);
        }
        if let Some(n) = top.get("answers") {
            set_once(&mut self.answers, answers(n, sink), "answers", &n.loc, sink);
        }
        if let Some(n) = top.get("context_token") {
            set_once(&mut self.context_token, context_token(n, sink), "context_token", &n.loc, sink);
        }
        each(&top, "breaking_ok", sink, |n, s| self.breaking_ok.extend(accepted_break(n, s)));
        each(&top, "scopes", sink, |n, s| self.scopes.extend(scope(n, s)));
        each(&top, "roles", sink, |n, s| self.roles.extend(role(n, s)));
        each(&top, "plans", sink, |n, s| self.plans.extend(plan(n, s)));
        each(&top, "features", sink, |n, s| self.features.extend(feature(n, s)));
        each(&top, "errors", sink, |n, s| self.errors.extend(error(n, s)));
        each(&top, "families", sink, |n, s| self.families.extend(family(n, s)));
        if let Some(n) = top.get("types") {
            for (name, body) in read::named_entries(n, "types", sink) {
                self.types.extend(type_def(name, body, sink));
            }
        }
    }

    /// The spec, if every required section is there.
    pub(crate) fn finish(self, source_files: Vec<String>, sink: &mut Sink) -> Option<Spec> {
        let root = self.first_root.clone();
        let missing = |key: &str, sink: &mut Sink| {
            if let Some(at) = &root {
                sink.push(
                    Diagnostic::new(at, format!("the spec has no `{key}` section"))
                        .help(format!("add a top-level `{key}:` to one of the spec files")),
                );
            }
        };
        if self.api.is_none() {
            missing("api", sink);
        }
        if self.auth.is_none() {
            missing("auth", sink);
        }
        if self.retry.is_none() {
            missing("retry", sink);
        }
        let ((scope_rule, auth_modes), _) = self.auth?;
        let mut families = self.families;
        let mut types = self.types;
        name_inline_types(&mut types, &mut families);
        let subject = self.api.as_ref().and_then(|(api, _)| api.subject().map(str::to_owned));
        for route in families.iter_mut().flat_map(|f| f.routes.iter_mut()).filter(|r| !r.rate_limit_stated) {
            route.rate_limit = default_rate_limit(&route.path.value, &route.auth, subject.as_deref());
        }
        Some(Spec {
            api: self.api?.0,
            auth_modes,
            scope_rule,
            scopes: self.scopes,
            roles: self.roles,
            plans: self.plans,
            features: self.features,
            write_quota: self.write_quota.map(|(q, _)| q),
            retry: self.retry?.0,
            errors: self.errors,
            types,
            families,
            rate_limits: self.rate_limits.map(|(r, _)| r).unwrap_or_default(),
            context_token: self.context_token.map(|(c, _)| c),
            breaking_ok: self.breaking_ok,
            answers: self.answers.map(|(a, _)| a).unwrap_or_default(),
            source_files,
        })
    }
}

/// Names every type written in place after its owner and field (`MoveRequest` +
/// `kind` → `MoveRequestKind`; a query or path parameter's owner is its route), points
/// the field at it and adds it to `types`, in the order met; types inside inline objects
/// are named the same way, one level deeper.
fn name_inline_types(types: &mut Vec<TypeDef>, families: &mut [Family]) {
    fn lift(owner: &str, fields: &mut [Field], out: &mut Vec<TypeDef>) {
        use heck::ToUpperCamelCase;
        for f in fields {
            let Some(inline) = f.inline_type.as_mut() else { continue };
            inline.name = format!("{owner}{}", f.name.to_upper_camel_case());
            f.ty.value = TypeRef::Named(inline.name.clone());
            let mut def = (**inline).clone();
            if let TypeKind::Object(inner) = &mut def.kind {
                lift(&def.name.clone(), inner, out);
            }
            out.push(def);
        }
    }
    let mut found = Vec::new();
    for t in types.iter_mut() {
        if let TypeKind::Object(fields) = &mut t.kind {
            lift(&t.name, fields, &mut found);
        }
    }
    for route in families.iter_mut().flat_map(|f| f.routes.iter_mut()) {
        use heck::ToUpperCamelCase;
        let owner = route.id.value.to_upper_camel_case();
        lift(&owner, &mut route.query, &mut found);
        lift(&owner, &mut route.path_params, &mut found);
    }
    types.extend(found);
}

fn each(top: &Fields<'_>, key: &str, sink: &mut Sink, mut f: impl FnMut(&Node, &mut Sink)) {
    if let Some(n) = top.get(key) {
        for item in read::seq(n, key, sink) {
            f(item, sink);
        }
    }
}

fn api(n: &Node, sink: &mut Sink) -> Option<Api> {
    let f = fields(n, "`api`", &["name", "title", "version", "base_url", "description", "subject"], sink)?;
    Some(Api {
        name: f.string("name", "`api`", sink)?,
        title: f.string("title", "`api`", sink)?,
        version: f.string("version", "`api`", sink)?,
        base_url: f.string("base_url", "`api`", sink)?,
        description: f.text("description", sink),
        subject: f.opt_spanned("subject", sink),
        loc: n.loc.clone(),
    })
}

fn auth(n: &Node, sink: &mut Sink) -> Option<(ScopeRule, Vec<AuthMode>)> {
    let f = fields(n, "`auth`", &["scope_rule", "modes"], sink)?;
    let rule = f.required("scope_rule", "`auth`", sink).and_then(|n| {
        read::choice(n, "scope rule", &[ScopeRule::Exact, ScopeRule::PrefixWildcard], ScopeRule::as_str, sink)
    });
    let modes = f
        .required("modes", "`auth`", sink)
        .map(|m| read::seq(m, "auth modes", sink).iter().filter_map(|n| auth_mode(n, sink)).collect())
        .unwrap_or_default();
    Some((rule?, modes))
}

fn auth_mode(n: &Node, sink: &mut Sink) -> Option<AuthMode> {
    const WHAT: &str = "an auth mode";
    let f = fields(
        n,
        WHAT,
        &[
            "kind",
            "description",
            "passed_in",
            "token_format",
            "bound_to",
            "route_prefix",
            "lifetime_days",
            "errors",
            "session",
            "source",
        ],
        sink,
    )?;
    let kind = f
        .required("kind", WHAT, sink)
        .and_then(|k| read::choice(k, "auth mode", &AuthKind::ALL, AuthKind::as_str, sink));
    let transports = f
        .get("passed_in")
        .map(|p| read::seq(p, "`passed_in`", sink).iter().filter_map(|t| transport(t, sink)).collect())
        .unwrap_or_default();
    let token_format = f.get("token_format").and_then(|t| {
        let g = fields(t, "`token_format`", &["prefix", "separator", "display"], sink)?;
        Some(TokenFormat {
            prefix: g.string("prefix", "`token_format`", sink)?,
            separator: g
                .required("separator", "`token_format`", sink)
                .and_then(|n| {
                    let text = read::spanned_string(n, sink)?;
                    let mut chars = text.value.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => Some(c),
                        _ => {
                            sink.push(
                                Diagnostic::new(
                                    &text.loc,
                                    format!("a separator is one character, not `{}`", text.value),
                                )
                                .help("write the one character between the token id and the secret, e.g. \".\""),
                            );
                            None
                        }
                    }
                })
                // Reported above; a stand-in keeps the mode from also being "without a format".
                .unwrap_or('.'),
            display: g.string("display", "`token_format`", sink)?,
        })
    });
    let errors = f
        .get("errors")
        .and_then(|e| {
            let g = fields(e, "auth `errors`", &["missing", "invalid", "expired", "wrong_binding"], sink)?;
            Some(AuthErrors {
                missing: g.opt_spanned("missing", sink),
                invalid: g.opt_spanned("invalid", sink),
                expired: g.opt_spanned("expired", sink),
                wrong_binding: g.opt_spanned("wrong_binding", sink),
            })
        })
        .unwrap_or_default();
    let session = f.get("session").and_then(|s| {
        let g = fields(s, "`session`", &["login", "refresh", "token_field"], sink)?;
        let login = g.required("login", "`session`", sink).and_then(|n| read::spanned_string(n, sink));
        let refresh = g.required("refresh", "`session`", sink).and_then(|n| read::spanned_string(n, sink));
        let token_field = g.required("token_field", "`session`", sink).and_then(|n| read::spanned_string(n, sink));
        Some(SessionSpec { login: login?, refresh: refresh?, token_field: token_field? })
    });
    Some(AuthMode {
        kind: kind?,
        session,
        description: f.text("description", sink),
        transports,
        token_format,
        bound_to: f.opt_string("bound_to", sink),
        route_prefix: f.opt_string("route_prefix", sink),
        lifetime_days: f.opt_uint("lifetime_days", sink),
        errors,
        source: f.text("source", sink),
        loc: n.loc.clone(),
    })
}

fn transport(n: &Node, sink: &mut Sink) -> Option<Transport> {
    let f = fields(n, "a transport", &["header", "scheme", "cookie"], sink)?;
    match (f.opt_string("header", sink), f.opt_string("cookie", sink)) {
        (Some(name), None) => Some(Transport::Header { name, scheme: f.opt_string("scheme", sink) }),
        (None, Some(name)) if f.get("scheme").is_none() => Some(Transport::Cookie { name }),
        _ => {
            sink.push(
                Diagnostic::new(
                    &n.loc,
                    "a transport names either a `header` (with an optional `scheme`) or a `cookie`",
                )
                .help("write `{header: Authorization, scheme: Bearer}` or `{cookie: _10x_visitor}`"),
            );
            None
        }
    }
}

fn scope(n: &Node, sink: &mut Sink) -> Option<ScopeDef> {
    let f = fields(n, "a scope", &["name", "description", "source"], sink)?;
    Some(ScopeDef {
        name: f.string("name", "a scope", sink)?,
        description: f.text("description", sink),
        source: f.text("source", sink),
        loc: n.loc.clone(),
    })
}

fn role(n: &Node, sink: &mut Sink) -> Option<RoleDef> {
    let f = fields(n, "a role", &["name", "level", "description"], sink)?;
    let level = f
        .required("level", "a role", sink)
        .and_then(|l| read::choice(l, "role level", &[RoleLevel::Handle, RoleLevel::Platform], level_name, sink));
    Some(RoleDef {
        name: f.string("name", "a role", sink)?,
        level: level?,
        description: f.text("description", sink),
        loc: n.loc.clone(),
    })
}

fn level_name(level: RoleLevel) -> &'static str {
    match level {
        RoleLevel::Handle => "handle",
        RoleLevel::Platform => "platform",
    }
}

fn plan(n: &Node, sink: &mut Sink) -> Option<Plan> {
    const WHAT: &str = "a plan";
    let f = fields(n, WHAT, &["name", "title", "requests_per_minute", "writes_per_day", "features"], sink)?;
    let rpm = f.required("requests_per_minute", WHAT, sink).and_then(|r| read::uint(r, sink));
    Some(Plan {
        name: f.string("name", WHAT, sink)?,
        title: f.string("title", WHAT, sink)?,
        requests_per_minute: rpm?,
        writes_per_day: f.opt_uint("writes_per_day", sink),
        features: f.strings("features", sink),
        loc: n.loc.clone(),
    })
}

fn feature(n: &Node, sink: &mut Sink) -> Option<Feature> {
    let f = fields(n, "a feature", &["name", "description", "source"], sink)?;
    Some(Feature {
        name: f.string("name", "a feature", sink)?,
        description: f.text("description", sink),
        source: f.text("source", sink),
        loc: n.loc.clone(),
    })
}

fn methods(f: &Fields<'_>, key: &str, sink: &mut Sink) -> Vec<Method> {
    f.get(key)
        .map(|m| {
            read::seq(m, key, sink)
                .iter()
                .filter_map(|n| read::choice(n, "HTTP method", &Method::ALL, Method::as_str, sink))
                .collect()
        })
        .unwrap_or_default()
}

fn statuses(f: &Fields<'_>, key: &str, sink: &mut Sink) -> Vec<u16> {
    f.get(key).map(|m| read::seq(m, key, sink).iter().filter_map(|n| read::uint(n, sink)).collect()).unwrap_or_default()
}

fn write_quota(n: &Node, sink: &mut Sink) -> Option<WriteQuota> {
    const WHAT: &str = "`write_quota`";
    let f = fields(n, WHAT, &["methods", "applies_to", "exempt", "resets", "error"], sink)?;
    let error = f.required("error", WHAT, sink).and_then(|e| read::spanned_string(e, sink));
    Some(WriteQuota {
        methods: methods(&f, "methods", sink),
        applies_to: f.string("applies_to", WHAT, sink)?,
        exempt: f.strings("exempt", sink).into_iter().map(|s| s.value).collect(),
        resets: f.text("resets", sink),
        error: error?,
    })
}

fn rate_limits(n: &Node, sink: &mut Sink) -> Option<RateLimits> {
    let f = fields(n, "`rate_limits`", &["user", "ip"], sink)?;
    let limit = |key: &str, sink: &mut Sink| {
        let n = f.get(key)?;
        let what = format!("`rate_limits.{key}`");
        let g = fields(n, &what, &["requests_per_minute", "inferred"], sink)?;
        let rpm = g.required("requests_per_minute", &what, sink).and_then(|r| read::uint(r, sink))?;
        Some(RateLimit { requests_per_minute: rpm, inferred: g.flag("inferred", false, sink), loc: n.loc.clone() })
    };
    Some(RateLimits { user: limit("user", sink), ip: limit("ip", sink) })
}

fn context_token(n: &Node, sink: &mut Sink) -> Option<ContextToken> {
    const WHAT: &str = "`context_token`";
    let f = fields(n, WHAT, &["ttl_seconds", "param", "error", "source", "inferred"], sink)?;
    let ttl = f.required("ttl_seconds", WHAT, sink).and_then(|t| read::uint(t, sink));
    let error = f.required("error", WHAT, sink).and_then(|e| read::spanned_string(e, sink));
    Some(ContextToken {
        ttl_seconds: ttl?,
        param: f.string("param", WHAT, sink)?,
        error: error?,
        inferred: f.strings("inferred", sink),
        source: f.text("source", sink),
        loc: n.loc.clone(),
    })
}

fn answers(n: &Node, sink: &mut Sink) -> Option<Answers> {
    let keys = Answers::default().all().map(|(situation, _, _)| situation);
    let f = fields(n, "`answers`", &keys, sink)?;
    let code = |key: &str, sink: &mut Sink| f.opt_spanned(key, sink);
    Some(Answers {
        invalid_input: code("invalid_input", sink),
        invalid_body: code("invalid_body", sink),
        not_found: code("not_found", sink),
        subject_not_found: code("subject_not_found", sink),
        conflict: code("conflict", sink),
        insufficient_scope: code("insufficient_scope", sink),
        insufficient_role: code("insufficient_role", sink),
        feature_locked: code("feature_locked", sink),
        rate_limited: code("rate_limited", sink),
        unavailable: code("unavailable", sink),
        internal: code("internal", sink),
        not_implemented: code("not_implemented", sink),
        method_not_allowed: code("method_not_allowed", sink),
    })
}

fn accepted_break(n: &Node, sink: &mut Sink) -> Option<AcceptedBreak> {
    const WHAT: &str = "a `breaking_ok` entry";
    let f = fields(n, WHAT, &["rule", "target", "reason"], sink)?;
    let rule = f.required("rule", WHAT, sink).and_then(|r| read::spanned_string(r, sink));
    let reason = f.string("reason", WHAT, sink).filter(|r| !r.trim().is_empty());
    if reason.is_none() && f.get("reason").is_some() {
        sink.push(
            Diagnostic::new(&n.loc, "a deliberate break needs its reason")
                .help("say why callers must change, for the reviewers and the changelog"),
        );
    }
    Some(AcceptedBreak { rule: rule?, target: f.string("target", WHAT, sink)?, reason: reason?, loc: n.loc.clone() })
}

fn retry(n: &Node, sink: &mut Sink) -> Option<RetryPolicy> {
    const WHAT: &str = "`retry`";
    let f = fields(
        n,
        WHAT,
        &[
            "after_header_statuses",
            "backoff_statuses",
            "never_statuses",
            "backoff_seconds",
            "jitter",
            "max_attempts",
            "retry_after_header",
            "max_retry_after_seconds",
            "retry_transport_errors",
            "safe_methods",
            "source",
        ],
        sink,
    )?;
    let backoff_seconds = f
        .required("backoff_seconds", WHAT, sink)
        .map(|b| read::seq(b, "`backoff_seconds`", sink).iter().filter_map(|n| backoff_wait(n, sink)).collect())
        .unwrap_or_default();
    let jitter = f.get("jitter").and_then(|n| {
        let value = read::number(n, sink)?;
        if (0.0..=1.0).contains(&value) {
            Some(value)
        } else {
            sink.push(
                Diagnostic::new(&n.loc, format!("`jitter` is {value}, outside 0 to 1"))
                    .help("write the fraction a wait may shrink by: `0.2` waits 80 to 100% of the schedule"),
            );
            None
        }
    });
    let max_attempts = f
        .required("max_attempts", WHAT, sink)
        .and_then(|m| read::uint(m, sink).map(|v| Spanned::new(v, m.loc.clone())));
    let max_wait = f.required("max_retry_after_seconds", WHAT, sink).and_then(|m| read::uint(m, sink));
    Some(RetryPolicy {
        after_header_statuses: statuses(&f, "after_header_statuses", sink),
        backoff_statuses: statuses(&f, "backoff_statuses", sink),
        never_statuses: statuses(&f, "never_statuses", sink),
        backoff_seconds,
        jitter: jitter.unwrap_or(0.0),
        max_attempts: max_attempts?,
        retry_after_header: f.string("retry_after_header", WHAT, sink)?,
        max_retry_after_seconds: max_wait?,
        retry_transport_errors: f.flag("retry_transport_errors", false, sink),
        safe_methods: methods(&f, "safe_methods", sink),
        source: f.text("source", sink),
        loc: n.loc.clone(),
    })
}

/// One wait of the backoff schedule: seconds, above zero, at most an hour, in whole
/// milliseconds (`0.25`).
fn backoff_wait(n: &Node, sink: &mut Sink) -> Option<f64> {
    let value = read::number(n, sink)?;
    let millis = value * 1000.0;
    if value > 0.0 && value <= 3600.0 && (millis - millis.round()).abs() < 1e-6 {
        return Some(value);
    }
    sink.push(
        Diagnostic::new(&n.loc, format!("the backoff wait {value} s is not a wait the client can keep"))
            .help("write seconds above 0 and at most 3600, in whole milliseconds (`0.25`, `2`)"),
    );
    None
}

fn error(n: &Node, sink: &mut Sink) -> Option<ErrorDef> {
    const WHAT: &str = "an error";
    let f = fields(
        n,
        WHAT,
        &["code", "status", "category", "retry", "meaning", "fix", "details", "source", "inferred"],
        sink,
    )?;
    let status =
        f.required("status", WHAT, sink).and_then(|s| read::uint(s, sink).map(|v| Spanned::new(v, s.loc.clone())));
    let category = f
        .required("category", WHAT, sink)
        .and_then(|c| read::choice(c, "error category", &ErrorCategory::ALL, ErrorCategory::as_str, sink));
    let retry = f
        .required("retry", WHAT, sink)
        .and_then(|r| read::choice(r, "retry class", &RetryClass::ALL, RetryClass::as_str, sink));
    let meaning = f.string("meaning", WHAT, sink);
    let fix = f.string("fix", WHAT, sink);
    Some(ErrorDef {
        code: f.string("code", WHAT, sink)?,
        status: status?,
        category: category?,
        retry: retry?,
        meaning: meaning?,
        fix: fix?,
        details: f.opt_spanned("details", sink),
        source: f.text("source", sink),
        inferred: f.strings("inferred", sink),
        loc: n.loc.clone(),
    })
}

const FIELD_KEYS: &[&str] = &[
    "secret",
    "type",
    "enum",
    "fields",
    "optional",
    "nullable",
    "description",
    "pattern",
    "format",
    "min_length",
    "max_length",
    "minimum",
    "maximum",
    "max_items",
    "error",
    "catalogue",
];

/// Keys of a scalar type: its primitive and the checks a field can carry.
const SCALAR_KEYS: &[&str] =
    &["type", "pattern", "format", "min_length", "max_length", "minimum", "maximum", "error", "catalogue"];

/// A field: either a type expression (`slug: string`) or a mapping with `type` and more.
fn field(name: Spanned<String>, n: &Node, sink: &mut Sink) -> Option<Field> {
    if let Kind::Scalar { .. } = n.kind {
        let ty = type_ref(n, sink)?;
        return Some(Field {
            name: name.value,
            ty,
            optional: false,
            nullable: false,
            secret: false,
            description: String::new(),
            constraints: Constraints::default(),
            inline_type: None,
            loc: name.loc,
        });
    }
    let what = format!("field `{}`", name.value);
    let f = fields(n, &what, FIELD_KEYS, sink)?;
    // A type written in place: `finish` names it after its owner and this field.
    let inline = match (f.get("type"), f.get("enum"), f.get("fields")) {
        (None, Some(values), None) => Some(TypeKind::Enum(enum_values(values, sink))),
        (None, None, Some(fs)) => Some(TypeKind::Object(field_map(fs, "fields", sink))),
        (_, None, None) => None,
        _ => {
            sink.push(
                Diagnostic::new(&name.loc, format!("{what} has more than one of `type`, `enum` and `fields`"))
                    .help("name a type with `type`, or write one in place with `enum` or `fields`"),
            );
            return None;
        }
    };
    let ty = match &inline {
        Some(_) => Some(Spanned::new(TypeRef::Named(String::new()), name.loc.clone())),
        None => f.required("type", &what, sink).and_then(|t| type_ref(t, sink)),
    };
    let constraints = constraints(&f, sink);
    let description = f.text("description", sink);
    let inline_type = inline.map(|kind| {
        Box::new(TypeDef {
            name: String::new(),
            description: description.clone(),
            kind,
            source: String::new(),
            loc: name.loc.clone(),
        })
    });
    Some(Field {
        name: name.value,
        ty: ty?,
        optional: f.flag("optional", false, sink),
        nullable: f.flag("nullable", false, sink),
        secret: f.flag("secret", false, sink),
        description,
        constraints,
        inline_type,
        loc: name.loc,
    })
}

fn constraints(f: &Fields<'_>, sink: &mut Sink) -> Constraints {
    let format =
        f.get("format").and_then(|t| read::choice(t, "string format", &StringFormat::ALL, StringFormat::as_str, sink));
    Constraints {
        pattern: f.opt_spanned("pattern", sink),
        format,
        min_length: f.opt_uint("min_length", sink),
        max_length: f.opt_uint("max_length", sink),
        minimum: f.get("minimum").and_then(|m| read::number(m, sink)),
        maximum: f.get("maximum").and_then(|m| read::number(m, sink)),
        max_items: f.opt_uint("max_items", sink),
        error: f.opt_spanned("error", sink),
        catalogue: f.opt_spanned("catalogue", sink),
    }
}

fn type_ref(n: &Node, sink: &mut Sink) -> Option<Spanned<TypeRef>> {
    let text = read::spanned_string(n, sink)?;
    match TypeRef::parse(&text.value) {
        Some(t) => Some(Spanned::new(t, text.loc)),
        None => {
            sink.push(Diagnostic::new(&text.loc, format!("`{}` is not a type expression", text.value)).help(
                "write `string`, `integer`, `number`, `boolean`, `json`, a type name, `[T]` for a list or `map<T>`",
            ));
            None
        }
    }
}

fn field_map(n: &Node, what: &str, sink: &mut Sink) -> Vec<Field> {
    read::named_entries(n, what, sink).into_iter().filter_map(|(name, body)| field(name, body, sink)).collect()
}

fn type_def(name: Spanned<String>, n: &Node, sink: &mut Sink) -> Option<TypeDef> {
    let what = format!("type `{}`", name.value);
    let mut known = vec!["description", "fields", "enum", "json", "source"];
    known.extend(SCALAR_KEYS);
    let f = fields(n, &what, &known, sink)?;
    let stray_constraint = SCALAR_KEYS.iter().skip(1).find(|k| f.get(k).is_some());
    let kind = match (f.get("fields"), f.get("enum"), f.get("json"), f.get("type")) {
        (_, _, _, None) if stray_constraint.is_some() => {
            let key = stray_constraint.copied().unwrap_or_default();
            sink.push(
                Diagnostic::new(&name.loc, format!("{what} has `{key}` but no `type`"))
                    .help("a scalar type names its primitive: `type: string`, then its checks"),
            );
            return None;
        }
        (Some(fs), None, None, None) => TypeKind::Object(field_map(fs, "fields", sink)),
        (None, Some(values), None, None) => TypeKind::Enum(enum_values(values, sink)),
        (None, None, Some(flag), None) if read::boolean(flag, sink) == Some(true) => TypeKind::Json,
        (None, None, Some(_), None) => return None,
        (None, None, None, Some(base)) => {
            TypeKind::Scalar(Box::new(Scalar { base: type_ref(base, sink)?, constraints: constraints(&f, sink) }))
        }
        _ => {
            sink.push(
                Diagnostic::new(
                    &name.loc,
                    format!("{what} must have exactly one of `fields`, `enum`, `json: true` or `type`"),
                )
                .help(
                    "an object lists `fields`, a string enum lists `enum` values, a free-form body says \
                     `json: true`, a checked primitive says `type: string` and its checks",
                ),
            );
            return None;
        }
    };
    Some(TypeDef {
        name: name.value,
        description: f.text("description", sink),
        kind,
        source: f.text("source", sink),
        loc: name.loc,
    })
}

fn enum_values(n: &Node, sink: &mut Sink) -> Vec<EnumValue> {
    read::seq(n, "enum values", sink).iter().filter_map(|v| enum_value(v, sink)).collect()
}

fn enum_value(n: &Node, sink: &mut Sink) -> Option<EnumValue> {
    if let Kind::Scalar { .. } = n.kind {
        return read::string(n, sink).map(|name| EnumValue { name, description: String::new() });
    }
    let f = fields(n, "an enum value", &["name", "description"], sink)?;
    Some(EnumValue { name: f.string("name", "an enum value", sink)?, description: f.text("description", sink) })
}

fn family(n: &Node, sink: &mut Sink) -> Option<Family> {
    const WHAT: &str = "a route family";
    let f = fields(n, WHAT, &["name", "description", "params", "errors", "routes"], sink)?;
    let name = f.string("name", WHAT, sink)?;
    let pool = f.get("params").map(|p| field_map(p, "params", sink)).unwrap_or_default();
    let errors = f.strings("errors", sink);
    let routes = f
        .get("routes")
        .map(|r| {
            read::seq(r, "routes", sink)
                .iter()
                .filter_map(|n| route(n, &name, &pool, sink))
                .map(|mut route| {
                    // Family errors apply to every route; a route may repeat one.
                    let own = std::mem::take(&mut route.errors);
                    route.errors = errors.clone();
                    route.errors.extend(own.into_iter().filter(|e| !errors.iter().any(|f| f.value == e.value)));
                    route
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Family { description: f.text("description", sink), name, routes, loc: f.node().loc.clone() })
}

const ROUTE_KEYS: &[&str] = &[
    "id",
    "method",
    "path",
    "summary",
    "description",
    "auth",
    "scopes",
    "min_role",
    "feature",
    "rate_limit",
    "params",
    "query",
    "request",
    "response",
    "success",
    "idempotency",
    "errors",
    "source",
    "inferred",
];

fn route(n: &Node, family: &str, pool: &[Field], sink: &mut Sink) -> Option<Route> {
    const WHAT: &str = "a route";
    let f = fields(n, WHAT, ROUTE_KEYS, sink)?;
    let id = f.required("id", WHAT, sink).and_then(|i| read::spanned_string(i, sink));
    let method = f
        .required("method", WHAT, sink)
        .and_then(|m| read::choice(m, "HTTP method", &Method::ALL, Method::as_str, sink));
    let path = f.required("path", WHAT, sink).and_then(|p| read::spanned_string(p, sink));
    let auth: Vec<Spanned<AuthKind>> = match f.required("auth", WHAT, sink) {
        Some(a) => {
            let items: Vec<&Node> = match &a.kind {
                Kind::Seq(items) => items.iter().collect(),
                _ => vec![a],
            };
            items
                .into_iter()
                .filter_map(|i| {
                    read::choice(i, "auth mode", &AuthKind::ALL, AuthKind::as_str, sink)
                        .map(|k| Spanned::new(k, i.loc.clone()))
                })
                .collect()
        }
        None => Vec::new(),
    };
    let rate_limit = f
        .get("rate_limit")
        .and_then(|r| read::choice(r, "rate-limit key", &RateLimitKey::ALL, RateLimitKey::as_str, sink));
    let success = f.get("success").map(|s| success(s, sink)).unwrap_or_default();
    let idempotency = f.get("idempotency").and_then(|i| {
        const WHAT: &str = "`idempotency`";
        let known = ["key_field", "key_header", "required", "repeat_status", "deduped_field", "retention_seconds"];
        let g = fields(i, WHAT, &known, sink)?;
        let key = match (g.opt_string("key_field", sink), g.opt_string("key_header", sink)) {
            (Some(field), None) => IdempotencyCarrier::Field(field),
            (None, Some(header)) => IdempotencyCarrier::Header(header),
            _ => {
                sink.push(
                    Diagnostic::new(&i.loc, "`idempotency` needs exactly one of `key_field` and `key_header`")
                        .help("the key travels in a body field (`key_field: idempotencyKey`) or a header (`key_header: Idempotency-Key`)"),
                );
                return None;
            }
        };
        Some(Idempotency {
            key,
            required: g.flag("required", false, sink),
            repeat_status: g.opt_uint("repeat_status", sink),
            deduped_field: g.opt_string("deduped_field", sink),
            // A day: long enough for every retry schedule, short enough to forget.
            retention_seconds: g.opt_uint("retention_seconds", sink).unwrap_or(86_400),
        })
    });
    let source = f.string("source", WHAT, sink);
    let (id, method, path) = (id?, method?, path?);

    // Path parameters: the route's own, else the family's pool, for each placeholder.
    let own = f.get("params").map(|p| field_map(p, "params", sink)).unwrap_or_default();
    let mut path_params = Vec::new();
    for name in path_placeholders(&path.value) {
        if let Some(p) = own.iter().chain(pool).find(|p| p.name == name) {
            path_params.push(p.clone());
        }
    }
    // Own parameters that the path does not use are kept so validation can report them.
    for p in &own {
        if !path_params.iter().any(|q| q.name == p.name) {
            path_params.push(p.clone());
        }
    }
    // The default needs the API's subject, known once every file is read (`finish`).
    let rate_limit_stated = rate_limit.is_some();
    let rate_limit = rate_limit.unwrap_or(RateLimitKey::None);
    Some(Route {
        summary: f.text("summary", sink),
        description: f.text("description", sink),
        scopes: f.strings("scopes", sink),
        min_role: f.opt_spanned("min_role", sink),
        feature: f.opt_spanned("feature", sink),
        rate_limit,
        rate_limit_stated,
        path_params,
        query: f.get("query").map(|q| field_map(q, "query", sink)).unwrap_or_default(),
        request: f.get("request").and_then(|r| type_ref(r, sink)),
        response: f.get("response").and_then(|r| type_ref(r, sink)),
        success: if success.is_empty() {
            vec![SuccessStatus { status: 200, outcome: "ok".to_owned(), loc: n.loc.clone() }]
        } else {
            success
        },
        idempotency,
        errors: f.strings("errors", sink),
        source: source?,
        inferred: f.strings("inferred", sink),
        loc: n.loc.clone(),
        family: family.to_owned(),
        id,
        method,
        path,
        auth,
    })
}

/// The documented default: routes under the API's subject are limited per subject by
/// plan; other authenticated routes per user; unauthenticated ones per client IP.
pub fn default_rate_limit(path: &str, auth: &[Spanned<AuthKind>], subject: Option<&str>) -> RateLimitKey {
    if subject.is_some_and(|s| path_placeholders(path).contains(&s)) {
        RateLimitKey::Handle
    } else if auth.iter().all(|a| a.value == AuthKind::None) {
        RateLimitKey::Ip
    } else {
        RateLimitKey::User
    }
}

/// `success: 201` or `success: {201: created, 200: updated}`.
fn success(n: &Node, sink: &mut Sink) -> Vec<SuccessStatus> {
    if let Kind::Scalar { .. } = n.kind {
        return read::uint(n, sink)
            .map(|status| vec![SuccessStatus { status, outcome: "ok".to_owned(), loc: n.loc.clone() }])
            .unwrap_or_default();
    }
    let mut out: Vec<SuccessStatus> = read::named_entries(n, "success statuses", sink)
        .into_iter()
        .filter_map(|(status, outcome)| {
            let code = status.value.parse::<u16>().ok();
            if code.is_none() {
                sink.push(
                    Diagnostic::new(&status.loc, format!("`{}` is not an HTTP status", status.value))
                        .help("write `201: created`"),
                );
            }
            Some(SuccessStatus { status: code?, outcome: read::string(outcome, sink)?, loc: status.loc })
        })
        .collect();
    out.sort_by_key(|s| s.status);
    out
}
