// The 10x stub binary (`tenx-stub`, generated from the spec), as an SDK team starts it for
// its own tests: on a free port with `--json`, it prints its base URL and a credential for
// each auth mode; every route runs its checks, then answers its declared outcome, and
// `Prefer: code=…` asks for another. Its path comes from `TENX_STUB_SERVER` (the Rust
// harness sets it to the binary cargo built).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";

import { Client, NEVER_RETRY, isApiError } from "../../generated/ts-client/src/index.js";
import { rejection } from "./support.js";

interface Demo {
  baseUrl: string;
  subject: string;
  lowPlanSubject: { subject: string; plan: string };
  jwt: string;
  jwtLowRole: { jwt: string; role: string };
  pat: string;
  patNoScopes: string;
  visitor: string;
}

let child: ChildProcess;
let demo: Demo;

before(async () => {
  const binary = process.env["TENX_STUB_SERVER"];
  if (binary === undefined || binary === "") {
    throw new Error("TENX_STUB_SERVER names no stub binary: run through `cargo test -p tenx-reference-server --test ts_client`");
  }
  child = spawn(binary, ["--listen", "127.0.0.1:0", "--json"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  demo = await new Promise<Demo>((resolve, reject) => {
    lines.once("line", (line) => resolve(JSON.parse(line) as Demo));
    child.once("exit", (code) => reject(new Error(`the stub exited (${code}) before printing its credentials`)));
  });
});
after(() => child.kill("SIGKILL"));

const client = (prefer?: string): Client =>
  new Client(demo.baseUrl, {
    retry: NEVER_RETRY,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      if (prefer !== undefined) headers.set("prefer", `code=${prefer}`);
      return fetch(input, { ...init, headers });
    },
  });

test("every auth mode's demo credential opens its routes, of any family", async () => {
  const jwt = client().withJwt(demo.jwt);
  assert.equal((await jwt.listLinks(demo.subject)).status, 200);
  assert.equal((await jwt.listCampaigns(demo.subject)).status, 200);
  const pat = client().withPat(demo.pat, demo.subject);
  assert.equal((await pat.patListLinks()).status, 200);
  const visitor = client().withVisitorCookie(demo.visitor);
  assert.equal((await visitor.getVisitorProfile()).status, 200);
});

test("the checks run first: credential, scope, role and plan refusals", async () => {
  assert.ok(isApiError(await rejection(client().withJwt("not-a-jwt").listLinks(demo.subject)), "invalid_token"));
  const unscoped = client().withPat(demo.patNoScopes, demo.subject);
  assert.ok(isApiError(await rejection(unscoped.patListLinks()), "insufficient_scope"));
  const low = client().withJwt(demo.jwtLowRole.jwt);
  assert.ok(isApiError(await rejection(low.createToken(demo.subject, { name: "x", scopes: ["links.read"], expiresInDays: 1 })), "insufficient_role"));
  const locked = await rejection(client().withJwt(demo.jwt).listPages(demo.lowPlanSubject.subject));
  assert.ok(isApiError(locked, "feature_locked"), String(locked));
});

test("a declared outcome is answered when asked for; an undeclared one is a 400", async () => {
  const missing = await rejection(client("not_found").withJwt(demo.jwt).getLink(demo.subject, "launch"));
  assert.ok(isApiError(missing, "not_found") && missing.status === 404, String(missing));
  const created = await client("201").withJwt(demo.jwt).upsertLink(demo.subject, "launch", { destinationUrl: "https://example.com" });
  assert.deepEqual([created.status, created.outcome], [201, "created"]);
  const undeclared = await rejection(client("418").withJwt(demo.jwt).getLink(demo.subject, "launch"));
  assert.ok(isApiError(undeclared, "validation_error") && undeclared.status === 400, String(undeclared));
});
