//! Writers under concurrency, against the reference server built with this bench's
//! profile (release): PAT upserts of distinct slugs over 200 BUSINESS handles (no limit
//! near), on a database file.
//!
//! - Sustained writes at 1, 16 and 64 connections to one in-process server, each for
//!   `--seconds` (default 3): requests, 5xx, throughput and its ratio to 1 connection
//!   (measured in the same run), p50 and p99.
//! - Rounds: 20 rounds of 50 writes at once to one process, and 20 rounds of 120 split
//!   over two server processes on one file: 5xx and p99.
//!
//! `cargo bench -p tenx-reference-server --bench writes [-- --seconds N]`

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::join_all;
use serde_json::json;
use tenx_reference_server::{Db, Repository, random_secret, router, seed_demo, server_keys};
use tenx_server_runtime::PatRecord;

const HANDLES: usize = 200;

/// One write's outcome: its status (0: no answer) and how long it took.
type Sample = (u16, Duration);

struct Target {
    handle: String,
    token: String,
}

fn targets(db: &Db) -> Vec<Target> {
    (0..HANDLES)
        .map(|i| {
            let handle = format!("bench-{i:03}");
            db.add_handle(&handle, "BUSINESS", "user_owner").expect("a handle");
            let (id, secret) = (format!("pat_bench_{i:03}"), random_secret());
            let record = PatRecord {
                token_id: id.clone(),
                handle: handle.clone(),
                scopes: vec!["links.write".to_owned()],
                secret_sha256: PatRecord::hash_secret(&secret),
                expires_at: None,
                revoked: false,
            };
            db.add_pat(&record, "bench").expect("a PAT");
            Target { handle, token: format!("patv1_{id}.{secret}") }
        })
        .collect()
}

async fn upsert(http: &reqwest::Client, base: &str, target: &Target, slug: String) -> Sample {
    let started = Instant::now();
    let status = http
        .put(format!("{base}/v2/public/handles/{}/links/{slug}", target.handle))
        .bearer_auth(&target.token)
        .json(&json!({ "destinationUrl": format!("https://example.com/{slug}") }))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16());
    (status, started.elapsed())
}

struct Summary {
    requests: usize,
    server_errors: usize,
    other_refusals: usize,
    p50: Duration,
    p99: Duration,
}

fn summarise(mut samples: Vec<Sample>) -> Summary {
    samples.sort_by_key(|(_, d)| *d);
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 * q) as usize).min(samples.len().saturating_sub(1)))
            .map_or(Duration::ZERO, |s| s.1)
    };
    Summary {
        requests: samples.len(),
        server_errors: samples.iter().filter(|(s, _)| *s >= 500 || *s == 0).count(),
        other_refusals: samples.iter().filter(|(s, _)| (400..500).contains(s)).count(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn serve(db: Db) -> String {
    let app = router(
        db.clone(),
        server_keys(&db, Some("bench-jwt-key"), Some("bench-ctx-key")).expect("keys"),
        Arc::new(SystemTime::now),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    base
}

fn process(db: &std::path::Path) -> (Child, String) {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a port");
    let child = Command::new(env!("CARGO_BIN_EXE_tenx-reference-server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--jwt-key", "bench-jwt-key", "--ctx-key", "bench-ctx-key"])
        .arg("--db")
        .arg(db)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    (child, format!("http://127.0.0.1:{port}"))
}

async fn wait_for(base: &str) {
    for _ in 0..400 {
        if reqwest::get(format!("{base}/v2/public/sdk/config")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no answer on {base}");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.db");
    let db = Db::open(&path).expect("db");
    seed_demo(&db).expect("demo");
    let targets = Arc::new(targets(&db));
    let base = serve(db.clone()).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(128).build().expect("http");

    println!("writes: PAT upserts of distinct slugs over {HANDLES} BUSINESS handles, one process, {seconds} s each");
    println!("| connections | requests | 5xx | other 4xx | writes/s | vs 1 connection | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut baseline = None;
    for connections in [1usize, 16, 64] {
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let workers = (0..connections).map(|w| {
            let (http, base, targets) = (http.clone(), base.clone(), targets.clone());
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let target = &targets[(w + n * connections) % HANDLES];
                    samples.push(upsert(&http, &base, target, format!("c{connections}-w{w}-{n}")).await);
                    n += 1;
                }
                samples
            })
        });
        let started = Instant::now();
        let samples: Vec<Sample> = join_all(workers).await.into_iter().flat_map(|r| r.expect("a worker")).collect();
        let elapsed = started.elapsed().as_secs_f64();
        let s = summarise(samples);
        let rate = (s.requests - s.server_errors - s.other_refusals) as f64 / elapsed;
        let ratio = rate / *baseline.get_or_insert(rate);
        println!(
            "| {connections} | {} | {} | {} | {rate:.0} | {ratio:.2}x | {} | {} |",
            s.requests,
            s.server_errors,
            s.other_refusals,
            ms(s.p50),
            ms(s.p99)
        );
    }

    println!();
    println!("| rounds | writes at once | processes | requests | 5xx | p99 ms |");
    println!("|---|---|---|---|---|---|");
    let mut samples = Vec::new();
    for round in 0..20 {
        let writes = (0..50).map(|i| upsert(&http, &base, &targets[i % HANDLES], format!("one-r{round}-{i}")));
        samples.extend(join_all(writes).await);
    }
    let s = summarise(samples);
    println!("| 20 | 50 | 1 | {} | {} | {} |", s.requests, s.server_errors, ms(s.p99));

    let ((mut a, base_a), (mut b, base_b)) = (process(&path), process(&path));
    wait_for(&base_a).await;
    wait_for(&base_b).await;
    let mut samples = Vec::new();
    for round in 0..20 {
        let writes = (0..120).map(|i| {
            let base = if i % 2 == 0 { &base_a } else { &base_b };
            upsert(&http, base, &targets[i % HANDLES], format!("two-r{round}-{i}"))
        });
        samples.extend(join_all(writes).await);
    }
    let s = summarise(samples);
    println!("| 20 | 120 | 2 | {} | {} | {} |", s.requests, s.server_errors, ms(s.p99));
    for child in [&mut a, &mut b] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
