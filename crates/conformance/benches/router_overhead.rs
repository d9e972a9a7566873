//! Requests per second through the generated router for a PAT route (credential, PAT
//! binding, scope, rate limit, JSON body validation) against a bare axum handler that
//! returns the same JSON, in one process, with the same load generator on loopback.
//! Run: `cargo bench -p tenx-conformance --bench router_overhead`.
//!
//! A third server runs the same router with its limits in a real Redis on loopback
//! (started here; skipped without `redis-server`). Rounds rotate which server goes
//! first; each ratio is the median (and min–max) of the paired rounds' ratios.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::routing::put;
use serde_json::Value;
use tenx_server::*;

use tenx_conformance::fixed_links::{FixedLinks, link};
use tenx_conformance::redis_server::RedisServer;
use tenx_server_runtime::{
    Hit, MemoryAuthData, MemoryLimiter, PatRecord, RateLimiter, RedisStore, ServerState, StoreFuture,
};

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
        let keys = || tenx_server_runtime::JwtKeys::hs256(b"bench-key-bench-key-bench-key-bench");
        let mut state = ServerState::in_memory(&spec::SERVER_SPEC, data.clone(), keys());
        state.limiter = Arc::new(Unbounded(MemoryLimiter::new()));
        let generated = serve(RouterBuilder::new(state).links(Arc::new(FixedLinks)).build()).await;
        // The same router with its counters in a real Redis on loopback (one Lua script
        // per limit: the plan's per-minute limit and the daily write quota).
        let redis = RedisServer::start();
        let mut on_redis = None;
        if let Some(redis) = &redis {
            let store = RedisStore::connect(&redis.url(), "bench").await.expect("Redis answers");
            let mut state = ServerState::in_memory(&spec::SERVER_SPEC, data.clone(), keys());
            state.limiter = Arc::new(Unbounded(store));
            on_redis = Some(serve(RouterBuilder::new(state).links(Arc::new(FixedLinks)).build()).await);
        }
        // The bare handler: the same JSON answer, no checks.
        let bare = serve(axum::Router::new().route(
            "/v2/public/handles/{handle}/links/{slug}",
            put(|axum::extract::Path((_, slug)): axum::extract::Path<(String, String)>, Json(_): Json<Value>| async move {
                Json(serde_json::to_value(link(&slug)).unwrap_or_default())
            }),
        ))
        .await;
        let http = reqwest::Client::new();
        let path = "/v2/public/handles/acme/links/launch";
        let mut servers = vec![("bare axum handler", format!("{bare}{path}")), ("generated router, PAT route, limits in memory", format!("{generated}{path}"))];
        if let Some(base) = on_redis {
            servers.push(("generated router, PAT route, limits in Redis", format!("{base}{path}")));
        }
        for (_, url) in &servers {
            round(&http, url).await;
        }
        // Per round, every server once, in an order that rotates: each ratio pairs
        // rounds run moments apart.
        let mut rates = vec![Vec::new(); servers.len()];
        for i in 0..ROUNDS {
            for k in 0..servers.len() {
                let n = (i + k) % servers.len();
                rates[n].push(round(&http, &servers[n].1).await);
            }
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (v[v.len() / 2], v[0], v[v.len() - 1])
        };
        let ratios = |num: usize, den: usize| median((0..ROUNDS).map(|i| rates[num][i] / rates[den][i]).collect());
        println!("| server | requests/s (median of {ROUNDS} rounds × {REQUESTS_PER_ROUND}, {CONCURRENCY} connections) | vs bare (median, min–max of paired rounds) |");
        println!("|---|---:|---:|");
        for (n, (name, _)) in servers.iter().enumerate() {
            let (r, lo, hi) = ratios(n, 0);
            println!("| {name} | {:.0} | {r:.3}× ({lo:.3}–{hi:.3}) |", median(rates[n].clone()).0);
        }
        if servers.len() == 3 {
            let (r, lo, hi) = ratios(2, 1);
            println!("\nlimits in Redis vs in memory: {r:.3}× ({lo:.3}–{hi:.3}) of the throughput");
        } else {
            println!("\n(no redis-server on the PATH: the Redis row was not measured)");
        }
    });
}
