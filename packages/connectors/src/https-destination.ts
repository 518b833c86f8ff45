import { createHash, createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Destination, DestinationWrite, EgressRule } from '@waybill/core';
import { WaybillError, wrapError } from '@waybill/verify';
import type * as Undici from 'undici';
import { egressRuleFor, guardedLookup } from './egress.js';

/** undici is loaded when an HTTPS destination first sends, not by every process that imports connectors. */
function loadUndici(): Promise<typeof Undici> {
  return import('undici');
}

/** Settings of an HTTPS (webhook) destination. */
export interface HttpsDestinationConfig {
  /** The base URL (https only): each file goes to `<url>/<path>/<file>`. */
  readonly url: string;
  /** PEM files for mutual TLS: the client certificate and its key. */
  readonly clientCert?: string;
  readonly clientKey?: string;
  /** PEM file of the CA that issued the receiver's certificate, when not a public one. */
  readonly ca?: string;
  /** Tries per request (default 5): network errors, 429 and 5xx are retried with backoff. */
  readonly attempts?: number;
  /** Per-request timeout in milliseconds (default 30 000). */
  readonly timeoutMs?: number;
}

export interface HttpsDestinationOptions {
  /** The HMAC-SHA-256 key of the signature header (the connection's secret); unsigned without one. */
  readonly secret?: string;
  readonly egress: readonly EgressRule[];
  /** First backoff delay in milliseconds (default 500), doubled per try, with jitter. */
  readonly retryBaseMs?: number;
}

const MAX_REDIRECTS = 3;
const COMPLETE = '_complete';

interface Spooled {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Delivers an export to an HTTPS endpoint. Files are spooled locally while the run writes them; on
 * commit each is POSTed to `<url>/<path>/<name>` in the order written, then a manifest to
 * `<url>/<path>/_complete` — a receiver treats the export as complete only then. Every request carries
 * `Idempotency-Key: <runId>/<name>` (a retried or repeated request must not count twice),
 * `X-Waybill-Run-Id`, and, with a secret, `X-Waybill-Signature: sha256=<HMAC-SHA-256 of the body>`.
 * Only a 2xx counts; 429 and 5xx (and network errors) are retried with exponential backoff and jitter,
 * honouring `Retry-After`; 307/308 are followed (at most 3), each hop checked against the egress
 * allowlist like the first. Mutual TLS with a client certificate when configured.
 */
export function createHttpsDestination(
  config: HttpsDestinationConfig,
  o: HttpsDestinationOptions,
): Destination {
  const base = new URL(config.url);
  const attempts = config.attempts ?? 5;
  const timeoutMs = config.timeoutMs ?? 30_000;
  const retryBase = o.retryBaseMs ?? 500;
  let tls: Promise<{ cert?: Buffer; key?: Buffer; ca?: Buffer }> | undefined;
  const tlsFiles = () =>
    (tls ??= (async () => {
      const read = async (file: string | undefined, what: string) => {
        if (file === undefined) return undefined;
        try {
          return await readFile(file);
        } catch (err) {
          throw wrapError(
            err,
            'ERR_WAYBILL_CONNECTION_INVALID',
            `https destination: cannot read the ${what} file ${file}`,
          );
        }
      };
      const [cert, key, ca] = [
        await read(config.clientCert, 'client certificate'),
        await read(config.clientKey, 'client key'),
        await read(config.ca, 'CA'),
      ];
      return { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
    })());

  async function post(
    url: URL,
    body: () => Readable | Buffer,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<void> {
    let target = url;
    let hops = 0;
    let lastProblem = '';
    for (let attempt = 1; attempt <= attempts;) {
      signal?.throwIfAborted();
      const rule = egressRuleFor(target, o.egress);
      const { Agent, request } = await loadUndici();
      const dispatcher = new Agent({
        connect: { ...(await tlsFiles()), lookup: guardedLookup(target.hostname, rule), timeout: timeoutMs },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      let retryAfterMs: number | undefined;
      try {
        const res = await request(target, {
          method: 'POST',
          headers,
          body: body(),
          dispatcher,
          ...(signal ? { signal } : {}),
        });
        await res.body.dump();
        const status = res.statusCode;
        if (status >= 200 && status < 300) return;
        const location = res.headers['location'];
        if ((status === 307 || status === 308) && typeof location === 'string') {
          if (++hops > MAX_REDIRECTS) throw failed(`${describe(url)}: more than ${MAX_REDIRECTS} redirects`);
          const next = new URL(location, target);
          if (next.protocol !== 'https:') throw failed(`${describe(url)}: redirected to a non-https URL`);
          target = next;
          continue; // a redirect is not a failed try
        }
        if (status !== 429 && status < 500) {
          throw failed(`${describe(target)} answered ${status}; only a 2xx counts (not retried)`);
        }
        lastProblem = `answered ${status}`;
        retryAfterMs = retryAfter(res.headers['retry-after']);
      } catch (err) {
        if (err instanceof WaybillError) throw err;
        // undici hands the lookup's own error through: an egress refusal is final.
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof WaybillError) throw cause;
        if (signal?.aborted) throw err;
        lastProblem = (err as Error).message ?? String(err);
      } finally {
        await dispatcher.close().catch(() => undefined);
      }
      if (attempt === attempts) break;
      const backoff = retryAfterMs ?? retryBase * 2 ** (attempt - 1) * (0.5 + Math.random());
      await sleep(Math.min(backoff, 60_000), signal);
      attempt++;
    }
    throw failed(`${describe(target)} failed after ${attempts} tries (${lastProblem})`);
  }

  return {
    kind: 'https',
    async begin(path, { runId, signal }): Promise<DestinationWrite> {
      const baseText = base.href.endsWith('/') ? base.href : `${base.href}/`;
      const prefix = new URL(path.split('/').map(encodeURIComponent).join('/') + '/', baseText);
      egressRuleFor(prefix, o.egress); // refuse early, before anything is spooled
      const spool = await mkdtemp(join(tmpdir(), 'waybill-https-'));
      const files: Spooled[] = [];
      const sign = (data: Buffer | string) =>
        o.secret === undefined
          ? {}
          : { 'x-waybill-signature': `sha256=${createHmac('sha256', o.secret).update(data).digest('hex')}` };
      return {
        location: prefix.href,
        async writeFile(name, data): Promise<void> {
          const file = join(spool, String(files.length));
          const fh = await open(file, 'wx', 0o600);
          const hash = createHash('sha256');
          let bytes = 0;
          try {
            const chunks = data instanceof Uint8Array ? [data] : data;
            for await (const c of chunks) {
              hash.update(c);
              bytes += c.length;
              await fh.write(c);
            }
          } finally {
            await fh.close();
          }
          files.push({ name, file, bytes, sha256: hash.digest('hex') });
        },
        async commit(): Promise<void> {
          try {
            for (const f of files) {
              const mac = o.secret === undefined ? undefined : createHmac('sha256', o.secret);
              if (mac) for await (const c of createReadStream(f.file)) mac.update(c as Buffer);
              await post(
                new URL(encodeURIComponent(f.name), prefix),
                () => createReadStream(f.file),
                {
                  'content-type': 'application/octet-stream',
                  'content-length': String(f.bytes),
                  'idempotency-key': `${runId}/${f.name}`,
                  'x-waybill-run-id': runId,
                  'x-waybill-sha256': f.sha256,
                  ...(mac ? { 'x-waybill-signature': `sha256=${mac.digest('hex')}` } : {}),
                },
                signal,
              );
            }
            const manifest = Buffer.from(
              JSON.stringify({
                runId,
                files: files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })),
              }),
            );
            await post(
              new URL(COMPLETE, prefix),
              () => manifest,
              {
                'content-type': 'application/json',
                'idempotency-key': `${runId}/${COMPLETE}`,
                'x-waybill-run-id': runId,
                ...sign(manifest),
              },
              signal,
            );
          } finally {
            await rm(spool, { recursive: true, force: true });
          }
        },
        async abort(): Promise<void> {
          await rm(spool, { recursive: true, force: true });
        },
      };
    },
  };
}

function describe(url: URL): string {
  return `POST ${url.origin}${url.pathname}`;
}

function failed(message: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_DESTINATION_FAILED', `https destination: ${message}`);
}

/** `Retry-After` as milliseconds: seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfter(v: string | string[] | undefined): number | undefined {
  const text = Array.isArray(v) ? v[0] : v;
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
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
