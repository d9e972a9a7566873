//! `generated/openapi.json`: an OpenAPI 3.1 document of the spec, built as JSON values
//! (never a text template). Keys are sorted (serde_json's map), so output is stable.
//!
//! What OpenAPI cannot say natively is in `x-10x-*` extensions and in the operation
//! description: auth modes, scopes, minimum role, plan feature, idempotency, source.

use heck::ToUpperCamelCase;
use serde_json::{Map, Value, json};
use tenx_spec::{
    AuthKind, Constraints, Field, IdempotencyCarrier, Route, Spec, StringFormat, Transport, TypeDef, TypeKind, TypeRef,
};

use crate::lower::{Model, Payload, RouteModel};
use crate::{CodegenError, GeneratedFile, Templates, sources};

pub(crate) const PATH: &str = "generated/openapi.json";

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let header = templates.header(&sources(spec, spec.source_locs()))?;
    let document = document(model, &header);
    let mut contents = serde_json::to_string_pretty(&document).expect("a JSON value always serializes");
    contents.push('\n');
    Ok(vec![GeneratedFile { path: PATH.to_owned(), contents }])
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn type_schema(ty: &TypeRef) -> Value {
    match ty {
        TypeRef::String => json!({ "type": "string" }),
        TypeRef::Integer => json!({ "type": "integer", "format": "int64" }),
        TypeRef::Number => json!({ "type": "number" }),
        TypeRef::Boolean => json!({ "type": "boolean" }),
        TypeRef::Json => json!({}),
        TypeRef::Text => json!({ "type": "string" }),
        TypeRef::Binary => json!({ "type": "string", "format": "binary" }),
        TypeRef::List(inner) => json!({ "type": "array", "items": type_schema(inner) }),
        TypeRef::Map(inner) => json!({ "type": "object", "additionalProperties": type_schema(inner) }),
        TypeRef::Named(name) => schema_ref(name),
    }
}

/// A body's `content`: its media type (JSON, text or binary) and schema.
fn content(ty: &TypeRef) -> Value {
    let media = ty.media_type().split(';').next().unwrap_or_default();
    json!({ media: { "schema": type_schema(ty) } })
}

fn field_schema(spec: &Spec, f: &Field) -> Value {
    let mut schema = type_schema(&f.ty.value);
    constrain(spec, &mut schema, &f.constraints);
    if let Value::Object(map) = &mut schema {
        if !f.description.is_empty() {
            map.insert("description".into(), json!(f.description));
        }
    }
    if f.nullable {
        schema = json!({ "anyOf": [schema, { "type": "null" }] });
    }
    schema
}

/// Adds a field's or scalar type's checks to its schema.
fn constrain(spec: &Spec, schema: &mut Value, c: &Constraints) {
    if let Value::Object(map) = schema {
        if let Some(format) = c.format {
            let name = match format {
                StringFormat::Url => "uri",
                other => other.as_str(),
            };
            map.insert("format".into(), json!(name));
        }
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                map.insert(key.into(), v);
            }
        };
        put("pattern", c.pattern.as_ref().map(|p| json!(p.value)));
        put("minLength", c.min_length.map(|v| json!(v)));
        put("maxLength", c.max_length.map(|v| json!(v)));
        put("minimum", c.minimum.map(|v| json!(v)));
        put("maximum", c.maximum.map(|v| json!(v)));
        put("maxItems", c.max_items.map(|v| json!(v)));
        put("x-10x-error", c.error.as_ref().map(|e| json!(e.value)));
        put("enum", c.catalogue.as_ref().map(|k| json!(spec.catalogue_values(&k.value))));
    }
}

fn type_def_schema(spec: &Spec, t: &TypeDef) -> Value {
    let mut schema = match &t.kind {
        TypeKind::Scalar(scalar) => {
            let mut schema = type_schema(&scalar.base.value);
            constrain(spec, &mut schema, &scalar.constraints);
            schema
        }
        TypeKind::Object(fields) => {
            let properties: Map<String, Value> =
                fields.iter().map(|f| (f.name.clone(), field_schema(spec, f))).collect();
            let required: Vec<&str> = fields.iter().filter(|f| !f.optional).map(|f| f.name.as_str()).collect();
            let mut o = json!({ "type": "object", "properties": properties });
            if !required.is_empty() {
                o["required"] = json!(required);
            }
            o
        }
        TypeKind::Enum(values) => {
            json!({ "type": "string", "enum": values.iter().map(|v| &v.name).collect::<Vec<_>>() })
        }
        TypeKind::Json => json!({}),
    };
    if !t.description.is_empty() {
        schema["description"] = json!(t.description);
    }
    schema
}

fn error_schema_name(code: &str) -> String {
    format!("{}Error", code.to_upper_camel_case())
}

fn components(model: &Model<'_>) -> Value {
    let spec = model.spec;
    let mut schemas: Map<String, Value> =
        spec.types.iter().map(|t| (t.name.clone(), type_def_schema(spec, t))).collect();
    schemas.insert(
        "ErrorCode".into(),
        json!({
            "type": "string",
            "description": "An error code of the catalogue; clients keep working when the server adds codes.",
            "enum": spec.errors.iter().map(|e| &e.code).collect::<Vec<_>>(),
        }),
    );
    schemas.insert(
        "ApiError".into(),
        json!({
            "type": "object",
            "description": "An error: code, message, status, and the code's extra fields (its details) beside them.",
            "properties": {
                "code": schema_ref("ErrorCode"),
                "message": { "type": "string" },
                "statusCode": { "type": "integer" },
            },
            "required": ["code", "message", "statusCode"],
            "additionalProperties": true,
        }),
    );
    schemas.insert(
        "ErrorBody".into(),
        json!({
            "type": "object",
            "description": "The body of every error answer.",
            "properties": { "error": schema_ref("ApiError") },
            "required": ["error"],
        }),
    );
    for &(e, details) in &model.detailed_errors {
        schemas.insert(
            error_schema_name(&e.code),
            json!({
                "type": "object",
                "description": format!("The body of a `{}` error, with its details.", e.code),
                "properties": { "error": { "allOf": [schema_ref("ApiError"), schema_ref(details)] } },
                "required": ["error"],
            }),
        );
    }
    let mut security = Map::new();
    for mode in &spec.auth_modes {
        for (i, t) in mode.transports.iter().enumerate() {
            let name = if i == 0 { mode.kind.as_str().to_owned() } else { format!("{}_alt{i}", mode.kind.as_str()) };
            let mut scheme = match t {
                Transport::Header { name, scheme: Some(s) } if name.eq_ignore_ascii_case("authorization") => {
                    json!({ "type": "http", "scheme": s.to_lowercase() })
                }
                Transport::Header { name, .. } => json!({ "type": "apiKey", "in": "header", "name": name }),
                Transport::Cookie { name } => json!({ "type": "apiKey", "in": "cookie", "name": name }),
            };
            if scheme["type"] == "http" {
                let format = mode.token_format.as_ref().map_or("JWT", |f| f.display.as_str());
                scheme["bearerFormat"] = json!(format);
            }
            scheme["description"] = json!(mode.description);
            security.insert(name, scheme);
        }
    }
    let examples: Map<String, Value> = spec
        .errors
        .iter()
        .map(|e| {
            let value = json!({ "error": { "code": e.code, "message": e.meaning, "statusCode": e.status.value } });
            (e.code.clone(), json!({ "summary": e.meaning, "value": value }))
        })
        .collect();
    json!({
        "schemas": schemas,
        "examples": examples,
        "securitySchemes": security,
        "headers": {
            "RetryAfter": {
                "description": "How long to wait before retrying: delta-seconds or an HTTP date.",
                "schema": { "oneOf": [{ "type": "integer", "minimum": 0 }, { "type": "string" }] },
            },
            "RequestId": { "description": "The request's id, for support reports.", "schema": { "type": "string" } },
        },
    })
}

fn security(spec: &Spec, route: &Route) -> Value {
    let mut options = Vec::new();
    for auth in &route.auth {
        let Some(mode) = spec.auth_mode(auth.value) else { continue };
        if mode.kind == AuthKind::None {
            options.push(json!({}));
            continue;
        }
        let scopes: Vec<&str> = route.scopes.iter().map(|s| s.value.as_str()).collect();
        for i in 0..mode.transports.len() {
            let name = if i == 0 { mode.kind.as_str().to_owned() } else { format!("{}_alt{i}", mode.kind.as_str()) };
            let granted = if mode.kind == AuthKind::Pat { scopes.clone() } else { Vec::new() };
            options.push(json!({ name: granted }));
        }
    }
    Value::Array(options)
}

fn description(lowered: &RouteModel<'_>) -> String {
    let route = lowered.route;
    let mut lines = Vec::new();
    if !route.description.is_empty() {
        lines.push(route.description.clone());
        lines.push(String::new());
    }
    lines.extend(crate::facts::access_lines(lowered));
    if let Some(i) = &route.idempotency {
        lines.push(crate::facts::idempotency_line(i));
    }
    lines.push(format!("- Source: {}", route.source));
    lines.join("\n")
}

/// The error answers of one status with one set of codes, shared by every operation that
/// has the same set: operations `$ref` them, so the document holds each once.
fn error_response(spec: &Spec, status: u16, codes: &[&tenx_spec::ErrorDef]) -> Value {
    let examples: Map<String, Value> = codes
        .iter()
        .map(|e| (e.code.clone(), json!({ "$ref": format!("#/components/examples/{}", e.code) })))
        .collect();
    let detailed: Vec<Value> =
        codes.iter().filter(|e| e.details.is_some()).map(|e| schema_ref(&error_schema_name(&e.code))).collect();
    let schema = if detailed.is_empty() {
        schema_ref("ErrorBody")
    } else {
        let mut any = detailed;
        any.push(schema_ref("ErrorBody"));
        json!({ "anyOf": any })
    };
    let names: Vec<String> = codes.iter().map(|e| format!("`{}`", e.code)).collect();
    let mut answer = json!({
        "description": names.join(", "),
        "headers": { "X-Request-Id": { "$ref": "#/components/headers/RequestId" } },
        "content": { "application/json": { "schema": schema, "examples": examples } },
    });
    if spec.retry.after_header_statuses.contains(&status) {
        answer["headers"]["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfter" });
    }
    answer
}

fn operation(spec: &Spec, lowered: &RouteModel<'_>, shared: &mut Map<String, Value>) -> Value {
    let route = lowered.route;
    let mut parameters: Vec<Value> = route
        .path_params
        .iter()
        .map(|p| json!({ "name": p.name, "in": "path", "required": true, "schema": field_schema(spec, p) }))
        .collect();
    parameters.extend(
        route.query.iter().map(
            |q| json!({ "name": q.name, "in": "query", "required": !q.optional, "schema": field_schema(spec, q) }),
        ),
    );
    if let Some(IdempotencyCarrier::Header(name)) = route.idempotency.as_ref().map(|i| &i.key) {
        let required = route.idempotency.as_ref().is_some_and(|i| i.required);
        parameters.push(json!({
            "name": name,
            "in": "header",
            "required": required,
            "description": "A key unique to this write: a repeat with the same key and body answers as the first did.",
            "schema": { "type": "string", "minLength": 1, "maxLength": 255 },
        }));
    }
    let mut responses = Map::new();
    let request_id = json!({ "X-Request-Id": { "$ref": "#/components/headers/RequestId" } });
    for s in &route.success {
        let mut answer = json!({ "description": s.outcome, "headers": request_id });
        if let Some(ty) = &route.response {
            answer["content"] = content(&ty.value);
        }
        if (300..400).contains(&s.status) {
            answer["headers"]["Location"] = json!({ "description": "Where to go.", "schema": { "type": "string" } });
        }
        responses.insert(s.status.to_string(), answer);
    }
    let errors = &lowered.errors;
    let mut statuses: Vec<u16> = errors.iter().map(|e| e.status.value).collect();
    statuses.dedup();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let codes: Vec<_> = errors.iter().copied().filter(|e| e.status.value == status).collect();
        let key = format!("{status}_{}", codes.iter().map(|e| e.code.as_str()).collect::<Vec<_>>().join("__"));
        if !shared.contains_key(&key) {
            shared.insert(key.clone(), error_response(spec, status, &codes));
        }
        responses.insert(status.to_string(), json!({ "$ref": format!("#/components/responses/{key}") }));
    }
    let mut op = json!({
        "operationId": route.id.value,
        "tags": [route.family],
        "summary": route.summary,
        "description": description(lowered),
        "security": security(spec, route),
        "responses": responses,
        "x-10x-auth": route.auth.iter().map(|a| a.value.as_str()).collect::<Vec<_>>(),
        "x-10x-rate-limit": route.rate_limit.as_str(),
        "x-10x-source": route.source,
    });
    if !parameters.is_empty() {
        op["parameters"] = json!(parameters);
    }
    if let Some(body) = &route.request {
        let mut content = content(&body.value);
        // A free-form request body is an object (the server refuses anything else).
        if let Payload::Json { free_form: true, .. } = lowered.body {
            content = json!({ "application/json": { "schema": { "type": "object" } } });
        }
        op["requestBody"] = json!({ "required": true, "content": content });
    }
    if !route.scopes.is_empty() {
        op["x-10x-scopes"] = json!(route.scopes.iter().map(|s| &s.value).collect::<Vec<_>>());
    }
    if let Some(role) = &route.min_role {
        op["x-10x-min-role"] = json!(role.value);
    }
    if let Some(gate) = lowered.gate {
        op["x-10x-feature"] = json!(gate.feature);
        op["x-10x-required-plan"] = json!(gate.plan);
    }
    if let Some(i) = &route.idempotency {
        let mut ext = json!({ "required": i.required, "retentionSeconds": i.retention_seconds });
        match &i.key {
            IdempotencyCarrier::Field(f) => ext["keyField"] = json!(f),
            IdempotencyCarrier::Header(h) => ext["keyHeader"] = json!(h),
        }
        if let Some(status) = i.repeat_status {
            ext["repeatStatus"] = json!(status);
        }
        if let Some(field) = &i.deduped_field {
            ext["dedupedField"] = json!(field);
        }
        op["x-10x-idempotency"] = ext;
    }
    if !route.inferred.is_empty() {
        op["x-10x-inferred"] = json!(route.inferred.iter().map(|i| &i.value).collect::<Vec<_>>());
    }
    op
}

fn document(model: &Model<'_>, header: &str) -> Value {
    let spec = model.spec;
    let mut paths: Map<String, Value> = Map::new();
    let mut shared_responses = Map::new();
    for lowered in &model.routes {
        let route = lowered.route;
        let item = paths.entry(route.path.value.clone()).or_insert_with(|| json!({}));
        item[route.method.as_str().to_lowercase()] = operation(spec, lowered, &mut shared_responses);
    }
    let mut components = components(model);
    components["responses"] = Value::Object(shared_responses);
    let tags: Vec<Value> =
        spec.families.iter().map(|f| json!({ "name": f.name, "description": f.description })).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": spec.api.title,
            "version": spec.api.version,
            "description": spec.api.description,
            "x-generated": header,
        },
        "servers": [{ "url": spec.api.base_url }],
        "tags": tags,
        "paths": paths,
        "components": components,
    })
}
