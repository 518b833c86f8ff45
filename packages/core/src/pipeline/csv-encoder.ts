import type { CellValue } from '../ports/source.js';

const needsQuote = /[",\r\n]/;

/** One RFC 4180 field: quoted only when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(v: CellValue): string {
  if (v === null) return '';
  if (typeof v === 'string') {
    // A leading space or an empty string is kept as is; RFC 4180 keeps spaces significant.
    return needsQuote.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }
  return String(v);
}

/** One RFC 4180 record, CRLF-terminated (§2.1). */
export function csvLine(values: readonly CellValue[]): string {
  let s = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) s += ',';
    s += csvField(values[i] ?? null);
  }
  return s + '\r\n';
}
