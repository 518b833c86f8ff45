import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Destination, DestinationWrite } from '@waybill/core';
import { WaybillError, wrapError } from '@waybill/verify';

/** Settings of a directory destination. */
export interface DirectoryDestinationConfig {
  /** The root every export goes under (relative paths resolve against the working directory). It must exist. */
  readonly path: string;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;

function invalidPath(what: string, message: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_INVALID_INPUT', `directory destination: ${what} ${message}`);
}

/**
 * Splits a relative path into its segments, refusing anything that could leave the directory it is
 * meant for: absolute paths, `..` (and `.` or empty) segments, backslashes, NUL.
 */
function segmentsOf(what: string, path: string): string[] {
  if (typeof path !== 'string' || path.length === 0)
    throw invalidPath(what, 'must be a non-empty relative path');
  if (path.includes('\0')) throw invalidPath(what, 'must not contain a NUL character');
  if (path.includes('\\')) throw invalidPath(what, 'must use / as separator and contain no backslash');
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) {
    throw invalidPath(what, `${JSON.stringify(path)} must be relative to the destination root`);
  }
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '..') throw invalidPath(what, `${JSON.stringify(path)} must not contain ".." segments`);
    if (s === '.' || s === '')
      throw invalidPath(what, `${JSON.stringify(path)} must not contain empty or "." segments`);
  }
  return segments;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** fsync of a directory, so the entries created or renamed in it survive a crash (POSIX rename(2)). */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function failed(err: unknown, message: string): WaybillError {
  return wrapError(
    err,
    'ERR_WAYBILL_DESTINATION_FAILED',
    `directory destination: ${message} (${errnoCode(err) ?? 'error'})`,
  );
}

/** An error raised by the caller's data stream, passed on as it is: the destination did not fail. */
class UpstreamError extends Error {
  constructor(readonly error: unknown) {
    super('the data stream failed');
  }
}

/** Writes every chunk in order, looping over short writes; the next chunk is pulled once this one is written. */
async function writeAll(
  handle: FileHandle,
  data: AsyncIterable<Uint8Array> | Uint8Array,
  signal: AbortSignal | undefined,
): Promise<void> {
  const iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    data instanceof Uint8Array ? [data][Symbol.iterator]() : data[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      signal?.throwIfAborted();
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (err) {
        done = true;
        throw new UpstreamError(err);
      }
      if (next.done === true) {
        done = true;
        return;
      }
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new WaybillError(
          'ERR_WAYBILL_INVALID_INPUT',
          'directory destination: file data must be a stream of bytes (Uint8Array)',
        );
      }
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    }
  } finally {
    // Stopping early (write error, abort) tells the producer, so it can release what it holds.
    if (!done) {
      try {
        await iterator.return?.();
      } catch {
        // The producer failing to clean up does not change why the write stopped.
      }
    }
  }
}

type State = 'open' | 'committed' | 'aborted';

class DirectoryWrite implements DestinationWrite {
  readonly location: string;
  readonly #temp: string;
  readonly #signal: AbortSignal | undefined;
  readonly #directories = new Set<string>();
  #state: State = 'open';
  #pending = 0;

  constructor(location: string, temp: string, signal: AbortSignal | undefined) {
    this.location = location;
    this.#temp = temp;
    this.#signal = signal;
    this.#directories.add(temp);
  }

  #requireOpen(doing: string): void {
    if (this.#state !== 'open') {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `directory destination: cannot ${doing} ${this.location}: the export is already ${this.#state}`,
      );
    }
  }

  async writeFile(name: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    await this.#write(name, async (handle) => {
      await writeAll(handle, data, this.#signal);
    });
  }

  /**
   * `writeFile` of the bytes of the local file `from`, copied by the kernel (copy_file_range or
   * sendfile), never through this process. The file is created first exactly as `writeFile` creates it,
   * and keeps that mode (a copy would otherwise take the mode of `from`, a private staging file).
   */
  async copyFrom(name: string, from: string): Promise<void> {
    await this.#write(name, async (handle, file) => {
      const { mode } = await handle.stat();
      await copyFile(from, file);
      await chmod(file, mode & 0o7777);
      this.#signal?.throwIfAborted();
    });
  }

  async #write(name: string, fill: (handle: FileHandle, file: string) => Promise<void>): Promise<void> {
    this.#requireOpen('write to');
    const segments = segmentsOf('file name', name);
    this.#signal?.throwIfAborted();
    this.#pending++;
    try {
      let dir = this.#temp;
      for (const s of segments.slice(0, -1)) {
        dir = join(dir, s);
        if (!this.#directories.has(dir)) {
          // Recursive: two files of one sub-folder may be written at the same time.
          await mkdir(dir, { recursive: true });
          this.#directories.add(dir);
        }
      }
      const file = join(this.#temp, ...segments);
      // 'wx': a file name written twice is a bug in the caller, not something to overwrite silently.
      const handle = await open(file, 'wx');
      try {
        await fill(handle, file);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (this.#signal?.aborted === true) throw this.#signal.reason;
      if (err instanceof UpstreamError) throw err.error;
      if (err instanceof WaybillError) throw err;
      if (errnoCode(err) === 'EEXIST') {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `directory destination: ${JSON.stringify(name)} was already written to this export`,
          { cause: err },
        );
      }
      throw failed(err, `could not write ${JSON.stringify(name)} of ${this.location}`);
    } finally {
      this.#pending--;
    }
  }

  async commit(): Promise<void> {
    this.#requireOpen('commit');
    if (this.#pending > 0) {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `directory destination: cannot commit ${this.location} while files are still being written`,
      );
    }
    this.#signal?.throwIfAborted();
    try {
      for (const dir of [...this.#directories].reverse()) await syncDirectory(dir);
      // rename(2) replaces an empty directory silently, so the target is checked again right before.
      if (await exists(this.location)) {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `directory destination: ${this.location} appeared while the export was being written; it was not replaced`,
        );
      }
      await rename(this.#temp, this.location);
      this.#state = 'committed';
      await syncDirectory(dirname(this.location));
    } catch (err) {
      throw failed(err, `could not commit ${this.location}`);
    }
  }

  async abort(): Promise<void> {
    if (this.#state === 'aborted') return;
    if (this.#state === 'committed') {
      throw new WaybillError(
        'ERR_WAYBILL_CONFLICT',
        `directory destination: ${this.location} is already committed and cannot be aborted`,
      );
    }
    this.#state = 'aborted';
    try {
      await rm(this.#temp, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      throw failed(err, `could not remove the temporary directory of ${this.location}`);
    }
  }
}

/**
 * Delivers exports into directories under a root folder. An export is written into a hidden sibling,
 * `.<name>.tmp-<runId>`, each file fsynced as it is finished; `commit` fsyncs the directory, renames it
 * to its final name (atomic on one file system) and fsyncs the parent, so the final path shows either
 * nothing or the complete export, even after a crash. `abort` removes the temporary directory.
 *
 * Paths are checked before anything is created: relative, no `..`, `.` or empty segments, no NUL or
 * backslash (`ERR_WAYBILL_INVALID_INPUT`), and no symbolic link among the directories between the root
 * and the export (so a link planted inside the root cannot redirect a write outside it). An existing
 * final path is `ERR_WAYBILL_CONFLICT`: exports are never overwritten. Beginning again with the same
 * `runId` (a run resumed after a crash) replaces that run's leftover temporary directory.
 *
 * Files and directories get the process's default permissions (umask).
 */
export class DirectoryDestination implements Destination {
  readonly kind = 'directory';
  readonly root: string;

  constructor(config: DirectoryDestinationConfig) {
    this.root = resolve(config.path);
  }

  /** Removes the temporary directory an interrupted run left behind; a committed export is never touched. */
  async discard(path: string, options: { runId: string }): Promise<void> {
    const segments = segmentsOf('path', path);
    if (typeof options.runId !== 'string' || !RUN_ID.test(options.runId)) {
      throw invalidPath('runId', 'must be 1–128 letters, digits, "-" or "_"');
    }
    let root: string;
    try {
      root = await realpath(this.root);
    } catch {
      return;
    }
    const parent = join(root, ...segments.slice(0, -1));
    const temp = join(parent, `.${segments[segments.length - 1]!}.tmp-${options.runId}`);
    // Only ever inside the root, and only through plain directories.
    try {
      if (!isInside(root, temp) || (await realpath(parent)) !== parent) return;
    } catch {
      return;
    }
    await rm(temp, { recursive: true, force: true });
  }

  async committedDigest(path: string, name: string): Promise<string | null> {
    const segments = segmentsOf('path', path);
    const file = segmentsOf('name', name);
    let root: string;
    try {
      root = await realpath(this.root);
    } catch {
      return null;
    }
    const target = join(root, ...segments, ...file);
    if (!isInside(root, target)) return null;
    try {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(target)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    } catch {
      return null;
    }
  }

  async begin(path: string, options: { runId: string; signal?: AbortSignal }): Promise<DestinationWrite> {
    const segments = segmentsOf('path', path);
    if (typeof options.runId !== 'string' || !RUN_ID.test(options.runId)) {
      throw invalidPath('runId', 'must be 1–128 letters, digits, "-" or "_"');
    }
    options.signal?.throwIfAborted();
    let root: string;
    try {
      root = await realpath(this.root);
      if (!(await lstat(root)).isDirectory())
        throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') {
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `directory destination: the root ${this.root} is not an existing directory; create it first`,
          { cause: err },
        );
      }
      throw failed(err, `could not open the root ${this.root}`);
    }
    try {
      // Walk down to the parent of the export, creating what is missing and refusing symbolic links.
      let parent = root;
      for (const s of segments.slice(0, -1)) {
        parent = join(parent, s);
        let stats;
        try {
          stats = await lstat(parent);
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err;
          await mkdir(parent).catch((e: unknown) => {
            if (errnoCode(e) !== 'EEXIST') throw e;
          });
          stats = await lstat(parent);
        }
        if (stats.isSymbolicLink() || !stats.isDirectory()) {
          throw invalidPath(
            'path',
            `${JSON.stringify(path)} passes through ${JSON.stringify(relative(root, parent))}, which is not a plain directory`,
          );
        }
      }
      const name = segments[segments.length - 1]!;
      const location = join(parent, name);
      const temp = join(parent, `.${name}.tmp-${options.runId}`);
      // Defence in depth: whatever the checks above missed, nothing is written outside the root.
      if (!isInside(root, location) || !isInside(root, temp) || (await realpath(parent)) !== parent) {
        throw invalidPath('path', `${JSON.stringify(path)} resolves outside the destination root`);
      }
      if (await exists(location)) {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `directory destination: ${location} already exists; exports are never overwritten — choose another path or remove it`,
        );
      }
      // A leftover of the same run (crashed before commit or abort) is this run's own and is replaced.
      await rm(temp, { recursive: true, force: true });
      await mkdir(temp);
      return new DirectoryWrite(location, temp, options.signal);
    } catch (err) {
      if (err instanceof WaybillError) throw err;
      throw failed(err, `could not start the export at ${JSON.stringify(path)}`);
    }
  }
}

/**
 * Creates a directory destination.
 *
 * @example
 * ```ts
 * const destination = createDirectoryDestination({ path: '/srv/exports' });
 * const write = await destination.begin('crm/2024-05-01-people', { runId });
 * try {
 *   await write.writeFile('people.csv', fileStream);
 *   await write.commit();
 * } catch (err) {
 *   await write.abort();
 *   throw err;
 * }
 * ```
 */
export function createDirectoryDestination(config: DirectoryDestinationConfig): DirectoryDestination {
  return new DirectoryDestination(config);
}
