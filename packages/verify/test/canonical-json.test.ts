// RFC 8785 examples: §3.2.2.3 number serialization and §3.2.3 member sorting by UTF-16 code units.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, formatRecordLine, parseRecordLine } from '../src/index.js';

describe('RFC 8785 canonical JSON', () => {
  it('sorts members by UTF-16 code units and drops whitespace', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    assert.equal(
      canonicalJson(value),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    assert.equal(
      canonicalJson({ b: [1, { d: true, c: null }], a: 'x' }),
      '{"a":"x","b":[1,{"c":null,"d":true}]}',
    );
  });

  it('serializes numbers as ECMAScript does (§3.2.2.3)', () => {
    assert.equal(
      canonicalJson([0, -0, 1e21, 1e-7, 333333333.3333333, 4.5, 2e-3, 9007199254740992]),
      '[0,0,1e+21,1e-7,333333333.3333333,4.5,0.002,9007199254740992]',
    );
  });

  it('refuses values without a canonical form', () => {
    for (const bad of [NaN, Infinity, undefined, 1n, '\ud800', new Date(0), () => 1, { a: undefined }]) {
      assert.throws(() => canonicalJson(bad), { code: 'ERR_WAYBILL_INVALID_INPUT' });
    }
  });
});

describe('records.jsonl lines', () => {
  const digest = 'a'.repeat(64);
  it('round-trips canonical lines', () => {
    const line = formatRecordLine({
      sourceRecordId: '7',
      index: 3,
      digest,
      sourceUpdatedAt: '2025-06-01T12:00:00.5+02:00',
    });
    assert.equal(
      line,
      `{"digest":"${digest}","index":3,"sourceRecordId":"7","sourceUpdatedAt":"2025-06-01T12:00:00.5+02:00"}`,
    );
    assert.deepEqual(parseRecordLine(line).index, 3);
  });

  it('rejects malformed or non-canonical lines', () => {
    for (const line of [
      `{"index":3,"digest":"${digest}","sourceRecordId":"7"}`,
      `{"digest":"${digest}", "index":3,"sourceRecordId":"7"}`,
      `{"digest":"${digest.toUpperCase()}","index":3,"sourceRecordId":"7"}`,
      `{"digest":"${digest}","index":-1,"sourceRecordId":"7"}`,
      `{"digest":"${digest}","index":1.5,"sourceRecordId":"7"}`,
      `{"digest":"${digest}","index":3,"sourceRecordId":7}`,
      `{"digest":"${digest}","index":3,"sourceRecordId":"7","sourceUpdatedAt":"yesterday"}`,
      `{"digest":"${digest}","extra":1,"index":3,"sourceRecordId":"7"}`,
      `{"digest":"${digest}","index":3,"sourceRecordId":"\\ud800"}`,
      `[]`,
      `{`,
    ]) {
      assert.throws(() => parseRecordLine(line), { code: 'ERR_WAYBILL_RECORDS_MISMATCH' }, line);
    }
  });
});
