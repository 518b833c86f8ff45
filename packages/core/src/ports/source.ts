/**
 * How a no-code app computes a column itself (formula, lookup, rollup), as its metadata says: the
 * logic that must travel with the data, recorded in the waybill and as lineage.
 */
export interface DerivedColumn {
  readonly kind: 'formula' | 'lookup' | 'rollup';
  /** The app's expression, verbatim (a formula; a rollup's aggregation). */
  readonly expression?: string;
  /** Columns of the same table it reads (a formula's references). */
  readonly references?: readonly string[];
  /** A lookup's or rollup's link column, and the linked table and its column it reads through it. */
  readonly via?: string;
  readonly linkedTable?: string;
  readonly linkedColumn?: string;
}

/** A column as the source declares it. `type` is the source's own type name (e.g. `TEXT`, `int8`). */
export interface SourceColumn {
  readonly name: string;
  readonly type: string;
  /** Set when the app computes the column (formula, lookup, rollup). */
  readonly derived?: DerivedColumn;
}

/**
 * A cell value as every source hands it over: JSON-compatible and already normalized. Integers outside
 * ±2^53 arrive as decimal strings, dates and timestamps as RFC 3339 strings, bytes as base64 strings.
 */
export type CellValue = string | number | boolean | null;

export interface SourceReadRequest {
  readonly table: string;
  /** Projection pushed down into the source: only these columns, in this order. */
  readonly columns: readonly string[];
  /** Rows per yielded batch (a hint). */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * The rows of one batch, each decoded when it is asked for (in order, once): a batch's rows then never
 * all live at once, so they die young instead of being copied by each scavenge and promoted to the old
 * generation while the batch is processed.
 */
export interface RowBatch {
  readonly length: number;
  /** Row `r` (0-based); called once per row, in order. */
  row(r: number): CellValue[];
}

/**
 * How a block of encoded rows becomes `CellValue` rows: an ES module (by URL) exporting
 * `decodeRows(bytes: Uint8Array, options, firstRowNumber: number): RowBatch` (or, decoding a whole block
 * at once, `decodeBlock(…): CellValue[][]`), and its options (structured-cloneable). Core loads it in its pipeline workers, so decoding runs off the main thread
 * while the adapter stays the only code that knows the wire format.
 */
export interface RowCodec {
  readonly module: string;
  readonly options: unknown;
}

/** Whole rows, still encoded: `rows` rows end exactly at the end of `bytes`. */
export interface EncodedRowBlock {
  readonly bytes: Uint8Array;
  readonly rows: number;
}

export interface EncodedRows {
  readonly codec: RowCodec;
  readonly blocks: AsyncIterable<EncodedRowBlock>;
}

/**
 * A place rows come from. Reads are pull-based: a consumer that stops iterating (break, throw, abort)
 * releases the underlying cursor or connection (the adapter cleans up in `finally`).
 */
export interface Source {
  /** Kind name, e.g. `sqlite`, `postgres`, `csv`, `ndjson`. */
  readonly kind: string;
  /** A non-secret description of where the data lives (file path, host/database), for the waybill. */
  readonly instance: string;
  /** The table's columns, in declaration order. Unknown table → `ERR_WAYBILL_NOT_FOUND`. */
  describe(table: string, options?: { signal?: AbortSignal }): Promise<SourceColumn[]>;
  /** The tables (and views) the source holds, by name. */
  tables(options?: { signal?: AbortSignal }): Promise<string[]>;
  /** Streams rows as arrays in `columns` order, in batches. */
  read(request: SourceReadRequest): AsyncIterable<CellValue[][]>;
  /**
   * Optional fast path: the same rows as `read`, in the same order, as encoded blocks decoded by
   * `codec` in core's workers (e.g. PostgreSQL `COPY … TO STDOUT`). Must yield exactly what `read`
   * would, value for value.
   */
  readEncoded?(request: SourceReadRequest): Promise<EncodedRows>;
  close(): Promise<void>;
}
