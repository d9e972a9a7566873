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
    // Every top-level folder but the build's and the hidden ones; where a folder holds
    // crates or examples, each of them instead.
    let mut expected: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&root).expect("the workspace root") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().expect("a name").to_string_lossy().into_owned();
        if !path.is_dir() || name.starts_with('.') || name == "target" {
            continue;
        }
        if !["crates", "generated", "examples"].contains(&name.as_str()) {
            expected.push(name);
            continue;
        }
        for child in std::fs::read_dir(&path).expect("a folder") {
            let child = child.expect("an entry").path();
            let is_part = if name == "examples" { child.is_dir() } else { child.join("Cargo.toml").exists() };
            if is_part {
                expected.push(format!("{name}/{}", child.file_name().expect("a name").to_string_lossy()));
            }
        }
    }
    let missing: Vec<&String> = expected.iter().filter(|p| !named.contains(p)).collect();
    assert!(missing.is_empty(), "the code map in ARCHITECTURE.md does not name {missing:?}");
}
