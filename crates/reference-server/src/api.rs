//! The handlers: every route of the mounted families, each annotated with `#[route]` as
//! the spec says (the build checks it).

use std::time::{Duration, SystemTime};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};
use tenx_server::ErrorCode;
use tenx_server::*;
use tenx_server_runtime::store::UNAVAILABLE_RETRY_AFTER;
use tenx_server_runtime::{Click, ContextKey, JwtKeys, PatRecord, Situation};

use crate::Clock;
use crate::credentials::random_secret;
use crate::passwords::PasswordBound;
use crate::repo::{Recorded, RepoError, Repository};

/// The spec's context token (`ctx`) facts.
const CONTEXT_TOKEN: Option<tenx_server_runtime::ContextTokenSpec> = tenx_server::spec::SERVER_SPEC.context_token;

const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
const REFRESH_COOKIE: &str = "refresh_token";
const VISITOR_COOKIE: &str = "_10x_visitor";
const VISITOR_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
const MAGIC_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// The app: its repository, keys, clock and password hasher.
pub struct App<R> {
    db: R,
    keys: Keys,
    now: Clock,
    passwords: Passwords,
}

/// The server's secrets: the JWT key and the click-context key.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Signs access tokens.
    pub jwt: JwtKeys,
    /// Signs the `ctx` of each click.
    pub ctx: ContextKey,
}

/// An argon2id hash of a password, as a PHC string with a random salt.
pub(crate) fn hash_password(password: &str) -> Result<String, Failure> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(Failure::internal)
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Password work (hashing, and checking against a hash), within the server's bound.
#[derive(Clone)]
struct Passwords(crate::passwords::Passwords);

impl Passwords {
    async fn hash(&self, password: String) -> Result<String, Failure> {
        self.0.run(move || hash_password(&password)).await?
    }

    /// Whether `password` matches `hash`. Without a hash (no such user) it is checked
    /// against a hash of nothing anyone knows, so both cases take the same time and the
    /// answer does not tell which emails have accounts.
    async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, Failure> {
        self.0
            .run(move || {
                let known = hash.is_some();
                let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
                password_matches(&password, &hash) && known
            })
            .await
    }
}

/// A hash no password matches in practice, made once: the stand-in for absent users.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_password(&crate::credentials::random_secret()).expect("argon2 with default parameters hashes any input")
});

/// A store failure as an answer: a unique row another request made first is a 409, a
/// database another process kept locked a 503 to retry, anything else a 500.
fn db_failure(e: RepoError) -> Failure {
    match e {
        RepoError::Conflict(_) => Failure::new(ErrorCode::Conflict, "Another request made this first."),
        RepoError::Busy(why) => {
            tracing::warn!(cause = %why, "a write waited out the database's lock");
            Failure::of(
                Situation::Unavailable,
                "The database is busy with other writes; nothing was done, try again shortly.",
            )
            .retry_after(UNAVAILABLE_RETRY_AFTER)
        }
        RepoError::Storage(e) => Failure::internal(e),
    }
}

fn set_cookie(cx: &RequestContext, name: &str, value: &str, path: &str, max_age: Duration) {
    let cookie =
        format!("{name}={value}; HttpOnly; Secure; SameSite=Strict; Path={path}; Max-Age={}", max_age.as_secs());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        cx.add_header(header::SET_COOKIE, v);
    }
}

fn link_of(slug: &str, body: &Value) -> Result<Link, Failure> {
    let mut value = body.clone();
    value["slug"] = json!(slug);
    serde_json::from_value(value).map_err(Failure::internal)
}

impl<R: Repository> App<R> {
    /// An app on `db`.
    pub fn new(db: R, keys: Keys, now: Clock) -> Self {
        Self::bounded(db, keys, now, PasswordBound::default())
    }

    /// The app, with password work held to `passwords`.
    pub fn bounded(db: R, keys: Keys, now: Clock, passwords: PasswordBound) -> Self {
        App { db, keys, now, passwords: Passwords(crate::passwords::Passwords::new(passwords)) }
    }

    fn now(&self) -> SystemTime {
        (self.now)()
    }

    /// A fresh access token, and a refresh token in its HttpOnly cookie.
    fn start_session(&self, cx: &RequestContext, user: &str) -> Result<LoginResponse, Failure> {
        let refresh = random_secret();
        self.db.add_refresh(&refresh, user, self.now() + REFRESH_TTL).map_err(db_failure)?;
        set_cookie(cx, REFRESH_COOKIE, &refresh, "/v2/auth", REFRESH_TTL);
        Ok(LoginResponse { access_token: self.keys.jwt.issue(user, self.now(), ACCESS_TTL) })
    }

    fn upsert(&self, handle: &str, slug: &str, body: UpsertLinkRequest) -> Result<(bool, Link), Failure> {
        let value = serde_json::to_value(&body).map_err(Failure::internal)?;
        let created = self.db.put_link(handle, slug, &value, self.now()).map_err(db_failure)?;
        Ok((created, link_of(slug, &value)?))
    }

    fn link(&self, handle: &str, slug: &str) -> Result<Link, Failure> {
        let body = self
            .db
            .link(handle, slug)
            .map_err(db_failure)?
            .ok_or_else(|| Failure::not_found(format!("Link `{slug}`")))?;
        link_of(slug, &body)
    }

    fn links(&self, handle: &str) -> Result<LinkList, Failure> {
        let links = self
            .db
            .links(handle)
            .map_err(db_failure)?
            .iter()
            .map(|(slug, body)| link_of(slug, body))
            .collect::<Result<_, _>>()?;
        Ok(LinkList { links })
    }

    fn analytics(&self, handle: &str) -> Result<AnalyticsReport, Failure> {
        let clicks = self.db.click_count(handle).map_err(db_failure)?;
        let (conversions, revenue) = self.db.conversions(handle).map_err(db_failure)?;
        Ok(AnalyticsReport {
            clicks,
            qualified_clicks: clicks,
            bot_clicks: 0,
            conversions,
            impressions: clicks,
            revenue,
            freshness: Some(Freshness { status: FreshnessStatus::Fresh, last_updated_at: None, sla_minutes: 60 }),
            confidence: None,
        })
    }

    /// The handle's owner: every handle has one, so a missing one is a corrupt store.
    fn owner(&self, handle: &str) -> Result<String, Failure> {
        self.db
            .owner(handle)
            .map_err(db_failure)?
            .ok_or_else(|| Failure::internal(format!("handle `{handle}` has no owner")))
    }

    /// The click a ctx stands for: signed by this server and younger than the spec's TTL.
    fn click(&self, ctx: &str) -> Result<Click, Failure> {
        let spec = CONTEXT_TOKEN.ok_or_else(|| Failure::internal("the spec has no `context_token`"))?;
        self.keys.ctx.verify(&spec, ctx, self.now())
    }

    fn webhook(&self, handle: &str, body: CreateWebhookRequest) -> Result<CreatedWebhook, Failure> {
        let (id, secret) = (format!("sub_{}", uuid::Uuid::new_v4().simple()), random_secret());
        self.db.add_webhook(&id, handle, &body.endpoint_url, &body.event_types, &secret).map_err(db_failure)?;
        Ok(CreatedWebhook { subscription_id: Some(id), secret })
    }
}

impl<R: Repository> AuthApi for App<R> {
    #[route(auth = "none")]
    async fn login(&self, cx: &RequestContext, body: LoginRequest) -> Result<LoginResponse, Failure> {
        let user = self.db.user_by_email(&body.email).map_err(db_failure)?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        // Verified whether or not the user exists (against a dummy hash if not), so the
        // time taken does not tell which emails have accounts.
        let matches = self.passwords.verify(body.password, hash).await?;
        match user {
            Some(user) if matches => self.start_session(cx, &user.id),
            _ => Err(Failure::new(ErrorCode::InvalidToken, "Email or password is wrong.")),
        }
    }

    #[route(auth = "none")]
    async fn signup(&self, _cx: &RequestContext, body: SignupRequest) -> Result<Value, Failure> {
        // The router checked the email's format and the password's length.
        // One account per mailbox (`crate::email`): another case of an account's address
        // is that account, and a look-alike of one is refused like it.
        let (email, password) = (body.email, body.password);
        let taken =
            || Failure::new(ErrorCode::Conflict, "An account with this email, or one that looks like it, exists.");
        if self.db.user_by_email(&email).map_err(db_failure)?.is_some() {
            return Err(taken());
        }
        let id = format!("user_{}", uuid::Uuid::new_v4().simple());
        let hash = self.passwords.hash(password).await?;
        // Look-alikes, and two sign-ups of one email that both passed the check above,
        // meet the store's check: a 409.
        self.db.add_user(&id, &email, &hash).map_err(|e| match e {
            RepoError::Conflict(_) => taken(),
            e => db_failure(e),
        })?;
        Ok(json!({ "userId": id, "email": email }))
    }

    #[route(auth = "none")]
    async fn refresh_session(&self, cx: &RequestContext) -> Result<LoginResponse, Failure> {
        let token = cx
            .cookie(REFRESH_COOKIE)
            .ok_or_else(|| Failure::new(ErrorCode::MissingBearerToken, "No refresh cookie: log in."))?;
        let user = self.db.take_refresh(token, self.now()).map_err(db_failure)?.ok_or_else(|| {
            Failure::new(ErrorCode::InvalidToken, "The refresh cookie is unknown or expired: log in.")
        })?;
        self.start_session(cx, &user)
    }

    #[route(auth = "jwt")]
    async fn logout(&self, cx: &RequestContext, auth: JwtContext) -> Result<(), Failure> {
        self.db.drop_refresh(&auth.user_id).map_err(db_failure)?;
        set_cookie(cx, REFRESH_COOKIE, "", "/v2/auth", Duration::ZERO);
        Ok(())
    }

    #[route(auth = "jwt")]
    async fn get_current_user(&self, _cx: &RequestContext, auth: JwtContext) -> Result<Value, Failure> {
        let user = self
            .db
            .user(&auth.user_id)
            .map_err(db_failure)?
            .ok_or_else(|| Failure::new(ErrorCode::InvalidToken, "The token's user no longer exists."))?;
        let handles: Vec<Value> = self
            .db
            .handles_of(&user.id)
            .map_err(db_failure)?
            .into_iter()
            .map(|(h, role, plan)| json!({ "handle": h, "role": role, "plan": plan }))
            .collect();
        Ok(json!({ "userId": user.id, "email": user.email, "handles": handles }))
    }

    #[route(auth = "none")]
    async fn request_password_reset(&self, _cx: &RequestContext, body: Value) -> Result<(), Failure> {
        // Answers the same whether or not the account exists, so it reveals nothing.
        let email = body.get("email").and_then(Value::as_str);
        let known = match email {
            Some(e) => self.db.user_by_email(e).map_err(db_failure)?.is_some(),
            None => false,
        };
        if let (Some(email), true) = (email, known) {
            let token = random_secret();
            self.db
                .add_magic_link(&format!("reset:{token}"), email, self.now() + MAGIC_LINK_TTL)
                .map_err(db_failure)?;
            tracing::info!(
                email,
                "password reset requested (the reference server sends no email; the token is in the database)"
            );
        }
        Ok(())
    }

    #[route(auth = "none")]
    async fn confirm_password_reset(
        &self,
        _cx: &RequestContext,
        body: PasswordResetConfirmRequest,
    ) -> Result<(), Failure> {
        let (token, password) = (body.token, body.password);
        let email = self
            .db
            .use_magic_link(&format!("reset:{token}"), self.now())
            .map_err(db_failure)?
            .map_err(|_| Failure::new(ErrorCode::NotFound, "The reset token is unknown, used or expired."))?;
        let hash = self.passwords.hash(password).await?;
        self.db.set_password(&email, &hash).map_err(db_failure)?;
        Ok(())
    }
}

impl<R: Repository> HandlesApi for App<R> {
    #[route(auth = "jwt")]
    async fn list_handles(&self, _cx: &RequestContext, auth: JwtContext) -> Result<Value, Failure> {
        let handles: Vec<Value> = self
            .db
            .handles_of(&auth.user_id)
            .map_err(db_failure)?
            .into_iter()
            .map(|(h, role, plan)| json!({ "handle": h, "role": role, "plan": plan }))
            .collect();
        Ok(json!({ "handles": handles }))
    }

    #[route(auth = "jwt")]
    async fn create_handle(
        &self,
        _cx: &RequestContext,
        auth: JwtContext,
        body: CreateHandleRequest,
    ) -> Result<Value, Failure> {
        // The router has checked the name against the spec's `Handle` rule.
        let handle = body.handle;
        let taken = || Failure::new(ErrorCode::Conflict, format!("Handle `{handle}` is taken."));
        if tenx_server_runtime::AuthData::handle_exists(&self.db, &handle) {
            return Err(taken());
        }
        self.db.add_handle(&handle, "FREE", &auth.user_id).map_err(|e| match e {
            RepoError::Conflict(_) => taken(),
            e => db_failure(e),
        })?;
        self.db.audit(&handle, &auth.user_id, "handle.created", self.now()).map_err(db_failure)?;
        Ok(json!({ "handle": handle, "plan": "FREE", "role": "OWNER" }))
    }

    #[route(auth = "jwt", role = "OWNER")]
    async fn rename_handle(
        &self,
        _cx: &RequestContext,
        auth: JwtContext,
        handle: String,
        body: RenameHandleRequest,
    ) -> Result<Value, Failure> {
        // The same `Handle` rule as creation, checked by the router.
        let to = body.new_handle;
        let taken = || Failure::new(ErrorCode::Conflict, format!("Handle `{to}` is taken."));
        if tenx_server_runtime::AuthData::handle_exists(&self.db, &to) {
            return Err(taken());
        }
        self.db.rename(&handle, &to).map_err(|e| match e {
            RepoError::Conflict(_) => taken(),
            e => db_failure(e),
        })?;
        self.db.audit(&to, &auth.user_id, &format!("handle.renamed from {handle}"), self.now()).map_err(db_failure)?;
        Ok(json!({ "handle": to }))
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn get_handle_profile(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<Value, Failure> {
        self.db.profile(&handle).map_err(db_failure)
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn update_handle_profile(
        &self,
        _cx: &RequestContext,
        auth: JwtContext,
        handle: String,
        body: Value,
    ) -> Result<Value, Failure> {
        self.db.set_profile(&handle, &body).map_err(db_failure)?;
        self.db.audit(&handle, &auth.user_id, "profile.updated", self.now()).map_err(db_failure)?;
        Ok(body)
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn list_audit_events(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<Value, Failure> {
        Ok(json!({ "events": self.db.audit_events(&handle).map_err(db_failure)? }))
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn get_usage_meters(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<Value, Failure> {
        Ok(
            json!({ "links": self.db.links(&handle).map_err(db_failure)?.len(), "clicks": self.db.click_count(&handle).map_err(db_failure)? }),
        )
    }
}

impl<R: Repository> CollaboratorsApi for App<R> {
    #[route(auth = "jwt", role = "CREATOR")]
    async fn list_collaborators(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
    ) -> Result<CollaboratorList, Failure> {
        let owner = self.owner(&handle)?;
        let collaborators = self
            .db
            .members(&handle)
            .map_err(db_failure)?
            .into_iter()
            .filter(|(user, _)| *user != owner)
            .map(|(user_id, role)| {
                // A stored role outside the spec's roles is a corrupt row, not a CREATOR.
                let role = serde_json::from_value(json!(role)).map_err(Failure::internal)?;
                Ok(Collaborator { user_id, role })
            })
            .collect::<Result<_, Failure>>()?;
        Ok(CollaboratorList { owner_user_id: owner, collaborators })
    }

    #[route(auth = "jwt", role = "OWNER")]
    async fn replace_collaborators(
        &self,
        cx: &RequestContext,
        auth: JwtContext,
        handle: String,
        body: ReplaceCollaboratorsRequest,
    ) -> Result<CollaboratorList, Failure> {
        let owner = self.owner(&handle)?;
        for c in &body.collaborators {
            if self.db.user(&c.user_id).map_err(db_failure)?.is_none() {
                return Err(Failure::new(ErrorCode::InvalidCollaborators, format!("No user `{}`.", c.user_id)));
            }
            if c.role == Role::Owner && c.user_id != owner {
                return Err(Failure::new(
                    ErrorCode::InvalidCollaborators,
                    "A handle has one owner: use transfer-ownership.",
                ));
            }
        }
        // Full-array replace; the owner is always kept.
        for (user, _) in self.db.members(&handle).map_err(db_failure)? {
            if user != owner {
                self.db.set_role(&user, &handle, None).map_err(db_failure)?;
            }
        }
        for c in body.collaborators.iter().filter(|c| c.user_id != owner) {
            let role = serde_json::to_value(c.role).map_err(Failure::internal)?;
            let role = role.as_str().ok_or_else(|| Failure::internal("a role serializes to a string"))?;
            self.db.set_role(&c.user_id, &handle, Some(role)).map_err(db_failure)?;
        }
        self.db.audit(&handle, &auth.user_id, "collaborators.replaced", self.now()).map_err(db_failure)?;
        self.list_collaborators(cx, auth, handle).await
    }

    #[route(auth = "jwt", role = "OWNER")]
    async fn transfer_ownership(
        &self,
        cx: &RequestContext,
        auth: JwtContext,
        handle: String,
        body: TransferOwnershipRequest,
    ) -> Result<CollaboratorList, Failure> {
        if self.db.user(&body.new_owner_user_id).map_err(db_failure)?.is_none() {
            return Err(Failure::not_found(format!("User `{}`", body.new_owner_user_id)));
        }
        self.db.transfer(&handle, &body.new_owner_user_id).map_err(db_failure)?;
        self.db.audit(&handle, &auth.user_id, "ownership.transferred", self.now()).map_err(db_failure)?;
        self.list_collaborators(cx, auth, handle).await
    }
}

impl<R: Repository> TokensApi for App<R> {
    #[route(auth = "jwt", role = "OPERATOR", feature = "growth_tools")]
    async fn create_token(
        &self,
        _cx: &RequestContext,
        auth: JwtContext,
        handle: String,
        body: CreateTokenRequest,
    ) -> Result<CreatedToken, Failure> {
        // The router has checked each scope against the catalogue and the list's length.
        if body.scopes.is_empty() {
            return Err(Failure::new(ErrorCode::ValidationError, "`scopes` must name at least one scope."));
        }
        let token_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        let secret = random_secret();
        // The spec bounds the days; the arithmetic is checked anyway, so no input can wrap.
        let expires_at = match body.expires_in_days {
            None => None,
            Some(days) => {
                let lifetime = u64::try_from(days).ok().and_then(|d| d.checked_mul(86_400)).map(Duration::from_secs);
                let at = lifetime.and_then(|l| self.now().checked_add(l)).ok_or_else(|| {
                    Failure::new(ErrorCode::ValidationError, "`body.expiresInDays` is too far in the future")
                })?;
                Some(at)
            }
        };
        let record = PatRecord {
            token_id: token_id.clone(),
            handle: handle.clone(),
            scopes: body.scopes.clone(),
            secret_sha256: PatRecord::hash_secret(&secret),
            expires_at,
            revoked: false,
        };
        self.db.add_pat(&record, &body.name).map_err(db_failure)?;
        self.db.audit(&handle, &auth.user_id, &format!("token.created {token_id}"), self.now()).map_err(db_failure)?;
        Ok(CreatedToken {
            token: format!(
                "{}{token_id}.{secret}",
                tenx_server::spec::SERVER_SPEC.pat_format.map_or("patv1_", |f| f.prefix)
            ),
            token_id,
            name: body.name,
            scopes: body.scopes,
            expires_at: expires_at.map(crate::db::rfc3339),
        })
    }

    #[route(auth = "jwt", role = "OPERATOR", feature = "growth_tools")]
    async fn list_tokens(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<TokenList, Failure> {
        let tokens = self
            .db
            .pats_of(&handle)
            .map_err(db_failure)?
            .into_iter()
            .map(|p| TokenSummary {
                token_id: p.token_id,
                name: p.name,
                scopes: p.scopes,
                expires_at: p.expires_at.map(|e| crate::db::rfc3339(crate::db::at(e))),
            })
            .collect();
        Ok(TokenList { tokens })
    }

    #[route(auth = "jwt", role = "OPERATOR", feature = "growth_tools")]
    async fn revoke_token(
        &self,
        _cx: &RequestContext,
        auth: JwtContext,
        handle: String,
        token_id: String,
    ) -> Result<(), Failure> {
        if !self.db.revoke_pat(&handle, &token_id).map_err(db_failure)? {
            return Err(Failure::not_found(format!("Token `{token_id}`")));
        }
        self.db.audit(&handle, &auth.user_id, &format!("token.revoked {token_id}"), self.now()).map_err(db_failure)?;
        Ok(())
    }
}

impl<R: Repository> LinksApi for App<R> {
    #[route(auth = "jwt", role = "CREATOR")]
    async fn upsert_link(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        slug: String,
        body: UpsertLinkRequest,
    ) -> Result<UpsertLinkOutcome, Failure> {
        let (created, link) = self.upsert(&handle, &slug, body)?;
        Ok(if created { UpsertLinkOutcome::Created(link) } else { UpsertLinkOutcome::Updated(link) })
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn list_links(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<LinkList, Failure> {
        self.links(&handle)
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn get_link(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        slug: String,
    ) -> Result<Link, Failure> {
        self.link(&handle, &slug)
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn delete_link(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        slug: String,
    ) -> Result<(), Failure> {
        if self.db.delete_link(&handle, &slug).map_err(db_failure)? {
            Ok(())
        } else {
            Err(Failure::not_found(format!("Link `{slug}`")))
        }
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn get_link_history(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        slug: String,
    ) -> Result<Value, Failure> {
        Ok(json!({ "versions": self.db.history(&handle, &slug).map_err(db_failure)? }))
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn rollback_link(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        slug: String,
        _: Value,
    ) -> Result<Value, Failure> {
        let history = self.db.history(&handle, &slug).map_err(db_failure)?;
        let previous = history
            .get(1)
            .and_then(|v| v.get("link"))
            .cloned()
            .ok_or_else(|| Failure::new(ErrorCode::Conflict, "The link has no earlier version."))?;
        self.db.put_link(&handle, &slug, &previous, self.now()).map_err(db_failure)?;
        Ok(json!({ "link": previous }))
    }

    #[route(auth = "jwt", role = "CREATOR")]
    async fn preview_link_route(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        slug: String,
        _: RoutePreviewRequest,
    ) -> Result<Value, Failure> {
        let link = self.link(&handle, &slug)?;
        Ok(json!({ "destinationUrl": link.destination_url, "matchedRule": null }))
    }

    #[route(auth = "jwt", role = "CREATOR", feature = "exports")]
    async fn export_links(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<Value, Failure> {
        serde_json::to_value(self.links(&handle)?).map_err(Failure::internal)
    }

    #[route(auth = "jwt", role = "OPERATOR")]
    async fn check_links_health(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<Value, Failure> {
        Ok(json!({ "total": self.db.links(&handle).map_err(db_failure)?.len(), "failing": 0 }))
    }

    #[route(auth = "pat", scopes = ["links.read"], feature = "growth_tools")]
    async fn pat_list_links(&self, _cx: &RequestContext, auth: PatContext) -> Result<LinkList, Failure> {
        self.links(&auth.handle)
    }

    #[route(auth = "pat", scopes = ["links.read"], feature = "growth_tools")]
    async fn pat_get_link(&self, _cx: &RequestContext, auth: PatContext, slug: String) -> Result<Link, Failure> {
        self.link(&auth.handle, &slug)
    }

    #[route(auth = "pat", scopes = ["links.write"], feature = "growth_tools")]
    async fn pat_upsert_link(
        &self,
        _cx: &RequestContext,
        auth: PatContext,
        slug: String,
        body: UpsertLinkRequest,
    ) -> Result<PatUpsertLinkOutcome, Failure> {
        let (created, link) = self.upsert(&auth.handle, &slug, body)?;
        Ok(if created { PatUpsertLinkOutcome::Created(link) } else { PatUpsertLinkOutcome::Updated(link) })
    }

    #[route(auth = "pat", scopes = ["links.write"], feature = "growth_tools")]
    async fn pat_delete_link(&self, _cx: &RequestContext, auth: PatContext, slug: String) -> Result<(), Failure> {
        if self.db.delete_link(&auth.handle, &slug).map_err(db_failure)? {
            Ok(())
        } else {
            Err(Failure::not_found(format!("Link `{slug}`")))
        }
    }
}

impl<R: Repository> AnalyticsApi for App<R> {
    #[route(auth = "jwt", role = "CREATOR")]
    async fn get_analytics(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        _: GetAnalyticsQuery,
    ) -> Result<AnalyticsReport, Failure> {
        self.analytics(&handle)
    }

    #[route(auth = "jwt", role = "CREATOR", feature = "exports")]
    async fn export_analytics(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<Value, Failure> {
        serde_json::to_value(self.analytics(&handle)?).map_err(Failure::internal)
    }

    #[route(auth = "pat", scopes = ["analytics.*"], feature = "growth_tools")]
    async fn pat_get_analytics(
        &self,
        _cx: &RequestContext,
        auth: PatContext,
        _: PatGetAnalyticsQuery,
    ) -> Result<AnalyticsReport, Failure> {
        self.analytics(&auth.handle)
    }
}

impl<R: Repository> PublicRuntimeApi for App<R> {
    #[route(auth = "none")]
    async fn record_conversion(
        &self,
        _cx: &RequestContext,
        body: ConversionRequest,
    ) -> Result<ConversionResult, Failure> {
        let click = self.click(&body.ctx)?;
        let key = body.idempotency_key.as_deref();
        // The store is the truth across restarts and processes; the router's records are
        // the fast path within one process.
        match self.db.add_conversion(&click, body.event_type.as_deref(), body.value, key).map_err(db_failure)? {
            Recorded::New => Ok(ConversionResult { deduped: Some(false) }),
            Recorded::Repeat => Ok(ConversionResult { deduped: Some(true) }),
            Recorded::KeyReused => Err(Failure::new(
                ErrorCode::Conflict,
                format!("The idempotency key `{}` was already used with another body.", key.unwrap_or_default()),
            )),
        }
    }

    #[route(auth = "none")]
    async fn resolve_context(&self, _cx: &RequestContext, query: ResolveContextQuery) -> Result<Value, Failure> {
        let click = self.click(&query.ctx)?;
        Ok(
            json!({ "handle": click.handle, "slug": click.slug, "clickedAt": crate::db::rfc3339(crate::db::at(i64::try_from(click.at).unwrap_or(i64::MAX))) }),
        )
    }

    #[route(auth = "none")]
    async fn submit_chain_signals(&self, _cx: &RequestContext, body: ChainSignalsRequest) -> Result<Value, Failure> {
        Ok(json!({ "accepted": body.signals.len(), "sessionId": body.session_id }))
    }

    #[route(auth = "none")]
    async fn resolve_chain(&self, _cx: &RequestContext, body: ChainResolveRequest) -> Result<Value, Failure> {
        Ok(json!({ "sessionId": body.session_id, "trigger": body.trigger, "decision": null }))
    }

    #[route(auth = "none")]
    async fn prefetch_chain(&self, _cx: &RequestContext, _: Value) -> Result<Value, Failure> {
        Ok(json!({ "decisions": [] }))
    }

    #[route(auth = "none")]
    async fn get_sdk_config(&self, _cx: &RequestContext) -> Result<Value, Failure> {
        Ok(json!({ "apiVersion": "2" }))
    }
}

impl<R: Repository> VisitorApi for App<R> {
    #[route(auth = "none")]
    async fn request_visitor_magic_link(&self, _cx: &RequestContext, body: MagicLinkRequest) -> Result<(), Failure> {
        let token = random_secret();
        self.db.add_magic_link(&token, &body.email, self.now() + MAGIC_LINK_TTL).map_err(db_failure)?;
        // No email is sent; the token is logged so a local demo can use it.
        tracing::info!(email = %body.email, magic_token = %token, "visitor magic link");
        Ok(())
    }

    #[route(auth = "none")]
    async fn verify_visitor_magic_link(
        &self,
        cx: &RequestContext,
        body: VerifyMagicLinkRequest,
    ) -> Result<Value, Failure> {
        let email = self.db.use_magic_link(&body.token, self.now()).map_err(db_failure)?.map_err(|why| match why {
            "used" => Failure::new(ErrorCode::UsedMagicLink, "The magic link was already used."),
            _ => Failure::new(ErrorCode::ExpiredMagicLink, "The magic link is unknown or older than 15 minutes."),
        })?;
        let session = random_secret();
        self.db.add_visitor(&session, &email, self.now() + VISITOR_TTL).map_err(db_failure)?;
        set_cookie(cx, VISITOR_COOKIE, &session, "/", VISITOR_TTL);
        Ok(json!({ "email": email }))
    }

    #[route(auth = "visitor_cookie")]
    async fn visitor_logout(&self, cx: &RequestContext, auth: VisitorContext) -> Result<(), Failure> {
        self.db.drop_visitor(&auth.visitor_id).map_err(db_failure)?;
        set_cookie(cx, VISITOR_COOKIE, "", "/", Duration::ZERO);
        Ok(())
    }

    #[route(auth = "visitor_cookie")]
    async fn get_visitor_profile(&self, _cx: &RequestContext, auth: VisitorContext) -> Result<Value, Failure> {
        Ok(json!({ "visitorId": auth.visitor_id, "email": auth.email }))
    }

    #[route(auth = "visitor_cookie")]
    async fn list_visitor_access(&self, _cx: &RequestContext, _: VisitorContext) -> Result<Value, Failure> {
        Ok(json!({ "access": [] }))
    }
}

impl<R: Repository> WebhooksApi for App<R> {
    #[route(auth = "jwt", role = "OPERATOR")]
    async fn create_webhook(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        body: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Failure> {
        self.webhook(&handle, body)
    }

    #[route(auth = "jwt", role = "OPERATOR")]
    async fn list_webhooks(&self, _cx: &RequestContext, _: JwtContext, handle: String) -> Result<Value, Failure> {
        Ok(json!({ "subscriptions": self.db.webhooks(&handle).map_err(db_failure)? }))
    }

    #[route(auth = "jwt", role = "OPERATOR")]
    async fn delete_webhook(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        subscription_id: String,
    ) -> Result<(), Failure> {
        if self.db.delete_webhook(&handle, &subscription_id).map_err(db_failure)? {
            Ok(())
        } else {
            Err(Failure::not_found(format!("Subscription `{subscription_id}`")))
        }
    }

    #[route(auth = "jwt", role = "OPERATOR")]
    async fn test_webhook(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        handle: String,
        subscription_id: String,
    ) -> Result<Value, Failure> {
        let known = self
            .db
            .webhooks(&handle)
            .map_err(db_failure)?
            .iter()
            .any(|w| w["subscriptionId"] == subscription_id.as_str());
        if !known {
            return Err(Failure::not_found(format!("Subscription `{subscription_id}`")));
        }
        Ok(json!({ "delivered": false, "reason": "the reference server sends no deliveries" }))
    }

    #[route(auth = "pat", scopes = ["webhooks.write"], feature = "growth_tools")]
    async fn pat_create_webhook(
        &self,
        _cx: &RequestContext,
        auth: PatContext,
        body: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Failure> {
        self.webhook(&auth.handle, body)
    }
}

/// The short-link host stand-in: records a click and redirects (302) to the destination
/// with a freshly signed `ctx` for the conversions the click may lead to. It is outside
/// the generated router, so it answers failures with the spec's codes itself.
pub(crate) async fn redirect<R: Repository>(State(app): State<Arc<App<R>>>, request: Request) -> Response {
    match follow(&app, request).await {
        Ok(answer) => answer,
        Err(failure) => failure.resolve(&tenx_server::spec::SERVER_SPEC.answers).into_response(),
    }
}

async fn follow<R: Repository>(app: &App<R>, request: Request) -> Result<Response, Failure> {
    let (mut parts, _) = request.into_parts();
    // Not axum's `Path`: its rejection is plain text, and every answer here is the envelope.
    let params = tenx_server_runtime::path_params(&mut parts).await?;
    // The route is `/go/{handle}/{slug}`: both are there whenever it matched.
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let (handle, slug) = (param("handle"), param("slug"));
    let link = app.db.link(handle, slug).map_err(db_failure)?;
    let link = link.filter(|l| l.get("enabled") != Some(&Value::Bool(false)));
    let link = link.ok_or_else(|| Failure::not_found(format!("Link `{slug}`")))?;
    let mut to = link
        .get("destinationUrl")
        .and_then(Value::as_str)
        .and_then(|u| url::Url::parse(u).ok())
        .ok_or_else(|| Failure::internal(format!("link `{handle}/{slug}` has no valid destination")))?;
    app.db.click(handle, slug, app.now()).map_err(db_failure)?;
    if let Some(spec) = CONTEXT_TOKEN {
        let ctx = app.keys.ctx.mint(handle, slug, app.now());
        to.query_pairs_mut().append_pair(spec.param, &ctx);
    }
    Ok((axum::http::StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response())
}
