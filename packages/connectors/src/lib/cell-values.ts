import type { CellValue } from '@waybill/core';

/**
 * Integers travel as JSON numbers only while they are exact (|n| ≤ 2^53 − 1); beyond that as decimal
 * strings, so no digit is ever lost (the `CellValue` contract in core's source port).
 */
export function integerCell(value: bigint): CellValue {
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value.toString();
}

/** A decimal integer as text (PostgreSQL `int8`). */
export function integerTextCell(text: string): CellValue {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** JSON has no NaN or ±Infinity: those travel as their names. */
export function floatCell(value: number): CellValue {
  return Number.isFinite(value) ? value : String(value);
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(\d+)\.(\d+)$/;

/**
 * An exact decimal as text (PostgreSQL `numeric`). It becomes a number only when a double holds it
 * exactly enough to give the same value back: an integer within ±(2^53 − 1), or a decimal with at most
 * 15 significant digits (DBL_DIG: every such decimal survives decimal → double → decimal). Everything
 * else — more digits, `NaN`, `Infinity` — stays a string, so no digit is lost.
 */
export function decimalTextCell(text: string): CellValue {
  // Fast path: at most 15 characters means at most 15 significant digits, which a double holds exactly.
  if (text.length <= 15) {
    const n = Number(text);
    if (Number.isFinite(n) && text !== '') return n;
  }
  if (INTEGER_TEXT.test(text)) return integerTextCell(text);
  const m = DECIMAL_TEXT.exec(text);
  if (m === null) return text;
  const digits = `${m[1]}${m[2]}`.replace(/^0+/, '').replace(/0+$/, '');
  if (digits.length > 15) return text;
  const n = Number(text);
  // A tiny value that underflows to 0 is not exact either.
  return Number.isFinite(n) && (n !== 0 || digits === '') ? n : text;
}

/** Bytes travel as standard base64 (RFC 4648 §4). */
export function bytesCell(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

/** A value from an embedded driver (better-sqlite3 with `safeIntegers`) as a `CellValue`. */
export function driverCell(value: unknown): CellValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return floatCell(value);
    case 'bigint':
      return integerCell(value);
    case 'object':
      if (value === null) return null;
      if (value instanceof Uint8Array) return bytesCell(value);
      break;
    default:
      break;
  }
  return String(value);
}

const PG_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?$/;

/**
 * A PostgreSQL `timestamp`/`timestamptz` in `DateStyle=ISO` output (`2024-05-01 12:30:00.25+00`) as an
 * RFC 3339 UTC timestamp (`2024-05-01T12:30:00.25Z`). A `timestamp` without time zone is taken as UTC.
 * Fractional seconds keep every digit PostgreSQL sent (microseconds), which a JS Date would drop.
 * Values RFC 3339 cannot express — `infinity`, `-infinity`, BC dates, years past 9999 — stay as
 * PostgreSQL wrote them.
 */
export function pgTimestampCell(text: string): string {
  const m = PG_TIMESTAMP.exec(text);
  if (m === null) return text;
  const [, y, mo, d, h, mi, s, frac = '', sign, oh = '00', om = '00', os = '00'] = m;
  const offset = (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * (sign === '-' ? -1 : 1);
  if (offset === 0) return `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}Z`;
  const t = new Date(0);
  t.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  t.setUTCHours(Number(h), Number(mi), Number(s) - offset, 0);
  const year = t.getUTCFullYear();
  if (year < 0 || year > 9999) return text;
  return `${t.toISOString().slice(0, 19)}${frac}Z`;
}
