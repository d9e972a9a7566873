//! The generated client as SDK teams use it: what `Debug` shows, single-flight refresh,
//! hooks that change requests and see outcomes, a custom HTTP client that still does
//! not follow redirects, options per field, a key per call, and errors that say what
//! happened.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use support::{Reply, Server};
use tenx_client::{
    CallOptions, CallOutcome, Client, ConversionRequest, Error, ErrorCode, ErrorExt, Hook, LoginRequest, RetryPolicy,
    Secret, Session, VirtualClock, reqwest,
};

fn client(server: &Server, clock: &VirtualClock) -> Client {
    Client::with_config(tenx_client::config(server.url()).clock(Arc::new(clock.clone()))).expect("client")
}

#[tokio::test]
async fn printing_a_login_answer_shows_no_refresh_cookie() {
    let server = Server::start(vec![
        Reply::json(200, r#"{"accessToken": "jwt.p4yload.sig"}"#)
            .header("set-cookie", "refresh_token=r3fr3sh-s3cret; HttpOnly; Path=/v2/auth"),
    ])
    .await;
    let login = LoginRequest { email: "a@b.co".into(), password: "pw".into() };
    let answer = client(&server, &VirtualClock::default()).login(&login).await.expect("login");
    let shown = format!("{answer:?}");
    assert!(!shown.contains("r3fr3sh-s3cret"), "{shown}");
    assert!(!shown.contains("jwt.p4yload.sig"), "the access token field is secret too: {shown}");
    assert!(shown.contains("set-cookie") && shown.contains("[redacted]"), "{shown}");
}

/// A server that rotates its refresh cookie on every use, like the reference server: a
/// second refresh with the old cookie fails.
#[derive(Default)]
struct Rotating {
    refreshes: AtomicUsize,
    cookie: Mutex<String>,
}

async fn start_rotating() -> (String, Arc<Rotating>) {
    let state = Arc::new(Rotating { refreshes: AtomicUsize::new(0), cookie: Mutex::new("r0".into()) });
    let refresh = {
        let state = state.clone();
        move |headers: HeaderMap| async move {
            state.refreshes.fetch_add(1, Ordering::SeqCst);
            // Slow enough that every expired call arrives while it runs.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let sent = headers.get("cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let mut cookie = state.cookie.lock().expect("cookie");
            if sent != format!("refresh_token={cookie}") {
                let body = r#"{"error":{"code":"invalid_token","message":"spent","statusCode":401}}"#;
                return (StatusCode::UNAUTHORIZED, [("content-type", "application/json".to_owned())], body)
                    .into_response();
            }
            let next = format!("r{}", state.refreshes.load(Ordering::SeqCst));
            *cookie = next.clone();
            let set = format!("refresh_token={next}; HttpOnly");
            (StatusCode::OK, [("set-cookie", set)], r#"{"accessToken":"fresh"}"#).into_response()
        }
    };
    let handles = |headers: HeaderMap| async move {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer fresh") {
            (StatusCode::OK, r#"{"handles":[]}"#).into_response()
        } else {
            let body = r#"{"error":{"code":"token_expired","message":"expired","statusCode":401}}"#;
            (StatusCode::UNAUTHORIZED, body).into_response()
        }
    };
    let app = axum::Router::new()
        .route("/v2/auth/refresh", axum::routing::post(refresh))
        .route("/v2/handles", axum::routing::get(handles));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, state)
}

#[tokio::test]
async fn twenty_concurrent_expired_calls_share_one_refresh() {
    let (base, state) = start_rotating().await;
    let config = tenx_client::config(&base).auto_refresh(true);
    let session = Session::new(Secret::new("stale"), vec![("refresh_token".into(), Secret::new("r0"))]);
    let user = Client::with_config(config).expect("client").with_session(session);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let user = user.clone();
        calls.spawn(async move { user.list_handles().await.map(|r| r.status) });
    }
    let results = calls.join_all().await;
    let failed: Vec<String> = results.iter().filter_map(|r| r.as_ref().err().map(ToString::to_string)).collect();
    assert!(failed.is_empty(), "{} of 20 failed: {failed:?}", failed.len());
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1, "one refresh request for all of them");
    assert_eq!(user.session().access_token().expose(), "fresh");
}

/// One call's outcome as the hook saw it: route, status, attempts, code.
type Seen = (String, Option<u16>, u32, Option<ErrorCode>);

/// Adds a trace header to every attempt and records every outcome.
#[derive(Default)]
struct Tracing {
    outcomes: Mutex<Vec<Seen>>,
}

impl Hook for Tracing {
    fn before_attempt(&self, request: &mut reqwest::Request, attempt: &tenx_client::AttemptInfo) {
        let value = format!("trace-1/{}", attempt.attempt);
        request.headers_mut().insert("x-trace-id", value.parse().expect("a header value"));
    }

    fn on_outcome(&self, outcome: &CallOutcome<'_>) {
        let code = outcome.error.and_then(|e| e.error_code());
        let row = (outcome.route.to_owned(), outcome.status, outcome.attempts, code);
        self.outcomes.lock().expect("outcomes").push(row);
    }
}

#[tokio::test]
async fn a_hook_adds_a_header_to_each_attempt_and_sees_each_outcome() {
    let server = Server::start(vec![
        Reply::error(503, "service_unavailable", "busy"),
        Reply::json(200, r#"{"handles":[]}"#),
        Reply::error(403, "insufficient_role", "no"),
    ])
    .await;
    let hook = Arc::new(Tracing::default());
    let config = tenx_client::config(server.url()).clock(Arc::new(VirtualClock::default())).hook(hook.clone());
    let user = Client::with_config(config).expect("client").with_jwt("a.b.c");
    user.list_handles().await.expect("after one retry");
    let _ = user.list_handles().await.expect_err("403");
    let traces: Vec<Option<String>> = server.seen().iter().map(|s| s.header("x-trace-id").map(str::to_owned)).collect();
    assert_eq!(traces, [Some("trace-1/1".into()), Some("trace-1/2".into()), Some("trace-1/1".into())]);
    let outcomes = hook.outcomes.lock().expect("outcomes").clone();
    assert_eq!(
        outcomes,
        [
            ("list_handles".to_owned(), Some(200), 2, None),
            ("list_handles".to_owned(), Some(403), 1, Some(ErrorCode::InsufficientRole))
        ]
    );
}

#[tokio::test]
async fn a_custom_http_client_still_answers_redirects_instead_of_following_them() {
    let server = Server::start(vec![Reply::json(302, "").header("location", "/v2/elsewhere")]).await;
    let config = tenx_client::config(server.url())
        .http_client(|| reqwest::Client::builder().pool_max_idle_per_host(1).tcp_nodelay(true));
    let client = Client::with_config(config).expect("client");
    let answer = client.download_public_file("file-1").await.expect("the 302 is the answer");
    assert_eq!(answer.status, 302);
    assert_eq!(answer.headers.get("location").and_then(|v| v.to_str().ok()), Some("/v2/elsewhere"));
    assert_eq!(server.seen().len(), 1, "the redirect was not followed");
}

#[tokio::test]
async fn options_are_overridden_field_by_field() {
    let server = Server::start(vec![Reply::error(503, "service_unavailable", "busy")]).await;
    let clock = VirtualClock::default();
    let base = client(&server, &clock).with_options(CallOptions::new().retry(RetryPolicy::never()));
    // A later timeout override keeps the earlier retry override.
    let narrowed = base.with_options(CallOptions::new().timeout(Duration::from_secs(2)));
    let error = narrowed.with_jwt("a.b.c").list_handles().await.expect_err("503");
    assert_eq!((error.attempts(), server.seen().len()), (1, 1), "still never retried");
}

#[tokio::test]
async fn each_call_gets_its_own_idempotency_key_unless_the_body_has_one() {
    let server = Server::start(vec![Reply::json(200, r#"{"deduped": false}"#)]).await;
    let client = client(&server, &VirtualClock::default());
    let body = |key: Option<&str>| ConversionRequest {
        ctx: "c".into(),
        event_type: None,
        value: None,
        idempotency_key: key.map(str::to_owned),
    };
    for key in [None, None, Some("order-1")] {
        client.record_conversion(&body(key)).await.expect("sent");
    }
    let keys: Vec<String> =
        server.seen().iter().map(|s| s.json()["idempotencyKey"].as_str().unwrap_or_default().to_owned()).collect();
    assert_ne!(keys[0], keys[1], "two calls, two keys");
    assert!(keys[..2].iter().all(|k| uuid_v4(k)), "{keys:?}");
    assert_eq!(keys[2], "order-1");
}

fn uuid_v4(text: &str) -> bool {
    text.len() == 36 && text.as_bytes().get(14) == Some(&b'4')
}

#[tokio::test]
async fn errors_say_their_status_code_retryability_and_keep_what_did_not_decode() {
    let server = Server::start(vec![
        Reply::json(201, r#"{"unexpected": true}"#),
        Reply::json(200, "not json"),
        Reply::error(403, "insufficient_role", "no"),
        Reply::error(429, "rate_limited", "slow").header("retry-after", "1"),
    ])
    .await;
    let user = client(&server, &VirtualClock::default()).with_jwt("a.b.c");

    // 201 is a success status, but not one of this route's.
    let error = user.get_link("acme", "launch").await.expect_err("201");
    assert!(matches!(error, Error::UnexpectedStatus { status: 201, .. }), "{error:?}");
    assert_eq!(error.body(), Some(&br#"{"unexpected": true}"#[..]));

    let error = user.list_handles().await.expect_err("not json");
    assert!(matches!(error, Error::Decode { status: 200, .. }), "{error:?}");
    assert_eq!((error.status(), error.body()), (Some(200), Some(&b"not json"[..])));
    assert!(!error.is_retryable());

    let error = user.list_handles().await.expect_err("403");
    let seen = (error.status(), error.error_code(), error.is_retryable());
    assert_eq!(seen, (Some(403), Some(ErrorCode::InsufficientRole), false));

    let error = user.list_handles().await.expect_err("429 until the attempts run out");
    assert_eq!((error.status(), error.is_retryable(), error.attempts()), (Some(429), true, 6));
}

#[tokio::test]
async fn the_specs_safe_methods_decide_which_writes_are_retried_without_a_key() {
    let link = || serde_json::from_value(serde_json::json!({"destinationUrl": "https://e.com/"})).expect("body");
    for (safe, sent) in [(vec![reqwest::Method::GET, reqwest::Method::PUT], 6), (vec![reqwest::Method::GET], 1)] {
        let server = Server::start(vec![Reply::error(503, "service_unavailable", "busy")]).await;
        let policy = RetryPolicy { safe_methods: safe, ..tenx_client::retry_policy() };
        let user =
            client(&server, &VirtualClock::default()).with_options(CallOptions::new().retry(policy)).with_jwt("a.b.c");
        let _ = user.upsert_link("acme", "launch1", &link()).await.expect_err("503");
        assert_eq!(server.seen().len(), sent, "a PUT is retried only when the policy calls it safe");
    }
}
