import { WaybillError } from '@waybill/verify';
import type { FastifyBaseLogger } from 'fastify';
import type { z } from 'zod';
import type { AuthenticatedPrincipal } from '../auth/authenticated-principal.js';

/** The HTTP methods a route may answer. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `bearer`: the route needs `Authorization: Bearer <access token>`; `none`: it is public. */
export type RouteAuth = 'none' | 'bearer';

/** The logger a handler gets: every line carries the request id and, once authenticated, the principal. */
export type RouteLogger = FastifyBaseLogger;

/** The schema accepted for path parameters and query strings: an object of named values. */
export type RouteObjectSchema = z.ZodObject<z.core.$ZodLooseShape, z.core.$ZodObjectConfig>;

/** One documented answer of a route. */
export interface RouteResponse {
  /** What this answer means, for the OpenAPI document. */
  readonly description: string;
  /**
   * The body's schema. The handler's body is parsed with it before it is sent, so members the schema
   * does not declare (a key hash, an internal flag) never leave the server.
   */
  readonly schema?: z.ZodType;
}

/** The parsed value of an optional schema: its output type, or `undefined` when there is no schema. */
export type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler is called with. Everything in it has already been checked. */
export interface RouteContext<TAuth extends RouteAuth, TBody, TParams, TQuery> {
  /** The request body, parsed with the route's `body` schema (`undefined` without one). */
  readonly body: TBody;
  /** The path parameters, parsed with the route's `params` schema (`undefined` without one). */
  readonly params: TParams;
  /** The query string, parsed with the route's `query` schema (`undefined` without one). */
  readonly query: TQuery;
  /** The authenticated caller on `bearer` routes; `undefined` on public ones. */
  readonly principal: TAuth extends 'bearer' ? AuthenticatedPrincipal : undefined;
  /** The request id, also sent back in the `x-request-id` header and on every log line. */
  readonly requestId: string;
  /** A logger bound to this request. */
  readonly log: RouteLogger;
  /** Aborted when the client goes away before the answer is sent; pass it on to long work. */
  readonly signal: AbortSignal;
}

/** `T` with every member and array readonly: what a handler may hand back for a body of type `T`. */
export type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** What a handler answers for one documented status. */
type ReplyFor<S extends number, R> = R extends { readonly schema: infer B extends z.ZodType }
  ? {
      readonly status: S;
      readonly body: DeepReadonly<z.input<B>>;
      readonly headers?: Readonly<Record<string, string>>;
    }
  : { readonly status: S; readonly body?: undefined; readonly headers?: Readonly<Record<string, string>> };

/**
 * What a handler answers: one of the statuses its `responses` document, with a body of that status's
 * schema. Errors are thrown as `WaybillError`s, not returned.
 */
export type RouteReply<TResponses> = {
  [S in keyof TResponses & number]: ReplyFor<S, TResponses[S]>;
}[keyof TResponses & number];

/** The specification handed to {@link defineRoute}. */
export interface RouteSpec<
  TAuth extends RouteAuth,
  TBody extends z.ZodType | undefined,
  TParams extends RouteObjectSchema | undefined,
  TQuery extends RouteObjectSchema | undefined,
  TResponses extends Readonly<Record<number, RouteResponse>>,
  TReply extends RouteReply<TResponses> = RouteReply<TResponses>,
> {
  readonly method: HttpMethod;
  /** The path in Fastify's style: `/v1/exports/:id`. */
  readonly url: string;
  /** A unique, stable name for the operation (`getExport`), used by generated clients. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly auth: TAuth;
  /** The JSON body's schema; a route without one ignores any body. */
  readonly body?: TBody;
  /** The path parameters' schema; it must name exactly the `:name`s of `url`. */
  readonly params?: TParams;
  /** The query string's schema. Query values arrive as strings: use `z.coerce` for numbers. */
  readonly query?: TQuery;
  /** Every status the handler returns, keyed by status. Error statuses are added to the document. */
  readonly responses: TResponses;
  readonly handler: (
    ctx: RouteContext<TAuth, Parsed<TBody>, Parsed<TParams>, Parsed<TQuery>>,
  ) => Promise<TReply> | TReply;
}

/** The reply of a route whose types have been erased (what the HTTP app handles). */
export interface UntypedRouteReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A route ready to be served and documented: the checked specification, with its handler's types erased
 * so routes of different shapes fit in one list. Make one with {@link defineRoute}.
 */
export interface RouteDefinition {
  readonly method: HttpMethod;
  readonly url: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string | undefined;
  readonly tags: readonly string[];
  readonly auth: RouteAuth;
  readonly body: z.ZodType | undefined;
  readonly params: RouteObjectSchema | undefined;
  readonly query: RouteObjectSchema | undefined;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  readonly handler: (
    ctx: RouteContext<RouteAuth, unknown, unknown, unknown>,
  ) => Promise<UntypedRouteReply> | UntypedRouteReply;
}

const operationIdPattern = /^[A-Za-z][A-Za-z0-9_]*$/;
const paramPattern = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Defines one HTTP route: its method and path, how it is authenticated, the zod schemas its input is
 * checked with (the same ones its OpenAPI description is generated from), its documented answers and its
 * handler. The handler's context is typed from the schemas.
 *
 * Throws `ERR_WAYBILL_INVALID_INPUT` for a specification that cannot be right (a `:param` without a
 * schema, a body on a GET, no success status), so a mistake shows when the module loads.
 *
 * @example
 * ```ts
 * const getThing = defineRoute({
 *   method: 'GET',
 *   url: '/v1/things/:id',
 *   operationId: 'getThing',
 *   summary: 'One thing',
 *   auth: 'bearer',
 *   params: z.object({ id: z.uuid() }),
 *   responses: { 200: { description: 'The thing', schema: z.object({ id: z.string() }) } },
 *   handler: ({ params }) => ({ status: 200, body: { id: params.id } }),
 * });
 * ```
 */
export function defineRoute<
  TAuth extends RouteAuth,
  TResponses extends Readonly<Record<number, RouteResponse>>,
  TBody extends z.ZodType | undefined = undefined,
  TParams extends RouteObjectSchema | undefined = undefined,
  TQuery extends RouteObjectSchema | undefined = undefined,
  // `const`: inferred from what the handler returns, so `{ status: 200, body: { state: 'ok' } }` keeps its
  // literal types and is checked against the documented answers (a contextual return type alone is
  // widened to `number` and `string` while the responses are still being inferred).
  const TReply extends RouteReply<TResponses> = RouteReply<TResponses>,
>(spec: RouteSpec<TAuth, TBody, TParams, TQuery, TResponses, TReply>): RouteDefinition {
  const where = `route ${spec.method} ${spec.url}`;
  const invalid = (problem: string): never => {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `${where}: ${problem}`);
  };
  if (!spec.url.startsWith('/')) invalid('the url must start with "/"');
  if (!operationIdPattern.test(spec.operationId)) {
    invalid(`operationId "${spec.operationId}" must be letters, digits and "_", starting with a letter`);
  }
  const named = [...spec.url.matchAll(paramPattern)].map((m) => m[1]!);
  const declared = spec.params === undefined ? [] : Object.keys(spec.params.shape);
  for (const name of named) {
    if (!declared.includes(name)) invalid(`the path parameter ":${name}" has no entry in the params schema`);
  }
  for (const name of declared) {
    if (!named.includes(name))
      invalid(`the params schema names "${name}", which is not a ":${name}" of the url`);
  }
  // Fastify never reads a body on GET (RFC 9110 §9.3.1 gives it no meaning), so a schema would never see one.
  if (spec.method === 'GET' && spec.body !== undefined) invalid('a GET route cannot have a body');
  const statuses = Object.keys(spec.responses).map(Number);
  for (const status of statuses) {
    if (!Number.isInteger(status) || status < 100 || status > 599)
      invalid(`"${status}" is not an HTTP status`);
    if (status >= 400 && spec.responses[status]?.schema !== undefined) {
      invalid(`response ${status} has a schema, but errors are thrown as WaybillErrors and share one body`);
    }
  }
  if (!statuses.some((s) => s >= 200 && s < 300)) invalid('responses must document at least one 2xx status');

  return Object.freeze({
    method: spec.method,
    url: spec.url,
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: Object.freeze([...(spec.tags ?? [])]),
    auth: spec.auth,
    body: spec.body,
    params: spec.params,
    query: spec.query,
    responses: spec.responses,
    // Sound because the HTTP app parses body, params and query with these very schemas, and sets the
    // principal exactly on bearer routes, before it calls the handler.
    handler: spec.handler as unknown as RouteDefinition['handler'],
  });
}
