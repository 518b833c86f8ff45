import { WaybillError } from '@waybill/verify';
import type { Clock } from '../ports/clock.js';
import type { RunRecord, Store } from '../ports/store.js';
import { assertTransition, type RunStatus } from './run-status.js';

/** Persists each state change of a run before the next step starts. */
export class RunTracker {
  private seq = 1;
  readonly times: Record<'created' | 'staged' | 'validated' | 'delivered', string>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private run: RunRecord,
  ) {
    this.times = { created: run.createdAt, staged: '', validated: '', delivered: '' };
  }

  async move(
    to: RunStatus,
    patch: Partial<RunRecord> = {},
    detail: string | null = null,
  ): Promise<RunRecord> {
    assertTransition(this.run.id, this.run.status, to);
    const at = this.clock.now().toISOString();
    const ok = await this.store.updateRun(
      this.run.id,
      this.run.status,
      { ...patch, status: to, updatedAt: at },
      { runId: this.run.id, seq: ++this.seq, status: to, at, detail },
    );
    if (!ok)
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `run ${this.run.id} changed underneath (expected ${this.run.status})`,
      );
    this.run = { ...this.run, ...patch, status: to, updatedAt: at };
    if (to in this.times) this.times[to as keyof typeof this.times] = at;
    return this.run;
  }

  async fail(err: WaybillError): Promise<void> {
    if (this.run.status === 'sealed' || this.run.status === 'failed') return;
    await this.move(
      'failed',
      { errorCode: err.code, errorMessage: err.message },
      `${err.code}: ${err.message}`,
    );
  }
}
