//! `generated/errors`: the `ErrorCode` enum, its catalogue, the error envelope and the
//! typed details some codes carry.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;
use tenx_spec::{ErrorCategory, ErrorDef, RetryClass, Spec};

use crate::lower::Model;
use crate::rust::{self, Export, doc, ident};
use crate::templates::{CrateInfo, Dep};
use crate::{CodegenError, GeneratedFile, Templates, rust_types, sources};

const DIR: &str = "generated/errors";

/// This crate as a dependency of the other generated crates.
pub(crate) fn dep(spec: &Spec) -> Dep {
    Dep::Generated { name: crate_name(spec), dir: "errors", features: Vec::new() }
}

/// The crate's name: `<api>-errors`.
pub(crate) fn crate_name(spec: &Spec) -> String {
    format!("{}-errors", spec.api.name)
}

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let detail_types = &model.detail_types;
    let header = templates
        .header(&sources(spec, spec.errors.iter().map(|e| &e.loc).chain(detail_types.iter().map(|t| &t.loc))))?;
    let description = format!("Error codes of the {} and the error envelope its responses carry.", spec.api.title);
    let readme = "`ErrorCode` has one variant per catalogue entry and `Unknown` for codes added \
                  later; each knows its wire string, HTTP status, category, retry class, meaning \
                  and fix. `ErrorBody` is the `{\"error\": {\"code\", \"message\", \"statusCode\", …}}` \
                  envelope; `ApiError::details` decodes the typed extra fields of a code.";
    let info = CrateInfo {
        name: crate_name(spec),
        description: &description,
        readme,
        dependencies: vec![Dep::Workspace("tenx-error-model"), Dep::Workspace("serde"), Dep::Workspace("serde_json")],
        proc_macro: false,
        features: Vec::new(),
    };
    let mut files = templates.crate_files(spec, DIR, &header, &info)?;
    files.extend([
        GeneratedFile {
            path: format!("{DIR}/src/lib.rs"),
            contents: rust::crate_root(
                &header,
                &crate_docs(spec, &description),
                if detail_types.is_empty() { &MODULES[..2] } else { MODULES },
            )?,
        },
        GeneratedFile { path: format!("{DIR}/src/codes.rs"), contents: rust::file("errors", &header, codes_rs(spec))? },
        GeneratedFile {
            path: format!("{DIR}/src/envelope.rs"),
            contents: rust::file("errors", &header, envelope_rs(model))?,
        },
    ]);
    // A catalogue whose codes carry no details has no details module.
    if !detail_types.is_empty() {
        files.push(GeneratedFile {
            path: format!("{DIR}/src/details.rs"),
            contents: rust::file("errors", &header, details_rs(detail_types))?,
        });
    }
    Ok(files)
}

fn variant(e: &ErrorDef) -> proc_macro2::Ident {
    ident(&e.code.to_upper_camel_case())
}

fn category_variant(c: ErrorCategory) -> proc_macro2::Ident {
    ident(&c.as_str().to_upper_camel_case())
}

fn retry_variant(r: RetryClass) -> proc_macro2::Ident {
    ident(&r.as_str().to_upper_camel_case())
}

/// The crate's modules: the codes and their catalogue, the error envelope, and the
/// typed details some codes carry (last: left out when no code carries any).
const MODULES: &[(&str, Export)] = &[("codes", Export::Glob), ("envelope", Export::Glob), ("details", Export::Glob)];

fn crate_docs(spec: &Spec, description: &str) -> String {
    format!(
        "{description}\n\nThe catalogue has {} codes. Retry classes follow the spec's retry policy:\n\
         `never` is never retried, `after_header` waits `{}`, `backoff` follows the\n\
         backoff schedule.",
        spec.errors.len(),
        spec.retry.retry_after_header,
    )
}

fn codes_rs(spec: &Spec) -> TokenStream {
    let variants = spec.errors.iter().map(|e| {
        let v = variant(e);
        let docs = doc(&format!("`{}` ({}): {}", e.code, e.status.value, e.meaning));
        quote! { #docs #v, }
    });
    let all = spec.errors.iter().map(variant);
    let from_arms = spec.errors.iter().map(|e| {
        let (v, code) = (variant(e), &e.code);
        quote! { #code => Self::#v, }
    });
    let wire_arms = spec.errors.iter().map(|e| {
        let (v, code) = (variant(e), &e.code);
        quote! { Self::#v => #code, }
    });
    let info_arms = spec.errors.iter().enumerate().map(|(i, e)| {
        let (v, i) = (variant(e), rust::int(i as u64));
        quote! { Self::#v => Some(&CATALOGUE[#i]), }
    });
    let catalogue = spec.errors.iter().map(|e| {
        let (code, status, meaning, fix) = (&e.code, rust::int(e.status.value), &e.meaning, &e.fix);
        let (category, retry) = (category_variant(e.category), retry_variant(e.retry));
        quote! {
            ErrorInfo {
                code: #code,
                status: #status,
                category: ErrorCategory::#category,
                retry: RetryClass::#retry,
                meaning: #meaning,
                fix: #fix,
            },
        }
    });
    let count = rust::int(spec.errors.len() as u64);
    let retry_after = &spec.retry.retry_after_header;
    let retry_after_doc = doc(&format!("The header an `after_header` error carries: `{retry_after}`."));

    quote! {
        //! Error codes, their categories and retry classes, and the catalogue.

        use ::std::borrow::Cow;
        use ::std::fmt;

        /// An error code of the API: one variant per catalogue entry, and `Unknown` for a
        /// code this crate does not know yet (kept verbatim, so a client keeps working when
        /// the server adds codes).
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #(#variants)*
            /// A code missing from this version of the catalogue.
            Unknown(::std::string::String),
        }

        pub use tenx_error_model::{ErrorCategory, ErrorInfo, RetryClass};

        #retry_after_doc
        pub const RETRY_AFTER_HEADER: &str = #retry_after;

        /// Every entry of the catalogue, in spec order.
        pub static CATALOGUE: [ErrorInfo; #count] = [ #(#catalogue)* ];

        impl ErrorCode {
            /// Every known code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[ #(ErrorCode::#all),* ];

            /// The code for a wire string; unknown strings become [`ErrorCode::Unknown`].
            pub fn from_wire(code: &str) -> Self {
                match code {
                    #(#from_arms)*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#wire_arms)*
                    Self::Unknown(code) => code,
                }
            }

            /// The catalogue entry; `None` for an unknown code.
            pub fn info(&self) -> Option<&'static ErrorInfo> {
                match self {
                    #(#info_arms)*
                    Self::Unknown(_) => None,
                }
            }

            /// The HTTP status the catalogue gives the code.
            pub fn status(&self) -> Option<u16> {
                self.info().map(|i| i.status)
            }

            /// The category of the code.
            pub fn category(&self) -> Option<ErrorCategory> {
                self.info().map(|i| i.category)
            }

            /// The retry class of the code.
            pub fn retry_class(&self) -> Option<RetryClass> {
                self.info().map(|i| i.retry)
            }

            /// What the code means.
            pub fn description(&self) -> Option<&'static str> {
                self.info().map(|i| i.meaning)
            }

            /// What the caller should do about it.
            pub fn fix(&self) -> Option<&'static str> {
                self.info().map(|i| i.fix)
            }
        }

        impl fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for ErrorCode {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl ::serde::Serialize for ErrorCode {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// What a server handler answers with: `Failure::new(ErrorCode::NotFound, …)`.
        impl From<ErrorCode> for Cow<'static, str> {
            fn from(code: ErrorCode) -> Self {
                match code.info() {
                    Some(info) => Cow::Borrowed(info.code),
                    None => Cow::Owned(code.as_str().to_owned()),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for ErrorCode {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::from_wire(&code))
            }
        }
    }
}

fn envelope_rs(model: &Model<'_>) -> TokenStream {
    let with_details = &model.detailed_errors;
    let detail_variants = with_details.iter().map(|(e, ty)| {
        let (v, ty) = (variant(e), ident(ty));
        let docs = doc(&format!("The details of `{}`.", e.code));
        quote! { #docs #v(#ty), }
    });
    let detail_arms = with_details.iter().map(|(e, _)| {
        let v = variant(e);
        quote! { ErrorCode::#v => ErrorDetails::#v(::serde_json::from_value(extra)?), }
    });
    let mut detail_types: Vec<&str> = with_details.iter().map(|(_, ty)| *ty).collect();
    detail_types.sort_unstable();
    detail_types.dedup();
    let imports = (!detail_types.is_empty()).then(|| {
        let types = detail_types.iter().map(|t| ident(t));
        quote! { use crate::details::{#(#types),*}; }
    });
    let decode = if with_details.is_empty() {
        quote! {
            let _ = (code, extra);
            Ok(ErrorDetails::None)
        }
    } else {
        quote! {
            let extra = ::serde_json::Value::Object(extra.clone());
            Ok(match code {
                #(#detail_arms)*
                _ => ErrorDetails::None,
            })
        }
    };

    quote! {
        //! The envelope of every error response, and the typed details of some codes.

        use ::std::fmt;

        use crate::codes::ErrorCode;
        #imports

        /// The body of every error response: `{"error": {...}}`.
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        pub struct ErrorBody {
            /// The error.
            pub error: ApiError,
        }

        /// An error as the API sends it: code, message, status, and any extra fields.
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        pub struct ApiError {
            /// The error code.
            pub code: ErrorCode,
            /// A human-readable message.
            pub message: ::std::string::String,
            /// The HTTP status, repeated in the body.
            #[serde(rename = "statusCode")]
            pub status_code: u16,
            /// Extra fields beside `code`, `message` and `statusCode` (see [`ApiError::details`]).
            #[serde(flatten)]
            pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        }

        impl ApiError {
            /// An error with the catalogue's status for `code` (500 for an unknown code)
            /// and no extra fields.
            pub fn new(code: ErrorCode, message: impl Into<::std::string::String>) -> Self {
                let status_code = code.status().unwrap_or(500);
                Self { code, message: message.into(), status_code, extra: ::serde_json::Map::new() }
            }

            /// The extra fields decoded as the typed details of the code.
            pub fn details(&self) -> Result<ErrorDetails, ::serde_json::Error> {
                ErrorDetails::decode(&self.code, &self.extra)
            }
        }

        impl fmt::Display for ApiError {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} ({}): {}", self.code, self.status_code, self.message)
            }
        }

        impl ::std::error::Error for ApiError {}

        /// The typed extra fields of the codes that carry some.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum ErrorDetails {
            #(#detail_variants)*
            /// The code carries no typed details.
            None,
        }

        impl ErrorDetails {
            /// The typed details of `code`, from the extra fields of its error body.
            pub fn decode(
                code: &ErrorCode,
                extra: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
            ) -> Result<Self, ::serde_json::Error> {
                #decode
            }
        }
    }
}

fn details_rs(detail_types: &[&tenx_spec::TypeDef]) -> TokenStream {
    let types = rust_types::items(detail_types, rust_types::both_directions);
    quote! {
        //! Typed extra fields that some error codes carry beside `code` and `message`.

        #types
    }
}
