//! The app's repository: everything the handlers store and read, as one trait. The
//! SQLite [`crate::Db`] implements it (on a file, or in memory for tests); another store
//! would implement it too, and the handlers would not change.

use std::time::SystemTime;

use serde_json::Value;
use tenx_server_runtime::{AuthData, Click, IdempotencyStore, PatRecord, RateLimiter};

use crate::db::User;

/// A live PAT as the token list shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatListing {
    /// The token id.
    pub token_id: String,
    /// Its label.
    pub name: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When it expires, in seconds since the epoch.
    pub expires_at: Option<i64>,
}

/// What recording a keyed write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The row is new.
    New,
    /// A row with this key and the same content was there already.
    Repeat,
    /// A row with this key and other content was there already.
    KeyReused,
}

/// Why the store refused a write.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A row with this key already exists (another request made it first): a 409.
    #[error("a unique row already exists: {0}")]
    Conflict(String),
    /// Another process held the database's write lock past the wait: nothing was
    /// done, a 503 with `Retry-After`.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// The store failed: a 500, logged.
    #[error(transparent)]
    Storage(Box<dyn std::error::Error + Send + Sync>),
}

/// Storage of the reference server. It is also the [`AuthData`] the router's checks read,
/// the [`RateLimiter`] they count with and the [`IdempotencyStore`] keys are kept in, so
/// every process on one store counts and deduplicates together, and a restart keeps
/// both.
pub trait Repository: AuthData + RateLimiter + IdempotencyStore + Clone {
    /// A setting.
    fn setting(&self, key: &str) -> Result<Option<String>, RepoError>;

    /// The setting `key`, stored as `value` first if it has none: the one value every
    /// process on the store reads, however many try to set it at once.
    fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, RepoError>;

    /// Replaces a user's password hash.
    fn set_password(&self, email: &str, password_hash: &str) -> Result<(), RepoError>;

    /// Adds a user.
    fn add_user(&self, id: &str, email: &str, password_hash: &str) -> Result<(), RepoError>;

    /// The user with this email.
    fn user_by_email(&self, email: &str) -> Result<Option<User>, RepoError>;

    /// The user with this id.
    fn user(&self, id: &str) -> Result<Option<User>, RepoError>;

    /// Creates a handle owned by `owner`.
    fn add_handle(&self, handle: &str, plan: &str, owner: &str) -> Result<(), RepoError>;

    /// Sets a user's role on a handle (`None` removes it).
    fn set_role(&self, user: &str, handle: &str, role: Option<&str>) -> Result<(), RepoError>;

    /// `(user, role)` of every member of a handle, owner included.
    fn members(&self, handle: &str) -> Result<Vec<(String, String)>, RepoError>;

    /// The handle's owner.
    fn owner(&self, handle: &str) -> Result<Option<String>, RepoError>;

    /// Makes `user` the owner; the previous owner becomes an operator.
    fn transfer(&self, handle: &str, user: &str) -> Result<(), RepoError>;

    /// Handles the user has a role on, with that role and the handle's plan.
    fn handles_of(&self, user: &str) -> Result<Vec<(String, String, String)>, RepoError>;

    /// A JSON document stored per handle (profile).
    fn profile(&self, handle: &str) -> Result<Value, RepoError>;

    /// Replaces the handle's profile.
    fn set_profile(&self, handle: &str, profile: &Value) -> Result<(), RepoError>;

    /// Renames a handle everywhere.
    fn rename(&self, from: &str, to: &str) -> Result<(), RepoError>;

    /// Records an action.
    fn audit(&self, handle: &str, actor: &str, action: &str, now: SystemTime) -> Result<(), RepoError>;

    /// The audit trail of a handle, newest first.
    fn audit_events(&self, handle: &str) -> Result<Vec<Value>, RepoError>;

    /// A link's stored body.
    fn link(&self, handle: &str, slug: &str) -> Result<Option<Value>, RepoError>;

    /// Stores a link; `true` when it was created, `false` when updated.
    fn put_link(&self, handle: &str, slug: &str, body: &Value, now: SystemTime) -> Result<bool, RepoError>;

    /// Deletes a link; `false` when there was none.
    fn delete_link(&self, handle: &str, slug: &str) -> Result<bool, RepoError>;

    /// Every link of a handle: `(slug, body)`, by slug.
    fn links(&self, handle: &str) -> Result<Vec<(String, Value)>, RepoError>;

    /// Earlier versions of a link, newest first.
    fn history(&self, handle: &str, slug: &str) -> Result<Vec<Value>, RepoError>;

    /// Records a click.
    fn click(&self, handle: &str, slug: &str, now: SystemTime) -> Result<(), RepoError>;

    /// Clicks of a handle.
    fn click_count(&self, handle: &str) -> Result<i64, RepoError>;

    /// Stores a conversion of a verified click, once per idempotency key: the key's
    /// check and the row are one transaction, so a replay after a restart, or on another
    /// process sharing the store, finds the row instead of adding one.
    fn add_conversion(
        &self,
        click: &Click,
        event: Option<&str>,
        value: Option<f64>,
        key: Option<&str>,
    ) -> Result<Recorded, RepoError>;

    /// `(count, revenue)` of conversions of this handle's clicks.
    fn conversions(&self, handle: &str) -> Result<(i64, f64), RepoError>;

    /// Conversions stored with this idempotency key.
    fn conversions_with_key(&self, key: &str) -> Result<i64, RepoError>;

    /// Stores a PAT record (its secret only as a hash).
    fn add_pat(&self, record: &PatRecord, name: &str) -> Result<(), RepoError>;

    /// A handle's live PATs.
    fn pats_of(&self, handle: &str) -> Result<Vec<PatListing>, RepoError>;

    /// Revokes a PAT of a handle; `false` when there was none.
    fn revoke_pat(&self, handle: &str, token_id: &str) -> Result<bool, RepoError>;

    /// Stores a refresh token (hashed) for a user.
    fn add_refresh(&self, token: &str, user: &str, expires: SystemTime) -> Result<(), RepoError>;

    /// Takes a refresh token (it is single-use): the user, if it was valid.
    fn take_refresh(&self, token: &str, now: SystemTime) -> Result<Option<String>, RepoError>;

    /// Forgets every refresh token of a user (logout).
    fn drop_refresh(&self, user: &str) -> Result<(), RepoError>;

    /// Stores a magic link.
    fn add_magic_link(&self, token: &str, email: &str, expires: SystemTime) -> Result<(), RepoError>;

    /// Uses a magic link: `Ok(Ok(email))`, or why not (`"unknown"`, `"used"`, `"expired"`).
    fn use_magic_link(&self, token: &str, now: SystemTime) -> Result<Result<String, &'static str>, RepoError>;

    /// Starts a visitor session.
    fn add_visitor(&self, session: &str, email: &str, expires: SystemTime) -> Result<(), RepoError>;

    /// Ends a visitor session.
    fn drop_visitor(&self, visitor_id: &str) -> Result<(), RepoError>;

    /// Stores a webhook subscription (its secret only as a hash).
    fn add_webhook(&self, id: &str, handle: &str, url: &str, events: &[String], secret: &str) -> Result<(), RepoError>;

    /// A handle's webhook subscriptions.
    fn webhooks(&self, handle: &str) -> Result<Vec<serde_json::Value>, RepoError>;

    /// Deletes a webhook subscription; `false` when there was none.
    fn delete_webhook(&self, handle: &str, id: &str) -> Result<bool, RepoError>;
}
