//! Mutations of the 10x spec, one (or a pair) per rule: each must give its rule, on its
//! target, with its wire and source levels and the bump it implies; changes that are not
//! changes (order, comments, descriptions) must give nothing. Then the gate.

use std::path::Path;

use tenx_spec::{SourceMap, Spec};
use tenx_spec_diff::{Bump, Level, diff};

use Level::{Breaking, Info, Warning};

fn files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec");
    let mut paths: Vec<_> = std::fs::read_dir(dir.join("families"))
        .expect("families")
        .chain(std::fs::read_dir(&dir).expect("api-spec"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths.into_iter().map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("spec file"))).collect()
}

fn load(files: &[(String, String)]) -> Spec {
    let mut sources = SourceMap::default();
    for (name, text) in files {
        sources.add(name.clone(), text.clone());
    }
    tenx_spec::load_sources_lenient(sources).map(|(spec, _)| spec).unwrap_or_else(|d| panic!("{d}"))
}

/// The spec with `from` replaced by `to` in the file whose name ends with `file`.
fn mutated(base: &[(String, String)], file: &str, from: &str, to: &str) -> Spec {
    let mut files = base.to_vec();
    let (name, text) = files.iter_mut().find(|(n, _)| n.ends_with(file)).unwrap_or_else(|| panic!("no {file}"));
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once in {name}");
    *text = text.replacen(from, to, 1);
    load(&files)
}

/// (rule, target, wire, source, bump, file, from, to)
type Case = (&'static str, &'static str, Level, Level, Bump, &'static str, &'static str, &'static str);

const LINKS: &str = "07-links.yaml";
const TOKENS: &str = "06-tokens.yaml";
const RUNTIME: &str = "14-public-runtime.yaml";
const TYPES: &str = "types.yaml";
const API: &str = "api.yaml";
const ERRORS: &str = "errors.yaml";

const PAT_LIST: &str =
    "        auth: pat\n        scopes: [links.read]\n        feature: growth_tools\n        response: LinkList";

const CASES: &[Case] = &[
    // Routes.
    (
        "route.removed",
        "delete_link",
        Breaking,
        Breaking,
        Bump::Major,
        LINKS,
        "      - id: delete_link\n        method: DELETE\n        path: /v2/handles/{handle}/links/{slug}\n        summary: Delete a link for good.\n        auth: jwt\n        min_role: CREATOR\n        source: uc-05-link-crud-redirect-behavior.md\n",
        "",
    ),
    ("route.renamed", "delete_link", Info, Breaking, Bump::Major, LINKS, "id: delete_link", "id: remove_link"),
    (
        "route.added",
        "list_links_v3",
        Info,
        Info,
        Bump::Minor,
        LINKS,
        "      - id: get_link\n",
        "      - id: list_links_v3\n        method: GET\n        path: /v2/handles/{handle}/links-v3\n        summary: New.\n        auth: jwt\n        source: short-links.md\n      - id: get_link\n",
    ),
    (
        "route.path_changed",
        "get_link_history",
        Breaking,
        Warning,
        Bump::Major,
        LINKS,
        "path: /v2/handles/{handle}/links/{slug}/history",
        "path: /v2/handles/{handle}/links/{slug}/versions",
    ),
    (
        "route.auth_removed",
        "get_link",
        Breaking,
        Breaking,
        Bump::Major,
        LINKS,
        "summary: One link.\n        auth: jwt\n        min_role: CREATOR",
        "summary: One link.\n        auth: none",
    ),
    (
        "route.auth_added",
        "resolve_context",
        Info,
        Info,
        Bump::Minor,
        RUNTIME,
        "summary: Resolve a `ctx` token to its attribution and variables.\n        auth: none",
        "summary: Resolve a `ctx` token to its attribution and variables.\n        auth: [none, jwt]",
    ),
    (
        "route.scope_added",
        "pat_list_links",
        Breaking,
        Info,
        Bump::Major,
        LINKS,
        PAT_LIST,
        "        auth: pat\n        scopes: [links.read, links.write]\n        feature: growth_tools\n        response: LinkList",
    ),
    // (A PAT route without scopes is refused by the validator; the diff reads it anyway.)
    (
        "route.scope_removed",
        "pat_list_links",
        Info,
        Info,
        Bump::Patch,
        LINKS,
        PAT_LIST,
        "        auth: pat\n        scopes: []\n        feature: growth_tools\n        response: LinkList",
    ),
    (
        "route.role_raised",
        "get_link",
        Breaking,
        Info,
        Bump::Major,
        LINKS,
        "summary: One link.\n        auth: jwt\n        min_role: CREATOR",
        "summary: One link.\n        auth: jwt\n        min_role: OWNER",
    ),
    (
        "route.role_lowered",
        "create_token",
        Info,
        Info,
        Bump::Patch,
        TOKENS,
        "summary: Mint a PAT for the handle; the secret is shown only in this answer.\n        auth: jwt\n        min_role: OPERATOR",
        "summary: Mint a PAT for the handle; the secret is shown only in this answer.\n        auth: jwt\n        min_role: CREATOR",
    ),
    (
        "route.role_removed",
        "get_link",
        Info,
        Info,
        Bump::Patch,
        LINKS,
        "summary: One link.\n        auth: jwt\n        min_role: CREATOR\n",
        "summary: One link.\n        auth: jwt\n",
    ),
    (
        "route.feature_added",
        "get_link",
        Breaking,
        Info,
        Bump::Major,
        LINKS,
        "summary: One link.\n        auth: jwt\n        min_role: CREATOR",
        "summary: One link.\n        auth: jwt\n        min_role: CREATOR\n        feature: exports",
    ),
    (
        "route.feature_removed",
        "pat_list_links",
        Info,
        Info,
        Bump::Patch,
        LINKS,
        PAT_LIST,
        "        auth: pat\n        scopes: [links.read]\n        response: LinkList",
    ),
    (
        "route.feature_dearer",
        "pat_list_links",
        Breaking,
        Info,
        Bump::Major,
        LINKS,
        PAT_LIST,
        "        auth: pat\n        scopes: [links.read]\n        feature: paid_page_access\n        response: LinkList",
    ),
    (
        "route.idempotency_removed",
        "record_conversion",
        Breaking,
        Info,
        Bump::Major,
        RUNTIME,
        "        idempotency: { key_field: idempotencyKey, repeat_status: 200, deduped_field: deduped }\n",
        "",
    ),
    (
        "route.success_removed",
        "create_token",
        Breaking,
        Breaking,
        Bump::Major,
        TOKENS,
        "success: { 201: created }",
        "success: { 200: ok }",
    ),
    (
        "route.rate_limit_changed",
        "record_conversion",
        Warning,
        Info,
        Bump::Patch,
        RUNTIME,
        "request: ConversionRequest\n",
        "request: ConversionRequest\n        rate_limit: none\n",
    ),
    (
        "route.response_changed",
        "get_link",
        Breaking,
        Breaking,
        Bump::Major,
        LINKS,
        "min_role: CREATOR\n        response: Link\n        source: uc-05",
        "min_role: CREATOR\n        response: json\n        source: uc-05",
    ),
    (
        "route.errors_added",
        "delete_link",
        Warning,
        Info,
        Bump::Patch,
        LINKS,
        "summary: Delete a link for good.\n        auth: jwt\n        min_role: CREATOR\n",
        "summary: Delete a link for good.\n        auth: jwt\n        min_role: CREATOR\n        errors: [conflict]\n",
    ),
    (
        "route.param_added",
        "resolve_context.lang",
        Info,
        Warning,
        Bump::Minor,
        RUNTIME,
        "          ctx: { type: string, min_length: 1, error: invalid_ctx, description: The context token from the redirect. }\n",
        "          ctx: { type: string, min_length: 1, error: invalid_ctx, description: The context token from the redirect. }\n          lang: { type: string, optional: true }\n",
    ),
    (
        "route.param_changed",
        "get_link.slug",
        Breaking,
        Info,
        Bump::Major,
        LINKS,
        "pattern: \"^[A-Za-z0-9_-]{4,24}$\"",
        "pattern: \"^[a-z0-9_-]{4,24}$\"",
    ),
    // Catalogues.
    (
        "scope.removed",
        "agent.strategy.read",
        Breaking,
        Info,
        Bump::Major,
        API,
        "  - name: agent.strategy.read\n    description: Retrieve strategy examples and context for a handle's agent.\n    source: ops-lab-strategy-repository.md\n",
        "",
    ),
    (
        "scope.added",
        "links.admin",
        Info,
        Info,
        Bump::Minor,
        API,
        "scopes:\n  - { name: links.read,",
        "scopes:\n  - { name: links.admin, description: \"New.\", source: x.md }\n  - { name: links.read,",
    ),
    ("auth.transport_removed", "pat", Breaking, Info, Bump::Major, API, "        - { header: x-api-key }\n", ""),
    (
        "plan.limit_lowered",
        "PRO",
        Breaking,
        Info,
        Bump::Major,
        API,
        "requests_per_minute: 300\n    writes_per_day: 10",
        "requests_per_minute: 200\n    writes_per_day: 10",
    ),
    (
        "plan.limit_raised",
        "FREE",
        Info,
        Info,
        Bump::Minor,
        API,
        "requests_per_minute: 60\n    writes_per_day: 2",
        "requests_per_minute: 60\n    writes_per_day: 5",
    ),
    (
        "plan.feature_removed",
        "BUSINESS",
        Breaking,
        Info,
        Bump::Major,
        API,
        "features: [growth_tools, exports, creator_pages, stripe_connect, paid_page_access]",
        "features: [growth_tools, exports, creator_pages, stripe_connect]",
    ),
    (
        "plan.added",
        "ENTERPRISE",
        Info,
        Info,
        Bump::Minor,
        API,
        "features:\n  - name: growth_tools",
        "  - name: ENTERPRISE\n    title: Enterprise\n    requests_per_minute: 5000\n    features: [growth_tools, exports, creator_pages, stripe_connect, paid_page_access]\n\nfeatures:\n  - name: growth_tools",
    ),
    (
        "limit.lowered",
        "ip",
        Breaking,
        Info,
        Bump::Major,
        API,
        "ip: { requests_per_minute: 60, inferred: true }",
        "ip: { requests_per_minute: 30, inferred: true }",
    ),
    (
        "limit.raised",
        "user",
        Info,
        Info,
        Bump::Minor,
        API,
        "user: { requests_per_minute: 300, inferred: true }",
        "user: { requests_per_minute: 600, inferred: true }",
    ),
    (
        "error.status_changed",
        "conflict",
        Breaking,
        Info,
        Bump::Major,
        ERRORS,
        "  - code: conflict\n    status: 409\n    category: conflict",
        "  - code: conflict\n    status: 400\n    category: invalid_request",
    ),
    (
        "error.added",
        "gone_for_good",
        Info,
        Warning,
        Bump::Minor,
        ERRORS,
        "  - code: conflict\n",
        "  - code: gone_for_good\n    status: 410\n    category: gone\n    retry: never\n    meaning: Gone.\n    fix: Stop.\n    source: x.md\n  - code: conflict\n",
    ),
    (
        "retry.policy_changed",
        "retry",
        Warning,
        Info,
        Bump::Patch,
        API,
        "backoff_seconds: [1, 2, 4, 8, 16]",
        "backoff_seconds: [1, 2, 4, 8, 30]",
    ),
    // Types, by direction.
    (
        "field.added",
        "UpsertLinkRequest.campaign",
        Breaking,
        Breaking,
        Bump::Major,
        TYPES,
        "        description: Where visitors land; an absolute http(s) URL.\n",
        "        description: Where visitors land; an absolute http(s) URL.\n      campaign: string\n",
    ),
    (
        "field.added",
        "AnalyticsReport.sessions",
        Info,
        Warning,
        Bump::Minor,
        TYPES,
        "      clicks: { type: integer, description: All clicks. }\n",
        "      clicks: { type: integer, description: All clicks. }\n      sessions: { type: integer, description: Sessions. }\n",
    ),
    (
        "field.removed",
        "AnalyticsReport.impressions",
        Breaking,
        Breaking,
        Bump::Major,
        TYPES,
        "      impressions: { type: integer, description: Impressions. }\n",
        "",
    ),
    // A request field the server stops reading: callers still work, their code does not compile.
    (
        "field.removed",
        "LinkTracking.utmSource",
        Warning,
        Breaking,
        Bump::Major,
        TYPES,
        "      utmSource: { type: string, optional: true",
        "      utmSourceX: { type: string, optional: true",
    ),
    (
        "field.required",
        "CreateTokenRequest.expiresInDays",
        Breaking,
        Breaking,
        Bump::Major,
        TYPES,
        "        type: integer\n        optional: true\n        minimum: 1\n        maximum: 3650",
        "        type: integer\n        minimum: 1\n        maximum: 3650",
    ),
    (
        "field.optional",
        "AnalyticsReport.conversions",
        Breaking,
        Breaking,
        Bump::Major,
        TYPES,
        "conversions: { type: integer, description: Conversions recorded. }",
        "conversions: { type: integer, optional: true, description: Conversions recorded. }",
    ),
    (
        "field.type_changed",
        "AnalyticsReport.clicks",
        Breaking,
        Breaking,
        Bump::Major,
        TYPES,
        "clicks: { type: integer, description: All clicks. }",
        "clicks: { type: number, description: All clicks. }",
    ),
    (
        "field.tightened",
        "Handle",
        Breaking,
        Info,
        Bump::Major,
        TYPES,
        "pattern: \"^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$\"",
        "pattern: \"^[a-z0-9][a-z0-9-]{1,18}[a-z0-9]$\"",
    ),
    (
        "field.tightened",
        "LinkTracking.utmSource",
        Breaking,
        Info,
        Bump::Major,
        TYPES,
        "      utmSource: { type: string, optional: true",
        "      utmSource: { type: string, max_length: 64, optional: true",
    ),
    (
        "field.loosened",
        "UpsertLinkRequest.password",
        Info,
        Info,
        Bump::Patch,
        TYPES,
        "max_length: 128, description: Visitors must enter it",
        "max_length: 256, description: Visitors must enter it",
    ),
    (
        "enum.value_added",
        "FreshnessStatus.LAGGING",
        Warning,
        Warning,
        Bump::Minor,
        TYPES,
        "enum: [FRESH, STALE, UNKNOWN]",
        "enum: [FRESH, STALE, UNKNOWN, LAGGING]",
    ),
    (
        "enum.value_added",
        "AnalyticsGroupBy.hour",
        Info,
        Warning,
        Bump::Minor,
        TYPES,
        "enum: [day, slug, country, device, referrer, segment]",
        "enum: [day, slug, country, device, referrer, segment, hour]",
    ),
    (
        "enum.value_removed",
        "AnalyticsGroupBy.segment",
        Breaking,
        Breaking,
        Bump::Major,
        TYPES,
        "enum: [day, slug, country, device, referrer, segment]",
        "enum: [day, slug, country, device, referrer]",
    ),
    (
        "enum.value_removed",
        "FreshnessStatus.UNKNOWN",
        Info,
        Breaking,
        Bump::Major,
        TYPES,
        "enum: [FRESH, STALE, UNKNOWN]",
        "enum: [FRESH, STALE]",
    ),
    (
        "type.added",
        "Unused",
        Info,
        Info,
        Bump::Minor,
        TYPES,
        "types:\n",
        "types:\n  Unused:\n    fields:\n      a: string\n\n",
    ),
];

#[test]
fn each_mutation_gives_its_rule_levels_and_bump() {
    let base = files();
    let old = load(&base);
    let mut failures = Vec::new();
    for (rule, target, wire, source, bump, file, from, to) in CASES {
        let new = mutated(&base, file, from, to);
        let report = diff(&old, &new);
        let found = report.changes.iter().find(|c| c.rule == *rule && c.target == *target);
        match found {
            None => failures.push(format!(
                "{rule} {target}: not reported; got {:?}",
                report.changes.iter().map(|c| (c.rule, c.target.as_str())).collect::<Vec<_>>()
            )),
            Some(c) if (c.wire, c.source) != (*wire, *source) => {
                failures
                    .push(format!("{rule} {target}: levels {:?}/{:?}, expected {wire:?}/{source:?}", c.wire, c.source));
            }
            Some(_) if report.bump != *bump => {
                failures
                    .push(format!("{rule} {target}: bump {:?}, expected {bump:?} ({:?})", report.bump, report.changes));
            }
            Some(_) => {}
        }
    }
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let rules: std::collections::BTreeSet<&str> = CASES.iter().map(|c| c.0).collect();
    assert!(rules.len() >= 40, "{} distinct rules covered", rules.len());
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn order_comments_and_descriptions_are_not_changes() {
    let base = files();
    let old = load(&base);
    let quiet = [
        (TYPES, "enum: [FRESH, STALE, UNKNOWN]", "enum: [FRESH, STALE, UNKNOWN] # a comment"),
        (LINKS, "summary: One link.", "summary: A single link, described anew."),
        (TYPES, "description: The fields of a link; the slug is in the path.", "description: Reworded."),
        (
            API,
            "scopes:\n  - { name: links.read, description: \"List and read links.\", source: api-tokens-and-automations.md }\n  - { name: links.write, description: \"Create, update and delete links.\", source: api-tokens-and-automations.md }",
            "scopes:\n  - { name: links.write, description: \"Create, update and delete links.\", source: api-tokens-and-automations.md }\n  - { name: links.read, description: \"List and read links.\", source: api-tokens-and-automations.md }",
        ),
        (
            TYPES,
            "      clicks: { type: integer, description: All clicks. }\n      qualifiedClicks: { type: integer, description: Clicks that passed bot filtering. }\n",
            "      qualifiedClicks: { type: integer, description: Clicks that passed bot filtering. }\n      clicks: { type: integer, description: All clicks. }\n",
        ),
    ];
    for (file, from, to) in quiet {
        let report = diff(&old, &mutated(&base, file, from, to));
        assert!(report.changes.is_empty(), "{from:?} -> {to:?}: {:?}", report.changes);
        assert_eq!(report.bump, Bump::Patch);
    }
    assert!(diff(&old, &old).changes.is_empty());
}

#[test]
fn the_gate_fails_a_break_until_the_version_moves_or_the_spec_accepts_it() {
    let base = files();
    let old = load(&base);
    let scope = "        auth: pat\n        scopes: [links.read, links.write]\n        feature: growth_tools\n        response: LinkList";
    let broken = mutated(&base, LINKS, PAT_LIST, scope);
    let report = diff(&old, &broken);
    let why = report.gate().expect_err("a break without a major bump");
    assert!(why.contains("route.scope_added pat_list_links") && why.contains("Bump `api.version` to 3"), "{why}");

    let mut bumped = base.clone();
    for (name, text) in &mut bumped {
        if name.ends_with(LINKS) {
            *text = text.replacen(PAT_LIST, scope, 1);
        }
        if name.ends_with(API) {
            *text = text.replacen("version: \"2\"", "version: \"3\"", 1);
        }
    }
    assert!(diff(&old, &load(&bumped)).gate().is_ok(), "a major bump covers it");

    let mut accepted = base.clone();
    for (name, text) in &mut accepted {
        if name.ends_with(LINKS) {
            *text = text.replacen(PAT_LIST, scope, 1);
        }
        if name.ends_with(API) {
            let entry =
                "  - { rule: route.scope_added, target: pat_list_*, reason: \"Listing now needs write access.\" }\n";
            *text = text.replacen("breaking_ok:\n", &format!("breaking_ok:\n{entry}"), 1);
        }
    }
    let report = diff(&old, &load(&accepted));
    assert!(report.gate().is_ok(), "{:?}", report.gate());
    assert_eq!(report.changes[0].accepted.as_deref(), Some("Listing now needs write access."));
    let table = tenx_spec_diff::render_table(&report);
    assert!(table.contains("[accepted: Listing now needs write access.]"), "{table}");
}
