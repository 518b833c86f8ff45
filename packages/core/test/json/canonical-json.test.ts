import { test } from 'node:test';
import assert from 'node:assert/strict';
import canonicalizeModule from 'canonicalize';
import { FlatRecordEncoder, canonicalJson } from '../../src/json/canonical-json.js';

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

// The fast flat-record encoder must be byte-identical to a reference RFC 8785 implementation.
test('FlatRecordEncoder matches canonicalize on awkward keys and values', () => {
  const keys = ['b', 'a', 'é', 'Z', '\u20ac', '\ud83d\ude00', 'a_b', '10', '9', ''];
  const enc = new FlatRecordEncoder(keys);
  const samples: (string | number | boolean | null)[][] = [
    keys.map((_, i) => i),
    keys.map(() => null),
    ['x"y', 'line\nbreak', '\u0000\u001f', 'emoji 😀', 'é', 1e21, 1e-7, -0, true, false],
    [0.1 + 0.2, 123456789012345, -5, 'tab\t', '\u2028', 'ü', '', ' ', 'a', 4.5],
  ];
  for (const values of samples) {
    const obj = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    assert.equal(enc.encode(values), canonicalize(obj));
  }
});

test('FlatRecordEncoder refuses non-finite numbers', () => {
  const enc = new FlatRecordEncoder(['a']);
  assert.throws(() => enc.encode([Number.NaN]), { code: 'ERR_WAYBILL_INVALID_INPUT' });
});

test('canonicalJson sorts keys recursively (RFC 8785 §3.2.3)', () => {
  assert.equal(canonicalJson({ b: [3, { d: 1, c: 2 }], a: 'x' }), '{"a":"x","b":[3,{"c":2,"d":1}]}');
});
