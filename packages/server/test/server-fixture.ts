// A small but real server for the tests: dummy routes over the real HTTP foundation, real Ed25519 access
// tokens from AccessTokenService, API keys held in memory, and the JSON log lines captured.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import { z } from 'zod';
import {
  AccessTokenService,
  createHttpApp,
  defineRoute,
  serveHttp,
  type AuthenticatedPrincipal,
  type CreateHttpAppOptions,
  type HttpApp,
  type RouteDefinition,
  type RunningHttpServer,
  type ServeHttpOptions,
} from '@waybill/server';

export const ISSUER = 'https://waybill.test';
export const AUDIENCE = 'waybill-api';

/** A clock the test moves by hand. */
export class TestClock {
  #now: number;
  constructor(start = Date.parse('2025-06-01T12:00:00Z')) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

interface ApiKeyRecord {
  readonly id: string;
  readonly principal: AuthenticatedPrincipal;
  active: boolean;
}

/** Users and their API keys, in memory. */
export class TestDirectory {
  readonly #byKey = new Map<string, ApiKeyRecord>();
  readonly #byId = new Map<string, ApiKeyRecord>();

  /** Adds a user and returns its API key (the secret) and the key's id. */
  addUser(name: string, roles: readonly string[] = ['requester']): { apiKey: string; apiKeyId: string } {
    const apiKey = `wbk_${randomUUID().replace(/-/g, '')}`;
    const apiKeyId = randomUUID();
    const record: ApiKeyRecord = {
      id: apiKeyId,
      principal: { id: randomUUID(), workspace: 'default', name, kind: 'user', roles, apiKeyId },
      active: true,
    };
    this.#byKey.set(apiKey, record);
    this.#byId.set(apiKeyId, record);
    return { apiKey, apiKeyId };
  }

  revoke(apiKeyId: string): void {
    this.#byId.get(apiKeyId)!.active = false;
  }

  byApiKey(apiKey: string): ApiKeyRecord | undefined {
    return this.#byKey.get(apiKey);
  }

  byApiKeyId(apiKeyId: string): ApiKeyRecord | undefined {
    return this.#byId.get(apiKeyId);
  }

  isActive = (apiKeyId: string): Promise<boolean> =>
    Promise.resolve(this.#byId.get(apiKeyId)?.active === true);
}

/** What every dummy route shares. */
export interface TestWorld {
  readonly clock: TestClock;
  readonly directory: TestDirectory;
  readonly tokens: AccessTokenService;
  readonly keys: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
  /** The parsed JSON log lines written so far. */
  readonly logs: Record<string, unknown>[];
  /** The raw log text written so far. */
  readonly logText: () => string;
  readonly appOptions: CreateHttpAppOptions;
}

const unauthenticated = (): WaybillError =>
  new WaybillError('ERR_WAYBILL_UNAUTHENTICATED', 'access token is invalid or expired');

/** The dummy routes: a public token exchange, a JSON echo, a path parameter, and a route that breaks. */
export function testRoutes(world: Pick<TestWorld, 'directory' | 'tokens'>): RouteDefinition[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/auth/token',
      operationId: 'createAccessToken',
      summary: 'Exchange an API key for an access token',
      auth: 'none',
      body: z.object({ apiKey: z.string().min(1) }).strict(),
      responses: {
        200: {
          description: 'A fresh access token',
          schema: z.object({ accessToken: z.string(), expiresAt: z.string() }),
        },
      },
      handler: async ({ body, log }) => {
        const record = world.directory.byApiKey(body.apiKey);
        // Logged on purpose: the logger must redact it.
        log.info({ body }, 'token requested');
        if (record === undefined || !record.active) throw unauthenticated();
        const issued = await world.tokens.issue({
          principalId: record.principal.id,
          workspace: record.principal.workspace,
          apiKeyId: record.id,
        });
        return { status: 200, body: issued };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/echo',
      operationId: 'echo',
      summary: 'Echo a purpose',
      tags: ['test'],
      auth: 'bearer',
      body: z
        .object({
          purpose: z.string().min(1),
          count: z.number().int().min(0),
          tags: z.array(z.string()).optional(),
        })
        .strict(),
      responses: {
        200: {
          description: 'What was sent, and who sent it',
          schema: z.object({
            purpose: z.string(),
            count: z.number(),
            by: z.string(),
            state: z.enum(['ok', 'odd']),
          }),
        },
      },
      handler: ({ body, principal, log }) => {
        log.info({ purpose: body.purpose }, 'echoing');
        return {
          status: 200,
          body: {
            purpose: body.purpose,
            count: body.count,
            by: principal.name,
            state: 'ok',
            extra: 'dropped',
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/things/:id',
      operationId: 'getThing',
      summary: 'One thing',
      auth: 'bearer',
      params: z.object({ id: z.string().regex(/^[a-z0-9-]{1,40}$/) }),
      query: z.object({ limit: z.coerce.number().int().min(1).max(100).optional() }),
      responses: {
        200: { description: 'The thing', schema: z.object({ id: z.string(), limit: z.number().nullable() }) },
        404: { description: 'No such thing' },
      },
      handler: ({ params, query }) => {
        if (params.id === 'missing')
          throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `no thing "${params.id}"`);
        return { status: 200, body: { id: params.id, limit: query.limit ?? null } };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/boom',
      operationId: 'boom',
      summary: 'Fails unexpectedly',
      auth: 'bearer',
      responses: { 204: { description: 'Never' } },
      handler: () => {
        throw new Error('connection to db.internal:5432 refused', { cause: new Error('ECONNREFUSED') });
      },
    }),
  ];
}

/** Builds the shared world: keys, clock, directory, token service, log capture and app options. */
export function testWorld(extraRoutes: readonly RouteDefinition[] = []): TestWorld {
  const clock = new TestClock();
  const directory = new TestDirectory();
  const keys = generateKeyPairSync('ed25519');
  const tokens = new AccessTokenService({
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    issuer: ISSUER,
    audience: AUDIENCE,
    clock,
    isApiKeyActive: directory.isActive,
  });
  const chunks: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const authenticate = async (token: string): Promise<AuthenticatedPrincipal> => {
    const claims = await tokens.verify(token);
    const record = directory.byApiKeyId(claims.apiKeyId);
    if (record === undefined) throw unauthenticated();
    return record.principal;
  };
  const appOptions: CreateHttpAppOptions = {
    routes: [...testRoutes({ directory, tokens }), ...extraRoutes],
    authenticate,
    info: { title: 'Waybill test', version: '0.0.0' },
    logger: {
      level: 'debug',
      stream: {
        write(line: string) {
          chunks.push(line);
          logs.push(JSON.parse(line) as Record<string, unknown>);
        },
      },
    },
  };
  return { clock, directory, tokens, keys, logs, logText: () => chunks.join(''), appOptions };
}

/** An app for `inject()`. */
export function testApp(extraRoutes: readonly RouteDefinition[] = []): { world: TestWorld; app: HttpApp } {
  const world = testWorld(extraRoutes);
  return { world, app: createHttpApp(world.appOptions) };
}

/** A real server listening on 127.0.0.1 and a free port. Close it with `server.close()`. */
export async function startTestServer(
  extraRoutes: readonly RouteDefinition[] = [],
  options: Partial<ServeHttpOptions> & { readonly appOptions?: Partial<CreateHttpAppOptions> } = {},
): Promise<{ world: TestWorld; server: RunningHttpServer }> {
  const world = testWorld(extraRoutes);
  const { appOptions, ...serve } = options;
  const server = await serveHttp(
    { ...world.appOptions, ...appOptions },
    { host: '127.0.0.1', port: 0, ...serve },
  );
  return { world, server };
}

/** Exchanges a new user's API key for an access token through the real route. */
export async function loginAs(
  world: TestWorld,
  baseUrl: string,
  name: string,
): Promise<{ apiKey: string; apiKeyId: string; accessToken: string }> {
  const { apiKey, apiKeyId } = world.directory.addUser(name);
  const response = await fetch(`${baseUrl}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiKey }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const { accessToken } = (await response.json()) as { accessToken: string };
  return { apiKey, apiKeyId, accessToken };
}

/** The `{ error: { code, message } }` body of an error answer. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}
