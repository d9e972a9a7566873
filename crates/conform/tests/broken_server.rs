//! The harness pointed at a server that is wrong on purpose: a wrong status, a missing
//! field, a code outside the catalogue, a 429 without `Retry-After`. Each is reported.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use tenx_conform::{Access, Credentials, Options};

const SPEC: &str = include_str!("../../spec/tests/fixtures/minimal.yaml");

fn envelope(code: &str, status: u16) -> String {
    format!(r#"{{"error":{{"code":"{code}","message":"m","statusCode":{status}}}}}"#)
}

async fn serve(app: Router) -> String {
    let app = app.layer(axum::middleware::map_response(|mut r: axum::response::Response| async move {
        r.headers_mut().insert("x-request-id", axum::http::HeaderValue::from_static("req-1"));
        r
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

#[tokio::test]
async fn each_planted_defect_is_reported() {
    let spec = tenx_spec::load_str("minimal.yaml", SPEC).expect("the fixture loads");
    let json = [("content-type", "application/json")];
    let app = Router::new()
        // Upserting answers 202, which the route does not declare.
        .route("/v2/handles/{handle}/links/{slug}", put(move || async move { (StatusCode::ACCEPTED, json, "{}") }))
        .route(
            "/v2/public/handles/{handle}/links/{slug}",
            get(move |headers: HeaderMap| async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                match auth.as_str() {
                    // A code the catalogue does not have.
                    "" => (StatusCode::UNAUTHORIZED, json, envelope("who_are_you", 401)),
                    // A rate limit without `Retry-After`.
                    a if a.contains("malformed") => {
                        (StatusCode::TOO_MANY_REQUESTS, json, envelope("rate_limited", 429))
                    }
                    // A `Link` without its required `destinationUrl`.
                    _ => (StatusCode::OK, json, r#"{"slug":"abcd"}"#.to_owned()),
                }
            }),
        );
    let base = serve(app).await;
    let credentials = Credentials {
        jwt: Some("any.jwt.token".into()),
        pat: Some("patv1_tok.secret".into()),
        visitor: None,
        subject: Some("acme".into()),
        // The server lets a PAT without `links.read` read a link.
        access: Access {
            pat_limited: Some(("patv1_writer.secret".into(), vec!["links.write".into()])),
            ..Access::default()
        },
    };
    let report = tenx_conform::run(&spec, &base, &credentials, &Options::default()).await.expect("the harness runs");
    let text = report.render();
    for planted in [
        "upsert_link: PUT /v2/handles/acme/links/",
        "status 202 is not declared (declared: [200, 201, 400, 401, 403, 404, 429, 500])",
        "`body.destinationUrl` is missing",
        "`who_are_you` is not a code of the catalogue",
        "a 429 without `Retry-After`",
        "[a PAT short of a scope]: expected 403 insufficient_scope, got 200",
    ] {
        assert!(text.contains(planted), "`{planted}` is not reported in:\n{text}");
    }
    let (_, failed) = report.counts();
    assert!(failed >= 4, "{text}");
}

#[tokio::test]
async fn a_conforming_answer_is_not_reported() {
    let spec = tenx_spec::load_str("minimal.yaml", SPEC).expect("the fixture loads");
    let link = r#"{"slug":"abcd","destinationUrl":"https://example.com/x"}"#;
    let json = [("content-type", "application/json")];
    let app = Router::new().route(
        "/v2/public/handles/{handle}/links/{slug}",
        get(move |Path((_, slug)): Path<(String, String)>, headers: HeaderMap| async move {
            let slug_ok = (4..=24).contains(&slug.len()) && slug.chars().all(|c| c.is_ascii_lowercase());
            match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                None => (StatusCode::UNAUTHORIZED, json, envelope("missing_bearer_token", 401)),
                Some(a) if a != "Bearer patv1_tok.secret" => {
                    (StatusCode::UNAUTHORIZED, json, envelope("invalid_token", 401))
                }
                Some(_) if !slug_ok => (StatusCode::BAD_REQUEST, json, envelope("invalid_slug", 400)),
                Some(_) => (StatusCode::OK, json, link.to_owned()),
            }
        }),
    );
    let base = serve(app).await;
    let credentials =
        Credentials { pat: Some("patv1_tok.secret".into()), subject: Some("acme".into()), ..Default::default() };
    let options = Options { routes: vec!["pat_get_link".into()], ..Options::default() };
    let report = tenx_conform::run(&spec, &base, &credentials, &options).await.expect("the harness runs");
    assert_eq!(report.counts().1, 0, "{}", report.render());
    assert!(report.routes[0].requests >= 4, "{}", report.render());
}
