//! `cargo xtask conform --base URL`: the conformance harness (`tenx-conform`) against a
//! running server, from the 10x spec (or `--spec DIR`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tenx_conform::{Credentials, Options};

/// What `cargo xtask conform` was given.
pub(crate) struct Args {
    pub(crate) base: String,
    pub(crate) spec: Option<PathBuf>,
    pub(crate) routes: Vec<String>,
    pub(crate) seed: u64,
    pub(crate) credentials: Credentials,
}

pub(crate) fn run(root: &Path, args: Args) -> Result<ExitCode, String> {
    let dir = args.spec.unwrap_or_else(|| root.join(crate::codegen::SPEC));
    let spec = tenx_spec::load_dir(&dir).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("error: cannot start a runtime: {e}"))?;
    let options = Options { routes: args.routes, seed: args.seed, before_route: None };
    let report = runtime.block_on(tenx_conform::run(&spec, &args.base, &args.credentials, &options))?;
    print!("{}", report.render());
    Ok(if report.counts().1 == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
