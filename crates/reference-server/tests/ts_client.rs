//! The generated TypeScript clients, checked and run from `cargo test`: `tsc --strict` on
//! the 10x and example packages as published, then the `node --test` suites of `ts/`
//! (scripted-server cases, compile-time checks, the seed's flows and every stubbed family
//! against this crate's server binary, and the 10x stub binary as SDK teams start it).
//!
//! Needs Node 20+ and `npm ci --prefix ts` (the pinned TypeScript). Without them the test
//! says NOT RUN and passes, unless `TENX_REQUIRE_NODE` is set, as `.ci/run` sets it: there
//! it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn ts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ts")
}

fn run(what: &str, command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn typescript_client_checks_and_suites() {
    let ts = ts_dir();
    let tsc = ts.join("node_modules/.bin/tsc");
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !tsc.exists() || !node_ok {
        let why = if node_ok { "`npm ci --prefix ts` has not been run" } else { "`node` is not installed" };
        assert!(std::env::var_os("TENX_REQUIRE_NODE").is_none(), "TENX_REQUIRE_NODE is set but {why}");
        eprintln!("NOT RUN: {why}");
        return;
    }
    // The packages as a dependent compiles them: their own tsconfig, strict, no Node types.
    for package in ["../generated/ts-client", "../examples/parcels/generated/ts-client"] {
        run(&format!("tsc -p {package}"), Command::new(&tsc).current_dir(&ts).args(["-p", package, "--noEmit"]));
    }
    // The suites, compiled outside the source tree.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ts-build");
    let _ = std::fs::remove_dir_all(&out);
    run("tsc -p ts", Command::new(&tsc).current_dir(&ts).args(["-p", ".", "--outDir"]).arg(&out));
    let mut suites: Vec<PathBuf> = std::fs::read_dir(out.join("ts/test"))
        .expect("the compiled suites")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.js"))
        .collect();
    suites.sort();
    assert!(suites.len() >= 4, "suites: {suites:?}");
    // The 10x stub binary beside this crate's: `cargo test` builds it for its own test.
    let server = Path::new(env!("CARGO_BIN_EXE_tenx-reference-server"));
    let stub = server.with_file_name(format!("tenx-stub{}", std::env::consts::EXE_SUFFIX));
    assert!(
        stub.exists(),
        "{} is not built: run `cargo build -p tenx-stub` (or the whole `cargo test`)",
        stub.display()
    );
    run(
        "node --test",
        Command::new("node")
            // The suites mostly wait on sockets: run the files together even on 2 cores.
            .args(["--test", "--test-concurrency=4"])
            .args(&suites)
            .env("TENX_REFERENCE_SERVER", server)
            .env("TENX_STUB_SERVER", &stub),
    );
}
