import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit } from './exit-cleanup.js';

/** A temporary directory that a test owns. */
export interface TempDir {
  /** Absolute path of the directory (it exists and is empty when handed out). */
  readonly path: string;
  /** Removes the directory and everything in it. Safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * Creates a fresh directory under the system's temporary folder.
 *
 * @example
 * ```ts
 * const dir = await tempDir('waybill-sqlite-');
 * try { … join(dir.path, 'db.sqlite') … } finally { await dir.cleanup(); }
 * ```
 */
export async function tempDir(prefix = 'waybill-test-'): Promise<TempDir> {
  if (/[/\\\0]/.test(prefix)) throw new TypeError('tempDir: the prefix must be a plain name, not a path');
  const path = await mkdtemp(join(tmpdir(), prefix));
  const forget = removeOnExit(path);
  return {
    path,
    async cleanup() {
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
      forget();
    },
  };
}
