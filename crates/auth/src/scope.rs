//! How a granted scope satisfies a required one.

/// The rule, as the spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeRule {
    /// Only the same scope satisfies.
    Exact,
    /// The same scope, or a granted `prefix.*` for any required scope under `prefix.`
    /// (`analytics.*` satisfies `analytics.read` and `analytics.*`, not `analytics`).
    PrefixWildcard,
}

impl ScopeRule {
    /// The spec's name for the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeRule::Exact => "exact",
            ScopeRule::PrefixWildcard => "prefix_wildcard",
        }
    }

    /// Whether `granted` satisfies `required` under this rule.
    pub fn satisfies(self, granted: &str, required: &str) -> bool {
        if granted == required {
            return true;
        }
        match self {
            ScopeRule::Exact => false,
            ScopeRule::PrefixWildcard => granted
                .strip_suffix('*')
                .filter(|prefix| prefix.ends_with('.') && prefix.len() > 1)
                .is_some_and(|prefix| required.len() > prefix.len() && required.starts_with(prefix)),
        }
    }

    /// The first of `required` that none of `granted` satisfies.
    pub fn missing<'r>(self, granted: &[String], required: &[&'r str]) -> Option<&'r str> {
        required.iter().copied().find(|req| !granted.iter().any(|g| self.satisfies(g, req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_scopes_cover_their_subtree_only() {
        let rule = ScopeRule::PrefixWildcard;
        assert!(rule.satisfies("analytics.*", "analytics.*"));
        assert!(rule.satisfies("analytics.*", "analytics.read"));
        assert!(rule.satisfies("analytics.*", "analytics.export.run"));
        assert!(!rule.satisfies("analytics.*", "analytics"));
        assert!(!rule.satisfies("analytics.read", "analytics.*"));
        assert!(!rule.satisfies("links.*", "linksx.read"));
        assert!(!rule.satisfies("*", "links.read"), "a bare `*` grants nothing");
        assert!(!rule.satisfies(".*", "x.read"));
        assert!(!ScopeRule::Exact.satisfies("analytics.*", "analytics.read"));
        assert!(ScopeRule::Exact.satisfies("links.read", "links.read"));
    }

    #[test]
    fn missing_names_the_first_unsatisfied_scope() {
        let granted = vec!["links.read".to_owned(), "webhooks.*".to_owned()];
        let rule = ScopeRule::PrefixWildcard;
        assert_eq!(rule.missing(&granted, &["links.read", "webhooks.write"]), None);
        assert_eq!(rule.missing(&granted, &["links.read", "links.write"]), Some("links.write"));
    }
}
