//! The validated spec: what codegen and the runtimes read. Emitters never read YAML.
//!
//! Names of things the spec refers to (scopes, roles, features, error codes, types) are
//! kept as the spec spells them, wrapped in [`Spanned`] where a diagnostic may need to
//! point at them. After validation every such reference resolves.

use crate::source::{Loc, Spanned};

/// The whole API.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name, title, version, base URL.
    pub api: Api,
    /// The authentication modes, in spec order.
    pub auth_modes: Vec<AuthMode>,
    /// How a granted PAT scope satisfies a required one.
    pub scope_rule: ScopeRule,
    /// Every PAT scope, in spec order.
    pub scopes: Vec<ScopeDef>,
    /// Roles: handle roles from least to most powerful, then platform roles.
    pub roles: Vec<RoleDef>,
    /// Plans from cheapest to richest.
    pub plans: Vec<Plan>,
    /// Plan features (gates).
    pub features: Vec<Feature>,
    /// The daily write quota rule, if the API has one.
    pub write_quota: Option<WriteQuota>,
    /// The retry policy clients follow.
    pub retry: RetryPolicy,
    /// The error catalogue, in spec order.
    pub errors: Vec<ErrorDef>,
    /// Named request, response and detail types, in spec order.
    pub types: Vec<TypeDef>,
    /// Route families (tags), each with its routes, in spec order.
    pub families: Vec<Family>,
    /// Request limits of routes not counted per handle: per user and per client IP.
    pub rate_limits: RateLimits,
    /// The signed click context (`ctx`) minted at redirect time, if the API has one.
    pub context_token: Option<ContextToken>,
    /// Breaking changes made on purpose, each with its reason (read by `spec-diff`).
    pub breaking_ok: Vec<AcceptedBreak>,
    /// Which catalogue code the runtimes answer in each situation no route names.
    pub answers: Answers,
    /// The spec files this was loaded from, as named to the loader.
    pub source_files: Vec<String>,
}

/// Identity of the API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Machine name, used for crate names (`tenx`).
    pub name: String,
    /// Human title.
    pub title: String,
    /// The API's version.
    pub version: String,
    /// The production base URL.
    pub base_url: String,
    /// What the API is.
    pub description: String,
    /// The path parameter naming the tenant that roles, plans, per-subject rate limits
    /// and PAT bindings apply to (`handle` in 10x, `account` elsewhere); `None` when the
    /// API has no such tenant.
    pub subject: Option<Spanned<String>>,
    /// Where the `api` section is.
    pub loc: Loc,
}

impl Api {
    /// The subject parameter's name, if the API has one.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_ref().map(|s| s.value.as_str())
    }
}

/// The four kinds of authentication the toolkit knows how to enforce and send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuthKind {
    /// A user session token (`Authorization: Bearer <jwt>`).
    Jwt,
    /// A personal access token bound to one handle.
    Pat,
    /// The visitor session cookie.
    VisitorCookie,
    /// No credential.
    None,
}

impl AuthKind {
    /// Every kind, in the order the spec documents them.
    pub const ALL: [AuthKind; 4] = [AuthKind::Jwt, AuthKind::Pat, AuthKind::VisitorCookie, AuthKind::None];

    /// The spec's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Jwt => "jwt",
            AuthKind::Pat => "pat",
            AuthKind::VisitorCookie => "visitor_cookie",
            AuthKind::None => "none",
        }
    }

    /// The kind with this spec name.
    pub fn from_name(name: &str) -> Option<AuthKind> {
        AuthKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// How a credential travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// In a header, with an optional scheme (`Authorization: Bearer …`).
    Header {
        /// Header name.
        name: String,
        /// Scheme word before the credential, if any.
        scheme: Option<String>,
    },
    /// In a cookie.
    Cookie {
        /// Cookie name.
        name: String,
    },
}

/// One authentication mode.
#[derive(Debug, Clone)]
pub struct AuthMode {
    /// Which mode.
    pub kind: AuthKind,
    /// What it is for.
    pub description: String,
    /// How the credential is passed; the first is canonical, the rest are also accepted.
    pub transports: Vec<Transport>,
    /// The token format (PAT only).
    pub token_format: Option<TokenFormat>,
    /// The path parameter the credential is bound to (PAT: `handle`).
    pub bound_to: Option<String>,
    /// The path prefix its routes must live under (PAT: `/v2/public/handles/{handle}/`).
    pub route_prefix: Option<String>,
    /// How long a credential lives, in days, where documented.
    pub lifetime_days: Option<u32>,
    /// The error codes for a missing, an invalid and an expired credential.
    pub errors: AuthErrors,
    /// How a session starts and refreshes (JWT only).
    pub session: Option<SessionSpec>,
    /// The doc page this comes from.
    pub source: String,
    /// Where the mode is declared.
    pub loc: Loc,
}

/// A validated spec's PAT mode: what is optional on [`AuthMode`] is there.
#[derive(Debug, Clone, Copy)]
pub struct PatMode<'a> {
    /// The mode as declared.
    pub mode: &'a AuthMode,
    /// The token format.
    pub format: &'a TokenFormat,
    /// The path parameter a token is bound to (`handle`).
    pub bound_to: &'a str,
}

/// Error codes a credential check answers with.
#[derive(Debug, Clone, Default)]
pub struct AuthErrors {
    /// No credential at all.
    pub missing: Option<Spanned<String>>,
    /// Malformed, unknown, revoked or wrong secret.
    pub invalid: Option<Spanned<String>>,
    /// Past its expiry.
    pub expired: Option<Spanned<String>>,
    /// Used on another resource than the one it is bound to (PAT on another handle).
    pub wrong_binding: Option<Spanned<String>>,
}

/// The routes that start and refresh a user session.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    /// The route id of login (it answers with the token and sets the refresh cookie).
    pub login: Spanned<String>,
    /// The route id of refresh (it reads the refresh cookie).
    pub refresh: Spanned<String>,
    /// The response field holding the access token.
    pub token_field: Spanned<String>,
}

/// The shape of a token: `prefix` + id + `separator` + secret.
#[derive(Debug, Clone)]
pub struct TokenFormat {
    /// Literal prefix (`patv1_`).
    pub prefix: String,
    /// Character between token id and secret (`.`).
    pub separator: char,
    /// The documented format, for messages (`patv1_<tokenId>.<secret>`).
    pub display: String,
}

pub use tenx_auth::ScopeRule;

/// One PAT scope.
#[derive(Debug, Clone)]
pub struct ScopeDef {
    /// The scope as written in tokens (`links.write`, `analytics.*`).
    pub name: String,
    /// What it allows.
    pub description: String,
    /// The doc page this comes from.
    pub source: String,
    /// Where it is declared.
    pub loc: Loc,
}

/// Where a role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleLevel {
    /// A role on one handle; handle roles are ordered.
    Handle,
    /// A platform-wide role, outside the handle order.
    Platform,
}

/// One role.
#[derive(Debug, Clone)]
pub struct RoleDef {
    /// Wire name (`OPERATOR`).
    pub name: String,
    /// Handle or platform role.
    pub level: RoleLevel,
    /// What it may do.
    pub description: String,
    /// Where it is declared.
    pub loc: Loc,
}

/// One plan tier.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Wire name (`PRO`).
    pub name: String,
    /// Display name (`Pro`).
    pub title: String,
    /// Per-handle requests per minute.
    pub requests_per_minute: u32,
    /// Daily write quota, if any.
    pub writes_per_day: Option<u32>,
    /// Features this plan unlocks (including those of cheaper plans, listed explicitly).
    pub features: Vec<Spanned<String>>,
    /// Where it is declared.
    pub loc: Loc,
}

/// A plan feature (gate).
#[derive(Debug, Clone)]
pub struct Feature {
    /// Gate id (`growth_tools`).
    pub name: String,
    /// What it unlocks.
    pub description: String,
    /// The doc page this comes from.
    pub source: String,
    /// Where it is declared.
    pub loc: Loc,
}

/// The daily write quota rule.
#[derive(Debug, Clone)]
pub struct WriteQuota {
    /// Methods that count as writes.
    pub methods: Vec<Method>,
    /// Only paths under this prefix count.
    pub applies_to: String,
    /// Paths under these prefixes never count.
    pub exempt: Vec<String>,
    /// When the quota resets, in words.
    pub resets: String,
    /// The error code answered when the quota is spent.
    pub error: Spanned<String>,
}

/// The retry policy of the API's clients.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Statuses answered after waiting the `retry_after` header (429).
    pub after_header_statuses: Vec<u16>,
    /// Statuses retried on the backoff schedule.
    pub backoff_statuses: Vec<u16>,
    /// Statuses never retried.
    pub never_statuses: Vec<u16>,
    /// Waits before each retry, in seconds (whole milliseconds: `0.25` is allowed): the
    /// first retry waits `backoff_seconds[0]`.
    pub backoff_seconds: Vec<f64>,
    /// Proportional jitter: each backoff wait is scaled by a random factor in
    /// `[1 - jitter, 1]`; 0 (the default) keeps the schedule exact.
    pub jitter: f64,
    /// Requests at most, the first one included.
    pub max_attempts: Spanned<u32>,
    /// The header a 429 carries.
    pub retry_after_header: String,
    /// The longest `Retry-After` a client waits before giving up at once, in seconds.
    pub max_retry_after_seconds: u32,
    /// Whether connect failures and timeouts are retried on the backoff schedule.
    pub retry_transport_errors: bool,
    /// Methods safe to retry without an idempotency key.
    pub safe_methods: Vec<Method>,
    /// The doc page this comes from.
    pub source: String,
    /// Where the `retry` section is.
    pub loc: Loc,
}

pub use tenx_error_model::{ErrorCategory, RetryClass};

/// One error code of the catalogue.
#[derive(Debug, Clone)]
pub struct ErrorDef {
    /// Wire code (`insufficient_scope`).
    pub code: String,
    /// HTTP status.
    pub status: Spanned<u16>,
    /// ErrorCategory.
    pub category: ErrorCategory,
    /// Retry class.
    pub retry: RetryClass,
    /// What it means.
    pub meaning: String,
    /// What the caller should do.
    pub fix: String,
    /// The type of the extra fields the body carries beside code and message, if any.
    pub details: Option<Spanned<String>>,
    /// The doc page this comes from.
    pub source: String,
    /// Which of this entry's fields are our reading rather than the docs' word.
    pub inferred: Vec<Spanned<String>>,
    /// Where it is declared.
    pub loc: Loc,
}

/// A string format the toolkit checks and documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFormat {
    /// An absolute `http` or `https` URL.
    Url,
    /// An email address.
    Email,
    /// RFC 3339 date and time.
    DateTime,
    /// RFC 3339 full date.
    Date,
    /// A UUID.
    Uuid,
}

impl StringFormat {
    /// Every format.
    pub const ALL: [StringFormat; 5] =
        [StringFormat::Url, StringFormat::Email, StringFormat::DateTime, StringFormat::Date, StringFormat::Uuid];

    /// The spec's (and OpenAPI's) name.
    pub fn as_str(self) -> &'static str {
        match self {
            StringFormat::Url => "url",
            StringFormat::Email => "email",
            StringFormat::DateTime => "date-time",
            StringFormat::Date => "date",
            StringFormat::Uuid => "uuid",
        }
    }

    /// The format with this spec name.
    pub fn from_name(name: &str) -> Option<StringFormat> {
        StringFormat::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// A type expression: `string`, `[Link]`, `map<integer>`, `Link`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// A JSON string.
    String,
    /// A JSON integer (64-bit).
    Integer,
    /// A JSON number.
    Number,
    /// A JSON boolean.
    Boolean,
    /// Any JSON value: for bodies the docs do not describe.
    Json,
    /// A plain-text body (`text/plain; charset=utf-8`); only a route's request or response.
    Text,
    /// A binary body (`application/octet-stream`); only a route's request or response.
    Binary,
    /// A list.
    List(Box<TypeRef>),
    /// An object with string keys and values of one type.
    Map(Box<TypeRef>),
    /// A named type of the spec.
    Named(String),
}

impl TypeRef {
    /// Parses a type expression; `None` when it is not one.
    pub fn parse(text: &str) -> Option<TypeRef> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return TypeRef::parse(inner).map(|t| TypeRef::List(Box::new(t)));
        }
        if let Some(inner) = text.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
            return TypeRef::parse(inner).map(|t| TypeRef::Map(Box::new(t)));
        }
        Some(match text {
            "string" => TypeRef::String,
            "integer" => TypeRef::Integer,
            "number" => TypeRef::Number,
            "boolean" => TypeRef::Boolean,
            "json" => TypeRef::Json,
            "text" => TypeRef::Text,
            "binary" => TypeRef::Binary,
            _ if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                TypeRef::Named(text.to_owned())
            }
            _ => return None,
        })
    }

    /// Whether this is a raw body (`text` or `binary`) rather than JSON.
    pub fn is_raw(&self) -> bool {
        matches!(self, TypeRef::Text | TypeRef::Binary)
    }

    /// The media type a body of this type is sent with.
    pub fn media_type(&self) -> &'static str {
        match self {
            TypeRef::Text => "text/plain; charset=utf-8",
            TypeRef::Binary => "application/octet-stream",
            _ => "application/json",
        }
    }

    /// The named type this expression refers to, if any (looking inside lists and maps).
    pub fn named(&self) -> Option<&str> {
        match self {
            TypeRef::Named(n) => Some(n),
            TypeRef::List(t) | TypeRef::Map(t) => t.named(),
            _ => None,
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::String => f.write_str("string"),
            TypeRef::Integer => f.write_str("integer"),
            TypeRef::Number => f.write_str("number"),
            TypeRef::Boolean => f.write_str("boolean"),
            TypeRef::Json => f.write_str("json"),
            TypeRef::Text => f.write_str("text"),
            TypeRef::Binary => f.write_str("binary"),
            TypeRef::List(t) => write!(f, "[{t}]"),
            TypeRef::Map(t) => write!(f, "map<{t}>"),
            TypeRef::Named(n) => f.write_str(n),
        }
    }
}

/// Checks on a value beyond its type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// A regular expression the whole string must match.
    pub pattern: Option<Spanned<String>>,
    /// A string format.
    pub format: Option<StringFormat>,
    /// Shortest string, in characters.
    pub min_length: Option<u64>,
    /// Longest string, in characters.
    pub max_length: Option<u64>,
    /// Smallest number.
    pub minimum: Option<f64>,
    /// Largest number.
    pub maximum: Option<f64>,
    /// Most list items.
    pub max_items: Option<u64>,
    /// The error code a violation answers with (default: `validation_error`).
    pub error: Option<Spanned<String>>,
    /// A catalogue of the spec whose names are the only values (`scopes`).
    pub catalogue: Option<Spanned<String>>,
}

impl PartialEq for Spanned<String> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// Rust words that cannot be identifiers even as raw identifiers (`r#self` is refused).
pub const UNRAWABLE: &[&str] = &["self", "Self", "super", "crate", "_"];

/// The Rust names of a struct's `fields`, in order. A wire name becomes snake_case
/// (`created-at` and `createdAt` both read `created_at`); a word Rust cannot take even
/// raw gets a trailing `_` (`self_`); one that cannot start an identifier gets a
/// `field_` prefix; and where fields would share a name, each later one in spec order
/// takes the suffix `_2`, `_3`, …. The wire keeps its own name through serde renames.
pub fn rust_field_names(fields: &[Field]) -> Vec<String> {
    use heck::ToSnakeCase;
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for f in fields {
        let mut base = f.name.to_snake_case();
        if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            base = format!("field_{base}");
        }
        if UNRAWABLE.contains(&base.as_str()) {
            base.push('_');
        }
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// A field of an object type, a path parameter or a query parameter.
#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON (wire) name, camelCase.
    pub name: String,
    /// Its type.
    pub ty: Spanned<TypeRef>,
    /// May be absent.
    pub optional: bool,
    /// May be `null`.
    pub nullable: bool,
    /// Holds a credential or password: generated `Debug` output never shows it.
    pub secret: bool,
    /// What it is.
    pub description: String,
    /// Extra checks.
    pub constraints: Constraints,
    /// A type written in place (`{enum: [...]}`, `{fields: {...}}`): the loader names it
    /// `<Owner><Field>` (`MoveRequestKind`, `ListParcelsStatus`), adds it to the spec's
    /// types and points `ty` at it; this keeps it as written, for readers.
    pub inline_type: Option<Box<TypeDef>>,
    /// Where it is declared.
    pub loc: Loc,
}

impl Field {
    /// Whether a value is checked against `other` exactly as against `self`: the same
    /// name, type, presence and checks (descriptions and places aside). Routes whose
    /// parameters check alike share one check table.
    pub fn checks_like(&self, other: &Field) -> bool {
        self.name == other.name
            && self.ty.value == other.ty.value
            && (self.optional, self.nullable) == (other.optional, other.nullable)
            && self.constraints == other.constraints
    }

    /// Whether `other` declares the same Rust field as `self`: it checks alike, and is as
    /// secret and described the same. Routes whose queries are the same share one struct.
    pub fn declares_like(&self, other: &Field) -> bool {
        self.checks_like(other) && self.secret == other.secret && self.description == other.description
    }
}

/// What a named type is.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// A JSON object with declared fields.
    Object(Vec<Field>),
    /// A string enum.
    Enum(Vec<EnumValue>),
    /// Any JSON value: the docs do not describe it.
    Json,
    /// A primitive with checks, named so every field of that kind carries the same
    /// rules (a handle, a scope name).
    Scalar(Box<Scalar>),
}

/// A named primitive with constraints.
#[derive(Debug, Clone)]
pub struct Scalar {
    /// `string`, `integer`, `number` or `boolean`.
    pub base: Spanned<TypeRef>,
    /// Its checks.
    pub constraints: Constraints,
}

/// One value of a string enum.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// Wire string.
    pub name: String,
    /// What it means.
    pub description: String,
}

/// A named type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// UpperCamelCase name.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Object, enum or free-form.
    pub kind: TypeKind,
    /// The doc page this comes from.
    pub source: String,
    /// Where it is declared.
    pub loc: Loc,
}

/// HTTP methods routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 6] = [Method::Get, Method::Head, Method::Post, Method::Put, Method::Patch, Method::Delete];

    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// The method with this upper-case name.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// What a route's rate limit is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitKey {
    /// Per handle, by the handle's plan.
    Handle,
    /// Per user (routes without a handle).
    User,
    /// Per client IP (public routes).
    Ip,
    /// Not rate limited by the API.
    None,
}

impl RateLimitKey {
    /// Every key.
    pub const ALL: [RateLimitKey; 4] = [RateLimitKey::Handle, RateLimitKey::User, RateLimitKey::Ip, RateLimitKey::None];

    /// The spec's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimitKey::Handle => "handle",
            RateLimitKey::User => "user",
            RateLimitKey::Ip => "ip",
            RateLimitKey::None => "none",
        }
    }

    /// The key with this spec name.
    pub fn from_name(name: &str) -> Option<RateLimitKey> {
        RateLimitKey::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Requests per minute for the rate-limit keys that are not a handle's plan.
#[derive(Debug, Clone, Default)]
pub struct RateLimits {
    /// Per signed-in caller (user, visitor or token).
    pub user: Option<RateLimit>,
    /// Per client IP.
    pub ip: Option<RateLimit>,
}

/// One limit.
#[derive(Debug, Clone)]
pub struct RateLimit {
    /// Requests per minute.
    pub requests_per_minute: u32,
    /// Whether the number is ours rather than the docs'.
    pub inferred: bool,
    /// Where it is declared.
    pub loc: Loc,
}

/// The code for each situation the runtimes meet on their own (no route names them):
/// every code a runtime answers comes from here or from a route's facts.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    /// A parameter or field breaks its rule.
    pub invalid_input: Option<Spanned<String>>,
    /// The body is not JSON, too large, or sent as another content type.
    pub invalid_body: Option<Spanned<String>>,
    /// No such route, or no such resource.
    pub not_found: Option<Spanned<String>>,
    /// The path's handle does not exist.
    pub subject_not_found: Option<Spanned<String>>,
    /// A unique thing exists already; an idempotency key reused with another body.
    pub conflict: Option<Spanned<String>>,
    /// A PAT lacks a scope the route requires.
    pub insufficient_scope: Option<Spanned<String>>,
    /// A user lacks the route's role.
    pub insufficient_role: Option<Spanned<String>>,
    /// The handle's plan lacks the route's feature.
    pub feature_locked: Option<Spanned<String>>,
    /// A per-minute limit is spent.
    pub rate_limited: Option<Spanned<String>>,
    /// The server cannot take the request now (a full idempotency store).
    pub unavailable: Option<Spanned<String>>,
    /// The server failed.
    pub internal: Option<Spanned<String>>,
    /// A route of the spec that this server does not implement (a family not mounted);
    /// without it such routes answer `not_found`.
    pub not_implemented: Option<Spanned<String>>,
    /// A path of the spec asked with a method it does not have (405, with `Allow`);
    /// without it such requests answer `not_found`.
    pub method_not_allowed: Option<Spanned<String>>,
}

impl Answers {
    /// `(situation, code, the status category it must have)`, every situation in order.
    pub fn all(&self) -> [(&'static str, Option<&Spanned<String>>, ErrorCategory); 13] {
        [
            ("invalid_input", self.invalid_input.as_ref(), ErrorCategory::InvalidRequest),
            ("invalid_body", self.invalid_body.as_ref(), ErrorCategory::InvalidRequest),
            ("not_found", self.not_found.as_ref(), ErrorCategory::NotFound),
            ("subject_not_found", self.subject_not_found.as_ref(), ErrorCategory::NotFound),
            ("conflict", self.conflict.as_ref(), ErrorCategory::Conflict),
            ("insufficient_scope", self.insufficient_scope.as_ref(), ErrorCategory::Permission),
            ("insufficient_role", self.insufficient_role.as_ref(), ErrorCategory::Permission),
            ("feature_locked", self.feature_locked.as_ref(), ErrorCategory::Permission),
            ("rate_limited", self.rate_limited.as_ref(), ErrorCategory::RateLimit),
            ("unavailable", self.unavailable.as_ref(), ErrorCategory::Server),
            ("internal", self.internal.as_ref(), ErrorCategory::Server),
            ("not_implemented", self.not_implemented.as_ref(), ErrorCategory::Server),
            ("method_not_allowed", self.method_not_allowed.as_ref(), ErrorCategory::MethodNotAllowed),
        ]
    }

    /// The code of a situation, if the spec names one.
    pub fn code(&self, situation: &str) -> Option<&str> {
        self.all().into_iter().find(|(s, _, _)| *s == situation).and_then(|(_, c, _)| c.map(|c| c.value.as_str()))
    }
}

/// A breaking change made on purpose: `spec-diff` reports it as accepted, not failing.
#[derive(Debug, Clone)]
pub struct AcceptedBreak {
    /// The rule id (`route.scope_added`).
    pub rule: Spanned<String>,
    /// What it applies to (a route id, type, field, code, scope or plan, as the report names it).
    pub target: String,
    /// Why, for reviewers.
    pub reason: String,
    /// Where it is declared.
    pub loc: Loc,
}

/// The click context token: HMAC-signed at redirect time, checked where it is spent.
#[derive(Debug, Clone)]
pub struct ContextToken {
    /// How long a ctx stays valid, in seconds.
    pub ttl_seconds: u64,
    /// The query parameter the redirect appends (`ctx`).
    pub param: String,
    /// The code a bad, forged or expired ctx answers.
    pub error: Spanned<String>,
    /// Values the docs do not state.
    pub inferred: Vec<Spanned<String>>,
    /// The doc page(s).
    pub source: String,
    /// Where it is declared.
    pub loc: Loc,
}

/// A success status and what it means (`201: created`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessStatus {
    /// HTTP status.
    pub status: u16,
    /// snake_case outcome name, used for typed outcomes (`created`, `updated`).
    pub outcome: String,
    /// Where it is declared (the route, when the status is the default).
    pub loc: Loc,
}

/// Where a route's idempotency key travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyCarrier {
    /// A request body field (`idempotencyKey`).
    Field(String),
    /// A request header (`Idempotency-Key`, as the IETF draft has it: a string, quoted
    /// or not, of at most 255 printable characters).
    Header(String),
}

impl IdempotencyCarrier {
    /// The field or header name.
    pub fn name(&self) -> &str {
        match self {
            IdempotencyCarrier::Field(n) | IdempotencyCarrier::Header(n) => n,
        }
    }

    /// `` `idempotencyKey` `` or `` the `Idempotency-Key` header ``, for prose.
    pub fn describe(&self) -> String {
        match self {
            IdempotencyCarrier::Field(n) => format!("`{n}`"),
            IdempotencyCarrier::Header(n) => format!("the `{n}` header"),
        }
    }
}

/// How a route deduplicates repeated writes.
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// Where the key travels.
    pub key: IdempotencyCarrier,
    /// Whether a request without a key is refused (400); else it simply is not
    /// deduplicated.
    pub required: bool,
    /// Status of a repeat (`None`: the first answer's own).
    pub repeat_status: Option<u16>,
    /// The response field set to `true` on a repeat (`deduped`), if any.
    pub deduped_field: Option<String>,
    /// How long an answered key is remembered (default 24 hours).
    pub retention_seconds: u64,
}

/// One route.
#[derive(Debug, Clone)]
pub struct Route {
    /// snake_case id, unique in the spec: the client method and server handler name.
    pub id: Spanned<String>,
    /// HTTP method.
    pub method: Method,
    /// Path with `{param}` placeholders.
    pub path: Spanned<String>,
    /// The family (tag) it belongs to.
    pub family: String,
    /// One line on what it does.
    pub summary: String,
    /// Longer description, if any.
    pub description: String,
    /// Accepted auth modes (several when the spec allows several).
    pub auth: Vec<Spanned<AuthKind>>,
    /// Scopes a PAT must hold, all of them.
    pub scopes: Vec<Spanned<String>>,
    /// Least role a JWT user needs on the handle (or a platform role).
    pub min_role: Option<Spanned<String>>,
    /// Plan feature the handle needs.
    pub feature: Option<Spanned<String>>,
    /// What the rate limit is counted per (the spec's, else the default for the route).
    pub rate_limit: RateLimitKey,
    /// Whether the spec states `rate_limit` (else the loader chose the default).
    pub rate_limit_stated: bool,
    /// Path parameters, in path order.
    pub path_params: Vec<Field>,
    /// Query parameters.
    pub query: Vec<Field>,
    /// Request body type, if any.
    pub request: Option<Spanned<TypeRef>>,
    /// Response body type, if any.
    pub response: Option<Spanned<TypeRef>>,
    /// Success statuses, ascending.
    pub success: Vec<SuccessStatus>,
    /// Idempotency, for routes that deduplicate.
    pub idempotency: Option<Idempotency>,
    /// Error codes the route can return beyond those its auth, scopes, role, feature,
    /// rate limit and body imply (see [`Spec::route_errors`]).
    pub errors: Vec<Spanned<String>>,
    /// The doc page(s) this comes from.
    pub source: String,
    /// Which fields of this route are our reading rather than the docs' word.
    pub inferred: Vec<Spanned<String>>,
    /// Where the route is declared.
    pub loc: Loc,
}

impl Route {
    /// Whether the route accepts this auth kind.
    pub fn accepts(&self, kind: AuthKind) -> bool {
        self.auth.iter().any(|a| a.value == kind)
    }

    /// Names of the `{param}` placeholders of the path, in order.
    pub fn path_placeholders(&self) -> Vec<&str> {
        path_placeholders(&self.path.value)
    }

    /// The path's segments, `/` not included: what clients join and servers match.
    pub fn segments(&self) -> Vec<PathSegment<'_>> {
        path_segments(&self.path.value)
    }
}

/// One segment of a route's path. The validator has checked that a placeholder is a
/// whole segment (`/{slug}`, never `/v{n}` or `/{a}{b}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSegment<'a> {
    /// Sent as written (`links`, `parcels:search`).
    Literal(&'a str),
    /// A `{name}` placeholder, by its name.
    Param(&'a str),
}

/// The segments of `path`; the one place a path is taken apart.
pub fn path_segments(path: &str) -> Vec<PathSegment<'_>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => PathSegment::Param(name),
            None => PathSegment::Literal(seg),
        })
        .collect()
}

/// The `{name}` placeholders of a path, in order.
pub fn path_placeholders(path: &str) -> Vec<&str> {
    path_segments(path)
        .into_iter()
        .filter_map(|s| match s {
            PathSegment::Param(name) => Some(name),
            PathSegment::Literal(_) => None,
        })
        .collect()
}

/// A route family (a tag): one server trait, one client module.
#[derive(Debug, Clone)]
pub struct Family {
    /// snake_case name (`links`).
    pub name: String,
    /// What the family covers.
    pub description: String,
    /// Its routes, in spec order.
    pub routes: Vec<Route>,
    /// Where it is declared.
    pub loc: Loc,
}

impl Spec {
    /// The location of every declared item (for naming the files a whole-spec artifact
    /// comes from).
    pub fn source_locs(&self) -> impl Iterator<Item = &Loc> {
        std::iter::once(&self.api.loc)
            .chain(std::iter::once(&self.retry.loc))
            .chain(self.auth_modes.iter().map(|m| &m.loc))
            .chain(self.scopes.iter().map(|s| &s.loc))
            .chain(self.errors.iter().map(|e| &e.loc))
            .chain(self.types.iter().map(|t| &t.loc))
            .chain(self.families.iter().map(|f| &f.loc))
    }

    /// Every route, family by family, in spec order.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.families.iter().flat_map(|f| f.routes.iter())
    }

    /// The auth mode of this kind, if declared.
    pub fn auth_mode(&self, kind: AuthKind) -> Option<&AuthMode> {
        self.auth_modes.iter().find(|m| m.kind == kind)
    }

    /// The PAT mode, with the format and binding the validator requires of it; `None`
    /// when the API has no PATs (or, before validation, a PAT mode without them).
    pub fn pat_mode(&self) -> Option<PatMode<'_>> {
        let mode = self.auth_mode(AuthKind::Pat)?;
        Some(PatMode { mode, format: mode.token_format.as_ref()?, bound_to: mode.bound_to.as_deref()? })
    }

    /// The catalogue entry of this code.
    pub fn error(&self, code: &str) -> Option<&ErrorDef> {
        self.errors.iter().find(|e| e.code == code)
    }

    /// The named type.
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name == name)
    }

    /// The named scalar type, if `ty` names one.
    pub fn scalar(&self, ty: &TypeRef) -> Option<&Scalar> {
        match ty {
            TypeRef::Named(n) => match self.type_def(n).map(|t| &t.kind) {
                Some(TypeKind::Scalar(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The primitive a type expression stands for on the wire where it names a scalar
    /// type (looking inside lists and maps); other expressions unchanged.
    pub fn wire_type(&self, ty: &TypeRef) -> TypeRef {
        match ty {
            TypeRef::List(t) => TypeRef::List(Box::new(self.wire_type(t))),
            TypeRef::Map(t) => TypeRef::Map(Box::new(self.wire_type(t))),
            t => self.scalar(t).map_or_else(|| t.clone(), |s| s.base.value.clone()),
        }
    }

    /// Whether `route`'s path names the API's subject (`{handle}` in 10x).
    pub fn has_subject(&self, route: &Route) -> bool {
        self.api.subject().is_some_and(|s| route.path_placeholders().contains(&s))
    }

    /// The situations the router may meet on `route`, each with why (for diagnostics).
    pub fn implied_situations(&self, route: &Route) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        if !route.scopes.is_empty() {
            out.push(("insufficient_scope", "it requires scopes"));
        }
        if route.min_role.is_some() {
            out.push(("insufficient_role", "it has a `min_role`"));
        }
        if route.feature.is_some() {
            out.push(("feature_locked", "it has a plan `feature`"));
        }
        if route.rate_limit != RateLimitKey::None || self.counts_toward_write_quota(route) {
            out.push(("rate_limited", "it is rate limited"));
        }
        let takes_input = route.request.is_some()
            || route.query.iter().any(|q| !q.optional || self.field_is_checked(q))
            || route.path_params.iter().any(|p| self.field_is_checked(p));
        if takes_input {
            out.push(("invalid_input", "it takes checked input"));
        }
        if route.request.is_some() {
            out.push(("invalid_body", "it takes a body"));
        }
        if route.path.contains('{') {
            out.push(("not_found", "its path names a resource"));
        }
        if self.has_subject(route) {
            out.push(("subject_not_found", "its path names the API's subject"));
        }
        if self.counts_toward_write_quota(route) && route.idempotency.is_none() {
            out.push(("unavailable", "it counts toward the daily write quota, which refuses a write it cannot count"));
        }
        if let Some(idem) = &route.idempotency {
            out.push((
                "unavailable",
                "it deduplicates, and an idempotency store that is full or down refuses new keys",
            ));
            out.push(("conflict", "it deduplicates, and a key reused with another body is refused"));
            if matches!(idem.key, IdempotencyCarrier::Header(_)) {
                out.push(("invalid_input", "its idempotency key header is checked"));
            }
        }
        // A write the server cannot commit now (its store busy or down) is refused with
        // the API's `unavailable` code, to retry, where the API names one; an API that
        // names none answers such a write as it answers any failure.
        if !matches!(route.method, Method::Get | Method::Head) && self.answers.unavailable.is_some() {
            out.push(("unavailable", "it writes, and a write the server cannot commit now is refused, to retry"));
        }
        out.push(("internal", "every route can fail"));
        out
    }

    /// The fields of a route's body type, if it is an object.
    pub fn body_fields(&self, route: &Route) -> &[Field] {
        match route.request.as_ref().and_then(|t| t.value.named()).and_then(|n| self.type_def(n)) {
            Some(TypeDef { kind: TypeKind::Object(fields), .. }) => fields,
            _ => &[],
        }
    }

    /// The names a `catalogue:` constraint allows (`scopes`: every scope of the spec).
    pub fn catalogue_values(&self, catalogue: &str) -> Vec<&str> {
        match catalogue {
            "scopes" => self.scopes.iter().map(|s| s.name.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The code a field's violation answers: its own, else its scalar type's.
    pub fn field_error<'s>(&'s self, field: &'s Field) -> Option<&'s Spanned<String>> {
        field.constraints.error.as_ref().or_else(|| self.field_scalar(field).and_then(|s| s.constraints.error.as_ref()))
    }

    /// Whether a field has any check beyond its bare type.
    pub fn field_is_checked(&self, field: &Field) -> bool {
        field.constraints != Constraints::default() || self.field_scalar(field).is_some()
    }

    /// Every rule a field's values must keep: its own, and its scalar type's where it
    /// sets none of its own.
    pub fn field_rules(&self, field: &Field) -> Constraints {
        let mut c = field.constraints.clone();
        if let Some(scalar) = self.field_scalar(field) {
            let s = &scalar.constraints;
            c.pattern = c.pattern.or_else(|| s.pattern.clone());
            c.format = c.format.or(s.format);
            c.min_length = c.min_length.or(s.min_length);
            c.max_length = c.max_length.or(s.max_length);
            c.minimum = c.minimum.or(s.minimum);
            c.maximum = c.maximum.or(s.maximum);
            c.max_items = c.max_items.or(s.max_items);
            c.catalogue = c.catalogue.or_else(|| s.catalogue.clone());
        }
        c
    }

    /// The scalar type whose checks a field's values carry: its own type's, or its list
    /// items' or map values'.
    pub fn field_scalar(&self, field: &Field) -> Option<&Scalar> {
        let mut ty = &field.ty.value;
        while let TypeRef::List(t) | TypeRef::Map(t) = ty {
            ty = t;
        }
        self.scalar(ty)
    }

    /// The role with this name.
    pub fn role(&self, name: &str) -> Option<&RoleDef> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// The cheapest plan that unlocks `feature` (what `feature_locked` names as
    /// `requiredPlan`).
    pub fn required_plan(&self, feature: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.features.iter().any(|f| f.value == feature))
    }

    /// Whether a write to this route counts toward the daily write quota.
    pub fn counts_toward_write_quota(&self, route: &Route) -> bool {
        self.write_quota.as_ref().is_some_and(|q| {
            q.methods.contains(&route.method)
                && route.path.starts_with(q.applies_to.as_str())
                && !q.exempt.iter().any(|e| route.path.starts_with(e.as_str()))
        })
    }

    /// Every error code the route can return, in catalogue order: those it declares, and
    /// those its auth modes, scopes, role, feature, rate limit, quota, parameters and body
    /// imply, and `internal_error` when the catalogue has it.
    pub fn route_errors(&self, route: &Route) -> Vec<&ErrorDef> {
        let mut codes: Vec<&str> = route.errors.iter().map(|e| e.value.as_str()).collect();
        for auth in &route.auth {
            if let Some(mode) = self.auth_mode(auth.value) {
                let e = &mode.errors;
                codes.extend([&e.missing, &e.invalid, &e.expired].into_iter().flatten().map(|c| c.value.as_str()));
                if route.path_placeholders().iter().any(|p| Some(*p) == mode.bound_to.as_deref()) {
                    codes.extend(e.wrong_binding.iter().map(|c| c.value.as_str()));
                }
            }
        }
        codes.extend(self.implied_situations(route).into_iter().filter_map(|(s, _)| self.answers.code(s)));
        for field in route.path_params.iter().chain(&route.query).chain(self.body_fields(route)) {
            codes.extend(self.field_error(field).map(|c| c.value.as_str()));
        }
        self.errors.iter().filter(|e| codes.contains(&e.code.as_str())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_named(name: &str) -> Field {
        let loc = Loc { file: crate::source::FileId(0), line: 1, col: 1, start: 0, end: 0, path: String::new() };
        Field {
            name: name.to_owned(),
            ty: Spanned::new(TypeRef::String, loc.clone()),
            optional: false,
            nullable: false,
            secret: false,
            description: String::new(),
            constraints: Constraints::default(),
            inline_type: None,
            loc,
        }
    }

    #[test]
    fn fields_are_alike_by_what_they_check_and_declare_not_where_they_are() {
        let (a, mut b) = (field_named("slug"), field_named("slug"));
        b.loc.line = 40;
        b.description = "The link's slug.".to_owned();
        assert!(a.checks_like(&b), "place and prose do not change a check");
        assert!(!a.declares_like(&b), "prose changes the declared field's docs");
        b.constraints.max_length = Some(64);
        assert!(!a.checks_like(&b));
        let mut c = field_named("slug");
        c.optional = true;
        assert!(!a.checks_like(&c));
        assert!(!a.checks_like(&field_named("handle")));
    }

    #[test]
    fn rust_field_names_are_identifiers_and_unique() {
        let fields: Vec<Field> =
            ["self", "created-at", "createdAt", "next-page", "2fa", "type", "created_at"].map(field_named).into();
        assert_eq!(
            rust_field_names(&fields),
            ["self_", "created_at", "created_at_2", "next_page", "field_2fa", "type", "created_at_3"]
        );
    }

    #[test]
    fn type_expressions_parse_and_print_back() {
        for text in ["string", "[Link]", "map<integer>", "[[json]]", "Link"] {
            assert_eq!(TypeRef::parse(text).map(|t| t.to_string()).as_deref(), Some(text));
        }
        assert_eq!(TypeRef::parse("[Link"), None);
        assert_eq!(TypeRef::parse("Link-Type"), None);
        assert_eq!(TypeRef::parse("[Link]").and_then(|t| t.named().map(str::to_owned)).as_deref(), Some("Link"));
    }

    #[test]
    fn placeholders_are_read_in_order() {
        assert_eq!(path_placeholders("/v2/handles/{handle}/links/{slug}"), ["handle", "slug"]);
        assert!(path_placeholders("/v2/handles").is_empty());
        assert_eq!(
            path_segments("/v1/parcels:search/{id}"),
            [PathSegment::Literal("v1"), PathSegment::Literal("parcels:search"), PathSegment::Param("id")]
        );
    }
}
