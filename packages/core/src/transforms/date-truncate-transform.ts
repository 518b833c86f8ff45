import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { DateTruncateSpec } from './transform-specs.js';

export type { DateTruncateSpec };

type Unit = DateTruncateSpec['unit'];

const NOT_A_DATE = 'expected a date (YYYY-MM-DD) or an RFC 3339 timestamp, got a string that is neither';
const MINUTES_PER_DAY = 1440;

export function compileDateTruncate(spec: DateTruncateSpec, field: string): CompiledTransform {
  const unit = spec.unit;
  return {
    type: 'date_truncate',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'date_truncate', unit }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      if (typeof value !== 'string') {
        throw transformFailed(
          'date_truncate',
          field,
          `expected a date or timestamp string, got a ${cellTypeName(value)}`,
        );
      }
      const result = truncate(value, unit);
      if (result === undefined) throw transformFailed('date_truncate', field, NOT_A_DATE);
      return result;
    },
  };
}

/** Parses by hand, index by index: no regex match arrays or Date objects per row. */
function truncate(s: string, unit: Unit): string | undefined {
  if (s.length < 10 || s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (s.length === 10) return truncatedDate(year, month, day, unit);

  const sep = s.charCodeAt(10);
  if (sep !== 0x54 /* T */ && sep !== 0x74 /* t */ && sep !== 0x20 /* space */) return undefined;
  if (s.length < 19 || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return undefined;
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;

  let i = 19;
  if (s.charCodeAt(i) === 0x2e /* . */) {
    i++;
    const start = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return undefined;
  }
  if (i === s.length) return `${truncatedDate(year, month, day, unit)}T00:00:00`;

  const zone = s.charCodeAt(i);
  if ((zone === 0x5a /* Z */ || zone === 0x7a) /* z */ && i + 1 === s.length) {
    return `${truncatedDate(year, month, day, unit)}T00:00:00Z`;
  }
  if (
    (zone !== 0x2b /* + */ && zone !== 0x2d) /* - */ ||
    i + 6 !== s.length ||
    s.charCodeAt(i + 3) !== 0x3a
  ) {
    return undefined;
  }
  const offsetHours = digits(s, i + 1, 2);
  const offsetMinutes = digits(s, i + 4, 2);
  if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) return undefined;

  // Local time minus the offset is UTC. Seconds never move the day (a leap second stays in its minute).
  const offset = (zone === 0x2b ? 1 : -1) * (offsetHours * 60 + offsetMinutes);
  const localMinutes = daysFromCivil(year, month, day) * MINUTES_PER_DAY + hour * 60 + minute;
  const utc = civilFromDays(Math.floor((localMinutes - offset) / MINUTES_PER_DAY));
  if (utc.year < 0 || utc.year > 9999) return undefined;
  return `${truncatedDate(utc.year, utc.month, utc.day, unit)}T00:00:00Z`;
}

function truncatedDate(year: number, month: number, day: number, unit: Unit): string {
  const y = String(year).padStart(4, '0');
  if (unit === 'year') return `${y}-01-01`;
  const m = month < 10 ? `0${month}` : String(month);
  if (unit === 'month') return `${y}-${m}-01`;
  return `${y}-${m}-${day < 10 ? `0${day}` : String(day)}`;
}

function isDigit(unit: number): boolean {
  return unit >= 0x30 && unit <= 0x39;
}

/** The non-negative integer written by `count` ASCII digits at `start`, or -1. */
function digits(s: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const unit = s.charCodeAt(i);
    if (!isDigit(unit)) return -1;
    n = n * 10 + (unit - 0x30);
  }
  return n;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Days since 1970-01-01 in the proleptic Gregorian calendar and back: H. Hinnant, "chrono-Compatible Low-Level
// Date Algorithms", days_from_civil / civil_from_days. Exact for every year, unlike Date.UTC (years 0–99).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}
