//! The generated router against the auth page: every failure of the ordered checks, each
//! with status, code, message and an exact error-model body; panics; rate limits;
//! idempotency under concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tenx_server::*;

use tenx_conformance::fixed_links::FixedLinks;
use tenx_server_runtime::{JwtKeys, MemoryAuthData, PatRecord, ServerState, VisitorRecord};

const KEY: &[u8] = b"test-signing-key-test-signing-key";

/// A small app: links answer from memory, conversions count handler runs, one route panics.
#[derive(Default)]
struct App {
    conversions: AtomicUsize,
}

impl TokensApi for App {
    async fn create_token(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        _: String,
        body: CreateTokenRequest,
    ) -> Result<CreatedToken, Failure> {
        Ok(CreatedToken {
            token_id: "t".into(),
            token: "patv1_t.s".into(),
            name: body.name,
            scopes: body.scopes,
            expires_at: None,
        })
    }
    async fn list_tokens(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<TokenList, Failure> {
        Ok(TokenList { tokens: vec![] })
    }
    async fn revoke_token(&self, _cx: &RequestContext, _: JwtContext, _: String, _: String) -> Result<(), Failure> {
        Ok(())
    }
}

impl AnalyticsApi for App {
    async fn get_analytics(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        _: String,
        _: GetAnalyticsQuery,
    ) -> Result<AnalyticsReport, Failure> {
        Err(Failure::not_found("analytics"))
    }
    async fn export_analytics(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<Value, Failure> {
        Ok(json!([]))
    }
    async fn pat_get_analytics(
        &self,
        _cx: &RequestContext,
        _: PatContext,
        _: PatGetAnalyticsQuery,
    ) -> Result<AnalyticsReport, Failure> {
        Err(Failure::not_found("analytics"))
    }
}

impl WebhooksApi for App {
    async fn create_webhook(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        _: String,
        _: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Failure> {
        Ok(CreatedWebhook { subscription_id: None, secret: "whsec".into() })
    }
    async fn list_webhooks(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<Value, Failure> {
        Ok(json!([]))
    }
    async fn delete_webhook(&self, _cx: &RequestContext, _: JwtContext, _: String, _: String) -> Result<(), Failure> {
        Ok(())
    }
    async fn test_webhook(&self, _cx: &RequestContext, _: JwtContext, _: String, _: String) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn pat_create_webhook(
        &self,
        _cx: &RequestContext,
        _: PatContext,
        _: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Failure> {
        Ok(CreatedWebhook { subscription_id: Some("sub_1".into()), secret: "whsec".into() })
    }
}

impl PublicRuntimeApi for App {
    async fn record_conversion(
        &self,
        _cx: &RequestContext,
        body: ConversionRequest,
    ) -> Result<ConversionResult, Failure> {
        self.conversions.fetch_add(1, Ordering::SeqCst);
        // Long enough for concurrent repeats to arrive while this one runs.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = body;
        Ok(ConversionResult { deduped: Some(false) })
    }
    async fn resolve_context(&self, _cx: &RequestContext, _: ResolveContextQuery) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn submit_chain_signals(&self, _cx: &RequestContext, _: ChainSignalsRequest) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn resolve_chain(&self, _cx: &RequestContext, _: ChainResolveRequest) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn prefetch_chain(&self, _cx: &RequestContext, _: Value) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn get_sdk_config(&self, _cx: &RequestContext) -> Result<Value, Failure> {
        panic!("database password is hunter2")
    }
}

impl VisitorApi for App {
    async fn request_visitor_magic_link(&self, _cx: &RequestContext, _: MagicLinkRequest) -> Result<(), Failure> {
        Ok(())
    }
    async fn verify_visitor_magic_link(
        &self,
        _cx: &RequestContext,
        _: VerifyMagicLinkRequest,
    ) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn visitor_logout(&self, _cx: &RequestContext, _: VisitorContext) -> Result<(), Failure> {
        Ok(())
    }
    async fn get_visitor_profile(&self, _cx: &RequestContext, v: VisitorContext) -> Result<Value, Failure> {
        Ok(json!({ "email": v.email }))
    }
    async fn list_visitor_access(&self, _cx: &RequestContext, _: VisitorContext) -> Result<Value, Failure> {
        Ok(json!([]))
    }
}

impl PlatformAdminApi for App {
    async fn list_all_group_buys(&self, _cx: &RequestContext, _: JwtContext) -> Result<Value, Failure> {
        Ok(json!([]))
    }
    async fn get_creator_economy(&self, _cx: &RequestContext, _: JwtContext) -> Result<Value, Failure> {
        Ok(json!({}))
    }
}

struct Fixture {
    base: String,
    http: reqwest::Client,
    keys: JwtKeys,
    app: Arc<App>,
}

fn pat(data: &MemoryAuthData, id: &str, handle: &str, scopes: &[&str], expired: bool, revoked: bool) {
    data.add_pat(PatRecord {
        token_id: id.into(),
        handle: handle.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        secret_sha256: PatRecord::hash_secret("s3cret"),
        expires_at: expired.then(|| SystemTime::now() - Duration::from_secs(1)),
        revoked,
    });
}

async fn start() -> Fixture {
    let data = Arc::new(MemoryAuthData::new());
    for (handle, plan) in [("acme", "PRO"), ("free", "FREE"), ("free2", "FREE"), ("other", "PRO")] {
        data.add_handle(handle, plan);
    }
    data.set_role("alice", "acme", "OWNER");
    data.set_role("bob", "acme", "CREATOR");
    data.set_role("carol", "free", "OWNER");
    data.set_role("carol", "free2", "OWNER");
    data.add_platform_role("dave", "PLATFORM_ADMIN");
    data.add_user("eve"); // signed in, with no role anywhere
    pat(&data, "reader", "acme", &["links.read"], false, false);
    pat(&data, "writer", "acme", &["links.read", "links.write", "analytics.*", "webhooks.*"], false, false);
    pat(&data, "old", "acme", &["links.read"], true, false);
    pat(&data, "gone", "acme", &["links.read"], false, true);
    data.add_visitor(
        "v-session",
        VisitorRecord {
            visitor_id: "v1".into(),
            email: "buyer@example.com".into(),
            expires_at: SystemTime::now() + Duration::from_secs(3600),
        },
    );
    let keys = JwtKeys::hs256(KEY);
    let app = Arc::new(App::default());
    // The router's clock stands still: a minute's 61 requests are in one window whatever
    // the wall clock does (it straddled a minute now and then, and the test failed).
    let mut state = ServerState::in_memory(&spec::SERVER_SPEC, data, keys.clone());
    let started = SystemTime::now();
    state.now = Arc::new(move || started);
    let router = RouterBuilder::new(state)
        .links(Arc::new(FixedLinks))
        .tokens(app.clone())
        .analytics(app.clone())
        .webhooks(app.clone())
        .public_runtime(app.clone())
        .visitor(app.clone())
        .platform_admin(app.clone())
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Fixture { base, http: reqwest::Client::new(), keys, app }
}

impl Fixture {
    fn jwt(&self, user: &str) -> String {
        self.keys.issue(user, SystemTime::now(), Duration::from_secs(600))
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// Asserts the body is exactly the error model: code, message, statusCode, and only the
/// declared details.
fn assert_error_model(case: &str, body: &Value, status: u16, code: &str, message: Option<&str>, details: &[&str]) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{case}: {body}");
    assert_eq!(error["statusCode"], status, "{case}: {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: {body}");
    if let Some(message) = message {
        assert_eq!(error["message"], message, "{case}");
    }
    let mut keys: Vec<&str> = error.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    let mut expected = vec!["code", "message", "statusCode"];
    expected.extend(details);
    expected.sort_unstable();
    assert_eq!(keys, expected, "{case}: {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{case}: only `error` at the top: {body}");
}

#[tokio::test]
async fn every_check_fails_in_the_error_model() {
    let f = start().await;
    let (alice, bob, carol, eve) = (f.jwt("alice"), f.jwt("bob"), f.jwt("carol"), f.jwt("eve"));
    let expired = f.keys.issue("alice", SystemTime::now() - Duration::from_secs(7200), Duration::from_secs(60));
    let foreign =
        JwtKeys::hs256(b"another-key-another-key-another-k").issue("alice", SystemTime::now(), Duration::from_secs(60));
    let none_alg =
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMCwiaWF0IjowfQ.".to_owned();
    let bearer = |t: &str| format!("Bearer {t}");
    let link_body = r#"{"destinationUrl":"https://example.com/p"}"#;
    // (case, method, path, auth header, body, status, code, exact message, details)
    type Case<'a> = (
        &'a str,
        &'a str,
        String,
        Option<(&'a str, String)>,
        Option<&'a str>,
        u16,
        &'a str,
        Option<&'a str>,
        &'a [&'a str],
    );
    let cases: Vec<Case> = vec![
        ("no credential", "GET", "/v2/handles/acme/links".into(), None, None, 401, "missing_bearer_token", None, &[]),
        (
            "not a bearer header",
            "GET",
            "/v2/handles/acme/links".into(),
            Some(("authorization", "Basic YTpi".into())),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "garbage token",
            "GET",
            "/v2/handles/acme/links".into(),
            Some(("authorization", bearer("garbage"))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "JWT of another key",
            "GET",
            "/v2/handles/acme/links".into(),
            Some(("authorization", bearer(&foreign))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "alg none JWT",
            "GET",
            "/v2/handles/acme/links".into(),
            Some(("authorization", bearer(&none_alg))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "expired JWT",
            "GET",
            "/v2/handles/acme/links".into(),
            Some(("authorization", bearer(&expired))),
            None,
            401,
            "token_expired",
            None,
            &[],
        ),
        (
            "PAT on a JWT route",
            "GET",
            "/v2/handles/acme/links".into(),
            Some(("authorization", bearer("patv1_writer.s3cret"))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "no credential on a PAT route",
            "GET",
            "/v2/public/handles/acme/links".into(),
            None,
            None,
            401,
            "missing_bearer_token",
            None,
            &[],
        ),
        (
            "JWT on a PAT route",
            "GET",
            "/v2/public/handles/acme/links".into(),
            Some(("authorization", bearer(&alice))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "malformed PAT",
            "GET",
            "/v2/public/handles/acme/links".into(),
            Some(("authorization", bearer("patv1_nodot"))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "unknown PAT",
            "GET",
            "/v2/public/handles/acme/links".into(),
            Some(("authorization", bearer("patv1_nobody.s3cret"))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "wrong PAT secret",
            "GET",
            "/v2/public/handles/acme/links".into(),
            Some(("authorization", bearer("patv1_reader.wrong"))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "revoked PAT",
            "GET",
            "/v2/public/handles/acme/links".into(),
            Some(("authorization", bearer("patv1_gone.s3cret"))),
            None,
            401,
            "invalid_token",
            None,
            &[],
        ),
        (
            "expired PAT",
            "GET",
            "/v2/public/handles/acme/links".into(),
            Some(("authorization", bearer("patv1_old.s3cret"))),
            None,
            401,
            "token_expired",
            None,
            &[],
        ),
        (
            "PAT on another handle",
            "GET",
            "/v2/public/handles/other/links".into(),
            Some(("authorization", bearer("patv1_reader.s3cret"))),
            None,
            403,
            "insufficient_scope",
            Some("Token is bound to handle `acme`, not `other`."),
            &[],
        ),
        (
            "PAT via x-api-key, another handle",
            "GET",
            "/v2/public/handles/other/links".into(),
            Some(("x-api-key", "patv1_reader.s3cret".into())),
            None,
            403,
            "insufficient_scope",
            None,
            &[],
        ),
        (
            "read-only PAT writes",
            "PUT",
            "/v2/public/handles/acme/links/launch".into(),
            Some(("authorization", bearer("patv1_reader.s3cret"))),
            Some(link_body),
            403,
            "insufficient_scope",
            Some("Token does not have the required scope: links.write"),
            &[],
        ),
        (
            "analytics without analytics.*",
            "GET",
            "/v2/public/handles/acme/analytics".into(),
            Some(("authorization", bearer("patv1_reader.s3cret"))),
            None,
            403,
            "insufficient_scope",
            Some("Token does not have the required scope: analytics.*"),
            &[],
        ),
        (
            "CREATOR on an OPERATOR route",
            "POST",
            "/v2/handles/acme/tokens".into(),
            Some(("authorization", bearer(&bob))),
            Some(r#"{"name":"ci","scopes":["links.read"]}"#),
            403,
            "insufficient_role",
            Some("This action needs the OPERATOR role or higher on handle `acme`."),
            &[],
        ),
        (
            "no role on the handle",
            "GET",
            "/v2/handles/acme/links".into(),
            Some(("authorization", bearer(&eve))),
            None,
            403,
            "insufficient_role",
            None,
            &[],
        ),
        (
            "no platform role",
            "GET",
            "/v2/platform-admin/group-buys".into(),
            Some(("authorization", bearer(&alice))),
            None,
            403,
            "insufficient_role",
            Some("This action needs the PLATFORM_ADMIN platform role."),
            &[],
        ),
        (
            "Free plan, growth tools",
            "POST",
            "/v2/handles/free/tokens".into(),
            Some(("authorization", bearer(&carol))),
            Some(r#"{"name":"ci","scopes":["links.read"]}"#),
            403,
            "feature_locked",
            None,
            &["feature", "requiredPlan"],
        ),
        (
            "unknown handle",
            "GET",
            "/v2/handles/nope/links".into(),
            Some(("authorization", bearer(&alice))),
            None,
            404,
            "handle_not_found",
            Some("The handle `nope` does not exist."),
            &[],
        ),
        (
            "malformed JSON",
            "PUT",
            "/v2/handles/acme/links/launch".into(),
            Some(("authorization", bearer(&alice))),
            Some("{"),
            400,
            "invalid_payload",
            None,
            &[],
        ),
        (
            "empty body",
            "PUT",
            "/v2/handles/acme/links/launch".into(),
            Some(("authorization", bearer(&alice))),
            Some(""),
            400,
            "invalid_payload",
            None,
            &[],
        ),
        (
            "missing required field",
            "PUT",
            "/v2/handles/acme/links/launch".into(),
            Some(("authorization", bearer(&alice))),
            Some(r#"{"title":"x"}"#),
            400,
            "invalid_destination_url",
            Some("`body.destinationUrl` is required"),
            &[],
        ),
        (
            "bad destination URL",
            "PUT",
            "/v2/handles/acme/links/launch".into(),
            Some(("authorization", bearer(&alice))),
            Some(r#"{"destinationUrl":"javascript:alert(1)"}"#),
            400,
            "invalid_destination_url",
            Some("`body.destinationUrl` must be an absolute http(s) URL"),
            &[],
        ),
        (
            "wrong-typed field",
            "PUT",
            "/v2/handles/acme/links/launch".into(),
            Some(("authorization", bearer(&alice))),
            Some(r#"{"destinationUrl":"https://e.com","maxClicks":"lots"}"#),
            400,
            "validation_error",
            Some("`body.maxClicks` must be an integer"),
            &[],
        ),
        (
            "slug breaks its pattern",
            "PUT",
            "/v2/handles/acme/links/ab".into(),
            Some(("authorization", bearer(&alice))),
            Some(link_body),
            400,
            "invalid_slug",
            Some("`slug` must match `^[A-Za-z0-9_-]{4,24}$`"),
            &[],
        ),
        (
            "query of the wrong type",
            "GET",
            "/v2/handles/acme/analytics?groupBy=weekly".into(),
            Some(("authorization", bearer(&alice))),
            None,
            400,
            "validation_error",
            None,
            &[],
        ),
        (
            "visitor route without cookie",
            "GET",
            "/v2/visitor/me".into(),
            None,
            None,
            401,
            "visitor_session_required",
            None,
            &[],
        ),
        (
            "unknown visitor cookie",
            "GET",
            "/v2/visitor/me".into(),
            Some(("cookie", "_10x_visitor=forged".into())),
            None,
            401,
            "visitor_session_required",
            None,
            &[],
        ),
        (
            "unknown path",
            "GET",
            "/v2/nowhere".into(),
            None,
            None,
            404,
            "not_found",
            Some("No route GET /v2/nowhere."),
            &[],
        ),
        (
            // The path is the spec's, the method is not: 405 with `Allow: GET`.
            "wrong method",
            "PATCH",
            "/v2/handles/acme/links".into(),
            Some(("authorization", bearer(&alice))),
            None,
            405,
            "method_not_allowed",
            None,
            &[],
        ),
        (
            // In the spec, but not mounted: "not implemented", which a conformance run
            // tells from a route that does not exist.
            "route of an unmounted family",
            "GET",
            "/v2/handles/acme/campaigns".into(),
            Some(("authorization", bearer(&alice))),
            None,
            501,
            "not_implemented",
            None,
            &[],
        ),
        (
            // Its checks run first: no credential is a 401, not a 501.
            "route of an unmounted family, without a credential",
            "GET",
            "/v2/handles/acme/campaigns".into(),
            None,
            None,
            401,
            "missing_bearer_token",
            None,
            &[],
        ),
        (
            // And a handle that does not exist is a 404 of its own.
            "route of an unmounted family, on no handle",
            "GET",
            "/v2/handles/nobody-here/campaigns".into(),
            Some(("authorization", bearer(&alice))),
            None,
            404,
            "handle_not_found",
            None,
            &[],
        ),
        (
            "handler's own not_found",
            "GET",
            "/v2/handles/acme/analytics".into(),
            Some(("authorization", bearer(&alice))),
            None,
            404,
            "not_found",
            Some("analytics does not exist."),
            &[],
        ),
    ];
    assert!(cases.len() >= 25);
    for (case, method, path, auth, body, status, code, message, details) in cases {
        let auth = auth.as_ref().map(|(n, v)| (*n, v.as_str()));
        let (got, headers, json) = f.send(method, &path, auth, body).await;
        assert_eq!(got, status, "{case}: {json}");
        assert!(headers.contains_key("x-request-id"), "{case}: no request id");
        assert_error_model(case, &json, status, code, message, details);
        if code == "method_not_allowed" {
            assert_eq!(headers.get("allow").and_then(|v| v.to_str().ok()), Some("GET"), "{case}");
        }
        if code == "feature_locked" {
            assert_eq!(
                (json["error"]["feature"].as_str(), json["error"]["requiredPlan"].as_str()),
                (Some("growth_tools"), Some("PRO"))
            );
        }
    }
}

#[tokio::test]
async fn the_happy_paths_pass_every_check() {
    let f = start().await;
    let alice = format!("Bearer {}", f.jwt("alice"));
    let (status, _, body) = f
        .send(
            "PUT",
            "/v2/handles/acme/links/launch",
            Some(("authorization", &alice)),
            Some(r#"{"destinationUrl":"https://example.com/p"}"#),
        )
        .await;
    assert_eq!((status, body["slug"].as_str()), (201, Some("launch")));
    let (status, _, _) = f
        .send(
            "PUT",
            "/v2/public/handles/acme/links/launch",
            Some(("authorization", "Bearer patv1_writer.s3cret")),
            Some(r#"{"destinationUrl":"https://example.com/p"}"#),
        )
        .await;
    assert_eq!(status, 200, "PAT upsert answers the outcome's status");
    // `webhooks.*` satisfies the required `webhooks.write`.
    let (status, _, body) = f
        .send(
            "POST",
            "/v2/public/handles/acme/webhooks",
            Some(("authorization", "Bearer patv1_writer.s3cret")),
            Some(r#"{"endpointUrl":"https://hooks.example.com","eventTypes":["*"]}"#),
        )
        .await;
    assert_eq!((status, body["subscriptionId"].as_str()), (200, Some("sub_1")));
    let (status, _, _) =
        f.send("GET", "/v2/public/handles/acme/links", Some(("x-api-key", "patv1_reader.s3cret")), None).await;
    assert_eq!(status, 200, "x-api-key carries a PAT too");
    let (status, _, body) =
        f.send("GET", "/v2/visitor/me", Some(("cookie", "theme=dark; _10x_visitor=v-session")), None).await;
    assert_eq!((status, body["email"].as_str()), (200, Some("buyer@example.com")));
    let dave = format!("Bearer {}", f.jwt("dave"));
    assert_eq!(f.send("GET", "/v2/platform-admin/group-buys", Some(("authorization", &dave)), None).await.0, 200);
}

#[tokio::test]
async fn a_panicking_handler_answers_a_bare_internal_error() {
    let f = start().await;
    let (status, headers, body) = f.send("GET", "/v2/public/sdk/config", None, None).await;
    assert_eq!(status, 500);
    assert_error_model("panic", &body, 500, "internal_error", None, &[]);
    assert!(!body.to_string().contains("hunter2") && !body.to_string().contains("panic"), "{body}");
    assert!(headers.get("x-request-id").is_some_and(|v| !v.is_empty()));
    // A request id the caller sends is kept.
    let (_, headers, _) = f.send("GET", "/v2/nowhere", Some(("x-request-id", "trace-123")), None).await;
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), Some("trace-123"));
}

#[tokio::test]
async fn the_61st_request_of_a_minute_on_free_is_rate_limited_per_handle() {
    let f = start().await;
    let carol = format!("Bearer {}", f.jwt("carol"));
    for n in 1..=60 {
        let (status, _, body) = f.send("GET", "/v2/handles/free/links", Some(("authorization", &carol)), None).await;
        assert_eq!(status, 200, "request {n}: {body}");
    }
    let (status, headers, body) = f.send("GET", "/v2/handles/free/links", Some(("authorization", &carol)), None).await;
    assert_eq!(status, 429, "{body}");
    assert_error_model("rate limit", &body, 429, "rate_limited", None, &[]);
    let wait: u64 = headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let (status, _, _) = f.send("GET", "/v2/handles/free2/links", Some(("authorization", &carol)), None).await;
    assert_eq!(status, 200, "another handle is unaffected");
}

#[tokio::test]
async fn the_daily_write_quota_answers_with_its_details() {
    let f = start().await;
    let carol = format!("Bearer {}", f.jwt("carol"));
    let body = r#"{"destinationUrl":"https://example.com/p"}"#;
    for _ in 0..2 {
        assert_eq!(
            f.send("PUT", "/v2/handles/free/links/launch", Some(("authorization", &carol)), Some(body)).await.0,
            201
        );
    }
    let (status, headers, json) =
        f.send("PUT", "/v2/handles/free/links/launch", Some(("authorization", &carol)), Some(body)).await;
    assert_eq!(status, 429);
    assert_error_model(
        "quota",
        &json,
        429,
        "rate_limited",
        Some("Daily write quota exceeded for FREE."),
        &["plan", "limits", "usage"],
    );
    assert_eq!(json["error"]["limits"]["writesPerDay"], 2);
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn fifty_concurrent_requests_with_one_key_run_the_handler_once() {
    let f = Arc::new(start().await);
    let body = r#"{"ctx":"ctx-1","eventType":"purchase","value":49.99,"idempotencyKey":"order-12345"}"#;
    let calls = (0..50).map(|_| {
        let f = f.clone();
        tokio::spawn(async move { f.send("POST", "/v2/public/conversions", None, Some(body)).await })
    });
    let mut deduped = 0;
    let mut created = 0;
    for call in calls {
        let (status, _, json) = call.await.expect("task");
        assert_eq!(status, 200, "{json}");
        match json["deduped"].as_bool() {
            Some(true) => deduped += 1,
            _ => created += 1,
        }
    }
    assert_eq!((created, deduped), (1, 49));
    assert_eq!(f.app.conversions.load(Ordering::SeqCst), 1, "the handler ran once");

    let other = r#"{"ctx":"ctx-2","idempotencyKey":"order-12345"}"#;
    let (status, _, json) = f.send("POST", "/v2/public/conversions", None, Some(other)).await;
    assert_eq!(status, 409);
    assert_error_model("key reuse", &json, 409, "conflict", None, &[]);
}
