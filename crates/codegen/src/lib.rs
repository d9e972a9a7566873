//! Generators: pure functions from a validated [`Spec`] to the files under `generated/`.
//!
//! Each artifact has its own module; [`generate`] runs them all. Nothing here reads YAML
//! or touches the file system: the spec comes in, `(path, contents)` pairs come out,
//! and `xtask` decides what to write. Output is deterministic: collections are emitted in
//! spec order, Rust is formatted by prettyplease, text comes from the minijinja templates
//! of this crate's `templates/` (compiled in, so the output does not depend on the
//! working directory).

mod client_crate;
mod docs;
mod errors_crate;
mod facts;
mod lower;
mod models_crate;
mod openapi;
mod route_macro_crate;
mod rust;
mod rust_types;
mod server_crate;
mod stub_crate;
mod templates;
mod ts_client;

use lower::Model;
use tenx_spec::Spec;

pub use route_macro_crate::route_table;
pub use templates::{Templates, crate_version};

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the workspace root, with `/` separators (`generated/errors/src/lib.rs`).
    pub path: String,
    /// The whole contents, ending in a newline.
    pub contents: String,
}

/// Why generation failed. With a validated spec this is a bug in a template or an
/// emitter, and the message says which.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// A template failed to render.
    #[error("template `{name}` failed to render: {source}")]
    Template {
        /// The template's name.
        name: String,
        /// What minijinja reported.
        #[source]
        source: minijinja::Error,
    },
    /// An emitter produced tokens that are not valid Rust.
    #[error("the `{artifact}` generator produced invalid Rust: {message}")]
    InvalidRust {
        /// The artifact being generated.
        artifact: &'static str,
        /// What the parser reported.
        message: String,
    },
}

/// Generates every artifact, sorted by path.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, CodegenError> {
    type Output = Result<Vec<GeneratedFile>, CodegenError>;
    type Generator = fn(&Model<'_>, &Templates) -> Output;
    // The biggest first, so the threads finish together.
    const GENERATORS: [Generator; 9] = [
        server_crate::generate,
        client_crate::generate,
        ts_client::generate,
        openapi::generate,
        models_crate::generate,
        errors_crate::generate,
        docs::generate,
        route_macro_crate::generate,
        stub_crate::generate,
    ];
    let templates = Templates::new();
    // Decided once, read by every generator.
    let model = Model::new(spec);
    // Artifacts are independent: they run on every core. Each result lands in its own
    // slot and the files are sorted, so the output does not depend on scheduling.
    let workers = std::thread::available_parallelism().map_or(1, usize::from).min(GENERATORS.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Output>>> =
        GENERATORS.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(generator) = GENERATORS.get(i) else { break };
                    let result = generator(&model, &templates);
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    let mut files = Vec::new();
    for slot in results {
        if let Some(result) = slot.into_inner().ok().flatten() {
            files.extend(result?);
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The spec files that items at these locations were read from, sorted and unique, for
/// the do-not-edit header.
pub(crate) fn sources<'a>(spec: &Spec, locs: impl IntoIterator<Item = &'a tenx_spec::Loc>) -> Vec<String> {
    let mut names: Vec<String> = locs
        .into_iter()
        .filter_map(|loc| spec.source_files.get(loc.file.index()).cloned())
        .map(|name| name.replace('\\', "/"))
        .collect();
    names.sort();
    names.dedup();
    names
}
