import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTransform } from '../../src/transforms/index.js';
import { noKeys } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const bands = compileTransform({ type: 'bucket', boundaries: [100, 1000] }, 'lifetime_value', noKeys);

void describe('bucket', () => {
  void it('labels half-open intervals [lo, hi) as <lo, lo-hi, >=hi', () => {
    assert.equal(bands.apply(-5), '<100');
    assert.equal(bands.apply(99.999), '<100');
    assert.equal(bands.apply(100), '100-1000');
    assert.equal(bands.apply(999), '100-1000');
    assert.equal(bands.apply(1000), '>=1000');
    assert.equal(bands.apply(1e300), '>=1000');
    assert.deepEqual(bands.recorded, {
      type: 'bucket',
      boundaries: [100, 1000],
      labels: ['<100', '100-1000', '>=1000'],
    });
  });

  void it('uses the given labels', () => {
    const tiers = compileTransform(
      { type: 'bucket', boundaries: [0, 18, 65], labels: ['invalid', 'minor', 'adult', 'senior'] },
      'age',
      noKeys,
    );
    assert.equal(tiers.apply(-1), 'invalid');
    assert.equal(tiers.apply(0), 'minor');
    assert.equal(tiers.apply(17), 'minor');
    assert.equal(tiers.apply(18), 'adult');
    assert.equal(tiers.apply(65), 'senior');
  });

  void it('finds the interval for many boundaries', () => {
    const boundaries = Array.from({ length: 100 }, (_, i) => i * 10);
    const fine = compileTransform({ type: 'bucket', boundaries }, 'f', noKeys);
    for (let x = -5; x < 1005; x += 3) {
      const index = boundaries.filter((b) => b <= x).length;
      assert.equal(fine.recorded['labels'] instanceof Array, true);
      assert.equal(fine.apply(x), (fine.recorded['labels'] as string[])[index]);
    }
  });

  void it('accepts numeric strings, including integers beyond 2^53', () => {
    assert.equal(bands.apply('150'), '100-1000');
    assert.equal(bands.apply('-1.5e2'), '<100');
    assert.equal(bands.apply('.5'), '<100');
    assert.equal(bands.apply('12345678901234567890'), '>=1000');
  });

  void it('keeps null', () => {
    assert.equal(bands.apply(null), null);
  });

  void it('rejects non-numeric values without showing them', () => {
    for (const v of [
      '',
      'abc',
      '1,000',
      ' 150',
      '0x10',
      'Infinity',
      'NaN',
      '1e999',
      '१२३',
      true,
      Number.NaN,
    ]) {
      const err = expectWaybillError(() => bands.apply(v), 'ERR_WAYBILL_TRANSFORM_FAILED');
      assert.match(err.message, /bucket/);
      assert.match(err.message, /"lifetime_value"/);
      if (typeof v === 'string' && v !== '') assert.ok(!err.message.includes(v), err.message);
    }
  });

  void it('rejects bad boundaries and labels, naming the parameter', () => {
    const cases: [unknown, string][] = [
      [{ type: 'bucket' }, '"boundaries"'],
      [{ type: 'bucket', boundaries: [] }, '"boundaries"'],
      [{ type: 'bucket', boundaries: [10, 5] }, '"boundaries.1"'],
      [{ type: 'bucket', boundaries: [10, 10] }, '"boundaries.1"'],
      [{ type: 'bucket', boundaries: [1, 'x'] }, '"boundaries.1"'],
      [{ type: 'bucket', boundaries: [1, Infinity] }, '"boundaries.1"'],
      [{ type: 'bucket', boundaries: [1, 2], labels: ['a', 'b'] }, '"labels"'],
      [{ type: 'bucket', boundaries: [1, 2], labels: ['a', 'b', 3] }, '"labels.2"'],
    ];
    for (const [spec, parameter] of cases) {
      const err = expectWaybillError(
        () => compileTransform(spec as never, 'f', noKeys),
        'ERR_WAYBILL_TRANSFORM_INVALID',
      );
      assert.ok(err.message.includes(parameter), `${err.message} should name ${parameter}`);
    }
  });
});
