import { WaybillError, type WaybillErrorCode } from '../waybill-error.js';

/**
 * Converts a tree size or leaf index to a bigint. Log sizes pass 2^31 in practice and may pass 2^53
 * in principle (ARCHITECTURE.md, "The audit log"), so proof arithmetic is done on bigints; numbers are
 * accepted only while they are exact.
 */
export function toTreeIndex(value: bigint | number, what: string, code: WaybillErrorCode): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new WaybillError(code, `${what} must not be negative, got ${value}`);
    if (value >= 1n << 64n) throw new WaybillError(code, `${what} must be below 2^64, got ${value}`);
    return value;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new WaybillError(
      code,
      `${what} must be a non-negative safe integer (or a bigint), got ${String(value)}`,
    );
  }
  return BigInt(value);
}

/** Converts a leaf count used by in-memory or streaming builders, where `number` is always enough. */
export function toLeafCount(value: bigint | number, what: string, code: WaybillErrorCode): number {
  const big = toTreeIndex(value, what, code);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WaybillError(code, `${what} ${big} is beyond what can be streamed or held in memory`);
  }
  return Number(big);
}
