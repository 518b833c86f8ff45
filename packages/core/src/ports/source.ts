/** A column as the source declares it. `type` is the source's own type name (e.g. `TEXT`, `int8`). */
export interface SourceColumn {
  readonly name: string;
  readonly type: string;
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
  /** Streams rows as arrays in `columns` order, in batches. */
  read(request: SourceReadRequest): AsyncIterable<CellValue[][]>;
  close(): Promise<void>;
}
