//! Facts about a route written out for people, the same in the client's and the
//! server's rustdoc and in the OpenAPI descriptions.

use tenx_spec::{Idempotency, IdempotencyCarrier};

use crate::lower::RouteModel;

/// Who reads a route's rustdoc: what each side does about it differs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// A client method's caller.
    Client,
    /// A server trait method's implementer.
    Server,
}

/// A route's rustdoc: summary, method and path, description, access, answers, errors,
/// what was inferred and where it comes from; the same for client and server, but for
/// what only one side does.
pub(crate) fn route_doc(lowered: &RouteModel<'_>, reader: Reader) -> String {
    let route = lowered.route;
    let mut lines =
        vec![route.summary.clone(), String::new(), format!("`{} {}`", route.method.as_str(), route.path.value)];
    if !route.description.is_empty() {
        lines.push(String::new());
        lines.push(route.description.clone());
    }
    lines.push(String::new());
    lines.extend(access_lines(lowered));
    let success: Vec<String> = route.success.iter().map(|s| format!("{} {}", s.status, s.outcome)).collect();
    lines.push(format!("- Success: {}", success.join(", ")));
    if let Some(idem) = &route.idempotency {
        lines.push(idempotency_line(idem));
        lines.push(match reader {
            Reader::Client => {
                "- The client makes the key (a UUID v4) when the call has none, and sends the same key on every attempt"
            }
            Reader::Server => "- The router answers a repeat itself: the method runs once per key",
        }
        .to_owned());
    }
    let errors: Vec<String> = lowered.errors.iter().map(|e| format!("`{}`", e.code)).collect();
    lines.push(format!("- Errors: {}", errors.join(", ")));
    if !route.inferred.is_empty() {
        let inferred: Vec<&str> = route.inferred.iter().map(|i| i.value.as_str()).collect();
        lines.push(format!("- Inferred (not stated by the docs): {}", inferred.join(", ")));
    }
    lines.push(format!("- Source: {}", route.source));
    lines.join("\n")
}

/// One line each: auth modes, required scopes, minimum role, plan feature.
pub(crate) fn access_lines(lowered: &RouteModel<'_>) -> Vec<String> {
    let route = lowered.route;
    let mut lines = Vec::new();
    let auth: Vec<&str> = route.auth.iter().map(|a| a.value.as_str()).collect();
    lines.push(format!("- Auth: `{}`", auth.join("` or `")));
    if !route.scopes.is_empty() {
        let scopes: Vec<String> = route.scopes.iter().map(|s| format!("`{}`", s.value)).collect();
        lines.push(format!("- Required PAT scopes: {}", scopes.join(", ")));
    }
    if let Some(role) = &route.min_role {
        lines.push(format!("- Minimum role: `{}`", role.value));
    }
    if let Some(gate) = lowered.gate {
        lines.push(format!("- Plan feature: `{}` (from `{}`)", gate.feature, gate.plan));
    }
    lines
}

/// How a route deduplicates, in one line: where its key travels, whether it is required,
/// how a repeat answers, and how long a key is remembered.
pub(crate) fn idempotency_line(i: &Idempotency) -> String {
    let required = if i.required { " (required)" } else { "" };
    let repeat = match (i.repeat_status, &i.deduped_field) {
        (Some(status), Some(field)) => format!("answers {status} with `{field}: true`"),
        (Some(status), None) => format!("answers {status} with the first answer's body"),
        (None, Some(field)) => format!("answers as the first did, with `{field}: true`"),
        (None, None) => "answers as the first did".to_owned(),
    };
    let hours = i.retention_seconds / 3600;
    let key = match &i.key {
        IdempotencyCarrier::Field(f) => format!("the body field `{f}`"),
        IdempotencyCarrier::Header(h) => format!("the `{h}` header"),
    };
    format!("- Idempotent by {key}{required}: a repeat within {hours} h {repeat}")
}
