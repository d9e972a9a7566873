//! Drift: a handler annotated to match the spec compiles; change the route's scope in
//! the spec, regenerate, and the same annotation fails with the scope error.

use quote::quote;

const FIXTURE: &str = include_str!("../../spec/tests/fixtures/minimal.yaml");

fn check(spec_text: &str) -> Vec<String> {
    let spec = tenx_spec::load_str("api-spec/minimal.yaml", spec_text).unwrap_or_else(|d| panic!("{d}"));
    let table = tenx_route_check::table_from_json(&tenx_codegen::route_table(&spec));
    let attr = quote!(auth = "pat", scope = "links.read", feature = "growth_tools");
    let item = quote!(
        async fn pat_get_link(&self, _cx: &RequestContext, auth: PatContext, slug: String) -> Result<Link, Failure> {
            todo!()
        }
    );
    tenx_route_check::check(&table, attr, &item).iter().map(ToString::to_string).collect()
}

#[test]
fn a_scope_change_in_the_spec_breaks_the_stale_annotation() {
    assert_eq!(check(FIXTURE), Vec::<String>::new(), "the annotation matches the spec as it is");

    let changed = FIXTURE.replacen("scopes: [links.read]", "scopes: [links.write]", 1);
    assert_ne!(changed, FIXTURE);
    let errors = check(&changed);
    assert_eq!(
        errors,
        [
            "the spec does not require `links.read` for `pat_get_link`; it requires `links.write`",
            "missing scope `links.write`: the spec requires it for `pat_get_link`",
        ]
    );
}
