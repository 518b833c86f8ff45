import type { CellValue } from '../ports/source.js';

/**
 * How a column's cells are handed to CEL. `dyn` (the default) keeps the cell's own JSON type, with integral
 * numbers as CEL `int` and other numbers as `double`; the others convert and reject cells that do not fit.
 */
export type ExpressionValueType = 'dyn' | 'int' | 'double' | 'string' | 'bool' | 'timestamp';

export const expressionValueTypes: readonly ExpressionValueType[] = Object.freeze([
  'dyn',
  'int',
  'double',
  'string',
  'bool',
  'timestamp',
]);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^[+-]?\d{1,19}$/;
const NUMERIC_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// A date (midnight UTC) or an RFC 3339 date-time with an offset. Date-times without an offset are refused: the
// JavaScript parser would read them in the process's local time zone, making results depend on the machine.
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/** A CEL input value; `undefined` means the cell does not fit the declared type. */
export type CelInput = bigint | number | string | boolean | Date | null;

/** Converts one cell for CEL. Returns `undefined` when the cell does not fit `type` (caller reports it). */
export function toCel(value: CellValue, type: ExpressionValueType): CelInput | undefined {
  if (value === null) return null;
  switch (type) {
    case 'dyn':
      // Integral numbers become CEL ints so `count + 1` works; beyond ±2^53 they are not exact and stay double.
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'int':
      if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined;
      if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
        const n = BigInt(value);
        return n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
      }
      return undefined;
    case 'double':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && NUMERIC_TEXT.test(value)) return Number(value);
      return undefined;
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'bool':
      return typeof value === 'boolean' ? value : undefined;
    case 'timestamp': {
      if (typeof value !== 'string' || !TIMESTAMP_TEXT.test(value)) return undefined;
      const ms = Date.parse(value.length > 10 ? `${value.slice(0, 10)}T${value.slice(11)}` : value);
      return Number.isNaN(ms) ? undefined : new Date(ms);
    }
  }
}

/** The CEL type name of a result, safe for messages (never the value). */
export function celTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'bigint':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    default:
      break;
  }
  if (value instanceof Date) return 'timestamp';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Map) return 'map';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  if (name === 'UnsignedInt') return 'uint';
  if (name === 'Duration') return 'duration';
  if (name === 'Object' || name === undefined) return 'map';
  return typeof name === 'string' ? name : 'value';
}

/**
 * Converts a CEL result to a cell: ints become numbers when exact (within ±2^53) and decimal strings otherwise,
 * the same convention sources use; timestamps become RFC 3339 UTC strings; bytes become base64. Returns
 * `undefined` for results that have no cell form (lists, maps, durations, types, NaN and ±Infinity).
 */
export function fromCel(value: unknown): CellValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'bigint':
      return bigintCell(value);
    default:
      break;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (celTypeName(value) === 'uint') {
    const n: unknown = (value as { valueOf(): unknown }).valueOf();
    return typeof n === 'bigint' ? bigintCell(n) : undefined;
  }
  return undefined;
}

function bigintCell(n: bigint): CellValue {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n.toString();
}
