//! The router fails closed: for arbitrary requests to every route of a mounted family
//! (path bytes percent-encoded or raw, credentials good and bad, any content type and
//! body), a handler runs only when every check of its route passed, and every other
//! answer is the error envelope with a code the spec says the route may return.
//!
//! The oracle is the spec itself (patterns, scopes, roles, plan features) and the
//! fixture's accounts, not the router's code.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::Request;
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use serde_json::{Value, json};
use tenx_server::*;
use tenx_server_runtime::{Hit, JwtKeys, MemoryAuthData, PatRecord, RateLimiter, ServerState, StoreFuture};
use tenx_spec::{AuthKind, Route, Spec, TypeRef};
use tower::ServiceExt;

const KEY: &[u8] = b"router-property-key-router-property";

/// `(user, handle, role)`.
const ROLES: &[(&str, &str, &str)] =
    &[("alice", "acme", "OWNER"), ("bob", "acme", "CREATOR"), ("carol", "free", "OWNER")];
/// `(handle, plan)`.
const HANDLES: &[(&str, &str)] = &[("acme", "PRO"), ("free", "FREE"), ("other", "PRO")];
/// `(token id, bound handle, scopes)`; every secret is `s3cret`.
const PATS: &[(&str, &str, &[&str])] = &[
    ("reader", "acme", &["links.read"]),
    ("writer", "acme", &["links.read", "links.write"]),
    ("freebie", "free", &["links.read", "links.write"]),
    ("elsewhere", "other", &["links.read"]),
];

/// What a handler saw.
#[derive(Debug, Clone)]
struct Ran {
    route: &'static str,
    user: Option<String>,
    pat: Option<PatContext>,
    handle: Option<String>,
    slug: Option<String>,
}

#[derive(Default)]
struct Recorder {
    runs: Mutex<Vec<Ran>>,
}

impl Recorder {
    fn ran(
        &self,
        route: &'static str,
        jwt: Option<&JwtContext>,
        pat: Option<&PatContext>,
        handle: Option<&str>,
        slug: Option<&str>,
    ) {
        let run = Ran {
            route,
            user: jwt.map(|j| j.user_id.clone()),
            pat: pat.cloned(),
            handle: handle.map(str::to_owned).or_else(|| pat.map(|p| p.handle.clone())),
            slug: slug.map(str::to_owned),
        };
        self.runs.lock().expect("runs").push(run);
    }

    fn take(&self) -> Vec<Ran> {
        std::mem::take(&mut *self.runs.lock().expect("runs"))
    }
}

fn link(slug: &str) -> Link {
    Link {
        slug: slug.to_owned(),
        destination_url: "https://example.com/".into(),
        title: None,
        tags: None,
        categories: None,
        enabled: None,
        description: None,
    }
}

impl LinksApi for Recorder {
    async fn upsert_link(
        &self,
        _cx: &RequestContext,
        a: JwtContext,
        h: String,
        s: String,
        _: UpsertLinkRequest,
    ) -> Result<UpsertLinkOutcome, Failure> {
        self.ran("upsert_link", Some(&a), None, Some(&h), Some(&s));
        Ok(UpsertLinkOutcome::Created(link(&s)))
    }
    async fn list_links(&self, _cx: &RequestContext, a: JwtContext, h: String) -> Result<LinkList, Failure> {
        self.ran("list_links", Some(&a), None, Some(&h), None);
        Ok(LinkList { links: vec![] })
    }
    async fn get_link(&self, _cx: &RequestContext, a: JwtContext, h: String, s: String) -> Result<Link, Failure> {
        self.ran("get_link", Some(&a), None, Some(&h), Some(&s));
        Ok(link(&s))
    }
    async fn delete_link(&self, _cx: &RequestContext, a: JwtContext, h: String, s: String) -> Result<(), Failure> {
        self.ran("delete_link", Some(&a), None, Some(&h), Some(&s));
        Ok(())
    }
    async fn get_link_history(
        &self,
        _cx: &RequestContext,
        a: JwtContext,
        h: String,
        s: String,
    ) -> Result<Value, Failure> {
        self.ran("get_link_history", Some(&a), None, Some(&h), Some(&s));
        Ok(json!({}))
    }
    async fn rollback_link(
        &self,
        _cx: &RequestContext,
        a: JwtContext,
        h: String,
        s: String,
        _: Value,
    ) -> Result<Value, Failure> {
        self.ran("rollback_link", Some(&a), None, Some(&h), Some(&s));
        Ok(json!({}))
    }
    async fn preview_link_route(
        &self,
        _cx: &RequestContext,
        a: JwtContext,
        h: String,
        s: String,
        _: RoutePreviewRequest,
    ) -> Result<Value, Failure> {
        self.ran("preview_link_route", Some(&a), None, Some(&h), Some(&s));
        Ok(json!({}))
    }
    async fn export_links(&self, _cx: &RequestContext, a: JwtContext, h: String) -> Result<Value, Failure> {
        self.ran("export_links", Some(&a), None, Some(&h), None);
        Ok(json!({}))
    }
    async fn check_links_health(&self, _cx: &RequestContext, a: JwtContext, h: String) -> Result<Value, Failure> {
        self.ran("check_links_health", Some(&a), None, Some(&h), None);
        Ok(json!({}))
    }
    async fn pat_list_links(&self, _cx: &RequestContext, a: PatContext) -> Result<LinkList, Failure> {
        self.ran("pat_list_links", None, Some(&a), None, None);
        Ok(LinkList { links: vec![] })
    }
    async fn pat_get_link(&self, _cx: &RequestContext, a: PatContext, s: String) -> Result<Link, Failure> {
        self.ran("pat_get_link", None, Some(&a), None, Some(&s));
        Ok(link(&s))
    }
    async fn pat_upsert_link(
        &self,
        _cx: &RequestContext,
        a: PatContext,
        s: String,
        _: UpsertLinkRequest,
    ) -> Result<PatUpsertLinkOutcome, Failure> {
        self.ran("pat_upsert_link", None, Some(&a), None, Some(&s));
        Ok(PatUpsertLinkOutcome::Updated(link(&s)))
    }
    async fn pat_delete_link(&self, _cx: &RequestContext, a: PatContext, s: String) -> Result<(), Failure> {
        self.ran("pat_delete_link", None, Some(&a), None, Some(&s));
        Ok(())
    }
}

/// Counts nothing: the limits have tests of their own, and here every request must
/// reach the checks under test.
struct Unlimited;

impl RateLimiter for Unlimited {
    fn hit<'a>(&'a self, _: &'a str, _: u32, _: Duration, _: SystemTime) -> StoreFuture<'a, Hit> {
        Box::pin(std::future::ready(Ok(Ok(1))))
    }
}

fn spec() -> Spec {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec");
    tenx_spec::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
}

struct World {
    spec: Spec,
    router: axum::Router,
    recorder: Arc<Recorder>,
    credentials: Vec<Option<(&'static str, String)>>,
}

fn world() -> World {
    let data = Arc::new(MemoryAuthData::new());
    for (handle, plan) in HANDLES {
        data.add_handle(handle, plan);
    }
    for (user, handle, role) in ROLES {
        data.set_role(user, handle, role);
    }
    for (id, handle, scopes) in PATS {
        data.add_pat(PatRecord {
            token_id: (*id).into(),
            handle: (*handle).into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            secret_sha256: PatRecord::hash_secret("s3cret"),
            expires_at: None,
            revoked: false,
        });
    }
    let keys = JwtKeys::hs256(KEY);
    let jwt = |user: &str| {
        Some(("authorization", format!("Bearer {}", keys.issue(user, SystemTime::now(), Duration::from_secs(3600)))))
    };
    let pat = |id: &str| Some(("authorization", format!("Bearer patv1_{id}.s3cret")));
    let credentials = vec![
        None,
        jwt("alice"),
        jwt("bob"),
        jwt("carol"),
        jwt("mallory"), // signed, but no such user
        pat("reader"),
        pat("writer"),
        pat("freebie"),
        pat("elsewhere"),
        Some(("x-api-key", "patv1_writer.s3cret".to_owned())),
        Some(("authorization", "Bearer patv1_writer.wrong".to_owned())),
        Some(("authorization", "Bearer not-a-token".to_owned())),
        Some(("authorization", "Basic YWxpY2U6cHc=".to_owned())),
    ];
    let mut state = ServerState::in_memory(&spec::SERVER_SPEC, data, keys.clone());
    state.limiter = Arc::new(Unlimited);
    let recorder = Arc::new(Recorder::default());
    let router = RouterBuilder::new(state).links(recorder.clone()).build();
    World { spec: spec(), router, recorder, credentials }
}

/// The pattern a path parameter must match: its own, else its scalar type's.
fn pattern(spec: &Spec, route: &Route, name: &str) -> Option<regex::Regex> {
    let field = route.path_params.iter().find(|p| p.name == name)?;
    let own = field.constraints.pattern.as_ref().map(|p| p.value.clone());
    let scalar = spec.field_scalar(field).and_then(|s| s.constraints.pattern.as_ref()).map(|p| p.value.clone());
    own.or(scalar).map(|p| regex::Regex::new(&p).expect("the spec's patterns compile"))
}

/// Everything the spec requires of a run of `route` on the decoded path `values`.
fn check_run(spec: &Spec, route: &Route, values: &[(String, String)], run: &Ran) -> Result<(), String> {
    let value = |name: &str| values.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    if run.route != route.id.value {
        return Err(format!("`{}` ran for a request to `{}`", run.route, route.id.value));
    }
    for (name, v) in values {
        if let Some(p) = pattern(spec, route, name) {
            if !p.is_match(v) {
                return Err(format!("ran with `{name}` = {v:?}, which does not match `{p}`"));
            }
        }
    }
    let handle = value("handle").ok_or("every links route has a handle")?;
    if run.handle.as_deref() != Some(handle) || run.slug.as_deref() != value("slug") {
        return Err(format!(
            "ran with handle {:?} and slug {:?} for the path's {handle:?}, {:?}",
            run.handle,
            run.slug,
            value("slug")
        ));
    }
    let plan = HANDLES
        .iter()
        .find(|(h, _)| *h == handle)
        .map(|(_, p)| *p)
        .ok_or(format!("ran for unknown handle {handle:?}"))?;
    if let Some(feature) = &route.feature {
        let has = spec
            .plans
            .iter()
            .find(|p| p.name == plan)
            .is_some_and(|p| p.features.iter().any(|f| f.value == feature.value));
        if !has {
            return Err(format!("ran on a {plan} handle without `{}`", feature.value));
        }
    }
    match (&run.user, &run.pat) {
        (Some(user), None) => {
            if !route.accepts(AuthKind::Jwt) {
                return Err("a JWT reached a route that takes none".into());
            }
            let role = ROLES.iter().find(|(u, h, _)| u == user && *h == handle).map(|(_, _, r)| *r);
            let rank = |r: &str| spec.roles.iter().position(|x| x.name == r);
            let needed = route.min_role.as_ref().map(|r| r.value.as_str());
            if needed.is_some_and(|n| role.and_then(rank) < rank(n) || role.is_none()) {
                return Err(format!("`{user}` ({role:?}) ran a route that needs {needed:?}"));
            }
        }
        (None, Some(pat)) => {
            if !route.accepts(AuthKind::Pat) {
                return Err("a PAT reached a route that takes none".into());
            }
            let scopes: Vec<&str> = route.scopes.iter().map(|s| s.value.as_str()).collect();
            if let Some(missing) = spec::SERVER_SPEC.scope_rule.missing(&pat.scopes, &scopes) {
                return Err(format!("PAT `{}` ran without `{missing}`", pat.token_id));
            }
        }
        other => return Err(format!("ran with neither or both credentials: {other:?}")),
    }
    Ok(())
}

/// A path parameter as a client might send it: a good value, a tricky literal, or any
/// bytes percent-encoded.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["acme", "free", "other", "nope", "launch1", "ACME", "ab", "a-b_c"]).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["%25", "%FF", "%C0%AF", "..", "%2e%2e", "%2F", "%00", "a%20b", "%E2%80%8B", "acme%0A", "d%D0%B5mo"]).prop_map(str::to_owned),
        2 => prop::collection::vec(any::<u8>(), 0..12).prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect()),
        1 => "[a-zA-Z0-9._~-]{0,30}",
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => Just(br#"{"destinationUrl":"https://example.com/p"}"#.to_vec()),
        1 => Just(b"null".to_vec()),
        1 => Just(br#"{"destinationUrl":"javascript:alert(1)"}"#.to_vec()),
        1 => Just(br#"{"destinationUrl":"https://e.com","maxClicks":1e400}"#.to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_handler_runs_only_when_every_check_passed(
        route_index in 0usize..13,
        handle in segment(),
        slug in segment(),
        credential in 0usize..13,
        content_type in content_type(),
        body in body(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let world = WORLD.get_or_init(world);
        let routes: Vec<&Route> = world.spec.routes().filter(|r| r.family == "links").collect();
        let route = routes[route_index % routes.len()];
        let mut path = route.path.value.clone();
        let mut values = Vec::new();
        for (name, raw) in [("handle", &handle), ("slug", &slug)] {
            if path.contains(&format!("{{{name}}}")) {
                path = path.replace(&format!("{{{name}}}"), raw);
                values.push((name.to_owned(), percent_decode_str(raw).decode_utf8().map(|s| s.into_owned())));
            }
        }
        let mut request = Request::builder().method(route.method.as_str()).uri(&path);
        if let Some((name, value)) = &world.credentials[credential % world.credentials.len()] {
            request = request.header(*name, value);
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let request = request.body(Body::from(body)).expect("a request");
        let response = runtime.block_on(world.router.clone().oneshot(request)).expect("infallible");
        let status = response.status().as_u16();
        let bytes = runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).expect("body");
        let runs = world.recorder.take();

        if (200..300).contains(&status) {
            prop_assert_eq!(runs.len(), 1, "a success answer without exactly one handler run: {}", path);
            // A path that did not decode must never have reached a handler.
            let decoded: Result<Vec<(String, String)>, String> =
                values.iter().map(|(n, v)| v.clone().map(|v| (n.clone(), v)).map_err(|e| format!("{n}: {e}"))).collect();
            let decoded = decoded.map_err(|e| TestCaseError::fail(format!("{path} ran although {e}")))?;
            check_run(&world.spec, route, &decoded, &runs[0]).map_err(|e| TestCaseError::fail(format!("{path}: {e}")))?;
        } else {
            prop_assert!(runs.is_empty(), "a handler ran but the answer is {}: {:?}", status, runs);
            let body: Value = serde_json::from_slice(&bytes)
                .map_err(|_| TestCaseError::fail(format!("{path}: a {status} that is not JSON: {}", String::from_utf8_lossy(&bytes))))?;
            let code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
            prop_assert_eq!(body["error"]["statusCode"].as_u64(), Some(u64::from(status)), "{}: {}", path, body);
            prop_assert_ne!(code.as_str(), "internal_error", "{}: no input may cause a 500: {}", path, body);
            let allowed: Vec<&str> = world.spec.route_errors(route).iter().map(|e| e.code.as_str()).collect();
            // A path that no longer matches the route's shape is the router's `not_found`.
            prop_assert!(allowed.contains(&code.as_str()) || code == "not_found", "{}: `{}` is not among {:?}", path, code, allowed);
            let declared = world.spec.error(&code).map(|e| e.status.value);
            prop_assert_eq!(declared, Some(status), "{}: the catalogue's status for `{}`", path, code);
        }
    }
}

static WORLD: std::sync::OnceLock<World> = std::sync::OnceLock::new();

#[test]
fn the_property_sees_every_links_route() {
    let spec = spec();
    let routes: Vec<&Route> = spec.routes().filter(|r| r.family == "links").collect();
    assert_eq!(routes.len(), 13, "the strategy draws route indexes below 13");
    assert!(routes.iter().all(|r| r.request.as_ref().is_none_or(|t| !matches!(t.value, TypeRef::List(_)))));
}
