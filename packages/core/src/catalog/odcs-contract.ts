import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { WaybillError } from '@waybill/verify';
import { formatPath } from '../definitions/definition-loader.js';
import { SLUG_PATTERN, sensitivities } from '../definitions/export-definition-schema.js';
import { PII_KINDS } from '../detectors/pii-kind.js';
import type { CatalogVersionRecord, FieldClassification } from '../ports/store.js';
import { addIsoDuration } from '../time/iso-duration.js';

/** The ODCS version Waybill writes (it reads any v3). */
export const ODCS_API_VERSION = 'v3.1.0';

// Waybill's keys travel as ODCS custom properties, which data-contract tools keep as they are.
const PROP = {
  connection: 'waybillConnection',
  piiKind: 'waybillPiiKind',
  retention: 'waybillRetention',
  regulations: 'waybillRegulations',
  purposes: 'waybillPurposes',
} as const;

const customProperties = z
  .array(z.looseObject({ property: z.string().min(1), value: z.unknown() }))
  .optional();
const slug = z.string().regex(SLUG_PATTERN, 'a lowercase name (letters, digits, ".", "_", "-")');

const property = z.looseObject({
  name: z.string().min(1).max(128),
  physicalName: z.string().min(1).max(128).optional(),
  classification: z.enum(sensitivities, { message: `one of ${sensitivities.join(', ')}` }).optional(),
  tags: z.array(z.string()).optional(),
  description: z.string().max(1000).optional(),
  customProperties,
});

const contract = z.looseObject({
  apiVersion: z.string().regex(/^v3\./, 'an ODCS v3 version such as v3.1.0'),
  kind: z.literal('DataContract'),
  id: z.string().min(1),
  customProperties,
  schema: z
    .array(
      z.looseObject({
        name: z.string().min(1).max(128),
        physicalName: z.string().min(1).max(128).optional(),
        properties: z.array(property).min(1, 'list the table’s properties (columns)'),
      }),
    )
    .min(1, 'list at least one table'),
});

/** The classifications of one table, as a contract gives them. */
export interface ContractTable {
  readonly connection: string;
  readonly table: string;
  readonly fields: Record<string, FieldClassification>;
}

function custom(list: z.infer<typeof customProperties>, name: string): unknown {
  return list?.find((c) => c.property === name)?.value;
}

function invalid(file: string, path: readonly PropertyKey[], message: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_INVALID_INPUT', `${file}: ${formatPath(path)}: ${message}`);
}

function stringList(file: string, path: PropertyKey[], v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !SLUG_PATTERN.test(x))) {
    throw invalid(file, path, 'must be a list of lowercase slugs');
  }
  return [...(v as string[])];
}

/**
 * Reads an Open Data Contract Standard v3 document (`kind: DataContract`) as Waybill classifications:
 * each `schema` entry is a table of the connection named by the root custom property
 * `waybillConnection` (or `connection` when given), each property a column, with its `classification`
 * (the sensitivity), and Waybill's keys as custom properties (`waybillPiiKind`, `waybillRetention`,
 * `waybillRegulations`, `waybillPurposes`); a `pii:<kind>` tag is read as the PII kind too.
 * Errors name the file and the path of the bad value.
 */
export function parseContract(text: string, file = '<contract>', connection?: string): ContractTable[] {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      {
        cause: err,
      },
    );
  }
  const r = contract.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw invalid(file, issue.path, issue.message);
  }
  const c = r.data;
  const conn = connection ?? custom(c.customProperties, PROP.connection);
  if (typeof conn !== 'string' || !SLUG_PATTERN.test(conn)) {
    throw invalid(
      file,
      ['customProperties'],
      `name the source connection in a custom property \`${PROP.connection}\` (or pass --connection)`,
    );
  }
  slug.parse(conn);
  return c.schema.map((t, ti) => {
    const fields: Record<string, FieldClassification> = {};
    t.properties.forEach((p, pi) => {
      const at: PropertyKey[] = ['schema', ti, 'properties', pi];
      const column = p.physicalName ?? p.name;
      if (fields[column]) throw invalid(file, [...at, 'name'], `column "${column}" is listed twice`);
      if (p.classification === undefined)
        throw invalid(file, [...at, 'classification'], `give ${sensitivities.join(' | ')}`);
      const tagKind = p.tags?.find((x) => x.startsWith('pii:'))?.slice(4);
      const kind = custom(p.customProperties, PROP.piiKind) ?? tagKind;
      if (
        kind !== undefined &&
        (typeof kind !== 'string' || !(PII_KINDS as readonly string[]).includes(kind))
      ) {
        throw invalid(file, [...at, 'customProperties', PROP.piiKind], `one of ${PII_KINDS.join(', ')}`);
      }
      const retention = custom(p.customProperties, PROP.retention);
      if (retention !== undefined) {
        if (typeof retention !== 'string')
          throw invalid(
            file,
            [...at, 'customProperties', PROP.retention],
            'an ISO 8601 duration such as P2Y',
          );
        try {
          addIsoDuration(new Date(0), retention);
        } catch {
          throw invalid(
            file,
            [...at, 'customProperties', PROP.retention],
            `"${retention}" is not an ISO 8601 duration (e.g. P2Y)`,
          );
        }
      }
      const regulations = stringList(
        file,
        [...at, 'customProperties', PROP.regulations],
        custom(p.customProperties, PROP.regulations),
      );
      const purposes = stringList(
        file,
        [...at, 'customProperties', PROP.purposes],
        custom(p.customProperties, PROP.purposes),
      );
      fields[column] = {
        sensitivity: p.classification,
        ...(typeof kind === 'string' ? { piiKind: kind } : {}),
        ...(typeof retention === 'string' ? { retention } : {}),
        ...(regulations ? { regulations } : {}),
        ...(purposes ? { purposes } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
      };
    });
    return { connection: conn, table: t.physicalName ?? t.name, fields };
  });
}

/** Writes the latest classifications of a connection's tables as one ODCS v3 document. */
export function toContract(connection: string, tables: readonly CatalogVersionRecord[]): string {
  const doc = {
    apiVersion: ODCS_API_VERSION,
    kind: 'DataContract',
    id: `waybill-${connection}`,
    name: connection,
    version: `${tables.reduce((n, t) => n + t.seq, 0)}.0.0`,
    status: 'active',
    customProperties: [{ property: PROP.connection, value: connection }],
    schema: tables.map((t) => ({
      name: t.table,
      physicalName: t.table,
      physicalType: 'table',
      logicalType: 'object',
      customProperties: [{ property: 'waybillCatalogVersion', value: t.version }],
      properties: Object.entries(t.fields).map(([column, f]) => ({
        name: column,
        physicalName: column,
        classification: f.sensitivity,
        ...(f.description !== undefined ? { description: f.description } : {}),
        tags: [...(f.piiKind ? [`pii:${f.piiKind}`] : []), ...(f.regulations ?? [])],
        customProperties: [
          ...(f.piiKind ? [{ property: PROP.piiKind, value: f.piiKind }] : []),
          ...(f.retention ? [{ property: PROP.retention, value: f.retention }] : []),
          ...(f.regulations ? [{ property: PROP.regulations, value: [...f.regulations] }] : []),
          ...(f.purposes ? [{ property: PROP.purposes, value: [...f.purposes] }] : []),
        ],
      })),
    })),
  };
  return stringify(doc, { lineWidth: 0 });
}
