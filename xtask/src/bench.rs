//! `cargo xtask bench-codegen`: load + validate + generate, timed and with peak memory,
//! on the 10x spec and on synthetic specs.
//!
//! Each run is a fresh child process (`xtask bench-child`), so its peak RSS (`VmHWM`
//! on Linux) is its own and no cache carries over. Figures are medians, and each is also
//! given as a ratio to a baseline measured in the same run: parsing the same YAML with
//! `yaml-rust2`'s own loader, the least any YAML-based tool must do. The machine is shared
//! and noisy; the ratio is the figure to compare across runs.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::codegen::SPEC;

struct Sample {
    micros: u128,
    peak_kib: u64,
}

pub(crate) fn run(root: &Path, runs: usize, sizes: &[usize]) -> Result<ExitCode, String> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this xtask is built without optimisations; for figures worth comparing run\n  \
             cargo run --release -p xtask -- bench-codegen"
        );
    }
    let exe = std::env::current_exe().map_err(|e| format!("error: cannot find the xtask binary: {e}"))?;
    let temp = std::env::temp_dir().join(format!("tenx-bench-{}", std::process::id()));
    let mut specs = vec![("10x spec".to_owned(), root.join(SPEC))];
    for &n in sizes {
        let dir = temp.join(format!("synthetic-{n}"));
        crate::synthetic::write(&dir, n)?;
        specs.push((format!("synthetic {n}"), dir));
    }
    println!("load + validate + generate, median of {runs} runs (each in a fresh process)\n");
    println!(
        "| spec | routes | full: wall | parse-only baseline | full / baseline | full: peak RSS | baseline: peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, dir) in &specs {
        let routes = tenx_spec::load_dir(dir).map(|s| s.routes().count()).map_err(|e| e.to_string())?;
        let full = median(&exe, dir, "full", runs)?;
        let base = median(&exe, dir, "parse", runs)?;
        println!(
            "| {name} | {routes} | {:.1} ms | {:.1} ms | {:.1}× | {:.1} MiB | {:.1} MiB |",
            full.micros as f64 / 1000.0,
            base.micros as f64 / 1000.0,
            full.micros as f64 / base.micros.max(1) as f64,
            full.peak_kib as f64 / 1024.0,
            base.peak_kib as f64 / 1024.0,
        );
    }
    let _ = std::fs::remove_dir_all(&temp);
    Ok(ExitCode::SUCCESS)
}

fn median(exe: &Path, dir: &Path, mode: &str, runs: usize) -> Result<Sample, String> {
    let mut samples = Vec::new();
    for _ in 0..runs.max(1) {
        let out = Command::new(exe)
            .args(["bench-child", &dir.display().to_string(), mode])
            .output()
            .map_err(|e| format!("error: cannot run the bench child: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.split_whitespace().map(str::parse::<u128>);
        match (out.status.success(), fields.next(), fields.next()) {
            (true, Some(Ok(micros)), Some(Ok(peak))) => {
                samples.push(Sample { micros, peak_kib: u64::try_from(peak).unwrap_or(u64::MAX) })
            }
            _ => return Err(format!("error: the bench child failed: {}", String::from_utf8_lossy(&out.stderr))),
        }
    }
    samples.sort_by_key(|s| s.micros);
    let mid = samples.len() / 2;
    let micros = samples[mid].micros;
    let mut peaks: Vec<u64> = samples.iter().map(|s| s.peak_kib).collect();
    peaks.sort_unstable();
    Ok(Sample { micros, peak_kib: peaks[mid] })
}

/// One measured run: prints `<microseconds> <peak KiB>`.
pub(crate) fn child(dir: &Path, mode: &str) -> Result<ExitCode, String> {
    let start = Instant::now();
    match mode {
        "full" => {
            let spec = tenx_spec::load_dir(dir).map_err(|e| e.to_string())?;
            let files = tenx_codegen::generate(&spec).map_err(|e| e.to_string())?;
            std::hint::black_box(files);
        }
        "parse" => {
            let mut paths = Vec::new();
            yaml_files(dir, &mut paths);
            for path in paths {
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                let docs = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| e.to_string())?;
                std::hint::black_box(docs);
            }
        }
        other => return Err(format!("error: unknown bench mode `{other}`")),
    }
    let micros = start.elapsed().as_micros();
    println!("{micros} {}", peak_rss_kib());
    Ok(ExitCode::SUCCESS)
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Peak resident memory of this process in KiB (Linux `VmHWM`; 0 elsewhere).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
