import type { CellValue, RowBatch } from '@waybill/core';
import { WaybillError } from '@waybill/verify';
import { identityParser, pgTextParser } from './lib/pg-text-parsers.js';

/** Options of the codec: the type OID of each column, in order, and where the rows come from. */
export interface PgCopyTextOptions {
  readonly oids: readonly number[];
  /** For messages: `postgres source "crm" (table customers)`. */
  readonly where: string;
}

// COPY text format (PostgreSQL docs, "COPY", File Formats → Text Format): one row per line, columns
// separated by a tab, NULL written as \N, and backslash escapes for \b \f \n \r \t \v \\, octal \NNN
// and hex \xHH. Data never contains a raw tab or newline: those are always escaped, so splitting a
// block on LF and each line on TAB is exact.
const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function unescapeCopy(field: string): string {
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = field[++i];
    if (n === undefined) break;
    if (n in simple) out += simple[n];
    else if (n >= '0' && n <= '7') {
      let j = i;
      while (j < i + 3 && j < field.length && field[j]! >= '0' && field[j]! <= '7') j++;
      out += String.fromCharCode(parseInt(field.slice(i, j), 8));
      i = j - 1;
    } else if (n === 'x' && /[0-9a-fA-F]/.test(field[i + 1] ?? '')) {
      let j = i + 1;
      while (j < i + 3 && /[0-9a-fA-F]/.test(field[j] ?? '')) j++;
      out += String.fromCharCode(parseInt(field.slice(i + 1, j), 16));
      i = j - 1;
    } else out += n;
  }
  return out;
}

/**
 * Decodes a block of whole COPY text rows into cells, a row at a time as the pipeline asks for it. Runs
 * in core's pipeline workers (the `RowCodec` contract); the octal/hex escapes give bytes, which
 * PostgreSQL only emits for the server encoding, so the block is decoded as UTF-8 first and escapes are
 * rare (only in data containing control characters).
 */
export function decodeRows(bytes: Uint8Array, options: unknown, firstRowNumber: number): RowBatch {
  const { oids, where } = options as PgCopyTextOptions;
  const parsers = oids.map(pgTextParser);
  // Text columns keep their text: no call per value.
  const keepText = parsers.map((p) => p === identityParser);
  const width = oids.length;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const lines = text.split('\n');
  // A block ends with a newline, so the last element is empty.
  return {
    length: lines.length - 1,
    row(r: number): CellValue[] {
      const line = lines[r]!;
      const fields = line.split('\t');
      if (fields.length !== width) {
        throw new WaybillError(
          'ERR_WAYBILL_SOURCE_ROW_INVALID',
          `${where}: row ${firstRowNumber + r} has ${fields.length} fields in the COPY stream, expected ${width}`,
        );
      }
      const row: CellValue[] = new Array<CellValue>(width);
      // Without a backslash in the line, no field is NULL (\N) or escaped.
      const plain = line.indexOf('\\') === -1;
      for (let c = 0; c < width; c++) {
        let f = fields[c]!;
        if (!plain) {
          if (f === '\\N') {
            row[c] = null;
            continue;
          }
          if (f.includes('\\')) f = unescapeCopy(f);
        }
        row[c] = keepText[c] ? f : parsers[c]!(f);
      }
      return row;
    },
  };
}

/** {@link decodeRows}, all rows at once. */
export function decodeBlock(bytes: Uint8Array, options: unknown, firstRowNumber: number): CellValue[][] {
  const batch = decodeRows(bytes, options, firstRowNumber);
  return Array.from({ length: batch.length }, (_, r) => batch.row(r));
}
