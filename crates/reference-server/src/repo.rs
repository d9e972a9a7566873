//! The app's repository: everything the handlers store and read, as one trait. The
//! SQLite [`crate::Db`] implements it (on a file, or in memory for tests); another store
//! would implement it too, and the handlers would not change.

use std::time::SystemTime;

use serde_json::Value;
use tenx_server_runtime::{AuthData, PatRecord};

use crate::db::User;

/// Storage of the reference server. It is also the [`AuthData`] the router's checks read.
pub trait Repository: AuthData + Clone {
    /// The store's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// A setting.
    fn setting(&self, key: &str) -> Option<String>;

    /// Stores a setting.
    fn set_setting(&self, key: &str, value: &str) -> Result<(), Self::Error>;

    /// Adds a user.
    /// Replaces a user's password hash.
    fn set_password(&self, email: &str, password_hash: &str) -> Result<(), Self::Error>;

    /// Adds a user.
    fn add_user(&self, id: &str, email: &str, password_hash: &str) -> Result<(), Self::Error>;

    /// The user with this email.
    fn user_by_email(&self, email: &str) -> Option<User>;

    /// The user with this id.
    fn user(&self, id: &str) -> Option<User>;

    /// Creates a handle owned by `owner`.
    fn add_handle(&self, handle: &str, plan: &str, owner: &str) -> Result<(), Self::Error>;

    /// Sets a user's role on a handle (`None` removes it).
    fn set_role(&self, user: &str, handle: &str, role: Option<&str>) -> Result<(), Self::Error>;

    /// `(user, role)` of every member of a handle, owner included.
    fn members(&self, handle: &str) -> Vec<(String, String)>;

    /// The handle's owner.
    fn owner(&self, handle: &str) -> Option<String>;

    /// Makes `user` the owner; the previous owner becomes an operator.
    fn transfer(&self, handle: &str, user: &str) -> Result<(), Self::Error>;

    /// Handles the user has a role on, with that role and the handle's plan.
    fn handles_of(&self, user: &str) -> Vec<(String, String, String)>;

    /// A JSON document stored per handle (profile).
    fn profile(&self, handle: &str) -> Value;

    /// Replaces the handle's profile.
    fn set_profile(&self, handle: &str, profile: &Value) -> Result<(), Self::Error>;

    /// Renames a handle everywhere.
    fn rename(&self, from: &str, to: &str) -> Result<(), Self::Error>;

    /// Records an action.
    fn audit(&self, handle: &str, actor: &str, action: &str, now: SystemTime);

    /// The audit trail of a handle, newest first.
    fn audit_events(&self, handle: &str) -> Vec<Value>;

    /// A link's stored body.
    fn link(&self, handle: &str, slug: &str) -> Option<Value>;

    /// Stores a link; `true` when it was created, `false` when updated.
    fn put_link(&self, handle: &str, slug: &str, body: &Value, now: SystemTime) -> Result<bool, Self::Error>;

    /// Deletes a link; `false` when there was none.
    fn delete_link(&self, handle: &str, slug: &str) -> bool;

    /// Every link of a handle, by slug.
    fn links(&self, handle: &str) -> Vec<Value>;

    /// Earlier versions of a link, newest first.
    fn history(&self, handle: &str, slug: &str) -> Vec<Value>;

    /// Records a click.
    fn click(&self, handle: &str, slug: &str, now: SystemTime);

    /// Clicks of a handle.
    fn click_count(&self, handle: &str) -> i64;

    /// Stores a conversion.
    fn add_conversion(
        &self,
        ctx: &str,
        event: Option<&str>,
        value: Option<f64>,
        key: Option<&str>,
    ) -> Result<(), Self::Error>;

    /// `(count, revenue)` of conversions whose ctx names this handle.
    fn conversions(&self, handle: &str) -> (i64, f64);

    /// Conversions stored with this idempotency key.
    fn conversions_with_key(&self, key: &str) -> i64;

    /// Stores a PAT record (its secret only as a hash).
    fn add_pat(&self, record: &PatRecord, name: &str) -> Result<(), Self::Error>;

    /// `(token id, name, scopes, expires at)` of a handle's live PATs.
    fn pats_of(&self, handle: &str) -> Vec<(String, String, Vec<String>, Option<i64>)>;

    /// Revokes a PAT of a handle; `false` when there was none.
    fn revoke_pat(&self, handle: &str, token_id: &str) -> bool;

    /// Stores a refresh token (hashed) for a user.
    fn add_refresh(&self, token: &str, user: &str, expires: SystemTime) -> Result<(), Self::Error>;

    /// Takes a refresh token (it is single-use): the user, if it was valid.
    fn take_refresh(&self, token: &str, now: SystemTime) -> Option<String>;

    /// Forgets every refresh token of a user (logout).
    fn drop_refresh(&self, user: &str);

    /// Stores a magic link.
    fn add_magic_link(&self, token: &str, email: &str, expires: SystemTime) -> Result<(), Self::Error>;

    /// Uses a magic link: `Ok(email)`, or why not (`"unknown"`, `"used"`, `"expired"`).
    fn use_magic_link(&self, token: &str, now: SystemTime) -> Result<String, &'static str>;

    /// Starts a visitor session.
    fn add_visitor(&self, session: &str, email: &str, expires: SystemTime) -> Result<(), Self::Error>;

    /// Ends a visitor session.
    fn drop_visitor(&self, visitor_id: &str);

    /// Stores a webhook subscription (its secret only as a hash).
    fn add_webhook(
        &self,
        id: &str,
        handle: &str,
        url: &str,
        events: &[String],
        secret: &str,
    ) -> Result<(), Self::Error>;

    /// A handle's webhook subscriptions.
    fn webhooks(&self, handle: &str) -> Vec<serde_json::Value>;

    /// Deletes a webhook subscription; `false` when there was none.
    fn delete_webhook(&self, handle: &str, id: &str) -> bool;
}
