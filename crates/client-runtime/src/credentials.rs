//! Credentials: personal access tokens bound to a handle, and user sessions.

use std::fmt;
use std::sync::{Arc, RwLock};

use tenx_auth::{PatError, PatFormat, Secret};

/// A personal access token: its id is public, its secret never shows.
#[derive(Clone, PartialEq, Eq)]
pub struct Pat {
    token_id: String,
    whole: Secret,
}

impl Pat {
    /// Checks `token` against `format` before anything is sent.
    pub fn parse(token: &str, format: &PatFormat) -> Result<Pat, PatError> {
        let (id, _) = format.split(token)?;
        Ok(Pat { token_id: id.to_owned(), whole: Secret::new(token) })
    }

    /// The token id (not secret).
    pub fn token_id(&self) -> &str {
        &self.token_id
    }

    /// The whole token, for the `Authorization` header.
    pub fn secret(&self) -> &Secret {
        &self.whole
    }
}

impl fmt::Debug for Pat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pat").field("token_id", &self.token_id).field("secret", &"[redacted]").finish()
    }
}

/// A signed-in user's session: the access token and the cookies login set (the refresh
/// cookie among them). Refreshing replaces the token in place, so every clone of a
/// client holding the session sees the new one.
#[derive(Clone)]
pub struct Session {
    inner: Arc<RwLock<SessionState>>,
    /// Held while a refresh runs, so concurrent calls refresh once between them.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

struct SessionState {
    access_token: Secret,
    cookies: Vec<(String, Secret)>,
    /// Bumped by each refresh.
    generation: u64,
}

impl Session {
    /// A session from an access token alone (it cannot refresh).
    pub fn from_token(access_token: impl Into<Secret>) -> Self {
        Self::new(access_token.into(), Vec::new())
    }

    /// The session a login answer starts: its access token and the cookies it set.
    pub fn from_login(access_token: impl Into<Secret>, headers: &reqwest::header::HeaderMap) -> Session {
        Session::new(access_token.into(), set_cookies(headers))
    }

    /// A session from an access token and the cookies its login set.
    pub fn new(access_token: Secret, cookies: Vec<(String, Secret)>) -> Self {
        Session {
            inner: Arc::new(RwLock::new(SessionState { access_token, cookies, generation: 0 })),
            refreshing: Arc::default(),
        }
    }

    // A poisoned lock means a panic between two plain assignments: the state is whole.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, SessionState> {
        self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current access token.
    pub fn access_token(&self) -> Secret {
        self.read().access_token.clone()
    }

    /// Whether login set cookies a refresh can send back.
    pub fn can_refresh(&self) -> bool {
        !self.read().cookies.is_empty()
    }

    /// How many refreshes this session has had.
    pub(crate) fn generation(&self) -> u64 {
        self.read().generation
    }

    pub(crate) fn refresh_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.refreshing
    }

    /// The `Cookie` header value carrying the session's cookies.
    pub(crate) fn cookie_header(&self) -> Option<Secret> {
        let state = self.read();
        if state.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = state.cookies.iter().map(|(n, v)| format!("{n}={}", v.expose())).collect();
        Some(Secret::new(pairs.join("; ")))
    }

    /// Installs a refreshed token, and any cookies the refresh set.
    pub(crate) fn update(&self, access_token: Secret, cookies: Vec<(String, Secret)>) {
        let mut state = self.inner.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.access_token = access_token;
        state.generation += 1;
        for (name, value) in cookies {
            match state.cookies.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => state.cookies.push((name, value)),
            }
        }
    }

    /// The cookie names (values stay secret), for diagnostics.
    pub fn cookie_names(&self) -> Vec<String> {
        self.read().cookies.iter().map(|(n, _)| n.clone()).collect()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("access_token", &"[redacted]").field("cookies", &self.cookie_names()).finish()
    }
}

/// Reads `Set-Cookie` headers into `(name, value)` pairs (attributes dropped).
pub(crate) fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<(String, Secret)> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .map(|(n, v)| (n.trim().to_owned(), Secret::new(v.trim())))
        .filter(|(n, _)| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: PatFormat = PatFormat { prefix: "patv1_", separator: '.', display: "patv1_<tokenId>.<secret>" };

    #[test]
    fn parses_a_well_formed_token() {
        let pat = Pat::parse("patv1_tok123.s3cr3t-_x", &FORMAT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pat.token_id(), "tok123");
        assert_eq!(pat.secret().expose(), "patv1_tok123.s3cr3t-_x");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let pat = Pat::parse("patv1_tok.verysecret", &FORMAT).unwrap_or_else(|e| panic!("{e}"));
        let session = Session::new(Secret::new("jwt.value.sig"), vec![("refresh".into(), Secret::new("cookieval"))]);
        let shown = format!("{pat:?} {session:?}");
        for secret in ["verysecret", "jwt.value.sig", "cookieval"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("tok") && shown.contains("refresh"));
    }

    #[test]
    fn set_cookie_headers_become_pairs() {
        let mut headers = reqwest::header::HeaderMap::new();
        for v in ["refresh_token=abc; HttpOnly; Path=/v2/auth", "other=1"] {
            headers.append(reqwest::header::SET_COOKIE, reqwest::header::HeaderValue::from_static(v));
        }
        let pairs = set_cookies(&headers);
        assert_eq!(
            pairs.iter().map(|(n, v)| (n.as_str(), v.expose())).collect::<Vec<_>>(),
            [("refresh_token", "abc"), ("other", "1")]
        );
    }
}
