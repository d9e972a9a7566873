//! `generated/stub`: the API's stub server as a binary, for SDK teams' tests: every
//! route behind the router's checks, answering its declared outcomes (`tenx-stub-runtime` does
//! the work; this crate names the API).

use quote::quote;

use crate::lower::Model;
use crate::rust::{self, ident};
use crate::templates::{CrateInfo, Dep};
use crate::{CodegenError, GeneratedFile, Templates, server_crate, sources};

const DIR: &str = "generated/stub";

/// The crate's name: `<api>-stub`, like its folder.
pub(crate) fn crate_name(spec: &tenx_spec::Spec) -> String {
    format!("{}-stub", spec.api.name)
}

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let header = templates.header(&sources(spec, spec.source_locs()))?;
    let description = format!("A stub server of the {}, from its spec alone, for SDK tests.", spec.api.title);
    let readme = format!(
        "`cargo run -p {} -- --listen 127.0.0.1:4010` serves every route of the API: \
                  the router's checks first (credentials, scopes, role, plan, limits, parameters, body, \
                  idempotency), then the route's first declared success with a body built from its type. \
                  It prints demo credentials for each auth mode (`--json`: one line of JSON). Ask for any \
                  other declared outcome with `Prefer: code=<status or error code>`; an undeclared one is \
                  a 400. In Rust tests, `tenx_stub_runtime::kit::StubServer` starts the same server in-process.",
        crate_name(spec)
    );
    let info = CrateInfo {
        name: crate_name(spec),
        description: &description,
        readme: &readme,
        dependencies: vec![Dep::Workspace("tenx-stub-runtime"), server_crate::dep(spec)],
        proc_macro: false,
        features: Vec::new(),
    };
    let mut files = templates.crate_files(spec, DIR, &header, &info)?;
    let server = ident(&server_crate::crate_name(spec).replace('-', "_"));
    let title = &spec.api.title;
    let docs = format!(" The {title} stub server: every route of the spec behind its checks; `--help` says how.");
    let main = quote! {
        #![doc = #docs]

        fn main() -> std::process::ExitCode {
            tenx_stub_runtime::cli::main(#title, &#server::spec::SERVER_SPEC)
        }
    };
    files.push(GeneratedFile { path: format!("{DIR}/src/main.rs"), contents: rust::file("stub", &header, main)? });
    // A test of the binary itself; it also makes `cargo test` build the binary, which
    // the TypeScript suites start.
    let bin = format!("CARGO_BIN_EXE_{}", crate_name(spec));
    // Lines short enough that prettyplease and rustfmt print them alike: `cargo fmt`
    // formats a crate root, and must leave it as generated.
    let test = quote! {
        //! The stub binary starts, prints its demo credentials, and answers behind the checks.

        use #server::spec::SERVER_SPEC;

        #[test]
        fn the_stub_binary_serves_the_spec() {
            let binary = env!(#bin);
            tenx_stub_runtime::cli::check_binary(binary, &SERVER_SPEC);
        }
    };
    files.push(GeneratedFile { path: format!("{DIR}/tests/binary.rs"), contents: rust::file("stub", &header, test)? });
    Ok(files)
}
