// The families the reference server does not implement, through the generated
// TypeScript client: the stub answers them after the router's checks, so every family
// is called, each gate refuses as the spec says, and a declared outcome can be asked
// for with `Prefer: code=…`.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, NEVER_RETRY, isApiError } from "../../generated/ts-client/src/index.js";
import type { JwtClient } from "../../generated/ts-client/src/index.js";
import { ReferenceServer } from "./reference_server.js";
import { rejection } from "./support.js";

let server: ReferenceServer;
before(async () => {
  server = await ReferenceServer.start();
});
after(() => server.stop());

const noRetry = { retry: NEVER_RETRY };

const signIn = (email: string, client: Client = new Client(server.base)): Promise<JwtClient> =>
  client.signIn({ email, password: "demo-password" });

/** A client whose every request asks the stub for `outcome`. */
const asking = (outcome: string): Client =>
  new Client(server.base, {
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set("prefer", `code=${outcome}`);
      return fetch(input, { ...init, headers });
    },
  });

test("every stubbed family answers a call of the generated client", async () => {
  const owner = await signIn("owner@demo.10x");
  const anyone = new Client(server.base);
  const h = "demo-pro";
  const calls: [string, Promise<{ status: number }>][] = [
    ["oauth", anyone.getOauthServerMetadata()],
    ["account", owner.getOpenanalystAccount()],
    ["personalization", owner.listPersonalizationRules(h)],
    ["tracking_templates", owner.listTrackingTemplates(h)],
    ["destination_domains", owner.listDestinationDomains(h)],
    ["campaigns", owner.listCampaigns(h)],
    ["site_structure", owner.getCampaignSiteStructure(h, "spring")],
    ["chain", owner.getChainSession(h, "s1")],
    ["notifications", owner.getNotifications(h)],
    ["mobile", owner.getMobileInbox(h)],
    ["site", owner.listSiteDeployments(h)],
    ["files", owner.listFiles(h)],
    ["public_files", anyone.downloadPublicFile("f1")],
    ["internal_docs", owner.getInternalDocsAccess(h)],
    ["creator_pages", owner.listPages(h)],
    ["group_buys", owner.listGroupBuys(h)],
    ["public_group_buys", anyone.listPublicGroupBuys(h)],
    ["billing", owner.getBillingSummary()],
    ["connect", owner.getConnectStatus(h)],
    ["stripe", anyone.receiveStripeWebhook({ type: "ping" })],
    ["domains", owner.getDomain("shop.example.com")],
    ["agent", owner.listAgentProposals(h)],
    ["knowledge", owner.listKnowledgeDocuments(h)],
    ["qa", owner.listQaEnvironments(h)],
    ["skills", owner.listSkills(h)],
    ["email", owner.listEmailSenders(h)],
    ["leads", owner.listLeads(h)],
    ["support", owner.submitSupportReport({ handle: h, summary: "stub", details: "from the TS suite" })],
  ];
  for (const [family, call] of calls) {
    const answer = await call;
    assert.ok(answer.status >= 200 && answer.status < 400, `${family}: ${answer.status}`);
  }
  // Visitor-cookie families: no such session is a 401 before the stub.
  const visitor = anyone.withVisitorCookie("none");
  assert.ok(isApiError(await rejection(visitor.startPageCheckout(h, "guide")), "visitor_session_required"));
  // A platform-role family: the owner holds no platform role.
  assert.ok(isApiError(await rejection(owner.listAllGroupBuys()), "insufficient_role"));
});

test("each gate refuses a stubbed route before the stub answers", async () => {
  const client = new Client(server.base, noRetry);
  const bad = await rejection(client.withJwt("not-a-jwt").listCampaigns("demo-pro"));
  assert.ok(isApiError(bad, "invalid_token") && bad.status === 401, String(bad));

  const owner = await signIn("owner@demo.10x", client);
  const minted = await owner.createToken("demo-pro", { name: "ts", scopes: ["links.read"], expiresInDays: 30 });
  const reader = client.withPat(minted.body.token, "demo-pro");
  const scope = await rejection(reader.patListPages());
  assert.ok(isApiError(scope, "insufficient_scope") && scope.status === 403, String(scope));

  const creator = await signIn("creator@demo.10x", client);
  const role = await rejection(creator.updateNotificationSettings("demo-pro", {}));
  assert.ok(isApiError(role, "insufficient_role"), String(role));

  const plan = await rejection(owner.listPages("demo-free"));
  assert.ok(isApiError(plan, "feature_locked"), String(plan));
  assert.deepEqual([plan.details.feature, plan.details.requiredPlan], ["creator_pages", "PRO"]);

  const handle = await rejection(owner.listCampaigns("no-such-handle"));
  assert.ok(isApiError(handle, "handle_not_found") && handle.status === 404, String(handle));
});

test("a declared outcome is answered when asked for, an undeclared one is a 400", async () => {
  const jwt = (await signIn("owner@demo.10x")).session.accessToken.expose();
  const missing = await rejection(asking("not_found").withJwt(jwt).listCampaigns("demo-pro", noRetry));
  assert.ok(isApiError(missing, "not_found") && missing.status === 404, String(missing));
  const limited = await rejection(asking("429").withJwt(jwt).listCampaigns("demo-pro", noRetry));
  assert.ok(isApiError(limited, "rate_limited") && limited.status === 429, String(limited));
  const undeclared = await rejection(asking("feature_locked").withJwt(jwt).listCampaigns("demo-pro", noRetry));
  assert.ok(isApiError(undeclared, "validation_error") && undeclared.status === 400, String(undeclared));
  assert.match(undeclared.message, /does not declare the outcome `feature_locked`/);
  // A real handler never reads `Prefer`.
  const links = await asking("not_found").withJwt(jwt).listLinks("demo-pro");
  assert.equal(links.status, 200);
});
