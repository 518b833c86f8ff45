import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { RunRecord, Store } from '../ports/store.js';
import { assertTransition, type RunStatus } from './run-status.js';

/**
 * Persists each state change of a run before the next step starts, each in one transaction with its
 * audit event (`run.created`, `run.staged`, … `run.failed`): no transition without its entry.
 */
export class RunTracker {
  private seq = 1;
  readonly times: Record<'created' | 'staged' | 'validated' | 'delivered', string>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private run: RunRecord,
    private readonly audit: AuditLog,
    private readonly actor: string,
  ) {
    this.times = { created: run.createdAt, staged: '', validated: '', delivered: '' };
  }

  get current(): RunRecord {
    return this.run;
  }

  /** Stores the new run (`created`) with its audit event. */
  async create(): Promise<void> {
    const r = this.run;
    await this.store.transaction(async (tx) => {
      await tx.insertRun(r, { runId: r.id, seq: 1, status: 'created', at: r.createdAt, detail: null });
      await this.audit.append(tx, {
        ...this.event('created'),
        details: { definitionVersion: r.definitionVersion, purpose: r.purpose, requester: r.requester },
      });
    });
  }

  /** Moves the run to `to`; returns the audit entry index of the transition. */
  async move(
    to: RunStatus,
    patch: Partial<RunRecord> = {},
    detail: string | null = null,
    details: Record<string, unknown> = {},
  ): Promise<{ run: RunRecord; auditIndex: number }> {
    assertTransition(this.run.id, this.run.status, to);
    const at = this.clock.now().toISOString();
    const from = this.run.status;
    const auditIndex = await this.store.transaction(async (tx) => {
      const ok = await tx.updateRun(
        this.run.id,
        from,
        { ...patch, status: to, updatedAt: at },
        { runId: this.run.id, seq: this.seq + 1, status: to, at, detail },
      );
      if (!ok)
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `run ${this.run.id} changed underneath (expected ${from})`,
        );
      const [entry] = await this.audit.append(tx, { ...this.event(to), details });
      return entry!.index;
    });
    this.seq++;
    this.run = { ...this.run, ...patch, status: to, updatedAt: at };
    if (to in this.times) this.times[to as keyof typeof this.times] = at;
    return { run: this.run, auditIndex };
  }

  async fail(err: WaybillError): Promise<void> {
    if (this.run.status === 'failed') return;
    await this.move(
      'failed',
      { errorCode: err.code, errorMessage: err.message, location: null },
      `${err.code}: ${err.message}`,
      { code: err.code, message: err.message, from: this.run.status },
    );
  }

  private event(status: RunStatus): {
    type: string;
    actor: string;
    workspace: string;
    subjects: Record<string, string>;
  } {
    return {
      type: `run.${status}`,
      actor: this.actor,
      workspace: this.run.workspace,
      subjects: { run: this.run.id, definition: this.run.definitionName },
    };
  }
}
