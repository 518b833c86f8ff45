// The lean entry point: this module runs in pipeline workers, which need not load all of core.
import { canonicalJson } from '@waybill/core/canonical-json';
import type { CellValue } from '@waybill/core';
import { bytesCell, decimalTextCell, floatCell, integerTextCell, pgTimestampCell } from './cell-values.js';

// Built-in type OIDs (pg_type.dat); they are fixed across PostgreSQL versions.
export const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  jsonb: 3802,
} as const;

export const identityParser = (text: string): string => text;

/**
 * PostgreSQL's text output of a value → `CellValue`, by type OID. The same functions serve the cursor
 * read (as `pg` type parsers) and the COPY read (in the pipeline workers), so both give identical cells.
 * Types without an entry (text, varchar, uuid, time, interval, arrays, enums, …) keep their text.
 */
export const pgTextParsers = new Map<number, (text: string) => CellValue>([
  [OID.bool, (t) => t === 't'],
  [OID.int2, integerTextCell],
  [OID.int4, integerTextCell],
  [OID.oid, integerTextCell],
  [OID.int8, integerTextCell],
  [OID.numeric, decimalTextCell],
  [OID.float4, (t) => floatCell(Number(t))],
  [OID.float8, (t) => floatCell(Number(t))],
  // DateStyle=ISO (set per transaction) prints dates as YYYY-MM-DD already.
  [OID.date, identityParser],
  [OID.timestamp, pgTimestampCell],
  [OID.timestamptz, pgTimestampCell],
  [OID.bytea, (t) => (t.startsWith('\\x') ? bytesCell(Buffer.from(t.slice(2), 'hex')) : t)],
  // RFC 8785 text, so the same document always gives the same string (and the same record digest).
  [OID.json, (t) => canonicalJson(JSON.parse(t))],
  [OID.jsonb, (t) => canonicalJson(JSON.parse(t))],
]);

export function pgTextParser(oid: number): (text: string) => CellValue {
  return pgTextParsers.get(oid) ?? identityParser;
}
