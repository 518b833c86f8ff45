import assert from 'node:assert/strict';
import { WaybillError, type WaybillErrorCode } from '@waybill/verify';

/** Runs `fn`, asserts it throws a WaybillError with `code`, and returns the error for further checks. */
export function expectWaybillError(fn: () => unknown, code: WaybillErrorCode): WaybillError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof WaybillError, `expected a WaybillError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code} to be thrown`);
}
