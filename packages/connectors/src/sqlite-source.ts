import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { CellValue, Source, SourceColumn, SourceReadRequest } from '@waybill/core';
import { WaybillError, wrapError } from '@waybill/verify';
import { isAbortReason, resolveBatchSize } from './lib/batching.js';
import { driverCell } from './lib/cell-values.js';
import { quoteIdentifier, resolveColumns, tableNotFound } from './lib/identifiers.js';

/** Settings of a SQLite source. */
export interface SqliteSourceConfig {
  /** Path of the database file (relative paths resolve against the working directory). */
  readonly path: string;
}

interface ActiveRead {
  readonly db: Database.Database;
  iterator: IterableIterator<unknown[]> | undefined;
  closedBySource: boolean;
}

const TABLES_SQL =
  "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
const TABLE_EXISTS_SQL = "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?";
// table_xinfo also lists generated columns (hidden 2/3); hidden 1 marks a virtual table's hidden column.
const COLUMNS_SQL = 'SELECT name, type FROM pragma_table_xinfo(?) WHERE hidden <> 1 ORDER BY cid';

/**
 * Reads tables of a SQLite database file, opened read-only. Each `read` uses its own connection, so a
 * stream never blocks `describe` or another stream, and streams rows with `iterate()` — memory does not
 * grow with the table.
 *
 * Table and column names are matched exactly (case-sensitively) against the catalog and quoted.
 * Values: INTEGER → number, or a decimal string beyond ±(2^53 − 1); REAL → number (NaN/±Infinity as
 * strings); TEXT → string; BLOB → base64 string; NULL → null. Rows come in the table's storage order.
 */
export class SqliteSource implements Source {
  readonly kind = 'sqlite';
  readonly instance: string;
  readonly #where: string;
  #db: Database.Database | undefined;
  #closed = false;
  readonly #reads = new Set<ActiveRead>();

  constructor(config: SqliteSourceConfig) {
    this.instance = resolve(config.path);
    this.#where = `sqlite source ${this.instance}`;
  }

  #open(): Database.Database {
    if (this.#closed) {
      throw new WaybillError('ERR_WAYBILL_SOURCE_FAILED', `${this.#where}: the source is closed`);
    }
    if (!existsSync(this.instance)) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `${this.#where}: the database file does not exist; check the connection's path`,
      );
    }
    try {
      return new Database(this.instance, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw this.#wrap(err, 'could not open the database');
    }
  }

  #wrap(err: unknown, doing: string): WaybillError {
    const e = err as { code?: unknown; message?: unknown } | null;
    // SQLite's own messages name files, tables and columns, never row values or secrets.
    const detail = typeof e?.code === 'string' ? ` (${e.code}: ${String(e.message)})` : '';
    return wrapError(err, 'ERR_WAYBILL_SOURCE_FAILED', `${this.#where}: ${doing}${detail}`);
  }

  #columns(db: Database.Database, table: string): SourceColumn[] {
    if (typeof table !== 'string' || db.prepare(TABLE_EXISTS_SQL).get(table) === undefined) {
      const names = db.prepare(TABLES_SQL).pluck().all().map(String);
      throw tableNotFound(this.#where, String(table), names);
    }
    const rows = db.prepare(COLUMNS_SQL).all(table) as { name: string; type: string }[];
    return rows.map((r) => ({ name: r.name, type: r.type }));
  }

  /** The table's (or view's) columns with their declared types (`''` for a column declared without one). */
  tables(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    return Promise.resolve().then(() => {
      try {
        options.signal?.throwIfAborted();
        this.#db ??= this.#open();
        return this.#db.prepare(TABLES_SQL).pluck().all().map(String);
      } catch (err) {
        if (isAbortReason(err, options.signal)) throw err;
        throw this.#wrap(err, 'could not list the tables');
      }
    });
  }

  describe(table: string, options: { signal?: AbortSignal } = {}): Promise<SourceColumn[]> {
    return Promise.resolve().then(() => {
      try {
        options.signal?.throwIfAborted();
        this.#db ??= this.#open();
        return this.#columns(this.#db, table);
      } catch (err) {
        if (isAbortReason(err, options.signal)) throw err;
        throw this.#wrap(err, `could not describe table ${JSON.stringify(table)}`);
      }
    });
  }

  /** Streams the requested columns in batches; breaking out of the loop or aborting closes the cursor. */
  async *read(request: SourceReadRequest): AsyncGenerator<CellValue[][], void, undefined> {
    const { table, columns, signal } = request;
    const batchSize = resolveBatchSize(this.#where, request.batchSize);
    signal?.throwIfAborted();
    // better-sqlite3 keeps a connection busy while a statement iterates, so each read gets its own.
    const active: ActiveRead = { db: this.#open(), iterator: undefined, closedBySource: false };
    this.#reads.add(active);
    try {
      resolveColumns(this.#where, table, this.#columns(active.db, table), columns);
      const sql = `SELECT ${columns.map(quoteIdentifier).join(', ')} FROM ${quoteIdentifier(table)}`;
      const statement = active.db.prepare(sql).raw(true).safeIntegers(true);
      const iterator = statement.iterate() as IterableIterator<unknown[]>;
      active.iterator = iterator;
      let batch: CellValue[][] = [];
      for (const row of iterator) {
        for (let i = 0; i < row.length; i++) row[i] = driverCell(row[i]);
        batch.push(row as CellValue[]);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
          // better-sqlite3 reads synchronously: give timers and sockets a turn between batches, so a
          // long export does not freeze a server that runs it in-process.
          await nextMacrotask();
          this.#checkStillOpen(active);
          signal?.throwIfAborted();
        }
      }
      // The iterator also ends when close() cut it short: that must not look like the end of the table.
      this.#checkStillOpen(active);
      if (batch.length > 0) yield batch;
    } catch (err) {
      if (isAbortReason(err, signal)) throw err;
      throw this.#wrap(err, `could not read table ${JSON.stringify(table)}`);
    } finally {
      this.#finish(active);
    }
  }

  #checkStillOpen(active: ActiveRead): void {
    if (active.closedBySource) {
      throw new WaybillError(
        'ERR_WAYBILL_SOURCE_FAILED',
        `${this.#where}: the source was closed during the read`,
      );
    }
  }

  #finish(active: ActiveRead): void {
    if (!this.#reads.delete(active)) return;
    try {
      active.iterator?.return?.();
    } finally {
      active.db.close();
    }
  }

  /** Closes the database; reads still in progress fail at their next batch. */
  close(): Promise<void> {
    this.#closed = true;
    for (const active of [...this.#reads]) {
      active.closedBySource = true;
      this.#finish(active);
    }
    this.#db?.close();
    this.#db = undefined;
    return Promise.resolve();
  }
}

/**
 * Creates a SQLite source for a database file (opened read-only, lazily on first use).
 *
 * @example
 * ```ts
 * const source = createSqliteSource({ path: 'app.sqlite' });
 * for await (const batch of source.read({ table: 'people', columns: ['id', 'email'] })) { … }
 * await source.close();
 * ```
 */
export function createSqliteSource(config: SqliteSourceConfig): SqliteSource {
  return new SqliteSource(config);
}
