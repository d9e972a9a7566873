//! `generated/models`: the request, response and parameter types of the routes, shared by
//! the generated client and server so both ends agree on the wire by construction.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use tenx_spec::{Field, Spec};

use crate::lower::{Model, Payload, RouteModel, Sides};
use crate::rust::{self, Export, doc, ident};
use crate::templates::{CrateInfo, Dep};
use crate::{CodegenError, GeneratedFile, Templates, rust_types, sources};

const DIR: &str = "generated/models";

/// This crate as a dependency of the other generated crates, with the serde directions
/// `side` (`client` or `server`) needs.
pub(crate) fn dep(spec: &Spec, side: &'static str) -> Dep {
    Dep::Generated { name: crate_name(spec), dir: "models", features: vec![side] }
}

/// The serde derives of a type, each behind the features that need it: a client writes
/// requests and reads answers, a server the reverse, so a dependent of the client alone
/// compiles half the derives of a one-way type. With neither feature (or both) a type
/// gets both directions.
fn serde_derives(sides: Sides) -> TokenStream {
    let client = quote!(any(feature = "client", not(feature = "server")));
    let server = quote!(any(feature = "server", not(feature = "client")));
    match (sides.request, sides.answer) {
        (true, false) => quote! {
            #[cfg_attr(#client, derive(::serde::Serialize))]
            #[cfg_attr(#server, derive(::serde::Deserialize))]
        },
        (false, true) => quote! {
            #[cfg_attr(#server, derive(::serde::Serialize))]
            #[cfg_attr(#client, derive(::serde::Deserialize))]
        },
        _ => quote!(#[derive(::serde::Serialize, ::serde::Deserialize)]),
    }
}

/// The crate's name: `<api>-models`.
pub(crate) fn crate_name(spec: &Spec) -> String {
    format!("{}-models", spec.api.name)
}

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let types = &model.types;
    let header =
        templates.header(&sources(spec, types.iter().map(|t| &t.loc).chain(spec.families.iter().map(|f| &f.loc))))?;
    let description = format!("Request, response and parameter types of the {} routes.", spec.api.title);
    let readme = "Shared by the generated client and server: `types` holds the spec's named types, \
                  `routes` each route's query parameters and, for routes with several success \
                  statuses, the outcome enum that says which one answered.";
    let docs = format!("{description}\n\nField names are snake_case in Rust and camelCase on the wire.");
    let items = rust_types::items(types, |t| serde_derives(model.sides(&t.name)));
    let types_rs = quote! {
        //! The spec's named types used by routes.

        #items
    };
    // Routes whose query parameters are the same share one struct (the first route's,
    // decided in the lowered model); the others get an alias, so every route keeps its
    // own type name and the crate derives serde once per distinct query.
    let query_serde = serde_derives(Sides { request: true, answer: false });
    let support: Vec<TokenStream> = model.routes.iter().map(|r| route_support(r, &query_serde)).collect();
    let routes_rs = quote! {
        //! Per-route query parameters and typed outcomes.

        #[allow(unused_imports)]
        use crate::types::*;

        #(#support)*
    };
    let info = CrateInfo {
        name: crate_name(spec),
        description: &description,
        readme,
        dependencies: vec![Dep::Workspace("serde"), Dep::Workspace("serde_json")],
        proc_macro: false,
        features: vec![
            (
                "client",
                "Serialize requests, deserialize answers (what a client does); with `server` or neither, both ways.",
            ),
            ("server", "Deserialize requests, serialize answers (what a server does)."),
        ],
    };
    let mut files = templates.crate_files(spec, DIR, &header, &info)?;
    files.extend([
        GeneratedFile {
            path: format!("{DIR}/src/lib.rs"),
            contents: rust::crate_root(&header, &docs, &[("types", Export::Glob), ("routes", Export::Glob)])?,
        },
        GeneratedFile { path: format!("{DIR}/src/types.rs"), contents: rust::file("models", &header, types_rs)? },
        GeneratedFile { path: format!("{DIR}/src/routes.rs"), contents: rust::file("models", &header, routes_rs)? },
    ]);
    Ok(files)
}

/// The query struct and the outcome enum a route needs, if any.
fn route_support(lowered: &RouteModel<'_>, serde: &TokenStream) -> TokenStream {
    let route = lowered.route;
    let query = lowered.query.as_ref().map(|q| {
        let ty = format_ident!("{}", q.name);
        if let Some(shared) = &q.same_as {
            let shared = format_ident!("{shared}");
            let docs =
                rust::doc_markdown(&format!("Query parameters of `{}` (the same as [`{shared}`]).", route.id.value));
            return quote! { #docs pub type #ty = #shared; };
        }
        let docs = doc(&format!("Query parameters of `{}`.", route.id.value));
        let fields = query_fields(&route.query);
        quote! {
            #docs
            #[derive(Debug, Clone, Default, PartialEq)]
            #serde
            pub struct #ty {
                #(#fields)*
            }
        }
    });
    let outcome = lowered.outcome.as_ref().map(|outcome| {
        let ty = format_ident!("{}", outcome.name);
        let body = body_type(lowered.answer);
        let variants = outcome.variants.iter().map(|s| {
            let v = ident(&s.rust);
            let docs = doc(&format!("{} {}.", s.status, s.wire));
            quote! { #docs #v(#body), }
        });
        let docs = doc(&format!("What `{}` did, by its success status.", route.id.value));
        quote! {
            #docs
            #[derive(Debug, Clone, PartialEq)]
            pub enum #ty {
                #(#variants)*
            }
        }
    });
    quote! { #query #outcome }
}

fn query_fields(fields: &[Field]) -> impl Iterator<Item = TokenStream> {
    fields.iter().zip(tenx_spec::rust_field_names(fields)).map(|(f, n)| query_field(f, &n))
}

fn query_field(f: &Field, rust_name: &str) -> TokenStream {
    let name = ident(rust_name);
    let wire = &f.name;
    let rename = (rust_name != *wire).then(|| quote!(#[serde(rename = #wire)]));
    let docs = doc(if f.description.is_empty() { wire } else { &f.description });
    let ty = rust_types::rust_type(&f.ty.value);
    if f.optional {
        quote! { #docs #rename #[serde(default, skip_serializing_if = "Option::is_none")] pub #name: Option<#ty>, }
    } else {
        quote! { #docs #rename pub #name: #ty, }
    }
}

/// The Rust type of a body.
pub(crate) fn body_type(payload: Payload<'_>) -> TokenStream {
    match payload {
        Payload::None => quote!(()),
        Payload::Json { free_form: true, .. } => quote!(::serde_json::Value),
        Payload::Json { ty, .. } => rust_types::rust_type(ty),
        Payload::Text => quote!(::std::string::String),
        Payload::Binary => quote!(::std::vec::Vec<u8>),
    }
}
