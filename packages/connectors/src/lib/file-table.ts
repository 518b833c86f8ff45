import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { WaybillError, wrapError } from '@waybill/verify';

/** The one table of a file source: the file name without its last extension (`people.csv` → `people`). */
export function fileStem(path: string): string {
  return basename(path, extname(path));
}

/** A file source has exactly one table; any other name is `ERR_WAYBILL_NOT_FOUND`. */
export function checkFileTable(where: string, path: string, table: string): void {
  const stem = fileStem(path);
  if (table !== stem) {
    throw new WaybillError(
      'ERR_WAYBILL_NOT_FOUND',
      `${where}: no table ${JSON.stringify(table)}; this file holds one table, ${JSON.stringify(stem)} ` +
        '(the file name without its extension)',
    );
  }
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps a file-system error to `ERR_WAYBILL_NOT_FOUND` (missing file) or `ERR_WAYBILL_SOURCE_FAILED`. */
export function fileError(where: string, err: unknown): WaybillError {
  const code = errnoCode(err);
  if (code === 'ENOENT') {
    return new WaybillError(
      'ERR_WAYBILL_NOT_FOUND',
      `${where}: the file does not exist; check the connection's path`,
      {
        cause: err,
      },
    );
  }
  return wrapError(
    err,
    'ERR_WAYBILL_SOURCE_FAILED',
    `${where}: could not read the file (${code ?? 'I/O error'})`,
  );
}

/** Fails early, with a clear error, when the path is missing or not a regular file. */
export async function checkRegularFile(where: string, path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (err) {
    throw fileError(where, err);
  }
  if (!s.isFile()) {
    throw new WaybillError('ERR_WAYBILL_SOURCE_FAILED', `${where}: the path is not a regular file`);
  }
}
