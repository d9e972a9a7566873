//! Facts about a route written out for people, the same in rustdoc and in the OpenAPI
//! descriptions.

use tenx_spec::{Route, Spec};

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
