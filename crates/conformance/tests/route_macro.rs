//! `#[route]`: a correct annotation compiles; every kind of mistake fails at the
//! offending literal with what the spec has (trybuild, `.stderr` files reviewed).

#[test]
fn route_annotations() {
    let t = trybuild::TestCases::new();
    t.pass("tests/route_ui/pass_every_auth_mode.rs");
    t.compile_fail("tests/route_ui/[0-9]*.rs");
}
