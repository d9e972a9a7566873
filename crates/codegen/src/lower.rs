//! The lowered model: what every emitter needs to know about a route, decided once from
//! the validated spec, so that no two emitters (Rust, TypeScript, docs) can disagree on
//! which argument fills which path segment, which query types are the same, how a body
//! travels or where an idempotency key goes.

use std::collections::HashSet;

use heck::{ToLowerCamelCase, ToSnakeCase, ToUpperCamelCase};
use tenx_spec::{
    AuthKind, ErrorDef, Family, Field, IdempotencyCarrier, PathSegment, Route, Spec, Transport, TypeDef, TypeKind,
    TypeRef,
};

/// The spec with its routes lowered, built once by [`crate::generate`] and read by every
/// generator.
pub(crate) struct Model<'s> {
    /// The validated spec, for what is not lowered (yet).
    pub(crate) spec: &'s Spec,
    /// Every route, in spec order.
    pub(crate) routes: Vec<RouteModel<'s>>,
    /// The named types the routes use (bodies, answers, query and path parameters), with
    /// what they reach, in spec order: the models crate's types.
    pub(crate) types: Vec<&'s TypeDef>,
    /// The named types requests carry (bodies, query and path parameters), with what
    /// they reach.
    request_types: HashSet<&'s str>,
    /// The named types answers carry, with what they reach.
    answer_types: HashSet<&'s str>,
    /// The codes with typed details, in catalogue order, and the details' type names.
    pub(crate) detailed_errors: Vec<(&'s ErrorDef, &'s str)>,
    /// The details' named types, with what they reach, in spec order.
    pub(crate) detail_types: Vec<&'s TypeDef>,
    /// The JWT mode's session, when it declares one.
    pub(crate) session: Option<SessionModel<'s>>,
}

/// How a JWT session starts and renews: the routes are the lowered ones, by index.
pub(crate) struct SessionModel<'s> {
    /// The index of the login route in [`Model::routes`].
    login: usize,
    /// The index of the refresh route in [`Model::routes`].
    refresh: usize,
    /// The field of the login's and the refresh's answer holding the access token.
    pub(crate) token_field: &'s str,
    /// That field's name in the login answer's Rust struct.
    pub(crate) token_rust: String,
    /// The code that says an access token expired (the JWT mode's `expired`): the one a
    /// client refreshes on. `None`: the mode never says so, and clients never refresh.
    pub(crate) expired_code: Option<&'s str>,
}

impl<'s> Model<'s> {
    /// Lowers `spec`.
    pub(crate) fn new(spec: &'s Spec) -> Self {
        let bound = spec.pat_mode().map(|p| p.bound_to);
        let mut query_classes: Vec<(&[Field], String)> = Vec::new();
        let routes: Vec<RouteModel<'s>> = spec
            .routes()
            .map(|route| {
                let query = (!route.query.is_empty()).then(|| {
                    let name = format!("{}Query", route.id.value.to_upper_camel_case());
                    let same = |q: &[Field]| {
                        q.len() == route.query.len() && q.iter().zip(&route.query).all(|(a, b)| a.declares_like(b))
                    };
                    let same_as = query_classes.iter().find(|(q, _)| same(q)).map(|(_, n)| n.clone());
                    if same_as.is_none() {
                        query_classes.push((&route.query, name.clone()));
                    }
                    QueryModel { name, same_as, all_optional: route.query.iter().all(|f| f.optional) }
                });
                RouteModel::new(spec, route, bound, query)
            })
            .collect();
        let mut request_roots: Vec<&str> = Vec::new();
        let mut answer_roots: Vec<&str> = Vec::new();
        for r in spec.routes() {
            let params = r.query.iter().chain(&r.path_params).map(|f| &f.ty.value);
            request_roots.extend(r.request.iter().map(|t| &t.value).chain(params).filter_map(TypeRef::named));
            answer_roots.extend(r.response.iter().filter_map(|t| t.value.named()));
        }
        let names = |roots: &[&str]| -> HashSet<&'s str> {
            crate::rust_types::closure(spec, roots).into_iter().map(|t| t.name.as_str()).collect()
        };
        let (request_types, answer_types) = (names(&request_roots), names(&answer_roots));
        let all: Vec<&str> = request_roots.into_iter().chain(answer_roots).collect();
        let detailed_errors: Vec<(&ErrorDef, &str)> =
            spec.errors.iter().filter_map(|e| e.details.as_ref().map(|d| (e, d.value.as_str()))).collect();
        let detail_roots: Vec<&str> = detailed_errors.iter().map(|(_, ty)| *ty).collect();
        let jwt = spec.auth_mode(AuthKind::Jwt);
        let index = |id: &str| {
            spec.routes().position(|r| r.id.value == id).expect("the validator resolves the session's routes")
        };
        let session = jwt.and_then(|m| m.session.as_ref()).map(|s| {
            let login = index(&s.login.value);
            let answer =
                routes[login].route.response.as_ref().and_then(|t| t.value.named()).and_then(|n| spec.type_def(n));
            let Some(TypeKind::Object(fields)) = answer.map(|t| &t.kind) else {
                panic!("the validator holds the login's answer to an object type");
            };
            let token_rust = fields
                .iter()
                .zip(tenx_spec::rust_field_names(fields))
                .find_map(|(f, rust)| (f.name == s.token_field.value).then_some(rust))
                .expect("the validator holds the login's answer to a field named like the token field");
            SessionModel {
                login,
                refresh: index(&s.refresh.value),
                token_field: &s.token_field.value,
                token_rust,
                expired_code: jwt.and_then(|m| m.errors.expired.as_ref()).map(|c| c.value.as_str()),
            }
        });
        Model {
            spec,
            types: crate::rust_types::closure(spec, &all),
            request_types,
            answer_types,
            routes,
            detail_types: crate::rust_types::closure(spec, &detail_roots),
            detailed_errors,
            session,
        }
    }

    /// The session's login route.
    pub(crate) fn login(&self, session: &SessionModel<'s>) -> &RouteModel<'s> {
        &self.routes[session.login]
    }

    /// The session's refresh route.
    pub(crate) fn refresh(&self, session: &SessionModel<'s>) -> &RouteModel<'s> {
        &self.routes[session.refresh]
    }

    /// Where a client sends the credential of `kind`: the mode's first transport.
    ///
    /// # Panics
    /// When the spec declares no such mode, or the mode no transport: clients are made
    /// only for declared modes, and the validator refuses a credential mode without one.
    pub(crate) fn transport(&self, kind: AuthKind) -> &'s Transport {
        self.spec
            .auth_mode(kind)
            .and_then(|m| m.transports.first())
            .expect("a client is made only for a declared credential mode, and the validator gives each a transport")
    }

    /// Which way a named type crosses the wire.
    pub(crate) fn sides(&self, name: &str) -> Sides {
        Sides { request: self.request_types.contains(name), answer: self.answer_types.contains(name) }
    }

    /// The lowered route with this id.
    #[cfg(test)]
    pub(crate) fn route(&self, id: &str) -> Option<&RouteModel<'s>> {
        self.routes.iter().find(|r| r.route.id.value == id)
    }

    /// The lowered routes of `family` (routes are lowered in family order).
    pub(crate) fn routes_of(&self, family: &Family) -> &[RouteModel<'s>] {
        let start: usize =
            self.spec.families.iter().take_while(|f| !std::ptr::eq(*f, family)).map(|f| f.routes.len()).sum();
        self.routes.get(start..start + family.routes.len()).unwrap_or_default()
    }

    /// The auth kinds the spec has a client for: always `none`, then each mode it
    /// declares, in [`AuthKind::ALL`]'s order.
    pub(crate) fn client_kinds(&self) -> Vec<AuthKind> {
        AuthKind::ALL.into_iter().filter(|&k| k == AuthKind::None || self.spec.auth_mode(k).is_some()).collect()
    }
}

/// Which way a type crosses the wire: in a request (the client writes it, the server
/// reads it), in an answer (the reverse), or both.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Sides {
    /// Carried by a request.
    pub(crate) request: bool,
    /// Carried by an answer.
    pub(crate) answer: bool,
}

/// One route, lowered.
pub(crate) struct RouteModel<'s> {
    /// The route as the spec declares it.
    pub(crate) route: &'s Route,
    /// The id in lowerCamelCase (`upsertLink`): its TypeScript method.
    pub(crate) lower_camel: String,
    /// The path, segment by segment.
    pub(crate) segments: Vec<Segment<'s>>,
    /// Its query parameters' type, when it has any.
    pub(crate) query: Option<QueryModel>,
    /// How the request body travels.
    pub(crate) body: Payload<'s>,
    /// How the success answer's body travels.
    pub(crate) answer: Payload<'s>,
    /// The outcome type when several success statuses mean different things.
    pub(crate) outcome: Option<OutcomeModel<'s>>,
    /// Where its idempotency key goes.
    pub(crate) key: Option<&'s IdempotencyCarrier>,
    /// Every error code it may answer (declared and implied), in catalogue order.
    pub(crate) errors: Vec<&'s ErrorDef>,
    /// The auth kinds it accepts, in [`AuthKind::ALL`]'s order: one client method each.
    pub(crate) kinds: Vec<AuthKind>,
    /// The plan feature it needs, with the plan that unlocks it.
    pub(crate) gate: Option<Gate<'s>>,
}

/// A route's plan feature and the plan a caller needs for it.
#[derive(Clone, Copy)]
pub(crate) struct Gate<'s> {
    /// The feature.
    pub(crate) feature: &'s str,
    /// The first plan, in the spec's order (cheapest first), that unlocks it: the one a
    /// `feature_locked` answer names.
    pub(crate) plan: &'s str,
}

impl<'s> RouteModel<'s> {
    fn new(spec: &'s Spec, route: &'s Route, bound: Option<&'s str>, query: Option<QueryModel>) -> Self {
        let accepts_pat = route.accepts(AuthKind::Pat);
        let segments = route
            .segments()
            .into_iter()
            .map(|s| match s {
                PathSegment::Literal(text) => Segment::Literal(text),
                PathSegment::Param(name) => Segment::Param { name, pat_bound: accepts_pat && Some(name) == bound },
            })
            .collect();
        RouteModel {
            route,
            lower_camel: route.id.value.to_lower_camel_case(),
            segments,
            query,
            body: Payload::of(spec, route.request.as_ref().map(|t| &t.value)),
            answer: Payload::of(spec, route.response.as_ref().map(|t| &t.value)),
            outcome: (route.success.len() > 1).then(|| OutcomeModel {
                name: format!("{}Outcome", route.id.value.to_upper_camel_case()),
                variants: route
                    .success
                    .iter()
                    .map(|s| OutcomeVariant {
                        status: s.status,
                        wire: &s.outcome,
                        rust: s.outcome.to_upper_camel_case(),
                    })
                    .collect(),
            }),
            key: route.idempotency.as_ref().map(|i| &i.key),
            errors: spec.route_errors(route),
            kinds: AuthKind::ALL.into_iter().filter(|&k| route.accepts(k)).collect(),
            gate: route.feature.as_ref().map(|f| Gate {
                feature: &f.value,
                plan: &spec.required_plan(&f.value).expect("the validator refuses a feature that no plan unlocks").name,
            }),
        }
    }

    /// The path parameters a server handler receives, in declaration order: all but the
    /// one a PAT's binding fills on a route only PATs may call (the router has checked it
    /// against the token); a route other modes may call takes it from the path.
    pub(crate) fn handler_params(&self) -> impl Iterator<Item = &'s Field> + '_ {
        let pat_only = self.kinds == [AuthKind::Pat];
        let bound = |name: &str| {
            self.segments.iter().any(|s| matches!(*s, Segment::Param { name: n, pat_bound: true } if n == name))
        };
        self.route.path_params.iter().filter(move |p| !(pat_only && bound(&p.name)))
    }

    /// The path parameters a caller passes when calling through the client of `kind`: all
    /// but the one a PAT client fills from its binding.
    pub(crate) fn path_args(&self, kind: AuthKind) -> impl Iterator<Item = &'s str> + '_ {
        self.segments.iter().filter_map(move |s| match *s {
            Segment::Param { name, pat_bound } if !(pat_bound && kind == AuthKind::Pat) => Some(name),
            _ => None,
        })
    }
}

/// A route's typed outcome: one variant per success status.
pub(crate) struct OutcomeModel<'s> {
    /// The type's name (`UpsertLinkOutcome`).
    pub(crate) name: String,
    /// Its variants, in the spec's order of the statuses.
    pub(crate) variants: Vec<OutcomeVariant<'s>>,
}

/// One success status of a route with a typed outcome.
pub(crate) struct OutcomeVariant<'s> {
    /// The status.
    pub(crate) status: u16,
    /// The spec's name for what it means (`created`), as TypeScript's literal.
    pub(crate) wire: &'s str,
    /// The Rust variant (`Created`).
    pub(crate) rust: String,
}

/// A path parameter's argument name in generated Rust methods (client and server alike):
/// snake case, with `_` after it where it would take the name of an argument a method
/// may have beside its path parameters (`cx`, `auth`, `query`, `body`), so that a spec
/// with a `{body}` parameter still compiles. Keywords become raw identifiers later.
pub(crate) fn rust_param_name(name: &str) -> String {
    let snake = name.to_snake_case();
    match snake.as_str() {
        "cx" | "auth" | "query" | "body" => format!("{snake}_"),
        _ => snake,
    }
}

/// One segment of a route's path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Segment<'s> {
    /// Literal text.
    Literal(&'s str),
    /// A parameter; `pat_bound` when the PAT client fills it from its binding.
    Param {
        /// The placeholder's name.
        name: &'s str,
        /// Whether the route takes a PAT and this is the parameter PATs are bound to.
        pat_bound: bool,
    },
}

/// A route's query type.
pub(crate) struct QueryModel {
    /// Its own name (`ListLinksQuery`).
    pub(crate) name: String,
    /// The first route's query type with the same parameters, when there is one: this
    /// one is an alias of it.
    pub(crate) same_as: Option<String>,
    /// Whether every parameter may be left out (the argument may then be too).
    pub(crate) all_optional: bool,
}

/// How a body travels.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Payload<'s> {
    /// No body.
    None,
    /// JSON of this type; `free_form` when it is a named type the docs do not describe.
    Json {
        /// The type.
        ty: &'s TypeRef,
        /// Whether any JSON value is allowed.
        free_form: bool,
    },
    /// `text/plain; charset=utf-8`.
    Text,
    /// `application/octet-stream`.
    Binary,
}

impl<'s> Payload<'s> {
    fn of(spec: &Spec, ty: Option<&'s TypeRef>) -> Self {
        match ty {
            None => Payload::None,
            Some(TypeRef::Text) => Payload::Text,
            Some(TypeRef::Binary) => Payload::Binary,
            Some(ty) => {
                let free_form = matches!(ty, TypeRef::Json)
                    || matches!(ty, TypeRef::Named(n) if matches!(spec.type_def(n).map(|t| &t.kind), Some(TypeKind::Json)));
                Payload::Json { ty, free_form }
            }
        }
    }

    /// The name runtimes use for it: `none`, `json`, `text` or `binary`.
    pub(crate) fn wire_kind(self) -> &'static str {
        match self {
            Payload::None => "none",
            Payload::Json { .. } => "json",
            Payload::Text => "text",
            Payload::Binary => "binary",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ten_x() -> Spec {
        tenx_spec::load_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../api-spec")))
            .expect("the 10x spec loads")
    }

    #[test]
    fn the_pat_bound_parameter_is_filled_only_on_the_pat_client() {
        let spec = ten_x();
        let model = Model::new(&spec);
        let pat = model.route("pat_upsert_link").expect("route");
        assert_eq!(pat.path_args(AuthKind::Pat).collect::<Vec<_>>(), ["slug"]);
        let jwt = model.route("upsert_link").expect("route");
        assert_eq!(jwt.path_args(AuthKind::Jwt).collect::<Vec<_>>(), ["handle", "slug"]);
        assert!(!jwt.segments.iter().any(|s| matches!(s, Segment::Param { pat_bound: true, .. })));
        let outcome = jwt.outcome.as_ref().expect("upsert answers created or updated");
        assert_eq!(outcome.name, "UpsertLinkOutcome");
        let variants: Vec<(u16, &str, &str)> =
            outcome.variants.iter().map(|v| (v.status, v.wire, v.rust.as_str())).collect();
        assert_eq!(variants, [(200, "updated", "Updated"), (201, "created", "Created")]);
        // The server's handler: the router fills the binding only where PATs alone call.
        let names = |r: &RouteModel<'_>| r.handler_params().map(|f| f.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(pat), ["slug"]);
        assert_eq!(names(jwt), ["handle", "slug"]);
        assert_eq!(jwt.lower_camel, "upsertLink");
        assert!(jwt.gate.is_none());
        let gate = model.route("pat_list_pages").and_then(|r| r.gate).expect("a plan-gated route");
        assert_eq!((gate.feature, gate.plan), ("growth_tools", "PRO"));
    }

    #[test]
    fn path_parameters_never_take_another_arguments_name() {
        let names: Vec<String> =
            ["cx", "auth", "query", "body", "handle", "linkId", "type"].map(rust_param_name).into();
        assert_eq!(names, ["cx_", "auth_", "query_", "body_", "handle", "link_id", "type"]);
    }

    #[test]
    fn the_session_and_the_error_details_are_resolved_once() {
        let spec = ten_x();
        let model = Model::new(&spec);
        let session = model.session.as_ref().expect("the JWT mode has a session");
        assert_eq!(model.login(session).route.id.value, "login");
        assert_eq!(model.refresh(session).route.id.value, "refresh_session");
        assert_eq!((session.token_field, session.expired_code), ("accessToken", Some("token_expired")));
        assert_eq!(session.token_rust, "access_token");
        let detailed: Vec<(&str, &str)> = model.detailed_errors.iter().map(|(e, ty)| (e.code.as_str(), *ty)).collect();
        assert_eq!(detailed, [("feature_locked", "FeatureLockedDetails"), ("rate_limited", "RateLimitedDetails")]);
        let names: Vec<&str> = model.detail_types.iter().map(|t| t.name.as_str()).collect();
        assert!(names.contains(&"FeatureLockedDetails") && names.contains(&"RateLimitedDetails"), "{names:?}");
        assert_eq!(
            model.transport(AuthKind::Jwt),
            &tenx_spec::Transport::Header { name: "Authorization".into(), scheme: Some("Bearer".into()) }
        );
    }

    #[test]
    fn routes_with_the_same_query_share_the_first_ones_type() {
        let spec = ten_x();
        let model = Model::new(&spec);
        let queries: Vec<&QueryModel> = model.routes.iter().filter_map(|r| r.query.as_ref()).collect();
        let shared = queries.iter().filter(|q| q.same_as.is_some()).count();
        assert!(shared > 0, "the 10x spec repeats pagination");
        for q in &queries {
            if let Some(first) = &q.same_as {
                let owner = queries.iter().find(|o| &o.name == first).expect("the shared type exists");
                assert!(owner.same_as.is_none(), "{} aliases an alias", q.name);
            }
        }
    }
}
