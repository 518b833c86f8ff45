import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalJson } from '@waybill/core';
import type { CellValue, Source, SourceColumn, SourceReadRequest } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { resolveBatchSize } from './lib/batching.js';
import { checkFileTable, fileStem, checkRegularFile, fileError } from './lib/file-table.js';
import { LineError, readLines } from './lib/line-reader.js';
import { resolveColumns } from './lib/identifiers.js';

/** Settings of an NDJSON source. */
export interface NdjsonSourceConfig {
  /** Path of the file (relative paths resolve against the working directory). */
  readonly path: string;
  /**
   * Columns beyond the keys of the first record (keys that only some later records carry). Records
   * without a column's key give `null`.
   */
  readonly columns?: readonly string[];
}

/** Type reported by `describe` for every NDJSON column: the file declares no types. */
export const NDJSON_COLUMN_TYPE = 'json';

/** Longest accepted line, in bytes. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

type JsonObject = { [key: string]: unknown };

/**
 * Reads one NDJSON file (one JSON object per line, https://github.com/ndjson/ndjson-spec) as one table
 * named after the file (`events.ndjson` → `events`). The columns are the keys of the first record, in
 * their order, then any declared `columns` not among them.
 *
 * Values: strings, numbers, booleans and null as they are (JSON numbers are doubles); a missing key →
 * null; a nested object or array → its RFC 8785 canonical JSON text. Blank lines are skipped. A line that
 * is not a JSON object fails the read with `ERR_WAYBILL_SOURCE_ROW_INVALID` naming the file and the line
 * number — never the line's content, which may be personal data.
 */
export class NdjsonSource implements Source {
  readonly kind = 'ndjson';
  readonly instance: string;
  readonly #where: string;
  readonly #declared: readonly string[];

  constructor(config: NdjsonSourceConfig) {
    this.instance = resolve(config.path);
    this.#where = `ndjson source ${this.instance}`;
    this.#declared = config.columns ?? [];
  }

  #invalid(line: number, what: string): WaybillError {
    return new WaybillError(
      'ERR_WAYBILL_SOURCE_ROW_INVALID',
      `${this.#where}: line ${line} ${what}; every non-blank line must be one JSON object`,
    );
  }

  /** Parses one line; the SyntaxError is dropped on purpose, since its message quotes the content. */
  #parse(line: number, text: string): JsonObject {
    let value: unknown;
    const inexact: { key: string | null } = { key: null };
    try {
      // JSON numbers become doubles: an integer beyond ±2^53 or an overflow to Infinity would change the
      // data silently, so such a line is refused (with the key, never the value).
      value = JSON.parse(text, (key: string, v: unknown) => {
        if (
          typeof v === 'number' &&
          inexact.key === null &&
          (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v)))
        ) {
          inexact.key = key;
        }
        return v;
      });
    } catch {
      throw this.#invalid(line, 'is not valid JSON');
    }
    if (inexact.key !== null) {
      throw this.#invalid(
        line,
        `holds a number in "${inexact.key}" that a double cannot hold exactly; write it as a string`,
      );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.#invalid(line, 'is JSON but not an object');
    }
    return value as JsonObject;
  }

  async *#records(signal: AbortSignal | undefined): AsyncGenerator<{ line: number; record: JsonObject }> {
    await checkRegularFile(this.#where, this.instance);
    const stream = createReadStream(this.instance, signal ? { signal } : {});
    try {
      for await (const { number, text } of readLines(stream, MAX_LINE_BYTES)) {
        if (text.trim() === '') continue;
        yield { line: number, record: this.#parse(number, text) };
      }
    } catch (err) {
      if (err instanceof LineError) {
        throw this.#invalid(
          err.line,
          err.reason === 'too-long' ? `is longer than ${MAX_LINE_BYTES} bytes` : 'is not valid UTF-8',
        );
      }
      if (signal?.aborted === true) throw signal.reason;
      if (err instanceof WaybillError) throw err;
      throw fileError(this.#where, err);
    } finally {
      stream.destroy();
    }
  }

  #columnsOf(first: JsonObject | undefined): SourceColumn[] {
    const names = first === undefined ? [] : Object.keys(first);
    for (const d of this.#declared) if (!names.includes(d)) names.push(d);
    return names.map((name) => ({ name, type: NDJSON_COLUMN_TYPE }));
  }

  /** The one table of the file: its name without the extension. */
  tables(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    return Promise.resolve([fileStem(this.instance)]);
  }

  /** The first record's keys plus the declared columns, each of type `json`. */
  async describe(table: string, options: { signal?: AbortSignal } = {}): Promise<SourceColumn[]> {
    options.signal?.throwIfAborted();
    checkFileTable(this.#where, this.instance, table);
    for await (const { record } of this.#records(options.signal)) return this.#columnsOf(record);
    return this.#columnsOf(undefined);
  }

  /** Streams the requested columns in batches, reading the file as the consumer pulls. */
  async *read(request: SourceReadRequest): AsyncGenerator<CellValue[][], void, undefined> {
    const { table, columns, signal } = request;
    const batchSize = resolveBatchSize(this.#where, request.batchSize);
    signal?.throwIfAborted();
    checkFileTable(this.#where, this.instance, table);
    let checked = false;
    let batch: CellValue[][] = [];
    for await (const { record } of this.#records(signal)) {
      if (!checked) {
        resolveColumns(this.#where, table, this.#columnsOf(record), columns);
        checked = true;
      }
      const row = new Array<CellValue>(columns.length);
      for (let i = 0; i < columns.length; i++) row[i] = cell(record, columns[i]!);
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
        signal?.throwIfAborted();
      }
    }
    if (!checked) resolveColumns(this.#where, table, this.#columnsOf(undefined), columns);
    if (batch.length > 0) yield batch;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function cell(record: JsonObject, column: string): CellValue {
  // Own properties only: `constructor` or `__proto__` must not reach into Object.prototype.
  if (!Object.hasOwn(record, column)) return null;
  const value = record[column];
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  return canonicalJson(value);
}

/**
 * Creates an NDJSON source for one file.
 *
 * @example
 * ```ts
 * const source = createNdjsonSource({ path: 'events.ndjson', columns: ['deletedAt'] });
 * for await (const batch of source.read({ table: 'events', columns: ['id', 'deletedAt'] })) { … }
 * ```
 */
export function createNdjsonSource(config: NdjsonSourceConfig): NdjsonSource {
  return new NdjsonSource(config);
}
