//! The families the reference server does not implement, through the generated client:
//! the stub answers them once the router's checks pass, so every family is called, each
//! gate refuses as the spec says, and any declared outcome can be asked for.

use std::sync::Arc;
use std::time::Duration;

use tenx_client::{CallOptions, CreateTokenRequest, ErrorCode, ErrorDetails, ErrorExt, RetryPolicy};
use tenx_client_runtime::{AttemptInfo, Hook};

mod support;
use support::{Server, start};

/// Sends `Prefer: code=<outcome>` with every request: how a client's error path is
/// tested against the stub.
struct Prefer(&'static str);

impl Hook for Prefer {
    fn before_attempt(&self, request: &mut reqwest::Request, _: &AttemptInfo) {
        request.headers_mut().insert("prefer", format!("code={}", self.0).parse().expect("a header value"));
    }
}

fn no_retry() -> CallOptions {
    CallOptions::new().retry(RetryPolicy::never())
}

async fn pat(server: &Server, scopes: &[&str]) -> tenx_client::PatClient {
    let owner = server.sign_in("owner@demo.10x").await;
    let request = CreateTokenRequest {
        name: "stubbed".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        expires_in_days: Some(30),
    };
    let token = owner.create_token("demo-pro", &request).await.expect("a PAT").body.token;
    server.client().with_pat(&token, "demo-pro").expect("a valid PAT").with_options(no_retry())
}

#[tokio::test]
async fn every_stubbed_family_answers_a_call_of_the_generated_client() {
    let server = start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    let anyone = server.client();
    let visitor = anyone.with_visitor_cookie("none");
    let h = "demo-pro";
    // One call per family the server does not implement; each is the stub's answer,
    // decoded by the generated client (the router held it to its type first).
    let statuses = [
        ("oauth", anyone.get_oauth_server_metadata().await.map(|r| r.status)),
        ("account", owner.get_openanalyst_account().await.map(|r| r.status)),
        ("personalization", owner.list_personalization_rules(h).await.map(|r| r.status)),
        ("tracking_templates", owner.list_tracking_templates(h).await.map(|r| r.status)),
        ("destination_domains", owner.list_destination_domains(h).await.map(|r| r.status)),
        ("campaigns", owner.list_campaigns(h).await.map(|r| r.status)),
        ("site_structure", owner.get_campaign_site_structure(h, "spring").await.map(|r| r.status)),
        ("chain", owner.get_chain_session(h, "s1").await.map(|r| r.status)),
        ("notifications", owner.get_notifications(h).await.map(|r| r.status)),
        ("mobile", owner.get_mobile_inbox(h).await.map(|r| r.status)),
        ("site", owner.list_site_deployments(h).await.map(|r| r.status)),
        ("files", owner.list_files(h).await.map(|r| r.status)),
        ("public_files", anyone.download_public_file("f1").await.map(|r| r.status)),
        ("internal_docs", owner.get_internal_docs_access(h).await.map(|r| r.status)),
        ("creator_pages", owner.list_pages(h).await.map(|r| r.status)),
        ("group_buys", owner.list_group_buys(h).await.map(|r| r.status)),
        ("public_group_buys", anyone.list_public_group_buys(h).await.map(|r| r.status)),
        ("billing", owner.get_billing_summary().await.map(|r| r.status)),
        ("connect", owner.get_connect_status(h).await.map(|r| r.status)),
        ("stripe", anyone.receive_stripe_webhook(&serde_json::json!({"type": "ping"})).await.map(|r| r.status)),
        ("domains", owner.get_domain("shop.example.com").await.map(|r| r.status)),
        ("agent", owner.list_agent_proposals(h).await.map(|r| r.status)),
        ("knowledge", owner.list_knowledge_documents(h).await.map(|r| r.status)),
        ("qa", owner.list_qa_environments(h).await.map(|r| r.status)),
        ("skills", owner.list_skills(h).await.map(|r| r.status)),
        ("email", owner.list_email_senders(h).await.map(|r| r.status)),
        ("leads", owner.list_leads(h).await.map(|r| r.status)),
    ];
    for (family, status) in statuses {
        let status = status.unwrap_or_else(|e| panic!("{family}: {e}"));
        // A declared success: 2xx, or the 302 of a download.
        assert!((200..400).contains(&status), "{family}: {status}");
    }
    // Visitor-cookie families: the cookie is checked first (no such session: 401).
    let error = visitor.start_page_checkout(h, "guide").await.expect_err("no session");
    assert_eq!(error.error_code(), Some(ErrorCode::VisitorSessionRequired));
    // A platform-role family: the owner holds no platform role.
    let error = owner.list_all_group_buys().await.expect_err("no platform role");
    assert_eq!((error.status(), error.error_code()), (Some(403), Some(ErrorCode::InsufficientRole)));
}

#[tokio::test]
async fn each_gate_refuses_a_stubbed_route_before_the_stub_answers() {
    let server = start().await;
    let client = server.client().with_options(no_retry());

    // Credentials: an unknown token.
    let error = client.with_jwt("not-a-jwt").list_campaigns("demo-pro").await.expect_err("bad token");
    assert_eq!((error.status(), error.error_code()), (Some(401), Some(ErrorCode::InvalidToken)));

    // Scopes: a PAT without `pages.read`.
    let reader = pat(&server, &["links.read"]).await;
    let error = reader.pat_list_pages().await.expect_err("no pages.read");
    let failure = error.api().expect("an API error");
    assert_eq!((failure.status, failure.error_code()), (403, Some(ErrorCode::InsufficientScope)));
    assert!(failure.message.contains("pages.read"), "{}", failure.message);
    let pages = pat(&server, &["pages.read"]).await;
    assert_eq!(pages.pat_list_pages().await.expect("with the scope").status, 200);

    // Role: a CREATOR on an OWNER route.
    let creator = server.sign_in("creator@demo.10x").await.with_options(no_retry());
    let error = creator.update_notification_settings("demo-pro", &serde_json::json!({})).await.expect_err("creator");
    assert_eq!((error.status(), error.error_code()), (Some(403), Some(ErrorCode::InsufficientRole)));

    // Plan: creator pages need PRO; `demo-free` is on FREE.
    let owner = server.sign_in("owner@demo.10x").await.with_options(no_retry());
    let error = owner.list_pages("demo-free").await.expect_err("FREE");
    let failure = error.api().expect("an API error");
    assert_eq!((failure.status, failure.error_code()), (403, Some(ErrorCode::FeatureLocked)));
    match failure.error_details().expect("an API failure") {
        Ok(ErrorDetails::FeatureLocked(d)) => {
            assert_eq!((d.feature.as_str(), d.required_plan.as_str()), ("creator_pages", "PRO"))
        }
        other => panic!("feature_locked details: {other:?}"),
    }

    // The handle: one that does not exist.
    let error = owner.list_campaigns("no-such-handle").await.expect_err("no handle");
    assert_eq!((error.status(), error.error_code()), (Some(404), Some(ErrorCode::HandleNotFound)));

    // Rate limit: FREE allows 60 requests a minute per handle; the 61st is refused,
    // with `Retry-After`, whichever family the route is in.
    for n in 1..=60 {
        owner.list_campaigns("demo-free").await.unwrap_or_else(|e| panic!("request {n}: {e}"));
    }
    let error = owner.list_campaigns("demo-free").await.expect_err("the 61st");
    let failure = error.api().expect("an API error");
    assert_eq!((failure.status, failure.error_code()), (429, Some(ErrorCode::RateLimited)));
    assert!(failure.retry_after.is_some_and(|d| d > Duration::ZERO && d <= Duration::from_secs(60)), "{failure:?}");
}

#[tokio::test]
async fn a_declared_outcome_is_answered_when_asked_for_and_an_undeclared_one_is_a_400() {
    let server = start().await;
    let asking = |outcome: &'static str| {
        let config = tenx_client::config(&server.base).hook(Arc::new(Prefer(outcome))).retry(RetryPolicy::never());
        tenx_client::Client::with_config(config).expect("client")
    };
    let jwt = server.sign_in("owner@demo.10x").await.session().access_token().expose().to_owned();

    // An error the route declares: its status, its code, typed details.
    let error = asking("not_found").with_jwt(jwt.as_str()).list_campaigns("demo-pro").await.expect_err("asked");
    assert_eq!((error.status(), error.error_code()), (Some(404), Some(ErrorCode::NotFound)));
    let error = asking("429").with_jwt(jwt.as_str()).list_campaigns("demo-pro").await.expect_err("asked");
    let failure = error.api().expect("an API error");
    assert_eq!((failure.status, failure.error_code()), (429, Some(ErrorCode::RateLimited)));
    assert_eq!(failure.retry_after, Some(Duration::from_secs(1)));
    assert!(matches!(failure.error_details(), Some(Ok(ErrorDetails::RateLimited(_)))), "{failure:?}");

    // One the route does not declare: a 400 that says what it does declare.
    let error =
        asking("feature_locked").with_jwt(jwt.as_str()).list_campaigns("demo-pro").await.expect_err("undeclared");
    let failure = error.api().expect("an API error");
    assert_eq!((failure.status, failure.error_code()), (400, Some(ErrorCode::ValidationError)));
    assert!(failure.message.contains("does not declare the outcome `feature_locked`"), "{}", failure.message);

    // The checks still come first: without a credential, asking changes nothing.
    let error = asking("200").with_jwt("not-a-jwt").list_campaigns("demo-pro").await.expect_err("bad token");
    assert_eq!(error.error_code(), Some(ErrorCode::InvalidToken));

    // A real handler never reads `Prefer`: an implemented route answers as it does.
    let links = asking("not_found").with_jwt(jwt.as_str()).list_links("demo-pro").await.expect("a real route");
    assert_eq!(links.status, 200);
}
