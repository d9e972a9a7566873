//! `cargo xtask spec-diff`: what the working spec changes against a base (a git revision
//! or a folder), as a table or JSON, with the semver verdict; exits non-zero when a
//! break is neither accepted in the spec (`breaking_ok`) nor covered by a major bump of
//! `api.version`.

use std::path::Path;
use std::process::{Command, ExitCode};

use tenx_codegen::{Templates, crate_version};
use tenx_spec::{SourceMap, Spec};
use tenx_spec_diff::{Bump, Level, Report, diff, render_table};

/// Where the base spec comes from.
pub(crate) enum Base {
    /// A git revision of this repository.
    Rev(String),
    /// A folder of spec files.
    Dir(std::path::PathBuf),
    /// The released revision named in `api-spec/RELEASED` (what CI gates against).
    Released,
}

/// The file naming the git revision of the last release of the spec.
const RELEASED: &str = "api-spec/RELEASED";

pub(crate) fn run(root: &Path, base: Option<Base>, json: bool, changelog: bool) -> Result<ExitCode, String> {
    let new = tenx_spec::load_dir(&root.join("api-spec")).map_err(|e| e.to_string())?;
    let rev = match &base {
        Some(Base::Rev(rev)) => Some(rev.clone()),
        Some(Base::Released) => Some(released(root)?),
        Some(Base::Dir(_)) => None,
        None => Some(last_spec_commit(root)?),
    };
    let (old, label) = match (&base, rev) {
        (Some(Base::Dir(dir)), _) => {
            let label = dir.display().to_string();
            (lenient(tenx_spec::read_dir(dir).map_err(|e| e.to_string())?, &label)?, label)
        }
        (_, Some(rev)) => {
            if git(root, &["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_err() {
                return Err(format!(
                    "error: the base revision {rev} is not in this clone (a shallow clone?): fetch it, or give --base"
                ));
            }
            (lenient(git_sources(root, &rev)?, &rev)?, rev)
        }
        (_, None) => unreachable!("every base but a folder names a revision"),
    };
    let report = diff(&old, &new);
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        println!("spec-diff: api-spec/ against {label}\n");
        print!("{}", render_table(&report));
        let next = next_version(&report.versions.0, report.bump);
        println!(
            "The generated crates are {}; this change asks for {next} or later.",
            crate_version(&report.versions.1)
        );
    }
    if changelog {
        write_changelog(root, &report, &label)?;
    }
    Ok(verdict(&report))
}

/// The revision `api-spec/RELEASED` names.
fn released(root: &Path) -> Result<String, String> {
    let text =
        std::fs::read_to_string(root.join(RELEASED)).map_err(|e| format!("error: cannot read {RELEASED}: {e}"))?;
    let rev = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
    rev.map(str::to_owned).ok_or_else(|| format!("error: {RELEASED} names no revision"))
}

/// The version after `old` for a change that needs `bump`.
fn next_version(old: &str, bump: Bump) -> String {
    let v: Vec<u64> = crate_version(old).split('.').filter_map(|p| p.parse().ok()).collect();
    let (major, minor, patch) = (v[0], v[1], v[2]);
    match bump {
        Bump::Major => format!("{}.0.0", major + 1),
        Bump::Minor => format!("{major}.{}.0", minor + 1),
        Bump::Patch => format!("{major}.{minor}.{}", patch + 1),
    }
}

/// Prepends the report as an entry of `api-spec/CHANGELOG.md`, rendered by the
/// `changelog.md.j2` template. Changes of one rule and message are one line, however
/// many targets they have.
fn write_changelog(root: &Path, report: &Report, base: &str) -> Result<(), String> {
    let mut groups: Vec<(&str, Vec<serde_json::Value>)> =
        vec![("Breaking", Vec::new()), ("Warnings", Vec::new()), ("Additions and other changes", Vec::new())];
    /// Changes of one rule, message and acceptance, gathered over their targets.
    struct Line<'r> {
        group: usize,
        rule: &'static str,
        message: &'r str,
        targets: Vec<&'r str>,
        accepted: Option<&'r str>,
    }
    let mut lines: Vec<Line<'_>> = Vec::new();
    for c in &report.changes {
        let group = match c.level() {
            Level::Breaking => 0,
            Level::Warning => 1,
            Level::Info => 2,
        };
        let (message, accepted) = (c.message.as_str(), c.accepted.as_deref());
        match lines.iter_mut().find(|l| l.rule == c.rule && l.message == message && l.accepted == accepted) {
            Some(line) => line.targets.push(&c.target),
            None => lines.push(Line { group, rule: c.rule, message, targets: vec![&c.target], accepted }),
        }
    }
    for line in lines {
        let shown = if line.targets.len() > 4 {
            format!("{} and {} more", line.targets[..3].join(", "), line.targets.len() - 3)
        } else {
            line.targets.join(", ")
        };
        let entry = serde_json::json!({
            "rule": line.rule, "targets": shown, "message": line.message, "accepted": line.accepted,
        });
        groups[line.group].1.push(entry);
    }
    let groups: Vec<serde_json::Value> = groups
        .into_iter()
        .filter(|(_, changes)| !changes.is_empty())
        .map(|(title, changes)| serde_json::json!({ "title": title, "changes": changes }))
        .collect();
    let count = |l: Level| report.changes.iter().filter(|c| c.level() == l).count();
    let context = serde_json::json!({
        "version": crate_version(&report.versions.1),
        "bump": report.bump.to_string(),
        "base": base,
        "counts": { "breaking": count(Level::Breaking), "warning": count(Level::Warning), "info": count(Level::Info) },
        "groups": groups,
    });
    let entry = Templates::new()
        .render("changelog.md.j2", minijinja::Value::from(minijinja::value::Serde(&context)))
        .map_err(|e| format!("error: {e}"))?;
    let path = root.join("api-spec/CHANGELOG.md");
    let title =
        "# Changes of the spec\n\nNewest first; each entry is written by `cargo xtask spec-diff --changelog`.\n\n";
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let rest = old.strip_prefix(title).unwrap_or(&old);
    // One blank line between entries.
    let sep = if rest.trim().is_empty() { "\n" } else { "\n\n" };
    std::fs::write(&path, format!("{title}{}{sep}{}", entry.trim_end(), rest.trim_start()))
        .map_err(|e| format!("error: cannot write {}: {e}", path.display()))?;
    println!("wrote an entry to {}", path.display());
    Ok(())
}

/// Exit status of the gate, with its explanation on stderr.
fn verdict(report: &Report) -> ExitCode {
    match report.gate() {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("\nerror: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The base may predate rules the validator has since gained: compare it anyway.
fn lenient(sources: SourceMap, label: &str) -> Result<Spec, String> {
    tenx_spec::load_sources_lenient(sources)
        .map(|(spec, _)| spec)
        .map_err(|d| format!("error: the base spec at {label} cannot be read:\n{d}"))
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out =
        Command::new("git").args(args).current_dir(root).output().map_err(|e| format!("error: cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("error: git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// The last commit that changed `api-spec/`.
fn last_spec_commit(root: &Path) -> Result<String, String> {
    let rev = git(root, &["log", "-1", "--format=%H", "--", "api-spec"])?;
    let rev = rev.trim();
    if rev.is_empty() {
        return Err("error: no commit has changed api-spec/ yet: give --base or --base-dir".into());
    }
    Ok(rev.to_owned())
}

/// The spec files of `rev`, read from git without touching the work tree.
fn git_sources(root: &Path, rev: &str) -> Result<SourceMap, String> {
    let listing = git(root, &["ls-tree", "-r", "--name-only", rev, "--", "api-spec"])?;
    let mut names: Vec<&str> = listing.lines().filter(|p| p.ends_with(".yaml") || p.ends_with(".yml")).collect();
    names.sort_unstable();
    if names.is_empty() {
        return Err(format!("error: {rev} has no spec files under api-spec/"));
    }
    let mut sources = SourceMap::default();
    for name in names {
        sources.add(format!("{rev}:{name}"), git(root, &["show", &format!("{rev}:{name}")])?);
    }
    Ok(sources)
}
