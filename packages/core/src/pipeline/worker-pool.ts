import { Worker } from 'node:worker_threads';
import { WaybillError, type WaybillErrorCode } from '@waybill/verify';
import type { BatchReply, BatchTask, WorkerInit } from './batch-task.js';

import { createBatchHandler, type BatchHandler } from './batch-handler.js';
import { workerIsolatesOnline, workerIsolatesStarting } from './command-heaps.js';

/**
 * A worker's semi-spaces, when a command uses lean heaps (command-heaps.ts): 4 MiB each. In one series
 * of 1M-row PostgreSQL exports (before the old generation was bounded too): 4.0 s / 187 MiB at 8,
 * 4.2 s / 178 MiB at 4, 4.5 s / 170 MiB at 2, and 4.4 s / 193 MiB with V8's own growth from 1 to 8.
 */
const SEMI_SPACE_MIB = 4;

export type BatchDone = Extract<BatchReply, { ok: true }>;
type Done = BatchDone;

/** Runs batches and gives their results back as promises, in submission order of settlement. */
export interface BatchRunner {
  submit(task: BatchTask, transfer?: ArrayBuffer[]): Promise<BatchDone>;
  close(): Promise<void>;
}

/**
 * Opens the runner for an export: `workers` threads, or the calling thread itself when 0. `started`: a
 * pool started earlier (`new WorkerPool(n)`), whose threads have loaded their modules meanwhile.
 */
export async function openBatchRunner(
  workers: number,
  init: WorkerInit,
  started?: WorkerPool,
): Promise<BatchRunner> {
  if (started) {
    started.init(init);
    return started;
  }
  return workers > 0 ? new WorkerPool(workers, init) : new InlineRunner(await createBatchHandler(init));
}

/** The calling thread as the runner: the least memory (no extra V8 isolates), one core. */
class InlineRunner implements BatchRunner {
  constructor(private readonly handle: BatchHandler) {}

  submit(task: BatchTask): Promise<BatchDone> {
    const { reply } = this.handle(task);
    return reply.ok
      ? Promise.resolve(reply)
      : Promise.reject(new WaybillError(reply.code as WaybillErrorCode, reply.message));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A fixed set of batch workers. `submit` returns a promise per batch; callers keep a bounded FIFO of
 * them, so results come back in order and memory stays bounded by the number of batches in flight.
 */
export class WorkerPool implements BatchRunner {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (r: Done) => void; reject: (e: Error) => void }>();
  private next = 0;
  private failure: Error | null = null;
  /**
   * Resolves once every thread has come online (its isolate configured) or failed to: from then on the
   * young generations' growth factor is back to what the command set (command-heaps.ts). The pipeline
   * does not wait for it (its threads load their modules meanwhile).
   * @internal
   */
  readonly online: Promise<void>;

  /** Starts `size` workers; without `init`, `init()` must be called before the first batch. */
  constructor(size: number, init?: WorkerInit) {
    workerIsolatesStarting(SEMI_SPACE_MIB);
    // Threads that came online, or failed or exited before they could.
    let settled = 0;
    let allOnline: () => void = () => undefined;
    this.online = new Promise((resolve) => (allOnline = resolve));
    if (size === 0) allOnline();
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./batch-worker.js', import.meta.url), {
        workerData: init ?? null,
        // Bounded heaps: a worker holds a few batches at a time, and an export's memory must not grow
        // with its row count (the core issue: peak RSS <= 128 MiB at any size).
        resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 96 },
      });
      let reported = false;
      const settle = (): void => {
        if (reported) return;
        reported = true;
        if (++settled < size) return;
        workerIsolatesOnline();
        allOnline();
      };
      w.once('online', settle);
      w.once('error', settle);
      w.once('exit', settle);
      w.on('message', (r: BatchReply) => this.settle(r));
      w.on('error', (err) =>
        this.fail(
          new WaybillError('ERR_WAYBILL_RUN_FAILED', `a pipeline worker failed: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      w.on('exit', (code) => {
        if (code !== 0 && this.pending.size > 0)
          this.fail(new WaybillError('ERR_WAYBILL_RUN_FAILED', `a pipeline worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  /** Tells workers started without a `WorkerInit` what to run. */
  init(init: WorkerInit): void {
    for (const w of this.workers) w.postMessage({ init });
  }

  submit(task: BatchTask, transfer: ArrayBuffer[] = []): Promise<Done> {
    if (this.failure) return Promise.reject(this.failure);
    const p = new Promise<Done>((resolve, reject) => this.pending.set(task.seq, { resolve, reject }));
    // Awaited later, in order; this keeps an early failure from surfacing as an unhandled rejection.
    p.catch(() => undefined);
    this.workers[this.next++ % this.workers.length]!.postMessage(task, transfer);
    return p;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private settle(r: BatchReply): void {
    const p = this.pending.get(r.seq);
    if (!p) return;
    this.pending.delete(r.seq);
    if (r.ok) p.resolve(r);
    else p.reject(new WaybillError(r.code as WaybillErrorCode, r.message));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
