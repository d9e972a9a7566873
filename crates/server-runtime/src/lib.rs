//! What the generated 10x router calls, in ordinary Rust with unit tests.
//!
//! Before a handler runs, [`handle`] does, in this order, each failure rendered in the
//! error model ([`Failure`]) with the catalogue's status: credentials
//! ([`guard::authorize`]), PAT-to-handle binding, handle existence, scopes, role, plan
//! feature, per-handle rate limit and daily write quota, then path, query and body
//! validation ([`schema`]). Routes with an idempotency key are deduplicated
//! ([`idempotency`]); a handler panic answers a bare `internal_error`; every response
//! carries `x-request-id`.
//!
//! The data the checks need comes through [`AuthData`], [`RateLimiter`] and
//! [`IdempotencyStore`]; in-memory versions ship here, and with the `redis` feature a
//! store shared by many instances. What the router does when a store is down is
//! decided in [`store`]. A handler reaches its request through [`RequestContext`].

mod app;
mod context;
pub mod ctx;
mod data;
mod failure;
pub mod guard;
pub mod idempotency;
mod jwt;
mod limits;
#[cfg(feature = "redis")]
mod redis_store;
pub mod schema;
pub mod store;

pub use app::{Call, NotImplemented, Reply, ServerState, Unmounted, endpoint, finish, handle, not_found, path_params};
pub use context::RequestContext;
pub use ctx::{Click, ContextKey, ContextTokenSpec};
pub use data::{AuthData, MemoryAuthData, PatRecord, VisitorRecord};
pub use failure::{Answers, Code, Failure, Situation};
pub use guard::{AuthContext, JwtContext, PatContext, VisitorContext};
pub use idempotency::{IdempotencyStore, MemoryIdempotency, Reservation, Stored};
pub use jwt::{Claims, JwtError, JwtKeys};
pub use limits::{Hit, MemoryLimiter, RateLimiter};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use store::{StoreFuture, StoreUnavailable};

/// Re-exported so generated code and apps name one version.
pub use axum;
pub use tenx_auth;
pub use tenx_error_model;
