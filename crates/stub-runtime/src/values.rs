//! Values built from the router's type schemas: for any declared type, a value that
//! passes the router's own checks of it (formats, patterns, bounds, enums, catalogues
//! and nested types kept), deterministic for a seed.

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use serde_json::{Map, Number, Value};
use tenx_server_runtime::schema::{FieldSchema, Format, Rules, Ty};

/// Nesting deeper than this stops adding optional fields and list items, so a recursive
/// type (an account tree) ends.
const MAX_DEPTH: usize = 4;

/// How many samples of a pattern are drawn before giving up on the length bounds.
const PATTERN_TRIES: usize = 64;

/// Builds values; the same seed gives the same values in the same order.
pub struct Values {
    rng: StdRng,
}

impl Values {
    /// A generator seeded by `seed`.
    pub fn new(seed: u64) -> Self {
        Values { rng: StdRng::seed_from_u64(seed) }
    }

    /// A value of a field (its type and its rules; null only when it must be).
    pub fn field(&mut self, field: &FieldSchema) -> Value {
        self.value(&field.ty, &field.rules, 0)
    }

    /// A value of `ty` under `rules`.
    pub fn value(&mut self, ty: &Ty, rules: &Rules, depth: usize) -> Value {
        if depth > 2 * MAX_DEPTH {
            // A required, non-nullable cycle has no finite value; the validator should
            // refuse such a type, and this keeps the stub from looping if it does not.
            return Value::Null;
        }
        match ty {
            Ty::String | Ty::Text => Value::String(self.string(rules)),
            Ty::Integer => Value::from(self.integer(rules)),
            Ty::Number => {
                let n = self.integer(rules) as f64;
                // A fraction where the bounds leave room for one, so a client's float
                // decoding is exercised.
                let with_fraction = n + 0.5;
                let fits = rules.maximum.is_none_or(|max| with_fraction <= max);
                Number::from_f64(if fits { with_fraction } else { n }).map_or(Value::Null, Value::Number)
            }
            Ty::Boolean => Value::Bool(self.rng.random()),
            Ty::Json | Ty::Binary => {
                let mut map = Map::new();
                map.insert("stub".to_owned(), Value::Bool(true));
                Value::Object(map)
            }
            Ty::List(inner) => {
                // Short lists, and one item below the top: a tree stays small.
                let most = rules.max_items.unwrap_or(3).min(if depth < 2 { 3 } else { 1 });
                let n = if depth >= MAX_DEPTH || most == 0 { 0 } else { self.rng.random_range(1..=most) };
                // A list's catalogue (`one_of`) applies to its items.
                let item_rules = Rules { one_of: rules.one_of, ..Rules::NONE };
                Value::Array((0..n).map(|_| self.value(inner, &item_rules, depth + 1)).collect())
            }
            Ty::Map(inner) => {
                let mut map = Map::new();
                if depth < MAX_DEPTH {
                    let key = format!("key{}", self.rng.random_range(1..100));
                    map.insert(key, self.value(inner, &Rules::NONE, depth + 1));
                }
                Value::Object(map)
            }
            Ty::Object(object) => {
                let mut map = Map::new();
                for f in object.fields {
                    // Optional fields are sent (a client's decoding of them is what
                    // a stub is for), until the nesting is deep.
                    if f.optional && depth >= MAX_DEPTH {
                        continue;
                    }
                    let v = if f.nullable && depth >= MAX_DEPTH {
                        Value::Null
                    } else {
                        self.value(&f.ty, &f.rules, depth + 1)
                    };
                    map.insert(f.name.to_owned(), v);
                }
                Value::Object(map)
            }
            Ty::Enum(values) => pick(&mut self.rng, values).map_or(Value::Null, |v| Value::String((*v).to_owned())),
            Ty::Scalar(scalar) => {
                // The field's rules narrow the type's own, as the router checks both.
                let merged = Rules {
                    pattern: rules.pattern.or(scalar.rules.pattern),
                    format: rules.format.or(scalar.rules.format),
                    min_length: tighter(rules.min_length, scalar.rules.min_length, u64::max),
                    max_length: tighter(rules.max_length, scalar.rules.max_length, u64::min),
                    minimum: tighter(rules.minimum, scalar.rules.minimum, f64::max),
                    maximum: tighter(rules.maximum, scalar.rules.maximum, f64::min),
                    max_items: tighter(rules.max_items, scalar.rules.max_items, u64::min),
                    one_of: rules.one_of.or(scalar.rules.one_of),
                    error: None,
                };
                self.value(&scalar.ty, &merged, depth)
            }
        }
    }

    /// Bytes for a binary answer.
    pub fn bytes(&mut self) -> Vec<u8> {
        let n = self.rng.random_range(8..32);
        (0..n).map(|_| self.rng.random()).collect()
    }

    fn integer(&mut self, rules: &Rules) -> i64 {
        // Bounds are f64 in the schema; clamp into i64 before drawing.
        let low = rules.minimum.map_or(1.0, f64::ceil).clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        let high = rules.maximum.map_or((low as f64).max(0.0) + 1000.0, f64::floor);
        let high = high.clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        if high <= low { low } else { self.rng.random_range(low..=high) }
    }

    fn string(&mut self, rules: &Rules) -> String {
        if let Some(allowed) = rules.one_of {
            // Wildcard scopes (`links.*`) are catalogue entries, not names a caller holds.
            let names: Vec<&&str> = allowed.iter().filter(|s| !s.contains('*')).collect();
            if let Some(s) = pick(&mut self.rng, &names) {
                return (**s).to_owned();
            }
        }
        let n = self.rng.random_range(1..10_000u32);
        if let Some(format) = rules.format {
            return match format {
                Format::Url => format!("https://stub.example/r/{n}"),
                Format::Email => format!("stub{n}@example.com"),
                Format::DateTime => {
                    let (day, second) = (self.rng.random_range(1..=28), self.rng.random_range(0..86_400));
                    format!("2026-03-{day:02}T{:02}:{:02}:{:02}Z", second / 3600, second / 60 % 60, second % 60)
                }
                Format::Date => format!("2026-03-{:02}", self.rng.random_range(1..=28)),
                Format::Uuid => uuid::Builder::from_random_bytes(self.rng.random()).into_uuid().to_string(),
            };
        }
        let (min, max) = (rules.min_length.unwrap_or(0), rules.max_length.unwrap_or(u64::MAX));
        if let Some(pattern) = rules.pattern {
            if let Some(s) = self.matching(pattern, min, max) {
                return s;
            }
        }
        // Words of letters, as long as the bounds allow.
        let len = usize::try_from(min.max(6).min(max)).unwrap_or(6);
        let mut s = format!("stub{n}");
        while s.len() < len {
            s.push('x');
        }
        s.truncate(len);
        s
    }

    /// A string matching `pattern` (a whole-string regex) within the length bounds.
    fn matching(&mut self, pattern: &str, min: u64, max: u64) -> Option<String> {
        // The generator takes no anchors; the router's check anchors the pattern
        // anyway, so the sample is held to the real regex below.
        let bare = pattern.strip_prefix('^').unwrap_or(pattern);
        let bare = bare.strip_suffix('$').filter(|b| !b.ends_with('\\')).unwrap_or(bare);
        let generator = rand_regex::Regex::compile(bare, 8).ok()?;
        let check = regex::Regex::new(pattern).ok()?;
        (0..PATTERN_TRIES).find_map(|_| {
            let s: String = self.rng.sample::<Result<String, _>, _>(&generator).ok()?;
            let n = s.chars().count() as u64;
            ((min..=max).contains(&n) && check.is_match(&s)).then_some(s)
        })
    }
}

fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() { None } else { items.get(rng.random_range(0..items.len())) }
}

/// The tighter of two optional bounds, as `pick` chooses; the one given if only one is.
fn tighter<T>(a: Option<T>, b: Option<T>, pick: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenx_server_runtime::schema::{self, ObjectSchema, ScalarSchema};

    /// Whether `value` passes the router's check of `field`: what every value built here
    /// must do.
    fn passes(value: &Value, field: &FieldSchema) -> bool {
        schema::check(value, field, field.name).is_ok()
    }

    const fn field(name: &'static str, ty: Ty, rules: Rules) -> FieldSchema {
        FieldSchema { name, ty, optional: false, nullable: false, rules }
    }

    static HANDLE: ScalarSchema = ScalarSchema {
        name: "Handle",
        ty: Ty::String,
        rules: Rules { pattern: Some("^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$"), ..Rules::NONE },
    };
    static NODE: ObjectSchema = ObjectSchema {
        name: "Node",
        fields: &[
            field("id", Ty::Scalar(&HANDLE), Rules::NONE),
            field("slug", Ty::String, Rules { pattern: Some("^[A-Za-z0-9_-]{4,24}$"), ..Rules::NONE }),
            field("at", Ty::String, Rules { format: Some(Format::DateTime), ..Rules::NONE }),
            field("url", Ty::String, Rules { format: Some(Format::Url), ..Rules::NONE }),
            field("key", Ty::String, Rules { format: Some(Format::Uuid), ..Rules::NONE }),
            field("count", Ty::Integer, Rules { minimum: Some(10.0), maximum: Some(12.0), ..Rules::NONE }),
            field("share", Ty::Number, Rules { minimum: Some(0.0), maximum: Some(1.0), ..Rules::NONE }),
            field("state", Ty::Enum(&["OPEN", "CLOSED"]), Rules::NONE),
            field("scopes", Ty::List(&Ty::String), Rules { one_of: Some(&["a.read", "a.*"]), ..Rules::NONE }),
            field("name", Ty::String, Rules { min_length: Some(3), max_length: Some(4), ..Rules::NONE }),
            FieldSchema { optional: true, ..field("children", Ty::List(&Ty::Object(&NODE)), Rules::NONE) },
            FieldSchema { nullable: true, ..field("parent", Ty::Object(&NODE), Rules::NONE) },
        ],
    };

    #[test]
    fn every_value_passes_the_routers_own_check_and_the_seed_decides_it() {
        let node = field("body", Ty::Object(&NODE), Rules::NONE);
        for seed in 0..50 {
            let value = Values::new(seed).field(&node);
            assert!(passes(&value, &node), "seed {seed}: {value:#}");
            assert_eq!(value, Values::new(seed).field(&node), "seed {seed} is deterministic");
            // A catalogue's wildcards are never handed out as names.
            assert!(!value["scopes"].to_string().contains('*'), "{value}");
        }
        assert_ne!(Values::new(1).field(&node), Values::new(2).field(&node));
    }

    #[test]
    fn a_recursive_type_ends() {
        let node = field("body", Ty::Object(&NODE), Rules::NONE);
        let text = Values::new(7).field(&node).to_string();
        assert!(text.len() < 2_000_000, "{} bytes", text.len());
    }

    #[test]
    fn bounds_that_leave_one_value_give_that_value() {
        let one = field("n", Ty::Integer, Rules { minimum: Some(5.0), maximum: Some(5.0), ..Rules::NONE });
        assert_eq!(Values::new(3).field(&one), Value::from(5));
    }
}
