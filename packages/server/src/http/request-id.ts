import { randomUUID } from 'node:crypto';

// An incoming id ends up in every log line and in a response header: only short, plain tokens are taken,
// so a client cannot forge log lines (newlines, quotes) or bloat them.
const safeRequestId = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The id of a request: the client's `x-request-id` when it is at most 64 characters of `[A-Za-z0-9._-]`,
 * else a fresh random UUID.
 *
 * @example
 * ```ts
 * requestIdFor('abc-123'); // 'abc-123'
 * requestIdFor('bad id\n'); // a new UUID
 * ```
 */
export function requestIdFor(header: string | readonly string[] | undefined): string {
  return typeof header === 'string' && safeRequestId.test(header) ? header : randomUUID();
}
