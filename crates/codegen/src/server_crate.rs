//! `generated/server`: one trait per route family (a missing handler is a compile
//! error), a router builder that mounts the families an app implements, and the spec's
//! facts as static data for `tenx-server-runtime`, which does every check.

use heck::{ToShoutySnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use tenx_spec::{
    AuthKind, Constraints, Family, Field, IdempotencyCarrier, RateLimitKey, RoleLevel, Route, Spec, StringFormat,
    Transport, TypeKind, TypeRef,
};

use crate::lower::{Model, Payload, RouteModel, rust_param_name};
use crate::rust::{self, Export, doc, ident};
use crate::templates::{CrateInfo, Dep};
use crate::{CodegenError, GeneratedFile, Templates, errors_crate, models_crate, route_macro_crate, sources};

const DIR: &str = "generated/server";

/// The crate's name: `<api>-server`, like its folder.
pub(crate) fn crate_name(spec: &Spec) -> String {
    format!("{}-server", spec.api.name)
}

/// The crate, as a dependency of another generated crate.
pub(crate) fn dep(spec: &Spec) -> Dep {
    Dep::Generated { name: crate_name(spec), dir: "server", features: Vec::new() }
}

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let header = templates.header(&sources(spec, spec.source_locs()))?;
    let name = crate_name(spec);
    let description = format!("Server traits and an auth-enforcing axum router for the {}.", spec.api.title);
    let readme = "Implement one trait per route family (`LinksApi`, `TokensApi`, …) and mount the \
                  families with `RouterBuilder`. Before a handler runs, the router checks credentials, \
                  PAT binding, scopes, role, plan feature, rate limit and quota, then parameters and \
                  body, and answers every failure in the error model.";
    let models_crate = ident(&models_crate::crate_name(spec).replace('-', "_"));
    let route_crate = ident(&route_macro_crate::crate_name(spec).replace('-', "_"));
    let errors_crate = ident(&errors_crate::crate_name(spec).replace('-', "_"));
    let mut modules = vec![("spec", Export::Module), ("models", Export::Glob), ("router", Export::Glob)];
    modules.extend(spec.families.iter().map(|f| (f.name.as_str(), Export::Glob)));
    let docs = format!(
        "{description}\n\nOne trait per family ({} families, {} routes); `RouterBuilder` mounts them. Routes of\n\
         unmounted families run their checks, then answer `not_implemented` (or a stub's answer:\n\
         `RouterBuilder::unmounted`); unknown paths and wrong methods answer in the error model.",
        spec.families.len(),
        spec.routes().count()
    );
    let info = CrateInfo {
        name,
        description: &description,
        readme,
        dependencies: vec![
            Dep::Workspace("tenx-server-runtime"),
            errors_crate::dep(spec),
            models_crate::dep(spec, "server"),
            route_macro_crate::dep(spec),
            Dep::Workspace("serde"),
            Dep::Workspace("serde_json"),
        ],
        proc_macro: false,
        features: Vec::new(),
    };
    let mut files = templates.crate_files(spec, DIR, &header, &info)?;
    files.extend([
        GeneratedFile { path: format!("{DIR}/src/lib.rs"), contents: rust::crate_root(&header, &docs, &modules)? },
        GeneratedFile {
            path: format!("{DIR}/src/models.rs"),
            contents: rust::file(
                "server",
                &header,
                quote! {
                    //! The request, response and parameter types, from the models crate; and the
                    //! runtime types handlers use, and the API's error codes they answer with.

                    pub use #models_crate::*;
                    pub use #route_crate::route;
                    pub use #errors_crate::ErrorCode;
                    pub use tenx_server_runtime::{AuthContext, Failure, JwtContext, PatContext, RequestContext, VisitorContext};
                },
            )?,
        },
        GeneratedFile { path: format!("{DIR}/src/spec.rs"), contents: rust::file("server", &header, spec_rs(model))? },
        GeneratedFile {
            path: format!("{DIR}/src/router.rs"),
            contents: rust::file("server", &header, router_rs(spec))?,
        },
    ]);
    for family in &spec.families {
        files.push(GeneratedFile {
            path: format!("{DIR}/src/{}.rs", family.name),
            contents: rust::file("server", &header, family_rs(model, family))?,
        });
    }
    Ok(files)
}

fn schema_ident(type_name: &str) -> proc_macro2::Ident {
    format_ident!("{}_SCHEMA", type_name.to_shouty_snake_case())
}

fn route_ident(route: &Route) -> proc_macro2::Ident {
    format_ident!("{}", route.id.value.to_shouty_snake_case())
}

fn ty_tokens(spec: &Spec, ty: &TypeRef) -> TokenStream {
    match ty {
        TypeRef::String => quote!(rt::schema::Ty::String),
        TypeRef::Integer => quote!(rt::schema::Ty::Integer),
        TypeRef::Number => quote!(rt::schema::Ty::Number),
        TypeRef::Boolean => quote!(rt::schema::Ty::Boolean),
        TypeRef::Json => quote!(rt::schema::Ty::Json),
        TypeRef::Text => quote!(rt::schema::Ty::Text),
        TypeRef::Binary => quote!(rt::schema::Ty::Binary),
        TypeRef::List(inner) => {
            let inner = ty_tokens(spec, inner);
            quote!(rt::schema::Ty::List(&#inner))
        }
        TypeRef::Map(inner) => {
            let inner = ty_tokens(spec, inner);
            quote!(rt::schema::Ty::Map(&#inner))
        }
        TypeRef::Named(name) => match spec.type_def(name).map(|t| &t.kind) {
            Some(TypeKind::Object(_)) => {
                let s = schema_ident(name);
                quote!(rt::schema::Ty::Object(&crate::spec::#s))
            }
            Some(TypeKind::Enum(values)) => {
                let values = values.iter().map(|v| &v.name);
                quote!(rt::schema::Ty::Enum(&[#(#values),*]))
            }
            Some(TypeKind::Scalar(_)) => {
                let s = schema_ident(name);
                quote!(rt::schema::Ty::Scalar(&crate::spec::#s))
            }
            _ => quote!(rt::schema::Ty::Json),
        },
    }
}

fn field_tokens(spec: &Spec, f: &Field) -> TokenStream {
    let (name, optional, nullable) = (&f.name, f.optional, f.nullable);
    let ty = ty_tokens(spec, &f.ty.value);
    let rules = rules_tokens(spec, &f.constraints);
    quote!(rt::schema::FieldSchema { name: #name, ty: #ty, optional: #optional, nullable: #nullable, rules: #rules })
}

fn rules_tokens(spec: &Spec, c: &Constraints) -> TokenStream {
    let mut rules = Vec::new();
    if let Some(p) = &c.pattern {
        let p = &p.value;
        rules.push(quote!(pattern: Some(#p)));
    }
    if let Some(format) = c.format {
        let v = ident(match format {
            StringFormat::Url => "Url",
            StringFormat::Email => "Email",
            StringFormat::DateTime => "DateTime",
            StringFormat::Date => "Date",
            StringFormat::Uuid => "Uuid",
        });
        rules.push(quote!(format: Some(rt::schema::Format::#v)));
    }
    for (key, value) in [("min_length", c.min_length), ("max_length", c.max_length), ("max_items", c.max_items)] {
        if let Some(v) = value {
            let (k, v) = (ident(key), rust::int(v));
            rules.push(quote!(#k: Some(#v)));
        }
    }
    for (key, value) in [("minimum", c.minimum), ("maximum", c.maximum)] {
        if let Some(v) = value {
            let (k, v) = (ident(key), proc_macro2::Literal::f64_unsuffixed(v));
            rules.push(quote!(#k: Some(#v)));
        }
    }
    if let Some(e) = &c.error {
        let e = &e.value;
        rules.push(quote!(error: Some(#e)));
    }
    if let Some(catalogue) = &c.catalogue {
        let values = spec.catalogue_values(&catalogue.value);
        rules.push(quote!(one_of: Some(&[#(#values),*])));
    }
    if rules.is_empty() {
        quote!(rt::schema::Rules::NONE)
    } else {
        quote!(rt::schema::Rules { #(#rules,)* ..rt::schema::Rules::NONE })
    }
}

fn mode_tokens(kind: AuthKind) -> TokenStream {
    let v = ident(match kind {
        AuthKind::Jwt => "Jwt",
        AuthKind::Pat => "Pat",
        AuthKind::VisitorCookie => "VisitorCookie",
        AuthKind::None => "None",
    });
    quote!(rt::guard::AuthKind::#v)
}

fn spec_rs(model: &Model<'_>) -> TokenStream {
    let spec = model.spec;
    let opt = |s: &Option<tenx_spec::Spanned<String>>| match s {
        Some(s) => {
            let v = &s.value;
            quote!(Some(#v))
        }
        None => quote!(None),
    };
    let modes = spec.auth_modes.iter().map(|m| {
        let mode = mode_tokens(m.kind);
        let transports = m.transports.iter().map(|t| match t {
            Transport::Header { name, scheme } => {
                let scheme = scheme.as_ref().map_or(quote!(None), |s| quote!(Some(#s)));
                let name = name.to_lowercase();
                quote!(Transport::Header { name: #name, scheme: #scheme })
            }
            Transport::Cookie { name } => quote!(Transport::Cookie { name: #name }),
        });
        let e = &m.errors;
        let (missing, invalid, expired, wrong) = (opt(&e.missing), opt(&e.invalid), opt(&e.expired), opt(&e.wrong_binding));
        let bound = m.bound_to.as_ref().map_or(quote!(None), |b| quote!(Some(#b)));
        quote! {
            AuthModeSpec { kind: #mode, transports: &[#(#transports),*], missing: #missing, invalid: #invalid, expired: #expired, wrong_binding: #wrong, bound_to: #bound }
        }
    });
    let pat_format = spec.pat_mode().map_or(quote!(None), |pat| {
        let (prefix, sep, display) = (&pat.format.prefix, pat.format.separator, &pat.format.display);
        quote!(Some(PatFormat { prefix: #prefix, separator: #sep, display: #display }))
    });
    let rule = ident(&spec.scope_rule.as_str().to_upper_camel_case());
    let roles = spec.roles.iter().filter(|r| r.level == RoleLevel::Handle).map(|r| &r.name);
    let plans = spec.plans.iter().map(|p| {
        let (name, rpm) = (&p.name, p.requests_per_minute);
        let writes = p.writes_per_day.map_or(quote!(None), |w| quote!(Some(#w)));
        let features = p.features.iter().map(|f| &f.value);
        quote!(PlanSpec { name: #name, requests_per_minute: #rpm, writes_per_day: #writes, features: &[#(#features),*] })
    });
    let quota_error = spec.write_quota.as_ref().map_or(quote!(None), |q| {
        let e = &q.error.value;
        quote!(Some(#e))
    });
    let rpm = |limit: &Option<tenx_spec::RateLimit>| {
        limit.as_ref().map_or(quote!(None), |l| {
            let n = l.requests_per_minute;
            quote!(Some(#n))
        })
    };
    let (user_rpm, ip_rpm) = (rpm(&spec.rate_limits.user), rpm(&spec.rate_limits.ip));
    let answers = spec.answers.all().into_iter().filter_map(|(situation, code, _)| {
        let (variant, code) = (ident(&situation.to_upper_camel_case()), &code?.value);
        Some(quote!((rt::Situation::#variant, #code)))
    });
    let errors_crate = ident(&errors_crate::crate_name(spec).replace('-', "_"));
    let subject = spec.api.subject().map_or(quote!(None), |s| quote!(Some(#s)));
    let routes = model.routes.iter().map(|r| {
        let (family, id) = (ident(family_of(spec, r.route)), route_ident(r.route));
        quote!(&crate::#family::#id)
    });
    let scopes = spec.scopes.iter().map(|s| &s.name);
    let error_details = model.detailed_errors.iter().map(|(e, ty)| {
        let (code, ty) = (&e.code, ty_tokens(spec, &TypeRef::Named((*ty).to_owned())));
        quote!((#code, #ty))
    });
    let context_token = spec.context_token.as_ref().map_or(quote!(None), |c| {
        let (ttl, param, error) = (c.ttl_seconds, &c.param, &c.error.value);
        quote!(Some(rt::ctx::ContextTokenSpec { ttl_seconds: #ttl, param: #param, error: #error }))
    });
    // The details' types, for a stub's error answers, after the routes' own.
    let detail_only = model.detail_types.iter().filter(|t| !model.types.iter().any(|r| r.name == t.name));
    let schemas = model.types.iter().chain(detail_only).filter_map(|t| match &t.kind {
        TypeKind::Object(fields) => {
            let (id, name) = (schema_ident(&t.name), &t.name);
            let fields = fields.iter().map(|f| field_tokens(spec, f));
            let docs = doc(&format!("The checks of `{name}`."));
            Some(quote! { #docs pub static #id: ObjectSchema = ObjectSchema { name: #name, fields: &[#(#fields),*] }; })
        }
        TypeKind::Scalar(scalar) => {
            let (id, name) = (schema_ident(&t.name), &t.name);
            let (ty, rules) = (ty_tokens(spec, &scalar.base.value), rules_tokens(spec, &scalar.constraints));
            let docs = doc(&format!("The checks of `{name}`, wherever a field has this type."));
            Some(quote! { #docs pub static #id: rt::schema::ScalarSchema = rt::schema::ScalarSchema { name: #name, ty: #ty, rules: #rules }; })
        }
        _ => None,
    });
    quote! {
        //! The spec's facts as static data: auth modes, roles, plans, every route's checks,
        //! and the rules of every body type.

        use tenx_server_runtime as rt;
        use tenx_server_runtime::guard::{AuthModeSpec, PlanSpec, ServerSpec, Transport};
        use tenx_server_runtime::schema::ObjectSchema;
        use tenx_server_runtime::tenx_auth::{PatFormat, ScopeRule};

        /// The API-wide facts.
        pub static SERVER_SPEC: ServerSpec = ServerSpec {
            scope_rule: ScopeRule::#rule,
            pat_format: #pat_format,
            modes: &[#(#modes),*],
            subject_roles: &[#(#roles),*],
            subject: #subject,
            routes: &[#(#routes),*],
            scopes: &[#(#scopes),*],
            error_details: &[#(#error_details),*],
            plans: &[#(#plans),*],
            quota_error: #quota_error,
            user_requests_per_minute: #user_rpm,
            ip_requests_per_minute: #ip_rpm,
            context_token: #context_token,
            answers: rt::Answers { codes: &[#(#answers),*], catalogue: &#errors_crate::CATALOGUE },
        };

        #(#schemas)*
    }
}

/// A family's path parameters that several of its routes check alike, as constants:
/// `(the parameter, the constant's name, its item)`.
fn shared_params<'s>(spec: &Spec, family: &'s Family) -> Vec<(&'s Field, proc_macro2::Ident, TokenStream)> {
    let mut counts: Vec<(&Field, usize)> = Vec::new();
    for p in family.routes.iter().flat_map(|r| &r.path_params) {
        match counts.iter_mut().find(|(f, _)| f.checks_like(p)) {
            Some(entry) => entry.1 += 1,
            None => counts.push((p, 1)),
        }
    }
    let mut out: Vec<(&Field, proc_macro2::Ident, TokenStream)> = Vec::new();
    for (field, _) in counts.into_iter().filter(|(_, n)| *n > 1) {
        // Two `handle` parameters with different checks: `PARAM_HANDLE`, `PARAM_HANDLE_1`.
        let taken = out.iter().filter(|(f, _, _)| f.name == field.name).count();
        let base = format!("PARAM_{}", field.name.to_shouty_snake_case());
        let id = if taken == 0 { format_ident!("{base}") } else { format_ident!("{base}_{taken}") };
        let tokens = field_tokens(spec, field);
        let docs = doc(&format!("The checks of the `{}` path parameter, shared by the family's routes.", field.name));
        out.push((field, id.clone(), quote! { #docs const #id: rt::schema::FieldSchema = #tokens; }));
    }
    out
}

fn route_spec(
    spec: &Spec,
    lowered: &RouteModel<'_>,
    shared: &[(&Field, proc_macro2::Ident, TokenStream)],
) -> TokenStream {
    let r = lowered.route;
    let id = route_ident(r);
    let name = &r.id.value;
    let auth = r.auth.iter().map(|a| mode_tokens(a.value));
    let scopes = r.scopes.iter().map(|s| &s.value);
    let min_role = r.min_role.as_ref().map_or(quote!(None), |role| {
        let n = &role.value;
        match spec.role(n).map(|d| d.level) {
            Some(RoleLevel::Platform) => quote!(Some(rt::guard::RoleReq::Platform(#n))),
            _ => quote!(Some(rt::guard::RoleReq::Subject(#n))),
        }
    });
    let feature = lowered.gate.map_or(quote!(None), |gate| {
        let (f, plan) = (gate.feature, gate.plan);
        quote!(Some((#f, #plan)))
    });
    let rate = ident(match r.rate_limit {
        RateLimitKey::Handle => "Subject",
        RateLimitKey::User => "User",
        RateLimitKey::Ip => "Ip",
        RateLimitKey::None => "None",
    });
    let counts = spec.counts_toward_write_quota(r);
    let path_params = r.path_params.iter().map(|f| match shared.iter().find(|(p, _, _)| p.checks_like(f)) {
        Some((_, id, _)) => quote!(#id),
        None => field_tokens(spec, f),
    });
    let query = r.query.iter().map(|f| field_tokens(spec, f));
    let response = r.response.as_ref().map_or(quote!(None), |t| {
        let ty = ty_tokens(spec, &t.value);
        quote!(Some(#ty))
    });
    let body = r.request.as_ref().map_or(quote!(None), |t| {
        let ty = ty_tokens(spec, &t.value);
        quote!(Some(#ty))
    });
    let idem = r.idempotency.as_ref().map_or(quote!(None), |i| {
        let key = match &i.key {
            IdempotencyCarrier::Field(f) => quote!(rt::guard::IdempotencyCarrier::Field(#f)),
            IdempotencyCarrier::Header(h) => {
                let h = h.to_ascii_lowercase();
                quote!(rt::guard::IdempotencyCarrier::Header(#h))
            }
        };
        let option = |v: Option<TokenStream>| v.map_or(quote!(None), |v| quote!(Some(#v)));
        let repeat = option(i.repeat_status.map(|s| quote!(#s)));
        let deduped = option(i.deduped_field.as_ref().map(|d| quote!(#d)));
        let (required, keep) = (i.required, i.retention_seconds);
        quote!(Some(rt::guard::IdempotencySpec {
            key: #key,
            required: #required,
            repeat_status: #repeat,
            deduped_field: #deduped,
            retention_seconds: #keep,
        }))
    });
    let (family, method, path) = (family_of(spec, r), r.method.as_str(), &r.path.value);
    let success = r.success.iter().map(|s| rust::int(s.status));
    let errors = lowered.errors.iter().map(|e| &e.code);
    let docs = doc(&format!("`{}`: `{} {}`.", name, r.method.as_str(), r.path.value));
    quote! {
        #docs
        pub(crate) static #id: rt::guard::RouteSpec = rt::guard::RouteSpec {
            id: #name,
            family: #family,
            method: #method,
            path: #path,
            auth: &[#(#auth),*],
            scopes: &[#(#scopes),*],
            min_role: #min_role,
            feature: #feature,
            rate_limit: rt::guard::RateKey::#rate,
            counts_write: #counts,
            path_params: &[#(#path_params),*],
            query: &[#(#query),*],
            body: #body,
            response: #response,
            success: &[#(#success),*],
            errors: &[#(#errors),*],
            idempotency: #idem,
        };
    }
}

/// The name of the family `route` belongs to.
fn family_of<'s>(spec: &'s Spec, route: &Route) -> &'s str {
    let family = spec.families.iter().find(|f| f.routes.iter().any(|r| r.id.value == route.id.value));
    &family.expect("every route is in a family").name
}

fn trait_ident(family: &Family) -> proc_macro2::Ident {
    format_ident!("{}Api", family.name.to_upper_camel_case())
}

/// The auth argument of a handler, and how the glue gets it from a call.
fn auth_arg(route: &Route) -> Option<(TokenStream, TokenStream)> {
    match route.auth.as_slice() {
        [one] => match one.value {
            AuthKind::Jwt => Some((quote!(JwtContext), quote!(call.jwt()?))),
            AuthKind::Pat => Some((quote!(PatContext), quote!(call.pat()?))),
            AuthKind::VisitorCookie => Some((quote!(VisitorContext), quote!(call.visitor()?))),
            AuthKind::None => None,
        },
        _ => Some((quote!(AuthContext), quote!(call.auth.clone()))),
    }
}

fn answer_type(route: &RouteModel<'_>) -> TokenStream {
    match &route.outcome {
        Some(o) => {
            let o = format_ident!("{}", o.name);
            quote!(#o)
        }
        None => models_crate::body_type(route.answer),
    }
}

fn family_rs(model: &Model<'_>, family: &Family) -> TokenStream {
    let spec = model.spec;
    let tr = trait_ident(family);
    let docs = doc(&format!(
        "The `{}` family: {}\n\nEvery method is a route; the router has already checked its credentials, scopes,\nrole, plan, rate limit, parameters and body when the method runs. Its `cx` is the
request: id, caller, headers and cookies, and the headers to add to the answer.",
        family.name, family.description
    ));
    let methods = model.routes_of(family).iter().map(|lowered| {
        let r = lowered.route;
        let name = ident(&r.id.value);
        let docs = doc(&crate::facts::route_doc(lowered, crate::facts::Reader::Server));
        let auth = auth_arg(r).map(|(ty, _)| quote!(auth: #ty,));
        let params = lowered.handler_params().map(|p| {
            let p = ident(&rust_param_name(&p.name));
            quote!(#p: String,)
        });
        let query = lowered.query.as_ref().map(|q| {
            let q = format_ident!("{}", q.name);
            quote!(query: #q,)
        });
        let body = (!matches!(lowered.body, Payload::None)).then(|| {
            let ty = models_crate::body_type(lowered.body);
            quote!(body: #ty,)
        });
        let answer = answer_type(lowered);
        quote! {
            #docs
            fn #name(&self, cx: &RequestContext, #auth #(#params)* #query #body) -> impl Future<Output = Result<#answer, Failure>> + Send;
        }
    });
    let routes = model.routes_of(family).iter().map(mount_route);
    // Each route's checks live beside its glue: files stay small, and so does the
    // generator's peak memory on large specs.
    let shared = shared_params(spec, family);
    let checks = model.routes_of(family).iter().map(|r| route_spec(spec, r, &shared));
    let consts = shared.iter().map(|(_, _, item)| item);
    quote! {
        //! Routes of the family, as a trait, how the router mounts them, and what it checks.

        use ::std::future::Future;
        use ::std::sync::Arc;

        use tenx_server_runtime as rt;
        use tenx_server_runtime::axum::{self, Router};
        use tenx_server_runtime::{Reply, ServerState};

        use crate::models::*;

        #docs
        pub trait #tr: Send + Sync + 'static {
            #(#methods)*
        }

        /// Adds the family's routes to `router`.
        pub(crate) fn mount<T: #tr>(router: Router, state: &Arc<ServerState>, api: &Arc<T>) -> Router {
            router #(#routes)*
        }

        #(#consts)*

        #(#checks)*
    }
}

fn mount_route(lowered: &RouteModel<'_>) -> TokenStream {
    let r = lowered.route;
    let path = &r.path.value;
    let route_spec = route_ident(r);
    let name = ident(&r.id.value);
    let auth = auth_arg(r).map(|(_, get)| quote!(#get,));
    let params = lowered.handler_params().map(|p| {
        let n = &p.name;
        quote!(call.param(#n),)
    });
    let query = lowered.query.as_ref().map(|_| quote!(call.query()?,));
    let body = match lowered.body {
        Payload::None => None,
        Payload::Text => Some(quote!(call.text()?,)),
        Payload::Binary => Some(quote!(call.bytes(),)),
        Payload::Json { .. } => Some(quote!(call.body()?,)),
    };
    let reply = |status: u16, var: TokenStream| -> TokenStream {
        let status = rust::int(status);
        match lowered.answer {
            Payload::None => quote!(Reply::empty(#status)),
            Payload::Text => quote!(Reply::text(#status, #var)),
            Payload::Binary => quote!(Reply::bytes(#status, #var)),
            Payload::Json { .. } => quote!(Reply::json(#status, &#var)),
        }
    };
    let finish = if let Some(outcome) = &lowered.outcome {
        let o = format_ident!("{}", outcome.name);
        let arms = outcome.variants.iter().map(|v| {
            let (reply, v) = (reply(v.status, quote!(body)), ident(&v.rust));
            quote!(#o::#v(body) => #reply,)
        });
        quote!(match out { #(#arms)* })
    } else {
        reply(r.success.first().map_or(200, |s| s.status), quote!(out))
    };
    let uses_call =
        auth_arg(r).is_some() || lowered.handler_params().next().is_some() || lowered.query.is_some() || body.is_some();
    let call = match (uses_call, body.is_some()) {
        (true, true) => quote!(mut call),
        (true, false) => quote!(call),
        _ => quote!(_call),
    };
    let invoke = quote!(api.#name(&cx, #auth #(#params)* #query #body).await?);
    let invoke = if matches!(lowered.answer, Payload::None) && lowered.outcome.is_none() {
        quote!(#invoke;)
    } else {
        quote!(let out = #invoke;)
    };
    let filter = ident(r.method.as_str());
    quote! {
        .route(#path, rt::endpoint(axum::routing::MethodFilter::#filter, state, api, &#route_spec, |api, #call, cx| async move {
            #invoke
            #finish
        }))
    }
}

fn router_rs(spec: &Spec) -> TokenStream {
    let mounts = spec.families.iter().map(|f| {
        let (method, tr, module) = (ident(&f.name), trait_ident(f), ident(&f.name));
        let count = f.routes.len();
        let docs =
            doc(&format!("Mounts the `{}` family ({count} route{}).", f.name, if count == 1 { "" } else { "s" }));
        let name = &f.name;
        quote! {
            #docs
            pub fn #method<T: crate::#module::#tr>(mut self, api: Arc<T>) -> Self {
                self.router = crate::#module::mount(self.router, &self.state, &api);
                self.mounted.push(#name);
                self
            }
        }
    });
    quote! {
        //! The router builder: mount the families the app implements.

        use ::std::sync::Arc;

        use tenx_server_runtime::axum::Router;
        use tenx_server_runtime::{ServerState, Unmounted};

        /// Builds an axum router from the families an app implements.
        pub struct RouterBuilder {
            state: Arc<ServerState>,
            router: Router,
            mounted: Vec<&'static str>,
            unmounted: Arc<dyn Unmounted>,
        }

        impl RouterBuilder {
            /// A router with no family mounted yet.
            pub fn new(state: ServerState) -> Self {
                RouterBuilder {
                    state: Arc::new(state),
                    router: Router::new(),
                    mounted: Vec::new(),
                    unmounted: Arc::new(tenx_server_runtime::NotImplemented),
                }
            }

            /// The state the checks use.
            pub fn state(&self) -> &Arc<ServerState> {
                &self.state
            }

            #(#mounts)*

            /// Answers the routes of every family not mounted with `fill` (a stub, say),
            /// after their checks; by default they answer "not implemented".
            pub fn unmounted(mut self, fill: Arc<dyn Unmounted>) -> Self {
                self.unmounted = fill;
                self
            }

            /// The finished router: the routes of unmounted families answered as
            /// [`unmounted`](Self::unmounted) says once their checks pass, error-model
            /// answers for unknown paths and wrong methods; a request id on every response.
            pub fn build(self) -> Router {
                tenx_server_runtime::finish(self.router, &self.state, &self.mounted, &self.unmounted)
            }
        }
    }
}
