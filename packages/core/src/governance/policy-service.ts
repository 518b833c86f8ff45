import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { PolicySetRecord, Store } from '../ports/store.js';
import type { Caller } from '../ports/store.js';
import { DEFAULT_POLICY_SET } from '../policy/default-policy-set.js';
import { PolicyEngine } from '../policy/policy-engine.js';
import { principalEntity, principalUid, workspaceUid } from '../policy/policy-entities.js';
import { compilePolicySet, policySetVersion } from '../policy/policy-set.js';
import { actorOf } from './principal-service.js';

/** The policy set in force in a workspace. */
export interface PolicySetInForce {
  readonly version: string;
  readonly text: string;
  /** 0 when the workspace still runs on the built-in default (nothing applied yet). */
  readonly seq: number;
  readonly appliedBy: string | null;
  readonly appliedAt: string | null;
}

const MAX_POLICY_TEXT = 256 * 1024;
const DEFAULT_VERSION = policySetVersion(DEFAULT_POLICY_SET);

/**
 * Versioned Cedar policy sets per workspace. The latest applied set is in force (the built-in default
 * until one is applied); each version is parsed and validated once and its engine cached by version.
 * Applying a set needs `policy.manage` under the set in force, is logged, and is refused when the new
 * set would take `policy.manage` away from the one applying it (no lock-out).
 */
export class PolicyService {
  private readonly engines = new Map<string, Promise<PolicyEngine>>();

  constructor(
    private readonly o: { readonly store: Store; readonly audit: AuditLog; readonly clock: Clock },
  ) {}

  async inForce(workspace: string): Promise<PolicySetInForce> {
    const rec = await this.o.store.latestPolicySet(workspace);
    if (rec) return rec;
    return {
      version: policySetVersion(DEFAULT_POLICY_SET),
      text: DEFAULT_POLICY_SET,
      seq: 0,
      appliedBy: null,
      appliedAt: null,
    };
  }

  /** The engine of the set in force (parsed once per version per process). */
  async engine(workspace: string): Promise<PolicyEngine> {
    // Asked at every decision: the version is read every time (a policy applied by another process
    // takes effect at once), the text only when this process has not compiled that version yet.
    const version = (await this.o.store.latestPolicySetVersion(workspace)) ?? DEFAULT_VERSION;
    const cached = this.engines.get(version);
    if (cached) return cached;
    const set = await this.inForce(workspace);
    return this.engineFor(set.version, set.text);
  }

  private engineFor(version: string, text: string): Promise<PolicyEngine> {
    let e = this.engines.get(version);
    if (!e) {
      e = compilePolicySet(text).then((c) => PolicyEngine.create(c));
      // A failed compile is not cached: the next call reports it again.
      e.catch(() => this.engines.delete(version));
      this.engines.set(version, e);
    }
    return e;
  }

  history(workspace: string): Promise<PolicySetRecord[]> {
    return this.o.store.policySetHistory(workspace);
  }

  /** Stores the default policy set as version 1 of a new workspace (used by `waybill init`). */
  async storeDefault(tx: Store, workspace: string): Promise<void> {
    const text = DEFAULT_POLICY_SET;
    const rec: PolicySetRecord = {
      workspace,
      version: policySetVersion(text),
      seq: 1,
      text,
      appliedBy: 'system',
      appliedAt: this.o.clock.now().toISOString(),
    };
    await tx.insertPolicySet(rec);
    await this.o.audit.append(tx, {
      type: 'policy.applied',
      actor: 'system',
      workspace,
      subjects: { policySet: rec.version },
      details: { seq: 1, default: true },
    });
  }

  /**
   * Applies a policy set in the caller's workspace. Returns the version in force and whether it changed
   * (applying the text in force again changes nothing).
   */
  async apply(caller: Caller, text: string): Promise<{ version: string; seq: number; changed: boolean }> {
    if (text.length > MAX_POLICY_TEXT) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy set is larger than ${MAX_POLICY_TEXT} bytes`,
      );
    }
    const workspace = caller.workspace;
    const current = await this.engine(workspace);
    const ask = (engine: PolicyEngine) =>
      engine.decide({
        principal: principalUid(caller.id),
        action: 'policy.manage',
        resource: workspaceUid(workspace),
        context: {},
        entities: [principalEntity(caller)],
      });
    const now = ask(current);
    if (now.decision !== 'allow') {
      await this.o.audit.appendNow({
        type: 'access.denied',
        actor: actorOf(caller),
        workspace,
        details: { action: 'policy.manage', policyIds: now.policyIds, policySet: now.policySet },
      });
      throw new WaybillError(
        'ERR_WAYBILL_FORBIDDEN',
        `${actorOf(caller)} may not change the policy (policy.manage)`,
      );
    }
    const version = policySetVersion(text);
    const next = await this.engineFor(version, text);
    if (ask(next).decision !== 'allow') {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `this policy set would take policy.manage away from ${actorOf(caller)}, locking you out of changing it again; keep a permit for admins`,
      );
    }
    return this.o.store.transaction(async (tx) => {
      const latest = await tx.latestPolicySet(workspace);
      if (latest?.version === version) return { version, seq: latest.seq, changed: false };
      const seq = (latest?.seq ?? 0) + 1;
      await tx.insertPolicySet({
        workspace,
        version,
        seq,
        text,
        appliedBy: actorOf(caller),
        appliedAt: this.o.clock.now().toISOString(),
      });
      await this.o.audit.append(tx, {
        type: 'policy.applied',
        actor: actorOf(caller),
        workspace,
        subjects: { policySet: version },
        details: {
          seq,
          previous: latest?.version ?? policySetVersion(DEFAULT_POLICY_SET),
          policyIds: [...next.policySet.policies.keys()].sort(),
        },
      });
      return { version, seq, changed: true };
    });
  }
}
