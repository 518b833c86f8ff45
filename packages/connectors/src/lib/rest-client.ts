import type { CellValue, EgressRule } from '@waybill/core';
import { canonicalJson } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import type * as Undici from 'undici';
import type { Agent } from 'undici';
import { egressRuleFor, guardedLookup } from '../egress.js';

// undici loads with the first request: commands that never call an app's API never pay for it.
let undiciModule: Promise<typeof Undici> | undefined;
const undici = (): Promise<typeof Undici> => (undiciModule ??= import('undici'));

/** How a REST client retries and paces its requests. */
export interface RestClientOptions {
  /** For messages: `airtable source`. */
  readonly what: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly egress: readonly EgressRule[];
  /** PEM CA of the service's certificate, when not a public one. */
  readonly ca?: Buffer;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Tries per request (default 6). */
  readonly attempts?: number;
  /** Retries allowed over the client's whole life (default 100): a source that keeps failing stops. */
  readonly retryBudget?: number;
  /** First backoff delay (default 500 ms), doubled per try, with full jitter; Retry-After wins. */
  readonly backoffMs?: number;
  /** At most this many requests per second (Airtable: 5 per base). */
  readonly perSecond?: number;
}

/**
 * A JSON-over-HTTPS client for app APIs (Airtable, Baserow, NocoDB, Directus): only hosts on the egress
 * allowlist (checked after DNS resolution, on its own sockets), requests paced to the service's rate
 * limit, 429 and 5xx and dropped connections retried with exponential backoff and full jitter (honouring
 * `Retry-After`) within a per-request and a whole-read retry budget, a timeout per request, and
 * cancellation by signal. Answers that are not JSON objects fail with `ERR_WAYBILL_SOURCE_FAILED`, never
 * quoting the body (it may hold personal data).
 */
export class RestClient {
  #budget: number;
  #nextSlot = 0;
  readonly #agents = new Map<string, Agent>();
  retries = 0;
  requests = 0;
  /** Set by close(): no request starts after it, and a retry in progress gives up. */
  #closed = false;

  constructor(private readonly o: RestClientOptions) {
    this.#budget = o.retryBudget ?? 100;
  }

  /** A JSON object answer (most endpoints). */
  async getJson(url: URL, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const body = await this.getJsonValue(url, signal);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw this.#failed(`${describe(url)} answered JSON that is not an object`);
    }
    return body as Record<string, unknown>;
  }

  /** Any JSON answer (an array, for endpoints that list). */
  async getJsonValue(url: URL, signal?: AbortSignal): Promise<unknown> {
    const attempts = this.o.attempts ?? 6;
    const timeout = this.o.timeoutMs ?? 30_000;
    let problem = '';
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      if (this.#closed) throw this.#failed(`${describe(url)}: the connection is closed`);
      await this.#pace(signal);
      let retryAfter: number | undefined;
      try {
        this.requests++;
        const { request } = await undici();
        const res = await request(url, {
          method: 'GET',
          headers: { accept: 'application/json', ...this.o.headers },
          dispatcher: await this.#agent(url),
          headersTimeout: timeout,
          bodyTimeout: timeout,
          ...(signal ? { signal } : {}),
        });
        const status = res.statusCode;
        if (status >= 200 && status < 300) {
          let body: unknown;
          try {
            body = await res.body.json();
          } catch {
            throw this.#failed(`${describe(url)} answered ${status} with a body that is not JSON`);
          }
          return body;
        }
        // What the app says is kept for 4xx answers only (a refused token, an invalid query); a 5xx body
        // may quote the app's SQL or data, so it is never repeated.
        const said = status < 500 ? this.#appMessage(await readCapped(res.body, 65_536)) : '';
        if (status >= 500) await res.body.dump();
        if (status === 401 || status === 403) {
          throw this.#failed(
            `${describe(url)} answered ${status}: the token is missing, wrong or lacks access${said}`,
          );
        }
        if (status === 404)
          throw new WaybillError(
            'ERR_WAYBILL_NOT_FOUND',
            `${this.o.what}: ${describe(url)} answered 404${said}`,
          );
        if (status !== 429 && status < 500) throw this.#failed(`${describe(url)} answered ${status}${said}`);
        problem = `answered ${status}${said}`;
        retryAfter = retryAfterMs(res.headers['retry-after']);
      } catch (err) {
        if (err instanceof WaybillError) throw err;
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof WaybillError) throw cause;
        if (signal?.aborted) throw signal.reason;
        problem = (err as Error).message ?? String(err);
      }
      if (attempt >= attempts || this.#budget <= 0) {
        throw this.#failed(
          `${describe(url)} failed after ${attempt} tr${attempt === 1 ? 'y' : 'ies'} (${problem})${this.#budget <= 0 ? '; the retry budget of this read is spent' : ''}`,
        );
      }
      this.#budget--;
      this.retries++;
      const base = this.o.backoffMs ?? 500;
      await sleep(Math.min(retryAfter ?? Math.random() * base * 2 ** (attempt - 1), 60_000), signal);
    }
  }

  /**
   * What the app said about an error (`msg`, `message`, `error` or `errors[0].message` of a JSON body), as
   * `: "…"`, one line, at most 200 characters, with this client's header values (its token) blanked out;
   * '' when it said nothing readable.
   */
  #appMessage(body: string): string {
    let said: unknown;
    try {
      const j = JSON.parse(body.slice(0, 65_536)) as Record<string, unknown>;
      const errors = j['errors'];
      said =
        j['msg'] ??
        j['message'] ??
        (typeof j['error'] === 'string' ? j['error'] : undefined) ??
        (Array.isArray(errors) ? (errors[0] as Record<string, unknown> | undefined)?.['message'] : undefined);
    } catch {
      return '';
    }
    if (typeof said !== 'string' || said.trim() === '') return '';
    // One line of plain text: no control or format characters (terminal escapes, bidi marks).
    let text = said
      .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    // Whatever this client sends as credentials never comes back in a message, in any common spelling.
    for (const v of Object.values(this.o.headers)) {
      for (const part of new Set([v, ...v.split(/\s+/)])) {
        if (part.length < 4) continue;
        for (const form of new Set([part, encodeURIComponent(part), Buffer.from(part).toString('base64')])) {
          text = text.split(form).join('…');
          text = text.replace(new RegExp(form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '…');
        }
      }
    }
    return `: "${text.length > 200 ? `${text.slice(0, 200)}…` : text}"`;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#agents.values()].map((a) => a.close().catch(() => undefined)));
    this.#agents.clear();
  }

  async #agent(url: URL): Promise<Agent> {
    const rule = egressRuleFor(url, this.o.egress);
    const { Agent } = await undici();
    let a = this.#agents.get(url.host);
    if (!a) {
      a = new Agent({
        connect: { lookup: guardedLookup(url.hostname, rule), ...(this.o.ca ? { ca: this.o.ca } : {}) },
      });
      this.#agents.set(url.host, a);
    }
    return a;
  }

  async #pace(signal?: AbortSignal): Promise<void> {
    if (!this.o.perSecond) return;
    const now = Date.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + 1000 / this.o.perSecond;
    if (slot > now) await sleep(slot - now, signal);
  }

  #failed(message: string): WaybillError {
    return new WaybillError('ERR_WAYBILL_SOURCE_FAILED', `${this.o.what}: ${message}`);
  }
}

function describe(url: URL): string {
  return `GET ${url.origin}${url.pathname}`;
}

function retryAfterMs(v: string | string[] | undefined): number | undefined {
  const text = Array.isArray(v) ? v[0] : v;
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** `path` under the API's base URL, keeping a base path (a server behind a reverse proxy at `/noco`). */
export function apiUrl(base: URL, path: string): URL {
  const root = base.href.endsWith('/') ? base.href : `${base.href}/`;
  return new URL(path.replace(/^\/+/, ''), root);
}

/** True when `v` is a JSON object whose `keys` are all strings — for checking an app's answers. */
export function hasStringKeys(v: unknown, ...keys: string[]): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const obj = v as Record<string, unknown>;
  return keys.every((k) => typeof obj[k] === 'string');
}

/**
 * Marks a request started ahead of its use (the next page, fetched while this one is processed): if the
 * reader stops before awaiting it, its failure is not an unhandled rejection. Awaiting it still throws.
 */
export function prefetch<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** At most `max` bytes of a body as text (the rest is discarded): an error page can be any size. */
async function readCapped(
  body: AsyncIterable<Uint8Array> & { dump(): Promise<void> },
  max: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(Buffer.from(chunk));
      size += chunk.length;
      if (size >= max) break;
    }
  } catch {
    return '';
  }
  await body.dump().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/**
 * A value from an app's JSON answer as a cell: strings, booleans and finite numbers as they are;
 * null for missing values (and non-finite numbers); anything else (linked records, lookups,
 * attachments, JSON fields) as canonical JSON text.
 */
export function appCell(v: unknown): CellValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  return canonicalJson(v);
}
