//! Synthetic specs of any size, for benchmarks: the shape of the 10x spec (auth modes,
//! scopes, roles, plans, an error catalogue, object types) with N routes spread over
//! families of 20, mixing JWT, PAT and public routes, path and query parameters, and
//! request and response bodies.

use std::fmt::Write as _;
use std::path::Path;

const HEADER: &str = r#"api:
  name: synthetic
  title: Synthetic API
  version: "1"
  base_url: https://api.example.com
  subject: handle
auth:
  scope_rule: prefix_wildcard
  modes:
    - kind: jwt
      passed_in: [{ header: Authorization, scheme: Bearer }]
      errors: { missing: missing_bearer_token, invalid: invalid_token, expired: token_expired }
    - kind: pat
      passed_in: [{ header: Authorization, scheme: Bearer }]
      token_format: { prefix: patv1_, separator: ".", display: "patv1_<tokenId>.<secret>" }
      bound_to: handle
      route_prefix: /v2/public/handles/{handle}/
      errors: { missing: missing_bearer_token, invalid: invalid_token, expired: token_expired, wrong_binding: insufficient_scope }
    - kind: none
scopes:
  - { name: things.read, description: Read things. }
  - { name: things.write, description: Write things. }
  - { name: things.*, description: Everything about things. }
roles:
  - { name: CREATOR, level: handle }
  - { name: OPERATOR, level: handle }
  - { name: OWNER, level: handle }
plans:
  - { name: FREE, title: Free, requests_per_minute: 60, writes_per_day: 2, features: [] }
  - { name: PRO, title: Pro, requests_per_minute: 300, writes_per_day: 10, features: [growth_tools] }
features:
  - { name: growth_tools, description: Automation. }
retry:
  after_header_statuses: [429]
  backoff_statuses: [500, 502, 503, 504]
  never_statuses: [400, 401, 403, 404, 409]
  backoff_seconds: [1, 2, 4, 8, 16]
  max_attempts: 6
  retry_after_header: Retry-After
  max_retry_after_seconds: 60
  retry_transport_errors: true
  safe_methods: [GET, HEAD, PUT, DELETE]
errors:
  - { code: missing_bearer_token, status: 401, category: authentication, retry: never, meaning: No token., fix: Send one. }
  - { code: invalid_token, status: 401, category: authentication, retry: never, meaning: Bad token., fix: Check it. }
  - { code: token_expired, status: 401, category: authentication, retry: never, meaning: Expired., fix: Log in. }
  - { code: insufficient_scope, status: 403, category: permission, retry: never, meaning: Scope., fix: Mint one. }
  - { code: insufficient_role, status: 403, category: permission, retry: never, meaning: Role., fix: Ask. }
  - { code: feature_locked, status: 403, category: permission, retry: never, meaning: Plan., fix: Upgrade., details: FeatureLockedDetails }
  - { code: validation_error, status: 400, category: invalid_request, retry: never, meaning: Invalid., fix: Fix it. }
  - { code: invalid_payload, status: 400, category: invalid_request, retry: never, meaning: Not JSON., fix: Send JSON. }
  - { code: not_found, status: 404, category: not_found, retry: never, meaning: Missing., fix: Check. }
  - { code: rate_limited, status: 429, category: rate_limit, retry: after_header, meaning: Slow down., fix: Wait. }
  - { code: internal_error, status: 500, category: server, retry: backoff, meaning: Oops., fix: Retry. }
answers:
  invalid_input: validation_error
  invalid_body: invalid_payload
  not_found: not_found
  subject_not_found: not_found
  insufficient_scope: insufficient_scope
  insufficient_role: insufficient_role
  feature_locked: feature_locked
  rate_limited: rate_limited
  internal: internal_error
types:
  FeatureLockedDetails:
    fields:
      feature: string
      requiredPlan: string
"#;

/// The text of a synthetic spec of `routes` routes.
pub(crate) fn spec(routes: usize) -> String {
    let mut out = String::from(HEADER);
    let families = routes.div_ceil(20);
    for f in 0..families {
        let _ = write!(
            out,
            "  Thing{f}:\n    description: Thing number {f}.\n    fields:\n      id: {{ type: string, description: Its id. }}\n      title: {{ type: string, optional: true, max_length: 200, description: A title. }}\n      tags: {{ type: \"[string]\", optional: true, description: Tags. }}\n      count: {{ type: integer, minimum: 0, description: A count. }}\n      url: {{ type: string, format: url, description: A link. }}\n"
        );
    }
    out.push_str("families:\n");
    for f in 0..families {
        let _ = write!(
            out,
            "  - name: family_{f}\n    description: Family {f}.\n    params:\n      handle: string\n      id: {{ type: string, pattern: \"^[a-z0-9_-]{{4,24}}$\", description: An id. }}\n    routes:\n"
        );
        for r in 0..20.min(routes - f * 20) {
            let (method, path, body) = match r % 4 {
                0 => ("GET", format!("/v2/handles/{{handle}}/family-{f}/things-{r}"), false),
                1 => ("PUT", format!("/v2/handles/{{handle}}/family-{f}/things-{r}/{{id}}"), true),
                2 => ("POST", format!("/v2/handles/{{handle}}/family-{f}/things-{r}"), true),
                _ => ("DELETE", format!("/v2/handles/{{handle}}/family-{f}/things-{r}/{{id}}"), false),
            };
            let _ = write!(
                out,
                "      - id: op_{f}_{r}\n        method: {method}\n        summary: Operation {r} of family {f}.\n        source: synthetic\n        response: Thing{f}\n"
            );
            match r % 3 {
                0 => {
                    let _ = write!(out, "        path: {path}\n        auth: jwt\n        min_role: CREATOR\n");
                }
                1 => {
                    let public = path.replacen("/v2/handles/", "/v2/public/handles/", 1);
                    let scope = if method == "GET" { "things.read" } else { "things.write" };
                    let _ = write!(
                        out,
                        "        path: {public}\n        auth: pat\n        scopes: [{scope}]\n        feature: growth_tools\n"
                    );
                }
                _ => {
                    let open = path.replacen("/v2/handles/{handle}/", "/v2/open/{handle}/", 1);
                    let _ = write!(out, "        path: {open}\n        auth: none\n");
                }
            }
            if body {
                let _ = writeln!(out, "        request: Thing{f}");
            }
            if method == "GET" {
                out.push_str(
                    "        query:\n          limit: { type: integer, optional: true, minimum: 1, maximum: 500 }\n",
                );
            }
        }
    }
    out
}

/// Writes a synthetic spec of `routes` routes to `dir/spec.yaml`.
pub(crate) fn write(dir: &Path, routes: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("error: cannot create `{}`: {e}", dir.display()))?;
    let path = dir.join("spec.yaml");
    std::fs::write(&path, spec(routes)).map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_specs_are_valid_and_sized() {
        for n in [1, 20, 45, 200] {
            let spec = tenx_spec::load_str("synthetic.yaml", &super::spec(n)).unwrap_or_else(|d| panic!("{d}"));
            assert_eq!(spec.routes().count(), n);
        }
    }
}
