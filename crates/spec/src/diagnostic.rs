//! Diagnostics: what is wrong, where (file, line, column, YAML path), and what to do.

use std::fmt;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

use crate::source::{Loc, SourceMap};

/// One problem found in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub loc: Loc,
    /// What is wrong, in lowercase, naming the offending value.
    pub message: String,
    /// What to do about it: a "did you mean", the valid values, or the rule to follow.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `loc`.
    pub fn new(loc: &Loc, message: impl Into<String>) -> Self {
        Diagnostic { loc: loc.clone(), message: message.into(), help: None }
    }

    /// Adds what the user should do.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every diagnostic of one load, in the order the spec was read.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    /// The files the diagnostics point into.
    pub sources: SourceMap,
    /// The diagnostics, sorted by file, line and column.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `file:line:col` of a diagnostic, with the file's name.
    pub fn position(&self, d: &Diagnostic) -> String {
        let name = self.sources.get(d.loc.file).map_or("<unknown>", |f| f.name.as_str());
        format!("{name}:{}:{}", d.loc.line, d.loc.col)
    }

    /// Renders every diagnostic as rustc does: the message, the position, the offending
    /// line with a caret under the value, the YAML path, and the help line.
    pub fn render(&self) -> String {
        let mut files = SimpleFiles::new();
        let ids: Vec<usize> = self.sources.iter().map(|(_, f)| files.add(f.name.clone(), f.text.clone())).collect();
        let config = term::Config::default();
        let mut out = String::new();
        for d in &self.items {
            let file = ids[d.loc.file.0 as usize];
            let mut cs = CsDiagnostic::error()
                .with_message(&d.message)
                .with_labels(vec![Label::primary(file, d.loc.start..d.loc.end)])
                .with_notes(if d.loc.path.is_empty() { vec![] } else { vec![format!("at `{}`", d.loc.path)] });
            if let Some(help) = &d.help {
                cs.notes.push(format!("help: {help}"));
            }
            match term::emit_into_string(&config, &files, &cs) {
                Ok(text) => out.push_str(&text),
                // A location outside its file would be our bug; still say what is wrong.
                Err(_) => out.push_str(&format!("error: {}\n --> {}\n", d.message, self.position(d))),
            }
        }
        let n = self.items.len();
        out.push_str(&format!("error: the spec has {n} problem{}\n", if n == 1 { "" } else { "s" }));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics while a spec is read and checked.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) items: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
}
