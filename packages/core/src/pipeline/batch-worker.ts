import { parentPort, workerData } from 'node:worker_threads';
import { WaybillError } from '@waybill/verify';
import type { HmacKey } from '../keys/key-ring.js';
import type { CellValue } from '../ports/source.js';
import { BatchProcessor } from './batch-processor.js';
import type { BatchReply, BatchTask, WorkerInit } from './batch-task.js';
import { compilePlan } from './export-plan.js';

// A worker thread of the export pipeline: decodes, filters, computes, transforms, encodes and hashes
// batches, so the main thread only reads and writes (STYLE.md §6; the core issue's performance notes).
const init = workerData as WorkerInit;
const port = parentPort!;
const keys = new Map<string, HmacKey>(
  init.hmacKeys.map((k) => [k.name, { keyId: k.keyId, secret: Buffer.from(k.secret) }]),
);
const plan = compilePlan(init.definition, init.columns, {
  hmacKey: (name) => {
    const k = keys.get(name);
    if (!k) throw new WaybillError('ERR_WAYBILL_KEY_NOT_FOUND', `no HMAC key named "${name}"`);
    return k;
  },
});
const processor = new BatchProcessor(plan, init.format);
type DecodeBlock = (bytes: Uint8Array, options: unknown, firstRowNumber: number) => CellValue[][];
// The source's codec module, loaded once; messages queue on the port until the listener is attached.
const decodeBlock: DecodeBlock | null = init.codec
  ? ((await import(init.codec.module)) as { decodeBlock: DecodeBlock }).decodeBlock
  : null;

port.on('message', (task: BatchTask) => {
  let reply: BatchReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const rows = task.rows ?? decodeBlock!(task.block!, init.codec!.options, task.firstRowNumber);
    const r = processor.process(rows, task.firstRowNumber);
    const leafHashes = new Uint8Array(r.leafHashes);
    // Results move to the main thread without a copy.
    transfer = [leafHashes.buffer, r.payload.buffer, r.records.buffer] as ArrayBuffer[];
    reply = {
      seq: task.seq,
      ok: true,
      payload: r.payload,
      records: r.records,
      recordsFinal: r.recordsFinal,
      leafHashes,
      read: r.read,
      filtered: r.filtered,
      written: r.written,
    };
  } catch (err) {
    const e = err instanceof WaybillError ? err : null;
    reply = {
      seq: task.seq,
      ok: false,
      code: e?.code ?? 'ERR_WAYBILL_RUN_FAILED',
      message: e?.message ?? `batch processing failed: ${(err as Error)?.message ?? String(err)}`,
    };
  }
  port.postMessage(reply, transfer);
});
