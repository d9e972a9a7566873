//! Loading never panics, whatever the input: arbitrary text, and valid specs mutated at
//! random (bytes cut, lines duplicated or swapped, YAML punctuation inserted). Every
//! failure must come back as diagnostics that render.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

const MINIMAL: &str = include_str!("fixtures/minimal.yaml");
const TENX_API: &str = include_str!("../../../api-spec/api.yaml");
const TENX_LINKS: &str = include_str!("../../../api-spec/families/07-links.yaml");

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Keep runs reproducible in CI and write no regression files into the tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

fn load_and_render(text: &str) {
    if let Err(d) = tenx_spec::load_str("fuzz.yaml", text) {
        assert!(!d.is_empty(), "an invalid spec must say why");
        let rendered = d.render();
        assert!(rendered.contains("error:"));
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Cut { at: usize, len: usize },
    Insert { at: usize, token: &'static str },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    Indent { line: usize, spaces: usize },
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    "- ",
    "\n",
    "\t",
    "&a ",
    "*a",
    "\"",
    "'",
    "~",
    "null",
    "-1",
    "99999999999999999999",
    "1.5",
    "---\n",
    "? ",
    "|\n  x",
    "!!str ",
    "#",
    "{{handle}}",
    "é",
    "\u{0}",
    "true",
    "[[[[",
    "routes:",
    "id: x",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Cut { at, len }),
        (any::<usize>(), proptest::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::Insert { at, token }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (any::<usize>(), 0usize..9).prop_map(|(line, spaces)| Mutation::Indent { line, spaces }),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut text = text.to_owned();
    for m in mutations {
        let boundary = |t: &str, at: usize| {
            let mut at = at % (t.len() + 1);
            while !t.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        match m {
            Mutation::Cut { at, len } => {
                let start = boundary(&text, *at);
                let end = boundary(&text, (start + len).min(text.len()));
                text.replace_range(start..end.max(start), "");
            }
            Mutation::Insert { at, token } => {
                let at = boundary(&text, *at);
                text.insert_str(at, token);
            }
            Mutation::DuplicateLine { line } | Mutation::Indent { line, .. } | Mutation::SwapLines { a: line, .. } => {
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                if lines.is_empty() {
                    continue;
                }
                let i = line % lines.len();
                match m {
                    Mutation::DuplicateLine { .. } => lines.insert(i, lines[i].clone()),
                    Mutation::Indent { spaces, .. } => {
                        lines[i] = format!("{}{}", " ".repeat(*spaces), lines[i].trim_start())
                    }
                    Mutation::SwapLines { b, .. } => {
                        let j = b % lines.len();
                        lines.swap(i, j);
                    }
                    _ => {}
                }
                text = lines.join("\n");
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        load_and_render(&text);
    }

    #[test]
    fn yaml_shaped_noise_never_panics(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)) {
        load_and_render(&tokens.concat());
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn mutated_specs_never_panic(
        base in proptest::sample::select(vec![MINIMAL, TENX_API, TENX_LINKS]),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        load_and_render(&apply(base, &mutations));
    }
}
