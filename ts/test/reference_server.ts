// The reference server binary on a free loopback port, with the demo seeded, as the
// Rust end-to-end tests run it. Its path comes from `TENX_REFERENCE_SERVER` (the Rust
// harness sets it to the binary cargo built).

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { closedPort } from "./support.js";

/** The JWT key the server is started with, so a test can mint an expired token. */
export const JWT_KEY = "ts-e2e-jwt-key-ts-e2e-jwt-key-ts-e2e";

export class ReferenceServer {
  readonly base: string;
  #child: ChildProcess;
  #dir: string;

  private constructor(base: string, child: ChildProcess, dir: string) {
    this.base = base;
    this.#child = child;
    this.#dir = dir;
  }

  static async start(): Promise<ReferenceServer> {
    const binary = process.env["TENX_REFERENCE_SERVER"];
    if (binary === undefined || binary === "") {
      throw new Error("TENX_REFERENCE_SERVER names no server binary: run through `cargo test -p tenx-reference-server --test ts_client`");
    }
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), "tenx-ts-e2e-"));
    const child = spawn(
      binary,
      ["--listen", `127.0.0.1:${port}`, "--demo", "--jwt-key", JWT_KEY, "--ctx-key", "ts-e2e-ctx-key-ts-e2e-ctx-key", "--db", join(dir, "db.sqlite")],
      { stdio: "ignore", env: { ...process.env, RUST_LOG: "warn" } },
    );
    const server = new ReferenceServer(`http://127.0.0.1:${port}`, child, dir);
    for (let i = 0; i < 400; i += 1) {
      try {
        await fetch(`${server.base}/v2/public/sdk/config`);
        return server;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    server.stop();
    throw new Error(`the server did not answer on ${server.base}`);
  }

  stop(): void {
    this.#child.kill("SIGKILL");
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** An HS256 JWT for `sub` that expired an hour ago (beyond any leeway). */
export function expiredJwt(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub, iat: now - 7200, exp: now - 3600 })}`;
  return `${unsigned}.${createHmac("sha256", JWT_KEY).update(unsigned).digest("base64url")}`;
}

/** The `sub` claim of a JWT. */
export function subject(jwt: string): string {
  const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { sub: string };
  return payload.sub;
}
