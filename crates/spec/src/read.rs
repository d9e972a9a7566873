//! Typed reading of YAML nodes, reporting every mismatch as a diagnostic.
//!
//! Readers return `None` after reporting, so the loader keeps going and one run lists
//! every problem of the spec, not just the first.

use crate::diagnostic::{Diagnostic, Sink};
use crate::source::Spanned;
use crate::suggest::help_for;
use crate::yaml::{Kind, Node};

/// The entries of a YAML mapping whose keys were checked against the known ones.
pub(crate) struct Fields<'n> {
    node: &'n Node,
    entries: Vec<(&'n str, &'n Node)>,
}

/// Reads `node` as a mapping with keys from `known`; reports any other key with the
/// nearest known one.
pub(crate) fn fields<'n>(node: &'n Node, what: &str, known: &[&str], sink: &mut Sink) -> Option<Fields<'n>> {
    let Kind::Map(entries) = &node.kind else {
        sink.push(
            Diagnostic::new(&node.loc, format!("expected {what} (a mapping), found {}", node.describe()))
                .help(format!("write it as `key: value` lines with keys {}", list(known))),
        );
        return None;
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let Some(name) = scalar(key) else {
            sink.push(
                Diagnostic::new(&key.loc, "a key must be a plain word").help(format!("use one of {}", list(known))),
            );
            continue;
        };
        if !known.contains(&name) {
            sink.push(
                Diagnostic::new(&key.loc.with_path(value.loc.path.clone()), format!("unknown key `{name}` in {what}"))
                    .help(help_for(name, known.iter().copied())),
            );
            continue;
        }
        out.push((name, value));
    }
    Some(Fields { node, entries: out })
}

fn list(known: &[&str]) -> String {
    known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

fn scalar(node: &Node) -> Option<&str> {
    match &node.kind {
        Kind::Scalar { value, .. } => Some(value),
        _ => None,
    }
}

impl<'n> Fields<'n> {
    /// The mapping itself.
    pub(crate) fn node(&self) -> &'n Node {
        self.node
    }

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// The value of `key`, reporting its absence.
    pub(crate) fn required(&self, key: &str, what: &str, sink: &mut Sink) -> Option<&'n Node> {
        let found = self.get(key);
        if found.is_none() {
            sink.push(
                Diagnostic::new(&self.node.loc, format!("{what} has no `{key}`")).help(format!("add `{key}: …` to it")),
            );
        }
        found
    }

    /// A required string.
    pub(crate) fn string(&self, key: &str, what: &str, sink: &mut Sink) -> Option<String> {
        self.required(key, what, sink).and_then(|n| string(n, sink))
    }

    /// An optional string.
    pub(crate) fn opt_string(&self, key: &str, sink: &mut Sink) -> Option<String> {
        self.get(key).and_then(|n| string(n, sink))
    }

    /// An optional string with its location.
    pub(crate) fn opt_spanned(&self, key: &str, sink: &mut Sink) -> Option<Spanned<String>> {
        self.get(key).and_then(|n| spanned_string(n, sink))
    }

    /// An optional string, or `""`.
    pub(crate) fn text(&self, key: &str, sink: &mut Sink) -> String {
        self.opt_string(key, sink).unwrap_or_default()
    }

    /// An optional boolean, or `default`.
    pub(crate) fn flag(&self, key: &str, default: bool, sink: &mut Sink) -> bool {
        self.get(key).and_then(|n| boolean(n, sink)).unwrap_or(default)
    }

    /// An optional unsigned integer.
    pub(crate) fn opt_uint<T: TryFrom<u64>>(&self, key: &str, sink: &mut Sink) -> Option<T> {
        self.get(key).and_then(|n| uint(n, sink))
    }

    /// A list of strings (a single string counts as a list of one).
    pub(crate) fn strings(&self, key: &str, sink: &mut Sink) -> Vec<Spanned<String>> {
        self.get(key).map(|n| strings(n, sink)).unwrap_or_default()
    }
}

/// Any scalar as a string; lists, mappings and null are reported.
pub(crate) fn string(node: &Node, sink: &mut Sink) -> Option<String> {
    spanned_string(node, sink).map(|s| s.value)
}

/// Any scalar as a string, with its location.
pub(crate) fn spanned_string(node: &Node, sink: &mut Sink) -> Option<Spanned<String>> {
    match &node.kind {
        Kind::Scalar { value, .. } if !node.is_null() => Some(Spanned::new(value.clone(), node.loc.clone())),
        _ => {
            sink.push(
                Diagnostic::new(&node.loc, format!("expected a string, found {}", node.describe()))
                    .help("write a single value here"),
            );
            None
        }
    }
}

/// An unsigned integer that fits `T`.
pub(crate) fn uint<T: TryFrom<u64>>(node: &Node, sink: &mut Sink) -> Option<T> {
    let parsed = match &node.kind {
        Kind::Scalar { value, plain: true } => value.parse::<u64>().ok(),
        _ => None,
    };
    let fitted = parsed.and_then(|v| T::try_from(v).ok());
    if fitted.is_none() {
        let shown = scalar(node).map_or_else(|| node.describe().to_owned(), |v| format!("`{v}`"));
        sink.push(
            Diagnostic::new(&node.loc, format!("expected a whole number, found {shown}"))
                .help("write an unquoted non-negative integer in range"),
        );
    }
    fitted
}

/// A number (integer or decimal).
pub(crate) fn number(node: &Node, sink: &mut Sink) -> Option<f64> {
    let parsed = match &node.kind {
        Kind::Scalar { value, plain: true } => value.parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    };
    if parsed.is_none() {
        sink.push(
            Diagnostic::new(&node.loc, format!("expected a number, found {}", node.describe()))
                .help("write an unquoted number such as `1` or `0.5`"),
        );
    }
    parsed
}

/// `true` or `false`.
pub(crate) fn boolean(node: &Node, sink: &mut Sink) -> Option<bool> {
    let parsed = match &node.kind {
        Kind::Scalar { value, plain: true } => match value.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    };
    if parsed.is_none() {
        sink.push(
            Diagnostic::new(&node.loc, format!("expected `true` or `false`, found {}", node.describe()))
                .help("write `true` or `false` without quotes"),
        );
    }
    parsed
}

/// The items of a list.
pub(crate) fn seq<'n>(node: &'n Node, what: &str, sink: &mut Sink) -> &'n [Node] {
    match &node.kind {
        Kind::Seq(items) => items,
        _ => {
            sink.push(
                Diagnostic::new(&node.loc, format!("expected {what} (a list), found {}", node.describe()))
                    .help("write one `- item` per line"),
            );
            &[]
        }
    }
}

/// The entries of a mapping whose keys are names the user chooses (types, fields).
pub(crate) fn named_entries<'n>(node: &'n Node, what: &str, sink: &mut Sink) -> Vec<(Spanned<String>, &'n Node)> {
    match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .filter_map(|(k, v)| {
                spanned_string(k, sink).map(|name| (Spanned::new(name.value, k.loc.with_path(v.loc.path.clone())), v))
            })
            .collect(),
        _ if node.is_null() => Vec::new(),
        _ => {
            sink.push(
                Diagnostic::new(&node.loc, format!("expected {what} (a mapping), found {}", node.describe()))
                    .help("write one `name: …` line per entry"),
            );
            Vec::new()
        }
    }
}

/// A list of strings; a single string counts as a list of one.
pub(crate) fn strings(node: &Node, sink: &mut Sink) -> Vec<Spanned<String>> {
    match &node.kind {
        Kind::Seq(items) => items.iter().filter_map(|n| spanned_string(n, sink)).collect(),
        _ => spanned_string(node, sink).into_iter().collect(),
    }
}

/// A value from a closed set of names, reporting others with the nearest one.
pub(crate) fn choice<T: Copy>(
    node: &Node,
    what: &str,
    options: &[T],
    name: fn(T) -> &'static str,
    sink: &mut Sink,
) -> Option<T> {
    let text = string(node, sink)?;
    let found = options.iter().copied().find(|o| name(*o) == text);
    if found.is_none() {
        sink.push(
            Diagnostic::new(&node.loc, format!("unknown {what} `{text}`"))
                .help(help_for(&text, options.iter().map(|o| name(*o)))),
        );
    }
    found
}
