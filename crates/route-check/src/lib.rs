//! The checks behind `#[route(auth = "pat", scope = "links.write")]`.
//!
//! The generated proc-macro crate (`generated/route-macro`) holds the route table that
//! codegen wrote from the spec (`route-table.json`, read once per compiler process) and
//! calls [`expand`]. This library parses the attribute into [`Args`], checks it against
//! the table, and returns the user's item unchanged plus one `compile_error!` per
//! problem, each spanned on the offending literal or name, so one mistake never cascades.
//!
//! Why a table rather than reading `api-spec/` in the macro: the macro needs no YAML
//! parser and no file tracking, it checks exactly what the generated traits were made
//! from (one codegen run writes both), and `cargo xtask codegen --check` keeps the two
//! in step. Editing the spec and regenerating rewrites the table, which cargo tracks
//! (`include_str!`), so a stale annotation fails on the next build.

use heck::ToSnakeCase;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use serde::{Deserialize, Serialize};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Token, bracketed};

/// What the spec says, as the macro needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Every route.
    pub routes: Vec<RouteEntry>,
    /// Every auth mode name.
    pub modes: Vec<String>,
    /// Every scope.
    pub scopes: Vec<String>,
    /// Every role.
    pub roles: Vec<String>,
    /// Every plan feature.
    pub features: Vec<String>,
}

/// One route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// The route id.
    pub id: String,
    /// Accepted auth modes.
    pub auth: Vec<String>,
    /// Required scopes.
    pub scopes: Vec<String>,
    /// Minimum role.
    pub role: Option<String>,
    /// Plan feature.
    pub feature: Option<String>,
}

/// A string the attribute gave, with where it was written.
#[derive(Debug, Clone)]
pub struct Given {
    /// The value.
    pub value: String,
    /// The literal's span.
    pub span: Span,
}

/// The parsed attribute, before it is checked.
#[derive(Debug, Default)]
pub struct Args {
    /// `auth = "pat"` or `auth = ["jwt", "pat"]`, with the span of the value.
    pub auth: Option<(Vec<Given>, Span)>,
    /// `scope = "…"` or `scopes = [...]`.
    pub scopes: Option<(Vec<Given>, Span)>,
    /// `role = "…"`.
    pub role: Option<Given>,
    /// `feature = "…"`.
    pub feature: Option<Given>,
    /// `operation = "…"`.
    pub operation: Option<Given>,
    /// Arguments that were present but unreadable (unknown names, ill-typed values):
    /// checks that would only repeat the same mistake are skipped.
    pub garbled: bool,
}

const KEYS: &[&str] = &["auth", "scope", "scopes", "role", "feature", "operation"];

/// The nearest of `candidates` to `name`, as a "did you mean" suffix.
fn near<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let budget = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= budget)
        .min()
        .map_or_else(String::new, |(_, c)| format!("; did you mean `{c}`?"))
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

fn strings(
    input: ParseStream<'_>,
    key: &Ident,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<Option<(Vec<Given>, Span)>> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Ok(Some((vec![Given { value: lit.value(), span: lit.span() }], lit.span())));
    }
    if input.peek(syn::token::Bracket) {
        let content;
        let bracket = bracketed!(content in input);
        let mut out = Vec::new();
        while !content.is_empty() {
            match content.parse::<LitStr>() {
                Ok(lit) => out.push(Given { value: lit.value(), span: lit.span() }),
                Err(_) => {
                    let bad: TokenTree = content.parse()?;
                    errors.push(syn::Error::new(
                        bad.span(),
                        format!("`{key}` takes string literals, like `\"links.read\"`"),
                    ));
                }
            }
            if !content.is_empty() && content.parse::<Token![,]>().is_err() {
                break;
            }
        }
        return Ok(Some((out, bracket.span.join())));
    }
    let bad: syn::Expr = input.parse()?;
    errors.push(syn::Error::new(
        bad.span(),
        format!("`{key}` takes a string or a list of strings, like `{key} = \"…\"`"),
    ));
    Ok(None)
}

/// Parses the attribute's arguments, reporting unknown, repeated and ill-typed ones.
pub fn parse_args(attr: TokenStream) -> (Args, Vec<syn::Error>) {
    let mut args = Args::default();
    let mut errors = Vec::new();
    let parser = |input: ParseStream<'_>| -> syn::Result<()> {
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let name = key.to_string();
            // `scope` and `scopes` are one argument.
            let canonical = if name == "scope" { "scopes".to_owned() } else { name.clone() };
            let repeated = seen.contains(&canonical);
            seen.push(canonical);
            if !KEYS.contains(&name.as_str()) {
                args.garbled = true;
                let hint = near(&name, KEYS.iter().copied());
                errors.push(syn::Error::new(key.span(), format!("unknown argument `{name}`{hint} (expected one of `auth`, `scope`, `scopes`, `role`, `feature`, `operation`)")));
                let _: syn::Expr = input.parse()?;
            } else if repeated {
                errors.push(syn::Error::new(key.span(), format!("`{name}` is given twice")));
                let _: syn::Expr = input.parse()?;
            } else {
                let before = errors.len();
                match name.as_str() {
                    "auth" => args.auth = strings(input, &key, &mut errors)?,
                    "scope" | "scopes" => args.scopes = strings(input, &key, &mut errors)?,
                    _ => {
                        let one = strings(input, &key, &mut errors)?.and_then(|(mut v, span)| {
                            if v.len() == 1 {
                                v.pop()
                            } else {
                                errors.push(syn::Error::new(span, format!("`{name}` takes one string")));
                                None
                            }
                        });
                        match name.as_str() {
                            "role" => args.role = one,
                            "feature" => args.feature = one,
                            _ => args.operation = one,
                        }
                    }
                }
                args.garbled |= errors.len() > before;
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(attr) {
        errors.push(e);
    }
    (args, errors)
}

/// The name of the `fn` in an item (a free function or a method).
pub fn fn_name(item: &TokenStream) -> Option<Ident> {
    let mut tokens = item.clone().into_iter();
    while let Some(t) = tokens.next() {
        if let TokenTree::Ident(i) = &t {
            if i == "fn" {
                if let Some(TokenTree::Ident(name)) = tokens.next() {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// Checks the attribute against the table; every problem is one error.
pub fn check(table: &Table, attr: TokenStream, item: &TokenStream) -> Vec<syn::Error> {
    let (args, errors) = parse_args(attr);
    check_args(table, args, errors, fn_name(item))
}

/// Checks parsed arguments; `errors` already holds the parse problems.
fn check_args(table: &Table, args: Args, mut errors: Vec<syn::Error>, name: Option<Ident>) -> Vec<syn::Error> {
    let (id, id_span) = match (&args.operation, &name) {
        (Some(op), _) => (op.value.clone(), op.span),
        // `r#move` names the route `move`: the raw prefix is Rust's, not the spec's.
        (None, Some(n)) => (n.to_string().trim_start_matches("r#").to_snake_case(), n.span()),
        (None, None) => {
            errors.push(syn::Error::new(Span::call_site(), "`#[route]` goes on a function or a method"));
            return errors;
        }
    };
    let Some(route) = table.routes.iter().find(|r| r.id == id) else {
        let hint = near(&id, table.routes.iter().map(|r| r.id.as_str()));
        errors.push(syn::Error::new(id_span, format!("no route `{id}` in the spec{hint}")));
        return errors;
    };
    let anchor = args.auth.as_ref().map_or(Span::call_site(), |(_, span)| *span);

    // Auth modes: exactly the spec's set.
    match &args.auth {
        None if args.garbled => {}
        None => errors
            .push(syn::Error::new(id_span, format!("missing `auth`: the spec says {} for `{id}`", list(&route.auth)))),
        Some((given, span)) => {
            for g in given {
                if !table.modes.contains(&g.value) {
                    let hint = near(&g.value, table.modes.iter().map(String::as_str));
                    errors.push(syn::Error::new(g.span, format!("unknown auth mode `{}`{hint}", g.value)));
                } else if !route.auth.contains(&g.value) {
                    errors.push(syn::Error::new(
                        g.span,
                        format!("the spec says {} for `{id}`, not `{}`", list(&route.auth), g.value),
                    ));
                }
            }
            let missing: Vec<String> =
                route.auth.iter().filter(|m| !given.iter().any(|g| &g.value == *m)).cloned().collect();
            if !missing.is_empty() && given.iter().all(|g| route.auth.contains(&g.value)) {
                errors.push(syn::Error::new(
                    *span,
                    format!("the spec also allows {} for `{id}`; list every mode it allows", list(&missing)),
                ));
            }
        }
    }

    // Scopes: exactly the spec's set.
    let given: &[Given] = args.scopes.as_ref().map_or(&[], |(g, _)| g);
    for g in given {
        if !table.scopes.contains(&g.value) {
            let hint = near(&g.value, table.scopes.iter().map(String::as_str));
            errors.push(syn::Error::new(g.span, format!("unknown scope `{}`{hint}", g.value)));
        } else if !route.scopes.contains(&g.value) {
            errors.push(syn::Error::new(
                g.span,
                format!("the spec does not require `{}` for `{id}`; it requires {}", g.value, list(&route.scopes)),
            ));
        }
    }
    // A misspelt scope or argument is reported once, not again as a missing scope.
    let misspelt = args.garbled || given.iter().any(|g| !table.scopes.contains(&g.value));
    for required in route.scopes.iter().filter(|_| !misspelt) {
        if !given.iter().any(|g| &g.value == required) {
            let span = args.scopes.as_ref().map_or(anchor, |(_, s)| *s);
            errors.push(syn::Error::new(span, format!("missing scope `{required}`: the spec requires it for `{id}`")));
        }
    }

    // Role and feature: the spec's value or nothing.
    for (what, given, spec_value, known) in
        [("role", &args.role, &route.role, &table.roles), ("feature", &args.feature, &route.feature, &table.features)]
    {
        match (given, spec_value) {
            (Some(g), _) if !known.contains(&g.value) => {
                let hint = near(&g.value, known.iter().map(String::as_str));
                errors.push(syn::Error::new(g.span, format!("unknown {what} `{}`{hint}", g.value)));
            }
            (Some(g), Some(s)) if g.value != *s => {
                errors
                    .push(syn::Error::new(g.span, format!("the spec says {what} `{s}` for `{id}`, not `{}`", g.value)));
            }
            (Some(g), None) => errors.push(syn::Error::new(
                g.span,
                format!("the spec gives `{id}` no {what}; remove `{what} = \"{}\"`", g.value),
            )),
            (None, Some(s)) => errors.push(syn::Error::new(
                anchor,
                format!("missing `{what} = \"{s}\"`: the spec says {what} `{s}` for `{id}`"),
            )),
            _ => {}
        }
    }
    errors
}

/// The attribute's expansion: the item unchanged, then every error.
pub fn expand(table: &Table, attr: TokenStream, item: TokenStream) -> TokenStream {
    // Fast path: read the attribute from its text (one call into the compiler instead
    // of one per token) and, when it matches the spec, hand the item back untouched.
    // Only a mismatch pays for the token-by-token parse that gives exact spans.
    let name = fn_name(&item);
    if let Some(args) = quick_args(&attr.to_string()) {
        if check_args(table, args, Vec::new(), name.clone()).is_empty() {
            return item;
        }
    }
    let (args, parse_errors) = parse_args(attr);
    let errors = check_args(table, args, parse_errors, name).into_iter().map(|e| e.to_compile_error());
    quote! { #item #(#errors)* }
}

/// Parses `key = "v", key = ["a", "b"]` from the attribute's text, without spans.
/// `None` for anything unusual: the full parser then reports it precisely.
fn quick_args(text: &str) -> Option<Args> {
    let mut args = Args::default();
    let mut rest = text.trim();
    let given = |value: &str| Given { value: value.to_owned(), span: Span::call_site() };
    let literal = |s: &str| -> Option<(String, usize)> {
        let body = s.strip_prefix('"')?;
        let end = body.find('"')?;
        let value = &body[..end];
        (!value.contains('\\')).then(|| (value.to_owned(), end + 2))
    };
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim();
        rest = after.trim_start();
        let values: Vec<String> = if let Some(list) = rest.strip_prefix('[') {
            let end = list.find(']')?;
            let inner = &list[..end];
            rest = list[end + 1..].trim_start();
            inner
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| literal(v).filter(|(_, n)| *n == v.len()).map(|(v, _)| v))
                .collect::<Option<_>>()?
        } else {
            let (value, n) = literal(rest)?;
            rest = rest[n..].trim_start();
            vec![value]
        };
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        let many = || Some((values.iter().map(|v| given(v)).collect::<Vec<_>>(), Span::call_site()));
        let one = || (values.len() == 1).then(|| given(&values[0]));
        match key {
            "auth" if args.auth.is_none() => args.auth = many(),
            "scope" | "scopes" if args.scopes.is_none() => args.scopes = many(),
            "role" if args.role.is_none() => args.role = Some(one()?),
            "feature" if args.feature.is_none() => args.feature = Some(one()?),
            "operation" if args.operation.is_none() => args.operation = Some(one()?),
            _ => return None,
        }
    }
    Some(args)
}

/// Reads a table written by codegen.
///
/// # Panics
/// When `json` is not such a table. The macro then fails the build with this message
/// (a proc-macro panic is a compile error), rather than check handlers against an
/// empty table and report that no route exists.
pub fn table_from_json(json: &str) -> Table {
    serde_json::from_str(json).unwrap_or_else(|e| {
        panic!("route-table.json is not a route table codegen wrote ({e}): run `cargo xtask codegen`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            routes: vec![
                RouteEntry {
                    id: "upsert_link".into(),
                    auth: vec!["jwt".into()],
                    scopes: vec![],
                    role: Some("CREATOR".into()),
                    feature: None,
                },
                RouteEntry { id: "move".into(), auth: vec!["none".into()], scopes: vec![], role: None, feature: None },
                RouteEntry {
                    id: "pat_upsert_link".into(),
                    auth: vec!["pat".into()],
                    scopes: vec!["links.write".into()],
                    role: None,
                    feature: Some("growth_tools".into()),
                },
            ],
            modes: vec!["jwt".into(), "pat".into(), "none".into()],
            scopes: vec!["links.read".into(), "links.write".into()],
            roles: vec!["CREATOR".into(), "OPERATOR".into()],
            features: vec!["growth_tools".into()],
        }
    }

    fn messages(attr: TokenStream, item: TokenStream) -> Vec<String> {
        check(&table(), attr, &item).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_matching_annotation_passes() {
        let item = quote!(
            async fn pat_upsert_link(&self) {}
        );
        assert!(messages(quote!(auth = "pat", scope = "links.write", feature = "growth_tools"), item).is_empty());
        let item = quote!(
            fn anything() {}
        );
        assert!(messages(quote!(operation = "upsert_link", auth = "jwt", role = "CREATOR"), item).is_empty());
    }

    #[test]
    fn a_raw_identifier_names_its_route_without_the_prefix() {
        let item = quote!(
            async fn r#move(&self) {}
        );
        assert!(messages(quote!(auth = "none"), item).is_empty());
    }

    #[test]
    fn each_mistake_is_named() {
        let item = quote!(
            async fn pat_upsert_link(&self) {}
        );
        let m = messages(quote!(auth = "jwt", scopes = ["links.read"], feature = "growth_tools"), item.clone());
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[0].contains("the spec says `pat` for `pat_upsert_link`, not `jwt`"));
        assert!(m[1].contains("does not require `links.read`"));
        assert!(m[2].contains("missing scope `links.write`"));
        let m = messages(quote!(auth = "pat", scope = "links.wrte", feture = "x"), item);
        assert!(m.iter().any(|e| e.contains("unknown argument `feture`; did you mean `feature`?")), "{m:?}");
        assert!(m.iter().any(|e| e.contains("unknown scope `links.wrte`; did you mean `links.write`?")), "{m:?}");
        let m = messages(
            quote!(auth = "jwt", role = "CRAETOR"),
            quote!(
                fn upsert_lnk() {}
            ),
        );
        assert_eq!(m, ["no route `upsert_lnk` in the spec; did you mean `upsert_link`?"]);
    }

    #[test]
    fn the_quick_parser_agrees_with_the_full_one() {
        let text = r#"operation = "x", auth = ["jwt", "pat"], scopes = ["a.b", "c.*"], role = "OWNER""#;
        let quick = quick_args(text).expect("quick parse");
        let (full, errors) = parse_args(text.parse().expect("tokens"));
        assert!(errors.is_empty());
        let values = |a: &Args| {
            let list = |g: &Option<(Vec<Given>, Span)>| {
                g.as_ref().map(|(v, _)| v.iter().map(|g| g.value.clone()).collect::<Vec<_>>())
            };
            (
                list(&a.auth),
                list(&a.scopes),
                a.role.as_ref().map(|g| g.value.clone()),
                a.operation.as_ref().map(|g| g.value.clone()),
            )
        };
        assert_eq!(values(&quick), values(&full));
        for odd in [
            r#"auth = jwt"#,
            r#"auth = "a"b""#,
            r#"auth = "a", auth = "b""#,
            r#"scopes = ["a", 5]"#,
            r#"feture = "x""#,
            r#"role = ["A", "B"]"#,
        ] {
            assert!(quick_args(odd).is_none(), "{odd}");
        }
    }

    #[test]
    fn the_item_is_always_re_emitted() {
        let out = expand(
            &table(),
            quote!(auth = 5),
            quote!(
                fn upsert_link() {}
            ),
        )
        .to_string();
        assert!(out.starts_with("fn upsert_link"), "{out}");
        assert!(out.contains("compile_error"));
    }
}
