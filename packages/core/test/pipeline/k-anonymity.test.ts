import { test } from 'node:test';
import assert from 'node:assert/strict';
import { belowK, generalizeDefinition, generalizeSpec } from '../../src/pipeline/k-anonymity.js';
import { parseDefinition } from '../../src/index.js';

test('generalization ladders: each level is coarser, and saturates', () => {
  const day = { type: 'date_truncate', unit: 'day' } as const;
  assert.deepEqual(generalizeSpec(day, 0), day);
  assert.deepEqual(generalizeSpec(day, 1), { type: 'date_truncate', unit: 'month' });
  assert.deepEqual(generalizeSpec(day, 2), { type: 'date_truncate', unit: 'year' });
  assert.deepEqual(generalizeSpec(day, 4), { type: 'date_truncate', unit: 'year' });
  assert.deepEqual(generalizeSpec({ type: 'round', places: 2 }, 3), { type: 'round', places: -1 });
  assert.deepEqual(generalizeSpec({ type: 'round' } as never, 1), { type: 'round', places: -1 });
  assert.deepEqual(generalizeSpec({ type: 'round', to: 5 }, 2), { type: 'round', to: 500 });
  assert.deepEqual(generalizeSpec({ type: 'mask_partial', keep: 'first', n: 3, char: '*' }, 2), {
    type: 'mask_partial',
    keep: 'first',
    n: 1,
    char: '*',
  });
  assert.deepEqual(generalizeSpec({ type: 'mask_partial', keep: 'first', n: 1, char: '*' }, 4), {
    type: 'mask_partial',
    keep: 'first',
    n: 0,
    char: '*',
  });
  assert.deepEqual(generalizeSpec({ type: 'bucket', boundaries: [10, 20, 30, 40, 50] }, 1), {
    type: 'bucket',
    boundaries: [10, 30, 50],
  });
  assert.deepEqual(generalizeSpec({ type: 'bucket', boundaries: [10, 20, 30, 40, 50] }, 2), {
    type: 'bucket',
    boundaries: [10, 50],
  });
  assert.equal(generalizeSpec({ type: 'bucket', boundaries: [1, 2], labels: ['a', 'b', 'c'] }, 1), null);
  assert.equal(generalizeSpec({ type: 'mask_email' }, 1), null);
});

test('generalizeDefinition touches quasi-identifiers only and says what it changed', () => {
  const d = parseDefinition(
    `apiVersion: waybill/v1
kind: ExportDefinition
name: k
owner: team:x
purposes: [research]
source: { connection: c, table: t }
fields:
  - { name: born, from: b, transform: { type: date_truncate, unit: day } }
  - { name: seen, from: s, transform: { type: date_truncate, unit: day } }
  - { name: value, from: v, transform: { type: round, places: 0 } }
privacy: { quasiIdentifiers: [born, value], k: 5, enforce: generalize }
destination: { connection: d, path: '{name}' }
format: csv
retention: P7D
`,
    'k.yaml',
  );
  const g = generalizeDefinition(d, 1);
  assert.deepEqual(g.changes, [
    'born: date_truncate day → date_truncate month',
    'value: round 0 places → round -1 places',
  ]);
  assert.deepEqual(g.definition.fields[1], d.fields[1], 'not a quasi-identifier');
  assert.deepEqual(generalizeDefinition(d, 0).changes, []);
});

test('belowK counts the records of combinations smaller than k', () => {
  const m = new Map([
    ['a', 1],
    ['b', 5],
    ['c', 2],
  ]);
  assert.deepEqual(belowK(m, 3), { records: 3, keys: ['a', 'c'] });
  assert.deepEqual(belowK(m, 1), { records: 0, keys: [] });
});
