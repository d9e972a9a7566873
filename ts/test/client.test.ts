// The generated TypeScript client against a scripted loopback server: the same cases as
// the Rust client's (crates/conformance/tests/client.rs), counting attempts and waits on
// a virtual clock.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { inspect } from "node:util";

import {
  ApiError,
  Client,
  NEVER_RETRY,
  PatFormatError,
  Session,
  TransportError,
  decide,
  isApiError,
  parseRetryAfter,
  RETRY_POLICY,
} from "../../generated/ts-client/src/index.js";
import type { ConversionRequest } from "../../generated/ts-client/src/index.js";
import { ScriptedServer, VirtualClock, apiError, closedPort, json, rejection, withHeader } from "./support.js";
import type { Reply } from "./support.js";

const servers: ScriptedServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function serve(replies: Reply[]): Promise<ScriptedServer> {
  const server = await ScriptedServer.start(replies);
  servers.push(server);
  return server;
}

function client(server: ScriptedServer, clock: VirtualClock, autoRefresh = false): Client {
  return new Client(server.url, { clock, autoRefresh });
}

function jwt(server: ScriptedServer, clock: VirtualClock) {
  return client(server, clock).withJwt("header.payload.signature");
}

test("two 503s then a success wait one then two seconds", async () => {
  const server = await serve([
    apiError(503, "service_unavailable", "busy"),
    apiError(503, "service_unavailable", "busy"),
    json(200, '{"handles": []}'),
  ]);
  const clock = new VirtualClock();
  const answer = await jwt(server, clock).listHandles();
  assert.equal(answer.status, 200);
  assert.equal(answer.outcome, "ok");
  assert.equal(answer.attempts, 3);
  assert.equal(server.seen.length, 3);
  assert.deepEqual(clock.sleeps, [1000, 2000]);
});

test("a 500 forever gives up after six requests on the documented schedule", async () => {
  const server = await serve([apiError(500, "internal_error", "boom")]);
  const clock = new VirtualClock();
  const error = await rejection(jwt(server, clock).listHandles());
  assert.ok(isApiError(error, "internal_error"));
  assert.equal(server.seen.length, 6);
  assert.deepEqual(clock.sleeps, [1000, 2000, 4000, 8000, 16000]);
  assert.equal(error.attempts, 6);
  assert.equal(error.message, "internal_error (500): boom [after 6 attempts]");
});

test("a 429 waits its Retry-After in seconds", async () => {
  const server = await serve([withHeader(apiError(429, "rate_limited", "slow"), "retry-after", "3"), json(200, "{}")]);
  const clock = new VirtualClock();
  await jwt(server, clock).listHandles();
  assert.equal(server.seen.length, 2);
  assert.deepEqual(clock.sleeps, [3000]);
});

test("a 429 waits its Retry-After as an HTTP date", async () => {
  const clock = new VirtualClock();
  const date = new Date(clock.now() + 7000).toUTCString();
  const server = await serve([withHeader(apiError(429, "rate_limited", "slow"), "retry-after", date), json(200, "{}")]);
  await jwt(server, clock).listHandles();
  assert.deepEqual(clock.sleeps, [7000]);
});

test("a Retry-After beyond the cap returns at once with the wait", async () => {
  const server = await serve([withHeader(apiError(429, "rate_limited", "come back later"), "retry-after", "3600")]);
  const clock = new VirtualClock();
  const error = await rejection(jwt(server, clock).listHandles());
  assert.equal(server.seen.length, 1);
  assert.deepEqual(clock.sleeps, []);
  assert.ok(isApiError(error, "rate_limited"));
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterMs, 3_600_000);
  assert.match(error.message, /retry after 3600 s$/);
});

test("deterministic errors are sent once and decoded", async () => {
  const cases: [number, string, string][] = [
    [400, "validation_error", "slug is too short"],
    [401, "invalid_token", "Token is malformed"],
    [403, "insufficient_scope", "Token does not have the required scope: analytics.*"],
    [404, "not_found", "No such link"],
    [409, "conflict", "Already exists"],
  ];
  for (const [status, code, message] of cases) {
    const server = await serve([withHeader(apiError(status, code, message), "x-request-id", "req-42")]);
    const clock = new VirtualClock();
    const error = await rejection(jwt(server, clock).getLink("acme", "launch"));
    assert.equal(server.seen.length, 1, `${code} was retried`);
    assert.ok(error instanceof ApiError);
    assert.deepEqual(
      [error.code, error.status, error.detail, error.requestId, error.attempts, error.known],
      [code, status, message, "req-42", 1, true],
    );
    assert.deepEqual(clock.sleeps, []);
  }
});

test("flat and non-JSON error bodies still decode; unknown codes are kept", async () => {
  const flat =
    '{"error":"feature_locked","feature":"growth_tools","requiredPlan":"PRO","message":"Growth tools require a PRO plan."}';
  let server = await serve([json(403, flat)]);
  const error = await rejection(jwt(server, new VirtualClock()).listTokens("acme"));
  assert.ok(isApiError(error, "feature_locked"));
  // Typed by its code: `feature` and `requiredPlan` are the catalogue's details.
  assert.deepEqual([error.details.feature, error.details.requiredPlan], ["growth_tools", "PRO"]);
  assert.equal(error.detail, "Growth tools require a PRO plan.");

  server = await serve([{ status: 502, headers: {}, body: "<html>bad gateway</html>" }, json(200, "{}")]);
  const clock = new VirtualClock();
  await jwt(server, clock).listHandles();
  assert.deepEqual(clock.sleeps, [1000], "a 502 without JSON is still retried by status");

  server = await serve([apiError(418, "teapot_mode", "short and stout")]);
  const unknown = await rejection(jwt(server, new VirtualClock()).listHandles());
  assert.ok(unknown instanceof ApiError);
  assert.deepEqual([unknown.code, unknown.known, isApiError(unknown)], ["teapot_mode", false, false]);
});

test("a POST without an idempotency key is not retried", async () => {
  const server = await serve([apiError(503, "service_unavailable", "busy")]);
  const error = await rejection(jwt(server, new VirtualClock()).createHandle({ handle: "acme" }));
  assert.ok(error instanceof ApiError);
  assert.deepEqual([server.seen.length, error.attempts], [1, 1]);
});

test("a conversion is retried with the same key and a dedupe is surfaced", async () => {
  let server = await serve([
    apiError(503, "service_unavailable", "busy"),
    apiError(503, "service_unavailable", "busy"),
    json(200, '{"deduped": true}'),
  ]);
  const clock = new VirtualClock();
  const body: ConversionRequest = { ctx: "ctx-1", eventType: "purchase", value: 49.99 };
  const answer = await client(server, clock).recordConversion(body);
  assert.equal(answer.body.deduped, true);
  const keys = server.seen.map((s) => JSON.parse(s.body).idempotencyKey as string);
  assert.equal(keys.length, 3);
  assert.match(keys[0] ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(keys.every((k) => k === keys[0]), keys.join(" "));
  assert.deepEqual(clock.sleeps, [1000, 2000]);
  assert.equal(body.idempotencyKey, undefined, "the caller's object is left alone");

  // A key the caller chooses is sent as is.
  server = await serve([json(200, "{}")]);
  await client(server, clock).recordConversion({ ...body, idempotencyKey: "order-12345" });
  assert.equal(JSON.parse(server.seen[0]?.body ?? "{}").idempotencyKey, "order-12345");
});

function loginReply(): Reply {
  return withHeader(json(200, '{"accessToken":"old.jwt.token"}'), "set-cookie", "refresh_token=r1; HttpOnly; Path=/v2/auth");
}

test("token_expired refreshes once and replays once", async () => {
  const server = await serve([
    loginReply(),
    apiError(401, "token_expired", "JWT expired"),
    json(200, '{"accessToken":"new.jwt.token"}'),
    json(200, "{}"),
  ]);
  const base = client(server, new VirtualClock(), true);
  const user = await base.signIn({ email: "you@example.com", password: "your-password" });
  const answer = await user.listHandles();
  assert.equal(answer.attempts, 2);
  const seen = server.seen;
  assert.deepEqual(
    seen.map((s) => s.path),
    ["/v2/auth/login", "/v2/handles", "/v2/auth/refresh", "/v2/handles"],
  );
  assert.equal(seen[1]?.headers.authorization, "Bearer old.jwt.token");
  assert.equal(seen[2]?.headers.cookie, "refresh_token=r1");
  assert.equal(seen[3]?.headers.authorization, "Bearer new.jwt.token");
});

test("concurrent calls that meet token_expired share one refresh", async () => {
  const server = await serve([loginReply()]);
  const base = client(server, new VirtualClock(), true);
  const user = await base.signIn({ email: "you@example.com", password: "pw" });
  await server.close();
  // A server that refuses the old token, counts refreshes, and accepts the new one.
  let refreshes = 0;
  const { createServer } = await import("node:http");
  const http = createServer((req, res) => {
    if (req.url === "/v2/auth/refresh") {
      refreshes += 1;
      setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end('{"accessToken":"new"}'), 20);
    } else if (req.headers.authorization === "Bearer new") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"handles":[]}');
    } else {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"code":"token_expired","message":"expired"}}');
    }
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as import("node:net").AddressInfo).port;
  const shared = new Client(`http://127.0.0.1:${port}`, { autoRefresh: true }).withSession(user.session);
  const answers = await Promise.all(Array.from({ length: 5 }, () => shared.listHandles()));
  assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
  assert.equal(refreshes, 1, "the refresh cookie rotates on use: a second refresh would fail");
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

test("a failed refresh returns the original error without a loop", async () => {
  for (const secondExpiry of [false, true]) {
    const replies = [loginReply(), apiError(401, "token_expired", "JWT expired")];
    if (secondExpiry) {
      // The refresh works but the replay is refused again: returned as is.
      replies.push(json(200, '{"accessToken":"new"}'), apiError(401, "token_expired", "expired again"));
    } else {
      replies.push(apiError(401, "invalid_token", "refresh cookie revoked"));
    }
    replies.push(json(200, "{}"));
    const server = await serve(replies);
    const user = await client(server, new VirtualClock(), true).signIn({ email: "you@example.com", password: "pw" });
    const error = await rejection(user.listHandles());
    assert.equal(server.seen.length, secondExpiry ? 4 : 3);
    assert.ok(isApiError(error, "token_expired"), String(error));
  }
});

test("refresh is opt-in, and per-call options override the policy", async () => {
  let server = await serve([loginReply(), apiError(401, "token_expired", "JWT expired")]);
  const user = await client(server, new VirtualClock()).signIn({ email: "a@b.c", password: "pw" });
  const error = await rejection(user.listHandles());
  assert.ok(isApiError(error, "token_expired"));
  assert.equal(server.seen.length, 2);

  server = await serve([apiError(503, "service_unavailable", "busy")]);
  await rejection(jwt(server, new VirtualClock()).withOptions({ retry: NEVER_RETRY }).listHandles());
  assert.equal(server.seen.length, 1);
  server = await serve([apiError(503, "service_unavailable", "busy")]);
  await rejection(jwt(server, new VirtualClock()).listHandles({ retry: { ...RETRY_POLICY, maxAttempts: 2 } }));
  assert.equal(server.seen.length, 2);
});

test("the PAT client fills its handle and sends its token", async () => {
  const server = await serve([json(200, '{"links": []}')]);
  const bot = client(server, new VirtualClock()).withPat("patv1_tok1.s3cret", "acme");
  const answer = await bot.patListLinks();
  assert.equal(answer.body.links.length, 0);
  assert.equal(server.seen[0]?.path, "/v2/public/handles/acme/links");
  assert.equal(server.seen[0]?.headers.authorization, "Bearer patv1_tok1.s3cret");
  assert.equal(bot.handle, "acme");
});

test("path segments are percent-encoded and queries repeat list keys", async () => {
  const server = await serve([json(200, "{}")]);
  await jwt(server, new VirtualClock()).getLink("acme", "a b/c?");
  assert.equal(server.seen[0]?.path, "/v2/handles/acme/links/a%20b%2Fc%3F");
});

test("secrets never show in toString, JSON.stringify, inspect or errors", async () => {
  const server = await serve([loginReply(), apiError(401, "invalid_token", "nope")]);
  const base = client(server, new VirtualClock());
  const user = await base.signIn({ email: "you@example.com", password: "pw-hunter2" });
  const pat = base.withPat("patv1_tok1.topsecretvalue", "acme");
  const visitor = base.withVisitorCookie("visitor-cookie-value");
  const error = await rejection(user.listHandles());
  const shown = [
    String(user.session),
    JSON.stringify(user.session),
    inspect(user.session),
    String(pat.pat),
    JSON.stringify(pat.pat),
    inspect(pat.pat),
    JSON.stringify(pat.pat.secret),
    inspect(user),
    inspect(pat),
    inspect(visitor),
    JSON.stringify(user),
    JSON.stringify(pat),
    JSON.stringify(visitor),
    inspect(error),
    JSON.stringify(error),
    String(error),
  ].join(" ");
  for (const secret of ["old.jwt.token", "r1", "topsecretvalue", "visitor-cookie-value", "pw-hunter2"]) {
    assert.ok(!shown.includes(secret), `\`${secret}\` shows in ${shown}`);
  }
  assert.ok(shown.includes("tok1"), "the token id is not secret");
  assert.deepEqual(user.session.cookieNames, ["refresh_token"]);
});

test("malformed PATs are refused before any request", () => {
  const base = new Client("http://127.0.0.1:9");
  for (const token of [
    "",
    "patv1_tok.sec ret",
    "eyJhbGciOiJIUzI1NiJ9.e30.x",
    "patv1_nodot",
    "patv1_.secret",
    "patv1_tok.",
    "patv1_tok.a.b",
  ]) {
    assert.throws(
      () => base.withPat(token, "acme"),
      (e: unknown) => e instanceof PatFormatError && e.message.includes("patv1_<tokenId>.<secret>"),
      token,
    );
  }
});

test("transport failures are their own error and are retried", async () => {
  const port = await closedPort();
  const clock = new VirtualClock();
  const error = await rejection(new Client(`http://127.0.0.1:${port}`, { clock }).withJwt("t").listHandles());
  assert.ok(error instanceof TransportError, String(error));
  assert.equal(error.attempts, 6);
  assert.deepEqual(clock.sleeps, [1000, 2000, 4000, 8000, 16000]);
});

test("an attempt past its timeout is a transport failure, retried; a cancelled call is not", async () => {
  const server = await serve([{ ...json(200, "{}"), delayMs: 300 }, { ...json(200, "{}"), delayMs: 300 }, json(200, "{}")]);
  const clock = new VirtualClock();
  const answer = await jwt(server, clock).listHandles({ timeoutMs: 50 });
  assert.equal(answer.attempts, 3);
  assert.deepEqual(clock.sleeps, [1000, 2000]);

  const slow = await serve([{ ...json(200, "{}"), delayMs: 300 }]);
  const controller = new AbortController();
  const call = jwt(slow, new VirtualClock()).listHandles({ signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  const error = await rejection(call);
  assert.ok(error instanceof TransportError, String(error));
  assert.equal(error.attempts, 1);
});

test("a session made from a token alone cannot refresh and says so by failing once", async () => {
  const server = await serve([apiError(401, "token_expired", "JWT expired")]);
  const user = new Client(server.url, { clock: new VirtualClock(), autoRefresh: true }).withSession(new Session("t"));
  const error = await rejection(user.listHandles());
  assert.ok(isApiError(error, "token_expired"));
});

test("the retry decision: jitter stays in its band, Retry-After parses both forms", () => {
  const policy = { ...RETRY_POLICY, jitter: 0.5 };
  for (const r of [0, 0.25, 0.999]) {
    const d = decide(policy, 1, true, { kind: "status", status: 503 }, () => r);
    assert.equal(d.kind, "retry");
    assert.ok(d.kind === "retry" && d.waitMs <= 1000 && d.waitMs >= 500, JSON.stringify(d));
  }
  const now = Date.UTC(2026, 0, 1);
  assert.equal(parseRetryAfter("12", now), 12_000);
  assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
  assert.equal(parseRetryAfter(new Date(now - 5000).toUTCString(), now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter("-3", now), undefined);
});
