//! Auth is in the types: calling a route with the wrong client does not compile.

#[test]
fn wrong_credential_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
