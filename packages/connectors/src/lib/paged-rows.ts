import type { CellValue } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { appCell, prefetch } from './rest-client.js';

/** How to page through one table of an app's API (see `pagedRows`). */
export interface PagedRead<P> {
  /** For messages: `directus source`. */
  readonly what: string;
  /** The table, for messages. */
  readonly table: string;
  readonly columns: readonly string[];
  readonly batchSize: number;
  readonly signal?: AbortSignal | undefined;
  /** Where reading starts: a page number, an offset. */
  readonly first: P;
  /** Asks for one page (with the signal that also ends a page fetched ahead). */
  fetch(page: P, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** The records of an answer and the page after it (undefined on the last page); throws on a bad answer. */
  parse(body: Record<string, unknown>, page: P): { records: unknown[]; next: P | undefined };
}

/**
 * The rows of an app's table, page after page to the end, in batches: each page's records become rows
 * of `columns` (values through `appCell`) while the next page is already on its way. The page fetched
 * ahead is aborted when the reader stops early (a sample, a failed run) or is done.
 */
export async function* pagedRows<P>(read: PagedRead<P>): AsyncIterable<CellValue[][]> {
  const reading = new AbortController();
  const signal = read.signal ? AbortSignal.any([read.signal, reading.signal]) : reading.signal;
  let rows: CellValue[][] = [];
  try {
    let page = read.first;
    let next = prefetch(read.fetch(page, signal));
    for (;;) {
      const { records, next: after } = read.parse(await next, page);
      if (after !== undefined) next = prefetch(read.fetch(after, signal));
      for (const r of records) {
        if (typeof r !== 'object' || r === null)
          throw new WaybillError(
            'ERR_WAYBILL_SOURCE_ROW_INVALID',
            `${read.what}: a record of "${read.table}" is not an object`,
          );
        rows.push(read.columns.map((c) => appCell((r as Record<string, unknown>)[c])));
        if (rows.length >= read.batchSize) {
          yield rows;
          rows = [];
        }
      }
      if (after === undefined) break;
      page = after;
    }
    if (rows.length > 0) yield rows;
  } finally {
    reading.abort();
  }
}
