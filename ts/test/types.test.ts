// Compile-time promises of the generated client. Each `@ts-expect-error` line is a call
// that must not type-check: if one ever compiles, `tsc` fails on the unused directive,
// and with it this suite. The runtime test below only keeps the calls from running.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, Client, isApiError } from "../../generated/ts-client/src/index.js";
import type { Answer, ErrorCode, ErrorDetails, JwtClient, Link, PatClient } from "../../generated/ts-client/src/index.js";

// Declared, never called: the checks are the compiler's.
export async function wrongCalls(jwt: JwtClient, pat: PatClient, client: Client, error: unknown): Promise<void> {
  // A PAT route is not on the JWT client, nor a JWT route on the PAT client.
  // @ts-expect-error
  await jwt.patListLinks();
  // @ts-expect-error
  await pat.listHandles();
  // A credentialed route is not on the client without a credential.
  // @ts-expect-error
  await client.listHandles();
  // The PAT client fills its handle: it is not an argument.
  // @ts-expect-error
  await pat.patGetLink("acme", "launch");
  // A body of the wrong type.
  // @ts-expect-error
  await jwt.upsertLink("acme", "launch", { destinationUrl: 42 });
  // @ts-expect-error
  await jwt.createHandle({ name: "acme" });
  // A path argument left out.
  // @ts-expect-error
  await jwt.getLink("acme");
  // A code the catalogue does not have.
  // @ts-expect-error
  isApiError(error, "no_such_code");
  // @ts-expect-error
  const code: ErrorCode = "token_expird";
  void code;
  // A client of one mode is not another (the classes are nominal).
  // @ts-expect-error
  const asJwt: JwtClient = pat;
  void asJwt;

  // And what must type-check: outcomes narrow by status, details by code.
  const answer = await jwt.upsertLink("acme", "launch", { destinationUrl: "https://example.com" });
  if (answer.status === 201) {
    const created: Answer<201, "created", Link> = answer;
    void created;
  }
  // @ts-expect-error
  const wrongOutcome: "deleted" = answer.outcome;
  void wrongOutcome;
  if (isApiError(error, "feature_locked")) {
    const details: ErrorDetails<"feature_locked"> = error.details;
    const plan: string = details.requiredPlan;
    void plan;
  }
  if (isApiError(error, "rate_limited")) {
    // @ts-expect-error
    void error.details.requiredPlan;
  }
}

test("the type checks above compiled (tsc ran before this suite)", () => {
  assert.equal(typeof wrongCalls, "function");
  assert.ok(new ApiError("r", "x", 400, "m", undefined, {}, 1, undefined, false) instanceof Error);
});
