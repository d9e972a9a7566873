//! A links family that answers fixed links: enough for tests and benchmarks of the
//! router, which check what happens before and around a handler, not its storage.

use serde_json::{Value, json};
use tenx_server::*;

/// The links family with canned answers: JWT upserts create (201), PAT upserts update (200).
pub struct FixedLinks;

/// The link every answer carries.
pub fn link(slug: &str) -> Link {
    Link {
        slug: slug.to_owned(),
        destination_url: "https://example.com/product".into(),
        title: Some("Product Page".into()),
        tags: None,
        categories: None,
        enabled: Some(true),
        description: None,
    }
}

impl LinksApi for FixedLinks {
    async fn upsert_link(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        _: String,
        slug: String,
        _: UpsertLinkRequest,
    ) -> Result<UpsertLinkOutcome, Failure> {
        Ok(UpsertLinkOutcome::Created(link(&slug)))
    }
    async fn list_links(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<LinkList, Failure> {
        Ok(LinkList { links: vec![] })
    }
    async fn get_link(&self, _cx: &RequestContext, _: JwtContext, _: String, slug: String) -> Result<Link, Failure> {
        Ok(link(&slug))
    }
    async fn delete_link(&self, _cx: &RequestContext, _: JwtContext, _: String, _: String) -> Result<(), Failure> {
        Ok(())
    }
    async fn get_link_history(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        _: String,
        _: String,
    ) -> Result<Value, Failure> {
        Ok(json!([]))
    }
    async fn rollback_link(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        _: String,
        _: String,
        _: Value,
    ) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn preview_link_route(
        &self,
        _cx: &RequestContext,
        _: JwtContext,
        _: String,
        _: String,
        _: RoutePreviewRequest,
    ) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn export_links(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<Value, Failure> {
        Ok(json!([]))
    }
    async fn check_links_health(&self, _cx: &RequestContext, _: JwtContext, _: String) -> Result<Value, Failure> {
        Ok(json!({}))
    }
    async fn pat_list_links(&self, _cx: &RequestContext, _: PatContext) -> Result<LinkList, Failure> {
        Ok(LinkList { links: vec![] })
    }
    async fn pat_get_link(&self, _cx: &RequestContext, _: PatContext, slug: String) -> Result<Link, Failure> {
        Ok(link(&slug))
    }
    async fn pat_upsert_link(
        &self,
        _cx: &RequestContext,
        _: PatContext,
        slug: String,
        _: UpsertLinkRequest,
    ) -> Result<PatUpsertLinkOutcome, Failure> {
        Ok(PatUpsertLinkOutcome::Updated(link(&slug)))
    }
    async fn pat_delete_link(&self, _cx: &RequestContext, _: PatContext, _: String) -> Result<(), Failure> {
        Ok(())
    }
}
