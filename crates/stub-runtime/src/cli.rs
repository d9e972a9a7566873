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

/// What a generated stub crate's test checks of its binary: started on a free port with
/// `--json`, it prints its base URL and credentials, refuses a call without its
/// credential (401, before the stub) and answers the same call with it (a declared
/// success). Panics, as a test does, naming what went wrong.
pub fn check_binary(binary: &str, spec: &'static ServerSpec) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    use tenx_server_runtime::guard::{AuthKind, Transport};

    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{binary}`: {e}"));
    let mut child = Killed(child);
    let stdout = child.0.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("the binary prints a line");
    let demo: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("`{line}` is not JSON: {e}"));
    let base = demo["baseUrl"].as_str().expect("a baseUrl");
    let addr = base.strip_prefix("http://").expect("an http base URL");

    // A JWT route whose only path parameter, if any, is the subject.
    let subject = demo["subject"].as_str().unwrap_or_default();
    let (route, mode) = spec
        .routes
        .iter()
        .filter(|r| r.method == "GET" && r.query.iter().all(|q| q.optional))
        .filter(|r| r.path_params.iter().all(|p| Some(p.name) == spec.subject))
        .find_map(|r| r.auth.first().filter(|k| **k == AuthKind::Jwt).map(|_| r))
        .and_then(|r| spec.modes.iter().find(|m| m.kind == AuthKind::Jwt).map(|m| (r, m)))
        .expect("the spec has a GET route that takes a JWT");
    let path = spec.subject.map_or(route.path.to_owned(), |s| route.path.replace(&format!("{{{s}}}"), subject));
    let get = |credential: Option<&str>| -> u16 {
        let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        let mut request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
        if let (Some(token), Some(Transport::Header { name, scheme })) = (credential, mode.transports.first()) {
            let value = scheme.map_or(token.to_owned(), |s| format!("{s} {token}"));
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in `{answer}`"))
    };
    assert_eq!(get(None), 401, "`{}` without a credential", route.id);
    let status = get(demo["jwt"].as_str());
    assert!(route.success.contains(&status), "`{}` with the demo JWT answered {status}", route.id);
}
