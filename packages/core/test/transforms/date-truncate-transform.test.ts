import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTransform } from '../../src/transforms/index.js';
import { noKeys } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const year = compileTransform({ type: 'date_truncate', unit: 'year' }, 'birth_date', noKeys);
const month = compileTransform({ type: 'date_truncate', unit: 'month' }, 'birth_date', noKeys);
const day = compileTransform({ type: 'date_truncate', unit: 'day' }, 'created_at', noKeys);

void describe('date_truncate', () => {
  void it('truncates dates and keeps them dates', () => {
    assert.equal(year.apply('1987-06-15'), '1987-01-01');
    assert.equal(month.apply('1987-06-15'), '1987-06-01');
    assert.equal(day.apply('1987-06-15'), '1987-06-15');
    assert.equal(year.apply('0001-12-31'), '0001-01-01');
    assert.equal(month.apply('2024-02-29'), '2024-02-01');
    assert.deepEqual(year.recorded, { type: 'date_truncate', unit: 'year' });
  });

  void it('truncates UTC timestamps to midnight UTC', () => {
    assert.equal(day.apply('2024-05-17T13:45:12Z'), '2024-05-17T00:00:00Z');
    assert.equal(month.apply('2024-05-17T13:45:12.123456Z'), '2024-05-01T00:00:00Z');
    assert.equal(year.apply('2024-05-17t13:45:12z'), '2024-01-01T00:00:00Z');
    assert.equal(day.apply('2024-05-17 13:45:12Z'), '2024-05-17T00:00:00Z');
  });

  void it('converts timestamps with an offset to UTC before truncating', () => {
    // 01:30 at +02:00 is 23:30 UTC the day before: a leap day.
    assert.equal(day.apply('2024-03-01T01:30:00+02:00'), '2024-02-29T00:00:00Z');
    // 22:00 at -05:00 on New Year's Eve is already next year in UTC.
    assert.equal(year.apply('1999-12-31T22:00:00-05:00'), '2000-01-01T00:00:00Z');
    assert.equal(month.apply('2023-01-31T23:59:59.999-00:30'), '2023-02-01T00:00:00Z');
    assert.equal(day.apply('2024-05-17T13:45:12+00:00'), '2024-05-17T00:00:00Z');
  });

  void it('keeps a leap second in its day', () => {
    assert.equal(day.apply('2016-12-31T23:59:60Z'), '2016-12-31T00:00:00Z');
  });

  void it('truncates date-times without an offset on their own wall clock', () => {
    assert.equal(day.apply('2024-05-17T23:59:59'), '2024-05-17T00:00:00');
    assert.equal(month.apply('2024-05-17 08:00:00.5'), '2024-05-01T00:00:00');
  });

  void it('agrees with Date for a sweep of offsets', () => {
    for (let h = -23; h <= 23; h += 5) {
      for (const m of [0, 30, 45]) {
        const sign = h < 0 ? '-' : '+';
        const offset = `${sign}${String(Math.abs(h)).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
        const input = `2021-12-31T${String(Math.abs(h) % 24).padStart(2, '0')}:17:00${offset}`;
        const expected = new Date(input).toISOString().slice(0, 10) + 'T00:00:00Z';
        assert.equal(day.apply(input), expected, input);
      }
    }
  });

  void it('keeps null', () => {
    assert.equal(year.apply(null), null);
  });

  void it('rejects unparseable strings without showing the value', () => {
    for (const v of [
      '',
      'yesterday',
      '1987-13-01',
      '1987-02-29',
      '1987-6-15',
      '1987-06-15T',
      '1987-06-15T25:00:00Z',
      '1987-06-15T10:00Z',
      '1987-06-15T10:00:00+0200',
      '1987-06-15T10:00:00.Z',
      '15/06/1987',
      '１９８７-06-15',
      '1987-06-15\u0301',
      'x'.repeat(1024 * 1024),
    ]) {
      const err = expectWaybillError(() => year.apply(v), 'ERR_WAYBILL_TRANSFORM_FAILED');
      assert.match(err.message, /date_truncate/);
      assert.match(err.message, /"birth_date"/);
      if (v !== '') assert.ok(!err.message.includes(v), err.message);
    }
  });

  void it('rejects numbers and booleans', () => {
    const err = expectWaybillError(() => year.apply(19870615), 'ERR_WAYBILL_TRANSFORM_FAILED');
    assert.match(err.message, /number/);
    assert.doesNotMatch(err.message, /19870615/);
    expectWaybillError(() => year.apply(true), 'ERR_WAYBILL_TRANSFORM_FAILED');
  });

  void it('rejects a missing or unknown unit', () => {
    for (const spec of [
      { type: 'date_truncate' },
      { type: 'date_truncate', unit: 'hour' },
      'date_truncate',
    ]) {
      const err = expectWaybillError(
        () => compileTransform(spec as never, 'd', noKeys),
        'ERR_WAYBILL_TRANSFORM_INVALID',
      );
      assert.match(err.message, /"unit"/);
    }
  });
});
