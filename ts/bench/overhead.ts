// The generated client's cost per request against raw `fetch`, on loopback, in the same
// process and run: rounds alternate between the two, so both meet the same machine.
// `npm run bench` (after `npm ci`); prints a Markdown table for BENCHMARKS.md.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { Client } from "../../generated/ts-client/src/index.js";

const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 2000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);

const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "x-request-id": "req-1" }).end('{"handles":[]}');
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function raw(): Promise<void> {
  const response = await fetch(`${base}/v2/handles`, { headers: { authorization: "Bearer header.payload.signature" } });
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  await response.json();
}

const user = new Client(base).withJwt("header.payload.signature");
async function generated(): Promise<void> {
  const answer = await user.listHandles();
  if (answer.status !== 200) throw new Error(`status ${answer.status}`);
}

/** Microseconds per request of `call`, sent one after another. */
async function perRequest(call: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i += 1) await call();
  return ((performance.now() - started) * 1000) / REQUESTS;
}

await perRequest(raw);
await perRequest(generated);
const ratios: number[] = [];
const raws: number[] = [];
const gens: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  // Rounds alternate which side goes first, so a drifting load falls on both.
  const [a, b] =
    round % 2 === 0
      ? [await perRequest(raw), await perRequest(generated)]
      : await perRequest(generated).then(async (g) => [await perRequest(raw), g] as const);
  raws.push(a);
  gens.push(b);
  ratios.push(b / a);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
const span = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
console.log(`| measure (${ROUNDS} rounds of ${REQUESTS} sequential GETs, loopback) | median | min–max |`);
console.log("|---|---:|---:|");
console.log(`| raw fetch | ${median(raws).toFixed(1)} µs | ${span(raws, 1)} µs |`);
console.log(`| generated client | ${median(gens).toFixed(1)} µs | ${span(gens, 1)} µs |`);
console.log(`| client / raw fetch (paired rounds) | ${median(ratios).toFixed(3)}× | ${span(ratios, 3)}× |`);
server.closeAllConnections();
server.close();
