import {
  WaybillError,
  type AuditLog,
  type Clock,
  type ExportResult,
  type KeyRing,
  type PrincipalRecord,
  type Services,
  type Store,
} from '@waybill/core';
import { decodeJwt } from 'jose';
import { AccessTokenService } from './auth/access-token-service.js';
import { OidcTokenVerifier, type OidcOptions } from './auth/oidc-token-verifier.js';
import type { AuthenticatedPrincipal } from './auth/authenticated-principal.js';
import type { CreateHttpAppOptions } from './http/create-http-app.js';
import type { HttpLoggerOptions } from './http/http-logger.js';
import type { RouteLogger } from './http/route-definition.js';
import { waybillRoutes } from './routes/waybill-routes.js';

/** What the Waybill API server is built from: the same services the CLI uses. */
export interface WaybillServerOptions {
  readonly services: Services;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly keys: KeyRing;
  readonly clock: Clock;
  /** `iss` of access tokens (default `waybill`). */
  readonly issuer?: string;
  /** `aud` of access tokens (default `waybill-api`). */
  readonly audience?: string;
  /** Access-token lifetime in seconds (default 900: 15 minutes). */
  readonly tokenTtlSeconds?: number;
  readonly bodyLimit?: number;
  readonly logger?: HttpLoggerOptions;
  readonly version?: string;
  /** Also accept tokens of this external OpenID Connect issuer (roles from a claim). */
  readonly oidc?: Omit<OidcOptions, 'clock'>;
}

const PRINCIPAL_CACHE_MS = 5000;

function unverifiedIssuer(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

/** Runs started over HTTP, executed in this process; a graceful shutdown waits for them. */
export class BackgroundRuns {
  private readonly running = new Set<Promise<unknown>>();
  private readonly controller = new AbortController();

  start(work: (signal: AbortSignal) => Promise<ExportResult>, log: RouteLogger): void {
    const p = work(this.controller.signal).then(
      (r) => log.info({ runId: r.run.id, location: r.location }, 'run sealed'),
      (err: unknown) => {
        const e = err instanceof WaybillError ? { code: err.code, message: err.message } : { err };
        log.warn(e, 'run failed');
      },
    );
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  get size(): number {
    return this.running.size;
  }

  /** Waits for runs in flight; with `abort`, tells them to stop first (they roll back cleanly). */
  async drain(abort = false): Promise<void> {
    if (abort) this.controller.abort(new Error('the server is shutting down'));
    await Promise.allSettled([...this.running]);
  }
}

/**
 * The options of the Waybill API server (`createHttpApp` / `serveHttp`): the routes of CONTRACT.md over
 * the core services, bearer authentication with EdDSA access tokens signed by the home's
 * `token-signing` key (created on first use), and the runs it starts.
 */
export async function waybillServer(
  o: WaybillServerOptions,
): Promise<{ appOptions: CreateHttpAppOptions; tokens: AccessTokenService; runs: BackgroundRuns }> {
  const key = await o.keys.ensureSigningKey('token-signing', 'system');
  const tokens = new AccessTokenService({
    privateKey: key.privateKey,
    publicKey: key.publicKey,
    keyId: key.keyId,
    issuer: o.issuer ?? 'waybill',
    audience: o.audience ?? 'waybill-api',
    ...(o.tokenTtlSeconds !== undefined ? { ttlSeconds: o.tokenTtlSeconds } : {}),
    clock: o.clock,
    isApiKeyActive: (id, at) => o.services.principals.isKeyActive(id, at),
  });
  const runs = new BackgroundRuns();
  // Principals are read at every request; a principal record does not change once made, so each is
  // kept for a few seconds (the API key's validity, which can change, is checked at every request).
  const principals = new Map<string, { at: number; p: PrincipalRecord | undefined }>();
  const principalOf = async (id: string): Promise<PrincipalRecord | undefined> => {
    const now = o.clock.now().getTime();
    const known = principals.get(id);
    if (known && now - known.at < PRINCIPAL_CACHE_MS) return known.p;
    const p = await o.store.getPrincipal(id);
    if (principals.size >= 10_000) principals.delete(principals.keys().next().value!);
    principals.set(id, { at: now, p });
    return p;
  };
  const oidc = o.oidc ? new OidcTokenVerifier({ ...o.oidc, clock: o.clock }) : undefined;
  const authenticate = async (token: string): Promise<AuthenticatedPrincipal> => {
    // A token names its issuer; the external issuer's are checked against its keys, all others
    // against Waybill's own (the unverified claim only picks which keys: both verify fully).
    if (oidc && unverifiedIssuer(token) === oidc.issuer) {
      const p = await o.services.principals.external(await oidc.verify(token));
      return { id: p.id, workspace: p.workspace, name: p.name, kind: p.kind, roles: [...p.roles] };
    }
    const t = await tokens.verify(token);
    const p = await principalOf(t.principalId);
    if (!p || p.workspace !== t.workspace) {
      throw new WaybillError(
        'ERR_WAYBILL_UNAUTHENTICATED',
        'access token is invalid or expired; get a new one with POST /v1/auth/token',
      );
    }
    return {
      id: p.id,
      workspace: p.workspace,
      name: p.name,
      kind: p.kind,
      roles: [...p.roles],
      apiKeyId: t.apiKeyId,
    };
  };
  const routes = waybillRoutes({
    services: o.services,
    store: o.store,
    audit: o.audit,
    tokens,
    clock: o.clock,
    startRun: (work, log) => runs.start(work, log),
  });
  return {
    appOptions: {
      routes,
      authenticate,
      info: {
        title: 'Waybill',
        version: o.version ?? '0.1.0',
        description: 'Governed exports out of no-code apps: requests, approvals, runs, and the audit log.',
      },
      ...(o.bodyLimit !== undefined ? { bodyLimit: o.bodyLimit } : {}),
      ...(o.logger !== undefined ? { logger: o.logger } : {}),
    },
    tokens,
    runs,
  };
}
