//! Facts about a route written out for people, the same in rustdoc and in the OpenAPI
//! descriptions.

use tenx_spec::{Idempotency, IdempotencyKey, Route, Spec};

/// One line each: auth modes, required scopes, minimum role, plan feature.
pub(crate) fn access_lines(spec: &Spec, route: &Route) -> Vec<String> {
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
    if let Some(feature) = &route.feature {
        let plan = spec.required_plan(&feature.value).map_or("?", |p| p.name.as_str());
        lines.push(format!("- Plan feature: `{}` (from `{plan}`)", feature.value));
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
        IdempotencyKey::Field(f) => format!("the body field `{f}`"),
        IdempotencyKey::Header(h) => format!("the `{h}` header"),
    };
    format!("- Idempotent by {key}{required}: a repeat within {hours} h {repeat}")
}
