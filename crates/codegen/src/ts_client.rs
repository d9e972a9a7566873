//! `generated/ts-client`: a TypeScript client with no runtime dependencies, from the
//! lowered model and this crate's minijinja templates `templates/ts/`. Its request
//! pipeline is `templates/ts/src/runtime.ts`, hand-written and copied in; the templates only lay out
//! what this module decides: types, the catalogue, and one method per route and client.

use minijinja::{Value, context};
use tenx_spec::{AuthKind, Field, IdempotencyCarrier, Spec, Transport, TypeDef, TypeKind, TypeRef};

use crate::lower::{Model, Payload, RouteModel, Segment};
use crate::{CodegenError, GeneratedFile, Templates, crate_version, rust_types, sources};

const DIR: &str = "generated/ts-client";

/// The request pipeline, the same for every API.
const RUNTIME: &str = include_str!("../templates/ts/src/runtime.ts");

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let types = ts_types(model);
    let header = templates.header(&sources(
        spec,
        std::iter::once(&spec.api.loc)
            .chain(spec.auth_modes.iter().map(|m| &m.loc))
            .chain(spec.errors.iter().map(|e| &e.loc))
            .chain(spec.families.iter().map(|f| &f.loc))
            .chain(types.iter().map(|t| &t.loc)),
    ))?;
    let package = format!("{}-client", spec.api.name);
    let api = context! {
        name => spec.api.name.clone(),
        title => spec.api.title.clone(),
        version => spec.api.version.clone(),
        base_url => spec.api.base_url.clone(),
        package => package.clone(),
        package_version => crate_version(&spec.api.version),
        routes => model.routes.len(),
        codes => spec.errors.len(),
    };
    let ctx = context! {
        header,
        api,
        types => types.iter().map(|t| type_context(spec, t)).collect::<Vec<_>>(),
        queries => queries(model),
        errors => errors(spec),
        detail_types => {
            let mut names: Vec<String> = model.detailed_errors.iter().map(|(_, ty)| (*ty).to_owned()).collect();
            names.sort_unstable();
            names.dedup();
            names
        },
        clients => clients(model),
        routes => model.routes.iter().map(route_info).collect::<Vec<_>>(),
        retry => retry(spec),
        pat => spec.pat_mode().map(|p| context! {
            prefix => p.format.prefix.clone(),
            separator => p.format.separator.to_string(),
            display => p.format.display.clone(),
            bound => ts_ident(p.bound_to),
        }),
        session => session(model),
        has_jwt => spec.auth_mode(AuthKind::Jwt).is_some(),
        has_visitor => spec.auth_mode(AuthKind::VisitorCookie).is_some(),
        used_models => used_models(model),
        runtime => RUNTIME,
    };
    let mut files = Vec::new();
    for (path, template) in [
        ("package.json", "ts/package.json.j2"),
        ("tsconfig.json", "ts/tsconfig.json.j2"),
        ("README.md", "ts/README.md.j2"),
        ("src/index.ts", "ts/src/index.ts.j2"),
        ("src/models.ts", "ts/src/models.ts.j2"),
        ("src/errors.ts", "ts/src/errors.ts.j2"),
        ("src/clients.ts", "ts/src/clients.ts.j2"),
        ("src/runtime.ts", "ts/src/runtime.ts.j2"),
    ] {
        files.push(GeneratedFile { path: format!("{DIR}/{path}"), contents: templates.render(template, ctx.clone())? });
    }
    Ok(files)
}

/// The named types the client names: the routes' types and the error details', with
/// what they reach.
fn ts_types<'s>(model: &Model<'s>) -> Vec<&'s TypeDef> {
    let roots: Vec<&str> = model.types.iter().chain(&model.detail_types).map(|t| t.name.as_str()).collect();
    rust_types::closure(model.spec, &roots)
}

/// The TypeScript type of a type expression.
fn ts_type(ty: &TypeRef) -> String {
    match ty {
        TypeRef::String | TypeRef::Text => "string".to_owned(),
        TypeRef::Integer | TypeRef::Number => "number".to_owned(),
        TypeRef::Boolean => "boolean".to_owned(),
        TypeRef::Json => "unknown".to_owned(),
        TypeRef::Binary => "Uint8Array".to_owned(),
        TypeRef::List(inner) => format!("{}[]", ts_type(inner)),
        TypeRef::Map(inner) => format!("Record<string, {}>", ts_type(inner)),
        TypeRef::Named(name) => name.clone(),
    }
}

/// The TypeScript type of a body.
fn payload_type(payload: Payload<'_>) -> String {
    match payload {
        Payload::None => "undefined".to_owned(),
        Payload::Json { free_form: true, .. } => "unknown".to_owned(),
        Payload::Json { ty, .. } => ts_type(ty),
        Payload::Text => "string".to_owned(),
        Payload::Binary => "Uint8Array".to_owned(),
    }
}

/// A string literal.
fn js_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// A property key: as is when it is an identifier, else quoted.
fn ts_key(name: &str) -> String {
    let mut chars = name.chars();
    let ident = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident { name.to_owned() } else { js_string(name) }
}

/// Words a parameter may not be named, and the names every method's own arguments take.
const RESERVED: &[&str] = &[
    "body",
    "query",
    "options",
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// A path parameter's argument name: lowerCamelCase, with `_` after a reserved word.
fn ts_ident(name: &str) -> String {
    let camel = heck::ToLowerCamelCase::to_lower_camel_case(name);
    if RESERVED.contains(&camel.as_str()) { format!("{camel}_") } else { camel }
}

fn field_context(f: &Field) -> Value {
    let mut ty = ts_type(&f.ty.value);
    if f.nullable {
        ty.push_str(" | null");
    }
    context! {
        key => ts_key(&f.name),
        optional => f.optional,
        ty,
        doc => f.description.clone(),
    }
}

fn type_context(spec: &Spec, t: &TypeDef) -> Value {
    let (kind, fields, values, alias) = match &t.kind {
        TypeKind::Object(fields) => ("object", fields.iter().map(field_context).collect(), Vec::new(), String::new()),
        TypeKind::Enum(values) => (
            "enum",
            Vec::new(),
            values.iter().map(|v| context! { literal => js_string(&v.name), doc => v.description.clone() }).collect(),
            String::new(),
        ),
        TypeKind::Json => ("alias", Vec::new(), Vec::new(), "unknown".to_owned()),
        TypeKind::Scalar(scalar) => ("alias", Vec::new(), Vec::new(), ts_type(&spec.wire_type(&scalar.base.value))),
    };
    context! { name => t.name.clone(), doc => t.description.clone(), kind, fields, values, alias }
}

/// Every route's query type: its own interface, or an alias of the first one alike.
fn queries(model: &Model<'_>) -> Vec<Value> {
    model
        .routes
        .iter()
        .filter_map(|r| {
            let q = r.query.as_ref()?;
            Some(context! {
                name => q.name.clone(),
                route => r.route.id.value.clone(),
                same_as => q.same_as.clone(),
                fields => r.route.query.iter().map(field_context).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn errors(spec: &Spec) -> Vec<Value> {
    spec.errors
        .iter()
        .map(|e| {
            context! {
                code => e.code.clone(),
                literal => js_string(&e.code),
                status => e.status.value,
                category => e.category.as_str(),
                retry => e.retry.as_str(),
                meaning_literal => js_string(&e.meaning),
                details => e.details.as_ref().map(|d| d.value.clone()),
            }
        })
        .collect()
}

fn retry(spec: &Spec) -> Value {
    let r = &spec.retry;
    context! {
        after_header_statuses => r.after_header_statuses.clone(),
        backoff_statuses => r.backoff_statuses.clone(),
        never_statuses => r.never_statuses.clone(),
        backoff_ms => r.backoff_seconds.iter().map(|s| (s * 1000.0).round() as u64).collect::<Vec<_>>(),
        max_attempts => r.max_attempts.value,
        max_retry_after_ms => u64::from(r.max_retry_after_seconds) * 1000,
        retry_transport_errors => r.retry_transport_errors,
        jitter => r.jitter,
        safe_methods => r.safe_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
    }
}

/// Sign-in and refresh, when the JWT mode has a session.
fn session(model: &Model<'_>) -> Option<Value> {
    let session = model.session.as_ref()?;
    let login = model.login(session);
    Some(context! {
        login => login.lower_camel.clone(),
        login_body => payload_type(login.body),
        token_field => js_string(session.token_field),
        refresh_path => model.refresh(session).route.path.value.clone(),
        expired_code => session.expired_code.unwrap_or_default(),
    })
}

/// What the runtime needs of a route, as a TypeScript object literal.
fn route_info(r: &RouteModel<'_>) -> Value {
    let success: Vec<String> =
        r.route.success.iter().map(|s| format!("{}: {}", s.status, js_string(&s.outcome))).collect();
    let idempotency = r.key.map(|k| match k {
        IdempotencyCarrier::Field(f) => format!("{{ field: {} }}", js_string(f)),
        IdempotencyCarrier::Header(h) => format!("{{ header: {} }}", js_string(h)),
    });
    context! {
        id => r.route.id.value.clone(),
        key => ts_key(&r.route.id.value),
        method => r.route.method.as_str(),
        success => format!("{{ {} }}", success.join(", ")),
        body => r.body.wire_kind(),
        answer => r.answer.wire_kind(),
        idempotency,
    }
}

/// Where the client of `kind` sends its credential, as a TypeScript object literal
/// (`None` for the client that sends none).
fn transport(model: &Model<'_>, kind: AuthKind) -> Option<String> {
    if kind == AuthKind::None {
        return None;
    }
    Some(match model.transport(kind) {
        Transport::Header { name, scheme: Some(scheme) } => {
            format!("{{ header: {}, scheme: {} }}", js_string(name), js_string(scheme))
        }
        Transport::Header { name, scheme: None } => format!("{{ header: {} }}", js_string(name)),
        Transport::Cookie { name } => format!("{{ cookie: {} }}", js_string(name)),
    })
}

/// The model types and query types the clients' signatures name, sorted.
fn used_models(model: &Model<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in &model.routes {
        for payload in [r.body, r.answer] {
            if let Payload::Json { ty, free_form: false } = payload {
                names.extend(ty.named().map(str::to_owned));
            }
        }
        names.extend(r.query.as_ref().map(|q| q.name.clone()));
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// One client class per auth kind, with one method per route it may call.
fn clients(model: &Model<'_>) -> Vec<Value> {
    model
        .client_kinds()
        .into_iter()
        .map(|kind| {
            let methods: Vec<Value> =
                model.routes.iter().filter(|r| r.kinds.contains(&kind)).map(|r| method(r, kind)).collect();
            context! {
                kind => kind.as_str(),
                transport => transport(model, kind),
                methods,
            }
        })
        .collect()
}

fn method(r: &RouteModel<'_>, kind: AuthKind) -> Value {
    let mut params: Vec<String> = r.path_args(kind).map(|p| format!("{}: string", ts_ident(p))).collect();
    let segments: Vec<String> = r
        .segments
        .iter()
        .map(|s| match *s {
            Segment::Param { pat_bound: true, .. } if kind == AuthKind::Pat => "this.#bound".to_owned(),
            Segment::Param { name, .. } => ts_ident(name),
            Segment::Literal(text) => js_string(text),
        })
        .collect();
    if !matches!(r.body, Payload::None) {
        params.push(format!("body: {}", payload_type(r.body)));
    }
    if let Some(q) = &r.query {
        params.push(format!("query{}: {}", if q.all_optional { "?" } else { "" }, q.name));
    }
    params.push("options?: CallOptions".to_owned());
    let body = payload_type(r.answer);
    let answers: Vec<String> =
        r.route.success.iter().map(|s| format!("Answer<{}, {}, {body}>", s.status, js_string(&s.outcome))).collect();
    context! {
        name => r.lower_camel.clone(),
        doc => crate::facts::route_doc(r, crate::facts::Reader::Client),
        params => params.join(", "),
        answer => answers.join(" | "),
        route => ts_key(&r.route.id.value),
        segments => format!("[{}]", segments.join(", ")),
        query => if r.query.is_some() { "query" } else { "undefined" },
        body => if matches!(r.body, Payload::None) { "undefined" } else { "body" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_names() {
        let list = TypeRef::List(Box::new(TypeRef::Map(Box::new(TypeRef::Named("Link".into())))));
        assert_eq!(ts_type(&list), "Record<string, Link>[]");
        assert_eq!(ts_key("utm_source"), "utm_source");
        assert_eq!(ts_key("x-id"), "\"x-id\"");
        assert_eq!(ts_ident("token_id"), "tokenId");
        assert_eq!(ts_ident("default"), "default_");
        assert_eq!(ts_ident("options"), "options_");
    }
}
