//! Per-request overhead of the generated client against a raw `reqwest` call to the same
//! loopback server. Run: `cargo bench -p tenx-conformance --bench client_overhead`.
//!
//! Both sides send the same GET with a bearer token and decode the same JSON. Rounds
//! alternate between the two so machine noise hits both alike; the headline is the ratio
//! of medians.

use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::get;

const REQUESTS_PER_ROUND: usize = 400;
const ROUNDS: usize = 21;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let app = axum::Router::new()
        .route("/v2/public/handles/{handle}/links", get(|| async { Json(serde_json::json!({"links": []})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("reqwest");
    let generated =
        tenx_client::Client::new(base.clone()).expect("client").with_pat("patv1_bench.secret", "acme").expect("pat");
    let url = format!("{base}/v2/public/handles/acme/links");

    // Warm both connection pools.
    for _ in 0..50 {
        raw_call(&raw, &url).await;
        generated.pat_list_links().await.expect("generated call");
    }
    let (mut raw_rounds, mut generated_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which side goes first, and pair each round's two figures, so drift
        // in the machine's load cancels out of the ratio.
        let (r, g) = if round % 2 == 0 {
            let r = time(|| raw_call(&raw, &url)).await;
            (r, time(|| async { generated.pat_list_links().await.map(drop).expect("generated call") }).await)
        } else {
            let g = time(|| async { generated.pat_list_links().await.map(drop).expect("generated call") }).await;
            (time(|| raw_call(&raw, &url)).await, g)
        };
        raw_rounds.push(r);
        generated_rounds.push(g);
        ratios.push(g.as_secs_f64() / r.as_secs_f64());
    }
    let (r, g) = (median(&mut raw_rounds), median(&mut generated_rounds));
    ratios.sort_by(f64::total_cmp);
    println!(
        "| client | per request (median of {ROUNDS} rounds × {REQUESTS_PER_ROUND}) | ratio (median of paired rounds) |"
    );
    println!("|---|---:|---:|");
    println!("| raw reqwest | {:.1} µs | 1.00× |", r.as_secs_f64() * 1e6);
    println!("| generated client | {:.1} µs | {:.3}× |", g.as_secs_f64() * 1e6, ratios[ratios.len() / 2]);
}

async fn time<F, Fut>(call: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    for _ in 0..REQUESTS_PER_ROUND {
        call().await;
    }
    start.elapsed() / REQUESTS_PER_ROUND as u32
}

async fn raw_call(client: &reqwest::Client, url: &str) {
    let response = client.get(url).bearer_auth("patv1_bench.secret").send().await.expect("raw call");
    let bytes = response.bytes().await.expect("body");
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    std::hint::black_box(value);
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
