//! ARCHITECTURE.md's code map is the tree: every crate and top-level folder named, and
//! nothing named that is not there.

use std::path::Path;

#[test]
fn the_code_map_names_every_crate_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let map = text.split("## Code map").nth(1).and_then(|t| t.split("\n## ").next()).expect("a `## Code map` section");
    let named: Vec<String> = map
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(|p| p.trim_end_matches('/').to_owned())
        .collect();
    for path in &named {
        assert!(root.join(path).exists(), "the code map names `{path}`, which is not in the tree");
    }
    let mut expected: Vec<String> =
        ["api-spec", "templates", "scripts", "ts", "xtask", "examples/parcels"].map(String::from).into();
    for folder in ["crates", "generated"] {
        for entry in std::fs::read_dir(root.join(folder)).expect(folder) {
            let path = entry.expect("an entry").path();
            if path.join("Cargo.toml").exists() {
                expected.push(format!("{folder}/{}", path.file_name().expect("a name").to_string_lossy()));
            }
        }
    }
    let missing: Vec<&String> = expected.iter().filter(|p| !named.contains(p)).collect();
    assert!(missing.is_empty(), "the code map in ARCHITECTURE.md does not name {missing:?}");
}
