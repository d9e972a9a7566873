//! What a spec change breaks: every difference between two loaded specs that a caller
//! or a dependent can notice, with a rule id, a level for the wire (HTTP callers) and one
//! for Rust source (the generated crates' public API), the route, type, code, scope or
//! plan it concerns, and the semver bump the generated crates need.
//!
//! Types are compared by direction: a field that becomes required breaks a request and
//! not an answer; an enum value added to an answer may break callers that match every
//! value, in a request it is only new. Beyond what OpenAPI diff tools know, the rules
//! cover this format's own facts: auth modes, scopes, roles, plan gates, limits, the
//! error catalogue, idempotency and retry classes.
//!
//! Descriptions, comments, sources and the order of things are not changes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use tenx_spec::{AuthKind, Constraints, Field, Route, Spec, TypeKind, TypeRef};

/// How much a change can hurt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nothing that worked stops working.
    Info,
    /// Some callers or some generated code may break (exhaustive matches, struct literals).
    Warning,
    /// Callers that worked stop working.
    Breaking,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Breaking => "breaking",
        })
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The rule that found it (`route.scope_added`).
    pub rule: &'static str,
    /// What it concerns: a route id, `Type.field`, a code, a scope, a plan.
    pub target: String,
    /// For HTTP callers.
    pub wire: Level,
    /// For Rust code built on the generated crates.
    pub source: Level,
    /// What changed, in a sentence.
    pub message: String,
    /// The reason given in the spec's `breaking_ok`, when the break is deliberate.
    pub accepted: Option<String>,
}

impl Change {
    /// The worse of the two levels.
    pub fn level(&self) -> Level {
        self.wire.max(self.source)
    }

    /// Breaking on either side and not accepted by `breaking_ok`.
    pub fn is_unaccepted_break(&self) -> bool {
        self.level() == Level::Breaking && self.accepted.is_none()
    }
}

/// The semver bump the generated crates need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bump {
    /// Nothing a caller can see, or fixes.
    Patch,
    /// Additions.
    Minor,
    /// Breaks.
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

/// Every change between two specs, and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The changes, grouped by rule family in a stable order.
    pub changes: Vec<Change>,
    /// `breaking_ok` entries of the new spec that match no change (stale, or misspelt).
    pub unused_accepts: Vec<String>,
    /// The bump the changes need.
    pub bump: Bump,
    /// `api.version` before and after.
    pub versions: (String, String),
}

impl Report {
    /// The rule ids that the report can contain, for validating `breaking_ok`.
    pub const RULES: &'static [&'static str] = RULES;

    /// Whether the change may land: every break is accepted in the spec, or
    /// `api.version` moved to a new major version.
    pub fn gate(&self) -> Result<(), String> {
        let unaccepted: Vec<&Change> = self.changes.iter().filter(|c| c.is_unaccepted_break()).collect();
        if unaccepted.is_empty() {
            return Ok(());
        }
        let (old, new) = (major(&self.versions.0), major(&self.versions.1));
        if new > old {
            return Ok(());
        }
        let mut list: Vec<String> =
            unaccepted.iter().take(10).map(|c| format!("  {} {}: {}", c.rule, c.target, c.message)).collect();
        if unaccepted.len() > 10 {
            list.push(format!("  … and {} more (the table above lists them all)", unaccepted.len() - 10));
        }
        Err(format!(
            "{} breaking change(s) without a major version: `api.version` is {:?} (was {:?}).\n{}\n\
             Bump `api.version` to {}, or accept each break in the spec with \
             `breaking_ok: [{{rule, target, reason}}]`.",
            unaccepted.len(),
            self.versions.1,
            self.versions.0,
            list.join("\n"),
            old.map_or("the next major".to_owned(), |m| (m + 1).to_string()),
        ))
    }
}

/// Whether a `breaking_ok` target names `target`: equal, or a pattern where `*` stands
/// for any run of characters (`*.handle`: that parameter on every route).
fn matches_target(pattern: &str, target: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = target.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    if parts.is_empty() {
        return rest.is_empty();
    }
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// The major number of a version string (`"2"`, `"2.1.0"`, `"v3"`).
fn major(version: &str) -> Option<u64> {
    version.trim_start_matches('v').split('.').next()?.parse().ok()
}

const RULES: &[&str] = &[
    "route.added",
    "route.removed",
    "route.renamed",
    "route.path_changed",
    "route.auth_removed",
    "route.auth_added",
    "route.scope_added",
    "route.scope_removed",
    "route.role_added",
    "route.role_raised",
    "route.role_lowered",
    "route.role_removed",
    "route.feature_added",
    "route.feature_removed",
    "route.feature_dearer",
    "route.feature_cheaper",
    "route.idempotency_removed",
    "route.idempotency_added",
    "route.idempotency_changed",
    "route.success_removed",
    "route.success_added",
    "route.rate_limit_changed",
    "route.request_changed",
    "route.response_changed",
    "route.errors_added",
    "route.errors_removed",
    "route.param_added",
    "route.param_removed",
    "route.param_required",
    "route.param_changed",
    "auth.mode_removed",
    "auth.mode_added",
    "auth.transport_removed",
    "scope.removed",
    "scope.added",
    "role.removed",
    "role.added",
    "plan.removed",
    "plan.added",
    "plan.limit_lowered",
    "plan.limit_raised",
    "plan.feature_removed",
    "limit.lowered",
    "limit.raised",
    "error.removed",
    "error.added",
    "error.status_changed",
    "error.retry_changed",
    "retry.policy_changed",
    "type.removed",
    "type.added",
    "type.kind_changed",
    "field.added",
    "field.removed",
    "field.required",
    "field.optional",
    "field.type_changed",
    "field.tightened",
    "field.loosened",
    "enum.value_added",
    "enum.value_removed",
];

/// Rules that add something callers can use: a minor bump when nothing breaks.
const ADDITIONS: &[&str] = &[
    "route.added",
    "route.auth_added",
    "route.idempotency_added",
    "route.param_added",
    "auth.mode_added",
    "scope.added",
    "role.added",
    "plan.added",
    "plan.limit_raised",
    "limit.raised",
    "error.added",
    "type.added",
    "field.added",
    "enum.value_added",
];

use Level::{Breaking, Info, Warning};

/// Compares two specs.
pub fn diff(old: &Spec, new: &Spec) -> Report {
    // A base written before the format had `answers` named those codes implicitly, as
    // the new spec does: read it with the new answers, so the format change is not
    // reported as every route gaining codes.
    // Likewise a base from before `api.subject` had `{handle}` as its subject: read it with
    // the new subject, so the routes' default rate-limit keys are what they were.
    let filled;
    let no_answers = old.answers.all().iter().all(|(_, code, _)| code.is_none());
    let no_subject = old.api.subject.is_none() && new.api.subject.is_some();
    let old = if no_answers || no_subject {
        let mut o = old.clone();
        if no_answers {
            o.answers = new.answers.clone();
        }
        if no_subject {
            o.api.subject = new.api.subject.clone();
            let subject = o.api.subject().map(str::to_owned);
            for r in o.families.iter_mut().flat_map(|f| f.routes.iter_mut()).filter(|r| !r.rate_limit_stated) {
                r.rate_limit = tenx_spec::default_rate_limit(&r.path.value, &r.auth, subject.as_deref());
            }
        }
        filled = o;
        &filled
    } else {
        old
    };
    let mut d = Differ { old, new, changes: Vec::new() };
    d.routes();
    d.catalogues();
    d.types();
    let mut unused = Vec::new();
    for accept in &new.breaking_ok {
        let mut used = false;
        for c in
            d.changes.iter_mut().filter(|c| c.rule == accept.rule.value && matches_target(&accept.target, &c.target))
        {
            c.accepted = Some(accept.reason.clone());
            used = true;
        }
        if !used {
            unused.push(format!("{} {}", accept.rule.value, accept.target));
        }
    }
    let changes = d.changes;
    let bump = if changes.iter().any(|c| c.level() == Breaking) {
        Bump::Major
    } else if changes.iter().any(|c| ADDITIONS.contains(&c.rule)) {
        Bump::Minor
    } else {
        Bump::Patch
    };
    Report { changes, unused_accepts: unused, bump, versions: (old.api.version.clone(), new.api.version.clone()) }
}

struct Differ<'s> {
    old: &'s Spec,
    new: &'s Spec,
    changes: Vec<Change>,
}

/// Which way a type travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Request,
    Response,
}

impl Differ<'_> {
    fn push(&mut self, rule: &'static str, target: impl Into<String>, wire: Level, source: Level, message: String) {
        debug_assert!(RULES.contains(&rule), "unlisted rule {rule}");
        self.changes.push(Change { rule, target: target.into(), wire, source, message, accepted: None });
    }

    fn routes(&mut self) {
        let (old, new) = (self.old, self.new);
        let shape = |r: &Route| format!("{} {}", r.method.as_str(), path_shape(&r.path.value));
        let new_by_id: BTreeMap<&str, &Route> = new.routes().map(|r| (r.id.value.as_str(), r)).collect();
        let old_by_id: BTreeMap<&str, &Route> = old.routes().map(|r| (r.id.value.as_str(), r)).collect();
        for o in old.routes() {
            let id = o.id.value.as_str();
            match new_by_id.get(id) {
                Some(n) => self.route(o, n),
                None => {
                    match new.routes().find(|n| shape(n) == shape(o) && !old_by_id.contains_key(n.id.value.as_str())) {
                        Some(n) => {
                            self.push(
                                "route.renamed",
                                id,
                                Info,
                                Breaking,
                                format!("`{id}` is now `{}`: same request, another method name", n.id.value),
                            );
                            self.route(o, n);
                        }
                        None => self.push("route.removed", id, Breaking, Breaking, format!("`{}` is gone", shape(o))),
                    }
                }
            }
        }
        for n in new.routes() {
            let id = n.id.value.as_str();
            let renamed = !old_by_id.contains_key(id)
                && old.routes().any(|o| shape(o) == shape(n) && !new_by_id.contains_key(o.id.value.as_str()));
            if !old_by_id.contains_key(id) && !renamed {
                self.push("route.added", id, Info, Info, format!("new route `{}`", shape(n)));
            }
        }
    }

    fn route(&mut self, o: &Route, n: &Route) {
        let (old, new) = (self.old, self.new);
        let id = n.id.value.as_str();
        if o.method != n.method || path_shape(&o.path.value) != path_shape(&n.path.value) {
            let (from, to) =
                (format!("{} {}", o.method.as_str(), o.path.value), format!("{} {}", n.method.as_str(), n.path.value));
            self.push("route.path_changed", id, Breaking, Warning, format!("`{from}` moved to `{to}`"));
        }
        let modes = |r: &Route| r.auth.iter().map(|a| a.value).collect::<BTreeSet<AuthKind>>();
        let (om, nm) = (modes(o), modes(n));
        for m in om.difference(&nm) {
            let m = m.as_str();
            self.push("route.auth_removed", id, Breaking, Breaking, format!("no longer takes `{m}` credentials"));
        }
        for m in nm.difference(&om) {
            let m = m.as_str();
            self.push("route.auth_added", id, Info, Info, format!("now also takes `{m}` credentials"));
        }
        let scopes = |r: &Route| r.scopes.iter().map(|s| s.value.clone()).collect::<BTreeSet<String>>();
        let (os, ns) = (scopes(o), scopes(n));
        for s in ns.difference(&os) {
            let message = format!("now needs the scope `{s}`: PATs minted without it stop working here");
            self.push("route.scope_added", id, Breaking, Info, message);
        }
        for s in os.difference(&ns) {
            self.push("route.scope_removed", id, Info, Info, format!("no longer needs the scope `{s}`"));
        }
        let rank = |spec: &Spec, role: &str| spec.roles.iter().position(|r| r.name == role);
        match (&o.min_role, &n.min_role) {
            (None, Some(r)) => {
                self.push("route.role_added", id, Breaking, Info, format!("now needs the role `{}`", r.value));
            }
            (Some(r), None) => {
                self.push("route.role_removed", id, Info, Info, format!("no longer needs the role `{}`", r.value));
            }
            (Some(a), Some(b)) if a.value != b.value => {
                let (ra, rb) = (rank(old, &a.value), rank(new, &b.value));
                let message = format!("needs `{}` instead of `{}`", b.value, a.value);
                if rb > ra {
                    self.push("route.role_raised", id, Breaking, Info, message);
                } else {
                    self.push("route.role_lowered", id, Info, Info, message);
                }
            }
            _ => {}
        }
        let plan_rank = |spec: &Spec, feature: &str| {
            spec.required_plan(feature).and_then(|p| spec.plans.iter().position(|q| q.name == p.name))
        };
        match (&o.feature, &n.feature) {
            (None, Some(f)) => {
                let message = format!("now gated by `{}`: cheaper plans get `feature_locked`", f.value);
                self.push("route.feature_added", id, Breaking, Info, message);
            }
            (Some(f), None) => {
                self.push("route.feature_removed", id, Info, Info, format!("no longer gated by `{}`", f.value));
            }
            (Some(a), Some(b)) => {
                let (ra, rb) = (plan_rank(old, &a.value), plan_rank(new, &b.value));
                let (pa, pb) = (plan_of(old, &a.value), plan_of(new, &b.value));
                if rb > ra {
                    let message = format!("its gate now needs `{pb}` (was `{pa}`)");
                    self.push("route.feature_dearer", id, Breaking, Info, message);
                } else if rb < ra {
                    let message = format!("its gate now needs only `{pb}` (was `{pa}`)");
                    self.push("route.feature_cheaper", id, Info, Info, message);
                }
            }
            (None, None) => {}
        }
        match (&o.idempotency, &n.idempotency) {
            (Some(i), None) => {
                let message =
                    format!("no longer deduplicates by {}: a retried write may apply twice", i.key.describe());
                self.push("route.idempotency_removed", id, Breaking, Info, message);
            }
            (None, Some(i)) if i.required => {
                let message = format!("now requires an idempotency key in {}", i.key.describe());
                self.push("route.idempotency_changed", id, Breaking, Info, message);
            }
            (None, Some(i)) => {
                self.push(
                    "route.idempotency_added",
                    id,
                    Info,
                    Info,
                    format!("now deduplicates by {}", i.key.describe()),
                );
            }
            // A key that moves, or becomes required, is not where old clients send it.
            (Some(a), Some(b)) if a.key != b.key || (b.required && !a.required) => {
                let required = if b.required { ", required" } else { "" };
                let message = format!("its key is now {}{required} (was {})", b.key.describe(), a.key.describe());
                self.push("route.idempotency_changed", id, Breaking, Info, message);
            }
            _ => {}
        }
        let statuses = |r: &Route| r.success.iter().map(|s| s.status).collect::<BTreeSet<u16>>();
        let (ost, nst) = (statuses(o), statuses(n));
        for s in ost.difference(&nst) {
            self.push("route.success_removed", id, Breaking, Breaking, format!("no longer answers {s}"));
        }
        for s in nst.difference(&ost) {
            let message = format!("may now answer {s}: callers that know only the old statuses see it as unexpected");
            self.push("route.success_added", id, Warning, Warning, message);
        }
        if o.rate_limit != n.rate_limit {
            let message = format!("counted per {} (was per {})", n.rate_limit.as_str(), o.rate_limit.as_str());
            self.push("route.rate_limit_changed", id, Warning, Info, message);
        }
        let body = |t: &Option<tenx_spec::Spanned<TypeRef>>| t.as_ref().map(|t| t.value.to_string());
        if body(&o.request) != body(&n.request) {
            let message = format!("request body {} (was {})", show(&body(&n.request)), show(&body(&o.request)));
            self.push("route.request_changed", id, Breaking, Breaking, message);
        }
        if body(&o.response) != body(&n.response) {
            let message = format!("answer {} (was {})", show(&body(&n.response)), show(&body(&o.response)));
            self.push("route.response_changed", id, Breaking, Breaking, message);
        }
        let codes = |spec: &Spec, r: &Route| {
            spec.route_errors(r).into_iter().map(|e| e.code.clone()).collect::<BTreeSet<String>>()
        };
        let (oc, nc) = (codes(old, o), codes(new, n));
        let added: Vec<&String> = nc.difference(&oc).collect();
        if !added.is_empty() {
            let message = format!("may now answer {}", list(&added));
            self.push("route.errors_added", id, Warning, Info, message);
        }
        let removed: Vec<&String> = oc.difference(&nc).collect();
        if !removed.is_empty() {
            self.push("route.errors_removed", id, Info, Info, format!("no longer answers {}", list(&removed)));
        }
        self.params(id, "path", &o.path_params, &n.path_params);
        self.params(id, "query", &o.query, &n.query);
    }

    fn params(&mut self, id: &str, kind: &str, old: &[Field], new: &[Field]) {
        for n in new {
            let target = format!("{id}.{}", n.name);
            match old.iter().find(|o| o.name == n.name) {
                None if kind == "path" => {}
                None if n.optional => {
                    let message = format!("new optional {kind} parameter `{}`", n.name);
                    self.push("route.param_added", target, Info, Warning, message);
                }
                None => {
                    let message = format!("new required {kind} parameter `{}`", n.name);
                    self.push("route.param_added", target, Breaking, Breaking, message);
                }
                Some(o) => {
                    if o.optional && !n.optional {
                        let message = format!("{kind} parameter `{}` is now required", n.name);
                        self.push("route.param_required", target.clone(), Breaking, Breaking, message);
                    }
                    let (ot, nt) = (self.old.wire_type(&o.ty.value), self.new.wire_type(&n.ty.value));
                    if ot != nt || tightened(self.old, o, self.new, n) {
                        let message = format!("{kind} parameter `{}` accepts less than before", n.name);
                        self.push("route.param_changed", target, Breaking, Info, message);
                    }
                }
            }
        }
        for o in old.iter().filter(|o| kind == "query" && !new.iter().any(|n| n.name == o.name)) {
            let message = format!("{kind} parameter `{}` is gone (the server ignores it now)", o.name);
            self.push("route.param_removed", format!("{id}.{}", o.name), Warning, Breaking, message);
        }
    }

    fn catalogues(&mut self) {
        let (old, new) = (self.old, self.new);
        for m in &old.auth_modes {
            match new.auth_mode(m.kind) {
                None => {
                    let message = format!("the `{}` auth mode is gone", m.kind.as_str());
                    self.push("auth.mode_removed", m.kind.as_str(), Breaking, Breaking, message);
                }
                Some(n) => {
                    for t in m.transports.iter().filter(|t| !n.transports.contains(t)) {
                        let message = format!("`{}` credentials are no longer accepted in {t:?}", m.kind.as_str());
                        self.push("auth.transport_removed", m.kind.as_str(), Breaking, Info, message);
                    }
                }
            }
        }
        for m in new.auth_modes.iter().filter(|m| old.auth_mode(m.kind).is_none()) {
            let message = format!("new auth mode `{}`", m.kind.as_str());
            self.push("auth.mode_added", m.kind.as_str(), Info, Info, message);
        }
        let names = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<BTreeSet<String>>();
        let (os, ns) = (
            names(old.scopes.iter().map(|s| s.name.as_str()).collect()),
            names(new.scopes.iter().map(|s| s.name.as_str()).collect()),
        );
        for s in os.difference(&ns) {
            let message = format!("the scope `{s}` is gone: PATs holding it lose what it granted");
            self.push("scope.removed", s.clone(), Breaking, Info, message);
        }
        for s in ns.difference(&os) {
            self.push("scope.added", s.clone(), Info, Info, format!("new scope `{s}`"));
        }
        for r in old.roles.iter().filter(|r| new.role(&r.name).is_none()) {
            self.push("role.removed", r.name.clone(), Breaking, Breaking, format!("the role `{}` is gone", r.name));
        }
        for r in new.roles.iter().filter(|r| old.role(&r.name).is_none()) {
            self.push("role.added", r.name.clone(), Info, Info, format!("new role `{}`", r.name));
        }
        for p in &old.plans {
            let Some(n) = new.plans.iter().find(|q| q.name == p.name) else {
                self.push("plan.removed", p.name.clone(), Breaking, Info, format!("the plan `{}` is gone", p.name));
                continue;
            };
            let limits = [
                ("requests per minute", Some(p.requests_per_minute), Some(n.requests_per_minute)),
                ("writes per day", p.writes_per_day, n.writes_per_day),
            ];
            for (what, a, b) in limits {
                // No daily limit is the most a plan can give.
                let (a, b) = (a.unwrap_or(u32::MAX), b.unwrap_or(u32::MAX));
                if b < a {
                    let message = format!("{what} of `{}` lowered from {} to {b}", p.name, show_limit(a));
                    self.push("plan.limit_lowered", p.name.clone(), Breaking, Info, message);
                } else if b > a {
                    let message = format!("{what} of `{}` raised from {a} to {}", p.name, show_limit(b));
                    self.push("plan.limit_raised", p.name.clone(), Info, Info, message);
                }
            }
            for f in p.features.iter().filter(|f| !n.features.iter().any(|g| g.value == f.value)) {
                let message = format!("`{}` no longer includes `{}`", p.name, f.value);
                self.push("plan.feature_removed", p.name.clone(), Breaking, Info, message);
            }
        }
        for p in new.plans.iter().filter(|p| !old.plans.iter().any(|q| q.name == p.name)) {
            self.push("plan.added", p.name.clone(), Info, Info, format!("new plan `{}`", p.name));
        }
        let limits =
            [("user", &old.rate_limits.user, &new.rate_limits.user), ("ip", &old.rate_limits.ip, &new.rate_limits.ip)];
        for (key, a, b) in limits {
            let (a, b) = (a.as_ref().map(|l| l.requests_per_minute), b.as_ref().map(|l| l.requests_per_minute));
            let (a, b) = (a.unwrap_or(u32::MAX), b.unwrap_or(u32::MAX));
            let message = format!("requests per minute per {key}: {} (was {})", show_limit(b), show_limit(a));
            if b < a {
                self.push("limit.lowered", key, Breaking, Info, message);
            } else if b > a {
                self.push("limit.raised", key, Info, Info, message);
            }
        }
        for e in &old.errors {
            let Some(n) = new.error(&e.code) else {
                let message = format!("`{}` is gone from the catalogue (clients now see it as unknown)", e.code);
                self.push("error.removed", e.code.clone(), Warning, Breaking, message);
                continue;
            };
            if n.status.value != e.status.value {
                let message = format!("`{}` is now a {} (was {})", e.code, n.status.value, e.status.value);
                self.push("error.status_changed", e.code.clone(), Breaking, Info, message);
            }
            if n.retry != e.retry {
                let message = format!("`{}` retries `{}` (was `{}`)", e.code, n.retry.as_str(), e.retry.as_str());
                self.push("error.retry_changed", e.code.clone(), Warning, Info, message);
            }
        }
        for e in new.errors.iter().filter(|e| old.error(&e.code).is_none()) {
            let message =
                format!("new code `{}` ({}): a match on every `ErrorCode` needs an arm", e.code, e.status.value);
            self.push("error.added", e.code.clone(), Info, Warning, message);
        }
        let (a, b) = (&old.retry, &new.retry);
        let policy = |r: &tenx_spec::RetryPolicy| {
            format!(
                "{:?} {:?} {:?} {:?} jitter {} {} {} {}",
                r.after_header_statuses,
                r.backoff_statuses,
                r.never_statuses,
                r.backoff_seconds,
                r.jitter,
                r.max_attempts.value,
                r.max_retry_after_seconds,
                r.retry_transport_errors
            )
        };
        if policy(a) != policy(b) {
            let message = "the retry policy changed: clients retry differently".to_owned();
            self.push("retry.policy_changed", "retry", Warning, Info, message);
        }
    }

    fn types(&mut self) {
        let (old, new) = (self.old, self.new);
        let (old_dirs, new_dirs) = (directions(old), directions(new));
        for t in &old.types {
            let Some(n) = new.type_def(&t.name) else {
                if old_dirs.contains_key(t.name.as_str()) {
                    let message = format!("the type `{}` is gone", t.name);
                    self.push("type.removed", t.name.clone(), Info, Breaking, message);
                }
                continue;
            };
            // A type used both ways gets the worse reading of each change.
            let dirs: BTreeSet<Direction> = old_dirs
                .get(t.name.as_str())
                .into_iter()
                .chain(new_dirs.get(t.name.as_str()))
                .flatten()
                .copied()
                .collect();
            match (&t.kind, &n.kind) {
                (TypeKind::Object(of), TypeKind::Object(nf)) => self.fields(&t.name, of, nf, &dirs),
                (TypeKind::Enum(ov), TypeKind::Enum(nv)) => {
                    for v in nv.iter().filter(|v| !ov.iter().any(|o| o.name == v.name)) {
                        let wire = if dirs.contains(&Direction::Response) { Warning } else { Info };
                        let message = format!("`{}` has a new value `{}`", t.name, v.name);
                        self.push("enum.value_added", format!("{}.{}", t.name, v.name), wire, Warning, message);
                    }
                    for v in ov.iter().filter(|v| !nv.iter().any(|n| n.name == v.name)) {
                        let wire = if dirs.contains(&Direction::Request) { Breaking } else { Info };
                        let message = format!("`{}` no longer has the value `{}`", t.name, v.name);
                        self.push("enum.value_removed", format!("{}.{}", t.name, v.name), wire, Breaking, message);
                    }
                }
                (TypeKind::Json, TypeKind::Json) => {}
                (TypeKind::Scalar(a), TypeKind::Scalar(b)) => {
                    if a.base.value != b.base.value {
                        let message = format!("`{}` is now a `{}`", t.name, b.base.value);
                        self.push("type.kind_changed", t.name.clone(), Breaking, Breaking, message);
                    } else if dirs.contains(&Direction::Request)
                        && constraints_tightened(&a.constraints, &b.constraints)
                    {
                        let message = format!("`{}` accepts less than before", t.name);
                        self.push("field.tightened", t.name.clone(), Breaking, Info, message);
                    }
                }
                _ => {
                    let message = format!("`{}` changed its kind", t.name);
                    self.push("type.kind_changed", t.name.clone(), Breaking, Breaking, message);
                }
            }
        }
        for t in new.types.iter().filter(|t| old.type_def(&t.name).is_none()) {
            self.push("type.added", t.name.clone(), Info, Info, format!("new type `{}`", t.name));
        }
    }

    fn fields(&mut self, ty: &str, old: &[Field], new: &[Field], dirs: &BTreeSet<Direction>) {
        let request = dirs.contains(&Direction::Request);
        let response = dirs.contains(&Direction::Response);
        let worst = |req: Level, resp: Level| match (request, response) {
            (true, true) => req.max(resp),
            (true, false) => req,
            (false, true) => resp,
            (false, false) => Info,
        };
        for n in new {
            let target = format!("{ty}.{}", n.name);
            match old.iter().find(|o| o.name == n.name) {
                None => {
                    let required = !n.optional;
                    let wire = worst(if required { Breaking } else { Info }, Info);
                    // A new struct field breaks code that builds the struct with a literal.
                    let source = if required && request { Breaking } else { Warning };
                    let how = if required { "required" } else { "optional" };
                    self.push("field.added", target, wire, source, format!("new {how} field `{}`", n.name));
                }
                Some(o) => {
                    let (ot, nt) = (self.old.wire_type(&o.ty.value), self.new.wire_type(&n.ty.value));
                    if o.ty.value != n.ty.value && ot != nt {
                        let message = format!("`{}` is now a `{}` (was `{}`)", n.name, n.ty.value, o.ty.value);
                        self.push("field.type_changed", target, Breaking, Breaking, message);
                        continue;
                    }
                    let (was, now) = (o.optional || o.nullable, n.optional || n.nullable);
                    if was && !now {
                        let message = format!("`{}` is now required", n.name);
                        self.push("field.required", target.clone(), worst(Breaking, Info), Breaking, message);
                    } else if !was && now {
                        let message = format!("`{}` may now be absent", n.name);
                        self.push("field.optional", target.clone(), worst(Info, Breaking), Breaking, message);
                    }
                    if request && tightened(self.old, o, self.new, n) {
                        let message = format!("`{}` accepts less than before", n.name);
                        self.push("field.tightened", target, Breaking, Info, message);
                    } else if o.constraints != n.constraints && !tightened(self.old, o, self.new, n) {
                        let message = format!("`{}` accepts more than before", n.name);
                        self.push("field.loosened", target, Info, Info, message);
                    }
                }
            }
        }
        for o in old.iter().filter(|o| !new.iter().any(|n| n.name == o.name)) {
            let message = format!("field `{}` is gone", o.name);
            self.push("field.removed", format!("{ty}.{}", o.name), worst(Warning, Breaking), Breaking, message);
        }
    }
}

/// Which named types each direction reaches: request bodies, path and query parameters
/// on one side; answers and error details on the other.
fn directions(spec: &Spec) -> BTreeMap<&str, BTreeSet<Direction>> {
    let mut out: BTreeMap<&str, BTreeSet<Direction>> = BTreeMap::new();
    let mut roots: Vec<(&str, Direction)> = Vec::new();
    for r in spec.routes() {
        let inputs =
            r.request.iter().map(|t| &t.value).chain(r.query.iter().chain(&r.path_params).map(|f| &f.ty.value));
        roots.extend(inputs.filter_map(TypeRef::named).map(|n| (n, Direction::Request)));
        roots.extend(r.response.iter().filter_map(|t| t.value.named()).map(|n| (n, Direction::Response)));
    }
    roots
        .extend(spec.errors.iter().filter_map(|e| e.details.as_ref()).map(|d| (d.value.as_str(), Direction::Response)));
    while let Some((name, dir)) = roots.pop() {
        let Some(def) = spec.type_def(name) else { continue };
        if !out.entry(def.name.as_str()).or_default().insert(dir) {
            continue;
        }
        if let TypeKind::Object(fields) = &def.kind {
            roots.extend(fields.iter().filter_map(|f| f.ty.value.named()).map(|n| (n, dir)));
        }
    }
    out
}

/// Whether a field (with its scalar type's checks) accepts less in `new` than in `old`.
fn tightened(old_spec: &Spec, old: &Field, new_spec: &Spec, new: &Field) -> bool {
    constraints_tightened(&old_spec.field_rules(old), &new_spec.field_rules(new))
}

fn constraints_tightened(a: &Constraints, b: &Constraints) -> bool {
    let pattern = |c: &Constraints| c.pattern.as_ref().map(|p| p.value.clone());
    let more = |a: Option<f64>, b: Option<f64>, higher_is_tighter: bool| match (a, b) {
        (None, Some(_)) => true,
        (Some(x), Some(y)) => {
            if higher_is_tighter {
                y > x
            } else {
                y < x
            }
        }
        _ => false,
    };
    let n = |v: Option<u64>| v.map(|v| v as f64);
    (pattern(b).is_some() && pattern(a) != pattern(b))
        || (b.format.is_some() && a.format != b.format)
        || (b.catalogue.is_some() && a.catalogue.is_none())
        || more(n(a.min_length), n(b.min_length), true)
        || more(n(a.max_length), n(b.max_length), false)
        || more(a.minimum, b.minimum, true)
        || more(a.maximum, b.maximum, false)
        || more(n(a.max_items), n(b.max_items), false)
}

fn plan_of(spec: &Spec, feature: &str) -> String {
    spec.required_plan(feature).map_or_else(|| "no plan".to_owned(), |p| p.name.clone())
}

/// A path with its placeholders' names erased: renaming `{id}` is not a move.
fn path_shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            c => out.push(c),
        }
    }
    out
}

fn show(body: &Option<String>) -> String {
    body.as_ref().map_or_else(|| "none".to_owned(), |b| format!("`{b}`"))
}

fn show_limit(n: u32) -> String {
    if n == u32::MAX { "unlimited".to_owned() } else { n.to_string() }
}

fn list(codes: &[&String]) -> String {
    codes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

/// The report as a terminal table, most severe first, then the verdict.
pub fn render_table(report: &Report) -> String {
    let mut rows: Vec<&Change> = report.changes.iter().collect();
    rows.sort_by(|a, b| b.level().cmp(&a.level()).then(a.rule.cmp(b.rule)).then(a.target.cmp(&b.target)));
    let width = |f: &dyn Fn(&Change) -> usize, min: usize| rows.iter().map(|c| f(c)).max().unwrap_or(0).max(min);
    let (wr, wt) = (width(&|c| c.rule.len(), 4), width(&|c| c.target.len(), 6));
    let mut out = format!("{:<8} {:<8} {:<wr$} {:<wt$} what\n", "wire", "source", "rule", "target");
    for c in &rows {
        let accepted = c.accepted.as_ref().map(|r| format!(" [accepted: {r}]")).unwrap_or_default();
        out.push_str(&format!(
            "{:<8} {:<8} {:<wr$} {:<wt$} {}{accepted}\n",
            c.wire.to_string(),
            c.source.to_string(),
            c.rule,
            c.target,
            c.message
        ));
    }
    let mut by_rule: BTreeMap<&str, (usize, Level)> = BTreeMap::new();
    for c in &report.changes {
        let slot = by_rule.entry(c.rule).or_insert((0, Info));
        *slot = (slot.0 + 1, slot.1.max(c.level()));
    }
    if !by_rule.is_empty() {
        out.push_str("\nBy rule:\n");
        for (rule, (n, level)) in &by_rule {
            out.push_str(&format!("  {rule:<28} {n:>4}  {level}\n"));
        }
    }
    let count = |l: Level| report.changes.iter().filter(|c| c.level() == l).count();
    out.push_str(&format!(
        "\n{} change(s): {} breaking, {} warning, {} info. Verdict: {} (api.version {:?} -> {:?}).\n",
        report.changes.len(),
        count(Breaking),
        count(Warning),
        count(Info),
        report.bump,
        report.versions.0,
        report.versions.1,
    ));
    for u in &report.unused_accepts {
        out.push_str(&format!("note: `breaking_ok` entry `{u}` matches no change\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_match_exactly_or_by_pattern() {
        assert!(matches_target("get_link.slug", "get_link.slug"));
        assert!(!matches_target("get_link.slug", "get_link.slugs"));
        assert!(matches_target("*.handle", "get_link.handle"));
        assert!(!matches_target("*.handle", "get_link.handles"));
        assert!(matches_target("pat_*", "pat_get_link"));
        assert!(matches_target("a*b*c", "a-x-b-y-c"));
        assert!(!matches_target("a*b*c", "a-x-c"));
    }

    #[test]
    fn versions_read_their_major() {
        assert_eq!((major("2"), major("2.1.0"), major("v3"), major("x")), (Some(2), Some(2), Some(3), None));
    }
}
