import type { CellValue } from '../ports/source.js';

const needsQuote = /[",\r\n]/;
// CSV injection (OWASP): a spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a
// formula, e.g. =HYPERLINK(…) exfiltrating data. Such text is written with a leading apostrophe, which
// spreadsheets show as text; a plain signed number (-12.5, +44) is left as it is.
const formulaStart = /^[=+\-@\t\r]/;
const signedNumber = /^[+-]\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Neutralizes text that a spreadsheet would run as a formula. */
export function neutralizeFormula(v: string): string {
  return formulaStart.test(v) && !signedNumber.test(v) ? `'${v}` : v;
}

/**
 * One RFC 4180 field: quoted only when it holds a comma, quote, CR or LF; quotes doubled; text that a
 * spreadsheet would run as a formula neutralized with a leading apostrophe.
 */
export function csvField(v: CellValue): string {
  if (v === null) return '';
  if (typeof v === 'string') {
    const safe = neutralizeFormula(v);
    // A leading space or an empty string is kept as is; RFC 4180 keeps spaces significant.
    return needsQuote.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
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
