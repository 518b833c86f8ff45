import { WaybillError } from '@waybill/verify';

/** Rows per batch when the request gives no hint. */
export const DEFAULT_BATCH_SIZE = 2000;
/** Upper bound of a batch, so one batch never holds an unbounded share of a table in memory. */
export const MAX_BATCH_SIZE = 50_000;

/** The batch size of a read request: the hint if valid (capped), else the default. */
export function resolveBatchSize(where: string, hint: number | undefined): number {
  if (hint === undefined) return DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(hint) || hint < 1) {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `${where}: batchSize must be a positive integer`);
  }
  return Math.min(hint, MAX_BATCH_SIZE);
}

/** True when `err` is the reason of an aborted signal (so it is rethrown as is, not wrapped). */
export function isAbortReason(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && err === signal.reason;
}
