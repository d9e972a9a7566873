//! Two reference-server processes on one Redis (each with its own database, so only
//! Redis can make them agree): one effect per idempotency key, one per-minute limit,
//! one daily quota; and what callers get while Redis is down and once it is back.
//! Each test runs a `redis-server` of its own (see `tenx_conformance::redis_server`).

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::process::{Process, click_context};
use tenx_conformance::redis_server::RedisServer;
use tenx_reference_server::{Db, Repository};

struct Pair {
    a: Process,
    b: Process,
    dbs: [std::path::PathBuf; 2],
    _dir: tempfile::TempDir,
}

async fn two_instances(redis: &RedisServer) -> Pair {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dbs = [dir.path().join("a.db"), dir.path().join("b.db")];
    let url = redis.url();
    let a = Process::start(&dbs[0], &["--redis", &url]).await;
    let b = Process::start(&dbs[1], &["--redis", &url]).await;
    Pair { a, b, dbs, _dir: dir }
}

fn rows(db: &std::path::Path, key: &str) -> i64 {
    Db::open(db).expect("the database opens").conversions_with_key(key).expect("a count")
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_requests_with_one_key_across_two_instances_make_one_effect() {
    let Some(redis) = RedisServer::start() else { return };
    let pair = two_instances(&redis).await;
    let ctx = click_context(&pair.a).await;
    let sends = (0..50).map(|i| {
        let (server, ctx) = (if i % 2 == 0 { &pair.a } else { &pair.b }, ctx.clone());
        async move { server.convert(&ctx, "order-fifty").await }
    });
    let answers = futures_util::future::join_all(sends).await;
    assert!(answers.iter().all(|(status, _)| *status == 200), "{answers:?}");
    let deduped = answers.iter().filter(|(_, body)| *body == json!({"deduped": true})).count();
    assert_eq!(deduped, 49, "{answers:?}");
    assert_eq!(rows(&pair.dbs[0], "order-fifty") + rows(&pair.dbs[1], "order-fifty"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_free_handle_gets_sixty_requests_a_minute_across_two_instances() {
    let Some(redis) = RedisServer::start() else { return };
    let pair = two_instances(&redis).await;
    let tokens = [pair.a.owner_token().await, pair.b.owner_token().await];
    // Windows are whole minutes of Redis's clock (this machine's): start with 20 s left.
    let into_minute =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() % 60;
    if into_minute > 40 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    for i in 0..62 {
        let (server, token) = if i % 2 == 0 { (&pair.a, &tokens[0]) } else { (&pair.b, &tokens[1]) };
        let answer = http
            .get(format!("{}/v2/handles/demo-free/links", server.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("an answer");
        let retry_after = answer.headers().get("retry-after").map(|v| v.to_str().unwrap_or_default().to_owned());
        answers.push((answer.status().as_u16(), retry_after));
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 60, "{statuses:?}");
    for (status, retry_after) in &answers[60..] {
        assert_eq!(*status, 429);
        let seconds: u64 = retry_after.as_deref().and_then(|s| s.parse().ok()).expect("Retry-After in seconds");
        assert!((1..=60).contains(&seconds), "{seconds}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_write_quota_is_exact_across_two_instances() {
    let Some(redis) = RedisServer::start() else { return };
    let pair = two_instances(&redis).await;
    let tokens = [pair.a.owner_token().await, pair.b.owner_token().await];
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    for i in 0..12 {
        let (server, token) = if i % 2 == 0 { (&pair.a, &tokens[0]) } else { (&pair.b, &tokens[1]) };
        let answer = http
            .post(format!("{}/v2/handles/demo-pro/tokens", server.base))
            .bearer_auth(token)
            .json(&json!({"name": format!("worker-{i}"), "scopes": ["links.read"], "expiresInDays": 30}))
            .send()
            .await
            .expect("an answer");
        let status = answer.status().as_u16();
        answers.push((status, answer.json::<Value>().await.unwrap_or_default()));
    }
    // PRO allows 10 writes a day (PAT creation counts), counted once for both instances.
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 10, "{answers:?}");
    for (status, body) in &answers[10..] {
        assert_eq!(*status, 429, "{answers:?}");
        assert_eq!(body["error"]["limits"]["writesPerDay"], 10, "{body}");
    }
}

/// What the store decision (`tenx_server_runtime::store`) says, end to end: with Redis
/// down, reads are still limited (in-process) and answered; a counted write and a keyed
/// conversion are refused with 503 and `Retry-After` within the store timeout, and
/// nothing is stored; with Redis back, the same processes serve again.
#[tokio::test(flavor = "multi_thread")]
async fn redis_down_answers_as_decided_and_redis_back_resumes_without_a_restart() {
    let Some(mut redis) = RedisServer::start() else { return };
    let pair = two_instances(&redis).await;
    let server = &pair.a;
    let token = server.owner_token().await;
    let ctx = click_context(server).await;
    let http = reqwest::Client::new();
    redis.stop();

    let started = Instant::now();
    let read = http
        .get(format!("{}/v2/handles/demo-free/links", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(read.status().as_u16(), 200, "reads are limited in-process while Redis is down");

    let write = http
        .post(format!("{}/v2/handles/demo-pro/tokens", server.base))
        .bearer_auth(&token)
        .json(&json!({"name": "while-down", "scopes": ["links.read"], "expiresInDays": 30}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(write.status().as_u16(), 503);
    assert_eq!(write.headers()["retry-after"], "2");
    let body: Value = write.json().await.expect("the error envelope");
    assert_eq!(body["error"]["code"], "service_unavailable", "{body}");

    let (status, body) = server.convert(&ctx, "order-while-down").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
    assert_eq!(rows(&pair.dbs[0], "order-while-down"), 0, "nothing runs without its record");
    // Three requests, each bounded by the 2 s store timeout (Redis refuses at once here).
    assert!(started.elapsed() < Duration::from_secs(6), "took {:?}", started.elapsed());

    redis.resume();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = server.convert(&ctx, "order-while-down").await;
        if status == 200 {
            assert_eq!(body, json!({"deduped": false}));
            break;
        }
        assert!(Instant::now() < deadline, "still {status} {body} 15 s after Redis came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server.convert(&ctx, "order-while-down").await.1, json!({"deduped": true}));
    assert_eq!(rows(&pair.dbs[0], "order-while-down"), 1);
}
