import assert from 'node:assert/strict';
import type { CellValue } from '@waybill/core';
import { WaybillError } from '@waybill/verify';

/** Every batch of a read, in order. */
export async function batches(iterable: AsyncIterable<CellValue[][]>): Promise<CellValue[][][]> {
  const out: CellValue[][][] = [];
  for await (const batch of iterable) out.push(batch);
  return out;
}

/** Every row of a read, in order. */
export async function rows(iterable: AsyncIterable<CellValue[][]>): Promise<CellValue[][]> {
  return (await batches(iterable)).flat();
}

/** Asserts a WaybillError with `code` whose message matches every pattern. */
export function isWaybillError(code: string, ...patterns: RegExp[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof WaybillError, `expected a WaybillError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}
