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
mod repo;

use std::sync::Arc;
use std::time::SystemTime;

pub use api::App;
pub use credentials::{random_secret, sha256};
pub use db::{Db, User, epoch, rfc3339};
pub use repo::Repository;

use tenx_server::{RouterBuilder, spec};
use tenx_server_runtime::{JwtKeys, ServerState};

/// The clock handlers and checks read (tests share a virtual one with the client).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The JWT key: from `configured` if given, else the one kept in the database, else a
/// new one, kept for the next start.
pub fn jwt_keys<R: Repository>(db: &R, configured: Option<&str>) -> JwtKeys {
    let key = match configured {
        Some(k) => k.to_owned(),
        None => db.setting("jwt_key").unwrap_or_else(|| {
            let k = random_secret();
            let _ = db.set_setting("jwt_key", &k);
            k
        }),
    };
    JwtKeys::hs256(key.as_bytes())
}

/// The whole server: every implemented family mounted, plus the short-link host
/// stand-in `GET /go/{handle}/{slug}` (the real one lives on `{handle}.10x.in`).
pub fn router<R: Repository>(db: R, keys: JwtKeys, now: Clock) -> axum::Router {
    let app = Arc::new(App::new(db.clone(), keys.clone(), now.clone()));
    let mut state = ServerState::new(&spec::SERVER_SPEC, Arc::new(db), keys);
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
        .build()
        .route("/go/{handle}/{slug}", axum::routing::get(api::redirect::<R>).with_state(app))
}

/// The families this server implements, by spec name.
pub const FAMILIES: &[&str] =
    &["auth", "handles", "collaborators", "tokens", "links", "analytics", "public_runtime", "visitor", "webhooks"];

/// Seeds the demo: a user owning a Pro and a Free handle, and a creator on the Pro one.
/// Returns what to print.
pub fn seed_demo<R: Repository>(db: &R) -> String {
    let hash = |p: &str| api::hash_password(p);
    if db.user_by_email("owner@demo.10x").is_none() {
        let _ = db.add_user("user_owner", "owner@demo.10x", &hash("demo-password"));
        let _ = db.add_user("user_creator", "creator@demo.10x", &hash("demo-password"));
        let _ = db.add_handle("demo-pro", "PRO", "user_owner");
        let _ = db.add_handle("demo-free", "FREE", "user_owner");
        let _ = db.set_role("user_creator", "demo-pro", Some("CREATOR"));
    }
    "demo users: owner@demo.10x (OWNER of demo-pro [PRO] and demo-free [FREE]) and creator@demo.10x \
     (CREATOR of demo-pro); password `demo-password` for both"
        .to_owned()
}
