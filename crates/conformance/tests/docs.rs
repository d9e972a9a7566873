//! The generated docs and OpenAPI document cover the spec: checked against the spec,
//! not a hand-kept list.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn spec() -> tenx_spec::Spec {
    tenx_spec::load_dir(&root().join("api-spec")).unwrap_or_else(|e| panic!("{e}"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_route_is_in_the_endpoint_map_with_its_method_and_path() {
    let spec = spec();
    let endpoints = read("generated/docs/endpoints.md");
    for route in spec.routes() {
        let row = format!("| `{}` | `{} {}` |", route.id.value, route.method.as_str(), route.path.value);
        assert!(endpoints.contains(&row), "endpoints.md lacks {row}");
    }
}

#[test]
fn every_error_code_is_in_the_error_reference_with_its_status() {
    let spec = spec();
    let errors = read("generated/docs/errors.md");
    for e in &spec.errors {
        assert!(errors.contains(&format!("## {}\n\n`{}`", e.code, e.status.value)), "errors.md lacks `{}`", e.code);
    }
    let schedule: Vec<String> = spec.retry.backoff_seconds.iter().map(|s| format!("{s} s")).collect();
    assert!(errors.contains(&schedule.join(", ")), "errors.md lacks the backoff schedule");
}

#[test]
fn every_scope_and_role_is_in_the_auth_guide() {
    let spec = spec();
    let auth = read("generated/docs/auth.md");
    for scope in &spec.scopes {
        assert!(auth.contains(&format!("| `{}` |", scope.name)), "auth.md lacks scope `{}`", scope.name);
    }
    for role in &spec.roles {
        assert!(auth.contains(&format!("| `{}` |", role.name)), "auth.md lacks role `{}`", role.name);
    }
    // A wildcard grant lists the routes its narrower scopes open.
    let webhooks = auth.lines().find(|l| l.starts_with("| `webhooks.*` |")).unwrap_or_default();
    assert!(webhooks.contains("`pat_create_webhook`"), "{webhooks}");
}

#[test]
fn every_feature_gate_lists_the_routes_it_locks() {
    let spec = spec();
    let plans = read("generated/docs/plans.md");
    for route in spec.routes() {
        if let Some(feature) = &route.feature {
            let section = plans.split(&format!("### {}\n", feature.value)).nth(1).unwrap_or_default();
            let section = section.split("\n### ").next().unwrap_or_default();
            assert!(
                section.contains(&format!("- `{}`", route.id.value)),
                "plans.md: `{}` not under `{}`",
                route.id.value,
                feature.value
            );
        }
    }
}

#[test]
fn every_route_is_an_openapi_operation_with_its_security_and_errors() {
    let spec = spec();
    let doc: serde_json::Value = serde_json::from_str(&read("generated/openapi.json")).unwrap_or_default();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut operations = 0;
    for route in spec.routes() {
        let op = &doc["paths"][&route.path.value][route.method.as_str().to_lowercase()];
        assert_eq!(op["operationId"], route.id.value.as_str(), "{} {}", route.method.as_str(), route.path.value);
        operations += 1;
        for e in spec.route_errors(route) {
            // Error answers are shared components, referenced by each operation.
            let reference = op["responses"][e.status.value.to_string()]["$ref"].as_str().unwrap_or_default();
            let answer = &doc["components"]["responses"][reference.trim_start_matches("#/components/responses/")];
            let example = &answer["content"]["application/json"]["examples"][&e.code];
            assert!(example.is_object(), "`{}` lacks the `{}` example", route.id.value, e.code);
            if e.status.value == 429 {
                assert!(answer["headers"]["Retry-After"].is_object(), "`{}`: 429 without Retry-After", route.id.value);
            }
        }
        if !route.scopes.is_empty() {
            let scopes: Vec<&str> = route.scopes.iter().map(|s| s.value.as_str()).collect();
            assert_eq!(op["security"][0]["pat"], serde_json::json!(scopes), "{}", route.id.value);
        }
        if let Some(i) = &route.idempotency {
            assert_eq!(op["x-10x-idempotency"]["keyField"], i.key.name());
        }
    }
    assert_eq!(operations, spec.routes().count());
    for scheme in ["jwt", "pat", "visitor_cookie"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object(), "no `{scheme}` security scheme");
    }
}
