//! The reference 10x server: the generated server traits implemented on an SQLite
//! database, with `#[route]` on every handler.
//!
//! It is the example server authors copy from and the other end of the end-to-end
//! tests. The router (from `tenx-server`) has checked credentials, binding, scopes,
//! roles, plans, limits, parameters and bodies before any method here runs; handlers
//! only do the work.

mod api;
mod credentials;
mod db;
mod email;
mod idempotency;
mod limits;
mod passwords;
mod repo;

use std::sync::Arc;
use std::time::SystemTime;

pub use api::{App, Keys};
pub use credentials::{random_secret, sha256};
pub use db::{Db, User, at, epoch, rfc3339};
pub use passwords::PasswordBound;
pub use repo::{PatListing, Recorded, RepoError, Repository};

use tenx_server::{RouterBuilder, spec};
use tenx_server_runtime::{ContextKey, JwtKeys, RedisStore, ServerState};
use tenx_stub_runtime::Stub;

/// The clock handlers and checks read (tests share a virtual one with the client).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The server's keys. Each comes from its `configured` value if given, else the one kept
/// in the database, else a new one, kept for the next start (a key that was not kept
/// would end every session and void every ctx at the next restart, so failing to keep
/// it is an error). Processes that start together on a new database agree: the first
/// key stored is the one each of them reads back.
pub fn server_keys<R: Repository>(db: &R, jwt: Option<&str>, ctx: Option<&str>) -> Result<Keys, RepoError> {
    let key = |configured: Option<&str>, setting: &str| -> Result<String, RepoError> {
        match configured {
            Some(k) => Ok(k.to_owned()),
            None => db.setting(setting)?.map_or_else(|| db.setting_or_insert(setting, &random_secret()), Ok),
        }
    };
    Ok(Keys {
        jwt: JwtKeys::hs256(key(jwt, "jwt_key")?.as_bytes()),
        ctx: ContextKey::new(key(ctx, "ctx_key")?.as_bytes()),
    })
}

/// The whole server: every implemented family mounted, the stub answering the others
/// once their checks pass, plus the short-link host
/// stand-in `GET /go/{handle}/{slug}` (the real one lives on `{handle}.10x.in`).
///
/// Serve it with [`axum::Router::into_make_service_with_connect_info`] over
/// `SocketAddr`: routes limited per client IP count by the peer address.
pub fn router<R: Repository>(db: R, keys: Keys, now: Clock) -> axum::Router {
    router_with(db, keys, now, Stores::Database)
}

/// Where the router keeps rate-limit counters and idempotency records.
#[derive(Debug, Clone)]
pub enum Stores {
    /// In the server's database: shared by the processes on one database file, kept
    /// across restarts.
    Database,
    /// In Redis: shared by every instance connected to it, wherever their databases
    /// are. (Conversions still dedupe in the database too: see [`Recorded`].)
    Redis(RedisStore),
}

/// [`router`], with the limits and idempotency records in `stores`.
pub fn router_with<R: Repository>(db: R, keys: Keys, now: Clock, stores: Stores) -> axum::Router {
    router_bounded(db, keys, now, stores, PasswordBound::default())
}

/// [`router_with`], with password work held to `passwords`.
pub fn router_bounded<R: Repository>(
    db: R,
    keys: Keys,
    now: Clock,
    stores: Stores,
    passwords: PasswordBound,
) -> axum::Router {
    let app = Arc::new(App::bounded(db.clone(), keys.clone(), now.clone(), passwords));
    let mut state = ServerState::new(&spec::SERVER_SPEC, Arc::new(db.clone()), keys.jwt);
    match stores {
        Stores::Database => {
            state.limiter = Arc::new(db.clone());
            state.idempotency = Arc::new(db);
        }
        Stores::Redis(redis) => {
            state.limiter = Arc::new(redis.clone());
            state.idempotency = Arc::new(redis);
        }
    }
    state.now = now;
    RouterBuilder::new(state)
        .auth(app.clone())
        .handles(app.clone())
        .collaborators(app.clone())
        .tokens(app.clone())
        .links(app.clone())
        .analytics(app.clone())
        .public_runtime(app.clone())
        .visitor(app.clone())
        .webhooks(app.clone())
        // Every other family: the stub, behind the same checks.
        .unmounted(Arc::new(Stub::new(&spec::SERVER_SPEC, 0)))
        .build()
        .route("/go/{handle}/{slug}", axum::routing::get(api::redirect::<R>).with_state(app))
}

/// The families this server implements, by spec name. The others are answered by the
/// stub ([`tenx_stub_runtime::Stub`]): their checks run, then their declared success with a body
/// built from its type.
pub const FAMILIES: &[&str] =
    &["auth", "handles", "collaborators", "tokens", "links", "analytics", "public_runtime", "visitor", "webhooks"];

/// Every family of the spec, in spec order, with its number of routes and whether this
/// server implements it (`false`: the stub answers it).
pub fn families() -> Vec<(&'static str, usize, bool)> {
    let mut out: Vec<(&'static str, usize, bool)> = Vec::new();
    for route in spec::SERVER_SPEC.routes {
        match out.iter_mut().find(|(f, _, _)| *f == route.family) {
            Some(entry) => entry.1 += 1,
            None => out.push((route.family, 1, FAMILIES.contains(&route.family))),
        }
    }
    out
}

/// Seeds the demo (once): a user owning a Pro and a Free handle, and a creator on the
/// Pro one. Returns what to print.
pub fn seed_demo<R: Repository>(db: &R) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    if db.user_by_email("owner@demo.10x")?.is_none() {
        let hash = api::hash_password("demo-password").map_err(|f| f.message)?;
        // A twin process seeding at the same moment made a row first: it is the same row.
        let made = |result: Result<(), RepoError>| match result {
            Err(RepoError::Conflict(_)) => Ok(()),
            other => other,
        };
        made(db.add_user("user_owner", "owner@demo.10x", &hash))?;
        made(db.add_user("user_creator", "creator@demo.10x", &hash))?;
        made(db.add_handle("demo-pro", "PRO", "user_owner"))?;
        made(db.add_handle("demo-free", "FREE", "user_owner"))?;
        db.set_role("user_creator", "demo-pro", Some("CREATOR"))?;
    }
    Ok("demo users: owner@demo.10x (OWNER of demo-pro [PRO] and demo-free [FREE]) and creator@demo.10x \
        (CREATOR of demo-pro); password `demo-password` for both"
        .to_owned())
}
