import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { WaybillError } from '@waybill/verify';
import { createHttpApp } from './create-http-app.js';
import type { CreateHttpAppOptions, HttpApp, HttpsOptions } from './create-http-app.js';

/** PEM files of the server's TLS identity, and of the CA its clients must present certificates from. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Set for mutual TLS: a client without a certificate from this CA is refused in the handshake. */
  readonly clientCaFile?: string;
}

/** Where and how {@link serveHttp} listens. */
export interface ServeHttpOptions {
  /** The interface to listen on, e.g. `127.0.0.1`. */
  readonly host: string;
  /** The port; 0 picks a free one (read it from the result). */
  readonly port: number;
  /** Serve HTTPS with these files instead of plain HTTP. */
  readonly tls?: TlsFiles;
  /** Aborting it shuts the server down gracefully. */
  readonly signal?: AbortSignal;
  /**
   * How long a shutdown waits for requests in flight before it cuts their connections, in milliseconds;
   * 10 s by default.
   */
  readonly shutdownGraceMs?: number;
}

/** A listening server. */
export interface RunningHttpServer {
  readonly app: HttpApp;
  /** The bound address and port. */
  readonly host: string;
  readonly port: number;
  /** `http://HOST:PORT` or `https://HOST:PORT` (IPv6 hosts in brackets). */
  readonly url: string;
  /**
   * Stops accepting connections, lets requests in flight finish (up to the grace period), then resolves.
   * Safe to call more than once; aborting the signal calls it.
   */
  close(): Promise<void>;
  /** Resolves once the server has shut down, however that was started. */
  readonly closed: Promise<void>;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `cannot read the TLS ${what} file ${path}`, {
      cause: err,
    });
  }
}

/**
 * The HTTPS options for a set of PEM files: with a client CA, mutual TLS (a certificate is requested and
 * one that does not chain to the CA is refused during the handshake).
 *
 * @example
 * ```ts
 * const https = await loadTlsFiles({ certFile: 'server.crt', keyFile: 'server.key' });
 * ```
 */
export async function loadTlsFiles(tls: TlsFiles): Promise<HttpsOptions> {
  // One after the other: when both are missing, the error always names the certificate first.
  const cert = await readPem(tls.certFile, 'certificate');
  const key = await readPem(tls.keyFile, 'private key');
  if (tls.clientCaFile === undefined) return { cert, key };
  const ca = await readPem(tls.clientCaFile, 'client CA');
  return { cert, key, ca, requestCert: true, rejectUnauthorized: true };
}

/**
 * Builds the HTTP app (HTTPS when `tls` is given, mutual TLS with a client CA), listens, and returns the
 * bound address. Aborting `signal` or calling `close()` shuts down gracefully: no new connections, idle
 * keep-alive connections closed, requests in flight answered (Fastify's `close()`), and after
 * `shutdownGraceMs` the remaining connections cut.
 *
 * Takes the app's options rather than a built app because TLS is a property of the server Fastify creates
 * with the app: it cannot be added to an app afterwards. Use {@link createHttpApp} directly (with `https`
 * from {@link loadTlsFiles}) to build an app without listening.
 *
 * @example
 * ```ts
 * const server = await serveHttp({ routes, authenticate, info }, { host: '127.0.0.1', port: 0, signal });
 * console.error(`listening on ${server.url}`);
 * await server.closed;
 * ```
 */
export async function serveHttp(
  appOptions: CreateHttpAppOptions,
  options: ServeHttpOptions,
): Promise<RunningHttpServer> {
  options.signal?.throwIfAborted();
  const https = options.tls === undefined ? appOptions.https : await loadTlsFiles(options.tls);
  const app = createHttpApp(https === undefined ? appOptions : { ...appOptions, https });
  await app.listen({ host: options.host, port: options.port });

  const graceMs = options.shutdownGraceMs ?? 10_000;
  let shuttingDown: Promise<void> | undefined;
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const close = (): Promise<void> => {
    shuttingDown ??= (async () => {
      // A request that never ends must not hold the shutdown forever.
      const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
        markClosed();
      }
    })();
    return shuttingDown;
  };
  if (options.signal !== undefined) {
    const onAbort = (): void => {
      close().catch((err: unknown) => app.log.error({ err }, 'shutdown failed'));
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    void closed.then(() => options.signal?.removeEventListener('abort', onAbort));
  }

  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = https === undefined ? 'http' : 'https';
  return {
    app,
    host: address.address,
    port: address.port,
    url: `${scheme}://${host}:${address.port}`,
    close,
    closed,
  };
}
