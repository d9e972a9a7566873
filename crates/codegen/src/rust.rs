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
/// root is printed like every module; its shape (blank lines between the declarations)
/// is also the one rustfmt keeps.
pub(crate) fn crate_root(header: &str, docs: &str, modules: &[(&str, Export)]) -> Result<String, CodegenError> {
    let docs = docs.trim().lines().map(|l| if l.is_empty() { String::new() } else { format!(" {l}") });
    let modules = modules.iter().map(|&(module, export)| {
        let name = ident(module);
        match export {
            Export::Module => quote! { #[rustfmt::skip] pub mod #name; },
            Export::Glob => quote! { #[rustfmt::skip] mod #name; pub use #name::*; },
        }
    });
    file("crate root", header, quote! { #( #![doc = #docs] )* #(#modules)* })
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
    let mut parsed: syn::File =
        syn::parse2(tokens).map_err(|e| CodegenError::InvalidRust { artifact, message: e.to_string() })?;
    let after_inner = !parsed.attrs.is_empty();
    mark_items(&mut parsed.items, after_inner);
    let mut out = comment_header(header);
    for line in prettyplease::unparse(&parsed).lines() {
        if line.trim_start().strip_prefix("///") != Some(BLANK_LINE) {
            out.push_str(line);
        }
        out.push('\n');
    }
    Ok(out)
}

/// prettyplease prints items back to back. A blank line goes before every item of a
/// module, impl or trait but the first, except inside a run of undocumented `use`s of
/// one visibility (`mod x;` and the `use` right after it count as such a run), as
/// rustfmt's users write them. The syntax tree says where items
/// start: each such item gets a first doc line of this text, which `file` prints empty.
const BLANK_LINE: &str = "\u{1}blank";

fn mark(attrs: Option<&mut Vec<syn::Attribute>>) {
    let Some(attrs) = attrs else { return };
    // Built, not parsed: a big spec has tens of thousands of items.
    let text = syn::LitStr::new(BLANK_LINE, Span::call_site());
    let value = syn::Expr::Lit(syn::ExprLit { attrs: Vec::new(), lit: syn::Lit::Str(text) });
    let meta =
        syn::MetaNameValue { path: Ident::new("doc", Span::call_site()).into(), eq_token: Default::default(), value };
    let attr = syn::Attribute {
        pound_token: Default::default(),
        style: syn::AttrStyle::Outer,
        bracket_token: Default::default(),
        meta: syn::Meta::NameValue(meta),
    };
    attrs.insert(0, attr);
}

/// What an item is to the blank-line rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    /// An undocumented `use`.
    Use { public: bool },
    /// `mod x;`: a `use` right after it stays with it.
    ModDeclaration,
    /// Anything else.
    Other,
}

/// Marks `items` (and, inside them, the members of impls, traits and inline modules).
fn mark_items(items: &mut [syn::Item], mut blank_before_first: bool) {
    let mut previous = Run::Other;
    for item in items {
        let this = match item {
            syn::Item::Use(u) if u.attrs.is_empty() => {
                Run::Use { public: !matches!(u.vis, syn::Visibility::Inherited) }
            }
            syn::Item::Mod(m) if m.content.is_none() => Run::ModDeclaration,
            _ => Run::Other,
        };
        let joins = matches!(this, Run::Use { .. }) && (this == previous || previous == Run::ModDeclaration);
        let attrs = match item {
            syn::Item::Const(i) => Some(&mut i.attrs),
            syn::Item::Enum(i) => Some(&mut i.attrs),
            syn::Item::ExternCrate(i) => Some(&mut i.attrs),
            syn::Item::Fn(i) => Some(&mut i.attrs),
            syn::Item::ForeignMod(i) => Some(&mut i.attrs),
            syn::Item::Impl(i) => {
                mark_members(i.items.iter_mut().map(|m| match m {
                    syn::ImplItem::Const(m) => Some(&mut m.attrs),
                    syn::ImplItem::Fn(m) => Some(&mut m.attrs),
                    syn::ImplItem::Type(m) => Some(&mut m.attrs),
                    syn::ImplItem::Macro(m) => Some(&mut m.attrs),
                    _ => None,
                }));
                Some(&mut i.attrs)
            }
            syn::Item::Macro(i) => Some(&mut i.attrs),
            syn::Item::Mod(i) => {
                if let Some((_, content)) = &mut i.content {
                    mark_items(content, false);
                }
                Some(&mut i.attrs)
            }
            syn::Item::Static(i) => Some(&mut i.attrs),
            syn::Item::Struct(i) => Some(&mut i.attrs),
            syn::Item::Trait(i) => {
                mark_members(i.items.iter_mut().map(|m| match m {
                    syn::TraitItem::Const(m) => Some(&mut m.attrs),
                    syn::TraitItem::Fn(m) => Some(&mut m.attrs),
                    syn::TraitItem::Type(m) => Some(&mut m.attrs),
                    syn::TraitItem::Macro(m) => Some(&mut m.attrs),
                    _ => None,
                }));
                Some(&mut i.attrs)
            }
            syn::Item::TraitAlias(i) => Some(&mut i.attrs),
            syn::Item::Type(i) => Some(&mut i.attrs),
            syn::Item::Union(i) => Some(&mut i.attrs),
            syn::Item::Use(i) => Some(&mut i.attrs),
            _ => None,
        };
        if blank_before_first && !joins {
            mark(attrs);
        }
        blank_before_first = true;
        previous = this;
    }
}

/// Marks every member of an impl or trait but the first.
fn mark_members<'a>(members: impl Iterator<Item = Option<&'a mut Vec<syn::Attribute>>>) {
    for attrs in members.skip(1) {
        mark(attrs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_separated_by_one_blank_line_members_too() {
        let tokens = quote! {
            //! Docs.
            use a::b;
            use c::d;
            pub use e::f;
            pub use g::h;
            /// Documented.
            pub use i::j;
            /// A trait.
            pub trait T {
                /// One.
                fn one(&self);
                fn two(&self) -> u8;
            }
            impl T for S {
                fn one(&self) {}
                /// Two.
                fn two(&self) -> u8 {
                    let x = 1;
                    x
                }
            }
            pub struct S {
                a: u8,
                b: u8,
            }
        };
        let text = file("test", "header", tokens).expect("valid Rust");
        let expected = "// header\n\n//! Docs.\n\nuse a::b;\nuse c::d;\n\npub use e::f;\npub use g::h;\n\n/// Documented.\npub use i::j;\n\n/// A trait.\npub trait T {\n    /// One.\n    fn one(&self);\n\n    fn two(&self) -> u8;\n}\n\nimpl T for S {\n    fn one(&self) {}\n\n    /// Two.\n    fn two(&self) -> u8 {\n        let x = 1;\n        x\n    }\n}\n\npub struct S {\n    a: u8,\n    b: u8,\n}\n";
        assert_eq!(text, expected, "{text}");
    }

    #[test]
    fn spec_prose_is_escaped_outside_code_spans() {
        assert_eq!(
            escape_markdown("Maps /v2/public/* and `a*b` to <b>[x]</b>, keeps `<tokenId>`."),
            "Maps /v2/public/\\* and `a*b` to &lt;b&gt;\\[x\\]&lt;/b&gt;, keeps `<tokenId>`."
        );
        assert_eq!(escape_markdown("*/ emphasis? /*"), "\\*/ emphasis? /\\*");
    }
}
