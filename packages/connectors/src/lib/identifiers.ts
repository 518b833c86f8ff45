import type { SourceColumn } from '@waybill/core';
import { WaybillError } from '@waybill/verify';

/**
 * Quotes an SQL identifier (SQL:2016 delimited identifier, same in SQLite and PostgreSQL): wrapped in
 * double quotes, inner double quotes doubled. Callers check the name against the catalog first; this is
 * the second line of defence, so a name can never end the identifier and start SQL of its own.
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\0')) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      'an SQL identifier must be non-empty and contain no NUL character',
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

const LISTED = 50;

/** `"a", "b", "c"` (JSON-quoted, so odd names stay readable), cut after 50 names. */
export function listNames(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, LISTED).map((n) => JSON.stringify(n));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/**
 * Checks a projection against the table's columns and returns each requested column's position.
 * Unknown names are `ERR_WAYBILL_NOT_FOUND`, naming them, the table and the available columns.
 */
export function resolveColumns(
  where: string,
  table: string,
  available: readonly SourceColumn[],
  requested: readonly string[],
): number[] {
  if (requested.length === 0) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `${where}: no columns requested from table ${JSON.stringify(table)}; name at least one column to read`,
    );
  }
  const position = new Map<string, number>();
  available.forEach((c, i) => {
    if (!position.has(c.name)) position.set(c.name, i);
  });
  const missing = requested.filter((c) => typeof c !== 'string' || !position.has(c));
  if (missing.length > 0) {
    const what = missing.length === 1 ? 'column' : 'columns';
    throw new WaybillError(
      'ERR_WAYBILL_NOT_FOUND',
      `${where}: table ${JSON.stringify(table)} has no ${what} ${listNames(missing.map(String))}; ` +
        `available columns: ${listNames(available.map((c) => c.name))}`,
    );
  }
  return requested.map((c) => position.get(c)!);
}

/** `ERR_WAYBILL_NOT_FOUND` for a table that does not exist, listing the ones that do. */
export function tableNotFound(where: string, table: string, available: readonly string[]): WaybillError {
  return new WaybillError(
    'ERR_WAYBILL_NOT_FOUND',
    `${where}: no table ${JSON.stringify(table)}; available tables: ${listNames(available)}. ` +
      'Check the table name in the export definition (names are case-sensitive).',
  );
}
