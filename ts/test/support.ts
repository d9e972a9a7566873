// Test helpers: a scripted HTTP server on loopback and a virtual clock.

import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";

import type { Clock } from "../../generated/ts-client/src/index.js";

/** One scripted answer. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  /** How long the server waits before it answers. */
  delayMs?: number;
}

export function json(status: number, body: string): Reply {
  return { status, headers: { "content-type": "application/json" }, body };
}

export function apiError(status: number, code: string, message: string): Reply {
  return json(status, JSON.stringify({ error: { code, message, statusCode: status } }));
}

export function withHeader(reply: Reply, name: string, value: string | string[]): Reply {
  return { ...reply, headers: { ...reply.headers, [name]: value } };
}

/** One request as the server saw it. */
export interface Seen {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Answers each request with the next scripted reply (the last one repeats) and records
 * every request.
 */
export class ScriptedServer {
  readonly seen: Seen[] = [];
  #replies: Reply[];
  #server: HttpServer;

  private constructor(replies: Reply[], server: HttpServer) {
    this.#replies = replies;
    this.#server = server;
  }

  static async start(replies: Reply[]): Promise<ScriptedServer> {
    const server = createServer();
    const scripted = new ScriptedServer([...replies], server);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        scripted.seen.push({
          method: req.method ?? "",
          path: url.pathname,
          query: url.search.replace(/^\?/, ""),
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        const reply = scripted.#replies.length > 1 ? scripted.#replies.shift() : scripted.#replies[0];
        if (reply === undefined) {
          res.writeHead(500).end("no reply scripted");
          return;
        }
        setTimeout(() => res.writeHead(reply.status, reply.headers).end(reply.body), reply.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return scripted;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A clock whose sleeps return at once and are recorded, in milliseconds. */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  #now = Date.UTC(2026, 0, 1);

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.#now += ms;
    return Promise.resolve();
  }
}

/** What `promise` rejects with; fails the test when it succeeds. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("the call succeeded");
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
