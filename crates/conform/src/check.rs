//! Whether one answer is what its route declares: a declared status, a success body of
//! exactly the declared type, an error body in the envelope with a code the route may
//! return and that code's status, `Retry-After` on a rate limit, a request id.

use serde_json::Value;
use tenx_server_runtime::schema::Format;
use tenx_spec::{Constraints, Field, Route, Spec, StringFormat, TypeKind, TypeRef};

/// An answer as the harness received it.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Whether `x-request-id` was sent.
    pub request_id: bool,
    /// Whether `Retry-After` was sent.
    pub retry_after: bool,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The error code of an envelope body, if it is one.
    pub fn code(&self) -> Option<String> {
        let body: Value = serde_json::from_slice(&self.body).ok()?;
        body.get("error")?.get("code")?.as_str().map(str::to_owned)
    }
}

/// Every way `answer` departs from what `route` declares (empty when it conforms).
pub fn answer(spec: &Spec, route: &Route, answer: &Answer) -> Vec<String> {
    let mut out = Vec::new();
    if !answer.request_id {
        out.push("no `x-request-id` header".to_owned());
    }
    if route.success.iter().any(|s| s.status == answer.status) {
        success_body(spec, route, answer, &mut out);
        return out;
    }
    let errors = spec.route_errors(route);
    if !errors.iter().any(|e| e.status.value == answer.status) {
        let mut declared: Vec<u16> = route.success.iter().map(|s| s.status).collect();
        declared.extend(errors.iter().map(|e| e.status.value));
        declared.sort_unstable();
        declared.dedup();
        out.push(format!("status {} is not declared (declared: {declared:?})", answer.status));
    }
    if answer.status == 429 && !answer.retry_after {
        out.push("a 429 without `Retry-After`".to_owned());
    }
    let Ok(body) = serde_json::from_slice::<Value>(&answer.body) else {
        out.push(format!("the error body is not JSON: {}", preview(&answer.body)));
        return out;
    };
    let error = body.get("error");
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_str);
    let message = error.and_then(|e| e.get("message")).and_then(Value::as_str);
    let status_code = error.and_then(|e| e.get("statusCode")).and_then(Value::as_u64);
    let (Some(code), Some(_), Some(status_code)) = (code, message, status_code) else {
        out.push(format!("the error body is not the envelope {{\"error\": {{code, message, statusCode}}}}: {body}"));
        return out;
    };
    if status_code != u64::from(answer.status) {
        out.push(format!("`statusCode` {status_code} in a {} answer", answer.status));
    }
    match spec.error(code) {
        None => out.push(format!("`{code}` is not a code of the catalogue")),
        Some(def) => {
            if def.status.value != answer.status {
                out.push(format!("`{code}` has the status {}, answered with {}", def.status.value, answer.status));
            }
            if !errors.iter().any(|e| e.code == code) {
                out.push(format!("`{code}` is not one of the route's codes"));
            }
        }
    }
    out
}

fn success_body(spec: &Spec, route: &Route, answer: &Answer, out: &mut Vec<String>) {
    let Some(ty) = route.response.as_ref().map(|t| &t.value) else {
        // No declared body: an empty one, or (for redirects) whatever the location says.
        return;
    };
    let media = answer.content_type.as_deref().unwrap_or_default();
    let essence = media.split(';').next().unwrap_or_default().trim();
    let wanted = ty.media_type().split(';').next().unwrap_or_default();
    if essence != wanted {
        out.push(format!("a `{wanted}` answer came as `{media}`"));
        return;
    }
    if ty.is_raw() {
        if *ty == TypeRef::Text && std::str::from_utf8(&answer.body).is_err() {
            out.push("a text answer is not UTF-8".to_owned());
        }
        return;
    }
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(value) => value_of(spec, ty, &Constraints::default(), &value, "body", out),
        Err(e) => out.push(format!("the body is not JSON ({e}): {}", preview(&answer.body))),
    }
}

/// Checks `value` against `ty` with the field's own `constraints`, naming `path`.
pub fn value_of(
    spec: &Spec,
    ty: &TypeRef,
    constraints: &Constraints,
    value: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    match (ty, value) {
        (TypeRef::Json, _) => {}
        (TypeRef::String, Value::String(s)) => string(s, constraints, path, out),
        (TypeRef::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => number(n.as_f64(), constraints, path, out),
        (TypeRef::Number, Value::Number(n)) => number(n.as_f64(), constraints, path, out),
        (TypeRef::Boolean, Value::Bool(_)) => {}
        (TypeRef::List(inner), Value::Array(items)) => {
            if let Some(max) = constraints.max_items.filter(|m| items.len() as u64 > *m) {
                out.push(format!("`{path}` has {} items, more than {max}", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                value_of(spec, inner, &Constraints::default(), item, &format!("{path}[{i}]"), out);
            }
        }
        (TypeRef::Map(inner), Value::Object(map)) => {
            for (k, v) in map {
                value_of(spec, inner, &Constraints::default(), v, &format!("{path}.{k}"), out);
            }
        }
        (TypeRef::Named(name), _) => match spec.type_def(name).map(|t| &t.kind) {
            Some(TypeKind::Object(fields)) => object(spec, name, fields, value, path, out),
            Some(TypeKind::Enum(values)) => match value.as_str() {
                Some(s) if values.iter().any(|v| v.name == s) => {}
                _ => out.push(format!("`{path}` is {value}, not a `{name}` value")),
            },
            Some(TypeKind::Json) => {}
            Some(TypeKind::Scalar(scalar)) => {
                value_of(spec, &scalar.base.value, &scalar.constraints, value, path, out);
                if *constraints != Constraints::default() {
                    value_of(spec, &scalar.base.value, constraints, value, path, out);
                }
            }
            None => out.push(format!("`{path}`: the spec has no type `{name}`")),
        },
        (ty, value) => out.push(format!("`{path}` is {}, not {ty}", kind_of(value))),
    }
}

fn object(spec: &Spec, name: &str, fields: &[Field], value: &Value, path: &str, out: &mut Vec<String>) {
    let Value::Object(map) = value else {
        out.push(format!("`{path}` is {}, not a `{name}` object", kind_of(value)));
        return;
    };
    for f in fields {
        let here = format!("{path}.{}", f.name);
        match map.get(&f.name) {
            None if !f.optional => out.push(format!("`{here}` is missing")),
            None => {}
            Some(Value::Null) if f.nullable => {}
            Some(Value::Null) => out.push(format!("`{here}` is null, and `{name}.{}` is not nullable", f.name)),
            Some(v) => value_of(spec, &f.ty.value, &f.constraints, v, &here, out),
        }
    }
    for key in map.keys().filter(|k| !fields.iter().any(|f| f.name == **k)) {
        out.push(format!("`{path}.{key}` is not a field of `{name}`"));
    }
}

fn string(s: &str, c: &Constraints, path: &str, out: &mut Vec<String>) {
    let chars = s.chars().count() as u64;
    if c.min_length.is_some_and(|m| chars < m) || c.max_length.is_some_and(|m| chars > m) {
        out.push(format!("`{path}` has {chars} characters, outside {:?}..={:?}", c.min_length, c.max_length));
    }
    if let Some(pattern) = &c.pattern {
        if regex::Regex::new(&pattern.value).is_ok_and(|re| !re.is_match(s)) {
            out.push(format!("`{path}` = {s:?} does not match `{}`", pattern.value));
        }
    }
    if let Some(format) = c.format {
        if !format_of(format).accepts(s) {
            out.push(format!("`{path}` = {s:?} is not a {}", format.as_str()));
        }
    }
}

fn number(n: Option<f64>, c: &Constraints, path: &str, out: &mut Vec<String>) {
    let Some(n) = n else { return };
    if c.minimum.is_some_and(|m| n < m) || c.maximum.is_some_and(|m| n > m) {
        out.push(format!("`{path}` = {n} is outside {:?}..={:?}", c.minimum, c.maximum));
    }
}

/// The server runtime's reading of a format: one definition for the router and the
/// harness.
fn format_of(format: StringFormat) -> Format {
    match format {
        StringFormat::Url => Format::Url,
        StringFormat::Email => Format::Email,
        StringFormat::DateTime => Format::DateTime,
        StringFormat::Date => Format::Date,
        StringFormat::Uuid => Format::Uuid,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The start of a body, for a violation line.
pub(crate) fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let short: String = text.chars().take(120).collect();
    if short.len() < text.len() { format!("{short}…") } else { short }
}
