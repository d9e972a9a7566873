//! One account per mailbox. An address is found by its key: NFKC-normalised, then
//! lowercased whole. RFC 5321 lets a mail server treat the local part as case-sensitive,
//! but mailbox providers do not, and an account per case variant (`OWNER@…` beside
//! `owner@…`) is two identities for one person; the domain is case-insensitive anyway.
//! A new address is also refused when its UTS #39 confusable skeleton is that of an
//! existing account's (`оwner@…` with a Cyrillic `о`): it would be a look-alike of
//! someone else's login, not a mailbox of its own.

use unicode_normalization::UnicodeNormalization;

/// The key an account's address is stored and found by.
pub(crate) fn key(email: &str) -> String {
    email.trim().nfkc().collect::<String>().to_lowercase()
}

/// The key's confusable skeleton (UTS #39): two addresses with one skeleton look alike.
pub(crate) fn skeleton(email: &str) -> String {
    unicode_security::skeleton(&key(email)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_compatibility_forms_give_one_key() {
        assert_eq!(key("OWNER@Demo.10x"), key("owner@demo.10x"));
        // A fullwidth `ｏ` is a compatibility form of `o`.
        assert_eq!(key("ｏwner@demo.10x"), key("owner@demo.10x"));
        assert_ne!(key("owner2@demo.10x"), key("owner@demo.10x"));
    }

    #[test]
    fn a_look_alike_shares_the_skeleton_but_not_the_key() {
        let cyrillic = "\u{043e}wner@demo.10x";
        assert_ne!(key(cyrillic), key("owner@demo.10x"));
        assert_eq!(skeleton(cyrillic), skeleton("owner@demo.10x"));
        assert_eq!(skeleton("OWNER@demo.10x"), skeleton("owner@demo.10x"));
        assert_ne!(skeleton("other@demo.10x"), skeleton("owner@demo.10x"));
    }
}
