import { hash } from 'node:crypto';
import { findPii } from '../detectors/text-scanner.js';
import { WaybillError, isRfc3339 } from '@waybill/verify';
import { FlatRecordEncoder } from '../json/canonical-json.js';
import type { CellValue, RowBatch } from '../ports/source.js';
import { ByteSink } from './byte-sink.js';
import { csvLine } from './csv-encoder.js';
import type { ExportPlan, PlannedField } from './export-plan.js';
import type { TokenVaultEntry } from '../transforms/index.js';

export type ExportFormat = 'csv' | 'ndjson';

/** What one batch of source rows became. */
export interface BatchResult {
  /** Encoded output lines (CSV or NDJSON), UTF-8. */
  readonly payload: Uint8Array;
  /**
   * `records.jsonl` lines for the written rows. Without a filter every row is written, so a batch knows
   * its records' output indexes and these are the final bytes (`recordsFinal`). With a filter it cannot
   * know how many rows earlier batches wrote: each index is then {@link INDEX_MARK}, for the assembler
   * to fill in.
   */
  readonly records: Uint8Array;
  readonly recordsFinal: boolean;
  /** RFC 9162 leaf hashes, SHA-256(0x00 ‖ digest), 32 bytes each, in order. */
  readonly leafHashes: Buffer;
  readonly read: number;
  readonly filtered: number;
  /** Rows not written because k-anonymity suppresses their combination. */
  readonly suppressed: number;
  readonly written: number;
  /** Values checked against their field's declared type (nulls pass). */
  readonly typeChecked: number;
  /** Text values the output PII scan read (none of them held personal data: one would fail the batch). */
  readonly piiScanned: number;
  /** Records per combination of quasi-identifier values (empty without `privacy`). */
  readonly classes: (readonly [string, number])[];
  /** Token-vault entries of the tokens `tokenize` made in this batch (each token once per worker). */
  readonly vault: TokenVaultEntry[];
}

/** Stands for a record's output index in {@link BatchResult.records}; never appears in JSON text. */
export const INDEX_MARK = '\u0000';

const typeChecks: Record<string, (v: CellValue) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) =>
    (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  number: (v) =>
    typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))),
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
  private readonly typed: boolean[];
  private readonly required: boolean[];
  /** 0x00 ‖ digest: the RFC 9162 §2.1.1 leaf input, reused for every record. */
  private readonly leaf = Buffer.alloc(33);
  /** Output of the batch being processed, reused from batch to batch. */
  private readonly payloadSink = new ByteSink();
  private readonly recordsSink = new ByteSink();
  private leafBuffer = Buffer.allocUnsafe(0);

  private readonly scanned: boolean[];
  private readonly quasi: number[];

  constructor(
    private readonly plan: ExportPlan,
    private readonly format: ExportFormat,
    piiScan: ReadonlySet<string> = new Set(),
    private readonly suppress: ReadonlySet<string> = new Set(),
  ) {
    this.emitted = plan.emitted;
    this.scanned = this.emitted.map((f) => piiScan.has(f.name));
    const qi = plan.privacy?.quasiIdentifiers ?? [];
    this.quasi = qi.map((q) => this.emitted.findIndex((f) => f.name === q)).filter((i) => i >= 0);
    this.encoder = new FlatRecordEncoder(this.emitted.map((f) => f.name));
    this.checks = this.emitted.map((f) => (f.field.type ? typeChecks[f.field.type]! : () => true));
    this.typed = this.emitted.map((f) => f.field.type !== undefined);
    this.required = this.emitted.map((f) => f.field.required === true);
  }

  /** The payload's first bytes: the CSV header (RFC 4180 §2.3), nothing for NDJSON. */
  header(): string {
    return this.format === 'csv' ? csvLine(this.emitted.map((f) => f.name)) : '';
  }

  /** Processes one batch; `firstRowNumber` (1-based) numbers source rows in error messages. */
  process(rows: readonly CellValue[][] | RowBatch, firstRowNumber: number): BatchResult {
    const r = this.#run(asBatch(rows), firstRowNumber);
    return {
      ...r,
      payload: this.payloadSink.take(),
      records: this.recordsSink.take(),
      leafHashes: Buffer.from(this.leafBuffer.subarray(0, r.written * 32)),
    };
  }

  /**
   * `process`, with the payload, the records and the leaf hashes as views into one ArrayBuffer that owns
   * its memory: `spare` when it is large enough (the buffer of an earlier batch, handed back once
   * written), else a new one. A worker transfers that one buffer, and the main thread hands it back for
   * reuse, so batches leave no buffers behind for the garbage collector (which the main thread, that
   * allocates little, runs seldom: dead output buffers then add up to tens of megabytes).
   */
  processPacked(
    rows: readonly CellValue[][] | RowBatch,
    firstRowNumber: number,
    spare?: ArrayBuffer,
  ): BatchResult {
    const r = this.#run(asBatch(rows), firstRowNumber);
    const p = this.payloadSink.view();
    const rec = this.recordsSink.view();
    const leaves = this.leafBuffer.subarray(0, r.written * 32);
    const size = p.byteLength + rec.byteLength + leaves.byteLength;
    // Room to spare, so that a buffer handed back fits the next batches too (their sizes vary a little).
    const out = new Uint8Array(
      spare !== undefined && spare.byteLength >= size ? spare : new ArrayBuffer(size + (size >> 2)),
    );
    out.set(p, 0);
    out.set(rec, p.byteLength);
    out.set(leaves, p.byteLength + rec.byteLength);
    this.payloadSink.reset();
    this.recordsSink.reset();
    return {
      ...r,
      payload: out.subarray(0, p.byteLength),
      records: out.subarray(p.byteLength, p.byteLength + rec.byteLength),
      leafHashes: Buffer.from(out.buffer, p.byteLength + rec.byteLength, leaves.byteLength),
    };
  }

  #run(rows: RowBatch, firstRowNumber: number): Omit<BatchResult, 'payload' | 'records' | 'leafHashes'> {
    const { plan, emitted, encoder, checks } = this;
    const csv = this.format === 'csv';
    const filter = plan.filter;
    const inputs = plan.expressionInputs;
    const needsObject = inputs.length > 0;
    if (this.leafBuffer.length < rows.length * 32) this.leafBuffer = Buffer.allocUnsafe(rows.length * 32);
    const leafHashes = this.leafBuffer;
    const leaf = this.leaf;
    const values: CellValue[] = new Array<CellValue>(emitted.length);
    // Reused from batch to batch; emptied first, in case an earlier batch failed halfway.
    const payload = this.payloadSink;
    const records = this.recordsSink;
    payload.reset();
    records.reset();
    // Without a filter (or suppression), row r of this batch is output record firstRowNumber - 1 + r.
    const suppress = this.suppress;
    const final = filter === null && suppress.size === 0;
    let suppressed = 0;
    let typeChecked = 0;
    let piiScanned = 0;
    const quasi = this.quasi;
    const classes = new Map<string, number>();
    const typed = this.typed;
    const required = this.required;
    const scanned = this.scanned;
    let pendingPayload = '';
    let pendingRecords = '';
    let written = 0;
    let filtered = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows.row(r);
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
      let rowTypeChecked = 0;
      for (let i = 0; i < emitted.length; i++) {
        const f = emitted[i]!;
        let v: CellValue = f.compute ? f.compute.evaluate(obj!) : (row[f.sourceIndex] ?? null);
        if (f.transform)
          v = applyTransform(f, v, rowNumber, f.subjectIndex >= 0 ? row[f.subjectIndex] : undefined);
        if (typed[i]) rowTypeChecked++;
        if (v === null && required[i]) {
          throw new WaybillError(
            'ERR_WAYBILL_VALIDATION_FAILED',
            `validation gate output-schema: output field "${f.name}" is required, and it is empty at source row ${rowNumber}; nothing was delivered`,
          );
        }
        if (v !== null && !checks[i]!(v)) {
          throw new WaybillError(
            'ERR_WAYBILL_VALIDATION_FAILED',
            `output field "${f.name}" at source row ${rowNumber} is not of the declared type ${f.field.type}`,
          );
        }
        if (scanned[i] && typeof v === 'string') {
          piiScanned++;
          const found = v.length >= 6 ? findPii(v) : [];
          if (found.length > 0) {
            // Field and row, never the value.
            throw new WaybillError(
              'ERR_WAYBILL_VALIDATION_FAILED',
              `validation gate output-pii-scan: output field "${f.name}" at source row ${rowNumber} holds ${found[0]!.kind.replace('_', ' ')} although it should be protected; nothing was delivered`,
            );
          }
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
      if (quasi.length > 0) {
        const key = JSON.stringify(quasi.map((q) => values[q] ?? null));
        if (suppress.has(key)) {
          suppressed++;
          continue;
        }
        classes.set(key, (classes.get(key) ?? 0) + 1);
      }
      typeChecked += rowTypeChecked;
      const canonical = encoder.encode(values);
      // One-shot hashing (crypto.hash) avoids a native object per record; hex and 'binary' strings avoid
      // a Buffer allocation per call.
      const digest = hash('sha256', canonical, 'hex');
      leaf.write(digest, 1, 'hex');
      leafHashes.write(hash('sha256', leaf, 'binary'), written * 32, 'binary');
      pendingPayload += csv ? csvLine(values) : canonical + '\n';
      const idText = String(id);
      if (typeof id === 'string' && !idText.isWellFormed()) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_ROW_INVALID',
          `source row ${rowNumber}: the record id (column "${plan.columns[plan.recordIdIndex]}") is not valid Unicode (lone surrogate)`,
        );
      }
      const idJson = typeof id === 'number' ? `"${id}"` : JSON.stringify(idText);
      let rec = `{"digest":"${digest}","index":${final ? firstRowNumber - 1 + written : INDEX_MARK},"sourceRecordId":${idJson}`;
      if (plan.updatedAtIndex >= 0) {
        const u = row[plan.updatedAtIndex];
        if (u !== null && u !== undefined) rec += `,"sourceUpdatedAt":"${updatedAt(u, plan, rowNumber)}"`;
      }
      pendingRecords += rec + '}\n';
      written++;
      // Lines go to the byte sinks in small runs: fewer native writes than one per line, and no string
      // rope that lives as long as the batch.
      if (written % 128 === 0) {
        payload.write(pendingPayload);
        records.write(pendingRecords);
        pendingPayload = '';
        pendingRecords = '';
      }
    }
    payload.write(pendingPayload);
    records.write(pendingRecords);
    let vault: TokenVaultEntry[] = [];
    for (const f of emitted) {
      const drained = f.transform?.drainVault?.();
      if (drained && drained.length > 0) vault = vault.length === 0 ? drained : vault.concat(drained);
    }
    return {
      recordsFinal: final,
      read: rows.length,
      filtered,
      suppressed,
      written,
      typeChecked,
      piiScanned,
      classes: [...classes],
      vault,
    };
  }
}

/** Rows already decoded, as a {@link RowBatch}. */
function asBatch(rows: readonly CellValue[][] | RowBatch): RowBatch {
  if ('row' in rows) return rows;
  return { length: rows.length, row: (r) => rows[r]! };
}

function applyTransform(f: PlannedField, v: CellValue, rowNumber: number, subject?: CellValue): CellValue {
  try {
    return f.transform!.apply(v, subject);
  } catch (err) {
    if (err instanceof WaybillError) {
      throw new WaybillError(err.code, `${err.message} (source row ${rowNumber})`, { cause: err });
    }
    throw err;
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// `2026-12-06 11:36:23`, also with an offset as databases print it (`+00`, `+0000`, `+00:00`; NocoDB).
const SQL_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:([+-]\d{2}):?(\d{2})?|Z)?$/;

/**
 * `sourceUpdatedAt` in records.jsonl is RFC 3339 (docs/waybill-format.md), checked with the verifier's
 * own rule so that nothing is sealed that `verify` would refuse. Sources hand over what the column
 * holds: a date becomes midnight UTC, a timestamp without zone is read as UTC (as the PostgreSQL source
 * does), epoch milliseconds are converted; anything else fails the run naming column and row.
 */
function updatedAt(v: CellValue, plan: ExportPlan, rowNumber: number): string {
  let out: string | null = null;
  if (typeof v === 'string') {
    if (isRfc3339(v)) out = v;
    else if (DATE_ONLY.test(v)) out = `${v}T00:00:00Z`;
    else {
      const m = SQL_TIMESTAMP.exec(v);
      if (m) out = `${m[1]}T${m[2]}${m[3] ? `${m[3]}:${m[4] ?? '00'}` : 'Z'}`;
    }
  } else if (typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 253402300800000) {
    out = new Date(v).toISOString();
  }
  if (out !== null && isRfc3339(out)) return out;
  throw new WaybillError(
    'ERR_WAYBILL_SOURCE_ROW_INVALID',
    `source row ${rowNumber}: column "${plan.columns[plan.updatedAtIndex]}" (source.updatedAt) does not hold a valid date or timestamp`,
  );
}
