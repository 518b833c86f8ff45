import { WaybillError } from '@waybill/verify';
import type { HmacKey } from '../keys/key-ring.js';
import type { CellValue, RowBatch } from '../ports/source.js';
import { BatchProcessor } from './batch-processor.js';
import type { BatchReply, BatchTask, WorkerInit } from './batch-task.js';
import { compilePlan } from './export-plan.js';

type Decode = (bytes: Uint8Array, options: unknown, firstRowNumber: number) => RowBatch | CellValue[][];

/**
 * A `RowCodec` module's decoder: `decodeRows` (a row at a time), or a codec that only decodes whole
 * blocks (`decodeBlock`), whose rows then all live at once.
 */
async function loadCodec(module: string): Promise<Decode> {
  const m = (await import(module)) as { decodeRows?: unknown; decodeBlock?: unknown };
  if (typeof m.decodeRows === 'function') return m.decodeRows as Decode;
  if (typeof m.decodeBlock === 'function') return m.decodeBlock as Decode;
  throw new WaybillError(
    'ERR_WAYBILL_RUN_FAILED',
    `the row codec ${module} exports neither decodeRows nor decodeBlock`,
  );
}

/** Handles one batch: the reply, and the buffers it can hand over without a copy. */
export type BatchHandler = (task: BatchTask) => { reply: BatchReply; transfer: ArrayBuffer[] };

/**
 * Compiles the plan from a `WorkerInit` and returns the function that turns a batch (rows, or an
 * encoded block decoded by the source's codec module) into output. Used by the worker threads and by
 * the in-thread runner alike, so both paths are the same code.
 */
export async function createBatchHandler(init: WorkerInit): Promise<BatchHandler> {
  const keys = new Map<string, HmacKey>(
    init.hmacKeys.map((k) => [k.name, { keyId: k.keyId, secret: Buffer.from(k.secret) }]),
  );
  const plan = compilePlan(
    init.definition,
    init.columns,
    {
      hmacKey: (name) => {
        const k = keys.get(name);
        if (!k) throw new WaybillError('ERR_WAYBILL_KEY_NOT_FOUND', `no HMAC key named "${name}"`);
        return k;
      },
    },
    init.rowFilters ?? [],
  );
  const processor = new BatchProcessor(
    plan,
    init.format,
    new Set(init.piiScan ?? []),
    new Set(init.suppress ?? []),
  );
  const decode: Decode | null = init.codec ? await loadCodec(init.codec.module) : null;
  return (task) => {
    try {
      const rows = task.rows ?? decode!(task.block!, init.codec!.options, task.firstRowNumber);
      const r = processor.processPacked(rows, task.firstRowNumber, task.spare);
      const leafHashes = new Uint8Array(
        r.leafHashes.buffer,
        r.leafHashes.byteOffset,
        r.leafHashes.byteLength,
      );
      return {
        reply: {
          seq: task.seq,
          ok: true,
          payload: r.payload,
          records: r.records,
          recordsFinal: r.recordsFinal,
          leafHashes,
          read: r.read,
          filtered: r.filtered,
          suppressed: r.suppressed,
          written: r.written,
          typeChecked: r.typeChecked,
          piiScanned: r.piiScanned,
          classes: r.classes,
          vault: r.vault,
        },
        // One buffer holds all three.
        transfer: [r.payload.buffer as ArrayBuffer],
      };
    } catch (err) {
      const e = err instanceof WaybillError ? err : null;
      return {
        reply: {
          seq: task.seq,
          ok: false,
          code: e?.code ?? 'ERR_WAYBILL_RUN_FAILED',
          message: e?.message ?? `batch processing failed: ${(err as Error)?.message ?? String(err)}`,
        },
        transfer: [],
      };
    }
  };
}
