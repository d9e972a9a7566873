// The request pipeline of the generated client: build the request, attach the
// credential, send, decode errors, retry as the spec's policy says, refresh a session
// once. Hand-written and the same for every API: the generated files only describe
// calls (routes, policy, catalogue) and hand them here.

/** Time as the client sees it: injectable, so tests count waits without waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The wall clock and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** When an error answer may be sent again. */
export type RetryClass = "never" | "after_header" | "backoff";

/** When and how a client retries. The generated client starts from the spec's. */
export interface RetryPolicy {
  /** Statuses retried after the `Retry-After` wait (429). */
  readonly afterHeaderStatuses: readonly number[];
  /** Statuses retried on the backoff schedule (5xx). */
  readonly backoffStatuses: readonly number[];
  /** Statuses never retried, whatever the code says. */
  readonly neverStatuses: readonly number[];
  /** The wait before each retry, in milliseconds: the first retry waits `backoffMs[0]`. */
  readonly backoffMs: readonly number[];
  /** Requests at most, the first included. */
  readonly maxAttempts: number;
  /** A `Retry-After` longer than this is not waited: the error returns at once. */
  readonly maxRetryAfterMs: number;
  /** Whether connect failures and timeouts are retried on the backoff schedule. */
  readonly retryTransportErrors: boolean;
  /** Each backoff wait is scaled by a random factor in `[1 - jitter, 1]` (0: none). */
  readonly jitter: number;
  /** Methods safe to send twice: other writes are retried only with an idempotency key. */
  readonly safeMethods: readonly string[];
}

/** A policy that never retries. */
export const NEVER_RETRY: RetryPolicy = Object.freeze({
  afterHeaderStatuses: [],
  backoffStatuses: [],
  neverStatuses: [],
  backoffMs: [],
  maxAttempts: 1,
  maxRetryAfterMs: 0,
  retryTransportErrors: false,
  jitter: 0,
  safeMethods: [],
});

/** What went wrong with one attempt. */
export type FailedAttempt =
  | { readonly kind: "status"; readonly status: number; readonly codeClass?: RetryClass; readonly retryAfterMs?: number }
  | { readonly kind: "transport" };

/** The retry loop's next step. */
export type Decision =
  | { readonly kind: "retry"; readonly waitMs: number }
  | { readonly kind: "stop" }
  | { readonly kind: "stop_wait_too_long"; readonly waitMs: number };

/**
 * The retry class of an error answer: never for a status the policy never retries; else
 * the code's class when the catalogue knows the code; else the policy's status lists.
 */
export function classOf(policy: RetryPolicy, status: number, codeClass?: RetryClass): RetryClass {
  if (policy.neverStatuses.includes(status)) return "never";
  if (codeClass !== undefined) return codeClass;
  if (policy.afterHeaderStatuses.includes(status)) return "after_header";
  if (policy.backoffStatuses.includes(status)) return "backoff";
  return "never";
}

/** What to do after attempt number `attempts` (1-based) failed. */
export function decide(
  policy: RetryPolicy,
  attempts: number,
  retrySafe: boolean,
  failure: FailedAttempt,
  random: () => number = Math.random,
): Decision {
  const cls =
    failure.kind === "status"
      ? classOf(policy, failure.status, failure.codeClass)
      : policy.retryTransportErrors
        ? "backoff"
        : "never";
  if (cls === "never") return { kind: "stop" };
  const retryAfter = failure.kind === "status" ? failure.retryAfterMs : undefined;
  // A wait too long to sleep is returned even when no retry would follow, so the caller
  // learns when to come back.
  if (cls === "after_header" && retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) {
    return { kind: "stop_wait_too_long", waitMs: retryAfter };
  }
  if (!retrySafe || attempts >= policy.maxAttempts) return { kind: "stop" };
  if (cls === "after_header" && retryAfter !== undefined) return { kind: "retry", waitMs: retryAfter };
  const base = policy.backoffMs[attempts - 1];
  if (base === undefined) return { kind: "stop" };
  const fraction = Math.min(Math.max(policy.jitter, 0), 1);
  return { kind: "retry", waitMs: base * (1 - fraction * random()) };
}

/**
 * Parses `Retry-After`: delta-seconds or an HTTP date (a date in the past is no wait).
 * `undefined` when the value is neither.
 */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or the obsolete forms Date reads.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

const REDACTED = "[redacted]";
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** A credential: its value is kept out of `toString`, `JSON.stringify` and `console.log`. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value, for the one place that sends it. */
  expose(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [INSPECT](): string {
    return `Secret(${REDACTED})`;
  }
}

/** The shape of the API's personal access tokens. */
export interface PatFormat {
  readonly prefix: string;
  readonly separator: string;
  readonly display: string;
}

/** A token that is not a PAT of the spec's format; nothing was sent. */
export class PatFormatError extends Error {
  override readonly name = "PatFormatError";
}

const TOKEN_CHARS = /^[A-Za-z0-9_-]+$/;

/** A personal access token: its id is public, its secret never shows. */
export class Pat {
  readonly tokenId: string;
  readonly secret: Secret;

  private constructor(tokenId: string, whole: string) {
    this.tokenId = tokenId;
    this.secret = new Secret(whole);
  }

  /** Checks `token` against `format` before anything is sent. */
  static parse(token: string, format: PatFormat): Pat {
    const fail = (what: string): never => {
      throw new PatFormatError(`${what}; a token looks like \`${format.display}\``);
    };
    if (token === "") fail("the token is empty");
    if (/\s/.test(token)) fail("the token contains whitespace");
    if (!token.startsWith(format.prefix)) fail(`the token does not start with \`${format.prefix}\``);
    const rest = token.slice(format.prefix.length);
    const at = rest.indexOf(format.separator);
    if (at < 0) fail(`the token has no \`${format.separator}\` between its id and its secret`);
    const id = rest.slice(0, at);
    const secret = rest.slice(at + format.separator.length);
    if (!TOKEN_CHARS.test(id)) fail("the token id is empty or has characters other than A-Z, a-z, 0-9, - and _");
    if (!TOKEN_CHARS.test(secret)) fail("the secret is empty or has characters other than A-Z, a-z, 0-9, - and _");
    return new Pat(id, token);
  }

  toJSON(): object {
    return { tokenId: this.tokenId, secret: REDACTED };
  }

  [INSPECT](): string {
    return `Pat { tokenId: ${JSON.stringify(this.tokenId)}, secret: ${REDACTED} }`;
  }
}

/**
 * A signed-in user's session: the access token and the cookies login set (the refresh
 * cookie among them, where the platform lets code read it: Node; a browser keeps it in
 * its own jar). Refreshing replaces the token in place, for every client sharing it.
 */
export class Session {
  #access: Secret;
  #cookies: Map<string, Secret>;
  #generation = 0;
  #refreshing: Promise<void> | undefined;

  constructor(accessToken: string, cookies: ReadonlyMap<string, string> = new Map()) {
    this.#access = new Secret(accessToken);
    this.#cookies = new Map([...cookies].map(([name, value]) => [name, new Secret(value)]));
  }

  /** A session from a login answer: its token and the cookies its headers set. */
  static fromLogin(accessToken: string, headers: Headers): Session {
    return new Session(accessToken, setCookies(headers));
  }

  /** The access token. */
  get accessToken(): Secret {
    return this.#access;
  }

  /** The names of the cookies the session holds (their values never show). */
  get cookieNames(): string[] {
    return [...this.#cookies.keys()];
  }

  /** Bumped by each refresh: a call that saw an older one replays instead of refreshing. */
  get generation(): number {
    return this.#generation;
  }

  /** The `Cookie` header for the refresh route, when the session holds cookies. */
  cookieHeader(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value.expose()}`).join("; ");
  }

  /** Runs `refresh` unless one is running already, which is awaited instead. */
  refreshOnce(seen: number, refresh: () => Promise<{ token: string; headers: Headers }>): Promise<void> {
    if (this.#generation !== seen) return Promise.resolve();
    this.#refreshing ??= refresh()
      .then(({ token, headers }) => {
        this.#access = new Secret(token);
        for (const [name, value] of setCookies(headers)) this.#cookies.set(name, new Secret(value));
        this.#generation += 1;
      })
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  toJSON(): object {
    return { accessToken: REDACTED, cookies: this.cookieNames };
  }

  [INSPECT](): string {
    return `Session { accessToken: ${REDACTED}, cookies: ${JSON.stringify(this.cookieNames)} }`;
  }
}

/** `Set-Cookie` headers as name → value (attributes dropped). Empty where unreadable. */
function setCookies(headers: Headers): Map<string, string> {
  const out = new Map<string, string>();
  const lines = typeof headers.getSetCookie === "function" ? headers.getSetCookie() : [];
  for (const line of lines) {
    const pair = line.split(";")[0] ?? "";
    const at = pair.indexOf("=");
    const name = at > 0 ? pair.slice(0, at).trim() : "";
    if (name !== "") out.set(name, pair.slice(at + 1).trim());
  }
  return out;
}

/** Where a credential goes. */
export type Transport = { readonly header: string; readonly scheme?: string } | { readonly cookie: string };

/** The credential a call carries. */
export type Credentials =
  | { readonly kind: "none" }
  | { readonly kind: "pat"; readonly transport: Transport; readonly pat: Pat }
  | { readonly kind: "session"; readonly transport: Transport; readonly session: Session }
  | { readonly kind: "visitor"; readonly transport: Transport; readonly cookie: Secret };

/** How a body travels. */
export type PayloadKind = "none" | "json" | "text" | "binary";

/** What the generated code knows about a route. */
export interface RouteInfo {
  readonly id: string;
  readonly method: string;
  /** Success statuses and what each means (`{ 200: "updated", 201: "created" }`). */
  readonly success: Readonly<Record<number, string>>;
  readonly body: PayloadKind;
  readonly answer: PayloadKind;
  /** Where the idempotency key travels, for routes that deduplicate. */
  readonly idempotency?: { readonly field: string } | { readonly header: string };
}

/** How the spec's session refresh works, for refresh on an expired token. */
export interface SessionRefresh {
  /** The refresh route's path (`/v2/auth/refresh`). */
  readonly path: string;
  /** The answer's field holding the new access token. */
  readonly tokenField: string;
  /** The code that says the access token expired. */
  readonly expiredCode: string;
}

/** What one entry of the error catalogue tells the runtime. */
export interface CatalogueEntry {
  readonly status: number;
  readonly retry: RetryClass;
}

/** Overrides for calls: on a client (`withOptions`) or a single call. */
export interface CallOptions {
  /** The retry policy instead of the client's. */
  readonly retry?: RetryPolicy;
  /** The idempotency key, instead of a fresh UUID, for routes that take one. */
  readonly idempotencyKey?: string;
  /** A limit on each attempt, in milliseconds. */
  readonly timeoutMs?: number;
  /** Whether an expired session is refreshed once and the call replayed. */
  readonly autoRefresh?: boolean;
  /** Cancels the call, between or during attempts. */
  readonly signal?: AbortSignal;
}

/** One attempt, as `onAttempt` sees it. */
export interface AttemptEvent {
  readonly route: string;
  readonly attempt: number;
  /** The status, or `undefined` when no answer came. */
  readonly status: number | undefined;
  /** The wait before the next attempt, when there is one. */
  readonly retryInMs: number | undefined;
}

/** The client's settings. */
export interface Config {
  readonly retry: RetryPolicy;
  readonly timeoutMs?: number;
  readonly autoRefresh: boolean;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  /** Sent as `User-Agent` where the platform allows it (Node; browsers ignore it). */
  readonly userAgent?: string;
  /** `fetch`'s `credentials` mode: `"include"` lets a browser send its cookies. */
  readonly credentials?: RequestCredentials;
  readonly onAttempt?: (event: AttemptEvent) => void;
}

/** A success answer. */
export interface Answer<S extends number, O extends string, B> {
  readonly status: S;
  /** What the status means for this route (`created`, `updated`, `ok`). */
  readonly outcome: O;
  readonly body: B;
  readonly requestId: string | undefined;
  /** Requests sent, retries and a refresh replay included. */
  readonly attempts: number;
  readonly headers: Headers;
}

/** An error answer of the API, in its envelope. */
export class ApiError<C extends string = string, D = Record<string, unknown>> extends Error {
  override readonly name = "ApiError";

  constructor(
    /** The route's id. */
    readonly route: string,
    /** The catalogue code, as sent (kept when the catalogue does not know it). */
    readonly code: C,
    readonly status: number,
    /** The server's message. */
    readonly detail: string,
    readonly requestId: string | undefined,
    /** The code's extra fields beside `code`, `message` and `statusCode`. */
    readonly details: D,
    /** Requests sent before giving up. */
    readonly attempts: number,
    /** The wait the server asked for, when it asked for one. */
    readonly retryAfterMs: number | undefined,
    /** Whether the catalogue knows the code. */
    readonly known: boolean,
  ) {
    let text = `${code} (${status}): ${detail} [after ${attempts} attempt${attempts === 1 ? "" : "s"}]`;
    if (retryAfterMs !== undefined) text += `; retry after ${Math.ceil(retryAfterMs / 1000)} s`;
    super(text);
  }
}

/** No answer: connect failure, timeout or cancellation. */
export class TransportError extends Error {
  override readonly name = "TransportError";

  constructor(
    readonly route: string,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`${route}: no answer after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${describe(options.cause)}`, options);
  }
}

/** An answer this client cannot read: a success status the route does not declare, or an undecodable body. */
export class UnexpectedAnswerError extends Error {
  override readonly name = "UnexpectedAnswerError";

  constructor(
    readonly route: string,
    readonly status: number,
    readonly requestId: string | undefined,
    what: string,
  ) {
    super(`${route}: ${what} (status ${status})`);
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Decodes an error body: the nested envelope (`{"error": {"code", "message", …}}`), the
 * flat form (`{"error": "code", "message": …}`), or anything else, which yields the code
 * `http_<status>` with the start of the body as the message.
 */
export function decodeErrorBody(
  status: number,
  text: string,
): { code: string; message: string; details: Record<string, unknown> } {
  const fallback = () => ({
    code: `http_${status}`,
    message: text.trim() === "" ? `HTTP ${status} with an empty body` : text.trim().slice(0, 200),
    details: {},
  });
  let top: unknown;
  try {
    top = JSON.parse(text);
  } catch {
    return fallback();
  }
  if (!isObject(top)) return fallback();
  const split = (from: Record<string, unknown>, code: unknown) => {
    if (typeof code !== "string") return fallback();
    const { message, statusCode: _status, error: _error, code: _code, ...details } = from;
    return { code, message: typeof message === "string" ? message : "", details };
  };
  const inner = top["error"];
  if (isObject(inner)) return split(inner, inner["code"]);
  if (typeof inner === "string") return split(top, inner);
  return fallback();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A query object as `a=1&tag=x&tag=y`: a list repeats its key, an absent value is left out. */
export function encodeQuery(query: object | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      params.append(key, typeof item === "object" ? JSON.stringify(item) : String(item));
    }
  }
  return params.toString();
}

const HEADER_SAFE = /^[\x21-\x7e]*$/;

/** The shared engine behind every generated client. */
export class Core {
  /** The base URL without its trailing slashes. */
  readonly #base: string;

  constructor(
    readonly baseUrl: string,
    readonly config: Config,
    readonly catalogue: Readonly<Record<string, CatalogueEntry>>,
    readonly refresh: SessionRefresh | undefined,
  ) {
    this.#base = baseUrl.replace(/\/+$/, "");
  }

  /** The URL of `segments` (each percent-encoded) below the base URL, with `query`. */
  url(segments: readonly string[], query?: object): string {
    const path = segments.map((s) => encodeURIComponent(s)).join("/");
    const search = query === undefined ? "" : encodeQuery(query);
    return `${this.#base}/${path}${search === "" ? "" : `?${search}`}`;
  }

  /** Sends one call: attempts, retries, and at most one session refresh and replay. */
  async call(
    route: RouteInfo,
    credentials: Credentials,
    segments: readonly string[],
    query: object | undefined,
    body: unknown,
    options: CallOptions,
  ): Promise<Answer<number, string, unknown>> {
    const policy = options.retry ?? this.config.retry;
    const { payload, keySent, keyHeader } = this.encode(route, body, options);
    // Without a key, only the spec's safe methods may be sent twice.
    const retrySafe = keySent || policy.safeMethods.includes(route.method);
    const request: Prepared = { route, url: this.url(segments, query), payload, keyHeader, policy, retrySafe };
    const seen = credentials.kind === "session" ? credentials.session.generation : 0;
    const first = await this.attempts(request, credentials, options, 0);
    if (
      first instanceof ApiError &&
      credentials.kind === "session" &&
      (options.autoRefresh ?? this.config.autoRefresh) &&
      this.refresh !== undefined &&
      first.code === this.refresh.expiredCode
    ) {
      const session = credentials.session;
      const refreshed = await session.refreshOnce(seen, () => this.refreshSession(session, options)).then(
        () => true,
        () => false,
      );
      // One replay, not a loop: a second expiry is returned as is; a failed refresh
      // returns the first error.
      if (refreshed) return unwrap(await this.attempts(request, credentials, options, first.attempts));
    }
    return unwrap(first);
  }

  private encode(route: RouteInfo, body: unknown, options: CallOptions) {
    let payload: { bytes: BodyInit; type: string } | undefined;
    let keySent = false;
    let keyHeader: [string, string] | undefined;
    const key = () => options.idempotencyKey ?? crypto.randomUUID();
    const idem = route.idempotency;
    if (idem !== undefined && "header" in idem) {
      // Made once per call, so every attempt carries the same key.
      const value = `"${key()}"`;
      if (!HEADER_SAFE.test(value)) throw new TypeError(`the idempotency key of \`${route.id}\` is not a header value`);
      keyHeader = [idem.header, value];
      keySent = true;
    }
    switch (route.body) {
      case "json": {
        let json = body;
        if (idem !== undefined && "field" in idem && isObject(body)) {
          // The caller's key, else one made once and written in.
          json = { ...body, [idem.field]: body[idem.field] ?? key() };
          keySent = true;
        }
        payload = { bytes: JSON.stringify(json), type: "application/json" };
        break;
      }
      case "text":
        payload = { bytes: String(body), type: "text/plain; charset=utf-8" };
        break;
      case "binary":
        // A copy: the caller may reuse its buffer, and a copy is backed by a plain ArrayBuffer.
        payload = { bytes: (body as Uint8Array).slice(), type: "application/octet-stream" };
        break;
      case "none":
        break;
    }
    return { payload, keySent, keyHeader };
  }

  private async attempts(
    request: Prepared,
    credentials: Credentials,
    options: CallOptions,
    earlier: number,
  ): Promise<Answer<number, string, unknown> | ApiError | TransportError | UnexpectedAnswerError> {
    const { route, policy } = request;
    for (let attempt = 1; ; attempt += 1) {
      const total = earlier + attempt;
      // A plain record: `fetch` builds its own header list from it either way.
      const headers: Record<string, string> = {};
      if (this.config.userAgent !== undefined) headers["user-agent"] = this.config.userAgent;
      attach(headers, credentials);
      if (request.payload !== undefined) headers["content-type"] = request.payload.type;
      if (request.keyHeader !== undefined) headers[request.keyHeader[0]] = request.keyHeader[1];
      let failure: ApiError | TransportError;
      let decision: Decision;
      try {
        const response = await this.config.fetch(request.url, {
          method: route.method,
          headers,
          body: request.payload?.bytes ?? null,
          signal: signalFor(options.timeoutMs ?? this.config.timeoutMs, options.signal),
          redirect: "manual",
          ...(this.config.credentials === undefined ? {} : { credentials: this.config.credentials }),
        });
        const text = route.answer === "binary" && response.status < 400 ? "" : await response.text();
        if (response.status < 400) {
          this.notify(route, attempt, response.status, undefined);
          return await decodeAnswer(route, response, text, total);
        }
        const retryAfterHeader = response.headers.get("retry-after");
        const retryAfterMs =
          retryAfterHeader === null ? undefined : parseRetryAfter(retryAfterHeader, this.config.clock.now());
        const decoded = decodeErrorBody(response.status, text);
        const entry = this.catalogue[decoded.code];
        decision = decide(policy, attempt, request.retrySafe, {
          kind: "status",
          status: response.status,
          ...(entry === undefined ? {} : { codeClass: entry.retry }),
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
        failure = new ApiError(
          route.id,
          decoded.code,
          response.status,
          decoded.message,
          response.headers.get("x-request-id") ?? undefined,
          decoded.details,
          total,
          decision.kind === "stop_wait_too_long" ? decision.waitMs : retryAfterMs,
          entry !== undefined,
        );
      } catch (cause) {
        if (options.signal?.aborted === true) return new TransportError(route.id, total, { cause });
        decision = decide(policy, attempt, request.retrySafe, { kind: "transport" });
        failure = new TransportError(route.id, total, { cause });
      }
      const status = failure instanceof ApiError ? failure.status : undefined;
      if (decision.kind !== "retry") {
        this.notify(route, attempt, status, undefined);
        return failure;
      }
      this.notify(route, attempt, status, decision.waitMs);
      await this.config.clock.sleep(decision.waitMs);
    }
  }

  private notify(route: RouteInfo, attempt: number, status: number | undefined, retryInMs: number | undefined) {
    this.config.onAttempt?.({ route: route.id, attempt, status, retryInMs });
  }

  /** Calls the spec's refresh route with the session's cookies. */
  private async refreshSession(session: Session, options: CallOptions): Promise<{ token: string; headers: Headers }> {
    const refresh = this.refresh;
    if (refresh === undefined) throw new Error("the spec declares no refresh route");
    const headers: Record<string, string> = {};
    const cookie = session.cookieHeader();
    if (cookie !== undefined) headers["cookie"] = cookie;
    const response = await this.config.fetch(`${this.#base}${refresh.path}`, {
      method: "POST",
      headers,
      signal: signalFor(options.timeoutMs ?? this.config.timeoutMs, options.signal),
      ...(this.config.credentials === undefined ? {} : { credentials: this.config.credentials }),
    });
    const text = await response.text();
    if (response.status >= 400) throw new Error(`refresh answered ${response.status}`);
    const parsed: unknown = JSON.parse(text);
    const token = isObject(parsed) ? parsed[refresh.tokenField] : undefined;
    if (typeof token !== "string") throw new Error(`no \`${refresh.tokenField}\` in the refresh answer`);
    return { token, headers: response.headers };
  }
}

interface Prepared {
  readonly route: RouteInfo;
  readonly url: string;
  readonly payload: { readonly bytes: BodyInit; readonly type: string } | undefined;
  readonly keyHeader: [string, string] | undefined;
  readonly policy: RetryPolicy;
  readonly retrySafe: boolean;
}

function unwrap<T>(result: T | ApiError | TransportError | UnexpectedAnswerError): T {
  if (result instanceof ApiError || result instanceof TransportError || result instanceof UnexpectedAnswerError) {
    throw result;
  }
  return result;
}

function attach(headers: Record<string, string>, credentials: Credentials) {
  const put = (transport: Transport, value: string) => {
    if ("header" in transport) {
      headers[transport.header.toLowerCase()] = transport.scheme === undefined ? value : `${transport.scheme} ${value}`;
    } else {
      const cookie = `${transport.cookie}=${value}`;
      headers["cookie"] = headers["cookie"] === undefined ? cookie : `${headers["cookie"]}; ${cookie}`;
    }
  };
  switch (credentials.kind) {
    case "none":
      return;
    case "pat":
      return put(credentials.transport, credentials.pat.secret.expose());
    case "session":
      return put(credentials.transport, credentials.session.accessToken.expose());
    case "visitor":
      return put(credentials.transport, credentials.cookie.expose());
  }
}

function signalFor(timeoutMs: number | undefined, signal: AbortSignal | undefined): AbortSignal | null {
  const signals = [signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter(
    (s): s is AbortSignal => s !== undefined,
  );
  if (signals.length === 0) return null;
  return signals.length === 1 ? (signals[0] ?? null) : AbortSignal.any(signals);
}

async function decodeAnswer(
  route: RouteInfo,
  response: Response,
  text: string,
  attempts: number,
): Promise<Answer<number, string, unknown> | UnexpectedAnswerError> {
  const requestId = response.headers.get("x-request-id") ?? undefined;
  const outcome = route.success[response.status];
  if (outcome === undefined) {
    return new UnexpectedAnswerError(route.id, response.status, requestId, "a status this route does not declare");
  }
  let body: unknown;
  switch (route.answer) {
    case "none":
      body = undefined;
      break;
    case "text":
      body = text;
      break;
    case "binary":
      body = new Uint8Array(await response.arrayBuffer());
      break;
    case "json":
      try {
        body = JSON.parse(text);
      } catch {
        return new UnexpectedAnswerError(route.id, response.status, requestId, "a body that is not JSON");
      }
      break;
  }
  return { status: response.status, outcome, body, requestId, attempts, headers: response.headers };
}
