//! Broken specs: each gives the diagnostic a maintainer needs, at the right place.

const MINIMAL: &str = include_str!("fixtures/minimal.yaml");

/// Loads the minimal spec with `from` replaced by `to` (which must occur once).
fn diagnostics_after(from: &str, to: &str) -> Vec<(String, u32, u32, Option<String>)> {
    assert_eq!(MINIMAL.matches(from).count(), 1, "`{from}` must occur once in the fixture");
    let text = MINIMAL.replacen(from, to, 1);
    match tenx_spec::load_str("minimal.yaml", &text) {
        Ok(_) => Vec::new(),
        Err(d) => d.items.iter().map(|i| (i.message.clone(), i.loc.line, i.loc.col, i.help.clone())).collect(),
    }
}

#[test]
fn the_fixture_is_valid() {
    if let Err(d) = tenx_spec::load_str("minimal.yaml", MINIMAL) {
        panic!("{d}");
    }
}

/// (what is broken, replace, with, expected message, line, column, expected help part)
const CASES: &[(&str, &str, &str, &str, u32, u32, &str)] = &[
    ("unknown auth mode", "auth: jwt\n", "auth: jtw\n", "unknown auth mode `jtw`", 75, 15, "did you mean `jwt`?"),
    (
        "unknown scope",
        "scopes: [links.read]",
        "scopes: [links.raed]",
        "unknown scope `links.raed`",
        85,
        18,
        "did you mean `links.read`?",
    ),
    (
        "unknown role",
        "min_role: CREATOR",
        "min_role: CRAETOR",
        "unknown role `CRAETOR`",
        76,
        19,
        "did you mean `CREATOR`?",
    ),
    (
        "unknown feature",
        "feature: growth_tools\n        response",
        "feature: growth_tool\n        response",
        "unknown feature `growth_tool`",
        86,
        18,
        "did you mean `growth_tools`?",
    ),
    (
        "unknown type",
        "response: Link\n        success",
        "response: Lnk\n        success",
        "unknown type `Lnk`",
        78,
        19,
        "did you mean `Link`?",
    ),
    (
        "unknown error code",
        "error: invalid_slug }",
        "error: invalid_slog }",
        "unknown error code `invalid_slog`",
        70,
        62,
        "did you mean `invalid_slug`?",
    ),
    (
        "unknown key",
        "        source: short-links.md\n      - id: pat_get_link",
        "        sorce: short-links.md\n      - id: pat_get_link",
        "unknown key `sorce` in a route",
        80,
        9,
        "did you mean `source`?",
    ),
    (
        "missing key",
        "        source: short-links.md\n      - id: pat_get_link",
        "      - id: pat_get_link",
        "a route has no `source`",
        72,
        9,
        "add `source: …`",
    ),
    (
        "duplicate route id",
        "id: pat_get_link",
        "id: upsert_link",
        "duplicate route id `upsert_link`",
        81,
        13,
        "first declared at line 72",
    ),
    (
        "duplicate method and path",
        "method: GET\n        path: /v2/public/handles/{handle}/links/{slug}",
        "method: PUT\n        path: /v2/handles/{handle}/links/{slug}",
        "duplicate method and path `PUT /v2/handles/{}/links/{}`",
        83,
        15,
        "first declared",
    ),
    (
        "undeclared path parameter",
        "/v2/public/handles/{handle}/links/{slug}",
        "/v2/public/handles/{handle}/links/{slug}/{rev}",
        "path parameter `rev` of `pat_get_link` is not declared",
        83,
        15,
        "add `rev: string`",
    ),
    (
        "PAT route outside its prefix",
        "/v2/public/handles/{handle}/links/{slug}",
        "/v2/handles/{handle}/pat/{slug}",
        "PAT route `pat_get_link` is outside `/v2/public/handles/{handle}/`",
        83,
        15,
        "bound to one handle",
    ),
    (
        "status against category",
        "status: 400, category: invalid_request",
        "status: 401, category: invalid_request",
        "status 401 disagrees with category `invalid_request` of `invalid_slug`",
        48,
        35,
        "belongs to category `authentication`",
    ),
    (
        "status against retry policy",
        "code: internal_error, status: 500, category: server, retry: backoff",
        "code: internal_error, status: 500, category: server, retry: never",
        "`internal_error` is a 500 with retry class `never`, but the retry policy says `backoff` for 500",
        50,
        37,
        "set `retry: backoff`",
    ),
    (
        "wrong value type",
        "requests_per_minute: 60",
        "requests_per_minute: sixty",
        "expected a whole number, found `sixty`",
        29,
        53,
        "non-negative integer",
    ),
    (
        "bad regex",
        "pattern: \"^[a-z]{4,24}$\" }\n      destinationUrl",
        "pattern: \"^[a-z{4,24}$\" }\n      destinationUrl",
        "is not a valid regular expression",
        63,
        38,
        "regex",
    ),
    (
        "scopes without PAT",
        "min_role: CREATOR\n",
        "min_role: CREATOR\n        scopes: [links.write]\n",
        "route `upsert_link` has scopes but does not accept a PAT",
        77,
        18,
        "add `pat` to `auth`",
    ),
    (
        "PAT route without scope",
        "        scopes: [links.read]\n",
        "",
        "PAT route `pat_get_link` names no scope",
        84,
        15,
        "add `scopes",
    ),
    (
        "duplicate YAML key",
        "        min_role: CREATOR\n",
        "        min_role: CREATOR\n        min_role: OWNER\n",
        "duplicate key `min_role`",
        77,
        9,
        "first set at line 76",
    ),
    (
        "attempts beyond the schedule",
        "max_attempts: 4",
        "max_attempts: 9",
        "`max_attempts` is 9, but the schedule allows 1 to 4 requests",
        38,
        17,
        "retries + 1",
    ),
    (
        "no plan unlocks a feature",
        "features: [growth_tools] }",
        "features: [] }",
        "no plan unlocks feature `growth_tools`",
        32,
        7,
        "cheapest plan",
    ),
    (
        "idempotency key not in body",
        "success: { 201: created, 200: updated }",
        "success: { 201: created, 200: updated }\n        idempotency: { key_field: idempotencyKey, repeat_status: 200, deduped_field: deduped }",
        "the request body of `upsert_link` has no field `idempotencyKey`",
        72,
        9,
        "expected one of",
    ),
    (
        "success status out of range",
        "201: created, 200: updated",
        "201: created, 404: updated",
        "success status 404 of `upsert_link` is not a 2xx or 3xx",
        79,
        34,
        "error catalogue",
    ),
    (
        "declared parameter not in the path",
        "        source: short-links.md\n      - id: pat_get_link",
        "        params: { rev: string }\n        source: short-links.md\n      - id: pat_get_link",
        "parameter `rev` of `upsert_link` is not in its path",
        80,
        19,
        "add `{rev}` to the path",
    ),
    (
        "type name not UpperCamelCase",
        "  Link:\n",
        "  link_type:\n",
        "type name `link_type` is not UpperCamelCase",
        61,
        3,
        "rename it `LinkType`",
    ),
    (
        "handle role without a handle",
        "path: /v2/handles/{handle}/links/{slug}",
        "path: /v2/links/{slug}",
        "route `upsert_link` needs the subject role `CREATOR` but its path has no `{handle}`",
        76,
        19,
        "platform role",
    ),
    (
        "a backoff wait finer than a millisecond",
        "backoff_seconds: [1, 2, 4]",
        "backoff_seconds: [1, 0.0005, 4]",
        "the backoff wait 0.0005 s is not a wait the client can keep",
        37,
        24,
        "whole milliseconds",
    ),
    (
        "a negative backoff wait",
        "backoff_seconds: [1, 2, 4]",
        "backoff_seconds: [1, -2, 4]",
        "the backoff wait -2 s is not a wait the client can keep",
        37,
        24,
        "above 0",
    ),
    (
        "jitter above one",
        "  max_attempts: 4\n",
        "  max_attempts: 4\n  jitter: 1.5\n",
        "`jitter` is 1.5, outside 0 to 1",
        39,
        11,
        "80 to 100%",
    ),
];

#[test]
fn each_broken_spec_gets_its_diagnostic_at_its_place() {
    let mut failures = Vec::new();
    for (what, from, to, message, line, col, help) in CASES {
        let diags = diagnostics_after(from, to);
        let found = diags.iter().find(|(m, ..)| m.contains(message));
        match found {
            Some((_, l, c, h)) if (*l, *c) == (*line, *col) && h.as_deref().unwrap_or("").contains(help) => {}
            _ => failures
                .push(format!("{what}: expected `{message}` at {line}:{col} with help `{help}`, got {diags:#?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(CASES.len() >= 15);
}

#[test]
fn five_unrelated_errors_are_all_reported() {
    let text = MINIMAL
        .replacen("auth: jwt\n", "auth: jtw\n", 1)
        .replacen("scopes: [links.read]", "scopes: [links.raed]", 1)
        .replacen("requests_per_minute: 60", "requests_per_minute: sixty", 1)
        .replacen("status: 400, category: invalid_request", "status: 401, category: invalid_request", 1)
        .replacen("response: Link\n        success", "response: Lnk\n        success", 1);
    let Err(d) = tenx_spec::load_str("minimal.yaml", &text) else { panic!("the broken spec loaded") };
    let messages: Vec<&str> = d.items.iter().map(|i| i.message.as_str()).collect();
    for expected in [
        "unknown auth mode `jtw`",
        "unknown scope `links.raed`",
        "expected a whole number, found `sixty`",
        "status 401 disagrees with category",
        "unknown type `Lnk`",
    ] {
        assert!(messages.iter().any(|m| m.contains(expected)), "missing `{expected}` in {messages:#?}");
    }
}

#[test]
fn rendering_shows_file_position_line_and_caret() {
    let text = MINIMAL.replacen("scopes: [links.read]", "scopes: [links.raed]", 1);
    let Err(d) = tenx_spec::load_str("api-spec/links.yaml", &text) else { panic!("the broken spec loaded") };
    let rendered = d.render();
    let expected = "\
error: unknown scope `links.raed`
   ┌─ api-spec/links.yaml:85:18
   │
85 │         scopes: [links.raed]
   │                  ^^^^^^^^^^
   │
   = at `families[0].routes[1].scopes[0]`
   = help: did you mean `links.read`?
";
    assert!(rendered.starts_with(expected), "{rendered}");
    assert!(rendered.ends_with("error: the spec has 1 problem\n"), "{rendered}");
}

/// What the validator says of one change to the fixture: `(message, line, help)`.
fn said(from: &str, to: &str) -> Vec<(String, u32, String)> {
    diagnostics_after(from, to).into_iter().map(|(m, line, _, help)| (m, line, help.unwrap_or_default())).collect()
}

#[test]
fn a_rate_limit_key_without_a_number_is_refused() {
    let d = said(
        "        source: short-links.md\n      - id: pat_get_link",
        "        rate_limit: ip\n        source: short-links.md\n      - id: pat_get_link",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "route `upsert_link` is rate limited per ip, but the spec gives no limit per ip");
    assert_eq!(d[0].1, 72);
    assert!(d[0].2.contains("rate_limits: { ip: { requests_per_minute: N, inferred: true } }"), "{}", d[0].2);
    // Declared, it validates; per user without a credential does not.
    let with_limits = "features:\n  - { name: growth_tools, description: PATs. }\nrate_limits:\n  ip: { requests_per_minute: 60, inferred: true }\n  user: { requests_per_minute: 300 }";
    let text = MINIMAL.replacen("features:\n  - { name: growth_tools, description: PATs. }", with_limits, 1).replacen(
        "        auth: jwt\n        min_role: CREATOR\n",
        "        auth: none\n        rate_limit: user\n",
        1,
    );
    let d = tenx_spec::load_str("minimal.yaml", &text)
        .err()
        .map(|d| d.items.iter().map(|i| i.message.clone()).collect::<Vec<_>>());
    assert_eq!(d, Some(vec!["route `upsert_link` is rate limited per user but takes no credential".to_owned()]));
}

#[test]
fn scalar_types_carry_their_checks_and_are_checked_themselves() {
    // A field of a scalar type gets its rule; the scalar must be a primitive with fitting checks.
    let scalar = "types:\n  Handle: { type: string, pattern: \"^[a-z]+$\", error: invalid_slug }\n  Scope: { type: string, catalogue: scopes }\n  Bad: { type: \"[string]\", pattern: x }\n  Worse: { type: integer, catalogue: roles }\n  FeatureLockedDetails:";
    let d = said("types:\n  FeatureLockedDetails:", scalar);
    let messages: Vec<&str> = d.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "scalar type `Bad` is a `[string]`",
            "`Worse` has string constraints but is a `integer`",
            "unknown catalogue `roles`",
        ],
        "{d:?}"
    );
    let text = MINIMAL
        .replacen(
            "types:\n  FeatureLockedDetails:",
            &scalar.replace(
                "  Bad: { type: \"[string]\", pattern: x }\n  Worse: { type: integer, catalogue: roles }\n",
                "",
            ),
            1,
        )
        .replacen("      handle: string\n", "      handle: Handle\n", 1);
    let spec = tenx_spec::load_str("minimal.yaml", &text).expect("valid");
    let route = spec.routes().next().expect("a route");
    let codes: Vec<&str> = spec.route_errors(route).iter().map(|e| e.code.as_str()).collect();
    assert!(codes.contains(&"invalid_slug"), "the scalar's code is implied: {codes:?}");
    assert_eq!(spec.wire_type(&route.path_params[0].ty.value), tenx_spec::TypeRef::String);
}

#[test]
fn a_context_token_names_a_known_code_and_lives_a_while() {
    let ctx = "features:\n  - { name: growth_tools, description: PATs. }\ncontext_token: { ttl_seconds: 0, param: \"c-t-x\", error: invalid_ctz, inferred: [ttl] }";
    let d = said("features:\n  - { name: growth_tools, description: PATs. }", ctx);
    let messages: Vec<&str> = d.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`c-t-x` cannot name a query parameter",
            "a context token that lives 0 seconds can never be spent",
            "unknown error code `invalid_ctz`",
            "unknown context_token key `ttl`",
        ],
        "{d:?}"
    );
}

#[test]
fn what_the_router_would_not_enforce_or_document_is_refused() {
    // A plan gate needs a handle whose plan it reads.
    let gated = "      - id: pat_get_link\n";
    let d = said(
        gated,
        "      - id: gated_without_handle\n        method: GET\n        path: /v2/things\n        auth: jwt\n        rate_limit: none\n        feature: growth_tools\n        source: x.md\n      - id: pat_get_link\n",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "route `gated_without_handle` is gated by `growth_tools` but its path has no `{handle}`");

    // A situation the router meets on a route needs its code in `answers`.
    let d = said("  feature_locked: feature_locked\n", "");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].0,
        "route `pat_get_link` can meet `feature_locked` (it has a plan `feature`), and `answers` names no code for it"
    );
    assert_eq!(d[0].2, "add `answers: { feature_locked: <a code of the catalogue> }`");
    // And that code must be of the situation's kind.
    let d = said("  rate_limited: rate_limited\n", "  rate_limited: invalid_slug\n");
    assert_eq!(d[0].0, "`invalid_slug` answers `rate_limited`, but it is a `invalid_request` error, not `rate_limit`");

    // A repeat's marker must be a field the answer type can carry.
    let d = said(
        "        success: { 201: created, 200: updated }\n",
        "        success: { 201: created, 200: updated }\n        idempotency: { key_field: slug, repeat_status: 200, deduped_field: deduped }\n",
    );
    let messages: Vec<&str> = d.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "route `upsert_link` can meet `unavailable` (it deduplicates, and an idempotency store that is full or \
             down refuses new keys), and `answers` names no code for it",
            "route `upsert_link` can meet `conflict` (it deduplicates, and a key reused with another body is \
             refused), and `answers` names no code for it",
            "a repeat of `upsert_link` is marked with `deduped`, which its answer type has no boolean field for",
        ]
    );
}

#[test]
fn types_written_in_place_are_named_after_their_owner_and_checked() {
    let inline = "      tags: { type: \"[string]\", optional: true }\n      \
                  state: { enum: [live, paused] }\n      \
                  owner:\n        optional: true\n        fields:\n          \
                  name: { type: string, max_length: 10 }\n          \
                  kind: { enum: [person, team] }\n";
    let text = MINIMAL.replacen("      tags: { type: \"[string]\", optional: true }\n", inline, 1);
    let spec = tenx_spec::load_str("minimal.yaml", &text).unwrap_or_else(|d| panic!("{d}"));
    let names: Vec<&str> = spec.types.iter().map(|t| t.name.as_str()).collect();
    assert!(names.ends_with(&["LinkState", "LinkOwnerKind", "LinkOwner"]), "{names:?}");
    let link = spec.type_def("Link").expect("Link");
    let tenx_spec::TypeKind::Object(fields) = &link.kind else { panic!("Link is an object") };
    let state = fields.iter().find(|f| f.name == "state").expect("state");
    assert_eq!(state.ty.value, tenx_spec::TypeRef::Named("LinkState".into()));
    assert!(state.inline_type.is_some());

    // A name that is taken already is refused where the inline type is written.
    let clash = text.replacen("  Link:\n", "  LinkState:\n    enum: [a]\n  Link:\n", 1);
    let Err(d) = tenx_spec::load_str("minimal.yaml", &clash) else { panic!("a clashing inline type loaded") };
    let at = d.items.iter().find(|i| i.message.contains("LinkState")).map(|i| (i.loc.line, i.message.clone()));
    assert_eq!(at.map(|(line, _)| line), Some(68), "{d}");
    // `type` and `enum` together are refused.
    let both = MINIMAL.replacen("slug: { type: string, pattern", "slug: { enum: [a], type: string, pattern", 1);
    let Err(d) = tenx_spec::load_str("minimal.yaml", &both) else { panic!("`type` and `enum` together loaded") };
    assert!(d.items.iter().any(|i| i.message.contains("more than one of `type`, `enum` and `fields`")), "{d}");
}

#[test]
fn text_and_binary_stand_only_for_whole_bodies() {
    let messages =
        |from: &str, to: &str| -> Vec<String> { diagnostics_after(from, to).into_iter().map(|(m, ..)| m).collect() };
    // Inside JSON, they are refused where written.
    let d = diagnostics_after("destinationUrl: { type: string, format: url }", "destinationUrl: { type: text }");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("`text` stands for a whole body, not a value in one", 64));
    let d = messages("response: Link\n        success", "response: \"[binary]\"\n        success");
    assert_eq!(d, ["`[binary]` stands for a whole body, not a value in one"]);
    // As a body they load; a deduplicating route must answer JSON, and a body key needs
    // a JSON body.
    assert!(messages("response: Link\n        success", "response: binary\n        success").is_empty());
    let d = messages(
        "request: Link\n        response: Link\n        success: { 201: created, 200: updated }\n",
        "request: text\n        response: text\n        success: { 201: created, 200: updated }\n        \
         idempotency: { key_field: idempotencyKey }\n",
    );
    assert!(d.contains(&"route `upsert_link` deduplicates, but answers `text`".to_owned()), "{d:?}");
    assert!(
        d.contains(&"route `upsert_link` takes a raw body, which has no field `idempotencyKey`".to_owned()),
        "{d:?}"
    );
}

#[test]
fn a_token_separator_is_one_character() {
    let d = diagnostics_after(r#"separator: ".""#, r#"separator: "::""#);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, "a separator is one character, not `::`");
    assert_eq!((d[0].1, d[0].2), (15, 50));
    assert!(diagnostics_after(r#"separator: ".""#, r#"separator: "~""#).is_empty());
}

/// The 10x spec with `from` replaced by `to` in one of its files: what the loader says.
fn ten_x_diagnostics_after(file: &str, from: &str, to: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec");
    let dir = tempfile::tempdir().expect("a temp dir");
    for entry in ["api.yaml", "errors.yaml", "types.yaml", "families"] {
        let from_path = root.join(entry);
        if from_path.is_dir() {
            std::fs::create_dir(dir.path().join(entry)).expect("mkdir");
            for f in std::fs::read_dir(&from_path).expect("read_dir") {
                let f = f.expect("entry").path();
                std::fs::copy(&f, dir.path().join(entry).join(f.file_name().expect("a name"))).expect("copy");
            }
        } else {
            std::fs::copy(&from_path, dir.path().join(entry)).expect("copy");
        }
    }
    let target = dir.path().join(file);
    let text = std::fs::read_to_string(&target).expect("read");
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once in {file}");
    std::fs::write(&target, text.replacen(from, to, 1)).expect("write");
    match tenx_spec::load_dir(dir.path()) {
        Ok(_) => Vec::new(),
        Err(tenx_spec::LoadError::Invalid(d)) => d.items.iter().map(|i| i.message.clone()).collect(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_session_refresh_route_takes_no_path_parameter() {
    let d =
        ten_x_diagnostics_after("families/01-auth.yaml", "path: /v2/auth/refresh", "path: /v2/auth/refresh/{handle}");
    assert!(
        d.contains(&"the session's refresh route `refresh_session` has a path parameter `handle`".to_owned()),
        "{d:?}"
    );
}

#[test]
fn type_names_generated_code_takes_are_refused() {
    let found = diagnostics_after("  Link:\n", "  Session:\n");
    assert!(
        found.iter().any(|(m, line, _, help)| m
            == "type name `Session` is taken by the generated clients or server, beside the spec's types"
            && *line == 61
            && help.as_deref() == Some("rename it (`SessionInfo`, say)")),
        "{found:?}"
    );
    // A route's own outcome type: `upsert_link` answers 200 or 201.
    let found = diagnostics_after("  Link:\n", "  UpsertLinkOutcome:\n");
    assert!(
        found.iter().any(|(m, line, _, _)| m
            == "type `UpsertLinkOutcome` has the name codegen gives the outcome of route `upsert_link`"
            && *line == 61),
        "{found:?}"
    );
}

#[test]
fn a_write_route_may_answer_unavailable_when_the_api_names_the_code() {
    let errors = |text: &str| -> Vec<(String, Vec<String>)> {
        let spec = tenx_spec::load_str("minimal.yaml", text).unwrap_or_else(|d| panic!("{d}"));
        spec.routes()
            .map(|r| (r.method.as_str().to_owned(), spec.route_errors(r).iter().map(|e| e.code.clone()).collect()))
            .collect()
    };
    // The fixture names no `unavailable` code: no route is said to answer one.
    assert!(errors(MINIMAL).iter().all(|(_, codes)| !codes.iter().any(|c| c == "service_unavailable")));
    let named = MINIMAL
        .replacen(
            "types:\n",
            "  - { code: service_unavailable, category: server, status: 503, retry: backoff, meaning: Busy., fix: Retry. }\ntypes:\n",
            1,
        )
        .replacen("  internal: internal_error", "  unavailable: service_unavailable\n  internal: internal_error", 1);
    for (method, codes) in errors(&named) {
        let writes = method != "GET" && method != "HEAD";
        assert_eq!(codes.iter().any(|c| c == "service_unavailable"), writes, "{method}: {codes:?}");
    }
}
