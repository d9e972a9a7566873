//! The workspace manifest as codegen needs it: every generated crate a member, and every
//! `[workspace.dependencies]` entry that points at a generated crate naming its package.
//!
//! A generated crate's package name follows its spec's `api.name`; its folder does not.
//! Hand-written crates depend on the entry's key (`tenx-server.workspace = true`), so when
//! the name changes, codegen sets `package = "<new name>"` on the entry: the workspace
//! still loads, `cargo xtask codegen` runs again, and the key keeps the dependents
//! compiling until they are renamed on purpose.

use std::fs;
use std::path::Path;

use tenx_codegen::GeneratedFile;
use toml_edit::{DocumentMut, Item, Value};

use crate::codegen::{Mode, Report};

const MANIFEST: &str = "Cargo.toml";

/// A generated crate: its folder relative to the workspace root, and its package name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GeneratedCrate {
    pub(crate) dir: String,
    pub(crate) name: String,
}

/// The crates among `files`: each `Cargo.toml`'s folder and `[package] name`.
pub(crate) fn generated_crates(files: &[GeneratedFile]) -> Vec<GeneratedCrate> {
    files
        .iter()
        .filter_map(|f| {
            let dir = f.path.strip_suffix("/Cargo.toml")?;
            let doc = f.contents.parse::<DocumentMut>().ok()?;
            let name = doc.get("package")?.get("name")?.as_str()?.to_owned();
            Some(GeneratedCrate { dir: dir.to_owned(), name })
        })
        .collect()
}

/// Brings the root manifest in line with `crates`, or (Check) reports how it differs.
pub(crate) fn sync(root: &Path, crates: &[GeneratedCrate], mode: Mode) -> Result<Report, String> {
    let path = root.join(MANIFEST);
    let text = fs::read_to_string(&path).map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))?;
    let (updated, changes) = update(&text, crates)?;
    let mut report = Report::default();
    if changes.is_empty() {
        report.unchanged += 1;
        return Ok(report);
    }
    match mode {
        Mode::Check => report.problems.extend(changes.iter().map(|c| format!("error: `{MANIFEST}`: {c}"))),
        Mode::Write => {
            fs::write(&path, updated).map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))?;
            report.written.push(format!("{MANIFEST} ({})", changes.join("; ")));
        }
    }
    Ok(report)
}

/// The manifest with every generated crate a member and every entry naming its
/// package, and what changed (empty when nothing did).
fn update(text: &str, crates: &[GeneratedCrate]) -> Result<(String, Vec<String>), String> {
    let mut doc = text.parse::<DocumentMut>().map_err(|e| format!("error: `{MANIFEST}` is not valid TOML: {e}"))?;
    let mut changes = Vec::new();
    let workspace = doc
        .get_mut("workspace")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("error: `{MANIFEST}` has no [workspace] table"))?;

    if let Some(members) = workspace.get_mut("members").and_then(Item::as_array_mut) {
        for krate in crates {
            if !members.iter().any(|m| m.as_str() == Some(krate.dir.as_str())) {
                members.push(krate.dir.as_str());
                changes.push(format!("`{}` is not a workspace member", krate.dir));
            }
        }
    }

    if let Some(deps) = workspace.get_mut("dependencies").and_then(Item::as_table_like_mut) {
        for (key, item) in deps.iter_mut() {
            let Some(entry) = item.as_table_like_mut() else { continue };
            let Some(dep_path) = entry.get("path").and_then(Item::as_str).map(str::to_owned) else { continue };
            let Some(krate) = crates.iter().find(|c| c.dir == dep_path) else { continue };
            let package = entry.get("package").and_then(Item::as_str).map(str::to_owned);
            let wanted = (key.get() != krate.name).then(|| krate.name.clone());
            if package != wanted {
                match &wanted {
                    Some(name) => {
                        entry.insert("package", Item::Value(Value::from(name.as_str())));
                    }
                    None => {
                        entry.remove("package");
                    }
                }
                entry.fmt();
                changes.push(format!(
                    "the entry `{}` (path `{dep_path}`) must name the package `{}`",
                    key.get(),
                    krate.name
                ));
            }
        }
    }
    Ok((doc.to_string(), changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = r#"[workspace]
members = ["crates/*", "generated/errors"]

[workspace.dependencies]
tenx-errors = { path = "generated/errors" }
tenx-client = { path = "generated/client" }
serde = "1"
"#;

    fn krate(dir: &str, name: &str) -> GeneratedCrate {
        GeneratedCrate { dir: dir.to_owned(), name: name.to_owned() }
    }

    #[test]
    fn a_renamed_api_keeps_the_keys_and_names_the_new_packages() {
        let crates = [krate("generated/errors", "acme-errors"), krate("generated/client", "acme-client")];
        let (text, changes) = update(ROOT, &crates).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(text.contains(r#"tenx-errors = { path = "generated/errors", package = "acme-errors" }"#), "{text}");
        assert!(text.contains(r#"members = ["crates/*", "generated/errors", "generated/client"]"#), "{text}");
        assert!(text.contains("serde = \"1\""));

        // Back to the original names: the `package` keys go, nothing else changes.
        let crates = [krate("generated/errors", "tenx-errors"), krate("generated/client", "tenx-client")];
        let (back, changes) = update(&text, &crates).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(back.contains(r#"tenx-errors = { path = "generated/errors" }"#), "{back}");
        let (_, none) = update(&back, &crates).unwrap_or_else(|e| panic!("{e}"));
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn crates_are_read_from_the_generated_manifests() {
        let files = [
            GeneratedFile { path: "out/errors/Cargo.toml".into(), contents: "[package]\nname = \"p-errors\"\n".into() },
            GeneratedFile { path: "out/errors/src/lib.rs".into(), contents: String::new() },
        ];
        assert_eq!(generated_crates(&files), [krate("out/errors", "p-errors")]);
    }
}
