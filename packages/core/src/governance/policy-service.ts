import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ApprovalRequirement, PolicyProposalRecord, PolicySetRecord, Store } from '../ports/store.js';
import type { Context } from '@cedar-policy/cedar-wasm/nodejs';
import { uuidv7 } from '../ids/uuid-v7.js';
import { countApprovals, missingApprovals } from '../policy/approval-requirements.js';
import type { PolicyDecision } from '../policy/policy-engine.js';
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
const NO_APPROVALS = { total: 0, approver: 0, security: 0, admin: 0 };
/** An approval of a policy change holds a day, as an export's does. */
const PROPOSAL_APPROVAL_MS = 24 * 3600 * 1000;
type CedarContextValue = Context[string];

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
   * Applies a policy set in the caller's workspace, or proposes it when the policy in force wants
   * approvals for policy changes (`policy.apply` with `@approvals`): then it applies once they are given
   * (`decideProposal`). Applying the text in force again changes nothing.
   */
  async apply(caller: Caller, text: string): Promise<PolicyChange> {
    if (text.length > MAX_POLICY_TEXT) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy set is larger than ${MAX_POLICY_TEXT} bytes`,
      );
    }
    const workspace = caller.workspace;
    const current = await this.engine(workspace);
    const manage = (engine: PolicyEngine) => this.ask(engine, caller, 'policy.manage', {});
    const now = manage(current);
    if (now.decision !== 'allow') await this.refuse(caller, 'policy.manage', now);
    const version = policySetVersion(text);
    const next = await this.engineFor(version, text);
    // No lock-out: under the new set, this admin must still be able to manage the policy and to change
    // it (at once, or through approvals someone can give).
    const applyNext = this.ask(next, caller, 'policy.apply', { approvals: { ...NO_APPROVALS } });
    const canApply = applyNext.decision === 'allow' || next.approvalsToLift(applyNext) !== undefined;
    if (manage(next).decision !== 'allow' || !canApply) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `this policy set would take ${manage(next).decision !== 'allow' ? 'policy.manage' : 'policy.apply'} away from ${actorOf(caller)}, locking you out of changing it again; keep the admins' permits`,
      );
    }
    const base = (await this.o.store.latestPolicySetVersion(workspace)) ?? DEFAULT_VERSION;
    if (base === version) return { status: 'unchanged', version, changed: false };
    const d = this.ask(current, caller, 'policy.apply', { approvals: { ...NO_APPROVALS } });
    if (d.decision === 'allow') return this.store(caller, workspace, version, text, base, next, {});
    const lift = current.approvalsToLift(d);
    if (!lift) await this.refuse(caller, 'policy.apply', d);
    const at = this.o.clock.now().toISOString();
    const proposal: PolicyProposalRecord = {
      id: uuidv7(),
      workspace,
      version,
      baseVersion: base,
      text,
      proposerId: caller.id,
      status: 'pending_approval',
      requirements: lift!,
      approvals: [],
      createdAt: at,
      updatedAt: at,
    };
    await this.o.store.transaction(async (tx) => {
      await tx.insertPolicyProposal(proposal);
      await this.o.audit.append(tx, {
        type: 'policy.proposed',
        actor: actorOf(caller),
        workspace,
        subjects: { policyProposal: proposal.id, policySet: version },
        details: { base, requirements: lift!, policyIds: d.policyIds },
      });
    });
    return {
      status: 'pending_approval',
      version,
      changed: false,
      proposalId: proposal.id,
      requirements: lift!,
      reasons: missingApprovals(lift!, NO_APPROVALS).map(
        (m) => `needs ${m} (policy ${d.policyIds.join(', ')})`,
      ),
    };
  }

  /** Approves or rejects a pending policy proposal; the last approval it needs applies it. */
  async decideProposal(
    caller: Caller,
    id: string,
    input: { decision: 'approve' | 'reject'; reason: string },
  ): Promise<PolicyChange> {
    const reason = input.reason.trim();
    if (reason === '' || reason.length > 2000) {
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'reason: say why (1–2000 characters)');
    }
    const workspace = caller.workspace;
    const p = await this.o.store.getPolicyProposal(workspace, id);
    if (!p) {
      await this.o.audit.appendNow({
        type: 'access.not_found',
        actor: actorOf(caller),
        workspace,
        subjects: { policyProposal: id.slice(0, 100) },
        details: { kind: 'policy proposal' },
      });
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `no policy proposal ${JSON.stringify(id.slice(0, 100))} in this workspace`,
      );
    }
    const what = `${input.decision} policy proposal ${id}`;
    if (p.proposerId === caller.id)
      await this.refuse(caller, what, undefined, 'nobody approves their own policy change');
    if (p.approvals.some((a) => a.approverId === caller.id)) {
      await this.refuse(caller, what, undefined, 'you already decided on this proposal; nobody counts twice');
    }
    const current = await this.engine(workspace);
    const may = this.ask(current, caller, 'policy.approve', {});
    if (may.decision !== 'allow') await this.refuse(caller, what, may);
    if (!p.requirements.some((r) => r.role === 'any' || caller.roles.includes(r.role))) {
      await this.refuse(
        caller,
        what,
        may,
        `it needs approval by someone with the ${p.requirements.map((r) => r.role).join(' or ')} role`,
      );
    }
    if (p.status !== 'pending_approval') {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `policy proposal ${id} is ${p.status}; only a pending one takes approvals`,
      );
    }
    const at = this.o.clock.now();
    const approvals = [
      ...p.approvals,
      {
        approverId: caller.id,
        approver: actorOf(caller),
        decision: input.decision,
        roles: [...caller.roles],
        reason,
        at: at.toISOString(),
      },
    ];
    const base = (await this.o.store.latestPolicySetVersion(workspace)) ?? DEFAULT_VERSION;
    const proposer = await this.o.store.getPrincipal(p.proposerId);
    let status: PolicyProposalRecord['status'] = 'pending_approval';
    let applies = false;
    if (input.decision === 'reject') status = 'rejected';
    else if (base !== p.baseVersion) status = 'superseded';
    else if (proposer) {
      const counts = countApprovals(
        approvals.map((a, i) => ({
          id: String(i),
          exportId: id,
          workspace,
          approverId: a.approverId,
          decision: a.decision,
          reason: a.reason,
          roles: a.roles,
          definitionVersion: p.version,
          createdAt: a.at,
          expiresAt: new Date(Date.parse(a.at) + PROPOSAL_APPROVAL_MS).toISOString(),
          round: 1,
        })),
        p.version,
        at,
      );
      const d = this.ask(current, proposer, 'policy.apply', { approvals: { ...counts } });
      if (d.decision === 'allow') {
        status = 'applied';
        applies = true;
      }
    }
    const next = applies ? await this.engineFor(p.version, p.text) : undefined;
    return this.o.store.transaction(async (tx) => {
      if (
        !(await tx.updatePolicyProposal(workspace, id, p.updatedAt, {
          status,
          approvals,
          updatedAt: at.toISOString(),
        }))
      ) {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `policy proposal ${id} changed meanwhile; look at it again`,
        );
      }
      await this.o.audit.append(tx, {
        type: input.decision === 'approve' ? 'policy.approved' : 'policy.rejected',
        actor: actorOf(caller),
        workspace,
        subjects: { policyProposal: id, policySet: p.version },
        details: { reason, roles: [...caller.roles], status },
      });
      if (status === 'superseded') {
        return {
          status,
          version: p.version,
          changed: false,
          proposalId: id,
          reasons: [`the policy in force changed since it was proposed; propose it again`],
        };
      }
      if (!applies || !next || !proposer) {
        return {
          status,
          version: p.version,
          changed: false,
          proposalId: id,
          requirements: [...p.requirements],
        };
      }
      return this.insert(tx, proposer, workspace, p.version, p.text, p.baseVersion, next, {
        proposal: id,
        approvedBy: approvals.map((a) => a.approver),
      });
    });
  }

  /**
   * The proposed policy changes, with their text: for those who manage the policy and those who
   * approve changes (an approver must see what they approve).
   */
  async proposals(caller: Caller): Promise<PolicyProposalRecord[]> {
    await this.mayReadProposals(caller);
    return this.o.store.listPolicyProposals(caller.workspace);
  }

  async proposal(
    caller: Caller,
    id: string,
  ): Promise<PolicyProposalRecord & { readonly baseText: string | null }> {
    await this.mayReadProposals(caller);
    const p = await this.o.store.getPolicyProposal(caller.workspace, id);
    if (!p)
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `no policy proposal ${JSON.stringify(id.slice(0, 100))} in this workspace`,
      );
    const base =
      p.baseVersion === DEFAULT_VERSION
        ? DEFAULT_POLICY_SET
        : ((await this.o.store.getPolicySet(caller.workspace, p.baseVersion))?.text ?? null);
    return { ...p, baseText: base };
  }

  private async mayReadProposals(caller: Caller): Promise<void> {
    const engine = await this.engine(caller.workspace);
    const manage = this.ask(engine, caller, 'policy.manage', {});
    const approve = this.ask(engine, caller, 'policy.approve', {});
    if (manage.decision !== 'allow' && approve.decision !== 'allow')
      await this.refuse(caller, 'read policy proposals', approve);
  }

  private store(
    caller: Caller,
    workspace: string,
    version: string,
    text: string,
    base: string,
    next: PolicyEngine,
    extra: Record<string, unknown>,
  ): Promise<PolicyChange> {
    return this.o.store.transaction((tx) =>
      this.insert(tx, caller, workspace, version, text, base, next, extra),
    );
  }

  private async insert(
    tx: Store,
    caller: Caller,
    workspace: string,
    version: string,
    text: string,
    base: string,
    next: PolicyEngine,
    extra: Record<string, unknown>,
  ): Promise<PolicyChange> {
    const latest = await tx.latestPolicySet(workspace);
    if ((latest?.version ?? DEFAULT_VERSION) !== base) {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        'the policy in force changed meanwhile; apply again on top of it',
      );
    }
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
      details: { seq, previous: base, policyIds: [...next.policySet.policies.keys()].sort(), ...extra },
    });
    return { status: 'applied', version, seq, changed: true };
  }

  private ask(
    engine: PolicyEngine,
    who: Caller,
    action: 'policy.manage' | 'policy.apply' | 'policy.approve',
    context: Record<string, CedarContextValue>,
  ) {
    return engine.decide({
      principal: principalUid(who.id),
      action,
      resource: workspaceUid(who.workspace),
      context,
      entities: [principalEntity(who)],
    });
  }

  private async refuse(caller: Caller, action: string, d?: PolicyDecision, why?: string): Promise<never> {
    await this.o.audit.appendNow({
      type: 'access.denied',
      actor: actorOf(caller),
      workspace: caller.workspace,
      details: {
        action,
        ...(d ? { policyIds: d.policyIds, policySet: d.policySet } : {}),
        ...(why ? { reason: why } : {}),
      },
    });
    const because =
      why ??
      (d && d.policyIds.length > 0 ? `denied by policy ${d.policyIds.join(', ')}` : 'no policy permits it');
    throw new WaybillError('ERR_WAYBILL_FORBIDDEN', `${actorOf(caller)} may not ${action}: ${because}`);
  }
}

/** What applying a policy set did. */
export interface PolicyChange {
  readonly status: 'applied' | 'unchanged' | 'pending_approval' | 'rejected' | 'superseded';
  readonly version: string;
  /** The version number in force, when it applied. */
  readonly seq?: number;
  readonly changed: boolean;
  readonly proposalId?: string;
  readonly requirements?: readonly ApprovalRequirement[];
  readonly reasons?: readonly string[];
}
