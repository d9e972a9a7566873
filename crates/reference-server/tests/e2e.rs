//! End to end: the generated client against the reference server over loopback, one
//! test per documented flow. Client and server share a virtual clock, so waits of
//! `Retry-After` take no time and move the server's rate-limit window too.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tenx_client::{
    Client, ConversionRequest, CreateTokenRequest, LoginRequest, PatUpsertLinkOutcome, UpsertLinkRequest,
};
use tenx_client::{ErrorCode, ErrorDetails, ErrorExt};
use tenx_client_runtime::{Clock, Session, VirtualClock};
use tenx_reference_server::{Db, Repository};

mod support;
use support::{Server, keys, start, start_on};

fn link_body(url: &str) -> UpsertLinkRequest {
    serde_json::from_value(serde_json::json!({ "destinationUrl": url, "title": "Product Page" })).expect("body")
}

fn token_request(scopes: &[&str]) -> CreateTokenRequest {
    CreateTokenRequest {
        name: "ci-worker".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        expires_in_days: Some(30),
    }
}

#[tokio::test]
async fn a_pat_minted_by_an_operator_upserts_and_reads_a_link() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    let minted = owner.create_token("demo-pro", &token_request(&["links.read", "links.write"])).await.expect("token");
    assert_eq!(minted.status, 201);
    let bot = server.client().with_pat(&minted.body.token, "demo-pro").expect("a valid PAT");

    let first = bot.pat_upsert_link("launch", &link_body("https://example.com/product")).await.expect("upsert");
    assert_eq!(first.status, 201);
    assert!(matches!(first.body, PatUpsertLinkOutcome::Created(_)));
    let second = bot.pat_upsert_link("launch", &link_body("https://example.com/product-v2")).await.expect("upsert");
    assert_eq!(second.status, 200);
    assert!(matches!(second.body, PatUpsertLinkOutcome::Updated(_)));

    let read = bot.pat_get_link("launch").await.expect("read back");
    assert_eq!(read.body.destination_url, "https://example.com/product-v2");
    assert!(read.request_id.is_some());
}

#[tokio::test]
async fn a_read_only_pat_cannot_write_and_a_pat_stays_on_its_handle() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    let reader = owner.create_token("demo-pro", &token_request(&["links.read"])).await.expect("token").body.token;

    let bot = server.client().with_pat(&reader, "demo-pro").expect("PAT");
    let error = bot.pat_upsert_link("launch", &link_body("https://example.com")).await.expect_err("read-only");
    let failure = error.api().expect("API error");
    assert_eq!((failure.status, failure.error_code()), (403, Some(ErrorCode::InsufficientScope)));
    assert_eq!(failure.message, "Token does not have the required scope: links.write");
    assert_eq!(failure.attempts, 1);

    // The same token presented for another handle.
    let elsewhere = server.client().with_pat(&reader, "demo-free").expect("PAT");
    let error = elsewhere.pat_list_links().await.expect_err("bound to demo-pro");
    let failure = error.api().expect("API error");
    assert_eq!((failure.status, failure.error_code()), (403, Some(ErrorCode::InsufficientScope)));
    assert_eq!(failure.message, "Token is bound to handle `demo-pro`, not `demo-free`.");
}

#[tokio::test]
async fn a_creator_cannot_mint_a_pat() {
    let server = start().await;
    let creator = server.sign_in("creator@demo.10x").await;
    let error =
        creator.create_token("demo-pro", &token_request(&["links.read"])).await.expect_err("CREATOR < OPERATOR");
    let failure = error.api().expect("API error");
    assert_eq!((failure.status, failure.error_code()), (403, Some(ErrorCode::InsufficientRole)));
    assert!(failure.message.contains("OPERATOR"), "{}", failure.message);
}

#[tokio::test]
async fn a_free_handle_cannot_mint_a_pat() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    let error =
        owner.create_token("demo-free", &token_request(&["links.read"])).await.expect_err("FREE lacks growth_tools");
    let failure = error.api().expect("API error");
    assert_eq!((failure.status, failure.error_code()), (403, Some(ErrorCode::FeatureLocked)));
    match failure.error_details().expect("an api failure") {
        Ok(ErrorDetails::FeatureLocked(d)) => {
            assert_eq!((d.feature.as_str(), d.required_plan.as_str()), ("growth_tools", "PRO"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_expired_jwt_is_refused_and_the_refresh_cookie_gives_a_working_one() {
    let server = start().await;
    let client = server.client();
    let login = client
        .login(&LoginRequest { email: "owner@demo.10x".into(), password: "demo-password".into() })
        .await
        .expect("login");
    let keys = keys(&server.db).jwt;
    let expired = keys.issue("user_owner", SystemTime::now() - Duration::from_secs(7200), Duration::from_secs(60));

    // Without refresh: `token_expired`.
    let stale = client.with_jwt(expired.clone());
    let error = stale.list_handles().await.expect_err("expired");
    assert_eq!(error.error_code(), Some(ErrorCode::TokenExpired));

    // With refresh on: the refresh cookie from login buys a new token and the call is replayed.
    let refreshing =
        Client::with_config(tenx_client::config(&server.base).clock(Arc::new(server.clock.clone())).auto_refresh(true))
            .expect("client")
            .with_session(Session::from_login(expired.clone(), &login.headers));
    let handles = refreshing.list_handles().await.expect("refreshed");
    assert_eq!(handles.status, 200);
    let fresh = refreshing.session().access_token();
    assert_ne!(fresh.expose(), expired);
    assert!(keys.verify(fresh.expose()).is_ok(), "the new JWT verifies");
}

#[tokio::test]
async fn a_conversion_sent_twice_with_one_key_is_stored_once() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    owner.upsert_link("demo-pro", "launch", &link_body("https://example.com/buy?x=1")).await.expect("link");
    let to = click(&server, "demo-pro", "launch").await;
    assert_eq!(query(&to, "x").as_deref(), Some("1"), "the destination keeps its own query");
    let ctx = query(&to, "ctx").expect("the destination carries ctx");
    let client = server.client();
    let body = ConversionRequest {
        ctx,
        event_type: Some("purchase".into()),
        value: Some(49.99),
        idempotency_key: Some("order-12345".into()),
    };
    let first = client.record_conversion(&body).await.expect("first");
    assert_eq!(first.body.deduped, Some(false));
    let second = client.record_conversion(&body).await.expect("second");
    assert_eq!((second.status, second.body.deduped), (200, Some(true)));
    assert_eq!(server.db.conversions_with_key("order-12345").ok(), Some(1));
    let report = owner.get_analytics("demo-pro", &Default::default()).await.expect("analytics");
    assert_eq!((report.body.conversions, report.body.revenue), (1, 49.99));
}

/// Follows a short link as a browser would: the click is recorded, and the answer is a
/// 302 to the destination. Returns where it points.
async fn click(server: &Server, handle: &str, slug: &str) -> reqwest::Url {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http");
    let answer = http.get(format!("{}/go/{handle}/{slug}", server.base)).send().await.expect("redirect");
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().expect("location").to_owned();
    reqwest::Url::parse(&location).expect("an absolute destination")
}

fn query(url: &reqwest::Url, key: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn a_conversion_needs_a_ctx_this_server_signed_and_that_is_fresh() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    owner.upsert_link("demo-pro", "launch", &link_body("https://example.com/buy")).await.expect("link");
    let client = server.client();
    let convert = |ctx: String| ConversionRequest { ctx, event_type: None, value: Some(1.0), idempotency_key: None };
    // The old guessable form, and a token for the same click signed with another key.
    let other =
        tenx_server_runtime::ContextKey::new(b"not this server's key").mint("demo-pro", "launch", server.clock.now());
    for forged in ["demo-pro.launch.n0nce".to_owned(), other] {
        let error = client.record_conversion(&convert(forged)).await.expect_err("forged");
        assert_eq!((error.api().map(|f| f.status), error.error_code()), (Some(400), Some(ErrorCode::InvalidCtx)));
    }
    // A real one works until the spec's TTL has passed.
    let ctx = query(&click(&server, "demo-pro", "launch").await, "ctx").expect("ctx");
    client.record_conversion(&convert(ctx.clone())).await.expect("fresh ctx");
    server.clock.sleep(Duration::from_secs(7 * 24 * 3600 + 1)).await;
    let error = client.record_conversion(&convert(ctx)).await.expect_err("expired");
    assert_eq!(error.error_code(), Some(ErrorCode::InvalidCtx));
    assert!(error.to_string().contains("expired"), "{error}");
}

#[tokio::test]
async fn the_61st_request_of_a_minute_on_free_waits_its_retry_after_then_succeeds() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    for n in 1..=60 {
        owner.list_links("demo-free").await.unwrap_or_else(|e| panic!("request {n}: {e}"));
    }
    assert!(server.clock.sleeps().is_empty());
    let answer = owner.list_links("demo-free").await.expect("succeeds after waiting");
    assert_eq!(answer.attempts, 2, "one 429, then success");
    let waits = server.clock.sleeps();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(waits[0] >= Duration::from_secs(1) && waits[0] <= Duration::from_secs(60), "{waits:?}");
}

#[tokio::test]
async fn data_written_before_a_restart_is_read_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tenx.db");
    let clock = VirtualClock::new(SystemTime::now());
    let server = start_on(Db::open(&path).expect("db"), clock.clone()).await;
    let owner = server.sign_in("owner@demo.10x").await;
    owner.upsert_link("demo-pro", "persist", &link_body("https://example.com/kept")).await.expect("write");
    server.task.abort();
    drop(server);

    let again = start_on(Db::open(&path).expect("db again"), clock).await;
    let owner = again.sign_in("owner@demo.10x").await;
    let link = owner.get_link("demo-pro", "persist").await.expect("read after restart");
    assert_eq!(link.body.destination_url, "https://example.com/kept");
}

#[tokio::test]
async fn every_route_of_the_spec_is_reachable() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    let jwt = owner.session().access_token().expose().to_owned();
    let pat = owner
        .create_token("demo-pro", &token_request(&["links.read", "links.write", "analytics.*", "webhooks.*"]))
        .await
        .expect("token")
        .body
        .token;
    let spec =
        tenx_spec::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec")).expect("spec");
    let http = reqwest::Client::new();
    let mut checked = 0;
    // The implemented families' routes and the stubbed ones': a router miss is a route
    // the generated router does not mount.
    for route in spec.routes() {
        let path = route.path.value.replace("{handle}", "demo-pro").replace("{slug}", "launch").replace(['{', '}'], "");
        let mut request = http.request(
            reqwest::Method::from_bytes(route.method.as_str().as_bytes()).expect("method"),
            format!("{}{path}", server.base),
        );
        request = match route.auth.first().map(|a| a.value) {
            Some(tenx_spec::AuthKind::Jwt) => request.bearer_auth(&jwt),
            Some(tenx_spec::AuthKind::Pat) => request.bearer_auth(&pat),
            Some(tenx_spec::AuthKind::VisitorCookie) => request.header("cookie", "_10x_visitor=none"),
            _ => request,
        };
        if route.request.is_some() {
            request = request.header("content-type", "application/json").body("{}");
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let router_miss = status == 404 && body["error"]["message"].as_str().is_some_and(|m| m.starts_with("No route"));
        assert!(!router_miss, "{} {} answered {body}", route.method.as_str(), route.path.value);
        checked += 1;
    }
    assert_eq!(checked, 181, "every route of the spec");
}
