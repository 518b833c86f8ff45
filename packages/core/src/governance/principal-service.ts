import { createHash } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import { uuidv7 } from '../ids/uuid-v7.js';
import type { Clock } from '../ports/clock.js';
import { ROLES, type ApiKeyRecord, type PrincipalRecord, type Role, type Store } from '../ports/store.js';
import type { Caller } from '../ports/store.js';
import type { AccessGuard } from './access-guard.js';
import { apiKeyMatches, apiKeyPrefix, generateApiKey } from './api-key.js';

/** How the audit log and messages name a principal: `user:alice`, `service:ci`. */
export function actorOf(p: Pick<PrincipalRecord, 'kind' | 'name'>): string {
  return `${p.kind}:${p.name}`;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * `<sub>@<issuer host>#<issuer digest>`: the principal name of an external user. Readable, never a
 * local name (those cannot hold `@`), and distinct per issuer, not only per host: two realms or tenants
 * on one host are two issuers.
 */
export function externalName(issuer: string, subject: string): string {
  const lower = subject.toLowerCase();
  let safe = lower.replace(/[^a-z0-9._-]/g, '-').slice(0, 40);
  // Two subjects must never map to one name: anything lost in the cleaning is kept as a digest.
  if (safe !== subject) safe += `-${createHash('sha256').update(subject).digest('hex').slice(0, 12)}`;
  let host: string;
  try {
    host = new URL(issuer).host.toLowerCase();
  } catch {
    host = 'external';
  }
  return `${safe}@${host}#${createHash('sha256').update(issuer).digest('hex').slice(0, 8)}`;
}

export interface NewPrincipal {
  readonly name: string;
  readonly kind?: 'user' | 'service';
  readonly roles: readonly string[];
  /** When the first API key expires (RFC 3339); never when omitted. */
  readonly keyExpiresAt?: string;
  /** Attributes policy row filters read as `requester.<name>` (`{ region: 'eu' }`). */
  readonly attributes?: Readonly<Record<string, string>>;
}

const ATTRIBUTE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Checks principal attributes: at most 20, names lowercase identifiers, values 1–200 characters. */
export function checkAttributes(attributes: Readonly<Record<string, unknown>>): Record<string, string> {
  const entries = Object.entries(attributes);
  if (entries.length > 20) throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'attributes: at most 20');
  for (const [k, v] of entries) {
    if (!ATTRIBUTE_NAME.test(k)) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `attributes: ${JSON.stringify(k.slice(0, 70))} must be a lowercase identifier (letters, digits, _; starting with a letter)`,
      );
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > 200) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `attributes.${k}: must be text of 1–200 characters`,
      );
    }
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1))) as Record<string, string>;
}

/** A principal with its first API key, shown this once. */
export interface CreatedPrincipal {
  readonly principal: PrincipalRecord;
  readonly apiKey: string;
  readonly apiKeyRecord: ApiKeyRecord;
}

function checkNewPrincipal(p: NewPrincipal): void {
  if (!NAME.test(p.name)) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `name ${JSON.stringify(p.name)} must be 1–63 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit`,
    );
  }
  if (p.roles.length === 0) {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `roles: give at least one of ${ROLES.join(', ')}`);
  }
  for (const r of p.roles) {
    if (!(ROLES as readonly string[]).includes(r)) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `roles: unknown role "${r}" (roles are ${ROLES.join(', ')})`,
      );
    }
  }
  if (p.attributes !== undefined) checkAttributes(p.attributes);
  if (p.keyExpiresAt !== undefined && Number.isNaN(Date.parse(p.keyExpiresAt))) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `keyExpiresAt: "${p.keyExpiresAt}" is not an RFC 3339 time`,
    );
  }
}

/**
 * Users and service accounts, their roles, and their API keys. A key is shown once when created and
 * stored only as a SHA-256 hash behind a public lookup prefix; keys can expire and be revoked, and
 * `authenticate` honours both at every use.
 */
export class PrincipalService {
  constructor(
    private readonly o: {
      readonly store: Store;
      readonly audit: AuditLog;
      readonly clock: Clock;
      readonly guard: AccessGuard;
    },
  ) {}

  /** Creates a principal in the caller's workspace, with its first API key (needs `principal.manage`). */
  async create(caller: Caller, p: NewPrincipal): Promise<CreatedPrincipal> {
    checkNewPrincipal(p);
    await this.o.guard.require(caller, 'principal.manage');
    if (await this.o.store.getPrincipalByName(caller.workspace, p.name)) {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `a principal named "${p.name}" already exists in this workspace`,
      );
    }
    return this.o.store.transaction((tx) => this.insert(tx, caller.workspace, p, actorOf(caller)));
  }

  /**
   * Sets (or, with `null`, removes) attributes of a principal of the caller's workspace (needs
   * `principal.manage`); logged as `principal.attributes_changed`.
   */
  async setAttributes(
    caller: Caller,
    name: string,
    changes: Readonly<Record<string, string | null>>,
  ): Promise<PrincipalRecord> {
    await this.o.guard.require(caller, 'principal.manage');
    const p = await this.o.store.getPrincipalByName(caller.workspace, name);
    if (!p) return this.o.guard.notFound(caller, 'principal', name);
    const next: Record<string, string> = { ...(p.attributes ?? {}) };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    const attributes = checkAttributes(next);
    await this.o.store.transaction(async (tx) => {
      await tx.updatePrincipalAttributes(p.id, attributes);
      await this.o.audit.append(tx, {
        type: 'principal.attributes_changed',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects: { principal: p.id },
        details: { name: p.name, from: { ...(p.attributes ?? {}) }, to: attributes },
      });
    });
    return { ...p, attributes };
  }

  /**
   * Creates the first administrator of a workspace, without a caller (used by `waybill init`), inside
   * the caller's transaction.
   */
  bootstrap(tx: Store, workspace: string, p: NewPrincipal): Promise<CreatedPrincipal> {
    checkNewPrincipal(p);
    return this.insert(tx, workspace, p, 'system', true);
  }

  private async insert(
    tx: Store,
    workspace: string,
    p: NewPrincipal,
    actor: string,
    bootstrap = false,
  ): Promise<CreatedPrincipal> {
    const now = this.o.clock.now().toISOString();
    const principal: PrincipalRecord = {
      id: uuidv7(),
      workspace,
      name: p.name,
      kind: p.kind ?? 'user',
      roles: [...new Set(p.roles)],
      createdAt: now,
      attributes: checkAttributes(p.attributes ?? {}),
    };
    await tx.insertPrincipal(principal);
    await this.o.audit.append(tx, {
      type: 'principal.created',
      actor,
      workspace,
      subjects: { principal: principal.id },
      details: {
        name: principal.name,
        kind: principal.kind,
        roles: principal.roles,
        ...(Object.keys(principal.attributes!).length > 0 ? { attributes: principal.attributes } : {}),
        ...(bootstrap ? { bootstrap } : {}),
      },
    });
    const { key, record } = await this.insertKey(tx, principal, actor, p.keyExpiresAt ?? null);
    return { principal, apiKey: key, apiKeyRecord: record };
  }

  private async insertKey(
    tx: Store,
    principal: Caller,
    actor: string,
    expiresAt: string | null,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const { key, prefix, hash } = generateApiKey();
    const record: ApiKeyRecord = {
      id: uuidv7(),
      principalId: principal.id,
      prefix,
      hash,
      createdAt: this.o.clock.now().toISOString(),
      expiresAt,
      revokedAt: null,
    };
    await tx.insertApiKey(record);
    await this.o.audit.append(tx, {
      type: 'apikey.created',
      actor,
      workspace: principal.workspace,
      subjects: { principal: principal.id, apiKey: record.id },
      details: { prefix, expiresAt },
    });
    return { key, record };
  }

  /** A new API key for a principal of the caller's workspace (needs `principal.manage`). */
  async issueKey(
    caller: Caller,
    name: string,
    expiresAt: string | null = null,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    await this.o.guard.require(caller, 'principal.manage');
    const principal = await this.byName(caller, name);
    return this.o.store.transaction((tx) => this.insertKey(tx, principal, actorOf(caller), expiresAt));
  }

  /** Revokes an API key of the caller's workspace at once (needs `principal.manage`, or it is the caller's own). */
  async revokeKey(caller: Caller, apiKeyId: string): Promise<void> {
    const rec = await this.o.store.getApiKey(apiKeyId);
    const owner = rec && (await this.o.store.getPrincipal(rec.principalId));
    if (!rec || !owner || owner.workspace !== caller.workspace) {
      return this.o.guard.notFound(caller, 'API key', apiKeyId);
    }
    if (owner.id !== caller.id) await this.o.guard.require(caller, 'principal.manage');
    await this.o.store.transaction(async (tx) => {
      if (!(await tx.revokeApiKey(apiKeyId, this.o.clock.now().toISOString()))) {
        throw new WaybillError('ERR_WAYBILL_CONFLICT', `API key ${apiKeyId} is already revoked`);
      }
      await this.o.audit.append(tx, {
        type: 'apikey.revoked',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects: { principal: owner.id, apiKey: apiKeyId },
        details: { prefix: rec.prefix },
      });
    });
  }

  /** A principal's API keys (never the keys: ids, prefixes, expiry, revocation); one's own, or with `principal.manage`. */
  async keys(caller: Caller, name: string): Promise<ApiKeyRecord[]> {
    const p = await this.byName(caller, name);
    if (p.id !== caller.id) await this.o.guard.require(caller, 'principal.manage');
    return (await this.o.store.listApiKeys(p.id)).map((k) => ({ ...k, hash: '' }));
  }

  async list(caller: Caller): Promise<PrincipalRecord[]> {
    return this.o.store.listPrincipals(caller.workspace);
  }

  async byName(caller: Caller, name: string): Promise<PrincipalRecord> {
    const p = await this.o.store.getPrincipalByName(caller.workspace, name);
    if (!p) return this.o.guard.notFound(caller, 'principal', name);
    return p;
  }

  /**
   * The principal an API key belongs to, if the key is well-formed, known, unrevoked and unexpired;
   * otherwise `ERR_WAYBILL_UNAUTHENTICATED` without saying which (nothing for an attacker to tune).
   */
  async authenticate(key: string): Promise<{ principal: PrincipalRecord; apiKey: ApiKeyRecord }> {
    const prefix = apiKeyPrefix(key);
    const rec = prefix === undefined ? undefined : await this.o.store.findApiKeyByPrefix(prefix);
    if (rec && apiKeyMatches(key, rec.hash) && this.active(rec, this.o.clock.now())) {
      const principal = await this.o.store.getPrincipal(rec.principalId);
      if (principal) return { principal, apiKey: rec };
    }
    throw new WaybillError(
      'ERR_WAYBILL_UNAUTHENTICATED',
      'the API key is not valid (unknown, revoked or expired); ask an admin for a new one',
    );
  }

  /**
   * The principal of a user of an external (OpenID Connect) issuer, made on first sight and kept in
   * step with the roles the issuer gives: named `<sub>@<issuer host>` (never a local name, which cannot
   * hold `@`), so an external user can never take over a local principal, and identified by `sub`, the
   * only stable OpenID Connect identifier.
   */
  async external(identity: {
    readonly issuer: string;
    readonly subject: string;
    readonly workspace: string;
    readonly roles: readonly string[];
    readonly displayName?: string | undefined;
  }): Promise<PrincipalRecord> {
    const name = externalName(identity.issuer, identity.subject);
    const roles = [...new Set(identity.roles)].filter((r) => (ROLES as readonly string[]).includes(r)).sort();
    const existing = await this.o.store.getPrincipalByName(identity.workspace, name);
    if (existing && existing.roles.join() === roles.join()) return existing;
    return this.o.store.transaction(async (tx) => {
      const now = this.o.clock.now().toISOString();
      const current = await tx.getPrincipalByName(identity.workspace, name);
      if (current) {
        if (current.roles.join() === roles.join()) return current;
        await tx.updatePrincipalRoles(current.id, roles);
        await this.o.audit.append(tx, {
          type: 'principal.roles_changed',
          actor: `issuer:${identity.issuer}`,
          workspace: identity.workspace,
          subjects: { principal: current.id },
          details: { from: [...current.roles], to: roles },
        });
        return { ...current, roles };
      }
      const principal: PrincipalRecord = {
        id: uuidv7(),
        workspace: identity.workspace,
        name,
        kind: 'user',
        roles,
        createdAt: now,
      };
      await tx.insertPrincipal(principal);
      await this.o.audit.append(tx, {
        type: 'principal.created',
        actor: `issuer:${identity.issuer}`,
        workspace: identity.workspace,
        subjects: { principal: principal.id },
        details: {
          name,
          kind: 'user',
          roles,
          external: identity.issuer,
          ...(identity.displayName ? { displayName: identity.displayName } : {}),
        },
      });
      return principal;
    });
  }

  /** Whether an API key is still usable at `at` (tokens issued for it die with it). */
  async isKeyActive(apiKeyId: string, at: Date): Promise<boolean> {
    const rec = await this.o.store.getApiKey(apiKeyId);
    return rec !== undefined && this.active(rec, at);
  }

  private active(rec: ApiKeyRecord, at: Date): boolean {
    return rec.revokedAt === null && (rec.expiresAt === null || Date.parse(rec.expiresAt) > at.getTime());
  }
}

export type { Role };
