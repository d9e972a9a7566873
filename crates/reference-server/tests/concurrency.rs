//! Concurrent writers, in one process and in two processes on one database file: no
//! answer is a 5xx, every effect happens exactly once, and processes that start
//! together agree on their keys and their demo. Counts are bounded for CI; the write
//! benchmark (`cargo bench -p tenx-reference-server --bench writes`) runs more.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tenx_client_runtime::Clock;
use tenx_reference_server::{Db, Repository, random_secret};
use tenx_server_runtime::PatRecord;

use support::process::{Process, free_port};

/// A PAT that writes links of `handle`, stored straight in the database.
fn pat(db: &Db, handle: &str) -> String {
    let (id, secret) = (format!("pat_{}", handle.replace('-', "_")), random_secret());
    let record = PatRecord {
        token_id: id.clone(),
        handle: handle.to_owned(),
        scopes: vec!["links.read".to_owned(), "links.write".to_owned()],
        secret_sha256: PatRecord::hash_secret(&secret),
        expires_at: None,
        revoked: false,
    };
    db.add_pat(&record, "concurrency").expect("a PAT");
    format!("patv1_{id}.{secret}")
}

/// `PUT` a link with a PAT; the status.
async fn upsert(http: &reqwest::Client, base: &str, handle: &str, token: &str, slug: String) -> u16 {
    http.put(format!("{base}/v2/public/handles/{handle}/links/{slug}"))
        .bearer_auth(token)
        .json(&json!({ "destinationUrl": format!("https://example.com/{slug}") }))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

fn server_errors(statuses: &[u16]) -> Vec<u16> {
    statuses.iter().copied().filter(|s| *s >= 500 || *s == 0).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_writers_at_once_in_one_process_never_meet_a_5xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("tenx.db")).expect("db");
    let server =
        support::start_on(db.clone(), tenx_client_runtime::VirtualClock::new(std::time::SystemTime::now())).await;
    db.add_handle("load-one", "BUSINESS", "user_owner").expect("a handle");
    let token = pat(&db, "load-one");
    let http = reqwest::Client::new();

    // 20 rounds of 50 distinct slugs at once.
    for round in 0..20 {
        let writes = (0..50).map(|i| upsert(&http, &server.base, "load-one", &token, format!("r{round}-s{i}")));
        let statuses = join_all(writes).await;
        assert!(server_errors(&statuses).is_empty(), "round {round}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 201), "round {round}: {statuses:?}");
        // A minute of its own per round: the plan's limit stays far.
        server.clock.sleep(Duration::from_secs(61)).await;
    }
    assert_eq!(db.links("load-one").expect("links").len(), 1000, "every write stored once");

    // 50 writes of one slug at once: one creates it, the others update it.
    let statuses = join_all((0..50).map(|_| upsert(&http, &server.base, "load-one", &token, "hot-link".into()))).await;
    assert!(server_errors(&statuses).is_empty(), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 49, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_sent_fifty_times_at_once_is_one_conversion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("tenx.db")).expect("db");
    let server =
        support::start_on(db.clone(), tenx_client_runtime::VirtualClock::new(std::time::SystemTime::now())).await;
    let token = pat(&db, "demo-pro");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http");
    assert_eq!(upsert(&http, &server.base, "demo-pro", &token, "launch".into()).await, 201);
    let click = http.get(format!("{}/go/demo-pro/launch", server.base)).send().await.expect("a redirect");
    let location = reqwest::Url::parse(click.headers()["location"].to_str().expect("location")).expect("a URL");
    let ctx = location.query_pairs().find(|(k, _)| k == "ctx").map(|(_, v)| v.into_owned()).expect("ctx");
    let body = json!({ "ctx": ctx, "eventType": "purchase", "value": 10.0, "idempotencyKey": "order-1" });
    let sends = (0..50).map(|_| {
        let request = http.post(format!("{}/v2/public/conversions", server.base)).json(&body);
        async move { request.send().await.map_or(0, |r| r.status().as_u16()) }
    });
    let statuses = join_all(sends).await;
    assert!(statuses.iter().all(|s| (200..300).contains(s)), "{statuses:?}");
    assert_eq!(db.conversions("demo-pro").expect("conversions").0, 1, "one effect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_mailbox_signed_up_twenty_times_at_once_is_one_account_however_typed() {
    let server = support::start().await;
    let http = reqwest::Client::new();
    // Case variants, a compatibility form and a Cyrillic look-alike of one address.
    let spellings = ["new@demo.10x", "NEW@demo.10x", "New@Demo.10X", "ｎew@demo.10x", "n\u{0435}w@demo.10x"];
    let sends = (0..20).map(|i| {
        let body = json!({ "email": spellings[i % spellings.len()], "password": "a-long-password" });
        let request = http.post(format!("{}/v2/auth/signup", server.base)).json(&body);
        async move { request.send().await.map_or(0, |r| r.status().as_u16()) }
    });
    let statuses = join_all(sends).await;
    assert!(server_errors(&statuses).is_empty(), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| (200..300).contains(*s)).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
    // The one account answers to every case of its address.
    for email in ["new@demo.10x", "NEW@DEMO.10X"] {
        let login = http
            .post(format!("{}/v2/auth/login", server.base))
            .json(&json!({ "email": email, "password": "a-long-password" }))
            .send()
            .await
            .expect("an answer");
        assert_eq!(login.status(), 200, "{email}");
    }
}

#[tokio::test]
async fn a_case_variant_of_a_demo_address_is_that_account_and_a_look_alike_is_refused() {
    let server = support::start().await;
    let http = reqwest::Client::new();
    let signup = |email: &'static str| {
        http.post(format!("{}/v2/auth/signup", server.base))
            .json(&json!({ "email": email, "password": "a-long-password" }))
            .send()
    };
    for email in ["OWNER@demo.10x", "\u{043e}wner@demo.10x"] {
        let answer = signup(email).await.expect("an answer");
        assert_eq!(answer.status(), 409, "{email}");
        let body: Value = answer.json().await.expect("json");
        assert_eq!(body["error"]["code"], "conflict", "{email}: {body}");
    }
    let login = http
        .post(format!("{}/v2/auth/login", server.base))
        .json(&json!({ "email": "Owner@Demo.10x", "password": "demo-password" }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(login.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_handle_created_twenty_times_at_once_is_made_once() {
    let server = support::start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    let token = owner.session().access_token().expose().to_owned();
    let http = reqwest::Client::new();
    let sends = (0..20).map(|_| {
        let request =
            http.post(format!("{}/v2/handles", server.base)).bearer_auth(&token).json(&json!({"handle": "fresh-one"}));
        async move { request.send().await.map_or(0, |r| r.status().as_u16()) }
    });
    let statuses = join_all(sends).await;
    assert!(server_errors(&statuses).is_empty(), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| (200..300).contains(*s)).count(), 1, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_split_over_two_processes_on_one_file_never_meet_a_5xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tenx.db");
    // Four BUSINESS handles: 20 rounds stay under each one's per-minute limit.
    let handles = ["load-a", "load-b", "load-c", "load-d"];
    let tokens: Vec<String> = {
        let db = Db::open(&path).expect("db");
        tenx_reference_server::seed_demo(&db).expect("demo");
        handles
            .iter()
            .map(|h| {
                db.add_handle(h, "BUSINESS", "user_owner").expect("a handle");
                pat(&db, h)
            })
            .collect()
    };
    let (a, b) = (Process::start(&path, &[]).await, Process::start(&path, &[]).await);
    let http = reqwest::Client::new();
    for round in 0..20 {
        let writes = (0..120).map(|i| {
            let base = if i % 2 == 0 { &a.base } else { &b.base };
            let h = i % handles.len();
            upsert(&http, base, handles[h], &tokens[h], format!("r{round}-s{i}"))
        });
        let statuses = join_all(writes).await;
        assert!(server_errors(&statuses).is_empty(), "round {round}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 201), "round {round}: {statuses:?}");
    }
    let db = Db::open(&path).expect("db");
    let stored: usize = handles.iter().map(|h| db.links(h).expect("links").len()).sum();
    assert_eq!(stored, 2400, "every write stored once");
}

/// A server process on `db` with nothing set but where to listen (its keys are its
/// database's), and `--demo` if asked.
fn bare(db: &Path, demo: bool) -> (Child, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenx-reference-server"));
    command.args(["--listen", &format!("127.0.0.1:{port}")]).arg("--db").arg(db);
    if demo {
        command.arg("--demo");
    }
    let child = command.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn");
    (child, format!("http://127.0.0.1:{port}"))
}

/// Waits until `base` answers, or says why the process ended.
async fn answering(child: &mut Child, base: &str) {
    for _ in 0..400 {
        if reqwest::get(format!("{base}/v2/public/sdk/config")).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
            }
            panic!("the server on {base} exited ({status}): {stderr}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not answer on {base}");
}

/// Signs up (unless the demo has the account), logs in and makes a link on `base`, as
/// `who`; the JWT and a click's ctx for that link.
async fn mint(http: &reqwest::Client, base: &str, demo: bool, who: &str) -> (String, String) {
    let own_email = format!("{who}@start.test");
    let (email, password) =
        if demo { ("owner@demo.10x", "demo-password") } else { (own_email.as_str(), "a-long-password") };
    if !demo {
        let signup = http.post(format!("{base}/v2/auth/signup")).json(&json!({"email": email, "password": password}));
        assert!(signup.send().await.expect("signup").status().is_success());
    }
    let login: Value = http
        .post(format!("{base}/v2/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("a token");
    let jwt = login["accessToken"].as_str().expect("accessToken").to_owned();
    let own_handle = format!("{who}-start");
    let handle = if demo { "demo-pro" } else { own_handle.as_str() };
    if !demo {
        let made = http.post(format!("{base}/v2/handles")).bearer_auth(&jwt).json(&json!({"handle": handle}));
        assert!(made.send().await.expect("a handle").status().is_success());
    }
    let link = http
        .put(format!("{base}/v2/handles/{handle}/links/launch-{who}"))
        .bearer_auth(&jwt)
        .json(&json!({"destinationUrl": "https://example.com/buy"}));
    assert!(link.send().await.expect("a link").status().is_success());
    let click = http.get(format!("{base}/go/{handle}/launch-{who}")).send().await.expect("a redirect");
    let location = reqwest::Url::parse(click.headers()["location"].to_str().expect("location")).expect("a URL");
    let ctx = location.query_pairs().find(|(k, _)| k == "ctx").map(|(_, v)| v.into_owned()).expect("ctx");
    (jwt, ctx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_started_at_once_on_a_new_file_agree_on_their_keys() {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http");
    for (pair, demo) in (0..40).map(|n| (n, n % 2 == 0)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tenx.db");
        let ((mut a, base_a), (mut b, base_b)) = (bare(&path, demo), bare(&path, demo));
        answering(&mut a, &base_a).await;
        answering(&mut b, &base_b).await;
        // What one signed, the other accepts: the JWT, and the click's ctx, both ways.
        for (from, to, who) in [(&base_a, &base_b, "a"), (&base_b, &base_a, "b")] {
            let (jwt, ctx) = mint(&http, from, demo, who).await;
            let me = http.get(format!("{to}/v2/auth/me")).bearer_auth(&jwt).send().await.expect("me");
            assert_eq!(me.status(), 200, "pair {pair} (demo: {demo}): {who}'s JWT on the other");
            let conversion = http
                .post(format!("{to}/v2/public/conversions"))
                .json(&json!({"ctx": ctx, "eventType": "purchase", "value": 1.0, "idempotencyKey": format!("k{pair}{who}")}))
                .send()
                .await
                .expect("a conversion");
            let status = conversion.status();
            assert!(status.is_success(), "pair {pair} (demo: {demo}): {who}'s ctx on the other: {status}");
        }
        for mut child in [a, b] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_past_the_password_bound_is_answered_overloaded_at_once() {
    let db = Db::in_memory().expect("db");
    tenx_reference_server::seed_demo(&db).expect("demo");
    let bound = tenx_reference_server::PasswordBound { concurrent: 1, waiting: 1, wait: Duration::from_millis(50) };
    let app = tenx_reference_server::router_bounded(
        db.clone(),
        support::keys(&db),
        std::sync::Arc::new(std::time::SystemTime::now),
        tenx_reference_server::Stores::Database,
        bound,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    let http = reqwest::Client::new();
    let logins = (0..20).map(|i| {
        // Each from its own address would not matter: the bound is on the hashes.
        let request = http
            .post(format!("{base}/v2/auth/login"))
            .json(&json!({ "email": format!("flood{i}@demo.10x"), "password": "wrong-password" }));
        async move {
            let answer = request.send().await.expect("an answer");
            let retry_after = answer.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap_or_default();
            (status, retry_after, body["error"]["code"].as_str().unwrap_or_default().to_owned())
        }
    });
    let answers = join_all(logins).await;
    let overloaded: Vec<_> = answers.iter().filter(|(s, ..)| *s == 503).collect();
    assert!(!overloaded.is_empty(), "{answers:?}");
    for (_, retry_after, code) in &overloaded {
        assert_eq!((retry_after.as_deref(), code.as_str()), (Some("1"), "service_unavailable"));
    }
    // The others were checked, and are wrong passwords; nothing else.
    assert!(answers.iter().all(|(s, ..)| *s == 503 || *s == 401), "{answers:?}");
}
