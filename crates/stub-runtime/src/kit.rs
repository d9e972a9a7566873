//! A stub server in-process, for an SDK team's tests: start it on an ephemeral port,
//! take its base URL and a credential for each auth mode, stop it.
//!
//! ```no_run
//! # async fn demo(spec: &'static tenx_server_runtime::guard::ServerSpec) -> std::io::Result<()> {
//! let server = tenx_stub_runtime::kit::StubServer::start(spec, 0).await?;
//! let (url, demo) = (server.base_url(), server.demo());
//! // … call `url` with `demo.pat`, `demo.jwt`, …; force an outcome:
//! server.stub().force("get_link", tenx_stub_runtime::Outcome::Error("not_found".into())).expect("declared");
//! server.stop().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use tenx_auth::Secret;
use tenx_server_runtime::guard::{AuthKind, RoleReq, ServerSpec};
use tenx_server_runtime::schema::{self, FieldSchema};
use tenx_server_runtime::{JwtKeys, MemoryAuthData, PatRecord, ServerState, Unmounted, VisitorRecord};

use crate::Stub;
use crate::values::Values;

/// The accounts a stub server is seeded with, and a credential for each auth mode the
/// API has. Secrets are [`Secret`]s: `Debug` never shows them.
#[derive(Debug, Clone, Default)]
pub struct Demo {
    /// A subject (`{handle}`) on the richest plan: the JWT's user holds the highest role
    /// on it and the PAT is bound to it.
    pub subject: Option<String>,
    /// A subject on the cheapest plan (when the API has several), the JWT's user owns
    /// too: routes gated by a feature that plan lacks refuse it.
    pub low_plan_subject: Option<(String, String)>,
    /// A JWT of a user with the highest role on every subject and every platform role.
    pub jwt: Option<Secret>,
    /// A JWT of a user with the lowest role on `subject`, and that role (when the API
    /// has several).
    pub jwt_low_role: Option<(Secret, String)>,
    /// A JWT of the first user, past its expiry.
    pub jwt_expired: Option<Secret>,
    /// A PAT bound to `subject` with every scope.
    pub pat: Option<Secret>,
    /// A PAT bound to `subject` with no scope: every route that needs one refuses it.
    pub pat_no_scopes: Option<Secret>,
    /// A visitor session (the cookie's value).
    pub visitor: Option<Secret>,
}

impl Demo {
    /// The demo accounts as JSON, secrets included (for a script or another language's
    /// tests: the binary's `--json` prints this).
    pub fn to_json(&self) -> Value {
        let secret = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_owned());
        json!({
            "subject": self.subject,
            "lowPlanSubject": self.low_plan_subject.as_ref().map(|(s, p)| json!({"subject": s, "plan": p})),
            "jwt": secret(&self.jwt),
            "jwtLowRole": self.jwt_low_role.as_ref().map(|(s, r)| json!({"jwt": s.expose(), "role": r})),
            "jwtExpired": secret(&self.jwt_expired),
            "pat": secret(&self.pat),
            "patNoScopes": secret(&self.pat_no_scopes),
            "visitor": secret(&self.visitor),
        })
    }
}

/// Seeds `data` with the demo accounts of `spec` and mints their credentials.
pub fn seed(spec: &'static ServerSpec, data: &MemoryAuthData, jwt: &JwtKeys, seed: u64) -> Demo {
    let has = |kind: AuthKind| spec.modes.iter().any(|m| m.kind == kind);
    let now = SystemTime::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut token = |prefix: &str| format!("{prefix}{:016x}", rng.random::<u64>());
    let mut demo = Demo::default();

    let (owner, low) = ("stub-owner".to_owned(), "stub-member".to_owned());
    data.add_user(&owner);
    // Every platform role a route asks for.
    for route in spec.routes {
        if let Some(RoleReq::Platform(role)) = route.min_role {
            data.add_platform_role(&owner, role);
        }
    }
    let subjects = subjects(spec, seed);
    let (top, lowest) = (spec.subject_roles.last(), spec.subject_roles.first());
    for (subject, plan) in &subjects {
        data.add_handle(subject, plan);
        if let Some(role) = top {
            data.set_role(&owner, subject, role);
        }
    }
    demo.subject = subjects.last().map(|(s, _)| s.clone());
    if subjects.len() > 1 {
        demo.low_plan_subject = subjects.first().cloned();
    }
    if has(AuthKind::Jwt) {
        let day = Duration::from_secs(86_400);
        demo.jwt = Some(Secret::new(jwt.issue(&owner, now, 30 * day)));
        demo.jwt_expired = Some(Secret::new(jwt.issue(&owner, now - 2 * day, Duration::from_secs(60))));
        if let (Some(subject), Some(role)) = (&demo.subject, lowest.filter(|_| spec.subject_roles.len() > 1)) {
            data.set_role(&low, subject, role);
            demo.jwt_low_role = Some((Secret::new(jwt.issue(&low, now, 30 * day)), (*role).to_owned()));
        }
    }
    if let (true, Some(format), Some(subject)) = (has(AuthKind::Pat), spec.pat_format, &demo.subject) {
        let mut pat = |scopes: Vec<String>| {
            let (id, secret) = (token("stubpat"), token("s"));
            data.add_pat(PatRecord {
                token_id: id.clone(),
                handle: subject.clone(),
                scopes,
                secret_sha256: PatRecord::hash_secret(&secret),
                expires_at: None,
                revoked: false,
            });
            Secret::new(format!("{}{id}{}{secret}", format.prefix, format.separator))
        };
        demo.pat = Some(pat(spec.scopes.iter().map(|s| (*s).to_owned()).collect()));
        demo.pat_no_scopes = Some(pat(Vec::new()));
    }
    if has(AuthKind::VisitorCookie) {
        let session = token("stubvisitor");
        let record = VisitorRecord {
            visitor_id: "stub-visitor".to_owned(),
            email: "visitor@stub.example".to_owned(),
            expires_at: now + Duration::from_secs(30 * 86_400),
        };
        data.add_visitor(&session, record);
        demo.visitor = Some(Secret::new(session));
    }
    demo
}

/// One subject per plan, cheapest first, named so the subject's path parameter
/// accepts them (`stub-pro`, or a value built from its pattern).
fn subjects(spec: &'static ServerSpec, seed: u64) -> Vec<(String, String)> {
    let Some(name) = spec.subject else { return Vec::new() };
    let param: Option<&FieldSchema> = spec.routes.iter().flat_map(|r| r.path_params).find(|p| p.name == name);
    let accepts = |s: &str| param.is_none_or(|p| schema::check(&Value::from(s), p, name).is_ok());
    let plans: Vec<&str> =
        if spec.plans.is_empty() { vec!["default"] } else { spec.plans.iter().map(|p| p.name).collect() };
    let mut values = Values::new(seed);
    let mut out: Vec<(String, String)> = Vec::new();
    for plan in plans {
        let readable = format!("stub-{}", plan.to_ascii_lowercase());
        let name = if accepts(&readable) {
            Some(readable)
        } else {
            // Drawn from the parameter's own type until one is new.
            (0..32).find_map(|_| {
                let v = param.map(|p| values.field(p));
                v.and_then(|v| v.as_str().map(str::to_owned)).filter(|s| accepts(s) && !out.iter().any(|(o, _)| o == s))
            })
        };
        if let Some(name) = name {
            out.push((name, plan.to_owned()));
        }
    }
    out
}

/// A stub server running in this process.
pub struct StubServer {
    base_url: String,
    demo: Demo,
    stub: Arc<Stub>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for StubServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubServer").field("base_url", &self.base_url).field("demo", &self.demo).finish()
    }
}

impl StubServer {
    /// Starts a stub of `spec` on an ephemeral loopback port, seeded by `seed`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(spec: &'static ServerSpec, seed: u64) -> std::io::Result<Self> {
        Self::start_on(spec, seed, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a stub of `spec` on `addr`.
    ///
    /// # Errors
    /// When `addr` cannot be bound.
    pub async fn start_on(spec: &'static ServerSpec, seed: u64, addr: SocketAddr) -> std::io::Result<Self> {
        let data = Arc::new(MemoryAuthData::new());
        // A key of this run only: the demo's JWTs are good until the server stops.
        let jwt = JwtKeys::hs256(&StdRng::seed_from_u64(seed ^ nanos()).random::<[u8; 32]>());
        let demo = self::seed(spec, &data, &jwt, seed);
        let stub = Arc::new(Stub::new(spec, seed));
        let state = Arc::new(ServerState::new(spec, data, jwt));
        let fill: Arc<dyn Unmounted> = stub.clone();
        let router = tenx_server_runtime::finish(tenx_server_runtime::axum::Router::new(), &state, &[], &fill);
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let served = tenx_server_runtime::axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the stub server stopped");
            }
        });
        Ok(StubServer { base_url, demo, stub, stop: Some(stop), task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The demo accounts and their credentials.
    pub fn demo(&self) -> &Demo {
        &self.demo
    }

    /// The stub, to force outcomes.
    pub fn stub(&self) -> &Stub {
        &self.stub
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        // A server dropped without `stop` stops too, without waiting.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn nanos() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}
