//! `cargo xtask codegen [--check]`: one function, [`sync`], decides every write.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tenx_codegen::GeneratedFile;

use crate::manifest;

/// The folder codegen's own paths start with; a target's `out` replaces it.
const GENERATED: &str = "generated";
/// The 10x spec folder, relative to the workspace root.
pub(crate) const SPEC: &str = "api-spec";

/// A spec and the folder its output goes to, both relative to the workspace root.
/// Everything below `out` is owned by codegen: a file the spec no longer produces is
/// removed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    /// The spec folder.
    pub(crate) spec: &'static str,
    /// The output folder.
    pub(crate) out: &'static str,
}

/// Every spec the workspace generates from: the 10x API, and the example API that
/// keeps the toolkit honest about APIs that are not 10x (`examples/parcels`).
pub(crate) const TARGETS: &[Target] = &[
    Target { spec: SPEC, out: GENERATED },
    Target { spec: "examples/parcels/api-spec", out: "examples/parcels/generated" },
];

const FIX: &str = "run `cargo xtask codegen` to update the generated files";

pub(crate) fn run(root: &Path, check: bool) -> Result<ExitCode, String> {
    let mode = if check { Mode::Check } else { Mode::Write };
    let mut report = Report::default();
    let mut crates = Vec::new();
    let mut count = 0;
    for target in TARGETS {
        let files = generate(root, target)?;
        count += files.len();
        crates.extend(manifest::generated_crates(&files));
        report.merge(sync(root, target.out, &files, mode)?);
    }
    report.merge(manifest::sync(root, &crates, mode)?);
    if check {
        if report.problems.is_empty() {
            println!("codegen: every generated file is up to date ({count} files, {} specs)", TARGETS.len());
            return Ok(ExitCode::SUCCESS);
        }
        for problem in &report.problems {
            eprintln!("{problem}");
        }
        eprintln!("error: {} generated file(s) out of date; {FIX}", report.problems.len());
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "codegen: {} written, {} unchanged, {} removed",
        report.written.len(),
        report.unchanged,
        report.removed.len()
    );
    for path in report.written.iter().chain(&report.removed) {
        println!("  {path}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the target's spec under `root` and generates every file, at its path below
/// the target's output folder.
pub(crate) fn generate(root: &Path, target: &Target) -> Result<Vec<GeneratedFile>, String> {
    // Load by the relative path so diagnostics and file headers name `api-spec/…`,
    // the same on every machine.
    std::env::set_current_dir(root).map_err(|e| format!("error: cannot enter `{}`: {e}", root.display()))?;
    let spec = tenx_spec::load_dir(Path::new(target.spec)).map_err(|e| e.to_string())?;
    let files = tenx_codegen::generate(&spec).map_err(|e| format!("error: {e}"))?;
    Ok(files.into_iter().map(|f| relocate(f, target.out)).collect())
}

/// `generated/x` as `out/x`.
fn relocate(file: GeneratedFile, out: &str) -> GeneratedFile {
    match file.path.strip_prefix(GENERATED) {
        Some(rest) if out != GENERATED => GeneratedFile { path: format!("{out}{rest}"), ..file },
        _ => file,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Write,
    Check,
}

#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Files written (Write) because they were missing or different.
    pub(crate) written: Vec<String>,
    /// Files whose bytes were already right.
    pub(crate) unchanged: usize,
    /// Files removed (Write) because the spec no longer produces them.
    pub(crate) removed: Vec<String>,
    /// What is wrong (Check): stale, missing or extra files, each with what to do.
    pub(crate) problems: Vec<String>,
}

impl Report {
    fn merge(&mut self, other: Report) {
        self.written.extend(other.written);
        self.unchanged += other.unchanged;
        self.removed.extend(other.removed);
        self.problems.extend(other.problems);
    }
}

/// Brings `root/out` in line with `files`, or (Check) reports how it differs.
/// A file is written only when its bytes change, so its mtime, and cargo's view of it,
/// stay put otherwise. Line endings of checked-in files are normalised before comparing,
/// so a checkout with CRLF endings is not "stale".
pub(crate) fn sync(root: &Path, out: &str, files: &[GeneratedFile], mode: Mode) -> Result<Report, String> {
    let mut report = Report::default();
    let mut produced = BTreeSet::new();
    for file in files {
        produced.insert(PathBuf::from(&file.path));
        let path = root.join(&file.path);
        let current = fs::read(&path).ok().map(|bytes| String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
        match (current, mode) {
            (Some(current), _) if current == file.contents => report.unchanged += 1,
            (current, Mode::Check) => report.problems.push(match current {
                Some(current) => format!("error: `{}` is stale\n{}", file.path, short_diff(&current, &file.contents)),
                None => format!("error: `{}` is missing", file.path),
            }),
            (_, Mode::Write) => {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(|e| format!("error: cannot create `{}`: {e}", dir.display()))?;
                }
                fs::write(&path, &file.contents)
                    .map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))?;
                report.written.push(file.path.clone());
            }
        }
    }
    let mut existing = Vec::new();
    list_files(&root.join(out), root, &mut existing);
    for rel in existing {
        if produced.contains(&rel) {
            continue;
        }
        let shown = rel.to_string_lossy().replace('\\', "/");
        match mode {
            Mode::Check => report.problems.push(format!("error: `{shown}` is not produced by the spec (extra file)")),
            Mode::Write => {
                let path = root.join(&rel);
                fs::remove_file(&path).map_err(|e| format!("error: cannot remove `{}`: {e}", path.display()))?;
                remove_empty_parents(&path, &root.join(out));
                report.removed.push(shown);
            }
        }
    }
    Ok(report)
}

/// Every file below `dir`, as paths relative to `root`, sorted.
fn list_files(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            list_files(&path, root, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_path_buf());
        }
    }
}

fn remove_empty_parents(path: &Path, stop: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == stop || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// A unified diff of at most 40 lines, checked-in (`-`) against generated (`+`).
fn short_diff(current: &str, expected: &str) -> String {
    const MAX: usize = 40;
    let diff = similar::TextDiff::from_lines(current, expected);
    let text = diff.unified_diff().context_radius(2).header("checked in", "from the spec").to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out: String = lines.iter().take(MAX).map(|l| format!("  {l}\n")).collect();
    if lines.len() > MAX {
        out.push_str(&format!("  … {} more diff lines\n", lines.len() - MAX));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> PathBuf {
        crate::workspace_root()
    }

    fn files_of(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut paths = Vec::new();
        list_files(&root.join(GENERATED), root, &mut paths);
        paths.into_iter().map(|p| (p.clone(), fs::read(root.join(&p)).unwrap_or_default())).collect()
    }

    fn mtimes(root: &Path) -> Vec<std::time::SystemTime> {
        files_of(root).iter().filter_map(|(p, _)| fs::metadata(root.join(p)).and_then(|m| m.modified()).ok()).collect()
    }

    #[test]
    fn checked_in_output_is_up_to_date() {
        for target in TARGETS {
            let files = generate(&workspace(), target).unwrap_or_else(|e| panic!("{e}"));
            let report = sync(&workspace(), target.out, &files, Mode::Check).unwrap_or_else(|e| panic!("{e}"));
            assert!(report.problems.is_empty(), "{}\n{FIX}", report.problems.join("\n"));
        }
    }

    #[test]
    fn generating_twice_is_byte_identical_and_rewrites_nothing() {
        let files = generate(&workspace(), &TARGETS[0]).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (
            tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
            tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
        );
        let first = sync(a.path(), GENERATED, &files, Mode::Write).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.written.len(), files.len());
        let before = mtimes(a.path());
        std::thread::sleep(std::time::Duration::from_millis(20));

        let again = generate(&workspace(), &TARGETS[0]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, files, "a second generation differs");
        let second = sync(a.path(), GENERATED, &again, Mode::Write).unwrap_or_else(|e| panic!("{e}"));
        assert!(second.written.is_empty() && second.removed.is_empty(), "{second:?}");
        assert_eq!(mtimes(a.path()), before, "unchanged files were rewritten");

        sync(b.path(), GENERATED, &again, Mode::Write).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(files_of(a.path()), files_of(b.path()));
    }

    #[test]
    fn check_fails_on_hand_edits_missing_and_extra_files() {
        let files = generate(&workspace(), &TARGETS[0]).unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path();
        sync(root, GENERATED, &files, Mode::Write).unwrap_or_else(|e| panic!("{e}"));
        assert!(sync(root, GENERATED, &files, Mode::Check).map(|r| r.problems).unwrap_or_default().is_empty());

        let edited = root.join(&files[0].path);
        fs::write(&edited, format!("{}// a hand edit\n", files[0].contents)).unwrap_or_else(|e| panic!("{e}"));
        let extra = root.join(GENERATED).join("stray.rs");
        fs::write(&extra, "fn main() {}\n").unwrap_or_else(|e| panic!("{e}"));
        fs::remove_file(root.join(&files[1].path)).unwrap_or_else(|e| panic!("{e}"));

        let problems = sync(root, GENERATED, &files, Mode::Check).map(|r| r.problems).unwrap_or_default();
        let all = problems.join("\n");
        assert_eq!(problems.len(), 3, "{all}");
        assert!(
            all.contains(&format!("`{}` is stale", files[0].path))
                && !all.contains("+// a hand edit")
                && all.contains("-// a hand edit"),
            "{all}"
        );
        assert!(all.contains(&format!("`{}` is missing", files[1].path)), "{all}");
        assert!(all.contains("`generated/stray.rs` is not produced by the spec"), "{all}");

        // Writing repairs all three, and removes the stray file.
        let report = sync(root, GENERATED, &files, Mode::Write).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.written.len(), 2);
        assert_eq!(report.removed, ["generated/stray.rs"]);
        assert!(!extra.exists());
    }

    #[test]
    fn check_fails_after_a_spec_change() {
        let files = generate(&workspace(), &TARGETS[0]).unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        sync(dir.path(), GENERATED, &files, Mode::Write).unwrap_or_else(|e| panic!("{e}"));

        // The same spec with one error's meaning changed.
        let mut sources = tenx_spec::SourceMap::default();
        let mut paths = Vec::new();
        collect(&workspace().join(SPEC), &mut paths);
        for path in paths {
            let rel = path.strip_prefix(workspace()).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            let mut text = fs::read_to_string(&path).unwrap_or_default();
            if rel.ends_with("errors.yaml") {
                text = text.replacen("meaning: No Authorization header was sent.", "meaning: No header at all.", 1);
            }
            sources.add(rel, text);
        }
        let spec = tenx_spec::load_sources(sources).unwrap_or_else(|d| panic!("{d}"));
        let changed = tenx_codegen::generate(&spec).unwrap_or_else(|e| panic!("{e}"));
        let problems = sync(dir.path(), GENERATED, &changed, Mode::Check).map(|r| r.problems).unwrap_or_default();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("generated/errors/src/codes.rs` is stale") && p.contains("No header at all")),
            "{problems:?}"
        );
    }

    fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> =
            fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                collect(&p, out);
            } else if p.extension().is_some_and(|e| e == "yaml") {
                out.push(p);
            }
        }
    }
}
