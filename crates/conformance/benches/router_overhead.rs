//! Requests per second through the generated router for a PAT route (credential, PAT
//! binding, scope, rate limit, JSON body validation) against a bare axum handler that
//! returns the same JSON, in one process, with the same load generator on loopback.
//! Run: `cargo bench -p tenx-conformance --bench router_overhead`.
//!
//! Rounds alternate which server goes first; the headline is the median of the paired
//! rounds' ratios.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::routing::put;
use serde_json::Value;
use tenx_server::*;

use tenx_conformance::fixed_links::{FixedLinks, link};
use tenx_server_runtime::{Hit, MemoryAuthData, MemoryLimiter, PatRecord, RateLimiter, ServerState, StoreFuture};

const CONCURRENCY: usize = 16;
const REQUESTS_PER_ROUND: usize = 4000;
const ROUNDS: usize = 9;
const BODY: &str = r#"{"destinationUrl":"https://example.com/product","title":"Product Page","tags":["q2"]}"#;

/// Counts every request like the real limiter `L`, with a limit no benchmark reaches.
struct Unbounded<L>(L);

impl<L: RateLimiter> RateLimiter for Unbounded<L> {
    fn hit<'a>(&'a self, key: &'a str, _: u32, window: Duration, now: SystemTime) -> StoreFuture<'a, Hit> {
        self.0.hit(key, u32::MAX, window, now)
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    base
}

async fn round(http: &reqwest::Client, url: &str) -> f64 {
    let start = Instant::now();
    let per_task = REQUESTS_PER_ROUND / CONCURRENCY;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, url) = (http.clone(), url.to_owned());
            tokio::spawn(async move {
                for _ in 0..per_task {
                    let r = http
                        .put(&url)
                        .header("authorization", "Bearer patv1_bench.s3cret")
                        .header("content-type", "application/json")
                        .body(BODY)
                        .send()
                        .await
                        .expect("send");
                    assert_eq!(r.status().as_u16(), 200);
                    let _ = r.bytes().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    (per_task * CONCURRENCY) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let data = Arc::new(MemoryAuthData::new());
        data.add_handle("acme", "BUSINESS");
        data.add_pat(PatRecord {
            token_id: "bench".into(),
            handle: "acme".into(),
            scopes: vec!["links.read".into(), "links.write".into()],
            secret_sha256: PatRecord::hash_secret("s3cret"),
            expires_at: None,
            revoked: false,
        });
        let mut state = ServerState::in_memory(&spec::SERVER_SPEC, data, tenx_server_runtime::JwtKeys::hs256(b"bench-key-bench-key-bench-key-bench"));
        state.limiter = Arc::new(Unbounded(MemoryLimiter::new()));
        let generated = serve(RouterBuilder::new(state).links(Arc::new(FixedLinks)).build()).await;
        // The bare handler: the same JSON answer, no checks.
        let bare = serve(axum::Router::new().route(
            "/v2/public/handles/{handle}/links/{slug}",
            put(|axum::extract::Path((_, slug)): axum::extract::Path<(String, String)>, Json(_): Json<Value>| async move {
                Json(serde_json::to_value(link(&slug)).unwrap_or_default())
            }),
        ))
        .await;
        let http = reqwest::Client::new();
        let (g_url, b_url) = (format!("{generated}/v2/public/handles/acme/links/launch"), format!("{bare}/v2/public/handles/acme/links/launch"));
        round(&http, &g_url).await;
        round(&http, &b_url).await;
        let (mut gs, mut bs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..ROUNDS {
            let (g, b) = if i % 2 == 0 {
                let g = round(&http, &g_url).await;
                (g, round(&http, &b_url).await)
            } else {
                let b = round(&http, &b_url).await;
                (round(&http, &g_url).await, b)
            };
            gs.push(g);
            bs.push(b);
            ratios.push(g / b);
        }
        for v in [&mut gs, &mut bs, &mut ratios] {
            v.sort_by(f64::total_cmp);
        }
        let mid = ROUNDS / 2;
        println!("| server | requests/s (median of {ROUNDS} rounds × {REQUESTS_PER_ROUND}, {CONCURRENCY} connections) | ratio (median of paired rounds) |");
        println!("|---|---:|---:|");
        println!("| bare axum handler | {:.0} | 1.00× |", bs[mid]);
        println!("| generated router, PAT route | {:.0} | {:.3}× |", gs[mid], ratios[mid]);
    });
}
