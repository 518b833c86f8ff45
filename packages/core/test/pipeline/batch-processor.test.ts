import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WaybillError } from '@waybill/verify';
import { parseDefinition } from '../../src/definitions/definition-loader.js';
import { BatchProcessor } from '../../src/pipeline/batch-processor.js';
import { compilePlan } from '../../src/pipeline/export-plan.js';
import type { CellValue, RowBatch } from '../../src/ports/source.js';

const definition = parseDefinition(`apiVersion: waybill/v1
kind: ExportDefinition
name: people
owner: team:test
purposes: [testing]
source: { connection: db, table: people }
fields:
  - { name: id, from: id, classification: internal }
  - { name: country, from: country, classification: internal }
  - { name: band, compute: 'score >= 50 ? "high" : "low"', classification: internal }
filter: 'country != "XX"'
privacy: { quasiIdentifiers: [country, band], k: 2, enforce: suppress }
destination: { connection: out, path: people }
format: csv
retention: P1D
`);
const columns = ['id', 'country', 'score'].map((name) => ({ name, type: 'text' }));

function processor(): BatchProcessor {
  const plan = compilePlan(definition, columns, {
    hmacKey: () => {
      throw new Error('no keys in this test');
    },
  });
  // The combination (FR, high) is suppressed by k-anonymity.
  return new BatchProcessor(plan, 'csv', new Set(), new Set([JSON.stringify(['FR', 'high'])]));
}

const rows: CellValue[][] = [
  [1, 'US', 10],
  [2, 'XX', 90],
  [3, 'FR', 80],
  [4, 'US', 70],
  [5, 'XX', 20],
  [6, 'DE', 55],
];

/** A RowBatch over `rows` that records which rows are asked for, and can fail at one of them. */
function counting(source: CellValue[][], failAt = -1): { batch: RowBatch; asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    batch: {
      length: source.length,
      row(r) {
        asked.push(r);
        if (r === failAt) throw new WaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', `row ${r} is malformed`);
        return [...source[r]!];
      },
    },
  };
}

test('a RowBatch is read once per row, in order, through the filter and suppression, with the output of decoded rows', () => {
  const { batch, asked } = counting(rows);
  const lazy = processor().process(batch, 1);
  assert.deepEqual(asked, [0, 1, 2, 3, 4, 5]);
  const eager = processor().process(rows, 1);
  assert.deepEqual(Buffer.from(lazy.payload), Buffer.from(eager.payload));
  assert.deepEqual(Buffer.from(lazy.records), Buffer.from(eager.records));
  assert.deepEqual(lazy.leafHashes, eager.leafHashes);
  assert.deepEqual(
    { read: lazy.read, filtered: lazy.filtered, suppressed: lazy.suppressed, written: lazy.written },
    { read: 6, filtered: 2, suppressed: 1, written: 3 },
  );
  assert.equal(Buffer.from(lazy.payload).toString(), '1,US,low\r\n4,US,high\r\n6,DE,high\r\n');
});

test('a row that fails to decode stops its batch there, and the next batch starts clean', () => {
  const p = processor();
  const { batch, asked } = counting(rows, 3);
  assert.throws(() => p.process(batch, 1), /row 3 is malformed/);
  // Rows after the bad one are never decoded.
  assert.deepEqual(asked, [0, 1, 2, 3]);
  const next = p.process(rows, 7);
  const fresh = processor().process(rows, 7);
  assert.deepEqual(Buffer.from(next.payload), Buffer.from(fresh.payload));
  assert.deepEqual(Buffer.from(next.records), Buffer.from(fresh.records));
});
