import { WaybillError } from '@waybill/verify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf } from './error-status.js';

/** An error that is not a WaybillError, wrapped as `ERR_WAYBILL_INTERNAL` with the original as cause. */
export function asWaybillError(error: unknown, what: string): WaybillError {
  return error instanceof WaybillError
    ? error
    : new WaybillError('ERR_WAYBILL_INTERNAL', `${what} failed`, { cause: error });
}

/**
 * Turns an error raised by Fastify itself (before a handler ran) into a WaybillError, or returns
 * undefined for anything else. Fastify's messages are not passed on where they could quote the request.
 */
function frameworkError(error: unknown, bodyLimit: number): WaybillError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode, message } = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_')) return undefined;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // RFC 9110 §15.5.14 (413 Content Too Large): Fastify stops reading at the limit, or refuses at
      // once when Content-Length announces more, so an oversized body is never held in memory.
      return new WaybillError(
        'ERR_WAYBILL_PAYLOAD_TOO_LARGE',
        `the request body is larger than ${bodyLimit} bytes; send a smaller body`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new WaybillError(
        'ERR_WAYBILL_UNSUPPORTED_MEDIA_TYPE',
        'the request body must be JSON sent with "Content-Type: application/json"',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      // The parser's own message would quote the bytes around the mistake: the body is not echoed.
      return new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        'the request body is not valid JSON (or holds a "__proto__" or "constructor.prototype" member); send one JSON document',
      );
    case 'FST_ERR_BAD_URL':
      return new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'the request path is not valid percent-encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'a path parameter is longer than 100 characters');
    default:
      if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
        return new WaybillError(
          'ERR_WAYBILL_INVALID_INPUT',
          `the request is malformed: ${typeof message === 'string' ? message : code}`,
        );
      }
      return undefined;
  }
}

/**
 * Answers an error: a WaybillError with the status of its code and `{ "error": { "code", "message" } }`;
 * a refusal by Fastify (body too large, not JSON, malformed) as the matching WaybillError; anything else
 * as a 500 `ERR_WAYBILL_INTERNAL` whose message only names the request id. A stack or a cause is never
 * sent; 5xx errors are logged whole, refusals in one line.
 */
export function sendError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  bodyLimit: number,
): FastifyReply {
  const failure = frameworkError(error, bodyLimit) ?? asWaybillError(error, 'the request');
  const status = httpStatusOf(failure.code);
  if (status >= 500) {
    // The whole error, cause and stack included, goes to the log only.
    request.log.error({ err: error, code: failure.code }, 'request failed');
  } else {
    request.log.info({ code: failure.code }, failure.message);
  }
  const message =
    failure.code === 'ERR_WAYBILL_INTERNAL'
      ? `internal error; see the server log (request id ${request.id})`
      : failure.message;
  // RFC 9110 §11.6.1 and RFC 6750 §3: a 401 names the scheme to authenticate with.
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  // Set here too: errors found before routing never passed the onRequest hook that sets it.
  reply.header('x-request-id', request.id);
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ error: { code: failure.code, message } }));
}
