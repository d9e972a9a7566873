//! The click context token (`ctx`): minted by the redirect, signed with HMAC-SHA256 over
//! the click's handle, slug and time, and checked for signature and age where a
//! conversion spends it. Without the key nobody can make one, so conversions cannot be
//! forged for a handle nobody clicked.
//!
//! Wire form: `v1.<payload>.<tag>`, both base64url without padding; the payload is the
//! JSON array `[handle, slug, unix seconds]` and the tag signs `v1.<payload>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::failure::Failure;

/// What the spec says of the token.
#[derive(Debug, Clone, Copy)]
pub struct ContextTokenSpec {
    /// How long a ctx stays valid, in seconds.
    pub ttl_seconds: u64,
    /// The query parameter the redirect appends.
    pub param: &'static str,
    /// The code a bad, forged or expired ctx answers.
    pub error: &'static str,
}

/// The click a valid ctx stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    /// The handle clicked.
    pub handle: String,
    /// The link's slug.
    pub slug: String,
    /// When, in seconds since the epoch.
    pub at: u64,
}

/// The signing key. Its bytes never reach `Debug` output.
#[derive(Clone)]
pub struct ContextKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for ContextKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContextKey { algorithm: HMAC-SHA256, key: [redacted] }")
    }
}

const VERSION: &str = "v1";
/// Longer input is refused before decoding: a real token is about 100 bytes.
const MAX_LEN: usize = 1024;
/// A click stamped this far in the future still counts (clocks of several instances).
const SKEW: u64 = 60;

impl ContextKey {
    /// A key from a secret (32 random bytes or more is sensible).
    pub fn new(secret: &[u8]) -> Self {
        ContextKey { key: secret.to_vec() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length; the error arm cannot happen.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC accepts keys of every length")
    }

    /// A token for a click on `handle`/`slug` at `at`.
    pub fn mint(&self, handle: &str, slug: &str, at: SystemTime) -> String {
        let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let payload = serde_json::json!([handle, slug, secs]).to_string();
        let signed = format!("{VERSION}.{}", B64.encode(payload));
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The click behind `token`, if it is ours and younger than the spec's TTL.
    pub fn verify(&self, spec: &ContextTokenSpec, token: &str, now: SystemTime) -> Result<Click, Failure> {
        let fail = |why: &str| Failure::new(spec.error, format!("The ctx {why}."));
        if token.len() > MAX_LEN {
            return Err(fail("is too long to be one"));
        }
        let Some((signed, tag)) = token.rsplit_once('.') else { return Err(fail("is malformed")) };
        let Some((VERSION, payload)) = signed.split_once('.') else { return Err(fail("is malformed")) };
        let tag = B64.decode(tag).map_err(|_| fail("is malformed"))?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        // Constant-time comparison of the tag.
        mac.verify_slice(&tag).map_err(|_| fail("was not signed by this server"))?;
        let payload = B64.decode(payload).map_err(|_| fail("is malformed"))?;
        let (handle, slug, at): (String, String, u64) =
            serde_json::from_slice(&payload).map_err(|_| fail("is malformed"))?;
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if at > now.saturating_add(SKEW) {
            return Err(fail("is dated in the future"));
        }
        if now.saturating_sub(at) > spec.ttl_seconds {
            let ttl = Duration::from_secs(spec.ttl_seconds);
            return Err(fail(&format!("has expired (a ctx is valid for {} hours)", ttl.as_secs() / 3600)));
        }
        Ok(Click { handle, slug, at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ContextTokenSpec = ContextTokenSpec { ttl_seconds: 3600, param: "ctx", error: "invalid_ctx" };

    fn message(r: Result<Click, Failure>) -> String {
        match r {
            Ok(c) => format!("ok {c:?}"),
            Err(f) => format!("{} {}", f.code, f.message),
        }
    }

    #[test]
    fn minted_tokens_verify_and_anything_else_is_refused() {
        let key = ContextKey::new(b"0123456789abcdef0123456789abcdef");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = key.mint("demo-pro", "launch", t0);
        let click = key.verify(&SPEC, &token, t0 + Duration::from_secs(10));
        assert_eq!(click, Ok(Click { handle: "demo-pro".into(), slug: "launch".into(), at: 1_800_000_000 }));

        let later = t0 + Duration::from_secs(3601);
        assert_eq!(
            message(key.verify(&SPEC, &token, later)),
            "invalid_ctx The ctx has expired (a ctx is valid for 1 hours)."
        );
        let other = ContextKey::new(b"another key").mint("demo-pro", "launch", t0);
        assert_eq!(message(key.verify(&SPEC, &other, t0)), "invalid_ctx The ctx was not signed by this server.");
        // The old unsigned form, and a payload swapped under a valid tag.
        assert!(message(key.verify(&SPEC, "demo-pro.launch.nonce", t0)).starts_with("invalid_ctx"));
        let forged = key.mint("demo-free", "launch", t0);
        let forged_payload = forged.split('.').nth(1).unwrap_or_default();
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = forged_payload;
        assert!(message(key.verify(&SPEC, &parts.join("."), t0)).contains("not signed"));
        assert!(message(key.verify(&SPEC, &"a".repeat(5000), t0)).contains("too long"));
        assert!(message(key.verify(&SPEC, "", t0)).contains("malformed"));
        assert!(!format!("{key:?}").contains("0123"));
    }
}
