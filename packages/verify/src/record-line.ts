import { WaybillError } from './waybill-error.js';
import { canonicalJson } from './canonical-json.js';
import { isLowerHex } from './lib/hex-string.js';

/** One line of `records.jsonl`: where an output record came from and the digest of its content. */
export interface RecordLine {
  /** Lowercase hex SHA-256 of the RFC 8785 canonical JSON of the output record. */
  readonly digest: string;
  /** 0-based position of the record in the payload. */
  readonly index: number;
  readonly sourceRecordId: string;
  /** RFC 3339 time the source last changed the record, when the source knows it. */
  readonly sourceUpdatedAt?: string;
}

const FIELDS = new Set(['digest', 'index', 'sourceRecordId', 'sourceUpdatedAt']);
const RFC3339 =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** True for an RFC 3339 date-time as `records.jsonl` accepts it (§5.6, with range checks). */
export function isRfc3339(text: string): boolean {
  return RFC3339.test(text);
}

/**
 * Formats a `records.jsonl` line (without its LF): the RFC 8785 canonical JSON of the record.
 *
 * @example
 * ```ts
 * out.write(formatRecordLine({ digest, index: 0, sourceRecordId: '42' }) + '\n');
 * ```
 */
export function formatRecordLine(record: RecordLine): string {
  const line = canonicalJson(record);
  parseRecordLine(line);
  return line;
}

/**
 * Parses and checks one `records.jsonl` line (without its LF): exactly the fields `digest` (64
 * lowercase hex), `index` (non-negative integer), `sourceRecordId` (string) and optionally
 * `sourceUpdatedAt` (RFC 3339), written as RFC 8785 canonical JSON. Requiring the canonical form leaves
 * one valid spelling per record, so the file's digest pins its meaning. Throws
 * `ERR_WAYBILL_RECORDS_MISMATCH`.
 *
 * @example
 * ```ts
 * const { digest, index } = parseRecordLine('{"digest":"…","index":0,"sourceRecordId":"42"}');
 * ```
 */
export function parseRecordLine(line: string): RecordLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw invalid('is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('is not a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!FIELDS.has(key)) throw invalid(`has an unknown field "${key}"`);
  const { digest, index, sourceRecordId, sourceUpdatedAt } = record;
  if (!isLowerHex(digest, 64)) throw invalid('needs "digest" as 64 lowercase hex digits');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    throw invalid('needs "index" as a non-negative integer');
  }
  if (typeof sourceRecordId !== 'string') throw invalid('needs "sourceRecordId" as a string');
  if (
    sourceUpdatedAt !== undefined &&
    (typeof sourceUpdatedAt !== 'string' || !RFC3339.test(sourceUpdatedAt))
  ) {
    throw invalid('has a "sourceUpdatedAt" that is not an RFC 3339 date-time');
  }
  let canonical: string;
  try {
    canonical = canonicalJson(record);
  } catch {
    throw invalid('has no RFC 8785 canonical form (lone surrogate)');
  }
  if (canonical !== line) throw invalid('is not in RFC 8785 canonical form');
  return sourceUpdatedAt === undefined
    ? { digest, index, sourceRecordId }
    : { digest, index, sourceRecordId, sourceUpdatedAt };
}

function invalid(reason: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_RECORDS_MISMATCH', `records line ${reason}`);
}
