//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `name`, if one is close enough to be a likely typo.
///
/// Closeness is the Damerau-Levenshtein distance, allowed to grow with the length of the
/// name (one edit for short names, up to a third of the length for long ones), with a
/// case-insensitive exact match always accepted.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_ascii_lowercase();
    let budget = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance =
            if candidate.to_ascii_lowercase() == lower { 0 } else { strsim::damerau_levenshtein(name, candidate) };
        if distance <= budget && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// A help line: "did you mean `x`?" when a near name exists, else the list of valid names
/// (shortened when it is long).
pub fn help_for<'a, I>(name: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    if let Some(near) = did_you_mean(name, candidates.clone()) {
        return format!("did you mean `{near}`?");
    }
    let all: Vec<&str> = candidates.into_iter().collect();
    if all.is_empty() {
        return "none is declared".to_owned();
    }
    const SHOWN: usize = 12;
    let mut listed: Vec<String> = all.iter().take(SHOWN).map(|c| format!("`{c}`")).collect();
    if all.len() > SHOWN {
        listed.push(format!("and {} more", all.len() - SHOWN));
    }
    format!("expected one of {}", listed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_case_slips() {
        let scopes = ["links.read", "links.write", "analytics.*"];
        assert_eq!(did_you_mean("links.wrte", scopes), Some("links.write"));
        assert_eq!(did_you_mean("LINKS.READ", scopes), Some("links.read"));
        assert_eq!(did_you_mean("billing.read", scopes), None);
    }

    #[test]
    fn help_lists_alternatives_without_a_near_name() {
        let modes = ["jwt", "pat"];
        assert_eq!(help_for("jtw", modes), "did you mean `jwt`?");
        assert_eq!(help_for("oauth", modes), "expected one of `jwt`, `pat`");
    }
}
