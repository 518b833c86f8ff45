import { createHash } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import { classifyColumn, type ColumnReport } from '../detectors/column-classifier.js';
import type { AccessGuard } from '../governance/access-guard.js';
import { actorOf } from '../governance/principal-service.js';
import { canonicalJson } from '../json/canonical-json.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectionOpener } from '../ports/connection-opener.js';
import type { CellValue, Source } from '../ports/source.js';
import type { Caller, CatalogVersionRecord, ConnectionRecord, Store } from '../ports/store.js';
import { resolveSecret } from '../secrets/connection-secret.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { parseContract, toContract } from './odcs-contract.js';

/** What a scan found in one table. */
export interface TableScan {
  readonly connection: string;
  readonly table: string;
  readonly scannedAt: string;
  /** Rows sampled. */
  readonly rows: number;
  readonly columns: readonly ColumnReport[];
}

const MAX_SAMPLE = 100_000;

/** A cell as the detectors read it; null and empty cells are left out. */
function cellText(v: CellValue): string | undefined {
  if (v === null) return undefined;
  const s = typeof v === 'string' ? v : String(v);
  return s === '' ? undefined : s;
}

/** Samples up to `rows` rows of `columns` from a table, as text per column. */
export async function sampleColumns(
  source: Source,
  table: string,
  columns: readonly string[],
  rows: number,
  signal?: AbortSignal,
): Promise<{ rows: number; values: string[][] }> {
  const values = columns.map(() => [] as string[]);
  let n = 0;
  if (columns.length === 0 || rows === 0) return { rows: 0, values };
  for await (const batch of source.read({
    table,
    columns,
    batchSize: Math.min(rows, 1000),
    ...(signal ? { signal } : {}),
  })) {
    for (const row of batch) {
      row.forEach((v, i) => {
        const t = cellText(v);
        if (t !== undefined) values[i]!.push(t);
      });
      if (++n >= rows) return { rows: n, values };
    }
  }
  return { rows: n, values };
}

/** `sha256:<hex>` of a table's classifications (canonical JSON). */
export function catalogVersion(fields: CatalogVersionRecord['fields']): string {
  return `sha256:${createHash('sha256').update(canonicalJson(fields)).digest('hex')}`;
}

/**
 * The catalog: per source connection and table, versioned classifications of every field
 * (sensitivity, PII kind, retention, regulations, purposes), imported and exported as Open Data
 * Contract Standard v3 documents, and scans that propose them. A scan samples values, runs the
 * detectors and stores what it found (kinds and confidences; never a value).
 */
export class CatalogService {
  constructor(
    private readonly o: {
      readonly store: Store;
      readonly audit: AuditLog;
      readonly clock: Clock;
      readonly guard: AccessGuard;
      readonly box: SecretBox;
      readonly connections: ConnectionOpener;
      readonly env?: NodeJS.ProcessEnv;
    },
  ) {}

  private async source(caller: Caller, name: string): Promise<{ record: ConnectionRecord; source: Source }> {
    const record = await this.o.store.getConnection(caller.workspace, 'source', name);
    if (!record) {
      throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `no source "${name}"; see \`waybill source list\``);
    }
    const source = await this.o.connections.openSource(
      record,
      resolveSecret(this.o.box, record, this.o.env ?? process.env),
      { egress: await this.o.store.listEgressRules(caller.workspace) },
    );
    return { record, source };
  }

  /** Scans one table (or every table) of a source connection and stores what it found. */
  async scan(
    caller: Caller,
    connection: string,
    options: { table?: string; sample?: number; signal?: AbortSignal } = {},
  ): Promise<TableScan[]> {
    const sample = options.sample ?? 1000;
    if (!Number.isInteger(sample) || sample < 1 || sample > MAX_SAMPLE) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `sample: give a number of rows from 1 to ${MAX_SAMPLE}`,
      );
    }
    await this.o.guard.require(caller, 'catalog.manage');
    const { source } = await this.source(caller, connection);
    const scans: TableScan[] = [];
    try {
      const tables = options.table !== undefined ? [options.table] : await source.tables(options);
      for (const table of tables) {
        const columns = (await source.describe(table, options)).map((c) => c.name);
        const s = await sampleColumns(source, table, columns, sample, options.signal);
        const now = this.o.clock.now();
        const reports = columns.map((c, i) => classifyColumn(c, s.values[i]!, now));
        const scan: TableScan = {
          connection,
          table,
          scannedAt: now.toISOString(),
          rows: s.rows,
          columns: reports,
        };
        await this.o.store.transaction(async (tx) => {
          await tx.saveCatalogScan({
            workspace: caller.workspace,
            connection,
            table,
            scannedAt: scan.scannedAt,
            columns: reports.map((r) => ({
              column: r.column,
              likelyPii: r.likelyPii,
              piiKind: r.proposed.piiKind,
              confidence: r.findings[0]?.confidence ?? 0,
              proposed: r.proposed.sensitivity,
            })),
          });
          await this.o.audit.append(tx, {
            type: 'catalog.scanned',
            actor: actorOf(caller),
            workspace: caller.workspace,
            subjects: { connection: `source/${connection}`, table },
            details: {
              rows: s.rows,
              likelyPii: reports
                .filter((r) => r.likelyPii)
                .map((r) => ({ column: r.column, kind: r.proposed.piiKind })),
            },
          });
        });
        scans.push(scan);
      }
    } finally {
      await source.close();
    }
    return scans;
  }

  /** Applies an ODCS v3 contract: a new catalog version for every table whose classifications changed. */
  async apply(
    caller: Caller,
    text: string,
    file: string,
    connection?: string,
  ): Promise<{ connection: string; table: string; version: string; seq: number; changed: boolean }[]> {
    await this.o.guard.require(caller, 'catalog.manage');
    const tables = parseContract(text, file, connection);
    for (const t of tables) {
      if (!(await this.o.store.getConnection(caller.workspace, 'source', t.connection))) {
        throw new WaybillError(
          'ERR_WAYBILL_INVALID_INPUT',
          `${file}: no source "${t.connection}"; register it first with \`waybill source add\``,
        );
      }
    }
    return this.o.store.transaction(async (tx) => {
      const out = [];
      for (const t of tables) {
        const version = catalogVersion(t.fields);
        const latest = await tx.latestCatalog(caller.workspace, t.connection, t.table);
        if (latest?.version === version) {
          out.push({ connection: t.connection, table: t.table, version, seq: latest.seq, changed: false });
          continue;
        }
        const seq = (latest?.seq ?? 0) + 1;
        await tx.insertCatalogVersion({
          workspace: caller.workspace,
          connection: t.connection,
          table: t.table,
          seq,
          version,
          fields: t.fields,
          appliedBy: actorOf(caller),
          appliedAt: this.o.clock.now().toISOString(),
        });
        await this.o.audit.append(tx, {
          type: 'catalog.applied',
          actor: actorOf(caller),
          workspace: caller.workspace,
          subjects: { connection: `source/${t.connection}`, table: t.table },
          details: {
            version,
            seq,
            previous: latest?.version ?? null,
            fields: Object.fromEntries(Object.entries(t.fields).map(([c, f]) => [c, f.sensitivity])),
          },
        });
        out.push({ connection: t.connection, table: t.table, version, seq, changed: true });
      }
      return out;
    });
  }

  /** The latest classifications of a connection's tables, as an ODCS v3 document. */
  async exportContract(caller: Caller, connection: string): Promise<string> {
    const tables = await this.o.store.listCatalogs(caller.workspace, connection);
    if (tables.length === 0) {
      throw new WaybillError(
        'ERR_WAYBILL_NOT_FOUND',
        `nothing of source "${connection}" is catalogued yet; \`waybill catalog scan ${connection}\` proposes classifications`,
      );
    }
    return toContract(connection, tables);
  }

  list(caller: Caller, connection?: string): Promise<CatalogVersionRecord[]> {
    return this.o.store.listCatalogs(caller.workspace, connection);
  }

  history(caller: Caller, connection: string, table: string): Promise<CatalogVersionRecord[]> {
    return this.o.store.catalogHistory(caller.workspace, connection, table);
  }
}
