// The 61st request of a minute on a FREE handle: answered 429 with `Retry-After`, which
// the client waits (for real: the server's window is the wall clock's) before the retry
// succeeds. Up to a minute; its own file so it runs beside the other suites.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, systemClock } from "../../generated/ts-client/src/index.js";
import type { Clock } from "../../generated/ts-client/src/index.js";
import { ReferenceServer } from "./reference_server.js";

let server: ReferenceServer;
before(async () => {
  server = await ReferenceServer.start();
});
after(() => server.stop());

test("the 61st request of a minute on FREE waits its Retry-After, then succeeds", { timeout: 120_000 }, async () => {
  const sleeps: number[] = [];
  const clock: Clock = { now: () => systemClock.now(), sleep: (ms) => (sleeps.push(ms), systemClock.sleep(ms)) };
  const owner = await new Client(server.base, { clock }).signIn({ email: "owner@demo.10x", password: "demo-password" });
  for (let n = 1; n <= 60; n += 1) {
    await owner.listLinks("demo-free");
  }
  assert.deepEqual(sleeps, []);
  const started = Date.now();
  const answer = await owner.listLinks("demo-free");
  assert.equal(answer.attempts, 2, "one 429, then success");
  assert.equal(sleeps.length, 1, JSON.stringify(sleeps));
  const [wait = 0] = sleeps;
  assert.ok(wait >= 1000 && wait <= 60_000, `${wait}`);
  assert.ok(Date.now() - started >= wait, "the client really waited");
});
