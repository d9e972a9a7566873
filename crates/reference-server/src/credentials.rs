//! PATs, refresh tokens, visitor sessions and magic links in the database, and the
//! [`AuthData`] the router's checks read.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use tenx_server_runtime::{AuthData, PatRecord, VisitorRecord};

use crate::db::{Db, epoch};

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

/// SHA-256 of a secret, as stored.
pub fn sha256(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A random URL-safe secret (two UUID v4s, 244 random bits).
pub fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl Db {
    /// Stores a PAT record (its secret only as a hash).
    pub fn add_pat(&self, record: &PatRecord, name: &str) -> rusqlite::Result<()> {
        self.conn()
            .execute(
                "INSERT INTO pats (token_id, handle, name, scopes, secret_sha256, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    record.token_id,
                    record.handle,
                    name,
                    serde_json::to_string(&record.scopes).unwrap_or_default(),
                    record.secret_sha256.to_vec(),
                    record.expires_at.map(epoch),
                ],
            )
            .map(drop)
    }

    /// `(token id, name, scopes, expires at)` of a handle's live PATs.
    pub fn pats_of(&self, handle: &str) -> Vec<(String, String, Vec<String>, Option<i64>)> {
        let conn = self.conn();
        let Ok(mut stmt) = conn.prepare(
            "SELECT token_id, name, scopes, expires_at FROM pats WHERE handle = ?1 AND revoked = 0 ORDER BY token_id",
        ) else {
            return Vec::new();
        };
        stmt.query_map([handle], |r| {
            let scopes: String = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&scopes).unwrap_or_default(), r.get(3)?))
        })
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
    }

    /// Revokes a PAT of a handle; `false` when there was none.
    pub fn revoke_pat(&self, handle: &str, token_id: &str) -> bool {
        self.conn()
            .execute(
                "UPDATE pats SET revoked = 1 WHERE handle = ?1 AND token_id = ?2 AND revoked = 0",
                params![handle, token_id],
            )
            .map(|n| n > 0)
            .unwrap_or(false)
    }

    /// Stores a refresh token (hashed) for a user.
    pub fn add_refresh(&self, token: &str, user: &str, expires: SystemTime) -> rusqlite::Result<()> {
        self.conn()
            .execute(
                "INSERT INTO refresh_tokens (token_sha256, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![sha256(token), user, epoch(expires)],
            )
            .map(drop)
    }

    /// Takes a refresh token (it is single-use): the user, if it was valid.
    pub fn take_refresh(&self, token: &str, now: SystemTime) -> Option<String> {
        let conn = self.conn();
        let row: Option<(String, i64)> = conn
            .query_row("SELECT user_id, expires_at FROM refresh_tokens WHERE token_sha256 = ?1", [sha256(token)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .ok()
            .flatten();
        let _ = conn.execute("DELETE FROM refresh_tokens WHERE token_sha256 = ?1", [sha256(token)]);
        row.filter(|(_, exp)| *exp > epoch(now)).map(|(user, _)| user)
    }

    /// Forgets every refresh token of a user (logout).
    pub fn drop_refresh(&self, user: &str) {
        let _ = self.conn().execute("DELETE FROM refresh_tokens WHERE user_id = ?1", [user]);
    }

    /// Stores a magic link.
    pub fn add_magic_link(&self, token: &str, email: &str, expires: SystemTime) -> rusqlite::Result<()> {
        self.conn()
            .execute(
                "INSERT INTO magic_links (token, email, expires_at) VALUES (?1, ?2, ?3)",
                params![token, email, epoch(expires)],
            )
            .map(drop)
    }

    /// Uses a magic link: `Ok(email)`, or why not (`"unknown"`, `"used"`, `"expired"`).
    pub fn use_magic_link(&self, token: &str, now: SystemTime) -> Result<String, &'static str> {
        let conn = self.conn();
        let row: Option<(String, i64, i64)> = conn
            .query_row("SELECT email, expires_at, used FROM magic_links WHERE token = ?1", [token], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .ok()
            .flatten();
        match row {
            None => Err("unknown"),
            Some((_, _, used)) if used != 0 => Err("used"),
            Some((_, exp, _)) if exp <= epoch(now) => Err("expired"),
            Some((email, _, _)) => {
                let _ = conn.execute("UPDATE magic_links SET used = 1 WHERE token = ?1", [token]);
                Ok(email)
            }
        }
    }

    /// Starts a visitor session.
    pub fn add_visitor(&self, session: &str, email: &str, expires: SystemTime) -> rusqlite::Result<()> {
        let visitor_id = format!("vis_{}", &sha256(email).iter().map(|b| format!("{b:02x}")).collect::<String>()[..12]);
        self.conn()
            .execute(
                "INSERT INTO visitors (session, visitor_id, email, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![session, visitor_id, email, epoch(expires)],
            )
            .map(drop)
    }

    /// Ends a visitor session.
    pub fn drop_visitor(&self, visitor_id: &str) {
        let _ = self.conn().execute("DELETE FROM visitors WHERE visitor_id = ?1", [visitor_id]);
    }

    /// Stores a webhook subscription (its secret only as a hash).
    pub fn add_webhook(
        &self,
        id: &str,
        handle: &str,
        url: &str,
        events: &[String],
        secret: &str,
    ) -> rusqlite::Result<()> {
        self.conn()
            .execute(
                "INSERT INTO webhooks (id, handle, endpoint_url, event_types, secret_sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, handle, url, serde_json::to_string(events).unwrap_or_default(), sha256(secret)],
            )
            .map(drop)
    }

    /// A handle's webhook subscriptions.
    pub fn webhooks(&self, handle: &str) -> Vec<serde_json::Value> {
        let conn = self.conn();
        let Ok(mut stmt) =
            conn.prepare("SELECT id, endpoint_url, event_types FROM webhooks WHERE handle = ?1 ORDER BY id")
        else {
            return Vec::new();
        };
        stmt.query_map([handle], |r| {
            let events: String = r.get(2)?;
            Ok(serde_json::json!({
                "subscriptionId": r.get::<_, String>(0)?,
                "endpointUrl": r.get::<_, String>(1)?,
                "eventTypes": serde_json::from_str::<serde_json::Value>(&events).unwrap_or_default(),
            }))
        })
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
    }

    /// Deletes a webhook subscription; `false` when there was none.
    pub fn delete_webhook(&self, handle: &str, id: &str) -> bool {
        self.conn()
            .execute("DELETE FROM webhooks WHERE handle = ?1 AND id = ?2", params![handle, id])
            .map(|n| n > 0)
            .unwrap_or(false)
    }
}

impl AuthData for Db {
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
