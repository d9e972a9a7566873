//! Body, query and path validation against the spec's types, as static data the
//! generated server emits. Violations name the field and answer with the spec's code
//! (`invalid_slug`, `invalid_destination_url`, …) or `validation_error`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::Value;

use crate::failure::{Failure, Situation};

/// A type of the spec.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// A string.
    String,
    /// A 64-bit integer.
    Integer,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// Any JSON value.
    Json,
    /// A plain-text body (never inside JSON: the spec allows it only as a body).
    Text,
    /// A binary body (likewise).
    Binary,
    /// A list.
    List(&'static Ty),
    /// An object with string keys and values of one type.
    Map(&'static Ty),
    /// An object type of the spec.
    Object(&'static ObjectSchema),
    /// A string enum.
    Enum(&'static [&'static str]),
    /// A named primitive with checks of its own (a handle, a scope name).
    Scalar(&'static ScalarSchema),
}

/// A named primitive type with checks.
#[derive(Debug, Clone, Copy)]
pub struct ScalarSchema {
    /// The type's name.
    pub name: &'static str,
    /// The primitive.
    pub ty: Ty,
    /// Its checks.
    pub rules: Rules,
}

/// A string format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An absolute http(s) URL.
    Url,
    /// An email address.
    Email,
    /// RFC 3339 date and time.
    DateTime,
    /// RFC 3339 date.
    Date,
    /// A UUID.
    Uuid,
}

/// Checks beyond the type.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// A regex the whole string matches.
    pub pattern: Option<&'static str>,
    /// A string format.
    pub format: Option<Format>,
    /// Shortest string, in characters.
    pub min_length: Option<u64>,
    /// Longest string, in characters.
    pub max_length: Option<u64>,
    /// Smallest number.
    pub minimum: Option<f64>,
    /// Largest number.
    pub maximum: Option<f64>,
    /// Most list items.
    pub max_items: Option<u64>,
    /// The only values allowed (a catalogue of the spec, such as its scopes).
    pub one_of: Option<&'static [&'static str]>,
    /// The code a violation answers (default `validation_error`).
    pub error: Option<&'static str>,
}

impl Rules {
    /// No rules.
    pub const NONE: Rules = Rules {
        pattern: None,
        format: None,
        min_length: None,
        max_length: None,
        minimum: None,
        maximum: None,
        max_items: None,
        one_of: None,
        error: None,
    };
}

/// A field of an object type (or a path or query parameter).
#[derive(Debug, Clone, Copy)]
pub struct FieldSchema {
    /// The wire name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// May be absent.
    pub optional: bool,
    /// May be null.
    pub nullable: bool,
    /// Extra checks.
    pub rules: Rules,
}

/// An object type.
#[derive(Debug, Clone, Copy)]
pub struct ObjectSchema {
    /// The type's name.
    pub name: &'static str,
    /// Its fields.
    pub fields: &'static [FieldSchema],
}

/// A broken rule: the field's own code if it names one, else the spec's answer for
/// invalid input.
pub(crate) fn fail(rules: &Rules, path: &str, what: &str) -> Failure {
    let message = format!("`{path}` {what}");
    match rules.error {
        Some(code) => Failure::new(code, message),
        None => Failure::of(Situation::InvalidInput, message),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// Regexes compiled once per pattern. Shared through `Arc`: cloning a `Regex` itself
/// would give each request a fresh match cache to allocate.
fn regex(pattern: &'static str) -> Option<Arc<regex::Regex>> {
    static CACHE: OnceLock<RwLock<HashMap<&'static str, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.read().ok().and_then(|c| c.get(pattern).cloned()) {
        return Some(r);
    }
    let compiled = Arc::new(regex::Regex::new(pattern).ok()?);
    if let Ok(mut c) = cache.write() {
        c.insert(pattern, compiled.clone());
    }
    Some(compiled)
}

impl Format {
    /// Whether `s` has this format: the one reading of the formats, for the router and
    /// for anything that checks answers (the conformance harness).
    pub fn accepts(self, s: &str) -> bool {
        format_ok(self, s)
    }
}

fn format_ok(format: Format, s: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    match format {
        Format::Url => url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some()),
        Format::Email => s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !s.contains(char::is_whitespace)
        }),
        Format::Date => s.len() == 10 && s.split('-').map(digits).filter(|ok| *ok).count() == 3,
        Format::DateTime => {
            // `get`, not slicing: a byte offset inside a character is a refusal, not a panic.
            s.len() >= 20
                && s.get(..10).is_some_and(|d| format_ok(Format::Date, d))
                && s.as_bytes().get(10).is_some_and(|b| *b == b'T' || *b == b't')
                && (s.ends_with('Z') || s.ends_with('z') || s.get(19..).is_some_and(|t| t.contains(['+', '-'])))
        }
        Format::Uuid => uuid::Uuid::parse_str(s).is_ok(),
    }
}

/// Checks `value` against a field's type and rules.
pub fn check(value: &Value, field: &FieldSchema, path: &str) -> Result<(), Failure> {
    check_ty(value, &field.ty, field.nullable, &field.rules, path)
}

fn check_ty(value: &Value, ty: &Ty, nullable: bool, rules: &Rules, path: &str) -> Result<(), Failure> {
    if value.is_null() {
        return if nullable { Ok(()) } else { Err(fail(rules, path, "must not be null")) };
    }
    match (ty, value) {
        (Ty::Json, _) => Ok(()),
        (Ty::Scalar(scalar), _) => {
            // The type's checks, then the field's own; the field's code wins.
            let own = Rules { error: rules.error.or(scalar.rules.error), ..scalar.rules };
            check_ty(value, &scalar.ty, nullable, &own, path)?;
            check_ty(value, &scalar.ty, nullable, &Rules { error: own.error, ..*rules }, path)
        }
        (Ty::String, Value::String(s)) => check_string(s, rules, path),
        (Ty::Enum(values), Value::String(s)) => {
            if values.contains(&s.as_str()) {
                Ok(())
            } else {
                Err(fail(rules, path, &format!("must be one of {}", values.join(", "))))
            }
        }
        // A 64-bit signed integer, as every generated type holds it: 2^63 is no integer
        // of the spec, though JSON can write it.
        (Ty::Integer, Value::Number(n)) if n.is_i64() => check_number(n, rules, path),
        (Ty::Number, Value::Number(n)) => check_number(n, rules, path),
        (Ty::Boolean, Value::Bool(_)) => Ok(()),
        (Ty::List(inner), Value::Array(items)) => {
            if let Some(max) = rules.max_items.filter(|max| items.len() as u64 > *max) {
                return Err(fail(rules, path, &format!("has more than {max} items")));
            }
            for (i, item) in items.iter().enumerate() {
                check_ty(item, inner, false, &Rules { error: rules.error, ..Rules::NONE }, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Ty::Map(inner), Value::Object(map)) => {
            for (k, v) in map {
                check_ty(v, inner, false, &Rules::NONE, &join(path, k))?;
            }
            Ok(())
        }
        (Ty::Object(schema), Value::Object(_)) => check_object(value, schema, path).map_err(|f| match rules.error {
            // The object field's own code wins over the generic one of its inner fields.
            Some(code) if f.situation == Some(Situation::InvalidInput) => {
                Failure { code: code.into(), situation: None, ..f }
            }
            _ => f,
        }),
        (ty, _) => Err(fail(rules, path, &format!("must be {}", describe(ty)))),
    }
}

fn describe(ty: &Ty) -> &'static str {
    match ty {
        Ty::Scalar(scalar) => describe(&scalar.ty),
        Ty::String | Ty::Enum(_) => "a string",
        Ty::Integer => "an integer",
        Ty::Number => "a number",
        Ty::Boolean => "a boolean",
        Ty::Json => "a JSON value",
        Ty::Text => "plain text",
        Ty::Binary => "bytes",
        Ty::List(_) => "a list",
        Ty::Map(_) | Ty::Object(_) => "an object",
    }
}

fn check_string(s: &str, rules: &Rules, path: &str) -> Result<(), Failure> {
    let chars = s.chars().count() as u64;
    if let Some(min) = rules.min_length.filter(|min| chars < *min) {
        return Err(fail(rules, path, &format!("must have at least {min} characters")));
    }
    if let Some(max) = rules.max_length.filter(|max| chars > *max) {
        return Err(fail(rules, path, &format!("must have at most {max} characters")));
    }
    if let Some(pattern) = rules.pattern {
        if !regex(pattern).is_some_and(|r| r.is_match(s)) {
            return Err(fail(rules, path, &format!("must match `{pattern}`")));
        }
    }
    if let Some(allowed) = rules.one_of {
        if !allowed.contains(&s) {
            return Err(fail(rules, path, &format!("must be one of {}", allowed.join(", "))));
        }
    }
    if let Some(format) = rules.format {
        if !format_ok(format, s) {
            let what = match format {
                Format::Url => "must be an absolute http(s) URL",
                Format::Email => "must be an email address",
                Format::DateTime => "must be an RFC 3339 date and time",
                Format::Date => "must be an RFC 3339 date",
                Format::Uuid => "must be a UUID",
            };
            return Err(fail(rules, path, what));
        }
    }
    Ok(())
}

fn check_number(n: &serde_json::Number, rules: &Rules, path: &str) -> Result<(), Failure> {
    // Every JSON number has an f64 reading; one without can be bounded by nothing.
    let Some(n) = n.as_f64() else { return Err(fail(rules, path, "must be a finite number")) };
    if let Some(min) = rules.minimum.filter(|min| n < *min) {
        return Err(fail(rules, path, &format!("must be at least {min}")));
    }
    if let Some(max) = rules.maximum.filter(|max| n > *max) {
        return Err(fail(rules, path, &format!("must be at most {max}")));
    }
    Ok(())
}

/// Checks an object against its schema: required fields present, every field valid.
/// Unknown fields are allowed (clients newer than the server may send more).
pub fn check_object(value: &Value, schema: &ObjectSchema, path: &str) -> Result<(), Failure> {
    let Value::Object(map) = value else {
        return Err(Failure::of(
            Situation::InvalidInput,
            format!("`{}` must be an object", if path.is_empty() { "body" } else { path }),
        ));
    };
    for field in schema.fields {
        let at = join(path, field.name);
        match map.get(field.name) {
            None if field.optional => {}
            None => return Err(fail(&field.rules, &at, "is required")),
            // Null is a value: an optional field that is not nullable is absent or of
            // its type, as the OpenAPI export and the clients' types say.
            Some(v) => check(v, field, &at)?,
        }
    }
    Ok(())
}

/// Parses and checks a JSON body: not JSON → `invalid_payload`; then the type's rules.
pub fn check_body(bytes: &[u8], ty: &Ty) -> Result<Value, Failure> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let why =
            if bytes.iter().all(u8::is_ascii_whitespace) { "the body is empty".to_owned() } else { e.to_string() };
        Failure::of(Situation::InvalidBody, format!("The body is not valid JSON: {why}."))
    })?;
    whole_numbers_as_integers(&mut value);
    check_ty(&value, ty, false, &Rules::NONE, "body")?;
    Ok(value)
}

/// `2.0` is the integer 2, as JSON Schema has it: whole numbers written with a fraction
/// become integers, so an `integer` field takes them (and a typed handler reads them).
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Whether a handler's JSON answer is of its declared type, strictly: its rules hold and
/// no object carries a field its type does not declare. `Err` says where it departs.
pub fn check_answer(bytes: &[u8], ty: &Ty) -> Result<(), String> {
    let value = check_body(bytes, ty).map_err(|f| f.message)?;
    let mut extra = Vec::new();
    undeclared_fields(&value, ty, "body", &mut extra);
    if extra.is_empty() { Ok(()) } else { Err(format!("undeclared fields: {}", extra.join(", "))) }
}

/// The paths of object fields a value carries beyond its type's declaration.
fn undeclared_fields(value: &Value, ty: &Ty, path: &str, out: &mut Vec<String>) {
    match (ty, value) {
        (Ty::Object(schema), Value::Object(map)) => {
            for (key, v) in map {
                match schema.fields.iter().find(|f| f.name == key) {
                    Some(field) => undeclared_fields(v, &field.ty, &join(path, key), out),
                    None => out.push(format!("`{}`", join(path, key))),
                }
            }
        }
        (Ty::List(inner), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                undeclared_fields(item, inner, &format!("{path}[{i}]"), out);
            }
        }
        (Ty::Map(inner), Value::Object(map)) => {
            for (key, v) in map {
                undeclared_fields(v, inner, &join(path, key), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TRACKING: ObjectSchema = ObjectSchema {
        name: "LinkTracking",
        fields: &[FieldSchema {
            name: "utmSource",
            ty: Ty::String,
            optional: true,
            nullable: false,
            rules: Rules::NONE,
        }],
    };
    static LINK: ObjectSchema = ObjectSchema {
        name: "UpsertLinkRequest",
        fields: &[
            FieldSchema {
                name: "destinationUrl",
                ty: Ty::String,
                optional: false,
                nullable: false,
                rules: Rules { format: Some(Format::Url), error: Some("invalid_destination_url"), ..Rules::NONE },
            },
            FieldSchema {
                name: "maxClicks",
                ty: Ty::Integer,
                optional: true,
                nullable: true,
                rules: Rules { minimum: Some(1.0), ..Rules::NONE },
            },
            FieldSchema {
                name: "tags",
                ty: Ty::List(&Ty::String),
                optional: true,
                nullable: false,
                rules: Rules { max_items: Some(2), ..Rules::NONE },
            },
            FieldSchema {
                name: "tracking",
                ty: Ty::Object(&TRACKING),
                optional: true,
                nullable: false,
                rules: Rules::NONE,
            },
        ],
    };

    static ANSWERS: crate::failure::Answers = crate::failure::Answers {
        codes: &[(Situation::InvalidInput, "validation_error"), (Situation::InvalidBody, "invalid_payload")],
        catalogue: &[],
    };

    fn code(body: &str) -> (String, String) {
        match check_body(body.as_bytes(), &Ty::Object(&LINK)) {
            Ok(_) => ("ok".into(), String::new()),
            Err(f) => {
                let f = f.resolve(&ANSWERS);
                (f.code.to_string(), f.message)
            }
        }
    }

    #[test]
    fn answers_with_the_spec_code_and_names_the_field() {
        assert_eq!(code(r#"{"destinationUrl":"https://example.com/p"}"#).0, "ok");
        assert_eq!(code(r#"{"destinationUrl":"https://example.com","maxClicks":null}"#).0, "ok");
        assert_eq!(code("{"), ("invalid_payload".into(), code("{").1));
        assert!(code("").1.contains("the body is empty"));
        assert_eq!(code("{}"), ("invalid_destination_url".into(), "`body.destinationUrl` is required".into()));
        assert_eq!(code(r#"{"destinationUrl":"ftp://x"}"#).0, "invalid_destination_url");
        assert_eq!(
            code(r#"{"destinationUrl":"https://e.com","maxClicks":0}"#),
            ("validation_error".into(), "`body.maxClicks` must be at least 1".into())
        );
        assert_eq!(
            code(r#"{"destinationUrl":"https://e.com","maxClicks":"x"}"#).1,
            "`body.maxClicks` must be an integer"
        );
        assert_eq!(
            code(r#"{"destinationUrl":"https://e.com","tags":["a","b","c"]}"#).1,
            "`body.tags` has more than 2 items"
        );
        assert_eq!(
            code(r#"{"destinationUrl":"https://e.com","tracking":{"utmSource":5}}"#).1,
            "`body.tracking.utmSource` must be a string"
        );
        assert_eq!(code("[]").1, "`body` must be an object");
    }

    #[test]
    fn null_is_only_for_nullable_fields_and_integers_are_64_bit() {
        // `tags` may be absent but not null (schemathesis found a null accepted).
        assert_eq!(code(r#"{"destinationUrl":"https://e.com","tags":null}"#).1, "`body.tags` must not be null");
        assert_eq!(code(r#"{"destinationUrl":"https://e.com"}"#).0, "ok");
        // 2^63 is JSON, but no i64: refused, not passed on to fail in the handler.
        assert_eq!(
            code(r#"{"destinationUrl":"https://e.com","maxClicks":9223372036854775808}"#).1,
            "`body.maxClicks` must be an integer"
        );
        assert_eq!(code(r#"{"destinationUrl":"https://e.com","maxClicks":9223372036854775807}"#).0, "ok");
    }

    #[test]
    fn formats() {
        assert!(
            format_ok(Format::Email, "a@b.co")
                && !format_ok(Format::Email, "a@b")
                && !format_ok(Format::Email, "@b.co")
        );
        assert!(
            format_ok(Format::DateTime, "2026-11-28T05:00:00Z")
                && format_ok(Format::DateTime, "2026-11-28T05:00:00.5+01:00")
        );
        assert!(!format_ok(Format::DateTime, "2026-11-28") && format_ok(Format::Date, "2026-11-28"));
        assert!(format_ok(Format::Url, "http://localhost:8080/x") && !format_ok(Format::Url, "javascript:alert(1)"));
    }
}

#[cfg(test)]
mod whole_numbers {
    use super::*;

    static COUNTED: ObjectSchema = ObjectSchema {
        name: "Counted",
        fields: &[FieldSchema {
            name: "maxClicks",
            ty: Ty::Integer,
            optional: false,
            nullable: false,
            rules: Rules::NONE,
        }],
    };

    #[test]
    fn a_whole_number_written_with_a_fraction_is_an_integer() {
        // JSON Schema (and so schemathesis) counts 2147483647.0 as an integer.
        let value = check_body(br#"{"maxClicks": 2147483647.0}"#, &Ty::Object(&COUNTED)).expect("an integer");
        assert_eq!(value["maxClicks"].as_i64(), Some(2_147_483_647));
        let f = check_body(br#"{"maxClicks": 1.5}"#, &Ty::Object(&COUNTED)).expect_err("not whole");
        assert!(f.message.contains("must be an integer"), "{}", f.message);
    }
}

#[cfg(test)]
mod hostile_formats {
    use super::*;

    #[test]
    fn a_date_time_cut_inside_a_character_is_refused_not_a_panic() {
        // `é` is two bytes: byte 10 (and 19) fall inside characters.
        for s in ["2026-11-2é0000000000Z", "2026-11-28T05:00:0é+01:00", "éééééééééééééééééééé"] {
            assert!(!Format::DateTime.accepts(s), "{s}");
        }
        assert!(Format::DateTime.accepts("2026-11-28T05:00:00Z"));
    }
}
