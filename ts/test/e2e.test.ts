// The seed's flows end to end: the generated TypeScript client against the reference
// server process (login → PAT → upsert 201 then 200 → scope error → refresh →
// conversion dedupe). The rate-limit wait is in its own file, so it runs beside these.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, Session, isApiError } from "../../generated/ts-client/src/index.js";
import type { CreateTokenRequest, JwtClient } from "../../generated/ts-client/src/index.js";
import { ReferenceServer, expiredJwt, subject } from "./reference_server.js";
import { rejection } from "./support.js";

let server: ReferenceServer;
before(async () => {
  server = await ReferenceServer.start();
});
after(() => server.stop());

const signIn = (email: string): Promise<JwtClient> =>
  new Client(server.base).signIn({ email, password: "demo-password" });

const tokenRequest = (scopes: string[]): CreateTokenRequest => ({ name: "ci-worker", scopes, expiresInDays: 30 });

test("a PAT minted by an operator upserts (201 then 200) and reads a link; a read-only PAT cannot write", async () => {
  const owner = await signIn("owner@demo.10x");
  const minted = await owner.createToken("demo-pro", tokenRequest(["links.read", "links.write"]));
  assert.equal(minted.status, 201);
  const bot = new Client(server.base).withPat(minted.body.token, "demo-pro");
  const first = await bot.patUpsertLink("launch", { destinationUrl: "https://example.com/product" });
  assert.deepEqual([first.status, first.outcome], [201, "created"]);
  const second = await bot.patUpsertLink("launch", { destinationUrl: "https://example.com/product-v2" });
  assert.deepEqual([second.status, second.outcome], [200, "updated"]);
  const read = await bot.patGetLink("launch");
  assert.equal(read.body.destinationUrl, "https://example.com/product-v2");
  assert.ok(read.requestId !== undefined && read.requestId !== "", "every answer has a request id");

  const reader = await owner.createToken("demo-pro", tokenRequest(["links.read"]));
  const readOnly = new Client(server.base).withPat(reader.body.token, "demo-pro");
  const error = await rejection(readOnly.patUpsertLink("launch", { destinationUrl: "https://example.com" }));
  assert.ok(isApiError(error, "insufficient_scope"), String(error));
  assert.equal(error.status, 403);
  assert.equal(error.attempts, 1, "a 403 is never retried");
  assert.ok(error.requestId !== undefined);
});

test("a creator cannot mint a PAT, and a FREE handle's feature lock carries typed details", async () => {
  const creator = await signIn("creator@demo.10x");
  const denied = await rejection(creator.createToken("demo-pro", tokenRequest(["links.read"])));
  assert.ok(isApiError(denied, "insufficient_role"), String(denied));
  const owner = await signIn("owner@demo.10x");
  const locked = await rejection(owner.createToken("demo-free", tokenRequest(["links.read"])));
  assert.ok(isApiError(locked, "feature_locked"), String(locked));
  assert.equal(locked.details.requiredPlan, "PRO");
});

test("an expired JWT is refused, and the refresh cookie buys a working one", async () => {
  const login = await new Client(server.base).login({ email: "owner@demo.10x", password: "demo-password" });
  const expired = expiredJwt(subject(login.body.accessToken));
  const stale = await rejection(new Client(server.base).withJwt(expired).listHandles());
  assert.ok(isApiError(stale, "token_expired"), String(stale));

  const session = Session.fromLogin(expired, login.headers);
  const refreshing = new Client(server.base, { autoRefresh: true }).withSession(session);
  const handles = await refreshing.listHandles();
  assert.equal(handles.status, 200);
  assert.equal(handles.attempts, 2, "the refused call and its replay");
  assert.equal(session.generation, 1);
  assert.notEqual(session.accessToken.expose(), expired);
});

test("a conversion sent twice with one key is stored once", async () => {
  const owner = await signIn("owner@demo.10x");
  await owner.upsertLink("demo-pro", "buy-now", { destinationUrl: "https://example.com/buy?x=1" });
  const click = await fetch(`${server.base}/go/demo-pro/buy-now`, { redirect: "manual" });
  assert.equal(click.status, 302);
  const to = new URL(click.headers.get("location") ?? "");
  assert.equal(to.searchParams.get("x"), "1");
  const ctx = to.searchParams.get("ctx");
  assert.ok(ctx !== null, "the destination carries ctx");
  const client = new Client(server.base);
  const body = { ctx, eventType: "purchase", value: 49.99, idempotencyKey: "order-12345" };
  const first = await client.recordConversion(body);
  assert.equal(first.body.deduped, false);
  const second = await client.recordConversion(body);
  assert.deepEqual([second.status, second.body.deduped], [200, true]);
  const report = await owner.getAnalytics("demo-pro");
  assert.deepEqual([report.body.conversions, report.body.revenue], [1, 49.99]);
});
