//! Snapshots of every generated file for a small fixture spec: what a reviewer sees
//! change when an emitter or a template changes. Update with `cargo insta review`
//! (or `INSTA_UPDATE=always cargo test -p tenx-codegen`), then read the diff.

const MINIMAL: &str = include_str!("../../spec/tests/fixtures/minimal.yaml");

#[test]
fn minimal_spec_output() {
    let spec = tenx_spec::load_str("api-spec/minimal.yaml", MINIMAL).unwrap_or_else(|d| panic!("{d}"));
    let files = tenx_codegen::generate(&spec).unwrap_or_else(|e| panic!("{e}"));
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    insta::assert_snapshot!("paths", paths.join("\n"));
    // The TypeScript runtime is copied in as written (crates/codegen/templates/ts/src/runtime.ts).
    for file in files.iter().filter(|f| !f.path.ends_with("ts-client/src/runtime.ts")) {
        let name = file.path.replace('/', "__");
        insta::assert_snapshot!(name, file.contents);
    }
}

#[test]
fn output_does_not_depend_on_collection_order_in_memory() {
    // Generating twice from two loads of the same text gives the same bytes.
    let a = tenx_spec::load_str("api-spec/minimal.yaml", MINIMAL).unwrap_or_else(|d| panic!("{d}"));
    let b = tenx_spec::load_str("api-spec/minimal.yaml", MINIMAL).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(tenx_codegen::generate(&a).ok(), tenx_codegen::generate(&b).ok());
}
