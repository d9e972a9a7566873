//! `cargo xtask bench-route`: what `#[route]` costs a build. Two throwaway crates with
//! the same 200 handlers, one annotated and one not, both depending on the generated
//! route macro; `cargo check` of each after touching its source, median of N runs.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::codegen::SPEC;

const HANDLERS: usize = 200;

fn attribute(route: &tenx_spec::Route) -> String {
    let auth: Vec<String> = route.auth.iter().map(|a| format!("\"{}\"", a.value.as_str())).collect();
    let mut parts = vec![format!("operation = \"{}\"", route.id.value), format!("auth = [{}]", auth.join(", "))];
    if !route.scopes.is_empty() {
        let scopes: Vec<String> = route.scopes.iter().map(|s| format!("\"{}\"", s.value)).collect();
        parts.push(format!("scopes = [{}]", scopes.join(", ")));
    }
    if let Some(role) = &route.min_role {
        parts.push(format!("role = \"{}\"", role.value));
    }
    if let Some(feature) = &route.feature {
        parts.push(format!("feature = \"{}\"", feature.value));
    }
    format!("#[tenx_route_macro::route({})]", parts.join(", "))
}

fn write_crate(dir: &Path, root: &Path, annotated: bool, spec: &tenx_spec::Spec) -> Result<(), String> {
    let io = |e: std::io::Error| format!("error: cannot write `{}`: {e}", dir.display());
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    let manifest = format!(
        "[package]\nname = \"bench-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ntenx-route-macro = {{ path = \"{}\" }}\n\n[workspace]\n\n# Proc-macros run optimised, as sqlx and others recommend; both crates get the same profile.\n[profile.dev.build-override]\nopt-level = 3\n",
        if annotated { "annotated" } else { "plain" },
        root.join("generated/route-macro").display()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(io)?;
    let routes: Vec<&tenx_spec::Route> = spec.routes().collect();
    let mut src = String::from("#![allow(dead_code)]\n");
    for i in 0..HANDLERS {
        let route = routes[i % routes.len()];
        if annotated {
            src.push_str(&attribute(route));
            src.push('\n');
        }
        src.push_str(&format!("pub async fn handler_{i}(id: u64) -> u64 {{\n    id.wrapping_mul({i})\n}}\n"));
    }
    std::fs::write(dir.join("src/lib.rs"), src).map_err(io)
}

fn check(dir: &Path, target: &Path) -> Result<f64, String> {
    // Touch the source so only this crate is checked again.
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).map_err(|e| e.to_string())?;
    std::fs::write(&lib, text).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let status = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("error: cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("error: `cargo check` failed in `{}`", dir.display()));
    }
    Ok(start.elapsed().as_secs_f64())
}

pub(crate) fn run(root: &Path, runs: usize) -> Result<ExitCode, String> {
    let spec = tenx_spec::load_dir(&root.join(SPEC)).map_err(|e| e.to_string())?;
    let base = root.join("target/bench-route");
    let target = base.join("target");
    let (annotated, plain) = (base.join("annotated"), base.join("plain"));
    write_crate(&annotated, root, true, &spec)?;
    write_crate(&plain, root, false, &spec)?;
    // Warm up: build the dependencies (the macro crate, syn, …) once for both.
    check(&annotated, &target)?;
    check(&plain, &target)?;
    let (mut with, mut without, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs.max(1) {
        let (a, p) = if i % 2 == 0 {
            let a = check(&annotated, &target)?;
            (a, check(&plain, &target)?)
        } else {
            let p = check(&plain, &target)?;
            (check(&annotated, &target)?, p)
        };
        with.push(a);
        without.push(p);
        ratios.push(a / p);
    }
    for v in [&mut with, &mut without, &mut ratios] {
        v.sort_by(f64::total_cmp);
    }
    let mid = with.len() / 2;
    println!("`cargo check` of {HANDLERS} handlers, median of {} runs (dependencies built)\n", with.len());
    println!("| crate | check | ratio (median of paired runs) |");
    println!("|---|---:|---:|");
    println!("| without `#[route]` | {:.3} s | 1.00× |", without[mid]);
    println!("| with `#[route]` | {:.3} s | {:.3}× |", with[mid], ratios[mid]);
    Ok(ExitCode::SUCCESS)
}
