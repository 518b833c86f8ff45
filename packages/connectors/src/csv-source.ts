import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import type { Parser } from 'csv-parse';
import type { CellValue, Source, SourceColumn, SourceReadRequest } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { isAbortReason, resolveBatchSize } from './lib/batching.js';
import { checkFileTable, checkRegularFile, fileError } from './lib/file-table.js';
import { listNames, resolveColumns } from './lib/identifiers.js';

/** Settings of a CSV source. */
export interface CsvSourceConfig {
  /** Path of the file (relative paths resolve against the working directory). */
  readonly path: string;
  /** Field delimiter. Default `,`. */
  readonly delimiter?: string;
}

/** Type reported by `describe` for every CSV column: CSV carries text only. */
export const CSV_COLUMN_TYPE = 'text';

// A record longer than this (in characters) is refused, so an unclosed quote cannot make the parser
// buffer the rest of a large file.
const MAX_RECORD_CHARS = 16 * 1024 * 1024;

type CsvRecord = (string | null)[];

/**
 * Reads one CSV file (RFC 4180: quoted fields may hold delimiters, quotes and line breaks) as one table
 * named after the file (`people.csv` → `people`). The first record is the header and names the columns.
 *
 * Values are strings, with one rule for missing values: an empty *unquoted* field is `null`, an empty
 * quoted field (`""`) is the empty string. Empty lines are skipped; a UTF-8 byte order mark is dropped.
 * Every record must have as many fields as the header, otherwise the read fails with
 * `ERR_WAYBILL_SOURCE_ROW_INVALID` naming the file and line (never the content).
 */
export class CsvSource implements Source {
  readonly kind = 'csv';
  readonly instance: string;
  readonly #where: string;
  readonly #delimiter: string;

  constructor(config: CsvSourceConfig) {
    this.instance = resolve(config.path);
    this.#where = `csv source ${this.instance}`;
    this.#delimiter = config.delimiter ?? ',';
  }

  #rowError(err: unknown): WaybillError {
    const e = err as { code?: unknown; lines?: unknown } | null;
    const line = typeof e?.lines === 'number' ? ` at line ${e.lines}` : '';
    const code = typeof e?.code === 'string' ? e.code : 'CSV_UNKNOWN_ERROR';
    // csv-parse's message and its error object quote the offending field, so neither is passed on.
    return new WaybillError(
      'ERR_WAYBILL_SOURCE_ROW_INVALID',
      `${this.#where}: the file is not valid CSV${line} (${code}); fix the file or the delimiter setting`,
    );
  }

  #mapError(err: unknown): WaybillError {
    if (err instanceof WaybillError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && (code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE')) {
      return this.#rowError(err);
    }
    return fileError(this.#where, err);
  }

  /** Opens a parser over the file; `pipeline` forwards file errors to it and destroys both on early exit. */
  #open(): Parser {
    const parser = parse({
      delimiter: this.#delimiter,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      max_record_size: MAX_RECORD_CHARS,
      cast: (value, context) => (value === '' && !context.quoting ? null : value),
    });
    pipeline(createReadStream(this.instance), parser, () => undefined);
    return parser;
  }

  #header(record: CsvRecord | undefined): string[] {
    if (record === undefined) {
      throw new WaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', `${this.#where}: the file is empty; line 1 must be a header`);
    }
    const names = record.map((v) => v ?? '');
    const seen = new Set<string>();
    const duplicates = names.filter((n) => (seen.has(n) ? true : (seen.add(n), false)));
    if (duplicates.length > 0) {
      throw new WaybillError(
        'ERR_WAYBILL_SOURCE_ROW_INVALID',
        `${this.#where}: the header (line 1) names ${listNames([...new Set(duplicates)])} more than once; column names must be unique`,
      );
    }
    return names;
  }

  /** The header's columns, each of type `text`. */
  async describe(table: string, options: { signal?: AbortSignal } = {}): Promise<SourceColumn[]> {
    options.signal?.throwIfAborted();
    checkFileTable(this.#where, this.instance, table);
    await checkRegularFile(this.#where, this.instance);
    const parser = this.#open();
    try {
      for await (const record of parser as AsyncIterable<CsvRecord>) {
        return this.#header(record).map((name) => ({ name, type: CSV_COLUMN_TYPE }));
      }
      return this.#header(undefined).map((name) => ({ name, type: CSV_COLUMN_TYPE }));
    } catch (err) {
      throw this.#mapError(err);
    } finally {
      parser.destroy();
    }
  }

  /** Streams the requested columns in batches, reading the file as the consumer pulls. */
  async *read(request: SourceReadRequest): AsyncGenerator<CellValue[][], void, undefined> {
    const { table, columns, signal } = request;
    const batchSize = resolveBatchSize(this.#where, request.batchSize);
    signal?.throwIfAborted();
    checkFileTable(this.#where, this.instance, table);
    await checkRegularFile(this.#where, this.instance);
    const parser = this.#open();
    try {
      let positions: number[] | undefined;
      let batch: CellValue[][] = [];
      for await (const record of parser as AsyncIterable<CsvRecord>) {
        if (positions === undefined) {
          const header = this.#header(record).map((name) => ({ name, type: CSV_COLUMN_TYPE }));
          positions = resolveColumns(this.#where, table, header, columns);
          continue;
        }
        const row = new Array<CellValue>(positions.length);
        for (let i = 0; i < positions.length; i++) row[i] = record[positions[i]!] ?? null;
        batch.push(row);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
          signal?.throwIfAborted();
        }
      }
      if (positions === undefined) this.#header(undefined);
      if (batch.length > 0) yield batch;
    } catch (err) {
      if (isAbortReason(err, signal)) throw err;
      throw this.#mapError(err);
    } finally {
      parser.destroy();
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Creates a CSV source for one file.
 *
 * @example
 * ```ts
 * const source = createCsvSource({ path: 'exports/people.csv' });
 * for await (const batch of source.read({ table: 'people', columns: ['id', 'email'] })) { … }
 * ```
 */
export function createCsvSource(config: CsvSourceConfig): CsvSource {
  return new CsvSource(config);
}
