//! Hostile input against the running reference server, as raw HTTP: each row asserts
//! the status, the code, that the body is exactly the error envelope, and that the
//! server still answers a normal request afterwards. No row may answer 500.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tenx_reference_server::{Repository, random_secret};
use tenx_server_runtime::PatRecord;

mod support;
use support::{Server, keys, start};

/// One hostile request and the answer it must get.
struct Row {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Option<Vec<u8>>,
    status: u16,
    code: &'static str,
}

fn row(name: &'static str, method: &'static str, path: impl Into<String>, status: u16, code: &'static str) -> Row {
    Row { name, method, path: path.into(), headers: Vec::new(), body: None, status, code }
}

impl Row {
    fn header(mut self, name: &'static str, value: impl AsRef<[u8]>) -> Self {
        self.headers.push((name, value.as_ref().to_vec()));
        self
    }

    fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// A body sent as JSON.
    fn json(self, body: impl AsRef<[u8]>) -> Self {
        self.header("content-type", "application/json").raw(body)
    }

    /// A body with no content type of its own.
    fn raw(mut self, body: impl AsRef<[u8]>) -> Self {
        self.body = Some(body.as_ref().to_vec());
        self
    }
}

/// What the table needs: credentials of every kind, good and bad.
struct Creds {
    owner: String,
    expired: String,
    ghost: String,
    foreign: String,
    pro_pat: String,
    free_pat: String,
    used_refresh: String,
}

async fn creds(server: &Server, http: &reqwest::Client) -> Creds {
    let keys = keys(&server.db).jwt;
    let now = SystemTime::now();
    let login = http
        .post(format!("{}/v2/auth/login", server.base))
        .json(&json!({"email": "owner@demo.10x", "password": "demo-password"}))
        .send()
        .await
        .expect("login");
    let cookie = login.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let owner = login.json::<Value>().await.expect("json")["accessToken"].as_str().expect("token").to_owned();
    // Spend the refresh cookie once; the table replays it.
    let refreshed = http.post(format!("{}/v2/auth/refresh", server.base)).header("cookie", &cookie).send().await;
    assert_eq!(refreshed.expect("refresh").status(), 200);
    let pat = |handle: &str, scopes: &[&str]| {
        let (id, secret) = (format!("t{}", &random_secret()[..12]), random_secret());
        let record = PatRecord {
            token_id: id.clone(),
            handle: handle.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            secret_sha256: PatRecord::hash_secret(&secret),
            expires_at: None,
            revoked: false,
        };
        server.db.add_pat(&record, "hostile").expect("pat");
        format!("patv1_{id}.{secret}")
    };
    Creds {
        expired: keys.issue("user_owner", now - Duration::from_secs(7200), Duration::from_secs(60)),
        ghost: keys.issue("user_ghost", now, Duration::from_secs(600)),
        foreign: tenx_server_runtime::JwtKeys::hs256(b"someone-else's-key-someone-else's").issue(
            "user_owner",
            now,
            Duration::from_secs(600),
        ),
        pro_pat: pat("demo-pro", &["links.read", "links.write", "analytics.*"]),
        free_pat: pat("demo-free", &["links.read", "analytics.*"]),
        used_refresh: cookie,
        owner,
    }
}

fn table(c: &Creds) -> Vec<Row> {
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge = format!(r#"{{"email":"a@b.co","password":"{}"}}"#, "x".repeat(2 << 20));
    let many_scopes = json!({"name": "x", "scopes": vec!["links.read"; 10_000]}).to_string();
    let token = |body: Value| body.to_string();
    vec![
        // Credentials.
        row("no credential", "GET", "/v2/handles", 401, "missing_bearer_token"),
        row("empty bearer", "GET", "/v2/handles", 401, "invalid_token").header("authorization", "Bearer "),
        row("basic scheme", "GET", "/v2/handles", 401, "invalid_token").header("authorization", "Basic b3duZXI6cHc="),
        row("garbage JWT", "GET", "/v2/handles", 401, "invalid_token").bearer("a.b.c"),
        row("alg none JWT", "GET", "/v2/handles", 401, "invalid_token")
            .bearer("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyX293bmVyIiwiZXhwIjo5OTk5OTk5OTk5fQ."),
        row("JWT of another key", "GET", "/v2/handles", 401, "invalid_token").bearer(&c.foreign),
        row("expired JWT", "GET", "/v2/handles", 401, "token_expired").bearer(&c.expired),
        row("JWT of a user that does not exist", "POST", "/v2/handles", 401, "invalid_token")
            .bearer(&c.ghost)
            .json(token(json!({"handle": "ghost-town"}))),
        row("bearer bytes that are not text", "GET", "/v2/handles", 401, "invalid_token")
            .header("authorization", b"Bearer \xff\xfe"),
        row("8 KiB bearer", "GET", "/v2/handles", 401, "invalid_token").bearer(&"x".repeat(8192)),
        row("unknown PAT", "GET", "/v2/public/handles/demo-pro/links", 401, "invalid_token")
            .bearer("patv1_nosuchtoken.secret"),
        row("PAT with a wrong secret", "GET", "/v2/public/handles/demo-pro/links", 401, "invalid_token")
            .bearer(&format!("{}x", c.pro_pat)),
        row("PAT prefix only", "GET", "/v2/public/handles/demo-pro/links", 401, "invalid_token").bearer("patv1_"),
        row("PAT on a JWT route", "GET", "/v2/handles", 401, "invalid_token").bearer(&c.pro_pat),
        row("PAT on another handle", "GET", "/v2/public/handles/demo-free/links", 403, "insufficient_scope")
            .bearer(&c.pro_pat),
        row(
            "FREE handle's PAT on a PRO feature",
            "GET",
            "/v2/public/handles/demo-free/analytics",
            403,
            "feature_locked",
        )
        .bearer(&c.free_pat),
        row(
            "PAT in x-api-key on another handle",
            "GET",
            "/v2/public/handles/demo-free/links",
            403,
            "insufficient_scope",
        )
        .header("x-api-key", &c.pro_pat),
        row("forged visitor cookie", "GET", "/v2/visitor/me", 401, "visitor_session_required")
            .header("cookie", "_10x_visitor=forged"),
        row("refresh without a cookie", "POST", "/v2/auth/refresh", 401, "missing_bearer_token"),
        row("refresh with a forged cookie", "POST", "/v2/auth/refresh", 401, "invalid_token")
            .header("cookie", "refresh_token=forged"),
        row("replayed refresh cookie", "POST", "/v2/auth/refresh", 401, "invalid_token")
            .header("cookie", &c.used_refresh),
        // Paths.
        row("bad UTF-8 handle with a PRO PAT", "GET", "/v2/public/handles/%FF/analytics", 400, "validation_error")
            .bearer(&c.pro_pat),
        row("bad UTF-8 handle with a JWT", "GET", "/v2/handles/%C0%AF/profile", 400, "validation_error")
            .bearer(&c.owner),
        row("case variant of a handle", "GET", "/v2/handles/DEMO-PRO/profile", 404, "handle_not_found")
            .bearer(&c.owner),
        row("percent-encoded slash in a slug", "GET", "/v2/handles/demo-pro/links/a%2Fb%2Fc%2Fd", 400, "invalid_slug")
            .bearer(&c.owner),
        row("NUL bytes in a slug", "GET", "/v2/handles/demo-pro/links/%00%00%00%00", 400, "invalid_slug")
            .bearer(&c.owner),
        row("bad UTF-8 on the short-link host", "GET", "/go/%FF/launch", 400, "validation_error"),
        row("unknown short link", "GET", "/go/demo-pro/nope1", 404, "not_found"),
        row("unknown path", "GET", "/v2/../../etc/passwd", 404, "not_found"),
        row(
            "10k-character handle",
            "GET",
            format!("/v2/handles/{}/profile", "a".repeat(10_000)),
            404,
            "handle_not_found",
        )
        .bearer(&c.owner),
        row("bad UTF-8 in a query value", "GET", "/v2/handles/demo-pro/analytics?groupBy=%FF", 400, "validation_error")
            .bearer(&c.owner),
        row(
            "enum query value outside the enum",
            "GET",
            "/v2/handles/demo-pro/analytics?groupBy=evil",
            400,
            "validation_error",
        )
        .bearer(&c.owner),
        // Bodies.
        row("JSON sent as text/plain", "POST", "/v2/auth/login", 400, "invalid_payload")
            .header("content-type", "text/plain")
            .raw(r#"{"email":"owner@demo.10x","password":"demo-password"}"#),
        row("a login form post", "POST", "/v2/auth/login", 400, "invalid_payload")
            .header("content-type", "application/x-www-form-urlencoded")
            .raw("email=owner%40demo.10x&password=demo-password"),
        row("JSON without a content type", "POST", "/v2/auth/login", 400, "invalid_payload")
            .raw(r#"{"email":"owner@demo.10x","password":"demo-password"}"#),
        row("body that is not JSON", "POST", "/v2/auth/login", 400, "invalid_payload").json("{email:"),
        row("empty body", "POST", "/v2/auth/login", 400, "invalid_payload").json(""),
        row("2 MiB body", "POST", "/v2/auth/login", 400, "invalid_payload").json(huge),
        row("100k-deep nesting", "POST", "/v2/auth/login", 400, "invalid_payload").json(nested),
        row("body that is an array", "POST", "/v2/auth/login", 400, "validation_error").json("[]"),
        row("email of the wrong type", "POST", "/v2/auth/login", 400, "validation_error")
            .json(r#"{"email":{"$ne":null},"password":"x"}"#),
        row("SQL in the email", "POST", "/v2/auth/login", 400, "validation_error")
            .json(r#"{"email":"' OR 1=1 --","password":"x"}"#),
        row("expiresInDays at i64::MAX", "POST", "/v2/handles/demo-pro/tokens", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"name":"x","scopes":["links.read"],"expiresInDays":9223372036854775807}"#),
        row("expiresInDays around 10^17", "POST", "/v2/handles/demo-pro/tokens", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"name":"x","scopes":["links.read"],"expiresInDays":100000000000000000}"#),
        row("expiresInDays beyond f64", "POST", "/v2/handles/demo-pro/tokens", 400, "invalid_payload")
            .bearer(&c.owner)
            .json(r#"{"name":"x","scopes":["links.read"],"expiresInDays":1e400}"#),
        row("negative expiresInDays", "POST", "/v2/handles/demo-pro/tokens", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"name":"x","scopes":["links.read"],"expiresInDays":-1}"#),
        row("scope `*`", "POST", "/v2/handles/demo-pro/tokens", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"name":"x","scopes":["*"]}"#),
        row("empty scope", "POST", "/v2/handles/demo-pro/tokens", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"name":"x","scopes":[""]}"#),
        row("scope outside the catalogue", "POST", "/v2/handles/demo-pro/tokens", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"name":"x","scopes":["admin"]}"#),
        row("10k scopes", "POST", "/v2/handles/demo-pro/tokens", 400, "validation_error")
            .bearer(&c.owner)
            .json(many_scopes),
        row("handle `%`", "POST", "/v2/handles", 400, "validation_error").bearer(&c.owner).json(r#"{"handle":"%"}"#),
        row("case variant of an existing handle", "POST", "/v2/handles", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"handle":"Demo-Pro"}"#),
        row("homoglyph of an existing handle", "POST", "/v2/handles", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"handle":"d\u0435mo-pro"}"#),
        row("SQL in a handle", "POST", "/v2/handles", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"handle":"x'; DROP TABLE users;--"}"#),
        row("existing handle", "POST", "/v2/handles", 409, "conflict")
            .bearer(&c.owner)
            .json(r#"{"handle":"demo-free"}"#),
        row("rename to `%`", "POST", "/v2/handles/demo-free/rename", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"newHandle":"%"}"#),
        // demo-free's FREE plan allows two writes a day, demo-pro's ten: the writes of
        // this table are spread so neither quota answers first.
        row("rename to `a/b`", "POST", "/v2/handles/demo-pro/rename", 400, "validation_error")
            .bearer(&c.owner)
            .json(r#"{"newHandle":"a/b"}"#),
        row("rename onto an existing handle", "POST", "/v2/handles/demo-free/rename", 409, "conflict")
            .bearer(&c.owner)
            .json(r#"{"newHandle":"demo-pro"}"#),
        row("javascript: destination", "PUT", "/v2/handles/demo-pro/links/launch", 400, "invalid_destination_url")
            .bearer(&c.owner)
            .json(r#"{"destinationUrl":"javascript:alert(1)"}"#),
        row("unsigned ctx", "POST", "/v2/public/conversions", 400, "invalid_ctx")
            .json(r#"{"ctx":"demo-pro.launch.n0nce"}"#),
        row("ctx of `%`", "POST", "/v2/public/conversions", 400, "invalid_ctx").json(r#"{"ctx":"%.%.%"}"#),
        row("64 KiB ctx", "POST", "/v2/public/conversions", 400, "invalid_ctx")
            .json(json!({"ctx": "v1.".repeat(20_000)}).to_string()),
        row("1 MiB idempotency key", "POST", "/v2/public/conversions", 400, "validation_error")
            .json(json!({"ctx": "x", "idempotencyKey": "k".repeat(1 << 19)}).to_string()),
        row("ctx resolve with a forged token", "GET", "/v2/public/context?ctx=demo-pro.launch.x", 400, "invalid_ctx"),
    ]
}

#[tokio::test]
async fn hostile_requests_get_their_4xx_in_the_envelope_and_the_server_keeps_answering() {
    let server = start().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http");
    let c = creds(&server, &http).await;
    let rows = table(&c);
    assert!(rows.len() >= 40, "the table has {} rows", rows.len());
    let mut failures = Vec::new();
    for r in &rows {
        let method = reqwest::Method::from_bytes(r.method.as_bytes()).expect("method");
        let mut request = http.request(method, format!("{}{}", server.base, r.path));
        for (name, value) in &r.headers {
            request = request.header(*name, reqwest::header::HeaderValue::from_bytes(value).expect("header bytes"));
        }
        if let Some(body) = &r.body {
            request = request.body(body.clone());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let error = &body["error"];
        let envelope = body.as_object().map(|o| o.len()) == Some(1)
            && error["statusCode"] == status
            && error["message"].as_str().is_some_and(|m| !m.is_empty());
        if (status, error["code"].as_str()) != (r.status, Some(r.code)) || !envelope {
            failures.push(format!("{}: expected {} `{}`, got {status} {body}", r.name, r.status, r.code));
        }
        // And the server still serves a plain request.
        let after = http.get(format!("{}/v2/handles", server.base)).bearer_auth(&c.owner).send().await;
        assert_eq!(after.map(|a| a.status().as_u16()).ok(), Some(200), "after `{}`", r.name);
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

#[tokio::test]
async fn guessing_passwords_from_one_address_is_limited() {
    let server = start().await;
    let http = reqwest::Client::new();
    let guess = |n: u32| {
        http.post(format!("{}/v2/auth/login", server.base))
            .json(&json!({"email": "owner@demo.10x", "password": format!("guess-{n}")}))
            .send()
    };
    let mut statuses = Vec::new();
    for n in 0..61 {
        statuses.push(guess(n).await.expect("answer").status().as_u16());
    }
    assert!(statuses[..60].iter().all(|s| *s == 401), "{statuses:?}");
    let limited = guess(61).await.expect("answer");
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().ok().and_then(|s| s.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn concurrent_sign_ups_of_one_email_make_one_account_and_409s() {
    let server = start().await;
    let http = reqwest::Client::new();
    let sign_up = || {
        http.post(format!("{}/v2/auth/signup", server.base))
            .json(&json!({"email": "race@example.com", "password": "long-enough-password"}))
            .send()
    };
    let answers = futures_util::future::join_all((0..20).map(|_| sign_up())).await;
    let mut statuses: Vec<u16> = answers.into_iter().map(|a| a.expect("answer").status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "no 500 for a race: {statuses:?}");
}

/// A login for an email without an account costs what one with an account does: both
/// verify a password hash. The margin is wide (a hash takes tens of milliseconds, a
/// lookup well under one) and the fastest of seven tries is compared: load only ever
/// adds time, so the minimum is each path's own cost, where a median moves with the
/// machine's other work.
#[tokio::test]
async fn a_login_takes_as_long_whether_or_not_the_email_has_an_account() {
    let server = start().await;
    let http = reqwest::Client::new();
    let time = |email: &'static str| {
        let request = http
            .post(format!("{}/v2/auth/login", server.base))
            .json(&json!({"email": email, "password": "wrong-password"}));
        async move {
            let started = std::time::Instant::now();
            assert_eq!(request.send().await.expect("answer").status(), 401);
            started.elapsed()
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        known.push(time("owner@demo.10x").await);
        unknown.push(time("nobody@demo.10x").await);
    }
    let (known, unknown) = (known.iter().min().copied(), unknown.iter().min().copied());
    let (known, unknown) = (known.expect("seven tries"), unknown.expect("seven tries"));
    assert!(unknown * 3 >= known, "unknown email {unknown:?} vs known {known:?}: the answer tells them apart");
}
