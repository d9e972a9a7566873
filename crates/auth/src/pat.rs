//! The PAT format: `prefix` + token id + `separator` + secret.

/// The shape of a PAT, from the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatFormat {
    /// The literal prefix (`patv1_`).
    pub prefix: &'static str,
    /// The character between the token id and the secret (`.`).
    pub separator: char,
    /// The documented format, for messages (`patv1_<tokenId>.<secret>`).
    pub display: &'static str,
}

/// Why a string is not a PAT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatError {
    /// Nothing was given.
    #[error("the token is empty; expected `{expected}`")]
    Empty {
        /// The documented format.
        expected: &'static str,
    },
    /// Whitespace around or inside the token (often a pasted newline).
    #[error("the token contains whitespace; remove it (expected `{expected}`)")]
    Whitespace {
        /// The documented format.
        expected: &'static str,
    },
    /// The prefix is missing: perhaps a JWT or another kind of token.
    #[error("the token does not start with `{prefix}`; expected `{expected}` (a JWT goes to a JWT client)")]
    MissingPrefix {
        /// The expected prefix.
        prefix: &'static str,
        /// The documented format.
        expected: &'static str,
    },
    /// No separator between token id and secret.
    #[error("the token has no `{separator}` between token id and secret; expected `{expected}`")]
    MissingSeparator {
        /// The separator.
        separator: char,
        /// The documented format.
        expected: &'static str,
    },
    /// The token id is empty or has characters other than letters, digits, `-` and `_`.
    #[error("the token id must be letters, digits, `-` or `_` and not empty; expected `{expected}`")]
    BadTokenId {
        /// The documented format.
        expected: &'static str,
    },
    /// The secret is empty or has characters other than letters, digits, `-` and `_`.
    #[error("the secret must be letters, digits, `-` or `_` and not empty; expected `{expected}`")]
    BadSecret {
        /// The documented format.
        expected: &'static str,
    },
}

fn token_chars(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl PatFormat {
    /// Whether `token` claims to be a PAT (starts with the prefix).
    pub fn looks_like(&self, token: &str) -> bool {
        token.starts_with(self.prefix)
    }

    /// Splits a PAT into token id and secret, saying what is wrong when it is not one.
    pub fn split<'t>(&self, token: &'t str) -> Result<(&'t str, &'t str), PatError> {
        let expected = self.display;
        if token.is_empty() {
            return Err(PatError::Empty { expected });
        }
        if token.chars().any(char::is_whitespace) {
            return Err(PatError::Whitespace { expected });
        }
        let rest = token.strip_prefix(self.prefix).ok_or(PatError::MissingPrefix { prefix: self.prefix, expected })?;
        let (id, secret) = rest
            .split_once(self.separator)
            .ok_or(PatError::MissingSeparator { separator: self.separator, expected })?;
        if !token_chars(id) {
            return Err(PatError::BadTokenId { expected });
        }
        if !token_chars(secret) {
            return Err(PatError::BadSecret { expected });
        }
        Ok((id, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FORMAT: PatFormat = PatFormat { prefix: "patv1_", separator: '.', display: "patv1_<tokenId>.<secret>" };

    #[test]
    fn splits_a_well_formed_token() {
        assert_eq!(FORMAT.split("patv1_tok123.s3cr3t-_x"), Ok(("tok123", "s3cr3t-_x")));
    }

    #[test]
    fn says_what_is_wrong_with_malformed_tokens() {
        type Check = fn(&PatError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, PatError::Empty { .. })),
            ("patv1_tok.sec ret", |e| matches!(e, PatError::Whitespace { .. })),
            ("patv1_tok.secret\n", |e| matches!(e, PatError::Whitespace { .. })),
            ("eyJhbGciOiJIUzI1NiJ9.e30.sig", |e| matches!(e, PatError::MissingPrefix { .. })),
            ("patv2_tok.secret", |e| matches!(e, PatError::MissingPrefix { .. })),
            ("patv1_toksecret", |e| matches!(e, PatError::MissingSeparator { .. })),
            ("patv1_.secret", |e| matches!(e, PatError::BadTokenId { .. })),
            ("patv1_to/k.secret", |e| matches!(e, PatError::BadTokenId { .. })),
            ("patv1_tok.", |e| matches!(e, PatError::BadSecret { .. })),
            ("patv1_tok.sec.ret", |e| matches!(e, PatError::BadSecret { .. })),
        ];
        for (token, check) in cases {
            match FORMAT.split(token) {
                Err(e) => {
                    assert!(check(&e), "{token:?}: {e:?}");
                    assert!(e.to_string().contains("patv1_<tokenId>.<secret>"), "{e}");
                }
                Ok(p) => panic!("{token:?} split as {p:?}"),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn never_panics_and_round_trips(token in any::<String>()) {
            if let Ok((id, secret)) = FORMAT.split(&token) {
                prop_assert_eq!(format!("patv1_{id}.{secret}"), token);
            }
        }
    }
}
