//! A YAML tree whose every node knows its file, line, column, byte range and YAML path.
//!
//! `yaml-rust2`'s event parser gives positions; its own tree drops them, so we build ours.
//! The builder is iterative (no recursion on nesting), refuses aliases (a spec is plain
//! data, and expanding aliases is how "billion laughs" inputs blow up), and reports
//! duplicate keys, which YAML libraries silently resolve to the last one.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::diagnostic::{Diagnostic, Sink};
use crate::source::{FileId, Loc};

/// Nesting deeper than this is refused: no spec needs it, and it bounds the work.
const MAX_DEPTH: usize = 64;

/// A YAML value with its location.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A scalar; `plain` is false for quoted and block scalars, which are always strings.
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Whether this is YAML's null (`~`, `null`, or nothing at all).
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { value, plain: true } if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What kind of value this is, for "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            _ if self.is_null() => "nothing (null)",
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// Maps byte offsets to 1-based line and column (in characters).
struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn clamp(&self, mut offset: usize) -> usize {
        offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// Line, column and the end of the line holding `offset`.
    fn locate(&self, offset: usize) -> (u32, u32, usize) {
        let offset = self.clamp(offset);
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts[line];
        let col = self.text[start..offset].chars().count() + 1;
        let line_end = self.starts.get(line + 1).map_or(self.text.len(), |&next| next.saturating_sub(1));
        (u32::try_from(line + 1).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX), line_end)
    }

    /// A location starting at `offset` and spanning `len` bytes, cut at the end of its line.
    fn loc(&self, file: FileId, offset: usize, len: usize, path: &str) -> Loc {
        let start = self.clamp(offset);
        let (line, col, line_end) = self.locate(start);
        let end = self.clamp((start + len.max(1)).min(line_end.max(start)));
        Loc { file, line, col, start, end: end.max(start), path: path.to_owned() }
    }
}

/// A container being built: its node (without children yet) and what it holds so far.
enum Frame {
    Seq { loc: Loc, items: Vec<Node> },
    Map { loc: Loc, entries: Vec<(Node, Node)>, pending_key: Option<Node> },
}

impl Frame {
    /// The YAML path of the next child of this container.
    fn child_path(&self) -> String {
        match self {
            Frame::Seq { loc, items } => format!("{}[{}]", loc.path, items.len()),
            Frame::Map { loc, pending_key, .. } => match pending_key {
                Some(Node { kind: Kind::Scalar { value, .. }, .. }) => join_path(&loc.path, value),
                Some(_) => format!("{}.<key>", loc.path),
                None => loc.path.clone(),
            },
        }
    }
}

pub(crate) fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

/// Parses one spec file. Returns the document's root (None for an empty file); every
/// problem goes to `sink`, and a file with a syntax error yields no tree.
pub(crate) fn parse(file: FileId, text: &str, sink: &mut Sink) -> Option<Node> {
    let index = LineIndex::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    let mut skip_depth = 0usize; // > 0 while skipping content nested too deep

    loop {
        let (event, mark) = match parser.next_token() {
            Ok(pair) => pair,
            Err(e) => {
                let m = e.marker();
                let loc = index.loc(file, m.index(), 1, "");
                sink.push(
                    Diagnostic::new(&loc, format!("invalid YAML: {}", e.info()))
                        .help("fix the YAML syntax at this point; the rest of this file was not read"),
                );
                return None;
            }
        };
        let path = stack.last().map_or_else(String::new, Frame::child_path);
        let node = match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    let loc = index.loc(file, mark.index(), 3, "");
                    sink.push(
                        Diagnostic::new(&loc, "a spec file holds one YAML document, found a second")
                            .help("split it into another file of api-spec/, or remove the `---` separator"),
                    );
                    break;
                }
                continue;
            }
            _ if skip_depth > 0 => {
                match event {
                    Event::SequenceStart(..) | Event::MappingStart(..) => skip_depth += 1,
                    Event::SequenceEnd | Event::MappingEnd => skip_depth -= 1,
                    _ => {}
                }
                continue;
            }
            Event::Alias(_) => {
                let loc = index.loc(file, mark.index(), 1, &path);
                sink.push(
                    Diagnostic::new(&loc, "YAML aliases (`*name`) are not supported in the spec")
                        .help("write the value out in full"),
                );
                Node { kind: Kind::Scalar { value: String::new(), plain: true }, loc }
            }
            Event::Scalar(value, style, _, _) => {
                let plain = style == TScalarStyle::Plain;
                let quotes =
                    if matches!(style, TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted) { 2 } else { 0 };
                let loc = index.loc(file, mark.index(), value.len() + quotes, &path);
                Node { kind: Kind::Scalar { value, plain }, loc }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let loc = index.loc(file, mark.index(), 1, &path);
                if stack.len() >= MAX_DEPTH {
                    sink.push(
                        Diagnostic::new(&loc, format!("the spec nests deeper than {MAX_DEPTH} levels here"))
                            .help("flatten this value; no part of the spec format needs such depth"),
                    );
                    skip_depth = 1;
                    continue;
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq { loc, items: Vec::new() }
                } else {
                    Frame::Map { loc, entries: Vec::new(), pending_key: None }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { loc, items }) => Node { kind: Kind::Seq(items), loc },
                Some(Frame::Map { loc, entries, .. }) => {
                    report_duplicate_keys(&entries, sink);
                    // The parser marks a block mapping where its first value starts;
                    // point at its first key instead, where a reader looks.
                    let loc = match entries.first() {
                        Some((key, _)) => Loc { path: loc.path, ..key.loc.clone() },
                        None => loc,
                    };
                    Node { kind: Kind::Map(entries), loc }
                }
                None => continue,
            },
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, pending_key, .. }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
    root
}

fn report_duplicate_keys(entries: &[(Node, Node)], sink: &mut Sink) {
    let mut seen: std::collections::HashMap<&str, &Loc> = std::collections::HashMap::new();
    for (key, _) in entries {
        if let Kind::Scalar { value, .. } = &key.kind {
            if let Some(first) = seen.get(value.as_str()) {
                sink.push(
                    Diagnostic::new(&key.loc, format!("duplicate key `{value}`"))
                        .help(format!("it is first set at line {}; keep one of the two", first.line)),
                );
            } else {
                seen.insert(value, &key.loc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
        let mut sink = Sink::default();
        let root = parse(FileId(0), text, &mut sink);
        (root, sink.items)
    }

    #[test]
    fn nodes_carry_line_column_and_path() {
        let (root, diags) = tree("api:\n  name: tenx\nroutes:\n  - id: \"x\"\n");
        assert!(diags.is_empty(), "{diags:?}");
        let Some(Node { kind: Kind::Map(entries), .. }) = root else { panic!("not a map") };
        let (_, routes) = &entries[1];
        let Kind::Seq(items) = &routes.kind else { panic!("not a list") };
        let Kind::Map(route) = &items[0].kind else { panic!("not a map") };
        let value = &route[0].1;
        assert_eq!((value.loc.line, value.loc.col), (4, 9));
        assert_eq!(value.loc.path, "routes[0].id");
        assert_eq!(value.loc.end - value.loc.start, 3, "quoted span covers the quotes");
    }

    #[test]
    fn reports_duplicate_keys_aliases_and_syntax_errors() {
        let (_, diags) = tree("a: 1\nb: 2\na: 3\n");
        assert_eq!(diags[0].message, "duplicate key `a`");
        assert_eq!((diags[0].loc.line, diags[0].loc.col), (3, 1));

        let (_, diags) = tree("a: &x 1\nb: *x\n");
        assert!(diags[0].message.contains("aliases"));

        let (root, diags) = tree("a: [1, 2\n");
        assert!(root.is_none());
        assert!(diags[0].message.starts_with("invalid YAML"));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // Past our limit, and far past the parser's own recursion limit: either way a
        // diagnostic, never a stack overflow.
        for depth in [100, 10_000] {
            let text = "[".repeat(depth) + &"]".repeat(depth);
            let (_, diags) = tree(&text);
            assert!(
                diags.iter().any(|d| d.message.contains("nests deeper") || d.message.contains("recursion limit")),
                "{diags:?}"
            );
        }
    }
}
