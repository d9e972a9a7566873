//! The Parcels API's stub (`tenx-stub-runtime`'s kit, from the spec alone): the
//! conformance harness holds every route of it to the spec, and its generated client
//! reads the outcomes a test asks for.

use parcels_client::{CallOptions, Client, CreateParcel, ErrorCode, ErrorExt, RetryPolicy};
use tenx_conform::{Access, Credentials, Options};
use tenx_stub_runtime::Outcome;
use tenx_stub_runtime::kit::StubServer;

fn spec() -> tenx_spec::Spec {
    tenx_spec::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-spec")).expect("the spec loads")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_of_the_stub_conforms_to_the_spec() {
    let server = StubServer::start(&parcels_server::spec::SERVER_SPEC, 3).await.expect("the stub starts");
    let demo = server.demo();
    let expose = |s: &Option<tenx_server_runtime::tenx_auth::Secret>| s.as_ref().map(|s| s.expose().to_owned());
    let credentials = Credentials {
        jwt: expose(&demo.jwt),
        pat: expose(&demo.pat),
        visitor: expose(&demo.visitor),
        subject: demo.subject.clone(),
        access: Access {
            pat_limited: expose(&demo.pat_no_scopes).map(|p| (p, Vec::new())),
            other_subject: demo.low_plan_subject.as_ref().map(|(s, _)| s.clone()),
            jwt_low_role: demo.jwt_low_role.as_ref().map(|(j, r)| (j.expose().to_owned(), r.clone())),
            low_plan_subject: demo.low_plan_subject.clone(),
            jwt_expired: expose(&demo.jwt_expired),
        },
    };
    let report =
        tenx_conform::run(&spec(), server.base_url(), &credentials, &Options { seed: 3, ..Options::default() })
            .await
            .expect("the harness runs");
    let rendered = report.render();
    println!("{rendered}");
    let routes = spec().routes().count();
    assert!(rendered.contains(&format!("{routes} routes exercised (0 not)")), "{rendered}");
    assert_eq!(report.violations().count(), 0, "{rendered}");
    server.stop().await;
}

#[tokio::test]
async fn the_client_reads_a_forced_outcome_and_the_checks_still_come_first() {
    let server = StubServer::start(&parcels_server::spec::SERVER_SPEC, 1).await.expect("the stub starts");
    let demo = server.demo();
    let jwt = demo.jwt.clone().expect("a JWT");
    let client = Client::new(server.base_url())
        .expect("client")
        .with_options(CallOptions::new().retry(RetryPolicy::never()))
        .with_jwt(jwt.expose());

    // The usual answer: the first declared success, of the declared type.
    let listed = client.list_depots().await.expect("the stub's answer");
    assert_eq!(listed.status, 200);

    // Forced: the route's own error, decoded by the client as the API's code.
    server.stub().force("list_depots", Outcome::Error("forbidden".into())).expect("a declared outcome");
    let error = client.list_depots().await.expect_err("forced");
    assert_eq!((error.status(), error.error_code()), (Some(403), Some(ErrorCode::Forbidden)));
    // A status picks the route's error of that status.
    server.stub().force("list_depots", Outcome::Status(429)).expect("a declared outcome");
    let error = client.list_depots().await.expect_err("forced");
    assert_eq!((error.status(), error.error_code()), (Some(429), Some(ErrorCode::TooManyRequests)));
    // An outcome the route does not declare cannot be forced.
    let refused = server.stub().force("list_depots", Outcome::Status(418)).expect_err("undeclared");
    assert!(refused.to_string().contains("does not declare the outcome `418`"), "{refused}");
    server.stub().unforce("list_depots");
    assert_eq!(client.list_depots().await.expect("usual again").status, 200);

    // Without a credential the router answers before the stub.
    server.stub().force("list_depots", Outcome::Status(200)).expect("a declared outcome");
    let anonymous = Client::new(server.base_url()).expect("client").with_jwt("not-a-jwt");
    let error = anonymous.list_depots().await.expect_err("bad token");
    assert_eq!((error.status(), error.error_code()), (Some(401), Some(ErrorCode::BadCredentials)));
    server.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_is_held_by_the_router_in_front_of_the_stub() {
    let server = StubServer::start(&parcels_server::spec::SERVER_SPEC, 2).await.expect("the stub starts");
    let demo = server.demo();
    let account = demo.subject.clone().expect("an account");
    let keyed = |key: &str| {
        Client::new(server.base_url())
            .expect("client")
            .with_options(CallOptions::new().retry(RetryPolicy::never()).idempotency_key(key))
            .with_jwt(demo.jwt.clone().expect("a JWT").expose())
    };
    let parcel = |grams: i64| CreateParcel { weight_grams: grams, depot: "north".into(), recipient: None, tags: None };
    let first = keyed("order-7").create_parcel(&account, &parcel(900)).await.expect("created");
    assert_eq!(first.status, 201);
    // The same key and body: the stored answer, replayed.
    let again = keyed("order-7").create_parcel(&account, &parcel(900)).await.expect("replayed");
    assert_eq!((again.status, again.body), (201, first.body));
    // The same key with another body: refused before the stub answers.
    let error = keyed("order-7").create_parcel(&account, &parcel(901)).await.expect_err("key reused");
    assert_eq!((error.status(), error.error_code()), (Some(409), Some(ErrorCode::ParcelStateConflict)));
    server.stop().await;
}
