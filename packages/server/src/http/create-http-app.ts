import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { WaybillError } from '@waybill/verify';
import { fastify } from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalLabel } from '../auth/authenticated-principal.js';
import type { AuthenticatedPrincipal } from '../auth/authenticated-principal.js';
import { createHttpLogger } from './http-logger.js';
import type { HttpLoggerOptions } from './http-logger.js';
import { asWaybillError, sendError } from './error-reply.js';
import { describeInputProblem } from './input-problem-message.js';
import { buildOpenApiDocument } from './openapi-document.js';
import type { OpenApiDocument, OpenApiInfo } from './openapi-document.js';
import { requestIdFor } from './request-id.js';
import { defineRoute } from './route-definition.js';
import type { RouteDefinition, RouteLogger, UntypedRouteReply } from './route-definition.js';

/** The HTTP server an app is built on: plain HTTP, or HTTPS when {@link CreateHttpAppOptions.https} is set. */
export type HttpApp = FastifyInstance<HttpServer | HttpsServer>;

/** TLS settings of the server (PEM text or bytes), as `node:tls` takes them. */
export interface HttpsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** The CA(s) client certificates must chain to, for mutual TLS. */
  readonly ca?: string | Buffer;
  /** Ask clients for a certificate (mutual TLS). */
  readonly requestCert?: boolean;
  /**
   * Refuse the TLS handshake of a client whose certificate does not chain to `ca`. **Leave it on with
   * `requestCert`**: without it, a client with no or any certificate still gets through.
   */
  readonly rejectUnauthorized?: boolean;
}

/** What {@link createHttpApp} builds the server from. */
export interface CreateHttpAppOptions {
  /** The routes to serve and document; `GET /healthz` and `GET /openapi.json` are added. */
  readonly routes: readonly RouteDefinition[];
  /**
   * Turns the bearer token of a request into the principal, or throws (a `WaybillError`
   * `ERR_WAYBILL_UNAUTHENTICATED` for a token that is not good: the answer is then 401). Called before the
   * body is read, on every route with `auth: 'bearer'`.
   */
  readonly authenticate: (bearerToken: string) => Promise<AuthenticatedPrincipal>;
  /** The `info` of the OpenAPI document. */
  readonly info: OpenApiInfo;
  /** The largest request body accepted, in bytes; 1 MiB by default. */
  readonly bodyLimit?: number;
  /** How long a client may take to send a whole request, in milliseconds; 30 s by default. */
  readonly requestTimeoutMs?: number;
  readonly logger?: HttpLoggerOptions;
  /** Serve HTTPS (and mutual TLS with `ca` and `requestCert`) instead of plain HTTP. */
  readonly https?: HttpsOptions;
}

const MiB = 1024 * 1024;

// RFC 6750 §2.1: `Bearer` followed by a b64token.
const bearerHeader = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const jsonType = 'application/json; charset=utf-8';

const healthRoute = defineRoute({
  method: 'GET',
  url: '/healthz',
  operationId: 'getHealth',
  summary: 'Whether the server is up',
  tags: ['meta'],
  auth: 'none',
  responses: { 200: { description: 'The server is up.', schema: z.object({ status: z.literal('ok') }) } },
  handler: () => ({ status: 200, body: { status: 'ok' } }),
});

function openApiRoute(document: () => OpenApiDocument): RouteDefinition {
  return defineRoute({
    method: 'GET',
    url: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    tags: ['meta'],
    auth: 'none',
    responses: {
      200: { description: 'The OpenAPI 3.1 document.', schema: z.record(z.string(), z.unknown()) },
    },
    handler: () => ({ status: 200, body: document() as unknown as Record<string, unknown> }),
  });
}

async function parsePart<T>(
  schema: z.ZodType<T> | undefined,
  value: unknown,
  where: 'body' | 'params' | 'query',
): Promise<T | undefined> {
  if (schema === undefined) return undefined;
  const result = await schema.safeParseAsync(value);
  if (!result.success) {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', describeInputProblem(where, result.error));
  }
  return result.data;
}

const logMethods = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent', 'child'] as const;

/**
 * `log.child(bindings)`, made only when something is logged: pino serializes (and redacts) the bindings
 * when the child is made, which costs a request more than its database reads when nothing is logged.
 */
function lazyChild(log: RouteLogger, bindings: Record<string, string>): RouteLogger {
  let child: RouteLogger | undefined;
  const lazy = Object.create(log) as RouteLogger;
  for (const m of logMethods) {
    Object.defineProperty(lazy, m, {
      value: (...args: unknown[]) => {
        // Fastify calls `info` on every answer; a level that is off must not make the child.
        if (
          m !== 'child' &&
          m !== 'silent' &&
          !(log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(m)
        )
          return undefined;
        child ??= log.child(bindings);
        return (child[m] as (...a: unknown[]) => unknown).apply(child, args);
      },
    });
  }
  return lazy;
}

/** Aborted when the client goes away before the whole answer was written. */
function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  return controller.signal;
}

/**
 * Builds the HTTP server: the given routes plus `GET /healthz` and `GET /openapi.json`, bearer
 * authentication, JSON-only bodies within a size limit, request ids, structured logs with secrets
 * redacted, and one error handler that answers `{ "error": { "code", "message" } }` with the status of
 * {@link ERROR_STATUS}, never a stack trace. Listen with {@link serveHttp}, or call `app.inject()`.
 *
 * Per request, in this order: the request id is fixed (`x-request-id` if safe, else a UUID) and echoed;
 * on a bearer route the token is authenticated, before any body is read; the body is read (415 unless
 * JSON, 413 past `bodyLimit`, 400 if malformed); body, params and query are parsed with the route's zod
 * schemas (400 naming the field); the handler runs; its answer is parsed with the status's schema.
 *
 * @example
 * ```ts
 * const app = createHttpApp({
 *   routes: [getThing],
 *   authenticate: async (token) => principalFor(await tokens.verify(token)),
 *   info: { title: 'Waybill', version: '0.1.0' },
 * });
 * const response = await app.inject({ method: 'GET', url: '/healthz' });
 * ```
 */
export function createHttpApp(options: CreateHttpAppOptions): HttpApp {
  const bodyLimit = options.bodyLimit ?? MiB;
  const common = {
    loggerInstance: createHttpLogger(options.logger),
    bodyLimit,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Every log line of a request carries it as `reqId` (Fastify's default label).
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdFor(req.headers['x-request-id']),
    // A JSON body with "__proto__" or "constructor.prototype" is refused rather than silently stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Errors Fastify meets before routing (a bad percent-encoding, an overlong path parameter) get the
    // same answer as every other error instead of Fastify's own body.
    frameworkErrors: (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      sendError(error, request, reply, bodyLimit);
    },
  } as const;
  const app = (options.https === undefined
    ? fastify(common)
    : fastify({ ...common, https: { ...options.https } })) as unknown as HttpApp;

  // The document route serves the document that describes it too, so it reads the document lazily.
  const routes = [...options.routes, healthRoute, openApiRoute(() => document)];
  const document = buildOpenApiDocument(routes, options.info);

  // Only JSON bodies (Fastify also parses text/plain by default); anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // Many clients send "Content-Type: application/json" on every request, with or without a body. An empty
  // body is no content (RFC 9110 §8.6), not malformed JSON: the route's schema decides whether it needs one.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else void parseJson(request, body.toString(), done);
  });

  const principals = new WeakMap<FastifyRequest, AuthenticatedPrincipal>();

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  // While the app closes, answers in flight ask their clients to close the connection: an idle keep-alive
  // connection would otherwise hold the shutdown open until it timed out.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const match = bearerHeader.exec(request.headers.authorization ?? '');
    if (match === null) {
      throw new WaybillError(
        'ERR_WAYBILL_UNAUTHENTICATED',
        'this route needs "Authorization: Bearer <access token>"; get an access token with POST /v1/auth/token',
      );
    }
    let principal: AuthenticatedPrincipal;
    try {
      principal = await options.authenticate(match[1]!);
    } catch (err) {
      throw asWaybillError(err, 'authentication');
    }
    principals.set(request, principal);
    // From here on every line of this request names who made it.
    const log = lazyChild(request.log, {
      principal: principalLabel(principal),
      workspace: principal.workspace,
    });
    request.log = log;
    reply.log = log;
  }

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      ...(route.auth === 'bearer' ? { onRequest: authenticate } : {}),
      handler: async (request, reply) => {
        const body = await parsePart(route.body, request.body, 'body');
        const params = await parsePart(route.params, request.params, 'params');
        const query = await parsePart(route.query, request.query, 'query');
        let answer: UntypedRouteReply;
        try {
          answer = await route.handler({
            body,
            params,
            query,
            principal: principals.get(request),
            requestId: request.id,
            log: request.log,
            signal: clientGoneSignal(reply),
          });
        } catch (err) {
          throw asWaybillError(err, `route ${route.operationId}`);
        }
        const response = route.responses[answer.status];
        if (response === undefined) {
          throw new WaybillError(
            'ERR_WAYBILL_INTERNAL',
            `route ${route.operationId} answered ${answer.status}, which it does not document`,
          );
        }
        let payload = answer.body;
        if (response.schema !== undefined) {
          const parsed = await response.schema.safeParseAsync(payload);
          if (!parsed.success) {
            throw new WaybillError(
              'ERR_WAYBILL_INTERNAL',
              `route ${route.operationId} answered a ${answer.status} body that does not match its schema`,
              { cause: parsed.error },
            );
          }
          payload = parsed.data;
        }
        reply.status(answer.status);
        for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
        if (payload === undefined) return reply.send();
        // Serialized here, so a string answer is JSON too and a BigInt is a logged 500, not a crash.
        return reply.type(jsonType).send(JSON.stringify(payload));
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!.slice(0, 200);
    // An error sent is answered by the error handler below, like every other.
    reply.send(
      new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `no route answers ${request.method} ${path}; GET /openapi.json lists the routes and their methods`,
      ),
    );
  });

  app.setErrorHandler((error: unknown, request, reply) => sendError(error, request, reply, bodyLimit));

  return app;
}
