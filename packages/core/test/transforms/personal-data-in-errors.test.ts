// Attack: a transform failure (wrong type in one row) must not copy the personal data it was protecting into an
// error message, a log line or a run report. Every wrong-type error names transform and field, never the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTransform, type TransformSpecInput } from '../../src/transforms/index.js';
import { keyRing } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const ctx = keyRing({ k: { keyId: 'k-1', secret: new Uint8Array(32).fill(7) } });

const cases: [TransformSpecInput, string | number | boolean][] = [
  [{ type: 'mask_partial', keep: 'last', n: 4 }, true],
  ['mask_email', 4155550123],
  ['mask_email', true],
  [{ type: 'hash_keyed', key: 'k' }, true],
  [{ type: 'date_truncate', unit: 'year' }, 'Jane Doe, 12 Main St'],
  [{ type: 'date_truncate', unit: 'year' }, 4155550123],
  [{ type: 'bucket', boundaries: [1] }, 'Jane Doe, 12 Main St'],
  [{ type: 'bucket', boundaries: [1] }, false],
];

void describe('personal data in transform errors', () => {
  for (const [spec, value] of cases) {
    const name = typeof spec === 'string' ? spec : spec.type;
    void it(`${name} on a ${typeof value} names the field, not the value`, () => {
      const t = compileTransform(spec, 'customer_secret_field', ctx);
      const err = expectWaybillError(() => t.apply(value), 'ERR_WAYBILL_TRANSFORM_FAILED');
      assert.ok(err.message.includes(name));
      assert.ok(err.message.includes('"customer_secret_field"'));
      assert.ok(!err.message.includes(String(value)), err.message);
      assert.equal(err.cause, undefined);
      assert.ok(!(err.stack ?? '').includes(String(value)));
    });
  }
});
