//! The generated client against a scripted loopback server: retries (attempts and
//! delays on a virtual clock), Retry-After, idempotency keys, error decoding, refresh.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use support::{Reply, Server};
use tenx_client::{Client, ConversionRequest, CreateHandleRequest, JwtClient, LoginRequest};
use tenx_client::{ErrorCode, ErrorDetails, ErrorExt};
use tenx_client_runtime::{CallOptions, Error, RetryPolicy, VirtualClock};

fn client(server: &Server, clock: &VirtualClock) -> Client {
    let config = tenx_client::config(server.url()).clock(Arc::new(clock.clone()));
    Client::with_config(config).expect("client")
}

fn jwt(server: &Server, clock: &VirtualClock) -> JwtClient {
    client(server, clock).with_jwt("header.payload.signature")
}

fn secs(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|s| Duration::from_secs(*s)).collect()
}

#[tokio::test]
async fn two_503s_then_success_waits_one_then_two_seconds() {
    let server = Server::start(vec![
        Reply::error(503, "service_unavailable", "busy"),
        Reply::error(503, "service_unavailable", "busy"),
        Reply::json(200, r#"{"handles": []}"#),
    ])
    .await;
    let clock = VirtualClock::default();
    let answer = jwt(&server, &clock).list_handles().await.expect("success after retries");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.attempts, 3);
    assert_eq!(server.seen().len(), 3);
    assert_eq!(clock.sleeps(), secs(&[1, 2]));
}

#[tokio::test]
async fn a_500_forever_gives_up_after_six_requests_on_the_documented_schedule() {
    let server = Server::start(vec![Reply::error(500, "internal_error", "boom")]).await;
    let clock = VirtualClock::default();
    let error = jwt(&server, &clock).list_handles().await.expect_err("keeps failing");
    assert_eq!(server.seen().len(), 6);
    assert_eq!(clock.sleeps(), secs(&[1, 2, 4, 8, 16]));
    assert_eq!(error.attempts(), 6);
    assert_eq!(error.error_code(), Some(ErrorCode::InternalError));
    assert_eq!(error.to_string(), "internal_error (500): boom [after 6 attempts]");
}

#[tokio::test]
async fn a_429_waits_its_retry_after_in_seconds() {
    let server = Server::start(vec![
        Reply::error(429, "rate_limited", "slow").header("retry-after", "3"),
        Reply::json(200, "{}"),
    ])
    .await;
    let clock = VirtualClock::default();
    jwt(&server, &clock).list_handles().await.expect("success after the wait");
    assert_eq!(server.seen().len(), 2);
    assert_eq!(clock.sleeps(), secs(&[3]));
}

#[tokio::test]
async fn a_429_waits_its_retry_after_as_an_http_date() {
    let clock = VirtualClock::default();
    let date = httpdate::fmt_http_date(tenx_client_runtime::Clock::now(&clock) + Duration::from_secs(7));
    let server = Server::start(vec![
        Reply::error(429, "rate_limited", "slow").header("retry-after", date),
        Reply::json(200, "{}"),
    ])
    .await;
    jwt(&server, &clock).list_handles().await.expect("success after the wait");
    assert_eq!(clock.sleeps(), secs(&[7]));
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_returns_at_once_with_the_wait() {
    let server =
        Server::start(vec![Reply::error(429, "rate_limited", "come back later").header("retry-after", "3600")]).await;
    let clock = VirtualClock::default();
    let error = jwt(&server, &clock).list_handles().await.expect_err("too long to wait");
    assert_eq!(server.seen().len(), 1);
    assert!(clock.sleeps().is_empty());
    let failure = error.api().expect("an API error");
    assert_eq!((failure.status, failure.retry_after), (429, Some(Duration::from_secs(3600))));
    assert!(error.to_string().ends_with("retry after 3600 s"), "{error}");
}

#[tokio::test]
async fn deterministic_errors_are_sent_once_and_decoded() {
    let cases = [
        (400, "validation_error", "slug is too short"),
        (401, "invalid_token", "Token is malformed"),
        (403, "insufficient_scope", "Token does not have the required scope: analytics.*"),
        (404, "not_found", "No such link"),
        (409, "conflict", "Already exists"),
    ];
    for (status, code, message) in cases {
        let server = Server::start(vec![Reply::error(status, code, message).header("x-request-id", "req-42")]).await;
        let clock = VirtualClock::default();
        let error = jwt(&server, &clock).get_link("acme", "launch").await.expect_err("an error");
        assert_eq!(server.seen().len(), 1, "{code} was retried");
        let failure = error.api().expect("an API error");
        assert_eq!(failure.code, code);
        assert_eq!((failure.status, failure.message.as_str()), (status, message));
        assert_eq!(failure.request_id.as_deref(), Some("req-42"));
        assert_eq!(failure.attempts, 1);
        assert!(clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn flat_and_non_json_error_bodies_still_decode() {
    let flat = r#"{"error":"feature_locked","feature":"growth_tools","requiredPlan":"PRO","message":"Growth tools require a PRO plan."}"#;
    let server = Server::start(vec![Reply::json(403, flat)]).await;
    let error = jwt(&server, &VirtualClock::default()).list_tokens("acme").await.expect_err("locked");
    let failure = error.api().expect("an API error");
    assert_eq!(failure.error_code(), Some(ErrorCode::FeatureLocked));
    match failure.error_details().expect("an api failure") {
        Ok(ErrorDetails::FeatureLocked(d)) => {
            assert_eq!((d.feature.as_str(), d.required_plan.as_str()), ("growth_tools", "PRO"))
        }
        other => panic!("{other:?}"),
    }

    let server = Server::start(vec![
        Reply { status: 502, headers: vec![], body: "<html>bad gateway</html>".into() },
        Reply::json(200, "{}"),
    ])
    .await;
    let clock = VirtualClock::default();
    jwt(&server, &clock).list_handles().await.expect("a 502 without JSON is still retried by status");
    assert_eq!(clock.sleeps(), secs(&[1]));
}

#[tokio::test]
async fn a_post_without_an_idempotency_key_is_not_retried() {
    let server = Server::start(vec![Reply::error(503, "service_unavailable", "busy")]).await;
    let clock = VirtualClock::default();
    let error = jwt(&server, &clock)
        .create_handle(&CreateHandleRequest { handle: "acme".into() })
        .await
        .expect_err("not retried");
    assert_eq!((server.seen().len(), error.attempts()), (1, 1));
}

#[tokio::test]
async fn a_conversion_is_retried_with_the_same_key_and_a_dedupe_is_surfaced() {
    let server = Server::start(vec![
        Reply::error(503, "service_unavailable", "busy"),
        Reply::error(503, "service_unavailable", "busy"),
        Reply::json(200, r#"{"deduped": true}"#),
    ])
    .await;
    let clock = VirtualClock::default();
    let body = ConversionRequest {
        ctx: "ctx-1".into(),
        event_type: Some("purchase".into()),
        value: Some(49.99),
        idempotency_key: None,
    };
    let answer = client(&server, &clock).record_conversion(&body).await.expect("recorded");
    assert_eq!(answer.body.deduped, Some(true));
    let keys: Vec<String> =
        server.seen().iter().map(|s| s.json()["idempotencyKey"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(keys.len(), 3);
    assert!(!keys[0].is_empty() && keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(clock.sleeps(), secs(&[1, 2]));

    // A key the caller chooses is sent as is.
    let server = Server::start(vec![Reply::json(200, "{}")]).await;
    let keyed = ConversionRequest { idempotency_key: Some("order-12345".into()), ..body };
    client(&server, &clock).record_conversion(&keyed).await.expect("recorded");
    assert_eq!(server.seen()[0].json()["idempotencyKey"], "order-12345");
}

fn login_reply() -> Reply {
    Reply::json(200, r#"{"accessToken":"old.jwt.token"}"#)
        .header("set-cookie", "refresh_token=r1; HttpOnly; Path=/v2/auth")
}

#[tokio::test]
async fn token_expired_refreshes_once_and_replays_once() {
    let server = Server::start(vec![
        login_reply(),
        Reply::error(401, "token_expired", "JWT expired"),
        Reply::json(200, r#"{"accessToken":"new.jwt.token"}"#),
        Reply::json(200, "{}"),
    ])
    .await;
    let clock = VirtualClock::default();
    let config = tenx_client::config(server.url()).clock(Arc::new(clock)).auto_refresh(true);
    let base = Client::with_config(config).expect("client");
    let login = LoginRequest { email: "you@example.com".into(), password: "your-password".into() };
    let user = base.sign_in(&login).await.expect("signed in");
    user.list_handles().await.expect("success after refresh");

    let seen = server.seen();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["/v2/auth/login", "/v2/handles", "/v2/auth/refresh", "/v2/handles"]);
    assert_eq!(seen[1].header("authorization"), Some("Bearer old.jwt.token"));
    assert_eq!(seen[2].header("cookie"), Some("refresh_token=r1"));
    assert_eq!(seen[3].header("authorization"), Some("Bearer new.jwt.token"));
}

#[tokio::test]
async fn a_failed_refresh_returns_the_original_error_without_a_loop() {
    for refresh_answer in [
        Reply::error(401, "invalid_token", "refresh cookie revoked"),
        Reply::error(401, "token_expired", "expired again"),
    ] {
        let second_expiry = refresh_answer.body.contains("expired again");
        let mut replies = vec![login_reply(), Reply::error(401, "token_expired", "JWT expired")];
        if second_expiry {
            // The refresh works but the replay is refused again: returned as is.
            replies.push(Reply::json(200, r#"{"accessToken":"new"}"#));
        }
        replies.push(refresh_answer);
        replies.push(Reply::json(200, "{}"));
        let server = Server::start(replies).await;
        let config = tenx_client::config(server.url()).clock(Arc::new(VirtualClock::default())).auto_refresh(true);
        let base = Client::with_config(config).expect("client");
        let login = LoginRequest { email: "you@example.com".into(), password: "pw".into() };
        let user = base.sign_in(&login).await.expect("signed in");
        let error = user.list_handles().await.expect_err("no success");
        let expected_requests = if second_expiry { 4 } else { 3 };
        assert_eq!(server.seen().len(), expected_requests);
        assert_eq!(error.error_code(), Some(ErrorCode::TokenExpired), "{error}");
    }
}

#[tokio::test]
async fn refresh_is_opt_in_and_per_call_options_override_the_policy() {
    let server = Server::start(vec![login_reply(), Reply::error(401, "token_expired", "JWT expired")]).await;
    let base = Client::with_config(tenx_client::config(server.url()).clock(Arc::new(VirtualClock::default())))
        .expect("client");
    let user = base.sign_in(&LoginRequest { email: "a@b.c".into(), password: "pw".into() }).await.expect("signed in");
    let error = user.list_handles().await.expect_err("no refresh by default");
    assert_eq!((server.seen().len(), error.error_code()), (2, Some(ErrorCode::TokenExpired)));

    let server = Server::start(vec![Reply::error(503, "service_unavailable", "busy")]).await;
    let clock = VirtualClock::default();
    let once = jwt(&server, &clock).with_options(CallOptions::new().retry(RetryPolicy::never()));
    once.list_handles().await.expect_err("no retry");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn the_pat_client_fills_its_handle_and_sends_its_token() {
    let server = Server::start(vec![Reply::json(200, r#"{"links": []}"#)]).await;
    let pat = client(&server, &VirtualClock::default()).with_pat("patv1_tok1.s3cret", "acme").expect("a valid PAT");
    let answer = pat.pat_list_links().await.expect("links");
    assert_eq!(answer.body.links.len(), 0);
    let seen = &server.seen()[0];
    assert_eq!(seen.path, "/v2/public/handles/acme/links");
    assert_eq!(seen.header("authorization"), Some("Bearer patv1_tok1.s3cret"));
}

#[tokio::test]
async fn secrets_never_show_in_debug_output() {
    let server = Server::start(vec![login_reply()]).await;
    let base = client(&server, &VirtualClock::default());
    let user = base
        .sign_in(&LoginRequest { email: "you@example.com".into(), password: "pw-hunter2".into() })
        .await
        .expect("signed in");
    let pat = base.with_pat("patv1_tok1.topsecretvalue", "acme").expect("PAT");
    let visitor = base.with_visitor_cookie("visitor-cookie-value");
    let login = LoginRequest { email: "you@example.com".into(), password: "pw-hunter2".into() };
    let minted = tenx_client::CreatedToken {
        token_id: "tok1".into(),
        token: "patv1_tok1.topsecretvalue".into(),
        name: "ci".into(),
        scopes: vec![],
        expires_at: None,
    };
    let shown =
        format!("{base:?} {user:?} {pat:?} {visitor:?} {:?} {:?} {login:?} {minted:?}", user.session(), pat.pat());
    for secret in ["old.jwt.token", "r1", "topsecretvalue", "visitor-cookie-value", "pw-hunter2"] {
        assert!(!shown.contains(secret), "`{secret}` shows in {shown}");
    }
    assert!(shown.contains("tok1"), "the token id is not secret");
}

#[test]
fn malformed_pats_are_refused_before_any_request() {
    let base = Client::new("http://127.0.0.1:9").expect("client");
    for token in [
        "",
        "patv1_tok.sec ret",
        "eyJhbGciOiJIUzI1NiJ9.e30.x",
        "patv1_nodot",
        "patv1_.secret",
        "patv1_tok.",
        "patv1_tok.a.b",
    ] {
        let error = base.with_pat(token, "acme").expect_err(token);
        assert!(error.to_string().contains("patv1_<tokenId>.<secret>"), "{error}");
    }
    let _ = SystemTime::now();
}

#[tokio::test]
async fn transport_failures_are_their_own_variant_and_are_retried() {
    // Nothing listens on this port: every attempt fails to connect.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let clock = VirtualClock::default();
    let config = tenx_client::config(format!("http://{addr}")).clock(Arc::new(clock.clone()));
    let error = Client::with_config(config).expect("client").with_jwt("t").list_handles().await.expect_err("no server");
    assert!(matches!(error, Error::Transport { attempts: 6, .. }), "{error:?}");
    assert_eq!(clock.sleeps(), secs(&[1, 2, 4, 8, 16]));
}
