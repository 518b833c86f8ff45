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

/** Settings of an Airtable source. */
export interface AirtableSourceConfig {
  /** The base (`app…`). */
  readonly baseId: string;
  /** The API's origin (default `https://api.airtable.com`); another one only for a compatible service. */
  readonly apiUrl?: string;
}

export interface AirtableSourceOptions {
  /** The personal access token (the connection's secret). */
  readonly token: string;
  readonly egress: readonly EgressRule[];
  readonly ca?: Buffer;
  /** First backoff delay; tests make it short. */
  readonly backoffMs?: number;
}

interface AirtableField {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly options?: Record<string, unknown>;
}
interface AirtableTable {
  readonly id: string;
  readonly name: string;
  readonly fields: readonly AirtableField[];
}

/** Columns every table has: the record id and its creation time. */
const RECORD_ID = 'id';
const CREATED = 'createdTime';
const PAGE_SIZE = 100;

/**
 * Reads an Airtable base through its REST API (https://airtable.com/developers/web/api): tables and
 * fields from the metadata API, records page by page (`pageSize` 100, `offset` until none is left),
 * each page handed on before the next is asked for, so a table is never held in memory. At most 5
 * requests a second (Airtable's limit per base); 429 and 5xx are retried (see `RestClient`).
 *
 * Columns: `id` (the record id) and `createdTime`, then the table's fields. Formula, lookup
 * (`multipleLookupValues`) and rollup fields carry their logic from the metadata (`derived`): the
 * formula verbatim with the fields it references, the link field and the linked table's field.
 * Values: strings, numbers, booleans as they are; a missing field is null; arrays and objects
 * (attachments, linked records, lookups) become their RFC 8785 canonical JSON text.
 */
export class AirtableSource implements Source {
  readonly kind = 'airtable';
  readonly instance: string;
  readonly #api: URL;
  readonly #client: RestClient;
  readonly #tables = new OnceCache<'tables', AirtableTable[]>();

  constructor(
    private readonly config: AirtableSourceConfig,
    o: AirtableSourceOptions,
  ) {
    if (!/^app[A-Za-z0-9]{3,40}$/.test(config.baseId)) {
      throw new WaybillError(
        'ERR_WAYBILL_CONNECTION_INVALID',
        'airtable connection: field "baseId" must be a base id (app…)',
      );
    }
    this.#api = new URL(config.apiUrl ?? 'https://api.airtable.com');
    this.instance = `${this.#api.origin}/v0/${config.baseId}`;
    this.#client = new RestClient({
      what: 'airtable source',
      headers: { authorization: `Bearer ${o.token}` },
      egress: o.egress,
      perSecond: 5,
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.backoffMs !== undefined ? { backoffMs: o.backoffMs } : {}),
    });
  }

  /** Requests made and retried so far (for progress and tests). */
  get stats(): { requests: number; retries: number } {
    return { requests: this.#client.requests, retries: this.#client.retries };
  }

  #schema(signal?: AbortSignal): Promise<AirtableTable[]> {
    return this.#tables.get('tables', async () => {
      const body = await this.#client.getJson(
        apiUrl(this.#api, `/v0/meta/bases/${this.config.baseId}/tables`),
        signal,
      );
      const tables = body['tables'];
      if (!Array.isArray(tables) || !tables.every(isTable)) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_FAILED',
          'airtable source: the metadata API answered without a valid "tables" list',
        );
      }
      return tables;
    });
  }

  async tables(options?: { signal?: AbortSignal }): Promise<string[]> {
    return (await this.#schema(options?.signal)).map((t) => t.name);
  }

  async #table(name: string, signal?: AbortSignal): Promise<AirtableTable> {
    const all = await this.#schema(signal);
    const t = all.find((x) => x.name === name || x.id === name);
    if (!t) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `airtable source: no table "${name}" in base ${this.config.baseId} (tables: ${all.map((x) => x.name).join(', ')})`,
      );
    }
    return t;
  }

  async describe(table: string, options?: { signal?: AbortSignal }): Promise<SourceColumn[]> {
    const t = await this.#table(table, options?.signal);
    const all = await this.#schema(options?.signal);
    const fieldName = (id: unknown, in_: AirtableTable = t) =>
      typeof id === 'string' ? (in_.fields.find((f) => f.id === id)?.name ?? id) : undefined;
    const columns: SourceColumn[] = [
      { name: RECORD_ID, type: 'airtable:recordId' },
      { name: CREATED, type: 'airtable:createdTime' },
    ];
    for (const f of t.fields) {
      const o = f.options ?? {};
      let derived: DerivedColumn | undefined;
      const refs = Array.isArray(o['referencedFieldIds'])
        ? (o['referencedFieldIds'] as unknown[]).map((id) => fieldName(id)!).filter(Boolean)
        : [];
      if (f.type === 'formula') {
        derived = {
          kind: 'formula',
          expression: typeof o['formula'] === 'string' ? o['formula'] : '',
          references: refs,
        };
      } else if (f.type === 'multipleLookupValues' || f.type === 'rollup') {
        const link = t.fields.find((x) => x.id === o['recordLinkFieldId']);
        const linked = all.find((x) => x.id === link?.options?.['linkedTableId']);
        derived = {
          kind: f.type === 'rollup' ? 'rollup' : 'lookup',
          ...(f.type === 'rollup' && typeof o['formula'] === 'string' ? { expression: o['formula'] } : {}),
          ...(link ? { via: link.name } : {}),
          ...(linked ? { linkedTable: linked.name } : {}),
          ...(linked && typeof o['fieldIdInLinkedTable'] === 'string'
            ? { linkedColumn: fieldName(o['fieldIdInLinkedTable'], linked)! }
            : {}),
        };
      }
      columns.push({ name: f.name, type: `airtable:${f.type}`, ...(derived ? { derived } : {}) });
    }
    return columns;
  }

  async *read(request: SourceReadRequest): AsyncIterable<CellValue[][]> {
    const { signal } = request;
    const t = await this.#table(request.table, signal);
    const known = new Set([RECORD_ID, CREATED, ...t.fields.map((f) => f.name)]);
    for (const c of request.columns) {
      if (!known.has(c))
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `airtable source: table "${t.name}" has no field "${c}"`,
        );
    }
    const batch = resolveBatchSize('airtable source', request.batchSize);
    const fields = request.columns.filter((c) => c !== RECORD_ID && c !== CREATED);
    let offset: string | undefined;
    let rows: CellValue[][] = [];
    do {
      const url = apiUrl(this.#api, `/v0/${this.config.baseId}/${encodeURIComponent(t.id)}`);
      url.searchParams.set('pageSize', String(PAGE_SIZE));
      url.searchParams.set('returnFieldsByFieldId', 'false');
      for (const f of fields) url.searchParams.append('fields[]', f);
      if (offset !== undefined) url.searchParams.set('offset', offset);
      const page = await this.#client.getJson(url, signal);
      const records = page['records'];
      if (!Array.isArray(records)) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_FAILED',
          `airtable source: a page of "${t.name}" has no "records" list`,
        );
      }
      for (const [i, r] of records.entries()) {
        if (typeof r !== 'object' || r === null || typeof (r as { id?: unknown }).id !== 'string') {
          throw new WaybillError(
            'ERR_WAYBILL_SOURCE_ROW_INVALID',
            `airtable source: record ${i} of a page of "${t.name}" has no id`,
          );
        }
        const rec = r as { id: string; createdTime?: unknown; fields?: Record<string, unknown> };
        rows.push(
          request.columns.map((c) =>
            c === RECORD_ID
              ? rec.id
              : c === CREATED
                ? typeof rec.createdTime === 'string'
                  ? rec.createdTime
                  : null
                : appCell(rec.fields?.[c]),
          ),
        );
        if (rows.length >= batch) {
          yield rows;
          rows = [];
        }
      }
      const next = page['offset'];
      offset = typeof next === 'string' && next !== '' ? next : undefined;
    } while (offset !== undefined);
    if (rows.length > 0) yield rows;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

function isTable(t: unknown): t is AirtableTable {
  if (typeof t !== 'object' || t === null) return false;
  const x = t as Record<string, unknown>;
  return (
    typeof x['id'] === 'string' &&
    typeof x['name'] === 'string' &&
    Array.isArray(x['fields']) &&
    (x['fields'] as unknown[]).every(
      (f) =>
        typeof f === 'object' &&
        f !== null &&
        typeof (f as Record<string, unknown>)['id'] === 'string' &&
        typeof (f as Record<string, unknown>)['name'] === 'string' &&
        typeof (f as Record<string, unknown>)['type'] === 'string',
    )
  );
}
