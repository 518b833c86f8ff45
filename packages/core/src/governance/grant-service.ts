import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import { uuidv7 } from '../ids/uuid-v7.js';
import type { Clock } from '../ports/clock.js';
import type { GrantRecord, Store } from '../ports/store.js';
import type { Caller } from '../ports/store.js';
import type { AccessGuard } from './access-guard.js';
import { actorOf } from './principal-service.js';

/** Longest grant: a grant is a temporary exception to least privilege, not a role. */
const MAX_GRANT_MS = 90 * 24 * 3600 * 1000;

/**
 * Time-bound grants: principal P may request and run definition D until T. Nothing sweeps expired
 * grants: whether a grant holds is decided at each decision from its expiry and revocation, so an
 * expired grant stops working by itself and a revoked one at once.
 */
export class GrantService {
  constructor(
    private readonly o: {
      readonly store: Store;
      readonly audit: AuditLog;
      readonly clock: Clock;
      readonly guard: AccessGuard;
    },
  ) {}

  async add(
    caller: Caller,
    g: { principal: string; definition: string; expiresAt: string; reason: string },
  ): Promise<GrantRecord> {
    await this.o.guard.require(caller, 'grant.manage');
    const now = this.o.clock.now();
    const until = Date.parse(g.expiresAt);
    if (Number.isNaN(until)) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `expiresAt: "${g.expiresAt}" is not an RFC 3339 time`,
      );
    }
    if (until <= now.getTime()) {
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `expiresAt: ${g.expiresAt} is in the past`);
    }
    if (until - now.getTime() > MAX_GRANT_MS) {
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'expiresAt: a grant lasts at most 90 days');
    }
    if (g.reason.trim() === '' || g.reason.length > 2000) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        'reason: say why the grant is needed (1–2000 characters)',
      );
    }
    const grantee = await this.o.store.getPrincipalByName(caller.workspace, g.principal);
    if (!grantee) return this.o.guard.notFound(caller, 'principal', g.principal);
    if (!(await this.o.store.latestDefinitionVersion(caller.workspace, g.definition))) {
      return this.o.guard.notFound(caller, 'definition', g.definition);
    }
    const rec: GrantRecord = {
      id: uuidv7(),
      workspace: caller.workspace,
      principalId: grantee.id,
      definitionName: g.definition,
      reason: g.reason,
      createdBy: actorOf(caller),
      createdAt: now.toISOString(),
      expiresAt: new Date(until).toISOString(),
      revokedAt: null,
    };
    await this.o.store.transaction(async (tx) => {
      await tx.insertGrant(rec);
      await this.o.audit.append(tx, {
        type: 'grant.created',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects: { grant: rec.id, principal: grantee.id, definition: g.definition },
        details: { expiresAt: rec.expiresAt, reason: g.reason },
      });
    });
    return rec;
  }

  async revoke(caller: Caller, id: string): Promise<void> {
    await this.o.guard.require(caller, 'grant.manage');
    const rec = await this.o.store.getGrant(caller.workspace, id);
    if (!rec) return this.o.guard.notFound(caller, 'grant', id);
    await this.o.store.transaction(async (tx) => {
      if (!(await tx.revokeGrant(caller.workspace, id, this.o.clock.now().toISOString()))) {
        throw new WaybillError('ERR_WAYBILL_CONFLICT', `grant ${id} is already revoked`);
      }
      await this.o.audit.append(tx, {
        type: 'grant.revoked',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects: { grant: id, principal: rec.principalId, definition: rec.definitionName },
      });
    });
  }

  async list(caller: Caller): Promise<GrantRecord[]> {
    return this.o.store.listGrants(caller.workspace);
  }

  /** Whether `principalId` holds a grant for `definition` at `at`: unexpired and unrevoked. */
  async holds(workspace: string, principalId: string, definition: string, at: Date): Promise<boolean> {
    const grants = await this.o.store.listGrants(workspace, { principalId, definitionName: definition });
    return grants.some((g) => g.revokedAt === null && Date.parse(g.expiresAt) > at.getTime());
  }
}
