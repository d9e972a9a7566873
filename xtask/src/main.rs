//! Maintainer tasks for the 10x toolkit, run as `cargo xtask <task>`.
//!
//! - `cargo xtask codegen`: regenerate `generated/` from `api-spec/`.
//! - `cargo xtask codegen --check`: write nothing; fail if `generated/` is stale.
//! - `cargo xtask bench-codegen`: time load + validate + generate on the 10x spec and on
//!   synthetic specs, and report peak memory.
//! - `cargo xtask bench`: ours vs progenitor (codegen speed, memory, build cost).
//! - `cargo xtask bench-route`: `cargo check` of 200 handlers with and without `#[route]`.
//! - `cargo xtask spec-diff [--base REV | --base-dir DIR] [--format json]`: what a spec
//!   change breaks, the semver verdict, and the gate.
//! - `cargo xtask conform --base URL [--routes GLOB] [--seed N]`: check a running server
//!   against the spec.

mod bench;
mod bench_progenitor;
mod bench_route;
mod codegen;
mod conform;
mod manifest;
mod spec_diff;
mod synthetic;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Maintainer tasks for the 10x toolkit")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
// Parsed once per run: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Task {
    /// Regenerate `generated/` from `api-spec/`.
    Codegen {
        /// Write nothing; exit non-zero listing every stale, missing or extra file.
        #[arg(long)]
        check: bool,
    },
    /// Benchmark load + validate + generate on the 10x spec and synthetic specs.
    BenchCodegen {
        /// Runs per size; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Synthetic spec sizes, in routes.
        #[arg(long, value_delimiter = ',', default_values_t = [1000, 5000])]
        sizes: Vec<usize>,
    },
    /// Benchmark against progenitor: codegen speed and memory, and the cost of the
    /// generated client to a user's build.
    Bench {
        /// Paired runs per measurement; medians and min–max are reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Synthetic spec sizes, in routes.
        #[arg(long, value_delimiter = ',', default_values_t = [100, 1000, 3000])]
        sizes: Vec<usize>,
        /// Sizes whose generated clients are also checked (0 = the 10x spec); add 3000
        /// for the largest (about 10 minutes more on 2 cores).
        #[arg(long, value_delimiter = ',', default_values_t = [0, 1000])]
        build_sizes: Vec<usize>,
        /// Also run the client, router and `#[route]` overhead benchmarks, in this process tree.
        #[arg(long)]
        all: bool,
    },
    /// Benchmark `cargo check` of 200 handlers with `#[route]` against the same without.
    BenchRoute {
        /// Paired runs; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Report what the spec change breaks (against the last commit that changed
    /// `api-spec/`, by default) and fail when a break is neither accepted in the spec nor
    /// covered by a major `api.version` bump.
    SpecDiff {
        /// The git revision to compare against.
        #[arg(long, conflicts_with = "base_dir")]
        base: Option<String>,
        /// A folder holding the base spec.
        #[arg(long, conflicts_with = "baseline")]
        base_dir: Option<PathBuf>,
        /// Compare against the release named in `api-spec/RELEASED` (the CI gate).
        #[arg(long, conflicts_with = "base")]
        baseline: bool,
        /// Also prepend the report to `api-spec/CHANGELOG.md`.
        #[arg(long)]
        changelog: bool,
        /// `table` (default) or `json`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Check a running server against the spec: requests built from the types, each rule
    /// broken in turn, credential cases, every answer held to what its route declares.
    /// Exits non-zero on any violation.
    Conform {
        /// The server's base URL (`http://127.0.0.1:8080`).
        #[arg(long)]
        base: String,
        /// The spec folder (default: `api-spec/`).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Route id globs to check (`links*`); repeatable; default: every route.
        #[arg(long = "routes")]
        routes: Vec<String>,
        /// Seeds the generated values.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// A JWT of a user with the highest role on `--subject`.
        #[arg(long, env = "CONFORM_JWT", hide_env_values = true)]
        jwt: Option<String>,
        /// A PAT bound to `--subject`, with every scope.
        #[arg(long, env = "CONFORM_PAT", hide_env_values = true)]
        pat: Option<String>,
        /// A visitor session cookie value.
        #[arg(long, env = "CONFORM_VISITOR", hide_env_values = true)]
        visitor: Option<String>,
        /// An existing subject (`{handle}`) the JWT's user owns and the PAT is bound to.
        #[arg(long)]
        subject: Option<String>,
        /// Another existing subject the PAT is not bound to (PAT routes must refuse it).
        #[arg(long)]
        other_subject: Option<String>,
        /// A PAT bound to `--subject` holding only `--limited-scopes`.
        #[arg(long, env = "CONFORM_LIMITED_PAT", hide_env_values = true, requires = "limited_scopes")]
        limited_pat: Option<String>,
        /// The scopes of `--limited-pat`.
        #[arg(long, value_delimiter = ',')]
        limited_scopes: Vec<String>,
        /// A JWT of a user holding only `--low-role` on `--subject`.
        #[arg(long, env = "CONFORM_LOW_ROLE_JWT", hide_env_values = true, requires = "low_role")]
        low_role_jwt: Option<String>,
        /// The role of `--low-role-jwt`.
        #[arg(long)]
        low_role: Option<String>,
        /// A subject the JWT's user owns on `--low-plan`.
        #[arg(long, requires = "low_plan")]
        low_plan_subject: Option<String>,
        /// The plan of `--low-plan-subject`.
        #[arg(long)]
        low_plan: Option<String>,
        /// A JWT past its expiry.
        #[arg(long, env = "CONFORM_EXPIRED_JWT", hide_env_values = true)]
        expired_jwt: Option<String>,
    },
    /// Write a synthetic spec of N routes into a folder (for benchmarks and tools).
    SyntheticSpec {
        /// Number of routes.
        routes: usize,
        /// The folder to write `spec.yaml` into.
        out: PathBuf,
    },
    /// One measured run, in a fresh process so its peak memory is its own.
    #[command(hide = true)]
    BenchChild {
        /// The spec folder.
        spec: PathBuf,
        /// What to run: `parse` (YAML only) or `full` (load, validate, generate).
        mode: String,
    },
}

/// The workspace root: the folder above `xtask/`.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.task {
        Task::Codegen { check } => codegen::run(&root, check),
        Task::BenchCodegen { runs, sizes } => bench::run(&root, runs, &sizes),
        Task::Bench { runs, sizes, build_sizes, all } => bench_progenitor::run(&root, runs, &sizes, &build_sizes)
            .and_then(|code| if all { bench_progenitor::overheads(&root) } else { Ok(code) }),
        Task::BenchRoute { runs } => bench_route::run(&root, runs),
        Task::SpecDiff { base, base_dir, baseline, changelog, format } => {
            let base = base
                .map(spec_diff::Base::Rev)
                .or(base_dir.map(spec_diff::Base::Dir))
                .or(baseline.then_some(spec_diff::Base::Released));
            spec_diff::run(&root, base, format == "json", changelog)
        }
        Task::Conform {
            base,
            spec,
            routes,
            seed,
            jwt,
            pat,
            visitor,
            subject,
            other_subject,
            limited_pat,
            limited_scopes,
            low_role_jwt,
            low_role,
            low_plan_subject,
            low_plan,
            expired_jwt,
        } => {
            let access = tenx_conform::Access {
                pat_limited: limited_pat.map(|t| (t, limited_scopes)),
                other_subject,
                jwt_low_role: low_role_jwt.zip(low_role),
                low_plan_subject: low_plan_subject.zip(low_plan),
                jwt_expired: expired_jwt,
            };
            let credentials = tenx_conform::Credentials { jwt, pat, visitor, subject, access };
            conform::run(&root, conform::Args { base, spec, routes, seed, credentials })
        }
        Task::SyntheticSpec { routes, out } => synthetic::write(&out, routes).map(|()| ExitCode::SUCCESS),
        Task::BenchChild { spec, mode } => bench::child(&spec, &mode),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
