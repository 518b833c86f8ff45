import { createHash } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import { FlatRecordEncoder } from '../json/canonical-json.js';
import type { CellValue } from '../ports/source.js';
import { csvLine } from './csv-encoder.js';
import type { ExportPlan, PlannedField } from './export-plan.js';

export type ExportFormat = 'csv' | 'ndjson';

/** What one batch of source rows became. */
export interface BatchResult {
  /** Encoded output lines (CSV or NDJSON). */
  readonly payload: string;
  /** `records.jsonl` lines for the written rows. */
  readonly records: string;
  /** The written records' digests, 32 bytes each, concatenated in order. */
  readonly digests: Buffer;
  readonly read: number;
  readonly filtered: number;
  readonly written: number;
}

const typeChecks: Record<string, (v: CellValue) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  number: (v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))),
  boolean: (v) => typeof v === 'boolean',
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  timestamp: (v) =>
    typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.test(v),
};

/**
 * Turns source rows into output: filter → project/compute → transform → encode → digest. Pure and
 * synchronous over one batch, so batches can be spread over worker threads and reassembled in order.
 */
export class BatchProcessor {
  private readonly encoder: FlatRecordEncoder;
  private readonly emitted: readonly PlannedField[];
  private readonly checks: ((v: CellValue) => boolean)[];

  constructor(
    private readonly plan: ExportPlan,
    private readonly format: ExportFormat,
  ) {
    this.emitted = plan.emitted;
    this.encoder = new FlatRecordEncoder(this.emitted.map((f) => f.name));
    this.checks = this.emitted.map((f) => (f.field.type ? typeChecks[f.field.type]! : () => true));
  }

  /** The payload's first bytes: the CSV header (RFC 4180 §2.3), nothing for NDJSON. */
  header(): string {
    return this.format === 'csv' ? csvLine(this.emitted.map((f) => f.name)) : '';
  }

  /** Processes one batch; `nextIndex` is the output index of the first record written from it. */
  process(rows: readonly CellValue[][], nextIndex: number, firstRowNumber: number): BatchResult {
    const { plan, emitted, encoder, checks } = this;
    const csv = this.format === 'csv';
    const filter = plan.filter;
    const inputs = plan.expressionInputs;
    const needsObject = inputs.length > 0;
    const digests = Buffer.allocUnsafe(rows.length * 32);
    const values: CellValue[] = new Array<CellValue>(emitted.length);
    let payload = '';
    let records = '';
    let written = 0;
    let filtered = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const rowNumber = firstRowNumber + r;
      let obj: Record<string, CellValue> | undefined;
      if (needsObject) {
        obj = {};
        for (const { name, index } of inputs) obj[name] = row[index] ?? null;
      }
      if (filter) {
        const keep = filter.evaluate(obj!);
        if (keep !== true) {
          filtered++;
          continue;
        }
      }
      for (let i = 0; i < emitted.length; i++) {
        const f = emitted[i]!;
        let v: CellValue = f.compute ? f.compute.evaluate(obj!) : (row[f.sourceIndex] ?? null);
        if (f.transform) v = applyTransform(f, v, rowNumber);
        if (v !== null && !checks[i]!(v)) {
          throw new WaybillError(
            'ERR_WAYBILL_VALIDATION_FAILED',
            `output field "${f.name}" at source row ${rowNumber} is not of the declared type ${f.field.type}`,
          );
        }
        values[i] = v;
      }
      const id = row[plan.recordIdIndex];
      if (id === null || id === undefined || id === '') {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_ROW_INVALID',
          `source row ${rowNumber} has no record id (column "${plan.columns[plan.recordIdIndex]}" is empty)`,
        );
      }
      const canonical = encoder.encode(values);
      const hash = createHash('sha256').update(canonical).digest();
      hash.copy(digests, written * 32);
      payload += csv ? csvLine(values) : canonical + '\n';
      let rec = `{"digest":"${hash.toString('hex')}","index":${nextIndex + written},"sourceRecordId":${JSON.stringify(String(id))}`;
      if (plan.updatedAtIndex >= 0) {
        const u = row[plan.updatedAtIndex];
        if (u !== null && u !== undefined) rec += `,"sourceUpdatedAt":${JSON.stringify(String(u))}`;
      }
      records += rec + '}\n';
      written++;
    }
    return {
      payload,
      records,
      digests: digests.subarray(0, written * 32),
      read: rows.length,
      filtered,
      written,
    };
  }
}

function applyTransform(f: PlannedField, v: CellValue, rowNumber: number): CellValue {
  try {
    return f.transform!.apply(v);
  } catch (err) {
    if (err instanceof WaybillError) {
      throw new WaybillError(err.code, `${err.message} (source row ${rowNumber})`, { cause: err });
    }
    throw err;
  }
}
