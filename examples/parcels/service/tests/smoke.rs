//! The Parcels API end to end: its generated client against its generated server, with
//! its own auth modes (a bearer access token; an API key in `X-Api-Key`, no scheme), its
//! own scopes (`parcels:read`), its own tenant (`{account}`), PATCH, 204, a colon in a
//! path, a route named `move`, and its own error codes on the wire.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parcels_client::{
    CallOptions, Client, CreateParcel, ErrorCode, ErrorExt, JwtClient, ListParcelsOrder, ListParcelsQuery, MoveKind,
    MoveRequest, ParcelPatch, ParcelPriority, ParcelRecipient, ParcelStatus, RetryPolicy, SaveSearchQuery,
    SearchRequest, VirtualClock, Webhook,
};
use tenx_server_runtime::{JwtKeys, MemoryAuthData, PatRecord};

const ACCOUNT: &str = "acc_demo";
const OTHER: &str = "acc_other";
const KEY: &str = "pk_key1_s3cretvalue";

struct Server {
    base: String,
    jwt: JwtKeys,
}

impl Server {
    async fn start() -> Server {
        let data = Arc::new(MemoryAuthData::new());
        data.add_handle(ACCOUNT, "starter");
        data.add_handle(OTHER, "business");
        for (user, role) in [("ada", "admin"), ("sam", "shipper"), ("vic", "viewer")] {
            data.set_role(user, ACCOUNT, role);
        }
        // An account-level role, held whatever the account.
        data.add_platform_role("dora", "dispatcher");
        data.add_pat(PatRecord {
            token_id: "key1".into(),
            handle: ACCOUNT.into(),
            scopes: vec!["parcels:read".into()],
            secret_sha256: PatRecord::hash_secret("s3cretvalue"),
            expires_at: None,
            revoked: false,
        });
        let jwt = JwtKeys::hs256(b"parcels test key");
        let app = parcels_service::app(data, jwt.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = tenx_server_runtime::axum::serve(listener, service).await;
        });
        Server { base: format!("http://{addr}"), jwt }
    }

    /// A client that does not retry, so each failure is one answer.
    fn client(&self) -> Client {
        Client::new(&self.base).expect("client").with_options(CallOptions::new().retry(RetryPolicy::never()))
    }

    fn user(&self, id: &str) -> JwtClient {
        self.client().with_jwt(self.jwt.issue(id, SystemTime::now(), Duration::from_secs(600)))
    }
}

fn new_parcel(depot: &str, tags: &[&str]) -> CreateParcel {
    CreateParcel {
        weight_grams: 1200,
        depot: depot.into(),
        recipient: None,
        tags: Some(tags.iter().map(|t| (*t).into()).collect()),
    }
}

/// `(status, code)` of a failed call.
fn failure<T: std::fmt::Debug>(result: Result<T, parcels_client::Error>) -> (Option<u16>, Option<ErrorCode>) {
    let error = result.expect_err("the call should fail");
    (error.status(), error.error_code())
}

#[tokio::test]
async fn a_parcels_life_through_the_generated_client() {
    let server = Server::start().await;
    let ada = server.user("ada");

    let created = ada.create_parcel(ACCOUNT, &new_parcel("Berlin", &["fragile"])).await.expect("create");
    assert_eq!(created.status, 201);
    let parcel = created.into_body();
    assert_eq!((parcel.status, parcel.depot.as_str()), (ParcelStatus::Created, "Berlin"));
    ada.create_parcel(ACCOUNT, &new_parcel("Hamburg", &[])).await.expect("a second parcel");

    // A list query parameter goes out as repeated keys; an enum as its wire name.
    let query =
        ListParcelsQuery { status: Some(ParcelStatus::Created), tag: Some(vec!["fragile".into()]), order: None };
    let listed = ada.list_parcels(ACCOUNT, &query).await.expect("list").into_body();
    assert_eq!(listed.parcels.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [parcel.id.as_str()]);

    // An enum written in place in a query parameter (`ListParcelsOrder`).
    let newest = ListParcelsQuery { order: Some(ListParcelsOrder::Newest), ..ListParcelsQuery::default() };
    let ids: Vec<String> =
        ada.list_parcels(ACCOUNT, &newest).await.expect("list").into_body().parcels.into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ["prc_0002", "prc_0001"]);

    // PATCH changes only what it names; `priority` is an enum written in place.
    let patch = ParcelPatch {
        depot: None,
        tags: Some(vec!["fragile".into(), "heavy".into()]),
        priority: Some(ParcelPriority::Express),
    };
    let patched = ada.update_parcel(ACCOUNT, &parcel.id, &patch).await.expect("patch").into_body();
    assert_eq!((patched.depot.as_str(), patched.tags.len(), patched.priority), ("Berlin", 2, ParcelPriority::Express));

    // A route named after a keyword, with a field named after one.
    let moved = ada
        .r#move(ACCOUNT, &parcel.id, &MoveRequest { to: "Munich".into(), r#type: MoveKind::Transfer })
        .await
        .expect("move")
        .into_body();
    assert_eq!((moved.status, moved.depot.as_str()), (ParcelStatus::InTransit, "Munich"));

    // A colon in the path reaches its route.
    let found = ada.search_parcels(ACCOUNT, &SearchRequest { query: "heavy".into() }).await.expect("search");
    assert_eq!(found.into_body().parcels.len(), 1);
    // A path parameter named like the method's own `query` argument takes `query_`.
    let pinned = SaveSearchQuery { pinned: Some(true) };
    let search = SearchRequest { query: "heavy".into() };
    let saved = ada.save_search(ACCOUNT, "heavy ones", &pinned, &search).await.expect("save");
    assert_eq!(saved.into_body().query, "heavy");

    // Public tracking needs no credential.
    let tracked = server.client().track(&parcel.tracking_number).await.expect("track").into_body();
    assert_eq!(tracked.status, ParcelStatus::InTransit);

    // A returned parcel is settled: the API's own conflict code, with its status.
    let back = MoveRequest { to: "Sender".into(), r#type: MoveKind::Return };
    ada.r#move(ACCOUNT, &parcel.id, &back).await.expect("return");
    let again = ada.update_parcel(ACCOUNT, &parcel.id, &patch).await;
    assert_eq!(failure(again), (Some(409), Some(ErrorCode::ParcelStateConflict)));

    // DELETE answers 204; the parcel is then the API's own 404.
    let deleted = ada.delete_parcel(ACCOUNT, &parcel.id).await.expect("delete");
    assert_eq!(deleted.status, 204);
    assert_eq!(failure(ada.get_parcel(ACCOUNT, &parcel.id).await), (Some(404), Some(ErrorCode::NoSuchThing)));
}

#[tokio::test]
async fn the_api_key_travels_in_its_own_header_and_is_held_to_its_scopes_and_account() {
    let server = Server::start().await;
    server.user("ada").create_parcel(ACCOUNT, &new_parcel("Berlin", &[])).await.expect("create");
    let key = server.client().with_pat(KEY, ACCOUNT).expect("a well-formed key");

    let listed = key.list_parcels(&ListParcelsQuery::default()).await.expect("parcels:read is granted");
    assert_eq!(listed.into_body().parcels.len(), 1);
    // `parcels:write` is not granted: the API's own permission code.
    let create = key.create_parcel(&new_parcel("Kiel", &[])).await;
    assert_eq!(failure(create), (Some(403), Some(ErrorCode::Forbidden)));
    // A key on another account's path.
    let elsewhere = server.client().with_pat(KEY, OTHER).expect("a well-formed key");
    let list = elsewhere.list_parcels(&ListParcelsQuery::default()).await;
    assert_eq!(failure(list), (Some(403), Some(ErrorCode::Forbidden)));
    // A wrong secret.
    let wrong = server.client().with_pat("pk_key1_wrongsecret", ACCOUNT).expect("a well-formed key");
    assert_eq!(
        failure(wrong.list_parcels(&ListParcelsQuery::default()).await),
        (Some(401), Some(ErrorCode::BadCredentials))
    );
}

#[tokio::test]
async fn roles_plans_and_input_rules_answer_with_the_apis_codes() {
    let server = Server::start().await;
    // A viewer may read but not create.
    let vic = server.user("vic");
    vic.list_parcels(ACCOUNT, &ListParcelsQuery::default()).await.expect("a viewer reads");
    assert_eq!(
        failure(vic.create_parcel(ACCOUNT, &new_parcel("Kiel", &[])).await),
        (Some(403), Some(ErrorCode::Forbidden))
    );
    // Webhooks need the business plan; the account is on starter.
    let ada = server.user("ada");
    let hook = Webhook { url: "https://hooks.example/parcels".into() };
    assert_eq!(failure(ada.register_webhook(ACCOUNT, &hook).await), (Some(403), Some(ErrorCode::Forbidden)));
    // An object written in place is checked like any other: an empty recipient name.
    let nameless = CreateParcel {
        recipient: Some(ParcelRecipient { name: String::new(), city: "Kiel".into() }),
        ..new_parcel("Kiel", &[])
    };
    assert_eq!(failure(ada.create_parcel(ACCOUNT, &nameless).await), (Some(400), Some(ErrorCode::InvalidRequest)));
    let addressed = CreateParcel {
        recipient: Some(ParcelRecipient { name: "Ada".into(), city: "Kiel".into() }),
        ..new_parcel("Kiel", &[])
    };
    let created = ada.create_parcel(ACCOUNT, &addressed).await.expect("a parcel with a recipient").into_body();
    assert_eq!(created.recipient.map(|r| r.name), Some("Ada".to_owned()));
    // An account-level role: a dispatcher sees every depot; an account admin does not.
    assert_eq!(failure(ada.list_depots().await), (Some(403), Some(ErrorCode::Forbidden)));
    let depots = server.user("dora").list_depots().await.expect("a dispatcher's list").into_body();
    assert_eq!(depots.depots, ["Kiel"]);
    // A weight out of bounds, a malformed parcel id, an unknown account.
    let heavy = CreateParcel { weight_grams: 70_001, depot: "Kiel".into(), tags: None, recipient: None };
    assert_eq!(failure(ada.create_parcel(ACCOUNT, &heavy).await), (Some(400), Some(ErrorCode::InvalidRequest)));
    assert_eq!(failure(ada.get_parcel(ACCOUNT, "not-a-parcel").await), (Some(400), Some(ErrorCode::InvalidRequest)));
    assert_eq!(failure(ada.get_parcel("acc_nowhere", "prc_0001").await), (Some(404), Some(ErrorCode::NoSuchThing)));
}

#[tokio::test]
async fn raw_answers_carry_only_the_apis_codes_and_explain_its_header() {
    let server = Server::start().await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.base)).send();

    // No credential: the message names both ways this route takes one, the API key in
    // its own header without a scheme among them.
    let answer = get("/v1/accounts/acc_demo/parcels").await.expect("answer");
    assert_eq!(answer.status(), 401);
    let body: serde_json::Value = answer.json().await.expect("envelope");
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(body["error"]["statusCode"], 401);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(message, "No credential was sent: send `authorization: Bearer <token>`, or send `x-api-key: <token>`.");

    // Wire names that are not Rust names stay on the wire: `self`, `created-at` and
    // `createdAt` (the last two one Rust name apart); an absent `next-page` is left out.
    let token = server.jwt.issue("ada", SystemTime::now(), Duration::from_secs(600));
    let answer = http
        .get(format!("{}/v1/accounts/acc_demo/parcels", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("answer");
    let body: serde_json::Value = answer.json().await.expect("a parcel list");
    let mut keys: Vec<&str> =
        body["links"].as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(keys, ["created-at", "createdAt", "self"], "{body}");

    // An unknown path answers the API's not-found code.
    let answer = get("/v2/handles/x/links").await.expect("answer");
    assert_eq!(answer.status(), 404);
    let body: serde_json::Value = answer.json().await.expect("envelope");
    assert_eq!(body["error"]["code"], "no_such_thing");

    // Public tracking is limited per client address: 20 a minute, then the API's 429.
    let mut statuses = Vec::new();
    for _ in 0..21 {
        statuses.push(get("/v1/track/PX00000000").await.expect("answer"));
    }
    let last = statuses.pop().expect("21 answers");
    assert!(
        statuses.iter().all(|a| a.status() == 404),
        "{:?}",
        statuses.iter().map(|a| a.status()).collect::<Vec<_>>()
    );
    assert_eq!(last.status(), 429);
    assert!(last.headers().contains_key("retry-after"));
    let body: serde_json::Value = last.json().await.expect("envelope");
    assert_eq!(body["error"]["code"], "too_many_requests");
}

/// The spec's schedule is fractional (0.25 s, 1.5 s) with 20% jitter: a server that
/// answers 503 twice sees three attempts, and the client waits within each band.
#[tokio::test]
async fn the_fractional_jittered_schedule_is_kept() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use tenx_server_runtime::axum::{Router, http::StatusCode, routing::get};

    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/v1/track/{number}",
        get(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"error":{"code":"try_later","message":"busy","statusCode":503}}"#,
                    )
                } else {
                    (StatusCode::OK, r#"{"trackingNumber":"PX00000001","status":"delivered"}"#)
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move {
        let _ = tenx_server_runtime::axum::serve(listener, app).await;
    });

    let clock = Arc::new(VirtualClock::new(SystemTime::UNIX_EPOCH));
    let client = Client::with_config(parcels_client::config(base).clock(clock.clone())).expect("client");
    let tracked = client.track("PX00000001").await.expect("the third attempt succeeds");
    assert_eq!((tracked.body.status, hits.load(Ordering::SeqCst)), (ParcelStatus::Delivered, 3));
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    for (wait, full) in sleeps.iter().zip([250u64, 1500]) {
        let full = Duration::from_millis(full);
        assert!(*wait <= full && *wait >= full.mul_f64(0.8), "{wait:?} outside 80..100% of {full:?}");
    }
}

/// `create_parcel` is idempotent by the `Idempotency-Key` header (the IETF draft's): the
/// client sends one key on every attempt, a repeat answers as the first did, another
/// body under the same key is the API's conflict, and keys are the caller's own.
#[tokio::test]
async fn a_header_idempotency_key_makes_a_create_happen_once() {
    let server = Server::start().await;
    let ada = server.user("ada");
    let keyed = ada.with_options(CallOptions::new().idempotency_key("order-0001"));
    let first = keyed.create_parcel(ACCOUNT, &new_parcel("Berlin", &[])).await.expect("create");
    let again = keyed.create_parcel(ACCOUNT, &new_parcel("Berlin", &[])).await.expect("the same create again");
    assert_eq!((again.status, &again.body.id), (201, &first.body.id));
    let all = ada.list_parcels(ACCOUNT, &ListParcelsQuery::default()).await.expect("list").into_body();
    assert_eq!(all.parcels.len(), 1, "one parcel for one key");

    // The same key with another body.
    let other = keyed.create_parcel(ACCOUNT, &new_parcel("Hamburg", &[])).await;
    assert_eq!(failure(other), (Some(409), Some(ErrorCode::ParcelStateConflict)));

    // Another caller's identical key is another key: no answer crosses callers.
    let sam = server.user("sam").with_options(CallOptions::new().idempotency_key("order-0001"));
    let sams = sam.create_parcel(ACCOUNT, &new_parcel("Berlin", &[])).await.expect("sam's create");
    assert_ne!(sams.body.id, first.body.id);

    let token = server.jwt.issue("ada", SystemTime::now(), Duration::from_secs(600));
    let http = reqwest::Client::new();
    let raw = |key: &str| {
        http.post(format!("{}/v1/accounts/{ACCOUNT}/parcels", server.base))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&serde_json::json!({"weightGrams": 10, "depot": "Kiel"}))
            .send()
    };
    // Bare and quoted keys are the same key (RFC 8941 strings may be sent either way).
    let bare = raw("k-2").await.expect("answer");
    let quoted = raw("\"k-2\"").await.expect("answer");
    assert_eq!((bare.status().as_u16(), quoted.status().as_u16()), (201, 201));
    let (a, b): (serde_json::Value, serde_json::Value) =
        (bare.json().await.expect("parcel"), quoted.json().await.expect("parcel"));
    assert_eq!(a["id"], b["id"]);
    // A key that is not a string of 1 to 255 printable characters.
    let long = raw(&"k".repeat(256)).await.expect("answer");
    assert_eq!(long.status().as_u16(), 400);
    let body: serde_json::Value = long.json().await.expect("envelope");
    assert_eq!(body["error"]["code"], "invalid_request");

    // Without a key the client makes one per call: two calls, two parcels.
    let before = ada.list_parcels(ACCOUNT, &ListParcelsQuery::default()).await.expect("list").into_body().parcels.len();
    ada.create_parcel(ACCOUNT, &new_parcel("Kiel", &[])).await.expect("create");
    ada.create_parcel(ACCOUNT, &new_parcel("Kiel", &[])).await.expect("create");
    let after = ada.list_parcels(ACCOUNT, &ListParcelsQuery::default()).await.expect("list").into_body().parcels.len();
    assert_eq!(after, before + 2);
}

/// The header key is made once per call: a retried create carries the same key on every
/// attempt, as a quoted string, and a POST with a key is retried (a POST without one
/// would not be).
#[tokio::test]
async fn every_attempt_of_a_call_carries_the_same_header_key() {
    use std::sync::Mutex;
    use tenx_server_runtime::axum::{Router, http::HeaderMap, http::StatusCode, routing::post};

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new().route(
        "/v1/accounts/{account}/parcels",
        post(move |headers: HeaderMap| {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let (key, agent) = (header("idempotency-key"), header("user-agent"));
            // The client names itself by the generated crate, not the runtime.
            assert_eq!(agent, "parcels-client/1.3.0");
            let n = {
                let mut log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                log.push(key);
                log.len()
            };
            async move {
                if n == 1 {
                    (StatusCode::SERVICE_UNAVAILABLE, r#"{"error":{"code":"try_later","message":"busy","statusCode":503}}"#)
                } else {
                    (
                        StatusCode::CREATED,
                        r#"{"id":"prc_0001","trackingNumber":"PX00000001","status":"created","weightGrams":1,"depot":"Kiel","tags":[],"priority":"normal","createdAt":"2026-11-29T00:00:00Z"}"#,
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move {
        let _ = tenx_server_runtime::axum::serve(listener, app).await;
    });
    let clock = Arc::new(VirtualClock::new(SystemTime::UNIX_EPOCH));
    let client = Client::with_config(parcels_client::config(base).clock(clock)).expect("client").with_jwt("t");
    client.create_parcel(ACCOUNT, &new_parcel("Kiel", &[])).await.expect("the retry succeeds");
    let seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], seen[1]);
    assert!(seen[0].starts_with('"') && seen[0].ends_with('"') && seen[0].len() == 38, "{seen:?}");
}

/// Text and binary bodies: a note goes and comes back as `text/plain`, a label comes as
/// bytes, a photo goes as bytes; the wrong media type is the API's own 400.
#[tokio::test]
async fn text_and_binary_bodies_travel_as_themselves() {
    let server = Server::start().await;
    let ada = server.user("ada");
    let parcel = ada.create_parcel(ACCOUNT, &new_parcel("Kiel", &[])).await.expect("create").into_body();

    let note = "Bitte beim Nachbarn abgeben — 2. Stock.\nDanke!";
    let kept = ada.put_note(ACCOUNT, &parcel.id, note).await.expect("a note").into_body();
    assert_eq!(kept, note);

    let label = ada.get_label(ACCOUNT, &parcel.id).await.expect("a label").into_body();
    assert!(label.starts_with(b"%PDF-1.7\n") && label.ends_with(&[0x00, 0xff, 0xfe]), "{label:?}");

    let photo: Vec<u8> = (0..=255u8).collect();
    let put = ada.put_photo(ACCOUNT, &parcel.id, &photo).await.expect("a photo");
    assert_eq!(put.status, 204);

    // On the wire: the media types of the spec, both ways.
    let token = server.jwt.issue("ada", SystemTime::now(), Duration::from_secs(600));
    let http = reqwest::Client::new();
    let url = format!("{}/v1/accounts/{ACCOUNT}/parcels/{}/note", server.base, parcel.id);
    let answer = http
        .put(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain; charset=utf-8")
        .body("ring twice")
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(answer.text().await.expect("text"), "ring twice");
    // JSON where text is due, and text that is not UTF-8.
    let json = http.put(&url).bearer_auth(&token).json(&"ring twice").send().await.expect("answer");
    assert_eq!(json.status().as_u16(), 400);
    let body: serde_json::Value = json.json().await.expect("envelope");
    assert_eq!(body["error"]["code"], "invalid_request");
    let latin1 = http
        .put(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(vec![0x66, 0xfc, 0x72])
        .send()
        .await
        .expect("answer");
    assert_eq!(latin1.status().as_u16(), 400);
    let label_url = format!("{}/v1/accounts/{ACCOUNT}/parcels/{}/label", server.base, parcel.id);
    let label = http.get(&label_url).bearer_auth(&token).send().await.expect("answer");
    assert_eq!(label.headers()["content-type"], "application/octet-stream");
}

/// The conformance harness, from the Parcels spec alone, against this service: every
/// route, every rule broken in turn, credential and access cases; no violation.
#[tokio::test]
async fn the_service_conforms_to_its_spec() {
    let server = Server::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-spec");
    let spec = tenx_spec::load_dir(&dir).expect("the Parcels spec loads");
    let jwt = |user: &str| server.jwt.issue(user, SystemTime::now(), Duration::from_secs(600));
    let expired = server.jwt.issue("ada", SystemTime::now() - Duration::from_secs(7200), Duration::from_secs(60));
    let credentials = tenx_conform::Credentials {
        jwt: Some(jwt("ada")),
        pat: Some(KEY.to_owned()),
        visitor: None,
        subject: Some(ACCOUNT.to_owned()),
        access: tenx_conform::Access {
            other_subject: Some(OTHER.to_owned()),
            jwt_low_role: Some((jwt("vic"), "viewer".to_owned())),
            low_plan_subject: None,
            // The key reads only: routes that write must refuse it with `forbidden`.
            pat_limited: Some((KEY.to_owned(), vec!["parcels:read".to_owned()])),
            jwt_expired: Some(expired),
        },
    };
    let report = tenx_conform::run(&spec, &server.base, &credentials, &tenx_conform::Options::default())
        .await
        .expect("the harness runs");
    let (_, failed) = report.counts();
    assert_eq!(failed, 0, "{}", report.render());
    assert!(report.routes.iter().all(|r| r.skipped.is_none()), "{}", report.render());
}
