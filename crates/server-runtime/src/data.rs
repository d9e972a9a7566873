//! The data the checks need, through traits the app implements; in-memory versions ship
//! here for tests and examples.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A stored PAT: never its secret, only the secret's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatRecord {
    /// The public token id.
    pub token_id: String,
    /// The handle the token is bound to.
    pub handle: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// SHA-256 of the secret part.
    pub secret_sha256: [u8; 32],
    /// When it stops working, if ever.
    pub expires_at: Option<SystemTime>,
    /// Whether it was revoked.
    pub revoked: bool,
}

impl PatRecord {
    /// The hash stored for a secret.
    pub fn hash_secret(secret: &str) -> [u8; 32] {
        Sha256::digest(secret.as_bytes()).into()
    }

    /// Whether `secret` is this token's secret (constant time).
    pub fn secret_matches(&self, secret: &str) -> bool {
        Self::hash_secret(secret).ct_eq(&self.secret_sha256).into()
    }
}

/// A visitor session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorRecord {
    /// The visitor's id.
    pub visitor_id: String,
    /// The visitor's email.
    pub email: String,
    /// When the session ends.
    pub expires_at: SystemTime,
}

/// Users, handles, roles, plans, PATs and visitor sessions, as the checks need them.
/// Methods are synchronous and should be quick (an in-memory map, an indexed row).
pub trait AuthData: Send + Sync + 'static {
    /// Whether the user a JWT names still exists (a deleted user's token stops working
    /// at once, not when it expires).
    fn user_exists(&self, user_id: &str) -> bool;
    /// The PAT with this id.
    fn pat(&self, token_id: &str) -> Option<PatRecord>;
    /// Whether the handle exists.
    fn handle_exists(&self, handle: &str) -> bool;
    /// The user's role on the handle (`CREATOR`, `OPERATOR`, `OWNER`), if any.
    fn role(&self, user_id: &str, handle: &str) -> Option<String>;
    /// Whether the user holds a platform role.
    fn has_platform_role(&self, user_id: &str, role: &str) -> bool;
    /// The handle's plan (`FREE`, `PRO`, …).
    fn plan(&self, handle: &str) -> Option<String>;
    /// The visitor session behind a cookie value.
    fn visitor(&self, session: &str) -> Option<VisitorRecord>;
}

#[derive(Default)]
struct Tables {
    users: std::collections::HashSet<String>,
    pats: HashMap<String, PatRecord>,
    handles: HashMap<String, String>,
    roles: HashMap<(String, String), String>,
    platform: HashMap<String, Vec<String>>,
    visitors: HashMap<String, VisitorRecord>,
}

/// An in-memory [`AuthData`].
#[derive(Default)]
pub struct MemoryAuthData {
    tables: RwLock<Tables>,
}

impl MemoryAuthData {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    // A poisoned lock means a writer panicked between two plain map inserts: the maps
    // are still whole, so the data stays readable rather than every check failing open.
    fn write(&self, f: impl FnOnce(&mut Tables)) {
        f(&mut self.tables.write().unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    fn read<T>(&self, f: impl FnOnce(&Tables) -> T) -> T {
        f(&self.tables.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Adds a user (JWTs naming another user are refused).
    pub fn add_user(&self, user_id: &str) {
        self.write(|t| {
            t.users.insert(user_id.to_owned());
        });
    }

    /// Removes a user.
    pub fn remove_user(&self, user_id: &str) {
        self.write(|t| {
            t.users.remove(user_id);
        });
    }

    /// Adds a handle on a plan.
    pub fn add_handle(&self, handle: &str, plan: &str) {
        self.write(|t| {
            t.handles.insert(handle.to_owned(), plan.to_owned());
        });
    }

    /// Gives a user a role on a handle (adding the user).
    pub fn set_role(&self, user_id: &str, handle: &str, role: &str) {
        self.write(|t| {
            t.users.insert(user_id.to_owned());
            t.roles.insert((user_id.to_owned(), handle.to_owned()), role.to_owned());
        });
    }

    /// Gives a user a platform role (adding the user).
    pub fn add_platform_role(&self, user_id: &str, role: &str) {
        self.write(|t| {
            t.users.insert(user_id.to_owned());
            t.platform.entry(user_id.to_owned()).or_default().push(role.to_owned());
        });
    }

    /// Stores a PAT record.
    pub fn add_pat(&self, record: PatRecord) {
        self.write(|t| {
            t.pats.insert(record.token_id.clone(), record);
        });
    }

    /// Marks a PAT revoked.
    pub fn revoke_pat(&self, token_id: &str) {
        self.write(|t| {
            if let Some(p) = t.pats.get_mut(token_id) {
                p.revoked = true;
            }
        });
    }

    /// Stores a visitor session under its cookie value.
    pub fn add_visitor(&self, session: &str, record: VisitorRecord) {
        self.write(|t| {
            t.visitors.insert(session.to_owned(), record);
        });
    }
}

impl AuthData for MemoryAuthData {
    fn user_exists(&self, user_id: &str) -> bool {
        self.read(|t| t.users.contains(user_id))
    }

    fn pat(&self, token_id: &str) -> Option<PatRecord> {
        self.read(|t| t.pats.get(token_id).cloned())
    }

    fn handle_exists(&self, handle: &str) -> bool {
        self.read(|t| t.handles.contains_key(handle))
    }

    fn role(&self, user_id: &str, handle: &str) -> Option<String> {
        self.read(|t| t.roles.get(&(user_id.to_owned(), handle.to_owned())).cloned())
    }

    fn has_platform_role(&self, user_id: &str, role: &str) -> bool {
        self.read(|t| t.platform.get(user_id).is_some_and(|r| r.iter().any(|x| x == role)))
    }

    fn plan(&self, handle: &str) -> Option<String> {
        self.read(|t| t.handles.get(handle).cloned())
    }

    fn visitor(&self, session: &str) -> Option<VisitorRecord> {
        self.read(|t| t.visitors.get(session).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pat_secrets_are_stored_hashed_and_compared() {
        let record = PatRecord {
            token_id: "t".into(),
            handle: "acme".into(),
            scopes: vec![],
            secret_sha256: PatRecord::hash_secret("s3cret"),
            expires_at: None,
            revoked: false,
        };
        assert!(record.secret_matches("s3cret"));
        assert!(!record.secret_matches("s3creT"));
        assert!(!format!("{record:?}").contains("s3cret"));
    }
}
