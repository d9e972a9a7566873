//! `generated/docs/*.md`: the endpoint coverage map, the error reference, the auth guide
//! and the plans page, rendered from `templates/docs/` with a context built here from the
//! spec. Templates only lay out; every fact is computed in this module.

use minijinja::Value;
use minijinja::value::Serde;
use serde::Serialize;
use tenx_spec::{AuthKind, RoleLevel, Spec, Transport, TypeKind};

use crate::lower::{Model, RouteModel};
use crate::{CodegenError, GeneratedFile, Templates, sources};

const DIR: &str = "generated/docs";

#[derive(Serialize)]
struct RouteView {
    id: String,
    family: String,
    method: &'static str,
    path: String,
    auth: Vec<&'static str>,
    scopes: Vec<String>,
    min_role: Option<String>,
    feature: Option<String>,
    required_plan: Option<String>,
    idempotency: Option<String>,
    success: Vec<String>,
    errors: Vec<String>,
    inferred: Vec<String>,
    source: String,
}

fn route_view(lowered: &RouteModel<'_>) -> RouteView {
    let r = lowered.route;
    RouteView {
        id: r.id.value.clone(),
        family: r.family.clone(),
        method: r.method.as_str(),
        path: r.path.value.clone(),
        auth: r.auth.iter().map(|a| a.value.as_str()).collect(),
        scopes: r.scopes.iter().map(|s| s.value.clone()).collect(),
        min_role: r.min_role.as_ref().map(|m| m.value.clone()),
        feature: lowered.gate.map(|g| g.feature.to_owned()),
        required_plan: lowered.gate.map(|g| g.plan.to_owned()),
        idempotency: r.idempotency.as_ref().map(|i| {
            let hours = i.retention_seconds / 3600;
            format!("{}, kept {hours} h", i.key.describe())
        }),
        success: r.success.iter().map(|s| format!("{} {}", s.status, s.outcome)).collect(),
        errors: lowered.errors.iter().map(|e| e.code.clone()).collect(),
        inferred: r.inferred.iter().map(|i| i.value.clone()).collect(),
        source: r.source.clone(),
    }
}

fn transport_text(t: &Transport) -> String {
    match t {
        Transport::Header { name, scheme: Some(scheme) } => format!("`{name}: {scheme} <token>`"),
        Transport::Header { name, scheme: None } => format!("`{name}: <token>`"),
        Transport::Cookie { name } => format!("cookie `{name}`"),
    }
}

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let header = templates.header(&sources(spec, spec.source_locs()))?;
    let routes: Vec<RouteView> = model.routes.iter().map(route_view).collect();
    let api = minijinja::context! {
        title => spec.api.title.clone(),
        version => spec.api.version.clone(),
        base_url => spec.api.base_url.clone(),
        subject => spec.api.subject(),
    };
    let families: Vec<Value> = spec
        .families
        .iter()
        .map(|f| {
            let rs: Vec<&RouteView> = routes.iter().filter(|r| r.family == f.name).collect();
            minijinja::context! { name => f.name.clone(), description => f.description.clone(), routes => Value::from(Serde(&rs)) }
        })
        .collect();
    let routes_value = Value::from(Serde(&routes));

    let endpoints = templates.render(
        "docs/endpoints.md.j2",
        minijinja::context! { header => header.clone(), api => api.clone(), families, routes => routes_value },
    )?;
    let errors = templates.render("docs/errors.md.j2", errors_context(spec, &header, api.clone()))?;
    let auth = templates.render("docs/auth.md.j2", auth_context(model, &header, api.clone()))?;
    let plans = templates.render("docs/plans.md.j2", plans_context(model, &header, api))?;
    Ok(vec![
        GeneratedFile { path: format!("{DIR}/endpoints.md"), contents: endpoints },
        GeneratedFile { path: format!("{DIR}/errors.md"), contents: errors },
        GeneratedFile { path: format!("{DIR}/auth.md"), contents: auth },
        GeneratedFile { path: format!("{DIR}/plans.md"), contents: plans },
    ])
}

fn errors_context(spec: &Spec, header: &str, api: Value) -> Value {
    let errors: Vec<Value> = spec
        .errors
        .iter()
        .map(|e| {
            let details = e.details.as_ref().and_then(|d| spec.type_def(&d.value)).map(|t| {
                let fields: Vec<Value> = match &t.kind {
                    TypeKind::Object(fields) => fields
                        .iter()
                        .map(|f| minijinja::context! { name => f.name.clone(), type => f.ty.value.to_string(), optional => f.optional, description => f.description.clone() })
                        .collect(),
                    _ => Vec::new(),
                };
                minijinja::context! { name => t.name.clone(), fields }
            });
            minijinja::context! {
                code => e.code.clone(),
                status => e.status.value,
                category => e.category.as_str(),
                retry => e.retry.as_str(),
                meaning => e.meaning.clone(),
                fix => e.fix.clone(),
                details,
                inferred => e.inferred.iter().map(|i| i.value.clone()).collect::<Vec<_>>(),
                source => e.source.clone(),
            }
        })
        .collect();
    let r = &spec.retry;
    let retry = minijinja::context! {
        after_header_statuses => r.after_header_statuses.clone(),
        backoff_statuses => r.backoff_statuses.clone(),
        never_statuses => r.never_statuses.clone(),
        schedule => r.backoff_seconds.iter().map(f64::to_string).collect::<Vec<_>>(),
        jitter => (r.jitter > 0.0).then(|| format!("{}", (r.jitter * 100.0).round())),
        max_attempts => r.max_attempts.value,
        max_wait => r.max_retry_after_seconds,
        header => r.retry_after_header.clone(),
        transport => r.retry_transport_errors,
        safe_methods => r.safe_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
    };
    minijinja::context! { header => header.to_owned(), api, errors, retry }
}

fn auth_context(model: &Model<'_>, header: &str, api: Value) -> Value {
    let spec = model.spec;
    let count = |kind: AuthKind| model.routes.iter().filter(|r| r.kinds.contains(&kind)).count();
    let modes: Vec<Value> = spec
        .auth_modes
        .iter()
        .map(|m| {
            let e = &m.errors;
            let errors: Vec<Value> = [
                ("missing", &e.missing),
                ("malformed, unknown or revoked", &e.invalid),
                ("expired", &e.expired),
                ("used on another resource than its own", &e.wrong_binding),
            ]
            .into_iter()
            .filter_map(|(when, code)| code.as_ref().map(|c| minijinja::context! { when, code => c.value.clone() }))
            .collect();
            let passed: Vec<String> = if m.transports.is_empty() {
                vec!["nothing".to_owned()]
            } else {
                m.transports.iter().map(transport_text).collect()
            };
            minijinja::context! {
                kind => m.kind.as_str(),
                description => m.description.clone(),
                passed,
                routes => count(m.kind),
                token_format => m.token_format.as_ref().map(|f| f.display.clone()),
                bound_to => m.bound_to.clone(),
                route_prefix => m.route_prefix.clone(),
                errors,
            }
        })
        .collect();
    let scopes: Vec<Value> = spec
        .scopes
        .iter()
        .map(|s| {
            let routes: Vec<String> = spec
                .routes()
                .filter(|r| {
                    !r.scopes.is_empty() && r.scopes.iter().all(|req| spec.scope_rule.satisfies(&s.name, &req.value))
                })
                .map(|r| r.id.value.clone())
                .collect();
            minijinja::context! { name => s.name.clone(), description => s.description.clone(), routes }
        })
        .collect();
    let roles: Vec<Value> = spec
        .roles
        .iter()
        .map(|role| {
            let routes: Vec<String> = spec
                .routes()
                .filter(|r| r.min_role.as_ref().is_some_and(|m| m.value == role.name))
                .map(|r| r.id.value.clone())
                .collect();
            let level = match role.level {
                RoleLevel::Handle => spec.api.subject().unwrap_or("subject"),
                RoleLevel::Platform => "platform",
            };
            minijinja::context! { name => role.name.clone(), level, description => role.description.clone(), routes }
        })
        .collect();
    let handle_roles: Vec<String> =
        spec.roles.iter().filter(|r| r.level == RoleLevel::Handle).map(|r| format!("`{}`", r.name)).collect();
    minijinja::context! {
        header => header.to_owned(),
        api,
        modes,
        scopes,
        roles,
        handle_roles,
        scope_rule => spec.scope_rule.as_str(),
        jwt_routes => count(AuthKind::Jwt),
        pat_routes => count(AuthKind::Pat),
    }
}

/// The code and status the spec answers `situation` with, for prose that names it.
fn answer(spec: &Spec, situation: &str) -> Value {
    let code = spec.answers.all().into_iter().find(|(s, _, _)| *s == situation).and_then(|(_, code, _)| code);
    let status = code.and_then(|c| spec.error(&c.value)).map(|e| e.status.value);
    minijinja::context! { code => code.map(|c| c.value.clone()), status }
}

fn plans_context(model: &Model<'_>, header: &str, api: Value) -> Value {
    let spec = model.spec;
    let plans: Vec<Value> = spec
        .plans
        .iter()
        .map(|p| {
            minijinja::context! {
                name => p.name.clone(),
                title => p.title.clone(),
                rpm => p.requests_per_minute,
                writes => p.writes_per_day,
                features => p.features.iter().map(|f| f.value.clone()).collect::<Vec<_>>(),
            }
        })
        .collect();
    let features: Vec<Value> = spec
        .features
        .iter()
        .map(|f| {
            let routes: Vec<String> = spec
                .routes()
                .filter(|r| r.feature.as_ref().is_some_and(|g| g.value == f.name))
                .map(|r| r.id.value.clone())
                .collect();
            minijinja::context! {
                name => f.name.clone(),
                description => f.description.clone(),
                required_plan => spec.required_plan(&f.name).map(|p| p.name.clone()),
                routes,
            }
        })
        .collect();
    let quota = spec.write_quota.as_ref().map(|q| {
        minijinja::context! {
            methods => q.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            applies_to => q.applies_to.clone(),
            exempt => q.exempt.clone(),
            resets => q.resets.clone(),
            error => q.error.value.clone(),
        }
    });
    let limit = |key: &str, limit: &Option<tenx_spec::RateLimit>| {
        let routes = model.routes.iter().filter(|r| r.route.rate_limit.as_str() == key).count();
        limit
            .as_ref()
            .map(|l| minijinja::context! { key, rpm => l.requests_per_minute, inferred => l.inferred, routes })
    };
    let other_limits: Vec<Value> =
        [limit("user", &spec.rate_limits.user), limit("ip", &spec.rate_limits.ip)].into_iter().flatten().collect();
    let context_token = spec.context_token.as_ref().map(|c| {
        minijinja::context! {
            param => c.param.clone(),
            hours => c.ttl_seconds / 3600,
            error => c.error.value.clone(),
            inferred => c.inferred.iter().any(|k| k.value == "ttl_seconds"),
        }
    });
    minijinja::context! {
        header => header.to_owned(),
        api,
        plans,
        features,
        quota,
        other_limits,
        context_token,
        rate_limited => answer(spec, "rate_limited"),
        feature_locked => answer(spec, "feature_locked"),
    }
}
