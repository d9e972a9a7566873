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

/// One measurement: wall time and peak resident memory.
pub(crate) struct Run {
    pub(crate) seconds: f64,
    pub(crate) peak_kib: u64,
}

/// The median time of `runs` measurements, with the median peak memory.
pub(crate) fn median_of(runs: usize, mut f: impl FnMut() -> Result<Run, String>) -> Result<Run, String> {
    let mut all: Vec<Run> = (0..runs.max(1)).map(|_| f()).collect::<Result<_, _>>()?;
    all.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let mid = all.len() / 2;
    let mut peaks: Vec<u64> = all.iter().map(|r| r.peak_kib).collect();
    peaks.sort_unstable();
    Ok(Run { seconds: all[mid].seconds, peak_kib: peaks[mid] })
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
        let full = median_of(runs, || run_child(&exe, dir, "full"))?;
        let base = median_of(runs, || run_child(&exe, dir, "parse"))?;
        println!(
            "| {name} | {routes} | {:.1} ms | {:.1} ms | {:.1}× | {:.1} MiB | {:.1} MiB |",
            full.seconds * 1000.0,
            base.seconds * 1000.0,
            full.seconds / base.seconds.max(1e-9),
            full.peak_kib as f64 / 1024.0,
            base.peak_kib as f64 / 1024.0,
        );
    }
    let _ = std::fs::remove_dir_all(&temp);
    Ok(ExitCode::SUCCESS)
}

/// One run of the bench child: its own time and peak memory, as it reports them.
fn run_child(exe: &Path, dir: &Path, mode: &str) -> Result<Run, String> {
    let out = Command::new(exe)
        .args(["bench-child", &dir.display().to_string(), mode])
        .output()
        .map_err(|e| format!("error: cannot run the bench child: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    match (out.status.success(), fields.next(), fields.next()) {
        (true, Some(Ok(micros)), Some(Ok(peak_kib))) => Ok(Run { seconds: micros as f64 / 1e6, peak_kib }),
        _ => Err(format!("error: the bench child failed: {}", String::from_utf8_lossy(&out.stderr))),
    }
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
