//! PATs, refresh tokens, visitor sessions and magic links in the database, and the
//! [`AuthData`] the router's checks read.

use rusqlite::{OptionalExtension, params};
use tenx_server_runtime::{AuthData, PatRecord, VisitorRecord};

use crate::db::{Db, at};

/// SHA-256 of a secret, as stored (the same hash the router checks PATs with).
pub fn sha256(secret: &str) -> Vec<u8> {
    PatRecord::hash_secret(secret).to_vec()
}

/// A random URL-safe secret (two UUID v4s, 244 random bits).
pub fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl AuthData for Db {
    // A store error reads as "absent" in every method here: each check then refuses
    // (unknown token, no role, no handle), so a failing store never lets a request by.
    fn user_exists(&self, user_id: &str) -> bool {
        self.conn()
            .query_row("SELECT 1 FROM users WHERE id = ?1", [user_id], |_| Ok(()))
            .optional()
            .ok()
            .flatten()
            .is_some()
    }

    fn pat(&self, token_id: &str) -> Option<PatRecord> {
        self.conn()
            .query_row(
                "SELECT token_id, handle, scopes, secret_sha256, expires_at, revoked FROM pats WHERE token_id = ?1",
                [token_id],
                |r| {
                    let scopes: String = r.get(2)?;
                    let hash: Vec<u8> = r.get(3)?;
                    let expires: Option<i64> = r.get(4)?;
                    Ok(PatRecord {
                        token_id: r.get(0)?,
                        handle: r.get(1)?,
                        // A corrupt row grants nothing: no scopes, a hash no secret has.
                        scopes: serde_json::from_str(&scopes).unwrap_or_default(),
                        secret_sha256: hash.try_into().unwrap_or([0; 32]),
                        expires_at: expires.map(at),
                        revoked: r.get::<_, i64>(5)? != 0,
                    })
                },
            )
            .optional()
            .ok()
            .flatten()
    }

    fn handle_exists(&self, handle: &str) -> bool {
        self.conn()
            .query_row("SELECT 1 FROM handles WHERE handle = ?1", [handle], |_| Ok(()))
            .optional()
            .ok()
            .flatten()
            .is_some()
    }

    fn role(&self, user_id: &str, handle: &str) -> Option<String> {
        self.conn()
            .query_row("SELECT role FROM roles WHERE user_id = ?1 AND handle = ?2", params![user_id, handle], |r| {
                r.get(0)
            })
            .optional()
            .ok()
            .flatten()
    }

    fn has_platform_role(&self, user_id: &str, role: &str) -> bool {
        self.conn()
            .query_row("SELECT platform_role FROM users WHERE id = ?1", [user_id], |r| r.get::<_, Option<String>>(0))
            .optional()
            .ok()
            .flatten()
            .flatten()
            .is_some_and(|r| r == role)
    }

    fn plan(&self, handle: &str) -> Option<String> {
        self.conn()
            .query_row("SELECT plan FROM handles WHERE handle = ?1", [handle], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
    }

    fn visitor(&self, session: &str) -> Option<VisitorRecord> {
        self.conn()
            .query_row("SELECT visitor_id, email, expires_at FROM visitors WHERE session = ?1", [session], |r| {
                Ok(VisitorRecord { visitor_id: r.get(0)?, email: r.get(1)?, expires_at: at(r.get(2)?) })
            })
            .optional()
            .ok()
            .flatten()
    }
}
