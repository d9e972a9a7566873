//! `generated/client`: one async method per route on the client type of its auth mode,
//! typed path, query, body and answer, rustdoc from the spec. The request pipeline is
//! `tenx-client-runtime`; each method only describes its call.

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use tenx_spec::{AuthKind, Family, IdempotencyCarrier, PatMode, Spec, Transport, TypeRef};

use crate::lower::{Model, Payload, RouteModel, Segment, rust_param_name};
use crate::rust::{self, Export, doc, ident};
use crate::templates::{CrateInfo, Dep};
use crate::{CodegenError, GeneratedFile, Templates, errors_crate, models_crate, rust_types, sources};

const DIR: &str = "generated/client";

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let header = templates.header(&sources(
        spec,
        std::iter::once(&spec.api.loc)
            .chain(spec.auth_modes.iter().map(|m| &m.loc))
            .chain(spec.families.iter().map(|f| &f.loc))
            .chain(model.types.iter().map(|t| &t.loc)),
    ))?;
    let name = format!("{}-client", spec.api.name);
    let description =
        format!("A typed async client of the {}, with its auth, retry and idempotency rules.", spec.api.title);
    let readme = format!(
        "Start from `Client::new(base_url)`; `sign_in`, `with_jwt`, `with_pat` and \
         `with_visitor_cookie` give the clients of the other auth modes, each with exactly \
         the routes its credential may call. Retries follow the spec's policy \
         (`retry_policy()`), overridable per client (`Config`) and per client handle (`with_options`).\n\n\
         Everything a caller names comes from this crate: the clients, the models, `Error`, \
         `ErrorCode`, `Response`, `CallOptions`, `Hook`, `Session`.\n\n{}",
        examples(model)
    );
    // Family modules hold only `impl` blocks and a page listing their methods; the types
    // come from the models crate.
    let mut modules = vec![("clients", Export::Glob), ("models", Export::Glob)];
    modules.extend(spec.families.iter().map(|f| (f.name.as_str(), Export::Module)));
    let models_crate = ident(&models_crate::crate_name(spec).replace('-', "_"));
    let models_rs = quote! {
        //! The request, response and parameter types, from the models crate.

        pub use #models_crate::*;
    };
    let info = CrateInfo {
        name,
        description: &description,
        readme: &readme,
        dependencies: vec![
            Dep::Workspace("tenx-client-runtime"),
            errors_crate::dep(spec),
            models_crate::dep(spec, "client"),
            Dep::Workspace("serde"),
            Dep::Workspace("serde_json"),
        ],
        proc_macro: false,
        features: Vec::new(),
    };
    let mut files = templates.crate_files(spec, DIR, &header, &info)?;
    files.extend([
        GeneratedFile {
            path: format!("{DIR}/src/lib.rs"),
            contents: rust::crate_root(&header, &crate_docs(spec, &description, &examples(model)), &modules)?,
        },
        GeneratedFile {
            path: format!("{DIR}/src/clients.rs"),
            contents: rust::file("client", &header, clients_rs(model))?,
        },
        GeneratedFile { path: format!("{DIR}/src/models.rs"), contents: rust::file("client", &header, models_rs)? },
    ]);
    for family in &spec.families {
        files.push(GeneratedFile {
            path: format!("{DIR}/src/{}.rs", family.name),
            contents: rust::file("client", &header, family_rs(model, family))?,
        });
    }
    Ok(files)
}

/// Which client type calls which routes, for the modes the spec has.
fn clients_sentence(spec: &Spec) -> String {
    let mut parts = vec!["[`Client`] calls the routes that need no credential".to_owned()];
    if spec.auth_mode(AuthKind::Jwt).is_some() {
        parts.push("[`JwtClient`] the JWT routes".to_owned());
    }
    if let Some(pat) = spec.pat_mode() {
        parts.push(format!("[`PatClient`] the PAT routes of the one `{}` its token is bound to", pat.bound_to));
    }
    if spec.auth_mode(AuthKind::VisitorCookie).is_some() {
        parts.push("[`VisitorClient`] the visitor-cookie routes".to_owned());
    }
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}, and {last}", rest.join(", ")),
        _ => parts.concat(),
    }
}

fn crate_docs(spec: &Spec, description: &str, examples: &str) -> String {
    format!(
        "{description}\n\n\
         Auth is in the types: {}. Calling a route with the wrong\n\
         credential does not compile. Each family module lists its routes.\n\n\
         Errors are [`Error`]; API errors carry the [`ErrorCode`] of the catalogue\n\
         ({} codes). The crate has {} routes in {} families.\n\n{examples}",
        clients_sentence(spec),
        spec.errors.len(),
        spec.routes().count(),
        spec.families.len(),
    )
}

/// A worked example per auth mode the spec has, on a route of that mode that takes no
/// body or query (so it shows the client, not a request type).
fn examples(model: &Model<'_>) -> String {
    let spec = model.spec;
    let krate = format!("{}_client", spec.api.name);
    let simple = |kind: AuthKind| {
        // No argument at all on the client of `kind` (the PAT client fills its binding).
        let fits = |r: &&RouteModel<'_>| {
            r.kinds.contains(&kind)
                && r.route.request.is_none()
                && r.route.query.is_empty()
                && r.path_args(kind).next().is_none()
        };
        // A read shows the client best; any route of the mode will do.
        let mut fitting = model.routes.iter().filter(fits);
        let first = fitting.clone().next();
        fitting.find(|r| r.route.method == tenx_spec::Method::Get).or(first).map(|r| r.route)
    };
    let block = |title: &str, setup: &str, call: &str| {
        format!(
            "{title}\n\n```rust,no_run\nasync fn example() -> Result<(), Box<dyn std::error::Error>> {{\n    \
             let client = {krate}::Client::new({krate}::BASE_URL)?;\n{setup}    match {call}.await {{\n        \
             Ok(answer) => println!(\"{{}} {{:?}}\", answer.status, answer.body),\n        \
             Err(e) => eprintln!(\"{{e}} (code {{:?}}, request id {{:?}})\", e.code(), e.request_id()),\n    }}\n    \
             Ok(())\n}}\n```\n"
        )
    };
    let mut out = vec!["## Examples\n".to_owned()];
    if let Some(r) = simple(AuthKind::None) {
        out.push(block("A route that needs no credential:", "", &format!("client.{}()", r.id.value)));
    }
    if let Some(r) = simple(AuthKind::Jwt) {
        let login = model.session.as_ref().map(|s| model.login(s).route);
        // A struct literal when every required field takes a string (a client writes
        // requests; it need not read them back from JSON).
        let body = login.and_then(|l| l.request.as_ref()).and_then(|t| t.value.named()).and_then(|n| spec.type_def(n));
        let literal = body.and_then(|t| match &t.kind {
            tenx_spec::TypeKind::Object(fields) => {
                let values: Option<Vec<String>> = fields
                    .iter()
                    .zip(tenx_spec::rust_field_names(fields))
                    .map(|(f, name)| match spec.wire_type(&f.ty.value) {
                        _ if f.optional || f.nullable => Some(format!("{name}: None")),
                        TypeRef::String => Some(format!("{name}: \"…\".into()")),
                        _ => None,
                    })
                    .collect();
                values.map(|v| format!("{krate}::{} {{ {} }}", t.name, v.join(", ")))
            }
            _ => None,
        });
        let setup = match literal {
            Some(literal) => format!(
                "    // Signs in: the client keeps the access token and the refresh cookie.\n    \
                 let user = client.sign_in(&{literal}).await?;\n"
            ),
            None => "    let user = client.with_jwt(\"<access token>\");\n".to_owned(),
        };
        out.push(block("A signed-in user's route:", &setup, &format!("user.{}()", r.id.value)));
    }
    if let Some(r) = simple(AuthKind::Pat) {
        let display = spec
            .auth_mode(AuthKind::Pat)
            .and_then(|m| m.token_format.as_ref())
            .map_or("<token>".to_owned(), |f| f.display.clone());
        let setup = format!(
            "    // The token is checked for its format here, before anything is sent.\n    \
             let bot = client.with_pat(\"{display}\", \"acme\")?;\n"
        );
        out.push(block("A route of the PAT's own subject:", &setup, &format!("bot.{}()", r.id.value)));
    }
    if let Some(r) = simple(AuthKind::VisitorCookie) {
        let setup = "    let visitor = client.with_visitor_cookie(\"<session cookie>\");\n";
        out.push(block("A visitor's route:", setup, &format!("visitor.{}()", r.id.value)));
    }
    out.join("\n")
}

fn transport_tokens(model: &Model<'_>, kind: AuthKind) -> TokenStream {
    match model.transport(kind) {
        Transport::Header { name, scheme } => {
            let scheme = match scheme {
                Some(s) => quote!(Some(#s)),
                None => quote!(None),
            };
            quote!(tenx_client_runtime::Transport::Header { name: #name, scheme: #scheme })
        }
        Transport::Cookie { name } => quote!(tenx_client_runtime::Transport::Cookie { name: #name }),
    }
}

fn clients_rs(model: &Model<'_>) -> TokenStream {
    let spec = model.spec;
    let r = &spec.retry;
    let statuses = |list: &[u16]| {
        let list = list.iter().map(|&s| rust::int(s));
        quote!(vec![#(#list),*])
    };
    let (after, backoff_statuses, never) =
        (statuses(&r.after_header_statuses), statuses(&r.backoff_statuses), statuses(&r.never_statuses));
    // Whole milliseconds (the validator's rule), as whole seconds where they are.
    let backoff = r.backoff_seconds.iter().map(|&s| {
        let millis = (s * 1000.0).round() as u64;
        if millis % 1000 == 0 {
            let secs = rust::int(millis / 1000);
            quote!(Duration::from_secs(#secs))
        } else {
            let millis = rust::int(millis);
            quote!(Duration::from_millis(#millis))
        }
    });
    let jitter = if r.jitter > 0.0 {
        let fraction = r.jitter;
        quote!(Jitter::Proportional(#fraction))
    } else {
        quote!(Jitter::None)
    };
    let max_attempts = rust::int(r.max_attempts.value);
    let max_wait = rust::int(r.max_retry_after_seconds);
    let retry_transport = r.retry_transport_errors;
    let safe = r.safe_methods.iter().map(|m| ident(m.as_str()));
    let base_url = &spec.api.base_url;
    let errors_crate = ident(&errors_crate::crate_name(spec).replace('-', "_"));
    let refresh_config = match &model.session {
        Some(s) => {
            // The refresh route has no parameters (the validator says so): literals only.
            let segments = model.refresh(s).segments.iter().filter_map(|s| match *s {
                Segment::Literal(text) => Some(text),
                Segment::Param { .. } => None,
            });
            let token = s.token_field;
            // A mode without an expiry code never refreshes.
            let expired = s.expired_code.unwrap_or_default();
            quote! {
                .session_refresh(tenx_client_runtime::SessionRefresh { segments: &[#(#segments),*], token_field: #token, expired_code: #expired })
            }
        }
        None => quote!(),
    };
    let jwt = spec.auth_mode(AuthKind::Jwt).map(|_| jwt_client(model));
    let pat = spec.pat_mode().map(|pat| pat_client(model, pat));
    let visitor = spec.auth_mode(AuthKind::VisitorCookie).map(|_| visitor_client(model));
    let (jwt_ctor, jwt_item) = jwt.unzip();
    let (pat_ctor, pat_item) = pat.unzip();
    let (visitor_ctor, visitor_item) = visitor.unzip();

    quote! {
        //! The clients, one per auth mode, the spec's settings, and what a caller names
        //! of the runtime.

        use ::std::sync::Arc;
        use ::std::time::Duration;

        use tenx_client_runtime::{Credentials, Runtime};

        // What callers name, so a dependent needs this crate alone.
        pub use tenx_client_runtime::{
            ApiFailure, AttemptEvent, AttemptInfo, CallFuture, CallOptions, CallOutcome, Clock, Config, Error, Hook, Jitter, Pat,
            PatError, RateLimit, Response, RetryPolicy, Secret, Session, SystemClock, VirtualClock,
        };
        pub use #errors_crate::{ErrorCategory, ErrorCode, ErrorDetails, RetryClass};
        /// The HTTP client the runtime uses (for [`Hook::before_attempt`] and [`Config::http_client`]).
        pub use tenx_client_runtime::reqwest;

        /// The API's production base URL.
        pub const BASE_URL: &str = #base_url;

        /// The retry policy of the spec.
        pub fn retry_policy() -> RetryPolicy {
            RetryPolicy {
                after_header_statuses: #after,
                backoff_statuses: #backoff_statuses,
                never_statuses: #never,
                backoff: vec![#(#backoff),*],
                max_attempts: #max_attempts,
                max_retry_after: Duration::from_secs(#max_wait),
                retry_transport_errors: #retry_transport,
                jitter: #jitter,
                safe_methods: vec![#(tenx_client_runtime::reqwest::Method::#safe),*],
            }
        }

        /// Settings for `base_url`: the spec's retry policy, error catalogue and session
        /// refresh, and this crate's name and version as the `User-Agent`.
        pub fn config(base_url: impl Into<String>) -> Config {
            Config::new(base_url, retry_policy())
                .catalogue(&#errors_crate::CATALOGUE)
                .user_agent(concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")))
                #refresh_config
        }

        /// The error code of an [`Error`] or an [`ApiFailure`] as this API's [`ErrorCode`]
        /// (the runtime keeps it as the wire string), and the code's typed details.
        pub trait ErrorExt {
            /// The code, typed; `None` when no error answer came.
            fn error_code(&self) -> Option<ErrorCode>;
            /// The typed details of the code (`None` when no error answer came).
            fn error_details(&self) -> Option<Result<ErrorDetails, ::serde_json::Error>>;
        }

        impl ErrorExt for ApiFailure {
            fn error_code(&self) -> Option<ErrorCode> {
                Some(ErrorCode::from_wire(&self.code))
            }
            fn error_details(&self) -> Option<Result<ErrorDetails, ::serde_json::Error>> {
                Some(ErrorDetails::decode(&ErrorCode::from_wire(&self.code), &self.extra))
            }
        }

        impl ErrorExt for Error {
            fn error_code(&self) -> Option<ErrorCode> {
                self.api().and_then(ErrorExt::error_code)
            }
            fn error_details(&self) -> Option<Result<ErrorDetails, ::serde_json::Error>> {
                self.api().and_then(ErrorExt::error_details)
            }
        }

        /// The client for routes that need no credential, and the start of the others.
        #[derive(Debug, Clone)]
        pub struct Client {
            pub(crate) runtime: Arc<Runtime>,
            pub(crate) options: CallOptions,
        }

        impl Client {
            /// A client of `base_url` with the spec's settings.
            pub fn new(base_url: impl Into<String>) -> Result<Self, Error> {
                Self::with_config(config(base_url))
            }

            /// A client with these settings (start from [`config`]).
            pub fn with_config(config: Config) -> Result<Self, Error> {
                Ok(Client { runtime: Runtime::new(config)?, options: CallOptions::default() })
            }

            /// The same client with overrides for its calls: the fields set in `options`
            /// replace this client's, the others stay.
            pub fn with_options(&self, options: CallOptions) -> Self {
                Client { runtime: self.runtime.clone(), options: options.over(&self.options) }
            }

            pub(crate) fn credentials(&self) -> Credentials<'_> {
                Credentials::None
            }
        }

        #jwt_ctor
        #jwt_item
        #pat_ctor
        #pat_item
        #visitor_ctor
        #visitor_item
    }
}

fn jwt_client(model: &Model<'_>) -> (TokenStream, TokenStream) {
    let transport = transport_tokens(model, AuthKind::Jwt);
    let sign_in = model.session.as_ref().map(|s| (s, model.login(s).route)).map(
        |(s, login)| {
            let method = ident(&login.id.value);
            let body = login.request.as_ref().map(|t| rust_types::rust_type(&t.value)).unwrap_or(quote!(()));
            let body = match login.request.as_ref().and_then(|t| t.value.named()) {
                Some(_) => quote!(crate::models::#body),
                None => body,
            };
            let token = ident(&s.token_rust);
            let docs = doc(&format!(
                "Logs in (`{} {}`) and returns a client holding the session: the access token and\nthe refresh cookie login set.",
                login.method.as_str(),
                login.path.value
            ));
            quote! {
                #docs
                pub async fn sign_in(&self, body: &#body) -> Result<JwtClient, Error> {
                    let answer = self.#method(body).await?;
                    let session = tenx_client_runtime::Session::from_login(answer.body.#token.clone(), &answer.headers);
                    Ok(self.with_session(session))
                }
            }
        },
    );
    let ctor = quote! {
        impl Client {
            /// A client carrying a JWT (no refresh).
            pub fn with_jwt(&self, token: impl Into<tenx_client_runtime::Secret>) -> JwtClient {
                self.with_session(tenx_client_runtime::Session::from_token(token))
            }

            /// A client carrying a session (refreshes when `auto_refresh` is on).
            pub fn with_session(&self, session: tenx_client_runtime::Session) -> JwtClient {
                JwtClient { base: self.clone(), session }
            }

            #sign_in
        }
    };
    let item = quote! {
        /// The client for JWT routes: a signed-in user's session.
        #[derive(Debug, Clone)]
        pub struct JwtClient {
            pub(crate) base: Client,
            pub(crate) session: tenx_client_runtime::Session,
        }

        impl JwtClient {
            /// The session (its token is refreshed in place).
            pub fn session(&self) -> &tenx_client_runtime::Session {
                &self.session
            }

            /// The same client with per-call overrides.
            pub fn with_options(&self, options: CallOptions) -> Self {
                JwtClient { base: self.base.with_options(options), session: self.session.clone() }
            }

            pub(crate) fn credentials(&self) -> Credentials<'_> {
                Credentials::Session(#transport, &self.session)
            }
        }
    };
    (ctor, item)
}

fn pat_client(model: &Model<'_>, pat: PatMode<'_>) -> (TokenStream, TokenStream) {
    let transport = transport_tokens(model, AuthKind::Pat);
    let (prefix, separator, display) = (&pat.format.prefix, pat.format.separator, &pat.format.display);
    let bound = pat.bound_to;
    let bound_doc = doc(&format!("The `{bound}` this client's token is bound to."));
    let pat_client_doc = doc(&format!("The client for PAT routes of the one `{bound}` its token is bound to."));
    let bound_ident = ident(&bound.to_snake_case());
    let ctor_doc = doc(&format!("A client carrying a PAT bound to `{bound}`; the token is checked first."));
    let ctor = quote! {
        /// The PAT format of the spec.
        pub const PAT_FORMAT: tenx_client_runtime::PatFormat =
            tenx_client_runtime::PatFormat { prefix: #prefix, separator: #separator, display: #display };

        /// Checks a PAT against [`PAT_FORMAT`] before anything is sent.
        pub fn parse_pat(token: &str) -> Result<tenx_client_runtime::Pat, tenx_client_runtime::PatError> {
            tenx_client_runtime::Pat::parse(token, &PAT_FORMAT)
        }

        impl Client {
            #ctor_doc
            pub fn with_pat(
                &self,
                token: &str,
                #bound_ident: impl Into<String>,
            ) -> Result<PatClient, tenx_client_runtime::PatError> {
                Ok(PatClient { base: self.clone(), pat: parse_pat(token)?, bound: #bound_ident.into() })
            }
        }
    };
    let item = quote! {
        #pat_client_doc
        #[derive(Debug, Clone)]
        pub struct PatClient {
            pub(crate) base: Client,
            pub(crate) pat: tenx_client_runtime::Pat,
            pub(crate) bound: String,
        }

        impl PatClient {
            #bound_doc
            pub fn #bound_ident(&self) -> &str {
                &self.bound
            }

            /// The token (its secret never shows).
            pub fn pat(&self) -> &tenx_client_runtime::Pat {
                &self.pat
            }

            /// The same client with per-call overrides.
            pub fn with_options(&self, options: CallOptions) -> Self {
                PatClient { base: self.base.with_options(options), pat: self.pat.clone(), bound: self.bound.clone() }
            }

            pub(crate) fn credentials(&self) -> Credentials<'_> {
                Credentials::Pat(#transport, &self.pat)
            }
        }
    };
    (ctor, item)
}

fn visitor_client(model: &Model<'_>) -> (TokenStream, TokenStream) {
    let transport = transport_tokens(model, AuthKind::VisitorCookie);
    let ctor = quote! {
        impl Client {
            /// A client carrying a visitor session cookie.
            pub fn with_visitor_cookie(&self, cookie: impl Into<tenx_client_runtime::Secret>) -> VisitorClient {
                VisitorClient { base: self.clone(), cookie: cookie.into() }
            }
        }
    };
    let item = quote! {
        /// The client for visitor-cookie routes.
        #[derive(Debug, Clone)]
        pub struct VisitorClient {
            pub(crate) base: Client,
            pub(crate) cookie: tenx_client_runtime::Secret,
        }

        impl VisitorClient {
            /// The same client with per-call overrides.
            pub fn with_options(&self, options: CallOptions) -> Self {
                VisitorClient { base: self.base.with_options(options), cookie: self.cookie.clone() }
            }

            pub(crate) fn credentials(&self) -> Credentials<'_> {
                Credentials::Visitor(#transport, &self.cookie)
            }
        }
    };
    (ctor, item)
}

/// The client type a route's auth kind lives on, and how it reaches the base client.
fn client_of(kind: AuthKind) -> (TokenStream, TokenStream) {
    match kind {
        AuthKind::None => (quote!(Client), quote!(self)),
        AuthKind::Jwt => (quote!(JwtClient), quote!(self.base)),
        AuthKind::Pat => (quote!(PatClient), quote!(self.base)),
        AuthKind::VisitorCookie => (quote!(VisitorClient), quote!(self.base)),
    }
}

fn family_rs(model: &Model<'_>, family: &Family) -> TokenStream {
    // The spec's prose is escaped; the table below is Markdown this generator writes.
    let count = family.routes.len();
    let mut docs = format!(
        "{} ({count} route{}).\n\n",
        rust::escape_markdown(family.description.trim_end_matches('.')),
        if count == 1 { "" } else { "s" }
    );
    docs.push_str("| Method | Route | Auth |\n|---|---|---|\n");
    for r in &family.routes {
        let on: Vec<String> = AuthKind::ALL
            .iter()
            .filter(|&&k| r.accepts(k))
            .map(|&k| {
                let client = client_of(k).0;
                format!("[`{client}::{id}`](crate::{client}::{id})", id = r.id.value)
            })
            .collect();
        let auth: Vec<&str> = r.auth.iter().map(|a| a.value.as_str()).collect();
        docs.push_str(&format!(
            "| {} | `{} {}` | {} |\n",
            on.join(", "),
            r.method.as_str(),
            r.path.value,
            auth.join(", ")
        ));
    }
    let docs = docs.lines().map(|l| format!(" {l}")).collect::<Vec<_>>();
    let impls = AuthKind::ALL.iter().filter_map(|&kind| {
        let routes: Vec<&RouteModel<'_>> = model.routes_of(family).iter().filter(|r| r.kinds.contains(&kind)).collect();
        if routes.is_empty() {
            return None;
        }
        let (client, _) = client_of(kind);
        let methods = routes.iter().map(|r| method(r, kind));
        Some(quote! {
            impl #client {
                #(#methods)*
            }
        })
    });
    let clients =
        AuthKind::ALL.iter().filter(|&&k| family.routes.iter().any(|r| r.accepts(k))).map(|&k| client_of(k).0);
    let uses_models = family.routes.iter().any(|r| {
        r.request.iter().chain(&r.response).any(|t| t.value.named().is_some())
            || !r.query.is_empty()
            || r.success.len() > 1
    });
    let models = uses_models.then(|| {
        quote!(
            use crate::models::*;
        )
    });
    quote! {
        #( #![doc = #docs] )*

        use tenx_client_runtime::{CallFuture, RouteInfo};
        use tenx_client_runtime::reqwest::Method;

        use crate::clients::{#(#clients),*};
        #models

        #(#impls)*
    }
}

fn method(lowered: &RouteModel<'_>, kind: AuthKind) -> TokenStream {
    let route = lowered.route;
    let name = ident(&route.id.value);
    let docs = doc(&crate::facts::route_doc(lowered, crate::facts::Reader::Client));
    let (_, base) = client_of(kind);
    // Path arguments: every placeholder but the one a PAT client fills from its binding.
    let args = lowered.path_args(kind).map(|param| {
        let arg = ident(&rust_param_name(param));
        quote!(#arg: &str)
    });
    let segments = lowered.segments.iter().map(|seg| match *seg {
        Segment::Param { pat_bound: true, .. } if kind == AuthKind::Pat => quote!(self.bound.as_str()),
        Segment::Param { name, .. } => {
            let arg = ident(&rust_param_name(name));
            quote!(#arg)
        }
        Segment::Literal(text) => quote!(#text),
    });
    let (query_arg, query_val) = match &lowered.query {
        None => (None, quote!(None::<&()>)),
        Some(q) => {
            let ty = format_ident!("{}", q.name);
            (Some(quote!(query: &#ty,)), quote!(Some(query)))
        }
    };
    // JSON bodies go through `call`; text and binary ones as bytes through `call_raw`.
    let (body_arg, body_val, send) = match lowered.body {
        Payload::Text => {
            let media = TypeRef::Text.media_type();
            (Some(quote!(body: &str,)), quote!((#media, body.as_bytes().to_vec())), quote!(call_raw))
        }
        Payload::Binary => {
            let media = TypeRef::Binary.media_type();
            (Some(quote!(body: &[u8],)), quote!((#media, body.to_vec())), quote!(call_raw))
        }
        payload @ Payload::Json { .. } => {
            let ty = models_crate::body_type(payload);
            (Some(quote!(body: &#ty,)), quote!(Some(body)), quote!(call))
        }
        Payload::None => (None, quote!(None::<&()>), quote!(call)),
    };
    let method = ident(route.method.as_str());
    let id = &route.id.value;
    let idem = match lowered.key {
        Some(IdempotencyCarrier::Field(field)) => quote!(Some(tenx_client_runtime::IdempotencyCarrier::Field(#field))),
        Some(IdempotencyCarrier::Header(header)) => {
            quote!(Some(tenx_client_runtime::IdempotencyCarrier::Header(#header)))
        }
        None => quote!(None),
    };
    let success = route.success.iter().map(|s| rust::int(s.status));
    // How a success answer becomes the method's type: a function, not a future per route.
    let plain = match lowered.answer {
        Payload::None => quote!(Ok(raw.empty())),
        Payload::Text => quote!(raw.text()),
        Payload::Binary => quote!(Ok(raw.bytes())),
        Payload::Json { .. } => quote!(raw.json()),
    };
    let (ret, decode) = match &lowered.outcome {
        Some(outcome) => {
            let arms = outcome.variants.iter().map(|v| (rust::int(v.status), ident(&v.rust)));
            let outcome = format_ident!("{}", outcome.name);
            let arms = arms.map(|(status, v)| {
                quote! { #status => #plain.map(|r| r.map(#outcome::#v)), }
            });
            (quote!(#outcome), quote! { |raw| match raw.status() { #(#arms)* _ => Err(raw.unexpected()) } })
        }
        None => {
            let decode = match lowered.answer {
                Payload::Json { .. } => quote!(tenx_client_runtime::RawResponse::json),
                Payload::Text => quote!(tenx_client_runtime::RawResponse::text),
                _ => quote!(|raw| #plain),
            };
            (models_crate::body_type(lowered.answer), decode)
        }
    };
    quote! {
        #docs
        pub fn #name(&self, #(#args,)* #query_arg #body_arg) -> CallFuture<'_, #ret> {
            static ROUTE: RouteInfo = RouteInfo { id: #id, method: Method::#method, idempotency: #idem, success: &[#(#success),*] };
            #base.runtime.#send(&ROUTE, &#base.options, self.credentials(), &[#(#segments),*], #query_val, #body_val, #decode)
        }
    }
}
