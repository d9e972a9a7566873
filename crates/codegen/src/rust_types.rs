//! Rust types for the spec's named types: structs with serde renames for objects, enums
//! for string enums, `serde_json::Value` for free-form bodies.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;
use tenx_spec::{Field, Spec, TypeDef, TypeKind, TypeRef};

use crate::rust::{doc, ident};

/// The named types reachable from `roots` (themselves included), in spec order.
pub(crate) fn closure<'s>(spec: &'s Spec, roots: &[&str]) -> Vec<&'s TypeDef> {
    let mut wanted: Vec<&str> = roots.to_vec();
    let mut i = 0;
    while let Some(name) = wanted.get(i).copied() {
        i += 1;
        if let Some(TypeDef { kind: TypeKind::Object(fields), .. }) = spec.type_def(name) {
            for f in fields {
                if let Some(inner) = f.ty.value.named() {
                    if !wanted.contains(&inner) {
                        wanted.push(inner);
                    }
                }
            }
        }
    }
    spec.types.iter().filter(|t| wanted.contains(&t.name.as_str())).collect()
}

/// The Rust type of a type expression.
pub(crate) fn rust_type(ty: &TypeRef) -> TokenStream {
    match ty {
        TypeRef::String => quote!(::std::string::String),
        TypeRef::Integer => quote!(i64),
        TypeRef::Number => quote!(f64),
        TypeRef::Boolean => quote!(bool),
        TypeRef::Json => quote!(::serde_json::Value),
        TypeRef::Text => quote!(::std::string::String),
        TypeRef::Binary => quote!(::std::vec::Vec<u8>),
        TypeRef::List(inner) => {
            let inner = rust_type(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        TypeRef::Map(inner) => {
            let inner = rust_type(inner);
            quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
        }
        TypeRef::Named(name) => {
            let name = ident(name);
            quote!(#name)
        }
    }
}

/// Items for `types`.
///
/// `serde` gives each type's serde derive attributes: both directions, or each behind the
/// crate feature that needs it (see `models_crate::serde_derives`).
pub(crate) fn items(types: &[&TypeDef], serde: impl Fn(&TypeDef) -> TokenStream) -> TokenStream {
    let items = types.iter().map(|t| type_item(t, serde(t)));
    quote! { #(#items)* }
}

/// Both serde derives, unconditionally.
pub(crate) fn both_directions(_: &TypeDef) -> TokenStream {
    quote!(#[derive(::serde::Serialize, ::serde::Deserialize)])
}

fn describe(t: &TypeDef) -> String {
    if t.description.is_empty() { format!("The `{}` type of the spec.", t.name) } else { t.description.clone() }
}

fn type_item(t: &TypeDef, serde: TokenStream) -> TokenStream {
    let name = ident(&t.name);
    let docs = doc(&describe(t));
    match &t.kind {
        TypeKind::Object(fields) if fields.iter().any(|f| f.secret) => {
            // Secret fields print as `[redacted]`: a hand-shaped Debug instead of the derive.
            let names = tenx_spec::rust_field_names(fields);
            let debug_fields = fields.iter().zip(&names).map(|(f, rust_name)| {
                let (name, label) = (ident(rust_name), rust_name);
                if f.secret {
                    quote! { .field(#label, &"[redacted]") }
                } else {
                    quote! { .field(#label, &self.#name) }
                }
            });
            let label = &t.name;
            let fields = fields.iter().zip(tenx_spec::rust_field_names(fields)).map(|(f, n)| field(f, &n));
            quote! {
                #docs
                #[derive(Clone, PartialEq)]
                #serde
                pub struct #name {
                    #(#fields)*
                }

                impl ::std::fmt::Debug for #name {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.debug_struct(#label) #(#debug_fields)* .finish()
                    }
                }
            }
        }
        TypeKind::Object(fields) => {
            let fields = fields.iter().zip(tenx_spec::rust_field_names(fields)).map(|(f, n)| field(f, &n));
            quote! {
                #docs
                #[derive(Debug, Clone, PartialEq)]
                #serde
                pub struct #name {
                    #(#fields)*
                }
            }
        }
        TypeKind::Enum(values) => {
            let variants = values.iter().map(|v| {
                let variant = ident(&v.name.to_upper_camel_case());
                let wire = &v.name;
                let text = if v.description.is_empty() { format!("`{wire}`.") } else { v.description.clone() };
                let docs = doc(&text);
                quote! { #docs #[serde(rename = #wire)] #variant, }
            });
            quote! {
                #docs
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
                #serde
                pub enum #name {
                    #(#variants)*
                }
            }
        }
        TypeKind::Json => quote! {
            #docs
            pub type #name = ::serde_json::Value;
        },
        // The checks run on the server (and are documented there); in Rust it is its
        // primitive, so callers pass a plain `String`.
        TypeKind::Scalar(scalar) => {
            let base = rust_type(&scalar.base.value);
            quote! {
                #docs
                pub type #name = #base;
            }
        }
    }
}

fn field(f: &Field, rust_name: &str) -> TokenStream {
    let name = ident(rust_name);
    let wire = &f.name;
    let rename = (rust_name != *wire).then(|| quote!(#[serde(rename = #wire)]));
    let text = if f.description.is_empty() { format!("`{wire}`.") } else { f.description.clone() };
    let docs = doc(&text);
    let inner = rust_type(&f.ty.value);
    if f.optional || f.nullable {
        quote! {
            #docs
            #rename
            #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
            pub #name: ::std::option::Option<#inner>,
        }
    } else {
        quote! { #docs #rename pub #name: #inner, }
    }
}
