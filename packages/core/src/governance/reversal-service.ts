import type { Context } from '@cedar-policy/cedar-wasm/nodejs';
import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import { uuidv7 } from '../ids/uuid-v7.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../ports/clock.js';
import type {
  Caller,
  PolicyProposalDecision,
  ReversalKind,
  ReversalRequestRecord,
  Store,
} from '../ports/store.js';
import { countApprovals, missingApprovals } from '../policy/approval-requirements.js';
import type { PolicyDecision } from '../policy/policy-engine.js';
import { principalEntity, principalUid, workspaceUid } from '../policy/policy-entities.js';
import { decryptValue } from '../transforms/encrypt-transform.js';
import { isToken, openVaultEntry } from '../transforms/tokenize-transform.js';
import type { AccessGuard } from './access-guard.js';
import { actorOf } from './principal-service.js';

/** What asking for a reversal takes. */
export interface NewReversal {
  readonly kind: ReversalKind;
  /** The tokens (`detokenize`) or encrypted values (`decrypt`) to give back: 1 to 1000. */
  readonly items: readonly string[];
  /** `decrypt`: the key ring's key they were encrypted under. */
  readonly key?: string | undefined;
  /** Why the values are needed (recorded, shown to approvers). */
  readonly justification: string;
}

/** A reversal request as callers see it: the record, and the approvals it still needs. */
export interface ReversalView {
  readonly request: ReversalRequestRecord;
  readonly requester: string;
  readonly missing: readonly string[];
}

/** One value given back. */
export interface RevealedItem {
  readonly item: string;
  /** The original value, or null when the vault has no such token. */
  readonly value: string | null;
}

const MAX_ITEMS = 1000;
const ENCRYPTED = /^(wbe1|wbs1):[A-Za-z0-9_-]{22,5500}$/;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Reversal: giving back what `tokenize`, `encrypt` and `encrypt_deterministic` protected. It is its own,
 * approvable policy action (`reversal.request`, `reversal.approve`, `reversal.run`), never a side effect
 * of exporting: a request names the values and says why; the approvals the policy asks for (by default
 * one by `security`) follow separation of duties — never the requester, nobody twice, an approving role
 * the request needs — and hold 24 hours; then the requester, and only the requester, has the values
 * given back once. Every step is logged with counts, never with a value.
 */
export class ReversalService {
  constructor(
    private readonly o: {
      readonly store: Store;
      readonly audit: AuditLog;
      readonly clock: Clock;
      readonly guard: AccessGuard;
      readonly keys: KeyRing;
    },
  ) {}

  async request(caller: Caller, input: NewReversal): Promise<ReversalView> {
    const { kind } = input;
    if (kind !== 'detokenize' && kind !== 'decrypt')
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'kind: must be detokenize or decrypt');
    const items = [...new Set(input.items)];
    if (items.length === 0 || items.length > MAX_ITEMS)
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `items: give 1 to ${MAX_ITEMS} values`);
    items.forEach((it, i) => {
      if (kind === 'detokenize' ? !isToken(it) : !ENCRYPTED.test(it)) {
        throw new WaybillError(
          'ERR_WAYBILL_INVALID_INPUT',
          `items[${i}]: not ${kind === 'detokenize' ? 'a token (tok_ and 32 hex digits)' : 'a value encrypted by Waybill (wbe1:… or wbs1:…)'}`,
        );
      }
    });
    const key = input.key?.trim() || null;
    if (kind === 'decrypt' && key === null)
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        'key: decrypt needs the name of the key the values were encrypted under',
      );
    if (kind === 'detokenize' && key !== null)
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        'key: detokenize takes no key (the vault knows it)',
      );
    const justification = input.justification.trim();
    if (justification === '' || justification.length > 2000)
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        'justification: say why the values are needed (1–2000 characters)',
      );
    if (key !== null && !(await this.o.keys.hasHmacKey(key)))
      throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `key: no key named "${key}" in the key ring`);

    const ask = await this.asker(caller);
    const may = ask(caller, 'reversal.request', { kind, count: items.length });
    if (may.decision !== 'allow') await this.o.guard.refuse(caller, `request a ${kind}`, {}, may);
    const run = ask(caller, 'reversal.run', { kind, count: items.length, approvals: zero() });
    const engine = await this.o.guard.engine(caller);
    const lift = run.decision === 'allow' ? [] : engine.approvalsToLift(run);
    const status: ReversalRequestRecord['status'] =
      run.decision === 'allow' ? 'approved' : lift ? 'pending_approval' : 'denied';
    const at = this.o.clock.now().toISOString();
    const rec: ReversalRequestRecord = {
      id: uuidv7(),
      workspace: caller.workspace,
      kind,
      keyName: key,
      items,
      justification,
      requesterId: caller.id,
      status,
      requirements: lift ?? [],
      approvals: [],
      policyIds: [...new Set([...may.policyIds, ...run.policyIds])].sort(),
      createdAt: at,
      updatedAt: at,
    };
    await this.o.store.transaction(async (tx) => {
      await tx.insertReversal(rec);
      await this.o.audit.append(tx, {
        type: 'reversal.requested',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects: { reversal: rec.id },
        details: {
          kind,
          count: items.length,
          ...(key ? { key } : {}),
          justification,
          status,
          requirements: rec.requirements,
          policyIds: rec.policyIds,
          policySet: run.policySet,
        },
      });
    });
    return this.view(rec, actorOf(caller));
  }

  async get(caller: Caller, id: string): Promise<ReversalView> {
    const rec = await this.find(caller, id);
    if (rec.requesterId !== caller.id) await this.mayApprove(caller, `read reversal ${id}`);
    return this.view(rec);
  }

  /** The workspace's reversal requests: for those who approve them; others see their own. */
  async list(caller: Caller): Promise<ReversalView[]> {
    const all = await this.o.store.listReversals(caller.workspace);
    const ask = await this.asker(caller);
    const approver = ask(caller, 'reversal.approve', {}).decision === 'allow';
    const mine = approver ? all : all.filter((r) => r.requesterId === caller.id);
    return Promise.all(mine.map((r) => this.view(r)));
  }

  async decide(
    caller: Caller,
    id: string,
    input: { decision: 'approve' | 'reject'; reason: string },
  ): Promise<ReversalView> {
    const reason = input.reason.trim();
    if (reason === '' || reason.length > 2000)
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'reason: say why (1–2000 characters)');
    const rec = await this.find(caller, id);
    const what = `${input.decision} reversal ${id}`;
    const subjects = { reversal: id };
    if (rec.requesterId === caller.id)
      await this.o.guard.refuse(caller, what, subjects, undefined, 'nobody approves their own reversal');
    if (rec.approvals.some((a) => a.approverId === caller.id))
      await this.o.guard.refuse(
        caller,
        what,
        subjects,
        undefined,
        'you already decided on this reversal; nobody counts twice',
      );
    await this.mayApprove(caller, what);
    if (!rec.requirements.some((r) => r.role === 'any' || caller.roles.includes(r.role))) {
      await this.o.guard.refuse(
        caller,
        what,
        subjects,
        undefined,
        `it needs approval by someone with the ${rec.requirements.map((r) => r.role).join(' or ') || 'no'} role`,
      );
    }
    if (rec.status !== 'pending_approval')
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `reversal ${id} is ${rec.status}; only a pending one takes approvals`,
      );
    const at = this.o.clock.now();
    const approvals: PolicyProposalDecision[] = [
      ...rec.approvals,
      {
        approverId: caller.id,
        approver: actorOf(caller),
        decision: input.decision,
        roles: [...caller.roles],
        reason,
        at: at.toISOString(),
      },
    ];
    let status: ReversalRequestRecord['status'] = 'pending_approval';
    if (input.decision === 'reject') status = 'rejected';
    else if ((await this.runDecision(rec, approvals, at))?.decision === 'allow') status = 'approved';
    await this.o.store.transaction(async (tx) => {
      if (
        !(await tx.updateReversal(caller.workspace, id, rec.updatedAt, {
          status,
          approvals,
          updatedAt: at.toISOString(),
        }))
      )
        throw new WaybillError('ERR_WAYBILL_CONFLICT', `reversal ${id} changed meanwhile; look at it again`);
      await this.o.audit.append(tx, {
        type: input.decision === 'approve' ? 'reversal.approved' : 'reversal.rejected',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects,
        details: { reason, roles: [...caller.roles], status },
      });
    });
    return this.view({ ...rec, status, approvals, updatedAt: at.toISOString() });
  }

  /**
   * Gives the values back to the requester, once: the request must be approved, its approvals still
   * valid, and `reversal.run` allowed now.
   */
  async reveal(caller: Caller, id: string): Promise<{ view: ReversalView; items: RevealedItem[] }> {
    const rec = await this.find(caller, id);
    const subjects = { reversal: id };
    if (rec.requesterId !== caller.id)
      await this.o.guard.refuse(
        caller,
        `reveal reversal ${id}`,
        subjects,
        undefined,
        'only the requester has the values given back',
      );
    if (rec.status !== 'approved') {
      throw new WaybillError(
        rec.status === 'pending_approval' ? 'ERR_WAYBILL_NOT_APPROVED' : 'ERR_WAYBILL_CONFLICT',
        rec.status === 'pending_approval'
          ? `reversal ${id} is not approved yet: ${missing(rec, this.o.clock.now()).join('; ')}`
          : `reversal ${id} is ${rec.status}${rec.status === 'revealed' ? ': values are given back once; request again' : ''}`,
      );
    }
    const now = this.o.clock.now();
    const d = await this.runDecision(rec, rec.approvals, now);
    if (d?.decision !== 'allow') {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_APPROVED',
        `reversal ${id}: its approvals no longer hold (they last ${DAY_MS / 3600000} hours) or the policy changed; request again`,
      );
    }
    const items = await this.open(rec);
    const at = now.toISOString();
    await this.o.store.transaction(async (tx) => {
      if (
        !(await tx.updateReversal(caller.workspace, id, rec.updatedAt, {
          status: 'revealed',
          approvals: rec.approvals,
          updatedAt: at,
        }))
      )
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `reversal ${id} changed meanwhile (revealed already?)`,
        );
      await this.o.audit.append(tx, {
        type: 'reversal.revealed',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects,
        details: {
          kind: rec.kind,
          count: items.length,
          found: items.filter((i) => i.value !== null).length,
          policyIds: d.policyIds,
          policySet: d.policySet,
          approvedBy: rec.approvals.filter((a) => a.decision === 'approve').map((a) => a.approver),
        },
      });
    });
    return { view: await this.view({ ...rec, status: 'revealed', updatedAt: at }), items };
  }

  private async open(rec: ReversalRequestRecord): Promise<RevealedItem[]> {
    if (rec.kind === 'decrypt') {
      const { secret } = await this.o.keys.hmacKey(rec.keyName!);
      return rec.items.map((item, i) => {
        try {
          return { item, value: decryptValue(item, secret) };
        } catch (err) {
          throw new WaybillError(
            'ERR_WAYBILL_INVALID_INPUT',
            `items[${i}]: does not open under key "${rec.keyName}" (tampered with, or another key)`,
            { cause: err },
          );
        }
      });
    }
    const found = new Map((await this.o.store.findTokens(rec.workspace, rec.items)).map((e) => [e.token, e]));
    const secrets = new Map<string, Uint8Array>();
    const out: RevealedItem[] = [];
    for (const item of rec.items) {
      const e = found.get(item);
      if (!e) {
        out.push({ item, value: null });
        continue;
      }
      let secret = secrets.get(e.keyName);
      if (!secret) {
        const k = await this.o.keys.hmacKey(e.keyName);
        if (k.keyId !== e.keyId)
          throw new WaybillError(
            'ERR_WAYBILL_KEY_NOT_FOUND',
            `the vault entry of ${item} was made with key ${e.keyId}, which is no longer the key "${e.keyName}"`,
          );
        secret = k.secret;
        secrets.set(e.keyName, secret);
      }
      out.push({ item, value: openVaultEntry(e, secret) });
    }
    return out;
  }

  private async runDecision(
    rec: ReversalRequestRecord,
    approvals: readonly PolicyProposalDecision[],
    now: Date,
  ): Promise<PolicyDecision | undefined> {
    const requester = await this.o.store.getPrincipal(rec.requesterId);
    if (!requester) return undefined;
    const ask = await this.asker(requester);
    return ask(requester, 'reversal.run', {
      kind: rec.kind,
      count: rec.items.length,
      approvals: { ...counts(rec, approvals, now) },
    });
  }

  private async asker(caller: Caller) {
    const engine = await this.o.guard.engine(caller);
    return (
      who: Caller,
      action: 'reversal.request' | 'reversal.run' | 'reversal.approve',
      context: Context,
    ) =>
      engine.decide({
        principal: principalUid(who.id),
        action,
        resource: workspaceUid(who.workspace),
        context,
        entities: [principalEntity(who)],
      });
  }

  private async mayApprove(caller: Caller, what: string): Promise<void> {
    const ask = await this.asker(caller);
    const d = ask(caller, 'reversal.approve', {});
    if (d.decision !== 'allow') await this.o.guard.refuse(caller, what, {}, d);
  }

  private async find(caller: Caller, id: string): Promise<ReversalRequestRecord> {
    const rec = await this.o.store.getReversal(caller.workspace, id);
    return rec ?? this.o.guard.notFound(caller, 'reversal', id);
  }

  private async view(rec: ReversalRequestRecord, requester?: string): Promise<ReversalView> {
    const who = requester ?? (await this.o.store.getPrincipal(rec.requesterId));
    return {
      request: rec,
      requester: typeof who === 'string' ? who : who ? actorOf(who) : rec.requesterId,
      missing: rec.status === 'pending_approval' ? missing(rec, this.o.clock.now()) : [],
    };
  }
}

/** A reversal request as JSON (HTTP answers, `--json`): no principal ids, items counted. */
export function reversalJson(v: ReversalView) {
  const r = v.request;
  return {
    id: r.id,
    kind: r.kind,
    key: r.keyName,
    count: r.items.length,
    items: [...r.items],
    justification: r.justification,
    requester: v.requester,
    status: r.status,
    requirements: r.requirements.map((q) => ({ role: q.role, count: q.count })),
    missing: [...v.missing],
    approvals: r.approvals.map((a) => ({
      approver: a.approver,
      decision: a.decision,
      reason: a.reason,
      at: a.at,
    })),
    policyIds: [...r.policyIds],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** {@link reversalJson}'s shape. */
export type ReversalJson = ReturnType<typeof reversalJson>;

const zero = () => ({ total: 0, approver: 0, security: 0, admin: 0 });

function counts(rec: ReversalRequestRecord, approvals: readonly PolicyProposalDecision[], now: Date) {
  return countApprovals(
    approvals.map((a, i) => ({
      id: String(i),
      exportId: rec.id,
      workspace: rec.workspace,
      approverId: a.approverId,
      decision: a.decision,
      reason: a.reason,
      roles: a.roles,
      definitionVersion: rec.id,
      createdAt: a.at,
      expiresAt: new Date(Date.parse(a.at) + DAY_MS).toISOString(),
      round: 1,
    })),
    rec.id,
    now,
  );
}

function missing(rec: ReversalRequestRecord, now: Date): string[] {
  return missingApprovals(rec.requirements, counts(rec, rec.approvals, now));
}
