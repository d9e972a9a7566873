//! A conversion acknowledged once is stored once: across a graceful restart, a `kill -9`,
//! and two server processes sharing one database. Real processes of the server binary,
//! on free loopback ports, over one SQLite file.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tenx_reference_server::{Db, Repository};

const JWT_KEY: &str = "durability-jwt-key-durability-jwt-key";
const CTX_KEY: &str = "durability-ctx-key-durability-ctx-key";

/// One server process over `db`.
struct Process {
    child: Child,
    base: String,
}

impl Process {
    async fn start(db: &std::path::Path) -> Process {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_tenx-reference-server"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--demo", "--jwt-key", JWT_KEY, "--ctx-key", CTX_KEY])
            .arg("--db")
            .arg(db)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let process = Process { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..200 {
            if reqwest::get(format!("{}/v2/public/sdk/config", process.base)).await.is_ok() {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not answer on {}", process.base);
    }

    /// `kill -9`: no shutdown of any kind.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    async fn convert(&self, ctx: &str, key: &str) -> (u16, Value) {
        let body = json!({ "ctx": ctx, "eventType": "purchase", "value": 49.99, "idempotencyKey": key });
        let answer = reqwest::Client::new()
            .post(format!("{}/v2/public/conversions", self.base))
            .json(&body)
            .send()
            .await
            .expect("an answer");
        (answer.status().as_u16(), answer.json().await.unwrap_or_default())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A link of the demo owner, and a signed click context for it (as a browser gets one).
async fn click_context(server: &Process) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http");
    let login: Value = http
        .post(format!("{}/v2/auth/login", server.base))
        .json(&json!({"email": "owner@demo.10x", "password": "demo-password"}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("login")
        .json()
        .await
        .expect("a token");
    let token = login["accessToken"].as_str().expect("accessToken");
    http.put(format!("{}/v2/handles/demo-pro/links/launch", server.base))
        .bearer_auth(token)
        .json(&json!({"destinationUrl": "https://example.com/buy"}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("a link");
    let answer = http.get(format!("{}/go/demo-pro/launch", server.base)).send().await.expect("a redirect");
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().expect("location")).expect("a URL");
    location.query_pairs().find(|(k, _)| k == "ctx").map(|(_, v)| v.into_owned()).expect("ctx")
}

fn rows(db: &std::path::Path, key: &str) -> i64 {
    Db::open(db).expect("the database opens").conversions_with_key(key).expect("a count")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_after_kill_9_answers_deduped_and_stores_nothing_more() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let first = Process::start(&db).await;
    let ctx = click_context(&first).await;
    assert_eq!(first.convert(&ctx, "order-kill-9").await, (200, json!({"deduped": false})));
    first.kill();

    let second = Process::start(&db).await;
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
    let first = Process::start(&db).await;
    let ctx = click_context(&first).await;
    assert_eq!(first.convert(&ctx, "order-restart").await.1, json!({"deduped": false}));
    drop(first);
    let second = Process::start(&db).await;
    assert_eq!(second.convert(&ctx, "order-restart").await.1, json!({"deduped": true}));
    drop(second);
    assert_eq!(rows(&db, "order-restart"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_on_one_database_store_a_key_once() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("tenx.db");
    let a = Process::start(&db).await;
    let b = Process::start(&db).await;
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
    let a = Process::start(&db).await;
    let b = Process::start(&db).await;
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/v2/auth/login", a.base))
        .json(&json!({"email": "owner@demo.10x", "password": "demo-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("a token");
    let token = login["accessToken"].as_str().expect("accessToken").to_owned();
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
