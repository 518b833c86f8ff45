import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { CellValue, Source, SourceColumn, SourceReadRequest } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { resolveBatchSize } from './lib/batching.js';
import { CsvFormatError, CsvRecordReader } from './lib/csv-record-reader.js';
import type { CsvRecord } from './lib/csv-record-reader.js';
import { checkFileTable, fileStem, checkRegularFile, fileError } from './lib/file-table.js';
import { listNames, resolveColumns } from './lib/identifiers.js';
import { validUtf8Prefix } from './lib/utf8.js';

/** Settings of a CSV source. */
export interface CsvSourceConfig {
  /** Path of the file (relative paths resolve against the working directory). */
  readonly path: string;
  /** Field delimiter, one character (`,` `;` `\t` `|` …). Default `,`. */
  readonly delimiter?: string;
}

/** Type reported by `describe` for every CSV column: CSV carries text only. */
export const CSV_COLUMN_TYPE = 'text';

// A record longer than this (in characters) is refused, so an unclosed quote cannot make the reader
// buffer the rest of a large file.
const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/**
 * Reads one UTF-8 CSV file (RFC 4180: quoted fields may hold delimiters, doubled quotes and line breaks;
 * records end at CRLF, LF or CR) as one table named after the file (`people.csv` → `people`). The first
 * record is the header and names the columns.
 *
 * Values are strings, with one rule for missing values: an empty *unquoted* field is `null`, an empty
 * quoted field (`""`) is the empty string. Empty lines are skipped; a byte order mark is dropped. Every
 * record must have as many fields as the header; that, a stray quote, an unclosed quote or invalid
 * UTF-8 fails the read with `ERR_WAYBILL_SOURCE_ROW_INVALID` naming the file and line (never the
 * content).
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

  #mapError(err: unknown): WaybillError {
    if (err instanceof WaybillError) return err;
    if (err instanceof CsvFormatError) {
      return new WaybillError(
        'ERR_WAYBILL_SOURCE_ROW_INVALID',
        `${this.#where}: line ${err.line} is not valid CSV: ${err.reason}; fix the file or the delimiter setting`,
      );
    }
    return fileError(this.#where, err);
  }

  /** Records of the file as it is read; the file is closed when the consumer stops. */
  async *#records(signal: AbortSignal | undefined): AsyncGenerator<CsvRecord[]> {
    await checkRegularFile(this.#where, this.instance);
    const reader = new CsvRecordReader(this.#delimiter, MAX_RECORD_CHARS);
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const stream = createReadStream(this.instance, signal ? { signal } : {});
    let previous: Buffer = Buffer.alloc(0);
    // On invalid UTF-8, parse up to the bad byte first, so the error names the line it is on.
    const decode = (chunk: Buffer | undefined, out: CsvRecord[]): string => {
      try {
        return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
      } catch {
        const bytes = Buffer.concat([previous.subarray(validUtf8Prefix(previous)), chunk ?? Buffer.alloc(0)]);
        reader.push(new TextDecoder().decode(bytes.subarray(0, validUtf8Prefix(bytes))), out);
        throw new CsvFormatError('the file is not valid UTF-8', reader.line);
      }
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const out: CsvRecord[] = [];
        reader.push(decode(chunk, out), out);
        previous = chunk;
        if (out.length > 0) yield out;
      }
      const out: CsvRecord[] = [];
      reader.push(decode(undefined, out), out);
      reader.end(out);
      if (out.length > 0) yield out;
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      throw this.#mapError(err);
    } finally {
      stream.destroy();
    }
  }

  #header(record: CsvRecord | undefined): string[] {
    if (record === undefined) {
      throw new WaybillError(
        'ERR_WAYBILL_SOURCE_ROW_INVALID',
        `${this.#where}: the file is empty; line 1 must be a header`,
      );
    }
    const names = record.map((v) => v ?? '');
    const seen = new Set<string>();
    const duplicates = names.filter((n) => (seen.has(n) ? true : (seen.add(n), false)));
    if (duplicates.length > 0) {
      throw new WaybillError(
        'ERR_WAYBILL_SOURCE_ROW_INVALID',
        `${this.#where}: the header names ${listNames([...new Set(duplicates)])} more than once; column names must be unique`,
      );
    }
    return names;
  }

  /** The one table of the file: its name without the extension. */
  tables(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    return Promise.resolve([fileStem(this.instance)]);
  }

  /** The header's columns, each of type `text`. */
  async describe(table: string, options: { signal?: AbortSignal } = {}): Promise<SourceColumn[]> {
    options.signal?.throwIfAborted();
    checkFileTable(this.#where, this.instance, table);
    for await (const records of this.#records(options.signal)) {
      return this.#header(records[0]).map((name) => ({ name, type: CSV_COLUMN_TYPE }));
    }
    return this.#header(undefined).map((name) => ({ name, type: CSV_COLUMN_TYPE }));
  }

  /** Streams the requested columns in batches, reading the file as the consumer pulls. */
  async *read(request: SourceReadRequest): AsyncGenerator<CellValue[][], void, undefined> {
    const { table, columns, signal } = request;
    const batchSize = resolveBatchSize(this.#where, request.batchSize);
    signal?.throwIfAborted();
    checkFileTable(this.#where, this.instance, table);
    let positions: number[] | undefined;
    let batch: CellValue[][] = [];
    for await (const records of this.#records(signal)) {
      let start = 0;
      if (positions === undefined) {
        const header = this.#header(records[0]).map((name) => ({ name, type: CSV_COLUMN_TYPE }));
        positions = resolveColumns(this.#where, table, header, columns);
        start = 1;
      }
      for (let r = start; r < records.length; r++) {
        const record = records[r]!;
        const row = new Array<CellValue>(positions.length);
        for (let i = 0; i < positions.length; i++) row[i] = record[positions[i]!] ?? null;
        batch.push(row);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
          signal?.throwIfAborted();
        }
      }
    }
    if (positions === undefined) this.#header(undefined);
    if (batch.length > 0) yield batch;
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
