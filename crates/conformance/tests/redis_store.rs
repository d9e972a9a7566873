//! The Redis backend against a real `redis-server`: limits counted once across
//! instances in Redis's clock, idempotency keys claimed once, answers expiring at their
//! retention, and what a caller sees while Redis is down and after it is back.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use tenx_conformance::redis_server::RedisServer;
use tenx_server_runtime::{IdempotencyStore, RateLimiter, RedisStore, Reservation, Stored};

const MINUTE: Duration = Duration::from_secs(60);

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::connect(&server.url(), "test").await.expect("Redis answers")
}

async fn dbsize(store_url: &str) -> i64 {
    let client = redis::Client::open(store_url).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("connection");
    redis::cmd("DBSIZE").query_async(&mut conn).await.expect("DBSIZE")
}

#[tokio::test]
async fn two_instances_count_one_limit() {
    let Some(server) = RedisServer::start() else { return };
    let (a, b) = (store(&server).await, store(&server).await);
    let now = SystemTime::now();
    let mut counted = Vec::new();
    for i in 0..61 {
        let instance = if i % 2 == 0 { &a } else { &b };
        counted.push(instance.hit("rpm:demo-free", 60, MINUTE, now).await.expect("Redis answers"));
    }
    assert_eq!(counted[..60], (1..=60).map(Ok).collect::<Vec<_>>()[..]);
    let wait = counted[60].expect_err("the 61st is over the limit");
    assert!(wait > Duration::ZERO && wait <= MINUTE, "{wait:?}");
    assert_eq!(a.hit("rpm:other", 60, MINUTE, now).await, Ok(Ok(1)), "another key counts alone");
}

#[tokio::test]
async fn a_window_ends_on_redis_clock_and_its_counter_expires() {
    let Some(server) = RedisServer::start() else { return };
    let s = store(&server).await;
    // A client clock a day off does not move the window: Redis's clock decides.
    let skewed = SystemTime::now() + Duration::from_secs(86_400);
    let window = Duration::from_millis(500);
    assert_eq!(s.hit("quota", 1, window, skewed).await, Ok(Ok(1)));
    let wait = s.hit("quota", 1, window, SystemTime::now()).await.expect("answers").expect_err("spent");
    assert!(wait <= window);
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert_eq!(s.hit("quota", 1, window, skewed).await, Ok(Ok(1)), "the next window starts over");
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    assert_eq!(dbsize(&server.url()).await, 0, "ended windows leave nothing behind");
}

#[tokio::test]
async fn a_key_is_claimed_once_answered_and_forgotten_after_its_retention() {
    let Some(server) = RedisServer::start() else { return };
    let (a, b) = (store(&server).await, store(&server).await);
    let now = SystemTime::now();
    let (fp, other) = ([1u8; 32], [2u8; 32]);
    assert!(matches!(a.reserve("conv", "k", fp, now).await, Ok(Reservation::New)));
    // Another instance, while the first runs: the same body waits, another conflicts.
    let Ok(Reservation::Pending(mut waiting)) = b.reserve("conv", "k", fp, now).await else {
        panic!("a running key is waited on")
    };
    assert!(matches!(b.reserve("conv", "k", other, now).await, Ok(Reservation::Conflict)));
    let answer = Stored { status: 200, body: json!({ "deduped": false }) };
    let keep_until = SystemTime::now() + Duration::from_secs(1);
    a.complete("conv", "k", Some(answer.clone()), keep_until).await.expect("recorded");
    tokio::time::timeout(Duration::from_secs(2), waiting.changed()).await.expect("in time").expect("an answer");
    assert_eq!(*waiting.borrow(), Some(answer.clone()));
    assert!(matches!(b.reserve("conv", "k", fp, now).await, Ok(Reservation::Done(s)) if s == answer));
    assert!(matches!(b.reserve("conv", "k", other, now).await, Ok(Reservation::Conflict)));
    // A key's scope is part of it: another caller's equal key is new.
    assert!(matches!(b.reserve("conv2", "k", fp, now).await, Ok(Reservation::New)));
    // A failed first run is released: a retry runs.
    b.complete("conv2", "k", None, keep_until).await.expect("released");
    assert!(matches!(a.reserve("conv2", "k", fp, now).await, Ok(Reservation::New)));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(a.reserve("conv", "k", other, now).await, Ok(Reservation::New)), "past its retention");
}

#[tokio::test]
async fn ten_thousand_keys_leave_nothing_once_their_retention_ends() {
    let Some(server) = RedisServer::start() else { return };
    let s = store(&server).await;
    let now = SystemTime::now();
    let keep_until = now + Duration::from_secs(2);
    let answer = Stored { status: 200, body: json!({ "deduped": false }) };
    let batches = (0..10).map(|batch| {
        let (s, answer) = (s.clone(), answer.clone());
        async move {
            for n in 0..1000 {
                let key = format!("key-{batch}-{n}");
                assert!(matches!(s.reserve("conv", &key, [7; 32], now).await, Ok(Reservation::New)));
                s.complete("conv", &key, Some(answer.clone()), keep_until).await.expect("recorded");
            }
        }
    });
    futures_util::future::join_all(batches).await;
    // Every key is held until its retention ends; on a loaded machine the writes may
    // outlast the 2 s, and the first keys are then rightly gone already.
    let held = dbsize(&server.url()).await;
    let in_time = SystemTime::now() < keep_until;
    assert!(if in_time { held == 10_000 } else { held <= 10_000 }, "{held} keys held (written in time: {in_time})");
    // Redis drops expired keys in the background; give it a few seconds past retention.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = dbsize(&server.url()).await;
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} keys still held 13 s past their retention");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn redis_down_is_reported_in_time_and_redis_back_is_used_again() {
    let Some(mut server) = RedisServer::start() else { return };
    let s = store(&server).await;
    let now = SystemTime::now();
    assert_eq!(s.hit("k", 5, MINUTE, now).await, Ok(Ok(1)));
    server.stop();
    let started = Instant::now();
    assert!(s.hit("k", 5, MINUTE, now).await.is_err(), "a stopped Redis is unavailable");
    assert!(s.reserve("conv", "k", [1; 32], now).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2), "reported in {:?}", started.elapsed());
    server.resume();
    // The same store reconnects on its own (the restarted Redis is empty).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match s.hit("k", 5, MINUTE, now).await {
            Ok(hit) => {
                assert_eq!(hit, Ok(1));
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "still unavailable: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_hung_redis_is_cut_off_in_bounded_time() {
    let Some(server) = RedisServer::start() else { return };
    let s = store(&server).await;
    let now = SystemTime::now();
    assert_eq!(s.hit("k", 5, MINUTE, now).await, Ok(Ok(1)));
    server.freeze();
    let started = Instant::now();
    let hung = s.hit("k", 5, MINUTE, now).await;
    let took = started.elapsed();
    server.thaw();
    assert!(hung.is_err(), "a Redis that does not answer is unavailable: {hung:?}");
    // The backend's own command timeout (500 ms) answers before the router's 2 s bound.
    assert!(took < Duration::from_secs(2), "took {took:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.hit("k", 5, MINUTE, now).await.is_ok(), "thawed, it answers again");
}
