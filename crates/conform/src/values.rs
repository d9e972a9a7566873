//! Values built from the spec's types: one valid value for each type and field (formats,
//! patterns, bounds, enums and catalogues kept), and, for each rule a field carries, a
//! value that breaks it.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use tenx_spec::{Constraints, Field, Spec, StringFormat, TypeKind, TypeRef};

/// Builds values; deterministic for one seed.
pub struct Generator<'s> {
    spec: &'s Spec,
    runner: TestRunner,
}

/// A field's value that breaks one of its rules, and which.
#[derive(Debug, Clone)]
pub struct Broken {
    /// The rule broken (`pattern`, `max_length`, `required`, …).
    pub rule: String,
    /// The value, or `None` for a field left out.
    pub value: Option<Value>,
}

impl<'s> Generator<'s> {
    /// A generator over `spec`, seeded.
    pub fn new(spec: &'s Spec, seed: u64) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        Generator { spec, runner: TestRunner::new_with_rng(Config::default(), rng) }
    }

    /// A valid value of a field.
    pub fn field(&mut self, field: &Field) -> Value {
        let rules = self.spec.field_rules(field);
        self.value(&field.ty.value, &rules)
    }

    /// A valid value of `ty` under `rules`.
    pub fn value(&mut self, ty: &TypeRef, rules: &Constraints) -> Value {
        match ty {
            TypeRef::String | TypeRef::Text => Value::String(self.string(rules)),
            TypeRef::Integer | TypeRef::Number => {
                // 1, or the least allowed value above it, or the greatest below.
                let low = rules.minimum.map_or(1.0, |m| m.max(1.0).ceil());
                let v = rules.maximum.map_or(low, |hi| low.min(hi.floor()));
                if *ty == TypeRef::Integer { json!(v as i64) } else { json!(v) }
            }
            TypeRef::Boolean => Value::Bool(true),
            TypeRef::Json | TypeRef::Binary => json!({}),
            TypeRef::List(inner) => {
                let item = self.value(inner, &Constraints::default());
                Value::Array(if rules.max_items == Some(0) { vec![] } else { vec![item] })
            }
            TypeRef::Map(inner) => {
                let item = self.value(inner, &Constraints::default());
                json!({ "conform": item })
            }
            TypeRef::Named(name) => match self.spec.type_def(name).map(|t| t.kind.clone()) {
                Some(TypeKind::Object(fields)) => {
                    let mut map = Map::new();
                    for f in &fields {
                        let v = self.field(f);
                        map.insert(f.name.clone(), v);
                    }
                    Value::Object(map)
                }
                Some(TypeKind::Enum(values)) => values.first().map_or(Value::Null, |v| Value::String(v.name.clone())),
                Some(TypeKind::Scalar(scalar)) => {
                    let mut merged = scalar.constraints.clone();
                    merged.pattern = rules.pattern.clone().or(merged.pattern);
                    merged.min_length = rules.min_length.or(merged.min_length);
                    merged.max_length = rules.max_length.or(merged.max_length);
                    self.value(&scalar.base.value, &merged)
                }
                Some(TypeKind::Json) | None => json!({}),
            },
        }
    }

    fn string(&mut self, rules: &Constraints) -> String {
        if let Some(catalogue) = &rules.catalogue {
            if catalogue.value == "scopes" {
                if let Some(s) = self.spec.scopes.iter().find(|s| !s.name.ends_with('*')) {
                    return s.name.clone();
                }
            }
        }
        if let Some(format) = rules.format {
            return match format {
                StringFormat::Url => "https://conform.example/target".to_owned(),
                StringFormat::Email => "conform@example.com".to_owned(),
                StringFormat::DateTime => "2026-01-02T03:04:05Z".to_owned(),
                StringFormat::Date => "2026-01-02".to_owned(),
                StringFormat::Uuid => "00000000-0000-4000-8000-000000000000".to_owned(),
            };
        }
        let (min, max) = (rules.min_length.unwrap_or(1).max(1), rules.max_length.unwrap_or(u64::MAX));
        if let Some(pattern) = &rules.pattern {
            if let Ok(strategy) = proptest::string::string_regex(&pattern.value) {
                for _ in 0..64 {
                    if let Ok(tree) = strategy.new_tree(&mut self.runner) {
                        let s = tree.current();
                        let n = s.chars().count() as u64;
                        if (min..=max).contains(&n) {
                            return s;
                        }
                    }
                }
            }
        }
        "conform".chars().cycle().take(usize::try_from(min.max(7).min(max)).unwrap_or(7)).collect()
    }

    /// For each rule of `field`, a value that breaks it (a required field also breaks by
    /// being left out).
    pub fn broken(&mut self, field: &Field) -> Vec<Broken> {
        let rules = self.spec.field_rules(field);
        let mut out = Vec::new();
        let mut push = |rule: &str, value: Option<Value>| out.push(Broken { rule: rule.to_owned(), value });
        if !field.optional {
            push("required", None);
        }
        let base = match &field.ty.value {
            TypeRef::Named(n) => match self.spec.type_def(n).map(|t| &t.kind) {
                Some(TypeKind::Scalar(s)) => s.base.value.clone(),
                Some(TypeKind::Enum(_)) => {
                    push("enum", Some(json!("not-a-value-of-the-enum")));
                    return out;
                }
                Some(TypeKind::Object(_)) => {
                    push("type", Some(json!("not an object")));
                    return out;
                }
                _ => return out,
            },
            other => other.clone(),
        };
        match base {
            TypeRef::String => {
                push("type", Some(json!(12345)));
                if let Some(min) = rules.min_length.filter(|m| *m > 0) {
                    push("min_length", Some(Value::String("c".repeat(usize::try_from(min - 1).unwrap_or(0)))));
                }
                if let Some(max) = rules.max_length {
                    push("max_length", Some(Value::String("c".repeat(usize::try_from(max + 1).unwrap_or(1)))));
                }
                if rules.pattern.is_some() || rules.format.is_some() || rules.catalogue.is_some() {
                    push("pattern/format", Some(json!(" not valid !")));
                }
            }
            TypeRef::Integer | TypeRef::Number => {
                push("type", Some(json!("not a number")));
                if let Some(min) = rules.minimum {
                    push("minimum", Some(json!(min - 1.0)));
                }
                if let Some(max) = rules.maximum {
                    push("maximum", Some(json!(max + 1.0)));
                }
            }
            TypeRef::Boolean => push("type", Some(json!("not a boolean"))),
            TypeRef::List(_) => {
                push("type", Some(json!("not a list")));
                if let Some(max) = rules.max_items {
                    let item = self.field(&Field {
                        ty: tenx_spec::Spanned::new(list_item(&field.ty.value), field.loc.clone()),
                        constraints: Constraints::default(),
                        ..field.clone()
                    });
                    push("max_items", Some(Value::Array(vec![item; usize::try_from(max + 1).unwrap_or(1)])));
                }
            }
            _ => {}
        }
        out
    }
}

fn list_item(ty: &TypeRef) -> TypeRef {
    match ty {
        TypeRef::List(inner) => (**inner).clone(),
        other => other.clone(),
    }
}
