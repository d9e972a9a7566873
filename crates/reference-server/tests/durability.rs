//! A conversion acknowledged once is stored once: across a graceful restart, a `kill -9`,
//! and two server processes sharing one database. Real processes of the server binary,
//! on free loopback ports, over one SQLite file.

mod support;

use std::time::Duration;

use serde_json::json;
use support::process::{Process, click_context};
use tenx_reference_server::{Db, Repository};

fn rows(db: &std::path::Path, key: &str) -> i64 {
    Db::open(db).expect("the database opens").conversions_with_key(key).expect("a count")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_after_kill_9_answers_deduped_and_stores_nothing_more() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let first = Process::start(&db, &[]).await;
    let ctx = click_context(&first).await;
    assert_eq!(first.convert(&ctx, "order-kill-9").await, (200, json!({"deduped": false})));
    first.kill();

    let second = Process::start(&db, &[]).await;
    let (status, body) = second.convert(&ctx, "order-kill-9").await;
    assert_eq!((status, body), (200, json!({"deduped": true})));
    // The same key with another body is refused, not stored.
    let other = reqwest::Client::new()
        .post(format!("{}/v2/public/conversions", second.base))
        .json(&json!({ "ctx": ctx, "eventType": "refund", "value": 1.0, "idempotencyKey": "order-kill-9" }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(other.status().as_u16(), 409);
    drop(second);
    assert_eq!(rows(&db, "order-kill-9"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_after_a_graceful_restart_answers_deduped() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let first = Process::start(&db, &[]).await;
    let ctx = click_context(&first).await;
    assert_eq!(first.convert(&ctx, "order-restart").await.1, json!({"deduped": false}));
    drop(first);
    let second = Process::start(&db, &[]).await;
    assert_eq!(second.convert(&ctx, "order-restart").await.1, json!({"deduped": true}));
    drop(second);
    assert_eq!(rows(&db, "order-restart"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_on_one_database_store_a_key_once() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let a = Process::start(&db, &[]).await;
    let b = Process::start(&db, &[]).await;
    let ctx = click_context(&a).await;
    // One after the other: the second process finds the first one's row.
    assert_eq!(a.convert(&ctx, "order-two").await.1, json!({"deduped": false}));
    assert_eq!(b.convert(&ctx, "order-two").await.1, json!({"deduped": true}));
    // At once, through both: one row, one `false`.
    let sends = (0..10).map(|i| {
        let (server, ctx) = (if i % 2 == 0 { &a } else { &b }, ctx.clone());
        async move { server.convert(&ctx, "order-race").await }
    });
    let answers = futures_util::future::join_all(sends).await;
    assert!(answers.iter().all(|(status, _)| *status == 200), "{answers:?}");
    let fresh = answers.iter().filter(|(_, body)| body["deduped"] == json!(false)).count();
    assert_eq!(fresh, 1, "{answers:?}");
    drop((a, b));
    assert_eq!((rows(&db, "order-two"), rows(&db, "order-race")), (1, 1));
}

/// The per-minute limit of the handle's plan holds across processes (it doubled when each
/// counted alone), and so across a restart.
#[tokio::test(flavor = "multi_thread")]
async fn two_processes_share_one_plan_limit() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let a = Process::start(&db, &[]).await;
    let b = Process::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let token = a.owner_token().await;
    // Windows are whole minutes: start with 20 s of this one left at least.
    let into_minute =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() % 60;
    if into_minute > 40 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }
    let mut statuses = Vec::new();
    for i in 0..61 {
        let server = if i % 2 == 0 { &a } else { &b };
        let answer = http
            .get(format!("{}/v2/handles/demo-free/links", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("an answer");
        statuses.push(answer.status().as_u16());
    }
    // FREE allows 60 a minute, counted once for both processes.
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 60, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

/// Another process holding the database's write lock (a long transaction, a backup):
/// a read waits for it no longer than the stores' busy timeout (1.5 s; it was the
/// handlers' 5 s), then is limited in-process and answered from the handlers' connection
/// (WAL readers do not wait on a writer); the next reads do not wait at all while the
/// store is paused. A keyed write is refused with 503 and leaves nothing behind: once
/// the lock is gone, a retry with the same key is recorded (it used to find a claim the
/// refused request had made anyway, and wait on it forever).
#[tokio::test(flavor = "multi_thread")]
async fn while_another_process_locks_the_database_reads_wait_briefly_and_keyed_writes_are_retried_cleanly() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let server = Process::start(&db, &[]).await;
    let token = server.owner_token().await;
    let ctx = click_context(&server).await;
    let http = reqwest::Client::new();
    let read = || http.get(format!("{}/v2/handles/demo-free/links", server.base)).bearer_auth(&token).send();
    let lock = rusqlite::Connection::open(&db).expect("a second connection");
    lock.execute_batch("BEGIN IMMEDIATE").expect("the write lock");

    let started = std::time::Instant::now();
    assert_eq!(read().await.expect("an answer").status().as_u16(), 200);
    let first = started.elapsed();
    assert!(first < Duration::from_millis(4_000), "the first read took {first:?}");
    let started = std::time::Instant::now();
    assert_eq!(read().await.expect("an answer").status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_millis(1_000), "a read while paused took {:?}", started.elapsed());

    let (status, body) = server.convert(&ctx, "order-while-locked").await;
    assert_eq!((status, &body["error"]["code"]), (503, &json!("service_unavailable")), "{body}");
    lock.execute_batch("ROLLBACK").expect("the lock let go");

    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        // Each try bounded, so a retry that waits on a claim nobody answers fails here.
        let (status, body) = tokio::time::timeout(Duration::from_secs(5), server.convert(&ctx, "order-while-locked"))
            .await
            .expect("a retry is answered within 5 s");
        if status == 200 {
            assert_eq!(body, json!({"deduped": false}));
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(std::time::Instant::now() < deadline, "still {status} {body} 15 s after the lock went");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server.convert(&ctx, "order-while-locked").await.1, json!({"deduped": true}));
    drop(server);
    assert_eq!(rows(&db, "order-while-locked"), 1);
}

/// A handler's own write (a PAT upsert: no quota, no idempotency key, so no store
/// decision answers for it) that another process keeps locked out past its wait is the
/// API's declared 503 with `Retry-After`, not a 500; once the lock goes, it is written.
#[tokio::test(flavor = "multi_thread")]
async fn a_write_another_process_keeps_locked_out_is_a_503_to_retry_not_a_500() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let server = Process::start(&db, &[]).await;
    let owner = server.owner_token().await;
    let http = reqwest::Client::new();
    let minted: serde_json::Value = http
        .post(format!("{}/v2/handles/demo-pro/tokens", server.base))
        .bearer_auth(&owner)
        .json(&json!({"name": "locked", "scopes": ["links.write"], "expiresInDays": 1}))
        .send()
        .await
        .expect("a PAT")
        .json()
        .await
        .expect("json");
    let pat = minted["token"].as_str().expect("token").to_owned();
    let upsert = || {
        http.put(format!("{}/v2/public/handles/demo-pro/links/locked-out", server.base))
            .bearer_auth(&pat)
            .json(&json!({"destinationUrl": "https://example.com/locked"}))
            .send()
    };
    let lock = rusqlite::Connection::open(&db).expect("a second connection");
    lock.execute_batch("BEGIN IMMEDIATE").expect("the write lock");
    let answer = upsert().await.expect("an answer");
    let retry_after = answer.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!((status, &body["error"]["code"]), (503, &json!("service_unavailable")), "{body}");
    assert!(retry_after.is_some(), "503 without Retry-After");
    lock.execute_batch("ROLLBACK").expect("the lock let go");
    assert_eq!(upsert().await.expect("an answer").status().as_u16(), 201, "written once the lock is gone");
}
