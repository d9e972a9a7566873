//! `cargo xtask bench`: our codegen against progenitor, the best Rust OpenAPI client
//! generator, on the same API, side by side in one process tree.
//!
//! 1. Codegen speed and memory: our full codegen (all seven artifacts) against
//!    `cargo progenitor` generating a client from our own OpenAPI export of the same
//!    spec, for the 10x spec and synthetic specs. Each run is a fresh process, timed from
//!    here; peak RSS from `/usr/bin/time -f %M`. Medians.
//!    Ours is timed twice: through `cargo xtask` as maintainers run it, and as the
//!    binary alone. Runs are paired and alternate; ratios carry their min–max.
//! 2. Cost to a dependent's build: a clean, non-incremental `cargo check` of our
//!    generated client (with its models crate) against progenitor's crate, dependencies
//!    built, with the peak memory; and the incremental recheck after a touch, labelled
//!    as such; generated lines per route.
//!
//! progenitor reads OpenAPI 3.0 and wants one error type per operation, so it gets our
//! export rendered as 3.0 (`nullable` instead of `null` in `anyOf`, security without
//! scopes) with every error answer typed as the error envelope. The API is the same.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::bench::Run;
use crate::codegen::SPEC;

/// Runs `cmd` under `/usr/bin/time` and returns its wall time and peak RSS.
fn measure(cmd: &mut Command) -> Result<Run, String> {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
    let dir = cmd.get_current_dir().map(Path::to_path_buf);
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-f").arg("%M").arg(program).args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(dir) = dir {
        timed.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    let start = Instant::now();
    let out = timed.output().map_err(|e| format!("error: cannot run /usr/bin/time: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "error: a measured command failed:\n{}",
            stderr.lines().rev().take(15).collect::<Vec<_>>().join("\n")
        ));
    }
    let peak_kib = stderr.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    Ok(Run { seconds, peak_kib })
}

/// Our OpenAPI export, rendered for progenitor (see the module docs).
pub(crate) fn for_progenitor(openapi: &str) -> Result<String, String> {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let nullable = map
                    .get("anyOf")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|s| s == &serde_json::json!({"type": "null"})));
                if nullable {
                    let rest: Vec<Value> = map
                        .remove("anyOf")
                        .and_then(|a| a.as_array().cloned())
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|s| s != &serde_json::json!({"type": "null"}))
                        .collect();
                    let base = match rest.as_slice() {
                        [one] if one.get("$ref").is_some() => serde_json::json!({ "allOf": [one] }),
                        [one] => one.clone(),
                        _ => serde_json::json!({ "anyOf": rest }),
                    };
                    if let Value::Object(base) = base {
                        map.extend(base);
                    }
                    map.insert("nullable".into(), Value::Bool(true));
                }
                for v in map.values_mut() {
                    walk(v);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut doc: Value = serde_json::from_str(openapi).map_err(|e| format!("error: the export is not JSON: {e}"))?;
    doc["openapi"] = Value::from("3.0.3");
    walk(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|p| p.values_mut()) {
            if let Some(security) = op.get_mut("security").and_then(Value::as_array_mut) {
                for req in security.iter_mut().filter_map(Value::as_object_mut) {
                    req.values_mut().for_each(|scopes| *scopes = Value::Array(Vec::new()));
                }
            }
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                for (status, answer) in responses.iter_mut() {
                    if status.starts_with('4') || status.starts_with('5') {
                        if let Some(content) = answer.get_mut("content").and_then(Value::as_object_mut) {
                            for media in content.values_mut() {
                                media["schema"] = serde_json::json!({ "$ref": "#/components/schemas/ErrorBody" });
                            }
                        }
                    }
                }
            }
        }
    }
    // Shared error answers (components.responses) get the envelope too.
    if let Some(shared) = doc.pointer_mut("/components/responses").and_then(Value::as_object_mut) {
        for answer in shared.values_mut() {
            if let Some(content) = answer.get_mut("content").and_then(Value::as_object_mut) {
                for media in content.values_mut() {
                    media["schema"] = serde_json::json!({ "$ref": "#/components/schemas/ErrorBody" });
                }
            }
        }
    }
    serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())
}

fn count_lines(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                n += count_lines(&p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                n += std::fs::read_to_string(&p).map(|t| t.lines().count()).unwrap_or(0);
            }
        }
    }
    n
}

fn touch_rs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                touch_rs(&p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                if let Ok(t) = std::fs::read(&p) {
                    let _ = std::fs::write(&p, t);
                }
            }
        }
    }
}

struct Case {
    name: String,
    spec_dir: PathBuf,
    routes: usize,
}

/// The generated crates a client's dependent builds.
const OUR_CRATES: [&str; 3] = ["generated/client/", "generated/models/", "generated/errors/"];

/// Writes our generated client, models and errors crates for a spec into a throwaway workspace
/// whose runtime dependencies point at this repository's crates.
fn our_client_workspace(root: &Path, spec: &tenx_spec::Spec, dir: &Path) -> Result<(), String> {
    let files = tenx_codegen::generate(spec).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(dir);
    for f in files.iter().filter(|f| OUR_CRATES.iter().any(|dir| f.path.starts_with(dir))) {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, &f.contents).map_err(|e| e.to_string())?;
    }
    let name = &spec.api.name;
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [\"generated/client\", \"generated/models\", \"generated/errors\"]\n\n\
         [workspace.package]\nedition = \"2024\"\nrust-version = \"1.85\"\nlicense = \"MIT OR Apache-2.0\"\npublish = false\n\n\
         [workspace.dependencies]\n\
         tenx-client-runtime = {{ path = \"{rt}\" }}\n\
         tenx-error-model = {{ path = \"{model}\" }}\n\
         {name}-models = {{ path = \"generated/models\" }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n[workspace.lints.rust]\n",
        rt = root.join("crates/client-runtime").display(),
        model = root.join("crates/error-model").display()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())
}

/// `runs` paired measurements of two commands, alternating which goes first (the
/// machine is shared and noisy: a pair runs moments apart).
fn paired(
    runs: usize,
    mut ours: impl FnMut() -> Result<Run, String>,
    mut theirs: impl FnMut() -> Result<Run, String>,
) -> Result<Vec<(Run, Run)>, String> {
    (0..runs.max(1))
        .map(|i| {
            if i % 2 == 0 {
                let o = ours()?;
                Ok((o, theirs()?))
            } else {
                let t = theirs()?;
                Ok((ours()?, t))
            }
        })
        .collect()
}

/// The median of `values` and their spread, as `median (min–max)`.
fn spread(mut values: Vec<f64>, unit: &str, digits: usize) -> String {
    values.sort_by(f64::total_cmp);
    let (lo, mid, hi) = (values[0], values[values.len() / 2], values[values.len() - 1]);
    format!("{mid:.digits$}{unit} ({lo:.digits$}–{hi:.digits$})")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub(crate) fn run(root: &Path, runs: usize, sizes: &[usize], build_sizes: &[usize]) -> Result<ExitCode, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let base = root.join("target/bench-progenitor");
    std::fs::create_dir_all(&base).map_err(|e| e.to_string())?;
    let progenitor = which_progenitor()?;
    let mut cases = vec![Case { name: "10x spec".into(), spec_dir: root.join(SPEC), routes: 0 }];
    for &n in sizes {
        let dir = base.join(format!("synthetic-{n}"));
        crate::synthetic::write(&dir, n)?;
        cases.push(Case { name: format!("synthetic {n}"), spec_dir: dir, routes: n });
    }
    println!("## Codegen: ours (all artifacts) vs `cargo progenitor` (client), {runs} paired runs\n");
    println!(
        "`cargo xtask`: our codegen as maintainers run it, through the alias (`cargo run`, the dev \
         profile, cargo's freshness check included). `binary`: the same xtask binary started \
         directly. Ratios are progenitor's time over ours, median (min–max) of the pairs.\n"
    );
    println!(
        "| spec | routes | ours: `cargo xtask` | ours: binary | progenitor | faster: `cargo xtask` | faster: binary | peak RSS: ours | peak RSS: progenitor |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut build_rows = Vec::new();
    for case in &mut cases {
        let spec = tenx_spec::load_dir(&case.spec_dir).map_err(|e| e.to_string())?;
        case.routes = spec.routes().count();
        let files = tenx_codegen::generate(&spec).map_err(|e| e.to_string())?;
        let openapi =
            files.iter().find(|f| f.path == "generated/openapi.json").map(|f| f.contents.clone()).unwrap_or_default();
        let work = base.join(case.name.replace(' ', "-"));
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let input = work.join("openapi-3.0.json");
        std::fs::write(&input, for_progenitor(&openapi)?).map_err(|e| e.to_string())?;
        let out = work.join("progenitor");
        let spec_arg = case.spec_dir.display().to_string();
        let progenitor_run = || {
            let _ = std::fs::remove_dir_all(&out);
            measure(
                Command::new(&progenitor)
                    .args(["progenitor", "-i", &input.display().to_string(), "-o", &out.display().to_string()])
                    .args(["-n", "bench-progenitor", "-v", "0.1.0"]),
            )
        };
        let via_alias = paired(
            runs,
            || measure(Command::new(env!("CARGO")).args(["xtask", "bench-child", &spec_arg, "full"]).current_dir(root)),
            progenitor_run,
        )?;
        let binary =
            paired(runs, || measure(Command::new(&exe).args(["bench-child", &spec_arg, "full"])), progenitor_run)?;
        let ms = |v: Vec<f64>| format!("{:.0} ms", median(v) * 1000.0);
        let theirs: Vec<f64> = via_alias.iter().chain(&binary).map(|(_, t)| t.seconds).collect();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} MiB | {:.1} MiB |",
            case.name,
            case.routes,
            ms(via_alias.iter().map(|(o, _)| o.seconds).collect()),
            ms(binary.iter().map(|(o, _)| o.seconds).collect()),
            ms(theirs),
            spread(via_alias.iter().map(|(o, t)| t.seconds / o.seconds).collect(), "×", 2),
            spread(binary.iter().map(|(o, t)| t.seconds / o.seconds).collect(), "×", 2),
            median(binary.iter().map(|(o, _)| o.peak_kib as f64).collect()) / 1024.0,
            median(binary.iter().map(|(_, t)| t.peak_kib as f64).collect()) / 1024.0,
        );
        if build_sizes.contains(&case.routes) || (case.name == "10x spec" && build_sizes.contains(&0)) {
            build_rows.push(build_cost(root, &spec, &work, &out, case, 3)?);
        }
    }
    if !build_rows.is_empty() {
        println!("\n## Cost to a dependent's build: our client (+ models) vs progenitor's crate, 3 paired runs\n");
        println!(
            "`clean`: `cargo check` with `CARGO_INCREMENTAL=0` after `cargo clean -p` of the generated \
             crates, their dependencies built: what a dependent pays. `recheck`: incremental \
             `cargo check` after touching the generated sources. Peak memory: the largest \
             process of the clean check (rustc). Ratios: progenitor over ours, median (min–max).\n"
        );
        println!(
            "| spec | routes | clean: ours | clean: progenitor | faster | peak: ours | peak: progenitor | recheck: ours | recheck: progenitor | LoC/route: ours | LoC/route: progenitor |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for row in build_rows {
            println!("{row}");
        }
    }
    server_cost(root, 3)?;
    Ok(ExitCode::SUCCESS)
}

/// The server side, which no other generator has: a clean, non-incremental check of
/// the generated server crate and of the reference server's handlers on it, per route.
fn server_cost(root: &Path, runs: usize) -> Result<(), String> {
    let spec = tenx_spec::load_dir(&root.join(SPEC)).map_err(|e| e.to_string())?;
    let routes = spec.routes().count();
    let target = root.join("target/bench-server");
    let cargo = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO"));
        c.args(args).arg("--quiet").env("CARGO_TARGET_DIR", &target).env("CARGO_INCREMENTAL", "0").current_dir(root);
        c
    };
    let status = cargo(&["check", "-p", "tenx-reference-server"]).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("error: `cargo check -p tenx-reference-server` failed".into());
    }
    let mut all = Vec::new();
    for _ in 0..runs.max(1) {
        cargo(&["clean", "-p", "tenx-server", "-p", "tenx-reference-server"]).status().map_err(|e| e.to_string())?;
        all.push(measure(&mut cargo(&["check", "-p", "tenx-reference-server"]))?);
    }
    println!("\n## Server side: the generated server crate and the reference server, clean check, {runs} runs\n");
    println!(
        "`cargo clean -p tenx-server -p tenx-reference-server`, then `CARGO_INCREMENTAL=0 cargo check -p \
         tenx-reference-server` (dependencies built). Per route: over the spec's {routes} routes.\n"
    );
    println!("| routes | clean check | per route | peak memory |");
    println!("|---:|---:|---:|---:|");
    let seconds: Vec<f64> = all.iter().map(|r| r.seconds).collect();
    let per_route: Vec<f64> = seconds.iter().map(|s| s * 1000.0 / routes as f64).collect();
    println!(
        "| {routes} | {} | {} | {:.0} MiB |",
        spread(seconds, " s", 2),
        spread(per_route, " ms", 1),
        median(all.iter().map(|r| r.peak_kib as f64).collect()) / 1024.0
    );
    Ok(())
}

fn build_cost(
    root: &Path,
    spec: &tenx_spec::Spec,
    work: &Path,
    progenitor_out: &Path,
    case: &Case,
    runs: usize,
) -> Result<String, String> {
    let ours_dir = work.join("ours");
    our_client_workspace(root, spec, &ours_dir)?;
    // progenitor's crate as its own workspace.
    let manifest = progenitor_out.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| e.to_string())?;
    if !text.contains("[workspace]") {
        std::fs::write(&manifest, format!("{text}\n[workspace]\n")).map_err(|e| e.to_string())?;
    }
    let target = work.join("target");
    let cargo = |dir: &Path, args: &[&str]| {
        let mut c = Command::new(env!("CARGO"));
        c.args(args).arg("--quiet").env("CARGO_TARGET_DIR", &target).current_dir(dir);
        c
    };
    // Dependencies first, once.
    for dir in [&ours_dir, progenitor_out] {
        let status = cargo(dir, &["check"]).status().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("error: `cargo check` failed in `{}`", dir.display()));
        }
    }
    let name = &spec.api.name;
    let (client, models, errors) = (format!("{name}-client"), format!("{name}-models"), format!("{name}-errors"));
    let clean = |dir: &Path, packages: &[&str]| -> Result<Run, String> {
        let mut args = vec!["clean"];
        for p in packages {
            args.extend(["-p", p]);
        }
        cargo(dir, &args).status().map_err(|e| e.to_string())?;
        let mut check = cargo(dir, &["check"]);
        check.env("CARGO_INCREMENTAL", "0");
        measure(&mut check)
    };
    let clean_runs = paired(
        runs,
        || clean(&ours_dir, &[&client, &models, &errors]),
        || clean(progenitor_out, &["bench-progenitor"]),
    )?;
    // Back to an incremental build, then the recheck after a touch.
    for dir in [&ours_dir, progenitor_out] {
        cargo(dir, &["check"]).status().map_err(|e| e.to_string())?;
    }
    let recheck = paired(
        runs,
        || {
            touch_rs(&ours_dir.join("generated"));
            measure(&mut cargo(&ours_dir, &["check"]))
        },
        || {
            touch_rs(&progenitor_out.join("src"));
            measure(&mut cargo(progenitor_out, &["check"]))
        },
    )?;
    let loc_ours = OUR_CRATES.iter().map(|dir| count_lines(&ours_dir.join(dir).join("src"))).sum::<usize>();
    let loc_theirs = count_lines(&progenitor_out.join("src"));
    let routes = case.routes.max(1) as f64;
    let secs = |v: Vec<f64>| format!("{:.2} s", median(v));
    let mib = |v: Vec<f64>| format!("{:.0} MiB", median(v) / 1024.0);
    Ok(format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.0} |",
        case.name,
        case.routes,
        secs(clean_runs.iter().map(|(o, _)| o.seconds).collect()),
        secs(clean_runs.iter().map(|(_, t)| t.seconds).collect()),
        spread(clean_runs.iter().map(|(o, t)| t.seconds / o.seconds).collect(), "×", 2),
        mib(clean_runs.iter().map(|(o, _)| o.peak_kib as f64).collect()),
        mib(clean_runs.iter().map(|(_, t)| t.peak_kib as f64).collect()),
        secs(recheck.iter().map(|(o, _)| o.seconds).collect()),
        secs(recheck.iter().map(|(_, t)| t.seconds).collect()),
        loc_ours as f64 / routes,
        loc_theirs as f64 / routes
    ))
}

/// The other overhead benchmarks, run from here so one command prints every table:
/// the client against raw reqwest, the router against bare axum, and `#[route]`.
pub(crate) fn overheads(root: &Path) -> Result<ExitCode, String> {
    for bench in ["client_overhead", "router_overhead"] {
        println!("\n## {bench}\n");
        let status = Command::new(env!("CARGO"))
            .args(["bench", "--quiet", "-p", "tenx-conformance", "--bench", bench])
            .current_dir(root)
            .status()
            .map_err(|e| format!("error: cannot run cargo bench: {e}"))?;
        if !status.success() {
            return Err(format!("error: the `{bench}` benchmark failed"));
        }
    }
    println!("\n## #[route]\n");
    crate::bench_route::run(root, 15)
}

/// The `cargo-progenitor` binary, installed from the crates registry when missing.
fn which_progenitor() -> Result<PathBuf, String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let bin = home.map(|h| h.join("bin/cargo-progenitor")).unwrap_or_default();
    if !bin.exists() {
        eprintln!("installing cargo-progenitor from the crates registry (once)…");
        let status = Command::new(env!("CARGO"))
            .args(["install", "cargo-progenitor", "--locked"])
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("error: `cargo install cargo-progenitor` failed".into());
        }
    }
    Ok(bin)
}
