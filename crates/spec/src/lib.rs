//! The 10x API spec: model, loader and validator.
//!
//! A spec is one or several YAML files (see `api-spec/` and its README). [`load_dir`]
//! reads a folder of them, [`load_sources`] reads given texts; both return the validated
//! [`Spec`] or every problem found, each a [`Diagnostic`] with file, line, column, YAML
//! path and what to do. Loading never panics, whatever the input.

mod diagnostic;
mod load;
pub mod model;
mod read;
mod source;
mod suggest;
mod validate;
mod yaml;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::default_rate_limit;
pub use model::*;
pub use source::{FileId, Loc, SourceFile, SourceMap, Spanned};
pub use suggest::{did_you_mean, help_for};

use diagnostic::Sink;

/// Why a spec could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The files could not be read.
    Io {
        /// The path that failed.
        path: String,
        /// The reason.
        error: std::io::Error,
    },
    /// The spec has problems; every one of them is listed.
    Invalid(Diagnostics),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io { path, error } => write!(f, "error: cannot read the spec at `{path}`: {error}"),
            LoadError::Invalid(d) => d.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {}

/// Loads every `*.yaml` file below `dir` (recursively, in path order) as one spec.
/// Files are named in diagnostics by their path as `dir` was given plus the file's path
/// below it.
pub fn load_dir(dir: &Path) -> Result<Spec, LoadError> {
    load_sources(read_dir(dir)?).map_err(LoadError::Invalid)
}

/// The `*.yaml` files below `dir` (recursively, in path order), read but not loaded.
pub fn read_dir(dir: &Path) -> Result<SourceMap, LoadError> {
    let mut paths = Vec::new();
    collect_yaml(dir, &mut paths)?;
    paths.sort();
    let mut sources = SourceMap::default();
    for path in &paths {
        let text =
            std::fs::read_to_string(path).map_err(|error| LoadError::Io { path: path.display().to_string(), error })?;
        sources.add(path.display().to_string(), text);
    }
    if sources.is_empty() {
        return Err(LoadError::Io {
            path: dir.display().to_string(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "the folder holds no `.yaml` file"),
        });
    }
    Ok(sources)
}

fn collect_yaml(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), LoadError> {
    let io = |error| LoadError::Io { path: dir.display().to_string(), error };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads and validates a spec from files already in memory.
pub fn load_sources(sources: SourceMap) -> Result<Spec, Diagnostics> {
    match load_and_check(sources) {
        (Some(spec), d) if d.items.is_empty() => Ok(spec),
        (_, d) => Err(d),
    }
}

/// Loads a spec from files in memory for comparison only: an older spec that today's
/// rules refuse is still returned, with what the rules say of it. Never generate from
/// it. `Err` when it could not be read into a spec at all.
pub fn load_sources_lenient(sources: SourceMap) -> Result<(Spec, Diagnostics), Diagnostics> {
    match load_and_check(sources) {
        (Some(spec), d) => Ok((spec, d)),
        (None, d) => Err(d),
    }
}

fn load_and_check(sources: SourceMap) -> (Option<Spec>, Diagnostics) {
    let mut sink = Sink::default();
    let mut parts = load::Parts::default();
    for (id, file) in sources.iter() {
        match yaml::parse(id, &file.text, &mut sink) {
            Some(root) => parts.add_file(&root, &mut sink),
            None => parts.add_empty(id),
        }
    }
    let names = sources.iter().map(|(_, f)| f.name.clone()).collect();
    let spec = parts.finish(names, &mut sink);
    if let Some(spec) = &spec {
        validate::validate(spec, &mut sink);
    }
    let mut items = sink.items;
    items.sort_by_key(|d| (d.loc.file, d.loc.start));
    items.dedup();
    (spec, Diagnostics { sources, items })
}

/// Loads a spec from one YAML text named `name` (for tests and tools).
pub fn load_str(name: &str, text: &str) -> Result<Spec, Diagnostics> {
    let mut sources = SourceMap::default();
    sources.add(name, text);
    load_sources(sources)
}
