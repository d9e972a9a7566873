//! The stub server as a binary: a generated stub crate's `main` is one call of [`main`].

use std::net::SocketAddr;

use clap::Parser;
use tenx_server_runtime::guard::ServerSpec;

use crate::kit::StubServer;

/// Serves every route of the API from its spec: the router's checks, then the declared
/// success with a body built from its type; `Prefer: code=<status or error code>` asks
/// for another declared outcome.
#[derive(Debug, Parser)]
#[command(about, long_about = None)]
struct Args {
    /// Where to listen (port 0: any free port; the address is printed).
    #[arg(long, env = "STUB_LISTEN", default_value = "127.0.0.1:4010")]
    listen: SocketAddr,
    /// Decides every value the stub answers (same seed, same answers).
    #[arg(long, env = "STUB_SEED", default_value_t = 0)]
    seed: u64,
    /// Print the base URL and the demo credentials as one line of JSON (for scripts and
    /// other languages' tests) instead of as text.
    #[arg(long)]
    json: bool,
}

/// Parses the command line, starts the stub of `spec`, prints where it listens and its
/// demo credentials, and serves until interrupted. `name` is the API's, for the banner.
pub fn main(name: &str, spec: &'static ServerSpec) -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let server = match StubServer::start_on(spec, args.seed, args.listen).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}; pick another with --listen", args.listen);
                return std::process::ExitCode::FAILURE;
            }
        };
        if args.json {
            let mut line = server.demo().to_json();
            line["baseUrl"] = server.base_url().into();
            println!("{line}");
        } else {
            print_banner(name, &server);
        }
        let _ = tokio::signal::ctrl_c().await;
        server.stop().await;
        std::process::ExitCode::SUCCESS
    })
}

fn print_banner(name: &str, server: &StubServer) {
    let demo = server.demo();
    println!("{name} stub listening on {} (every route: checks, then its declared outcome)", server.base_url());
    let show = |label: &str, value: Option<&str>| {
        if let Some(v) = value {
            println!("  {label:<16} {v}");
        }
    };
    show("subject", demo.subject.as_deref());
    show("low-plan subject", demo.low_plan_subject.as_ref().map(|(s, _)| s.as_str()));
    show("JWT", demo.jwt.as_ref().map(|s| s.expose()));
    show("low-role JWT", demo.jwt_low_role.as_ref().map(|(s, _)| s.expose()));
    show("PAT", demo.pat.as_ref().map(|s| s.expose()));
    show("PAT, no scopes", demo.pat_no_scopes.as_ref().map(|s| s.expose()));
    show("visitor cookie", demo.visitor.as_ref().map(|s| s.expose()));
    println!("  force an outcome: send `Prefer: code=<status or error code>`");
}
