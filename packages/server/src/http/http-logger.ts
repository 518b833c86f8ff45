import { pino, stdSerializers, stdTimeFunctions } from 'pino';
import type { DestinationStream, LevelWithSilent, Logger } from 'pino';

/** Where and how much the HTTP server logs. */
export interface HttpLoggerOptions {
  /** The lowest level written; `info` by default, `silent` for none. */
  readonly level?: LevelWithSilent;
  /** Where the JSON lines go; standard output by default. */
  readonly stream?: DestinationStream;
}

// Member names that hold secrets wherever they appear in a logged object (STYLE.md §8: secrets never
// appear in logs, only key ids). pino's redaction needs explicit depths; four levels cover every object
// the server logs (a request body inside a detail object inside the line).
const secretMembers = [
  'authorization',
  'cookie',
  'apiKey',
  'api_key',
  'accessToken',
  'access_token',
  'refreshToken',
  'token',
  'password',
  'secret',
  'clientSecret',
  'privateKey',
  'masterKey',
];

/** The pino redaction paths of the server's logger (exported for tests and for other loggers). */
export const REDACTED_LOG_PATHS: readonly string[] = Object.freeze([
  ...secretMembers.flatMap((name) => [name, `*.${name}`, `*.*.${name}`, `*.*.*.${name}`]),
  'req.headers["x-api-key"]',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
]);

// Query parameters whose values are credentials by their name, if a client ever puts one in a URL.
const secretQueryName = /key|token|secret|password|credential|signature|auth/i;

/** The request's URL for the log, with the values of credential-like query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of new Set(params.keys())) {
    if (secretQueryName.test(name)) {
      params.set(name, '[REDACTED]');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly ip?: string;
}

/**
 * Creates the JSON logger of the HTTP server: RFC 3339 UTC times, secret members redacted, requests
 * logged by method, URL (credential-like query values redacted) and peer address, never their headers.
 *
 * @example
 * ```ts
 * const log = createHttpLogger({ level: 'warn' });
 * ```
 */
export function createHttpLogger(options: HttpLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_LOG_PATHS], censor: '[REDACTED]' },
      serializers: {
        err: stdSerializers.err,
        req: (req: LoggedRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
        res: (res: { readonly statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
    options.stream,
  );
}
