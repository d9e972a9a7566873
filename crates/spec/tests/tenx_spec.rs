//! The checked-in 10x spec loads cleanly and covers what the docs give.

use std::path::Path;

fn spec() -> tenx_spec::Spec {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec");
    match tenx_spec::load_dir(&dir) {
        Ok(spec) => spec,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn loads_with_no_diagnostics_and_covers_the_docs() {
    let spec = spec();
    let routes = spec.routes().count();
    assert!(routes >= 140, "{routes} routes");
    assert!(spec.errors.len() >= 25, "{} error codes", spec.errors.len());
    assert!(spec.scopes.len() >= 13, "{} scopes", spec.scopes.len());
    for route in spec.routes() {
        assert!(!route.source.trim().is_empty(), "route `{}` has no source", route.id.value);
    }
}
