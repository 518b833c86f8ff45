import type {
  CellValue,
  DerivedColumn,
  EgressRule,
  Source,
  SourceColumn,
  SourceReadRequest,
} from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { resolveBatchSize } from './lib/batching.js';
import { pagedRows } from './lib/paged-rows.js';
import { apiUrl, hasStringKeys, RestClient } from './lib/rest-client.js';
import { OnceCache } from './lib/once-cache.js';

/** Settings of a NocoDB source. */
export interface NocodbSourceConfig {
  /** The NocoDB server's origin (`https://app.nocodb.com` or a self-hosted one). */
  readonly apiUrl: string;
  /** The base (`p…`) whose tables are read. */
  readonly baseId: string;
}

export interface NocodbSourceOptions {
  /** An API token (`xc-token`; the connection's secret). */
  readonly token: string;
  readonly egress: readonly EgressRule[];
  readonly ca?: Buffer;
}

interface NocoColumn {
  readonly id: string;
  readonly title: string;
  readonly uidt: string;
  readonly pk?: boolean;
  readonly system?: boolean;
  readonly colOptions?: Record<string, unknown> | null;
}
interface NocoTable {
  readonly id: string;
  readonly title: string;
  readonly columns: readonly NocoColumn[];
}

const PAGE_SIZE = 1000;
/**
 * NocoDB answers a page with a link or lookup column through one compound query of a SELECT per record;
 * SQLite (NocoDB's default database) refuses more than 500 terms (`too many terms in compound SELECT`),
 * so pages that read such a column are kept well below that.
 */
const LINK_PAGE_SIZE = 200;
const LINK_TYPES = new Set(['Links', 'LinkToAnotherRecord', 'Lookup']);

/**
 * Reads a NocoDB base through its v2 APIs (https://meta-apis-v2.nocodb.com, https://data-apis-v2.nocodb.com)
 * with an API token: tables from `GET /api/v2/meta/bases/{baseId}/tables`, columns from
 * `GET /api/v2/meta/tables/{tableId}`, records from `GET /api/v2/tables/{tableId}/records` with
 * `limit`/`offset` until `pageInfo.isLastPage`, only the fields asked for (`fields`), page by page.
 * Formula (`formula_raw` verbatim), lookup and rollup columns carry their logic.
 */
export class NocodbSource implements Source {
  readonly kind = 'nocodb';
  readonly instance: string;
  readonly #api: URL;
  readonly #client: RestClient;
  readonly #list = new OnceCache<'tables', { id: string; title: string }[]>();
  readonly #tables = new OnceCache<string, NocoTable>();

  constructor(
    private readonly config: NocodbSourceConfig,
    o: NocodbSourceOptions,
  ) {
    this.#api = new URL(config.apiUrl);
    this.instance = `${this.#api.origin}/api/v2/meta/bases/${config.baseId}`;
    this.#client = new RestClient({
      what: 'nocodb source',
      headers: { 'xc-token': o.token },
      egress: o.egress,
      ...(o.ca ? { ca: o.ca } : {}),
    });
  }

  #tableList(signal?: AbortSignal): Promise<{ id: string; title: string }[]> {
    return this.#list.get('tables', async () => {
      const body = await this.#client.getJson(
        apiUrl(this.#api, `/api/v2/meta/bases/${this.config.baseId}/tables`),
        signal,
      );
      const list = body['list'];
      if (!Array.isArray(list) || !list.every((t) => hasStringKeys(t, 'id', 'title'))) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_FAILED',
          'nocodb source: the tables of the base are not a valid list',
        );
      }
      return list as { id: string; title: string }[];
    });
  }

  async tables(options?: { signal?: AbortSignal }): Promise<string[]> {
    return (await this.#tableList(options?.signal)).map((t) => t.title);
  }

  async #table(name: string, signal?: AbortSignal): Promise<NocoTable> {
    const list = await this.#tableList(signal);
    const entry = list.find((t) => t.title === name || t.id === name);
    if (!entry) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `nocodb source: no table "${name}" (tables: ${list.map((t) => t.title).join(', ')})`,
      );
    }
    return this.#tables.get(entry.id, async () => {
      const body = await this.#client.getJson(apiUrl(this.#api, `/api/v2/meta/tables/${entry.id}`), signal);
      const columns = body['columns'];
      if (!Array.isArray(columns) || !columns.every((c) => hasStringKeys(c, 'id', 'title', 'uidt'))) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_FAILED',
          `nocodb source: the columns of table "${entry.title}" are not a valid list`,
        );
      }
      return { id: entry.id, title: entry.title, columns: columns as unknown as NocoColumn[] };
    });
  }

  async describe(table: string, options?: { signal?: AbortSignal }): Promise<SourceColumn[]> {
    const t = await this.#table(table, options?.signal);
    const list = await this.#tableList(options?.signal);
    const out: SourceColumn[] = [];
    for (const c of t.columns) {
      const o = c.colOptions ?? {};
      let derived: DerivedColumn | undefined;
      if (c.uidt === 'Formula') {
        const raw =
          typeof o['formula_raw'] === 'string'
            ? o['formula_raw']
            : typeof o['formula'] === 'string'
              ? o['formula']
              : '';
        const refs = [...raw.matchAll(/\{([^{}]+)\}/g)]
          .map((m) => m[1]!)
          .filter((n) => t.columns.some((x) => x.title === n));
        derived = { kind: 'formula', expression: raw, references: [...new Set(refs)] };
      } else if (c.uidt === 'Lookup' || c.uidt === 'Rollup') {
        const link = t.columns.find((x) => x.id === o['fk_relation_column_id']);
        const linkedId = link?.colOptions?.['fk_related_model_id'];
        const linkedEntry = list.find((x) => x.id === linkedId);
        let linkedColumn: string | undefined;
        const targetId = c.uidt === 'Lookup' ? o['fk_lookup_column_id'] : o['fk_rollup_column_id'];
        if (linkedEntry && typeof targetId === 'string') {
          const linked = await this.#table(linkedEntry.id, options?.signal).catch(() => undefined);
          linkedColumn = linked?.columns.find((x) => x.id === targetId)?.title;
        }
        derived = {
          kind: c.uidt === 'Lookup' ? 'lookup' : 'rollup',
          ...(c.uidt === 'Rollup' && typeof o['rollup_function'] === 'string'
            ? { expression: `${o['rollup_function']}(values)` }
            : {}),
          ...(link ? { via: link.title } : {}),
          ...(linkedEntry ? { linkedTable: linkedEntry.title } : {}),
          ...(linkedColumn ? { linkedColumn } : {}),
        };
      }
      out.push({ name: c.title, type: `nocodb:${c.uidt}`, ...(derived ? { derived } : {}) });
    }
    return out;
  }

  async *read(request: SourceReadRequest): AsyncIterable<CellValue[][]> {
    const { signal } = request;
    const t = await this.#table(request.table, signal);
    for (const c of request.columns) {
      if (!t.columns.some((x) => x.title === c))
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `nocodb source: table "${t.title}" has no column "${c}"`,
        );
    }
    const pageSize = request.columns.some((c) =>
      LINK_TYPES.has(t.columns.find((x) => x.title === c)?.uidt ?? ''),
    )
      ? LINK_PAGE_SIZE
      : PAGE_SIZE;
    yield* pagedRows<number>({
      what: 'nocodb source',
      table: t.title,
      columns: request.columns,
      batchSize: resolveBatchSize('nocodb source', request.batchSize),
      signal: request.signal,
      first: 0,
      fetch: (offset, signal) => {
        const url = apiUrl(this.#api, `/api/v2/tables/${t.id}/records`);
        url.searchParams.set('limit', String(pageSize));
        url.searchParams.set('offset', String(offset));
        url.searchParams.set('fields', request.columns.join(','));
        return this.#client.getJson(url, signal);
      },
      parse: (body, offset) => {
        const list = body['list'];
        const info = body['pageInfo'] as { isLastPage?: unknown } | undefined;
        if (!Array.isArray(list))
          throw new WaybillError(
            'ERR_WAYBILL_SOURCE_FAILED',
            `nocodb source: a page of "${t.title}" has no "list"`,
          );
        const more = info?.isLastPage !== true && list.length > 0;
        return { records: list, next: more ? offset + list.length : undefined };
      },
    });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
