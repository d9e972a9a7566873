//! `generated/route-macro`: the `#[route]` attribute. It holds the spec's route table
//! (`route-table.json`) and calls the checking library `tenx-route-check`.

use quote::quote;
use serde_json::json;
use tenx_spec::Spec;

use crate::lower::Model;
use crate::templates::{CrateInfo, Dep};
use crate::{CodegenError, GeneratedFile, Templates, rust, sources};

const DIR: &str = "generated/route-macro";

/// This crate as a dependency of the other generated crates.
pub(crate) fn dep(spec: &Spec) -> Dep {
    Dep::Generated { name: crate_name(spec), dir: "route-macro", features: Vec::new() }
}

/// The crate's name: `<api>-route-macro`, like its folder.
pub(crate) fn crate_name(spec: &Spec) -> String {
    format!("{}-route-macro", spec.api.name)
}

/// The route table the macro checks against, as JSON.
pub fn route_table(spec: &Spec) -> String {
    let routes: Vec<_> = spec
        .routes()
        .map(|r| {
            json!({
                "id": r.id.value,
                "auth": r.auth.iter().map(|a| a.value.as_str()).collect::<Vec<_>>(),
                "scopes": r.scopes.iter().map(|s| &s.value).collect::<Vec<_>>(),
                "role": r.min_role.as_ref().map(|m| &m.value),
                "feature": r.feature.as_ref().map(|f| &f.value),
            })
        })
        .collect();
    let table = json!({
        "routes": routes,
        "modes": spec.auth_modes.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
        "scopes": spec.scopes.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "roles": spec.roles.iter().map(|r| &r.name).collect::<Vec<_>>(),
        "features": spec.features.iter().map(|f| &f.name).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&table).expect("the route table is plain data and always serializes");
    text.push('\n');
    text
}

pub(crate) fn generate(model: &Model<'_>, templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec = model.spec;
    let header = templates.header(&sources(spec, spec.source_locs()))?;
    let description =
        format!("`#[route(...)]`: checks server handlers against the {} spec at compile time.", spec.api.title);
    let readme = "Put `#[route(auth = \"pat\", scope = \"links.write\")]` on a handler (a trait method \
                  or a free function named after its route id, or with `operation = \"…\"`). The build \
                  fails, pointing at the wrong word, when what it states differs from the spec. The \
                  server crate re-exports it as `route`. Like every proc-macro it checks faster with \
                  `[profile.dev.build-override] opt-level = 3` in the workspace using it.";
    // A proc-macro's functions live at the crate root, so this file cannot hide behind
    // `#[rustfmt::skip] mod`: prettyplease's shape of it is also rustfmt's (CI's
    // `cargo fmt --check` would say otherwise).
    let crate_docs = format!(
        "{description}\n\nThe route table is `route-table.json`, written by codegen from the same spec as the\nserver traits; it is read once per compiler process."
    );
    let crate_docs = crate_docs.lines().map(|l| format!(" {l}").trim_end().to_owned());
    // The toolkit's own crates keep their names whatever the API is called.
    let lib = rust::file(
        "route macro",
        &header,
        quote! {
            #( #![doc = #crate_docs] )*

            use proc_macro::TokenStream;
            use std::sync::OnceLock;
            use tenx_route_check::Table;

            fn table() -> &'static Table {
                static TABLE: OnceLock<Table> = OnceLock::new();
                let json = include_str!("../route-table.json");
                TABLE.get_or_init(|| tenx_route_check::table_from_json(json))
            }

            /// Checks a handler against its route: `auth`, `scope`/`scopes`, `role`, `feature` must
            /// be exactly what the spec says for the route named by the function (or `operation`).
            #[proc_macro_attribute]
            pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
                tenx_route_check::expand(table(), attr.into(), item.into()).into()
            }
        },
    )?;
    let info = CrateInfo {
        name: crate_name(spec),
        description: &description,
        readme,
        dependencies: vec![Dep::Workspace("tenx-route-check")],
        proc_macro: true,
        features: Vec::new(),
    };
    let mut files = templates.crate_files(spec, DIR, &header, &info)?;
    files.extend([
        GeneratedFile { path: format!("{DIR}/route-table.json"), contents: route_table(spec) },
        GeneratedFile { path: format!("{DIR}/src/lib.rs"), contents: lib },
    ]);
    Ok(files)
}
