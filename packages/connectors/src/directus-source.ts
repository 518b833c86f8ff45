import type { CellValue, EgressRule, Source, SourceColumn, SourceReadRequest } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { resolveBatchSize } from './lib/batching.js';
import { pagedRows } from './lib/paged-rows.js';
import { apiUrl, hasStringKeys, RestClient } from './lib/rest-client.js';
import { OnceCache } from './lib/once-cache.js';

/** Settings of a Directus source. */
export interface DirectusSourceConfig {
  /** The Directus server's origin. */
  readonly apiUrl: string;
}

export interface DirectusSourceOptions {
  /** A static access token (the connection's secret). */
  readonly token: string;
  readonly egress: readonly EgressRule[];
  readonly ca?: Buffer;
}

interface DirectusField {
  readonly field: string;
  readonly type: string;
  readonly schema?: { readonly is_primary_key?: boolean } | null;
}

const PAGE_SIZE = 1000;

/**
 * Reads Directus collections through its REST API (https://directus.io/docs/api) with a static token:
 * collections from `GET /collections` (those with a database table), fields from `GET /fields/{c}`
 * (alias fields — one-to-many and many-to-many lists — hold no column and are left out), items from
 * `GET /items/{c}?fields&limit&page&sort=<primary key>` page by page until a short page. Directus
 * computes no formulas of its own; a many-to-one field arrives as the related item's key.
 */
export class DirectusSource implements Source {
  readonly kind = 'directus';
  readonly instance: string;
  readonly #api: URL;
  readonly #client: RestClient;
  #limit: number | undefined;
  readonly #fields = new OnceCache<string, DirectusField[]>();

  constructor(config: DirectusSourceConfig, o: DirectusSourceOptions) {
    this.#api = new URL(config.apiUrl);
    this.instance = this.#api.origin;
    this.#client = new RestClient({
      what: 'directus source',
      headers: { authorization: `Bearer ${o.token}` },
      egress: o.egress,
      ...(o.ca ? { ca: o.ca } : {}),
    });
  }

  async tables(options?: { signal?: AbortSignal }): Promise<string[]> {
    const body = await this.#client.getJson(apiUrl(this.#api, '/collections'), options?.signal);
    const data = body['data'];
    if (!Array.isArray(data))
      throw new WaybillError(
        'ERR_WAYBILL_SOURCE_FAILED',
        'directus source: /collections answered without "data"',
      );
    return data
      .filter((c) => hasStringKeys(c, 'collection') && c['schema'] != null)
      .map((c) => (c as { collection: string }).collection)
      .filter((name) => !name.startsWith('directus_'));
  }

  #fieldsOf(collection: string, signal?: AbortSignal): Promise<DirectusField[]> {
    return this.#fields.get(collection, async () => {
      const body = await this.#client.getJson(
        apiUrl(this.#api, `/fields/${encodeURIComponent(collection)}`),
        signal,
      );
      const data = body['data'];
      if (!Array.isArray(data) || !data.every((f) => hasStringKeys(f, 'field', 'type'))) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_FAILED',
          `directus source: the fields of "${collection}" are not a valid list`,
        );
      }
      return (data as unknown as DirectusField[]).filter((f) => f.type !== 'alias');
    });
  }

  async describe(table: string, options?: { signal?: AbortSignal }): Promise<SourceColumn[]> {
    const fields = await this.#fieldsOf(table, options?.signal);
    return fields.map((f) => ({ name: f.field, type: `directus:${f.type}` }));
  }

  async *read(request: SourceReadRequest): AsyncIterable<CellValue[][]> {
    const fields = await this.#fieldsOf(request.table, request.signal);
    for (const c of request.columns) {
      if (!fields.some((f) => f.field === c))
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `directus source: collection "${request.table}" has no field "${c}"`,
        );
    }
    const pk = fields.find((f) => f.schema?.is_primary_key)?.field;
    // 1000 items a page, unless the server caps pages lower (see limitFrom).
    let pageSize = this.#limit ?? PAGE_SIZE;
    const get = (page: number, signal: AbortSignal): Promise<Record<string, unknown>> => {
      const url = apiUrl(this.#api, `/items/${encodeURIComponent(request.table)}`);
      url.searchParams.set('fields', request.columns.join(','));
      url.searchParams.set('limit', String(pageSize));
      url.searchParams.set('page', String(page));
      // A stable order, so that pages neither skip nor repeat items.
      if (pk) url.searchParams.set('sort', pk);
      return this.#client.getJson(url, signal);
    };
    yield* pagedRows<number>({
      what: 'directus source',
      table: request.table,
      columns: request.columns,
      batchSize: resolveBatchSize('directus source', request.batchSize),
      signal: request.signal,
      first: 1,
      // The first page learns the server's cap, if it has a lower one; the next pages are asked at it.
      fetch: (page, signal) =>
        get(page, signal).catch((err: unknown) => {
          const cap = page === 1 ? limitFrom(err) : undefined;
          if (cap === undefined || cap >= pageSize) throw err;
          this.#limit = pageSize = cap;
          return get(page, signal);
        }),
      parse: (body, page) => {
        const data = body['data'];
        if (!Array.isArray(data))
          throw new WaybillError(
            'ERR_WAYBILL_SOURCE_FAILED',
            `directus source: page ${page} of "${request.table}" has no "data"`,
          );
        return { records: data, next: data.length >= pageSize ? page + 1 : undefined };
      },
    });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/**
 * A server whose `QUERY_LIMIT_MAX` is below the page asked for refuses the query with
 * `"limit" must be less than or equal to N` (400): N, or undefined for any other error.
 */
function limitFrom(err: unknown): number | undefined {
  const m = /"limit" must be less than or equal to (\d+)/.exec(err instanceof Error ? err.message : '');
  const n = m ? Number(m[1]) : 0;
  return n >= 1 ? n : undefined;
}
