import { WaybillError } from '@waybill/verify';
import { SLUG_PATTERN } from '../definitions/export-definition-schema.js';
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { AuditLog } from '../audit/audit-log.js';
import { uuidv7 } from '../ids/uuid-v7.js';
import type { Clock } from '../ports/clock.js';
import type {
  ApprovalRecord,
  ApprovalRequirement,
  DefinitionVersionRecord,
  ExportRequestKind,
  ExportRequestRecord,
  ExportRequestStatus,
  PolicyDecisionRecord,
  PrincipalRecord,
  RunRecord,
  Store,
} from '../ports/store.js';
import type { Caller } from '../ports/store.js';
import type { ExportProgress, ExportResult, ExportService } from '../pipeline/export-service.js';
import { countApprovals, missingApprovals } from '../policy/approval-requirements.js';
import type { PolicyDecision, PolicyEngine } from '../policy/policy-engine.js';
import {
  definitionEntity,
  definitionUid,
  exportEntity,
  exportUid,
  principalEntity,
  principalUid,
} from '../policy/policy-entities.js';
import type { AccessGuard } from './access-guard.js';
import { rowFiltersOf, type PolicyRowFilter } from '../policy/row-filters.js';
import type { GrantService } from './grant-service.js';
import { actorOf } from './principal-service.js';

/** An export request as callers see it. */
export interface ExportView {
  readonly request: ExportRequestRecord;
  /** The requester as the log names it (`user:alice`). */
  readonly requester: string;
  readonly approvals: readonly (ApprovalRecord & { readonly approver: string; readonly valid: boolean })[];
  readonly run: RunRecord | null;
}

export interface NewExportRequest {
  readonly definition: string;
  readonly purpose: string;
  /** Turns a request that policy denies into an exception request (needs security + one more approval). */
  readonly justification?: string;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ExportProgress) => void;
  readonly workers?: number;
  readonly batchSize?: number;
}

/** A run that passed every check and was moved to `running`: call `execute` to do it. */
export interface PreparedRun {
  readonly request: ExportRequestRecord;
  execute(options?: RunOptions): Promise<ExportResult>;
}

const SLUG = SLUG_PATTERN;
const DAY_MS = 24 * 3600 * 1000;
const ZERO_APPROVALS = { total: 0, approver: 0, security: 0, admin: 0 };
const ALREADY_DECIDED = 'you already decided on this export; nobody counts twice';

/**
 * Requests, approvals and runs of exports (issue "who may export what"). Each step asks the Cedar
 * policy once, records the deciding policy ids, and is logged:
 *
 * - `request`: purpose limitation and who may ask (`export.request`, or `investigation.request` for
 *   purpose `investigation`, or `exception.request` with a justification when policy denies); then
 *   `export.run` with no approvals tells whether it is `approved` now or which approvals lift the
 *   denial (`@approvals` on the forbids that decided) → `pending_approval`; otherwise `denied`.
 * - `decide`: separation of duties (never the requester, nobody twice, an approving role the request
 *   needs), approvals expire (24 h by default) and hold only for the definition version requested.
 * - `prepareRun`: `approved`, same definition version, and `export.run` allowed now with the
 *   approvals still valid; moves the request to `running` (once: a concurrent second run is refused).
 */
export class ExportRequestService {
  private readonly approvalTtlMs: number;
  private readonly definitions = new Map<string, DefinitionVersionRecord>();

  constructor(
    private readonly o: {
      readonly store: Store;
      readonly audit: AuditLog;
      readonly clock: Clock;
      readonly guard: AccessGuard;
      readonly grants: GrantService;
      readonly exports: ExportService;
      /** How long an approval holds (default 24 h). */
      readonly approvalTtlMs?: number;
    },
  ) {
    this.approvalTtlMs = o.approvalTtlMs ?? DAY_MS;
  }

  async request(caller: Caller, input: NewExportRequest): Promise<ExportView> {
    const { definition: name, purpose } = input;
    if (!SLUG.test(name))
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `definition: "${name}" is not a definition name`);
    if (!SLUG.test(purpose))
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `purpose: "${purpose}" is not a purpose (a lowercase slug)`,
      );
    const justification = input.justification?.trim() || null;
    if (justification !== null && justification.length > 2000) {
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'justification: at most 2000 characters');
    }
    const ws = caller.workspace;
    const latestVersion = await this.o.store.latestDefinitionVersion(ws, name);
    if (latestVersion === undefined) return this.o.guard.notFound(caller, 'definition', name);
    const def = await this.definitionOf({
      workspace: ws,
      definitionName: name,
      definitionVersion: latestVersion,
    });
    // Purpose limitation is a hard rule: checked here whatever the policy says (the default policy says
    // it too, as `purpose-limitation`), and never open to an exception.
    const purposeAllowed = purpose === 'investigation' || def.body.purposes.includes(purpose);
    const now = this.o.clock.now();
    const engine = await this.o.guard.engine(caller);
    const grant = await this.o.grants.holds(ws, caller.id, name, now);
    const defEntity = await this.definitionEntityOf(def);
    const ask = (action: 'export.request' | 'exception.request' | 'investigation.request') =>
      engine.decide({
        principal: principalUid(caller.id),
        action,
        resource: definitionUid(def),
        context: { purpose, grant },
        entities: [principalEntity(caller), defEntity],
      });

    let kind: ExportRequestKind = purpose === 'investigation' ? 'investigation' : 'business';
    let status: ExportRequestStatus;
    const reasons: string[] = [];
    let requirements: ApprovalRequirement[] = [];
    let decision = ask(kind === 'investigation' ? 'investigation.request' : 'export.request');
    if (!purposeAllowed) {
      reasons.push(
        `purpose "${purpose}" is not allowed by definition "${name}" (allowed: ${def.body.purposes.join(', ')}); no exception is possible`,
      );
      if (decision.decision === 'allow')
        decision = { ...decision, decision: 'deny', policyIds: ['purpose-limitation'] };
    } else if (decision.decision === 'deny' && kind === 'business' && justification !== null) {
      if (engine.exceptionAllowed(decision)) {
        const asked = ask('exception.request');
        if (asked.decision === 'allow') {
          kind = 'exception';
          reasons.push(`requested as an exception to ${describeDenial(decision)}: ${justification}`);
          decision = asked;
        }
      } else {
        reasons.push(`no exception is possible from ${describeDenial(decision)}`);
      }
    }
    const id = uuidv7(now.getTime());
    if (decision.decision === 'deny') {
      status = 'denied';
      reasons.unshift(
        `${actorOf(caller)} may not request "${name}" for purpose "${purpose}": ${describeDenial(decision)}`,
      );
      if (
        purposeAllowed &&
        justification === null &&
        engine.exceptionAllowed(decision) &&
        kind === 'business'
      ) {
        reasons.push('to ask anyway, request it as an exception with a justification');
      }
    } else {
      const draft = this.record(id, caller, def, purpose, justification, kind, 'pending_approval', now);
      // The export does not exist yet: the question is whether such an export could run now, so it is
      // asked about a placeholder id (the same question, and answer, for every new request).
      const run = this.decideRun(
        engine,
        caller,
        { ...draft, id: 'new' },
        def,
        ZERO_APPROVALS,
        grant,
        defEntity,
      );
      if (run.decision === 'allow') {
        status = 'approved';
        decision = run;
      } else {
        const lift = engine.approvalsToLift(run);
        if (lift) {
          status = 'pending_approval';
          requirements = lift;
          reasons.push(
            ...missingApprovals(lift, ZERO_APPROVALS).map((m) => `needs ${m} (${describeDenial(run)})`),
          );
        } else {
          status = 'denied';
          reasons.unshift(`${actorOf(caller)} could not run it: ${describeDenial(run)}`);
        }
        decision = run;
      }
    }
    const rec: ExportRequestRecord = {
      ...this.record(id, caller, def, purpose, justification, kind, status, now),
      reasons,
      requirements,
      decision: toRecord(decision),
    };
    await this.o.store.transaction(async (tx) => {
      await tx.insertExportRequest(rec);
      await this.o.audit.append(tx, {
        type: 'export.requested',
        actor: actorOf(caller),
        workspace: ws,
        subjects: { export: id, definition: name },
        details: {
          version: def.version,
          purpose,
          kind,
          status,
          policyIds: rec.decision.policyIds,
          policySet: rec.decision.policySet,
          requirements,
          ...(kind === 'investigation' ? { investigation: true } : {}),
          ...(justification !== null ? { justification } : {}),
        },
      });
    });
    // Just made: no approvals, no run yet, and the requester is the caller.
    return { request: rec, requester: actorOf(caller), approvals: [], run: null };
  }

  /** Approves or rejects a pending export. */
  async decide(
    caller: Caller,
    id: string,
    input: { decision: 'approve' | 'reject'; reason: string },
  ): Promise<ExportView> {
    const reason = input.reason.trim();
    if (reason === '' || reason.length > 2000) {
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'reason: say why (1–2000 characters)');
    }
    const req = await this.find(caller, id);
    const action = input.decision === 'approve' ? 'approve' : 'reject';
    const subjects = { export: id };
    // Separation of duties, in code and not only in the (editable) policy.
    if (req.requesterId === caller.id) {
      return this.o.guard.refuse(
        caller,
        `${action} export ${id}`,
        subjects,
        undefined,
        'nobody approves their own request (separation of duties)',
      );
    }
    const approvals = (await this.o.store.listApprovals(caller.workspace, id)).filter(
      (a) => a.round === req.round,
    );
    if (approvals.some((a) => a.approverId === caller.id)) {
      return this.o.guard.refuse(caller, `${action} export ${id}`, subjects, undefined, ALREADY_DECIDED);
    }
    const def = await this.definitionOf(req);
    const d = await this.o.guard.decide(caller, 'export.approve', exportUid(req.id), {}, [
      exportEntity(req, def),
      await this.definitionEntityOf(def),
    ]);
    if (d.decision !== 'allow') return this.o.guard.refuse(caller, `${action} export ${id}`, subjects, d);
    if (!req.requirements.some((r) => r.role === 'any' || caller.roles.includes(r.role))) {
      const roles = req.requirements.map((r) => r.role).join(' or ');
      return this.o.guard.refuse(
        caller,
        `${action} export ${id}`,
        subjects,
        d,
        `it needs approval by someone with the ${roles || 'approver'} role`,
      );
    }
    if (req.status !== 'pending_approval') {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `export ${id} is ${req.status}; only a pending export takes approvals`,
      );
    }
    const now = this.o.clock.now();
    const latest = await this.o.store.latestDefinitionVersion(req.workspace, req.definitionName);
    if (latest !== req.definitionVersion) {
      await this.setStatus(req, 'void', now, ['the definition changed after the request; request it again']);
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `definition "${req.definitionName}" changed since export ${id} was requested; the request is void — request it again`,
      );
    }
    const approval: ApprovalRecord = {
      id: uuidv7(now.getTime()),
      exportId: id,
      workspace: req.workspace,
      approverId: caller.id,
      decision: input.decision,
      reason,
      roles: [...caller.roles],
      definitionVersion: req.definitionVersion,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.approvalTtlMs).toISOString(),
      round: req.round,
    };
    const requester = await this.requesterOf(req);
    const engine = await this.o.guard.engine(caller);
    const grant = await this.o.grants.holds(req.workspace, requester.id, req.definitionName, now);
    const defEntity = await this.definitionEntityOf(def);
    let twice = false;
    let next: Pick<ExportRequestRecord, 'status' | 'reasons' | 'decision'>;
    try {
      next = await this.o.store.transaction(async (tx) => {
        // Decided on what is stored now, inside the transaction: two approvals given at the same moment
        // both count, or the later one is refused and can be retried; never a lost approval.
        const current = await tx.getExportRequest(req.workspace, id);
        if (!current || current.status !== 'pending_approval' || current.round !== req.round) {
          throw new WaybillError(
            'ERR_WAYBILL_CONFLICT',
            `export ${id} changed while it was being decided; look at it again`,
          );
        }
        try {
          await tx.insertApproval(approval);
        } catch (err) {
          if (err instanceof WaybillError && err.code === 'ERR_WAYBILL_CONFLICT') twice = true;
          throw err;
        }
        const all = (await tx.listApprovals(req.workspace, id)).filter((a) => a.round === req.round);
        let n: Pick<ExportRequestRecord, 'status' | 'reasons' | 'decision'>;
        if (input.decision === 'reject') {
          n = {
            status: 'rejected',
            reasons: [`rejected by ${actorOf(caller)}: ${reason}`],
            decision: current.decision,
          };
        } else {
          const counts = countApprovals(all, req.definitionVersion, now);
          const run = this.decideRun(engine, requester, current, def, counts, grant, defEntity);
          n =
            run.decision === 'allow'
              ? { status: 'approved', reasons: [], decision: toRecord(run) }
              : {
                  status: 'pending_approval',
                  reasons: missingApprovals(current.requirements, counts).map((m) => `needs ${m}`),
                  decision: toRecord(run),
                };
        }
        const changed = await tx.updateExportRequest(
          req.workspace,
          id,
          'pending_approval',
          { ...n, updatedAt: now.toISOString() },
          current.updatedAt,
        );
        if (!changed) {
          throw new WaybillError(
            'ERR_WAYBILL_CONFLICT',
            `export ${id} changed while it was being decided; try again`,
          );
        }
        await this.o.audit.append(tx, {
          type: input.decision === 'approve' ? 'export.approved' : 'export.rejected',
          actor: actorOf(caller),
          workspace: req.workspace,
          subjects: { export: id, definition: req.definitionName },
          details: {
            version: req.definitionVersion,
            roles: approval.roles,
            reason,
            expiresAt: approval.expiresAt,
            round: req.round,
            status: n.status,
            policyIds: [...new Set([...d.policyIds, ...n.decision.policyIds])].sort(),
            ...(req.kind === 'investigation' ? { investigation: true } : {}),
          },
        });
        return n;
      });
    } catch (err) {
      // The same person deciding twice at the same moment: the database's unique key caught it.
      if (twice)
        return this.o.guard.refuse(caller, `${action} export ${id}`, subjects, undefined, ALREADY_DECIDED);
      throw err;
    }
    return this.view({ ...req, ...next, updatedAt: now.toISOString() }, caller);
  }

  /**
   * Checks that export `id` may run now, by `caller`, and moves it to `running`. 409
   * (`ERR_WAYBILL_NOT_APPROVED`) unless it is approved, its approvals are unexpired and the definition
   * is still the version approved.
   */
  async prepareRun(caller: Caller, id: string): Promise<PreparedRun> {
    const req = await this.find(caller, id);
    if (req.status !== 'approved') {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_APPROVED',
        `export ${id} is ${req.status.replace('_', ' ')}; only an approved export runs${req.reasons.length ? ` (${req.reasons.join('; ')})` : ''}`,
      );
    }
    const def = await this.definitionOf(req);
    const latest = await this.o.store.latestDefinitionVersion(req.workspace, req.definitionName);
    const now = this.o.clock.now();
    if (latest !== req.definitionVersion) {
      await this.setStatus(req, 'void', now, [
        'the definition changed after approval; its approvals are void',
      ]);
      throw new WaybillError(
        'ERR_WAYBILL_NOT_APPROVED',
        `definition "${req.definitionName}" changed after export ${id} was approved; its approvals are void — request it again`,
      );
    }
    const approvals = (await this.o.store.listApprovals(req.workspace, id)).filter(
      (a) => a.round === req.round,
    );
    const counts = countApprovals(approvals, req.definitionVersion, now);
    const engine = await this.o.guard.engine(caller);
    const grant = await this.o.grants.holds(req.workspace, caller.id, req.definitionName, now);
    const defEntity = await this.definitionEntityOf(def);
    const d = this.decideRun(engine, caller, req, def, counts, grant, defEntity);
    if (d.decision !== 'allow') {
      const lift = engine.approvalsToLift(d);
      if (lift) {
        const missing = missingApprovals(lift, counts);
        await this.setStatus(
          req,
          'pending_approval',
          now,
          missing.map((m) => `needs ${m} (earlier approvals expired)`),
          // A new round: the approvers of the expired one may approve again.
          req.round + 1,
        );
        throw new WaybillError(
          'ERR_WAYBILL_NOT_APPROVED',
          `export ${id} is no longer approved: its approvals expired; it needs ${missing.join(' and ')}`,
        );
      }
      return this.o.guard.refuse(caller, `run export ${id}`, { export: id }, d);
    }
    // Row filters of the policies that allowed it, bound to the requester's attributes (a filter on
    // an attribute the requester lacks refuses the run: never unfiltered).
    let rowFilters: PolicyRowFilter[];
    try {
      rowFilters = rowFiltersOf(engine, d, { name: caller.name, attributes: caller.attributes ?? {} });
    } catch (err) {
      await this.o.audit.appendNow({
        type: 'access.denied',
        actor: actorOf(caller),
        workspace: caller.workspace,
        subjects: { export: id },
        details: { action: `run export ${id}`, policyIds: d.policyIds, reason: (err as Error).message },
      });
      throw err;
    }
    const valid = approvals.filter(
      (a) =>
        a.decision === 'approve' &&
        a.definitionVersion === req.definitionVersion &&
        Date.parse(a.expiresAt) > now.getTime(),
    );
    const names = new Map<string, string>();
    for (const a of valid) {
      const p = await this.o.store.getPrincipal(a.approverId);
      names.set(a.approverId, p ? actorOf(p) : a.approverId);
    }
    if (
      !(await this.o.store.updateExportRequest(req.workspace, id, 'approved', {
        status: 'running',
        updatedAt: now.toISOString(),
        decision: toRecord(d),
      }))
    ) {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `export ${id} is already running or changed; look at it again`,
      );
    }
    const requester = await this.requesterOf(req);
    const running: ExportRequestRecord = { ...req, status: 'running', decision: toRecord(d) };
    return {
      request: running,
      execute: async (options: RunOptions = {}) => {
        let runId: string | null = null;
        try {
          const result = await this.o.exports.run({
            workspace: req.workspace,
            definition: req.definitionName,
            version: req.definitionVersion,
            purpose: req.purpose,
            requester: requester.name,
            actor: actorOf(caller),
            onRunCreated: async (rid) => {
              runId = rid;
              await this.o.store.updateExportRequest(req.workspace, id, 'running', {
                status: 'running',
                updatedAt: this.o.clock.now().toISOString(),
                runId: rid,
              });
            },
            authorization: {
              exportId: id,
              kind: req.kind,
              justification: req.justification,
              policyIds: d.policyIds,
              policySet: d.policySet,
              rowFilters,
              approvals: valid.map((a) => ({
                approver: names.get(a.approverId)!,
                roles: [...a.roles],
                reason: a.reason,
                approvedAt: a.createdAt,
                expiresAt: a.expiresAt,
              })),
            },
            ...options,
          });
          await this.o.store.updateExportRequest(req.workspace, id, 'running', {
            status: 'completed',
            updatedAt: this.o.clock.now().toISOString(),
            runId: result.run.id,
          });
          return result;
        } catch (err) {
          await this.o.store.updateExportRequest(req.workspace, id, 'running', {
            status: 'failed',
            updatedAt: this.o.clock.now().toISOString(),
            runId,
          });
          throw err;
        }
      },
    };
  }

  /** Cancels a pending or approved export. */
  async cancel(caller: Caller, id: string): Promise<ExportView> {
    const req = await this.find(caller, id);
    const def = await this.definitionOf(req);
    const d = await this.o.guard.decide(caller, 'export.cancel', exportUid(id), {}, [
      exportEntity(req, def),
      await this.definitionEntityOf(def),
    ]);
    if (d.decision !== 'allow') return this.o.guard.refuse(caller, `cancel export ${id}`, { export: id }, d);
    if (req.status !== 'pending_approval' && req.status !== 'approved') {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `export ${id} is ${req.status}; only a pending or approved export can be cancelled`,
      );
    }
    const now = this.o.clock.now();
    await this.o.store.transaction(async (tx) => {
      if (
        !(await tx.updateExportRequest(req.workspace, id, req.status, {
          status: 'cancelled',
          updatedAt: now.toISOString(),
        }))
      ) {
        throw new WaybillError('ERR_WAYBILL_CONFLICT', `export ${id} changed meanwhile; look at it again`);
      }
      await this.o.audit.append(tx, {
        type: 'export.cancelled',
        actor: actorOf(caller),
        workspace: req.workspace,
        subjects: { export: id, definition: req.definitionName },
      });
    });
    return this.view({ ...req, status: 'cancelled', updatedAt: now.toISOString() }, caller);
  }

  /** One export, if the caller may read it (404 otherwise, also for another workspace's). */
  async get(caller: Caller, id: string): Promise<ExportView> {
    return this.view(await this.find(caller, id), caller);
  }

  /** Exports of the caller's workspace that the caller may read, newest first. */
  async list(
    caller: Caller,
    options: { kind?: ExportRequestKind; limit?: number } = {},
  ): Promise<ExportView[]> {
    if (options.kind === 'investigation') await this.o.guard.require(caller, 'investigation.list');
    const rows = await this.o.store.listExportRequests(caller.workspace, options);
    const out: ExportView[] = [];
    for (const r of rows)
      if (await this.readable(caller, r)) out.push(await this.view(await this.reconcile(r), caller));
    return out;
  }

  private async find(caller: Caller, id: string): Promise<ExportRequestRecord> {
    const req = /^[0-9a-f-]{36}$/.test(id)
      ? await this.o.store.getExportRequest(caller.workspace, id)
      : undefined;
    if (!req || !(await this.readable(caller, req))) return this.o.guard.notFound(caller, 'export', id);
    return this.reconcile(req);
  }

  /**
   * A request left `running` by a process that died: its run was rolled back (failed) or released
   * (sealed) by the recovery of the next export; the request follows its run. A run that never got
   * created (the process died before) leaves the request `failed` after an hour.
   */
  private async reconcile(req: ExportRequestRecord): Promise<ExportRequestRecord> {
    if (req.status !== 'running') return req;
    const now = this.o.clock.now();
    let status: ExportRequestStatus | undefined;
    if (req.runId !== null) {
      const run = await this.o.store.getRun(req.workspace, req.runId);
      if (run?.status === 'sealed' && run.location !== null) status = 'completed';
      else if (run?.status === 'failed' || !run) status = 'failed';
    } else if (now.getTime() - Date.parse(req.updatedAt) > 3600_000) {
      status = 'failed';
    }
    if (!status) return req;
    await this.setStatus(req, status, now, status === 'failed' ? ['its run did not finish'] : []);
    return { ...req, status, updatedAt: now.toISOString() };
  }

  private async readable(caller: Caller, req: ExportRequestRecord): Promise<boolean> {
    const def = await this.definitionOf(req);
    const d = await this.o.guard.decide(caller, 'export.read', exportUid(req.id), {}, [
      exportEntity(req, def),
      await this.definitionEntityOf(def),
    ]);
    return d.decision === 'allow';
  }

  private decideRun(
    engine: PolicyEngine,
    principal: Caller,
    req: ExportRequestRecord,
    def: DefinitionVersionRecord,
    approvals: typeof ZERO_APPROVALS,
    grant: boolean,
    definition: EntityJson,
  ): PolicyDecision {
    return engine.decide({
      principal: principalUid(principal.id),
      action: 'export.run',
      resource: exportUid(req.id),
      context: { approvals: { ...approvals }, grant },
      entities: [principalEntity(principal), exportEntity(req, def), definition],
    });
  }

  private async setStatus(
    req: ExportRequestRecord,
    status: ExportRequestStatus,
    now: Date,
    reasons: string[],
    round?: number,
  ): Promise<void> {
    await this.o.store.transaction(async (tx) => {
      if (
        await tx.updateExportRequest(req.workspace, req.id, req.status, {
          status,
          reasons,
          updatedAt: now.toISOString(),
          ...(round !== undefined ? { round } : {}),
        })
      ) {
        await this.o.audit.append(tx, {
          type: 'export.status',
          actor: 'system',
          workspace: req.workspace,
          subjects: { export: req.id },
          details: { from: req.status, to: status, reasons, ...(round !== undefined ? { round } : {}) },
        });
      }
    });
  }

  /** The definition as the policy sees it, with the catalog's classifications of what it reads. */
  private async definitionEntityOf(def: DefinitionVersionRecord): Promise<EntityJson> {
    const catalog = await this.o.store.latestCatalog(
      def.workspace,
      def.body.source.connection,
      def.body.source.table,
    );
    return definitionEntity(def, catalog?.fields ?? {});
  }

  private async definitionOf(
    req: Pick<ExportRequestRecord, 'workspace' | 'definitionName' | 'definitionVersion'>,
  ): Promise<DefinitionVersionRecord> {
    // A definition version is immutable (its id is its digest): read once, then kept (bounded).
    const key = `${req.workspace}\0${req.definitionName}\0${req.definitionVersion}`;
    const known = this.definitions.get(key);
    if (known) return known;
    const def = await this.o.store.getDefinitionVersion(
      req.workspace,
      req.definitionName,
      req.definitionVersion,
    );
    if (def) {
      if (this.definitions.size >= 1000) this.definitions.delete(this.definitions.keys().next().value!);
      this.definitions.set(key, def);
    }
    if (!def)
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `definition "${req.definitionName}" version ${req.definitionVersion} is gone`,
      );
    return def;
  }

  private async requesterOf(req: ExportRequestRecord): Promise<PrincipalRecord> {
    const p = await this.o.store.getPrincipal(req.requesterId);
    if (!p)
      throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `the requester of export ${req.id} no longer exists`);
    return p;
  }

  private record(
    id: string,
    caller: Caller,
    def: DefinitionVersionRecord,
    purpose: string,
    justification: string | null,
    kind: ExportRequestKind,
    status: ExportRequestStatus,
    now: Date,
  ): ExportRequestRecord {
    return {
      id,
      workspace: caller.workspace,
      definitionName: def.name,
      definitionVersion: def.version,
      requesterId: caller.id,
      purpose,
      justification,
      kind,
      status,
      reasons: [],
      requirements: [],
      decision: { decision: 'deny', policyIds: [], policySet: '' },
      runId: null,
      round: 1,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
  }

  private async view(req: ExportRequestRecord, _caller: Caller): Promise<ExportView> {
    const now = this.o.clock.now();
    const requester = await this.o.store.getPrincipal(req.requesterId);
    const approvals = await this.o.store.listApprovals(req.workspace, req.id);
    const withNames = [];
    for (const a of approvals) {
      const p = await this.o.store.getPrincipal(a.approverId);
      withNames.push({
        ...a,
        approver: p ? actorOf(p) : a.approverId,
        valid:
          a.decision === 'approve' &&
          a.round === req.round &&
          a.definitionVersion === req.definitionVersion &&
          Date.parse(a.expiresAt) > now.getTime(),
      });
    }
    const run = req.runId ? ((await this.o.store.getRun(req.workspace, req.runId)) ?? null) : null;
    return {
      request: req,
      requester: requester ? actorOf(requester) : req.requesterId,
      approvals: withNames,
      run,
    };
  }
}

function describeDenial(d: PolicyDecision): string {
  if (d.errors.length > 0) return `policy errors (${d.errors.join('; ')})`;
  return d.policyIds.length > 0
    ? `policy ${d.policyIds.map((p) => `"${p}"`).join(', ')}`
    : 'no policy permits it';
}

function toRecord(d: PolicyDecision): PolicyDecisionRecord {
  return { decision: d.decision, policyIds: [...d.policyIds], policySet: d.policySet };
}
