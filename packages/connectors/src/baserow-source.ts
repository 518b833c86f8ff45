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
import { apiUrl, appCell, RestClient } from './lib/rest-client.js';
import { OnceCache } from './lib/once-cache.js';

/** Settings of a Baserow source. */
export interface BaserowSourceConfig {
  /** The API's origin: `https://api.baserow.io` (default) or a self-hosted Baserow. */
  readonly apiUrl?: string;
  /** The tables to read, by the name definitions use → Baserow table id (a database token cannot list them). */
  readonly tables: Readonly<Record<string, number>>;
}

export interface BaserowSourceOptions {
  /** A database token (the connection's secret). */
  readonly token: string;
  readonly egress: readonly EgressRule[];
  readonly ca?: Buffer;
}

interface BaserowField {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly table_id?: number;
  readonly formula?: string;
  readonly through_field_id?: number | null;
  readonly target_field_id?: number | null;
  readonly rollup_function?: string;
  readonly link_row_table_id?: number | null;
}

const RECORD_ID = 'id';
const PAGE_SIZE = 200;

/**
 * Reads Baserow tables through its REST API (https://api.baserow.io/api/redoc/) with a database token:
 * fields from `GET /api/database/fields/table/{id}/`, rows from `GET /api/database/rows/table/{id}/`,
 * 200 a page, `page` by `page` until `next` is null, only the fields asked for (`include`), each page
 * handed on before the next is asked for. Retries as for every app source (`RestClient`).
 *
 * Columns: `id` (the row id), then the fields. Formula, lookup and rollup fields carry their logic
 * (`derived`): the formula verbatim with the fields it names; the link field and the linked table's
 * field; a rollup's function. Values: text, numbers (Baserow sends decimals as text; kept as text),
 * booleans as they are; arrays and objects (links, selects, files) as canonical JSON text.
 */
export class BaserowSource implements Source {
  readonly kind = 'baserow';
  readonly instance: string;
  readonly #api: URL;
  readonly #client: RestClient;
  readonly #fields = new OnceCache<number, BaserowField[]>();

  constructor(
    private readonly config: BaserowSourceConfig,
    o: BaserowSourceOptions,
  ) {
    this.#api = new URL(config.apiUrl ?? 'https://api.baserow.io');
    this.instance = `${this.#api.origin}/api/database`;
    this.#client = new RestClient({
      what: 'baserow source',
      headers: { authorization: `Token ${o.token}` },
      egress: o.egress,
      ...(o.ca ? { ca: o.ca } : {}),
    });
  }

  tables(): Promise<string[]> {
    return Promise.resolve(Object.keys(this.config.tables));
  }

  #tableId(name: string): number {
    const id = this.config.tables[name] ?? (/^\d+$/.test(name) ? Number(name) : undefined);
    if (id === undefined) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `baserow source: no table "${name}" (tables: ${Object.keys(this.config.tables).join(', ')})`,
      );
    }
    return id;
  }

  #fieldsOf(id: number, signal?: AbortSignal): Promise<BaserowField[]> {
    return this.#fields.get(id, async () => {
      const url = apiUrl(this.#api, `/api/database/fields/table/${id}/`);
      // The endpoint answers a JSON array; RestClient wants objects, so read it through a wrapper.
      const body = await this.#client.getJsonValue(url, signal);
      if (!Array.isArray(body) || !body.every(isField)) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_FAILED',
          `baserow source: the fields of table ${id} are not a list of fields`,
        );
      }
      return body;
    });
  }

  async describe(table: string, options?: { signal?: AbortSignal }): Promise<SourceColumn[]> {
    const fields = await this.#fieldsOf(this.#tableId(table), options?.signal);
    const byId = new Map(fields.map((f) => [f.id, f]));
    const tableNames = new Map(Object.entries(this.config.tables).map(([n, id]) => [id, n]));
    const columns: SourceColumn[] = [{ name: RECORD_ID, type: 'baserow:rowId' }];
    for (const f of fields) {
      let derived: DerivedColumn | undefined;
      if (f.type === 'formula' && typeof f.formula === 'string') {
        const refs = [...f.formula.matchAll(/field\('((?:[^'\\]|\\.)*)'\)/g)].map((m) =>
          m[1]!.replace(/\\(.)/g, '$1'),
        );
        derived = { kind: 'formula', expression: f.formula, references: [...new Set(refs)] };
      } else if ((f.type === 'lookup' || f.type === 'rollup') && typeof f.through_field_id === 'number') {
        const link = byId.get(f.through_field_id);
        const linkedId = link?.link_row_table_id ?? undefined;
        const linkedName = linkedId !== undefined && linkedId !== null ? tableNames.get(linkedId) : undefined;
        let linkedColumn: string | undefined;
        if (linkedId !== undefined && linkedId !== null && typeof f.target_field_id === 'number') {
          const linkedFields = await this.#fieldsOf(linkedId, options?.signal).catch(() => []);
          linkedColumn = linkedFields.find((x) => x.id === f.target_field_id)?.name;
        }
        derived = {
          kind: f.type,
          ...(f.type === 'rollup' && f.rollup_function ? { expression: `${f.rollup_function}(values)` } : {}),
          ...(link ? { via: link.name } : {}),
          ...((linkedName ?? linkedId) ? { linkedTable: linkedName ?? String(linkedId) } : {}),
          ...(linkedColumn ? { linkedColumn } : {}),
        };
      }
      columns.push({ name: f.name, type: `baserow:${f.type}`, ...(derived ? { derived } : {}) });
    }
    return columns;
  }

  async *read(request: SourceReadRequest): AsyncIterable<CellValue[][]> {
    const { signal } = request;
    const id = this.#tableId(request.table);
    const fields = await this.#fieldsOf(id, signal);
    const byName = new Map(fields.map((f) => [f.name, f]));
    for (const c of request.columns) {
      if (c !== RECORD_ID && !byName.has(c))
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `baserow source: table "${request.table}" has no field "${c}"`,
        );
    }
    const keys = request.columns.map((c) => (c === RECORD_ID ? RECORD_ID : `field_${byName.get(c)!.id}`));
    const include = keys.filter((k) => k !== RECORD_ID);
    const batch = resolveBatchSize('baserow source', request.batchSize);
    let rows: CellValue[][] = [];
    for (let page = 1; ; page++) {
      const url = apiUrl(this.#api, `/api/database/rows/table/${id}/`);
      url.searchParams.set('size', String(PAGE_SIZE));
      url.searchParams.set('page', String(page));
      if (include.length > 0) url.searchParams.set('include', include.join(','));
      const body = await this.#client.getJson(url, signal);
      const results = body['results'];
      if (!Array.isArray(results))
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_FAILED',
          `baserow source: page ${page} of table ${id} has no "results" list`,
        );
      for (const [i, r] of results.entries()) {
        if (typeof r !== 'object' || r === null || typeof (r as { id?: unknown }).id !== 'number') {
          throw new WaybillError(
            'ERR_WAYBILL_SOURCE_ROW_INVALID',
            `baserow source: row ${i} of page ${page} of table ${id} has no id`,
          );
        }
        const row = r as Record<string, unknown>;
        rows.push(keys.map((k) => appCell(row[k])));
        if (rows.length >= batch) {
          yield rows;
          rows = [];
        }
      }
      if (body['next'] === null || body['next'] === undefined || results.length === 0) break;
    }
    if (rows.length > 0) yield rows;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

function isField(f: unknown): f is BaserowField {
  if (typeof f !== 'object' || f === null) return false;
  const x = f as Record<string, unknown>;
  return typeof x['id'] === 'number' && typeof x['name'] === 'string' && typeof x['type'] === 'string';
}
