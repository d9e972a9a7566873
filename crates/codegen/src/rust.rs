//! Helpers for emitting Rust: identifiers, doc attributes, and formatting a token stream
//! into a file with its header.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::CodegenError;

/// An identifier, raw (`r#type`) when the name is a keyword.
pub(crate) fn ident(name: &str) -> Ident {
    if syn::parse_str::<Ident>(name).is_ok() {
        Ident::new(name, Span::call_site())
    } else {
        Ident::new_raw(name, Span::call_site())
    }
}

/// An integer literal without a type suffix (`401`, not `401u16`).
pub(crate) fn int(n: impl Into<u64>) -> proc_macro2::Literal {
    proc_macro2::Literal::u64_unsuffixed(n.into())
}

/// `#[doc = " …"]` lines for a description (one attribute per line, so prettyplease
/// prints them as `///` comments). Spec text is prose with code spans: outside the code
/// spans, `*`, `<`, `>`, `[` and `]` are escaped, so `/v2/public/*` stays text, `<b>` is
/// not HTML and `[x]` is not a broken link.
pub(crate) fn doc(text: &str) -> TokenStream {
    doc_markdown(&escape_markdown(text))
}

/// `#[doc]` lines of Markdown written by the generator itself (links, lists), unescaped.
pub(crate) fn doc_markdown(text: &str) -> TokenStream {
    let lines = text.trim().lines().map(|l| format!(" {}", l.trim_end()));
    quote! { #( #[doc = #lines] )* }
}

/// Escapes what rustdoc would read as emphasis, HTML or links, outside code spans.
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '*' | '[' | ']' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// How a generated crate's root exposes a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Export {
    /// Private, its items re-exported (`mod x; pub use x::*;`).
    Glob,
    /// Public by path (`pub mod x;`).
    Module,
}

/// The root of a generated crate: the header, the crate docs, and one module per part.
///
/// Modules are declared `#[rustfmt::skip]`: they are formatted by prettyplease, and
/// `cargo fmt` must neither rewrite them nor fight `cargo xtask codegen --check`. The
/// root itself is written in the shape rustfmt leaves unchanged.
pub(crate) fn crate_root(header: &str, docs: &str, modules: &[(&str, Export)]) -> String {
    let mut out = comment_header(header);
    for line in docs.trim().lines() {
        out.push_str(if line.is_empty() { "//!" } else { "//! " });
        out.push_str(line);
        out.push('\n');
    }
    for (module, export) in modules {
        let vis = if *export == Export::Module { "pub " } else { "" };
        out.push_str(&format!("\n#[rustfmt::skip]\n{vis}mod {module};\n"));
        if *export == Export::Glob {
            out.push_str(&format!("pub use {module}::*;\n"));
        }
    }
    out
}

fn comment_header(header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("// ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Formats a generated module: the header as `//` comments, then the code.
pub(crate) fn file(artifact: &'static str, header: &str, tokens: TokenStream) -> Result<String, CodegenError> {
    let parsed: syn::File =
        syn::parse2(tokens).map_err(|e| CodegenError::InvalidRust { artifact, message: e.to_string() })?;
    let mut out = comment_header(header);
    out.push_str(&separate_items(&prettyplease::unparse(&parsed)));
    Ok(out)
}

/// prettyplease puts items back to back; a blank line after each item that ends (a
/// closing brace or a semicolon) at module or impl level makes the file readable.
fn separate_items(code: &str) -> String {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut out = String::with_capacity(code.len() + code.len() / 20);
    let mut previous: Option<&str> = None;
    for line in code.lines() {
        if let Some(prev) = previous.filter(|_| !line.is_empty()) {
            let level = indent(line);
            let item_level = level <= 4 && level == indent(prev);
            let closes = line.trim_start().starts_with(['}', ')', ']']);
            let prev_ended = prev.ends_with('}') || prev.ends_with(';');
            let imports = prev.starts_with("use ") && line.starts_with("use ");
            // A `;` ends a field or a statement, except after a multi-line signature.
            let signature = prev.trim_start().starts_with(')') || prev.trim_start().starts_with("fn ");
            let fields = level > 0 && prev.ends_with(';') && !signature && !prev.trim_start().starts_with("type ");
            let after_crate_docs = prev.starts_with("//!") && !line.starts_with("//!");
            if (item_level && prev_ended && !closes && !imports && !fields) || after_crate_docs {
                out.push('\n');
            }
        }
        previous = Some(line);
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_prose_is_escaped_outside_code_spans() {
        assert_eq!(
            escape_markdown("Maps /v2/public/* and `a*b` to <b>[x]</b>, keeps `<tokenId>`."),
            "Maps /v2/public/\\* and `a*b` to &lt;b&gt;\\[x\\]&lt;/b&gt;, keeps `<tokenId>`."
        );
        assert_eq!(escape_markdown("*/ emphasis? /*"), "\\*/ emphasis? /\\*");
    }
}
