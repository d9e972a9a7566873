//! JWTs: issued and verified with one pinned algorithm (HS256). `alg: none` and
//! algorithm switching are refused because the verifier accepts exactly one algorithm.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    pub iat: u64,
}

/// Why a JWT was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    /// Past its expiry.
    Expired,
    /// Malformed, wrongly signed, or of another algorithm.
    Invalid,
}

/// The signing key and the pinned validation.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys { algorithm: HS256, key: [redacted] }")
    }
}

impl JwtKeys {
    /// Keys from a shared secret (at least 32 bytes is sensible).
    pub fn hs256(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.required_spec_claims = ["exp", "sub"].iter().map(|s| (*s).to_owned()).collect();
        JwtKeys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    /// Issues a token for `user_id`, valid for `ttl` from `now`.
    pub fn issue(&self, user_id: &str, now: SystemTime, ttl: Duration) -> String {
        // A clock before the epoch issues at the epoch (and the token is long expired).
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = Claims { sub: user_id.to_owned(), iat, exp: iat + ttl.as_secs() };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signs any key and these claims always serialize")
    }

    /// Verifies a token.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
            _ => JwtError::Invalid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_verifies_and_refuses_expired_none_and_foreign_tokens() {
        let keys = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let now = SystemTime::now();
        let token = keys.issue("user_1", now, Duration::from_secs(60));
        assert_eq!(keys.verify(&token).map(|c| c.sub), Ok("user_1".to_owned()));
        let old = keys.issue("user_1", now - Duration::from_secs(3600), Duration::from_secs(60));
        assert_eq!(keys.verify(&old), Err(JwtError::Expired));
        // `alg: none`: header {"alg":"none"}, any payload, empty signature.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyXzEiLCJleHAiOjQxMDI0NDQ4MDAsImlhdCI6MH0.";
        assert_eq!(keys.verify(none), Err(JwtError::Invalid));
        let other = JwtKeys::hs256(b"another-key-another-key-another-k").issue("user_1", now, Duration::from_secs(60));
        assert_eq!(keys.verify(&other), Err(JwtError::Invalid));
        assert_eq!(keys.verify("not-a-jwt"), Err(JwtError::Invalid));
    }
}
