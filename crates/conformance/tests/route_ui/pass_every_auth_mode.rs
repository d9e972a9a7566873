// Handlers of every auth mode, annotated as the spec says: this compiles.
use std::sync::Arc;

use serde_json::{Value, json};
use tenx_server::*;

struct App;

impl TokensApi for App {
    #[route(auth = "jwt", role = "OPERATOR", feature = "growth_tools")]
    async fn create_token(&self, _cx: &RequestContext, _: JwtContext, _: String, body: CreateTokenRequest) -> Result<CreatedToken, Failure> {
        Ok(CreatedToken { token_id: "t".into(), token: "patv1_t.s".into(), name: body.name, scopes: body.scopes, expires_at: None })
    }

    #[route(auth = "jwt", role = "OPERATOR", feature = "growth_tools")]
    async fn list_tokens(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<TokenList, Failure> {
        Ok(TokenList { tokens: vec![] })
    }

    #[route(auth = "jwt", role = "OPERATOR", feature = "growth_tools")]
    async fn revoke_token(&self, _cx: &RequestContext, _: JwtContext, _: String, _: String) -> Result<(), Failure> {
        Ok(())
    }
}

impl WebhooksApi for App {
    #[route(auth = "jwt", role = "OPERATOR")]
    async fn create_webhook(&self, _cx: &RequestContext, _: JwtContext, _: String, _: CreateWebhookRequest) -> Result<CreatedWebhook, Failure> {
        Ok(CreatedWebhook { subscription_id: None, secret: "s".into() })
    }

    #[route(auth = "jwt", role = "OPERATOR")]
    async fn list_webhooks(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<Value, Failure> {
        Ok(json!([]))
    }

    #[route(auth = "jwt", role = "OPERATOR")]
    async fn delete_webhook(&self, _cx: &RequestContext, _: JwtContext, _: String, _: String) -> Result<(), Failure> {
        Ok(())
    }

    #[route(auth = "jwt", role = "OPERATOR")]
    async fn test_webhook(&self, _cx: &RequestContext, _: JwtContext, _: String, _: String) -> Result<Value, Failure> {
        Ok(json!({}))
    }

    #[route(auth = "pat", scopes = ["webhooks.write"], feature = "growth_tools")]
    async fn pat_create_webhook(&self, _cx: &RequestContext, _: PatContext, _: CreateWebhookRequest) -> Result<CreatedWebhook, Failure> {
        Ok(CreatedWebhook { subscription_id: None, secret: "s".into() })
    }
}

impl VisitorApi for App {
    #[route(auth = "none")]
    async fn request_visitor_magic_link(&self, _cx: &RequestContext, _: MagicLinkRequest) -> Result<(), Failure> {
        Ok(())
    }

    #[route(auth = "none")]
    async fn verify_visitor_magic_link(&self, _cx: &RequestContext, _: VerifyMagicLinkRequest) -> Result<Value, Failure> {
        Ok(json!({}))
    }

    #[route(auth = "visitor_cookie")]
    async fn visitor_logout(&self, _cx: &RequestContext, _: VisitorContext) -> Result<(), Failure> {
        Ok(())
    }

    #[route(auth = "visitor_cookie")]
    async fn get_visitor_profile(&self, _cx: &RequestContext, _: VisitorContext) -> Result<Value, Failure> {
        Ok(json!({}))
    }

    #[route(auth = "visitor_cookie")]
    async fn list_visitor_access(&self, _cx: &RequestContext, _: VisitorContext) -> Result<Value, Failure> {
        Ok(json!([]))
    }
}

// A free function names its route with `operation`.
#[route(operation = "pat_upsert_link", auth = "pat", scope = "links.write", feature = "growth_tools")]
async fn upsert_from_a_job() {}

fn main() {
    let _ = RouterBuilder::new;
    let _ = (Arc::new(App), upsert_from_a_job);
}
