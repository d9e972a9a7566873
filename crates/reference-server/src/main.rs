//! `tenx-reference-server`: run the reference 10x server.
//!
//! ```sh
//! cargo run -p tenx-reference-server -- --demo
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use clap::Parser;
use tenx_reference_server::{Db, PasswordBound, Stores, router_bounded, seed_demo, server_keys};
use tenx_server_runtime::RedisStore;

/// mimalloc, not the system's: glibc's malloc raises its mmap threshold to the size of
/// the largest block freed, so after the first 19 MiB argon2 block each hash came from
/// an arena, and the arenas kept them: a login flood held 2.9 GiB at 64 connections and
/// 1.4 GiB 10 s after (35 and 15 MiB with the threshold pinned; BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    about = "The reference 10x API server",
    long_about = "The reference 10x API server. It implements nine families of the spec on SQLite; every other route is answered by the spec-driven stub after the same checks (credentials, scopes, role, plan, limits, parameters, body, idempotency): its declared success with a body built from its type, or, asked with `Prefer: code=<status or error code>`, any other declared outcome. `--families` lists which is which."
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "TENX_LISTEN")]
    listen: SocketAddr,
    /// SQLite database file (created if missing).
    #[arg(long, default_value = "tenx-reference.db", env = "TENX_DB")]
    db: PathBuf,
    /// JWT signing key; by default one is created on first start and kept in the database.
    #[arg(long, env = "TENX_JWT_KEY", hide_env_values = true)]
    jwt_key: Option<String>,
    /// Key that signs each click's `ctx`; by default one is created on first start and kept
    /// in the database.
    #[arg(long, env = "TENX_CTX_KEY", hide_env_values = true)]
    ctx_key: Option<String>,
    /// Keep rate-limit counters and idempotency records in this Redis (or Valkey), shared
    /// by every instance that uses it: `redis://host:6379/0`, `rediss://` for TLS.
    /// Without it they live in the database.
    #[arg(long, env = "TENX_REDIS_URL", hide_env_values = true)]
    redis: Option<String>,
    /// Password hashes (login, sign-up, reset) that run at once; each holds 19 MiB while
    /// it runs. Default: half the cores.
    #[arg(long, env = "TENX_PASSWORD_HASHES")]
    password_hashes: Option<usize>,
    /// Requests that may wait for a hash's turn; past that a request is answered 503
    /// with `Retry-After` at once. Default: 32 per concurrent hash.
    #[arg(long, env = "TENX_PASSWORD_QUEUE")]
    password_queue: Option<usize>,
    /// How long a request may wait for a hash's turn, in milliseconds, before the 503.
    #[arg(long, env = "TENX_PASSWORD_WAIT_MS", default_value_t = 2000)]
    password_wait_ms: u64,
    /// Seed demo users and handles, and print how to log in.
    #[arg(long)]
    demo: bool,
    /// Print every family of the spec, whether this server implements it (`real`) or
    /// the stub answers it (`stub`: its checks run, then its declared success with a
    /// body built from its type), and its number of routes; then exit.
    #[arg(long)]
    families: bool,
    /// Threads of the blocking pool (password hashes, store operations that wait for
    /// the database's write lock); past them such work queues. Tokio's 512 by default:
    /// under a 256-connection login flood, 32 threads tripled a cheap route's p99
    /// (BENCHMARKS.md), and the threads' memory stays small either way.
    #[arg(long, env = "TENX_BLOCKING_THREADS", default_value_t = 512)]
    blocking_threads: usize,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tenx_server_runtime=info".into()),
        )
        .init();
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(args.blocking_threads.max(1))
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve(args)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::process::ExitCode {
    if args.families {
        for (family, routes, real) in tenx_reference_server::families() {
            println!(
                "{family:<20} {:<4} {routes:>3} route{}",
                if real { "real" } else { "stub" },
                if routes == 1 { "" } else { "s" }
            );
        }
        return std::process::ExitCode::SUCCESS;
    }
    let db = match Db::open(&args.db) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: cannot open the database `{}`: {e}", args.db.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    let keys = match server_keys(&db, args.jwt_key.as_deref(), args.ctx_key.as_deref()) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("error: cannot keep the server's keys in `{}`: {e}", args.db.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    if args.demo {
        let seeded = match seed_demo(&db) {
            Ok(seeded) => seeded,
            Err(e) => {
                eprintln!("error: cannot seed the demo: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let base = format!("http://{}", args.listen);
        println!("{seeded}\n");
        println!("log in (the cookie jar keeps the refresh cookie):");
        println!("  curl -sS -c cookies.txt -X POST \"{base}/v2/auth/login\" -H \"content-type: application/json\" \\");
        println!("    -d '{{\"email\":\"owner@demo.10x\",\"password\":\"demo-password\"}}'");
        println!("list handles:      curl -sS \"{base}/v2/handles\" -H \"Authorization: Bearer $JWT_TOKEN\"");
        println!(
            "create a PAT:      curl -sS -X POST \"{base}/v2/handles/demo-pro/tokens\" -H \"Authorization: Bearer $JWT_TOKEN\" \\"
        );
        println!(
            "                     -H \"content-type: application/json\" -d '{{\"name\":\"ci-worker\",\"scopes\":[\"links.read\",\"links.write\"],\"expiresInDays\":30}}'"
        );
        println!("refresh:           curl -sS -b cookies.txt -c cookies.txt -X POST \"{base}/v2/auth/refresh\"\n");
    }
    let stores = match &args.redis {
        None => Stores::Database,
        Some(url) => match RedisStore::connect(url, "tenx").await {
            Ok(redis) => Stores::Redis(redis),
            Err(e) => {
                eprintln!("error: cannot reach the Redis given by --redis: {e}");
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    let defaults = PasswordBound::default();
    let concurrent = args.password_hashes.unwrap_or(defaults.concurrent).max(1);
    let passwords = PasswordBound {
        concurrent,
        waiting: args.password_queue.unwrap_or(32 * concurrent),
        wait: std::time::Duration::from_millis(args.password_wait_ms),
    };
    let app = router_bounded(db, keys, Arc::new(SystemTime::now), stores, passwords);
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(address = %args.listen, db = %args.db.display(), redis = args.redis.is_some(), "10x reference server listening");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    // Connection info gives the per-IP limits the peer's address.
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    match axum::serve(listener, service).with_graceful_shutdown(shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the server stopped: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
