//! The minijinja environment: every template of `templates/`, and the helpers (filters)
//! templates share. Helpers live here and nowhere else.

use heck::{ToSnakeCase, ToUpperCamelCase};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::CodegenError;

/// Templates compiled into the generator, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("header.j2", include_str!("../templates/header.j2")),
    ("crate/Cargo.toml.j2", include_str!("../templates/crate/Cargo.toml.j2")),
    ("crate/README.md.j2", include_str!("../templates/crate/README.md.j2")),
    ("docs/endpoints.md.j2", include_str!("../templates/docs/endpoints.md.j2")),
    ("docs/errors.md.j2", include_str!("../templates/docs/errors.md.j2")),
    ("docs/auth.md.j2", include_str!("../templates/docs/auth.md.j2")),
    ("docs/plans.md.j2", include_str!("../templates/docs/plans.md.j2")),
    ("changelog.md.j2", include_str!("../templates/changelog.md.j2")),
    ("ts/package.json.j2", include_str!("../templates/ts/package.json.j2")),
    ("ts/tsconfig.json.j2", include_str!("../templates/ts/tsconfig.json.j2")),
    ("ts/README.md.j2", include_str!("../templates/ts/README.md.j2")),
    ("ts/src/index.ts.j2", include_str!("../templates/ts/src/index.ts.j2")),
    ("ts/src/models.ts.j2", include_str!("../templates/ts/src/models.ts.j2")),
    ("ts/src/errors.ts.j2", include_str!("../templates/ts/src/errors.ts.j2")),
    ("ts/src/clients.ts.j2", include_str!("../templates/ts/src/clients.ts.j2")),
    ("ts/src/runtime.ts.j2", include_str!("../templates/ts/src/runtime.ts.j2")),
];

/// The generated crates' semver version: `api.version` filled out to three numbers
/// (`"2"` is `2.0.0`), so a breaking spec change, which `cargo xtask spec-diff` refuses
/// without a new major `api.version`, is a new major version of every generated crate.
pub fn crate_version(api_version: &str) -> String {
    let mut parts: Vec<u64> = api_version.trim_start_matches('v').split('.').map_while(|p| p.parse().ok()).collect();
    parts.resize(3, 0);
    format!("{}.{}.{}", parts[0], parts[1], parts[2])
}

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// Loads every template and registers the helpers.
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Block tags take their own line without leaving blank lines behind; a missing
        // variable is an error, not an empty string that ships in generated files.
        let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(true).build();
        env.set_syntax(syntax.expect("the default delimiters are a valid syntax"));
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_filter("comment", comment);
        env.add_filter("snake_case", |s: &str| s.to_snake_case());
        env.add_filter("upper_camel_case", |s: &str| s.to_upper_camel_case());
        env.add_filter("anchor", anchor);
        env.add_filter("cell", table_cell);
        env.add_filter("tsdoc", tsdoc);
        env.add_filter("tojs", |s: &str| serde_json::Value::from(s).to_string());
        for (name, source) in TEMPLATES {
            // Templates are compiled in: a syntax error is a bug of this crate, caught by
            // every test that generates anything.
            if let Err(e) = env.add_template(name, source) {
                panic!("the compiled-in template `{name}` does not parse: {e}");
            }
        }
        Templates { env }
    }

    /// Renders `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, CodegenError> {
        let error = |source| CodegenError::Template { name: name.to_owned(), source };
        self.env.get_template(name).map_err(error)?.render(ctx).map_err(error)
    }

    /// The do-not-edit header naming the spec files and the command, without comment
    /// markers.
    pub fn header(&self, sources: &[String]) -> Result<String, CodegenError> {
        let sources = summarize_sources(sources);
        let text = self.render("header.j2", minijinja::context! { sources })?;
        Ok(text.trim_end().to_owned())
    }
}

/// A dependency of a generated crate.
pub(crate) enum Dep {
    /// A crate of the workspace: a toolkit runtime or a well-known crate (`serde`).
    Workspace(&'static str),
    /// Another crate generated from the same spec, in the sibling folder `dir` of the
    /// output (`generated/<dir>`). A path, not a workspace entry: the name follows the
    /// spec's `api.name`, and the workspace must load whatever that is.
    Generated {
        /// The package name.
        name: String,
        /// The folder's name under the output directory.
        dir: &'static str,
        /// Its features this dependent needs (its default features are off then).
        features: Vec<&'static str>,
    },
}

impl Dep {
    fn context(&self) -> minijinja::Value {
        match self {
            Dep::Workspace(name) => minijinja::context! { name => *name },
            Dep::Generated { name, dir, features } => minijinja::context! {
                name => name.clone(),
                path => format!("../{dir}"),
                features => features.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", "),
            },
        }
    }
}

/// What a generated crate's `Cargo.toml` and README say.
pub(crate) struct CrateInfo<'a> {
    /// Package name.
    pub(crate) name: String,
    /// One-line description.
    pub(crate) description: &'a str,
    /// README body.
    pub(crate) readme: &'a str,
    /// Dependencies.
    pub(crate) dependencies: Vec<Dep>,
    /// Whether it is a proc-macro crate.
    pub(crate) proc_macro: bool,
    /// Its features and what each is for (`client`: …), all off by default.
    pub(crate) features: Vec<(&'static str, &'static str)>,
}

impl Templates {
    /// The `Cargo.toml` and `README.md` of a generated crate in `dir`.
    pub(crate) fn crate_files(
        &self,
        spec: &tenx_spec::Spec,
        dir: &str,
        header: &str,
        info: &CrateInfo<'_>,
    ) -> Result<Vec<crate::GeneratedFile>, CodegenError> {
        let krate = minijinja::context! {
            name => info.name.clone(),
            version => crate_version(&spec.api.version),
            description => info.description,
            readme => info.readme,
            dependencies => info.dependencies.iter().map(Dep::context).collect::<Vec<_>>(),
            proc_macro => info.proc_macro,
            features => info.features.iter().map(|(name, doc)| minijinja::context! { name => *name, doc => *doc }).collect::<Vec<_>>(),
        };
        let api = minijinja::context! { title => spec.api.title.clone(), version => spec.api.version.clone() };
        Ok(vec![
            crate::GeneratedFile {
                path: format!("{dir}/Cargo.toml"),
                contents: self.render("crate/Cargo.toml.j2", minijinja::context! { header, crate => krate.clone() })?,
            },
            crate::GeneratedFile {
                path: format!("{dir}/README.md"),
                contents: self.render("crate/README.md.j2", minijinja::context! { header, crate => krate, api })?,
            },
        ])
    }
}

/// Up to three files are named; more are named by the folder they share and count.
fn summarize_sources(sources: &[String]) -> Vec<String> {
    if sources.len() <= 3 {
        return sources.to_vec();
    }
    // The folders every source shares (`examples/parcels/api-spec`), file names left out.
    let folders = |s: &String| -> Vec<String> {
        let mut parts: Vec<String> = s.split('/').map(str::to_owned).collect();
        parts.pop();
        parts
    };
    let mut common = sources.first().map(folders).unwrap_or_default();
    for source in sources {
        let theirs = folders(source);
        let shared = common.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
        common.truncate(shared);
    }
    if common.is_empty() {
        vec![format!("{} spec files", sources.len())]
    } else {
        vec![format!("{}/ ({} files)", common.join("/"), sources.len())]
    }
}

/// Turns text into a comment block: `#` and `//` prefix each line, `html` wraps it.
fn comment(text: &str, style: &str) -> String {
    match style {
        "html" => format!("<!--\n{}\n-->", text.trim_end()),
        marker => text
            .lines()
            .map(|l| if l.is_empty() { marker.to_owned() } else { format!("{marker} {l}") })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Text as a TSDoc block, its lines indented by `indent` spaces (the first line's
/// indent is the template's); `*/` in the text cannot end the comment.
fn tsdoc(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let text = text.trim().replace("*/", "*\\/");
    let mut out = String::from("/**");
    for line in text.lines() {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(if line.is_empty() { " *" } else { " * " });
        out.push_str(line.trim_end());
    }
    out.push('\n');
    out.push_str(&pad);
    out.push_str(" */");
    out
}

/// A Markdown heading anchor as GitHub makes it.
fn anchor(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' | '-' => Some('-'),
            c if c.is_alphanumeric() || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Text safe inside a Markdown table cell.
fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_versions_come_from_the_api_version() {
        assert_eq!(crate_version("2"), "2.0.0");
        assert_eq!(crate_version("2.1"), "2.1.0");
        assert_eq!(crate_version("v3.0.4"), "3.0.4");
    }

    #[test]
    fn every_template_parses() {
        let t = Templates::new();
        for (name, _) in TEMPLATES {
            assert!(t.env.get_template(name).is_ok(), "{name} does not parse");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(comment("a\n\nb", "//"), "// a\n//\n// b");
        assert_eq!(comment("a", "html"), "<!--\na\n-->");
        assert_eq!(anchor("GET /v2/links {slug}"), "get-v2links-slug");
        assert_eq!(table_cell("a|b\nc"), "a\\|b c");
        assert_eq!(tsdoc("One.\n\nTwo */ three", 2), "/**\n   * One.\n   *\n   * Two *\\/ three\n   */");
    }

    #[test]
    fn header_names_sources_and_command() {
        let h = Templates::new().header(&["api-spec/errors.yaml".to_owned()]).unwrap_or_default();
        assert!(h.starts_with("@generated by `cargo xtask codegen` from api-spec/errors.yaml."), "{h}");
        assert!(h.contains("Do not edit"));
    }
}
