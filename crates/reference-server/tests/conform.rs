//! The conformance harness (`tenx-conform`) against the reference server: every route of
//! the spec (the implemented families' handlers, and the stub's answers for the others),
//! from the spec alone, each answer held to what the route declares. The remaining violations are pinned: a change in them is a change to review.

mod support;

use std::time::{Duration, SystemTime};

use tenx_client::CreateTokenRequest;
use tenx_client_runtime::Clock;
use tenx_conform::{Access, Credentials, Options};
use tenx_reference_server::Repository;
use tenx_server_runtime::JwtKeys;

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_server_conforms_to_the_spec() {
    let server = support::start().await;
    let owner = server.sign_in("owner@demo.10x").await;
    let spec = tenx_spec::load_dir(&workspace().join("api-spec")).expect("the spec loads");
    let scopes: Vec<String> = spec.scopes.iter().map(|s| s.name.clone()).collect();
    let request = CreateTokenRequest { name: "conform".into(), scopes, expires_in_days: Some(30) };
    let pat = owner.create_token("demo-pro", &request).await.expect("a PAT with every scope").body.token;
    // The accounts each access rule is broken with.
    let reader =
        CreateTokenRequest { name: "reader".into(), scopes: vec!["links.read".into()], expires_in_days: Some(30) };
    let reader = owner.create_token("demo-pro", &reader).await.expect("a reader PAT").body.token;
    let creator = server.sign_in("creator@demo.10x").await;
    let expired = JwtKeys::hs256(support::KEY.as_bytes()).issue(
        "user_owner",
        SystemTime::now() - Duration::from_secs(2 * 86_400),
        Duration::from_secs(3600),
    );
    let access = Access {
        pat_limited: Some((reader, vec!["links.read".to_owned()])),
        other_subject: Some("demo-free".to_owned()),
        jwt_low_role: Some((creator.session().access_token().expose().to_owned(), "CREATOR".to_owned())),
        low_plan_subject: Some(("demo-free".to_owned(), "FREE".to_owned())),
        jwt_expired: Some(expired),
    };
    // A visitor session, as a verified magic link leaves one.
    server
        .db
        .add_visitor("conform-visitor-session", "buyer@example.com", SystemTime::now() + Duration::from_secs(86_400))
        .expect("a visitor session");
    let credentials = Credentials {
        jwt: Some(owner.session().access_token().expose().to_owned()),
        pat: Some(pat),
        visitor: Some("conform-visitor-session".to_owned()),
        subject: Some("demo-pro".to_owned()),
        access,
    };
    let clock = server.clock.clone();
    let options = Options {
        // Every route: the real families' handlers and the stub's answers alike.
        routes: Vec::new(),
        seed: 7,
        // Each route in a minute of its own: the plan's per-minute limit stays unspent.
        before_route: Some(Box::new(move || {
            drop(clock.sleep(Duration::from_secs(61)));
        })),
    };
    let report = tenx_conform::run(&spec, &server.base, &credentials, &options).await.expect("the harness runs");
    let rendered = report.render();
    println!("{rendered}");
    insta::assert_snapshot!(rendered);
}

fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
