import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit, stopOnExit } from './exit-cleanup.js';

/** A throwaway PostgreSQL cluster listening only on a unix socket in its own temporary directory. */
export interface PgCluster {
  /** The unix socket directory (what libpq and `pg` accept as `host`). */
  readonly host: string;
  readonly port: number;
  /** A superuser; authentication is `trust`, so no password is needed. */
  readonly user: string;
  /** A database created for the caller (empty). */
  readonly database: string;
  /** `postgresql://user@/database?host=<socket dir>&port=<port>`, accepted by `pg`. */
  readonly connectionString: string;
  /** Shuts the server down (immediately: the data is thrown away) and removes its directory. */
  stop(): Promise<void>;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Name of the database to create. Default `waybill_test`. */
  readonly database?: string;
  /** How long to wait for the server to accept connections. Default 30 s. */
  readonly timeoutMs?: number;
  /**
   * How roles other than the superuser authenticate. `trust` (default) lets anyone in; `scram-sha-256`
   * makes them give their password, for tests of authentication failures. The superuser is always
   * trusted.
   */
  readonly roleAuth?: 'trust' | 'scram-sha-256';
  /**
   * Run with the server's own durability and buffer defaults (fsync, synchronous_commit,
   * full_page_writes on; default shared_buffers) instead of the fast, non-durable test settings: for
   * benchmarks that measure durable commits.
   */
  readonly durable?: boolean;
}

const PG_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'waybill';
// The socket file is `<dir>/.s.PGSQL.<port>`; each cluster has its own directory, so the port never
// collides with another cluster and no TCP port is opened at all.
const PORT = 5432;
// sockaddr_un.sun_path holds 108 bytes on Linux (107 usable).
const MAX_SOCKET_PATH = 107;

/**
 * Finds the newest `/usr/lib/postgresql/<version>/bin` that holds `initdb` and `postgres`, or `null`.
 */
export function findPostgresBinDir(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter(
      (v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')) && existsSync(join(PG_ROOT, v, 'bin', 'postgres')),
    )
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  const newest = versions[0];
  return newest === undefined ? null : join(PG_ROOT, newest, 'bin');
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** PostgreSQL refuses to run as root, so when the tests run as root the server runs as `nobody`. */
function runAsUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string): number => {
    const out = execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim();
    const n = Number.parseInt(out, 10);
    if (!Number.isSafeInteger(n)) throw new Error(`startPostgres: unexpected output of id ${flag} nobody`);
    return n;
  };
  return { uid: id('-u'), gid: id('-g') };
}

function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
}

function run(
  file: string,
  args: readonly string[],
  options: { cwd: string; runAs: RunAs | null; input?: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: childEnv(),
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
        ...(options.runAs ?? {}),
      },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (err)
          reject(new Error(`startPostgres: ${file} failed: ${err.message}\n${output}`, { cause: err }));
        else resolve(output);
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** `postmaster.pid` ends with the server's status; `ready` means it accepts connections (as pg_ctl checks). */
function isReady(dataDir: string): boolean {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}

function baseDirParent(): string {
  const candidate = tmpdir();
  // Leave room for `/waybill-pg-XXXXXX/.s.PGSQL.5432.lock`.
  return candidate.length + 40 <= MAX_SOCKET_PATH ? candidate : '/tmp';
}

/** Immediate shutdown, synchronously waiting (briefly) so the directory can be removed after it. */
function killSync(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill('SIGQUIT');
  } catch {
    return;
  }
  const deadline = Date.now() + 2000;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    try {
      process.kill(child.pid, 0);
    } catch {
      return;
    }
    Atomics.wait(cell, 0, 0, 20);
  }
}

/**
 * Starts a throwaway PostgreSQL cluster from the binaries under `/usr/lib/postgresql/<version>/bin`
 * (the newest version). It listens only on a unix socket inside its own temporary directory, trusts
 * local connections, runs with `fsync=off` and small buffers, and is gone after `stop()` (or at the
 * latest when the process exits). Returns `null`, after a loud warning on stderr, when no PostgreSQL
 * binaries are installed, so tests can skip instead of fail.
 *
 * @example
 * ```ts
 * const pg = await startPostgres();
 * if (pg === null) { t.skip('no PostgreSQL binaries'); return; }
 * try { const client = new pg.Client({ connectionString: pg.connectionString }) … }
 * finally { await pg.stop(); }
 * ```
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PgCluster | null> {
  const binDir = findPostgresBinDir();
  if (binDir === null) {
    process.stderr.write(
      '\n*** SKIPPING PostgreSQL tests: no /usr/lib/postgresql/*/bin/initdb on this machine ***\n' +
        '*** install the `postgresql` package to run them                                    ***\n\n',
    );
    return null;
  }
  const database = options.database ?? 'waybill_test';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) {
    throw new TypeError('startPostgres: the database name must be a lower-case SQL identifier');
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const runAs = runAsUser();

  const base = mkdtempSync(join(baseDirParent(), 'waybill-pg-'));
  const forgetDir = removeOnExit(base);
  let forgetChild = (): void => {};
  if (runAs) chownSync(base, runAs.uid, runAs.gid);
  const dataDir = join(base, 'data');
  const logFile = join(base, 'postgres.log');
  let child: ChildProcess | undefined;

  const cleanup = async (): Promise<void> => {
    if (child) {
      const c = child;
      child = undefined;
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        // SIGQUIT = immediate shutdown: no checkpoint, the data is thrown away anyway.
        c.kill('SIGQUIT');
        const killer = setTimeout(() => c.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      forgetChild();
    }
    await rm(base, { recursive: true, force: true, maxRetries: 5 });
    forgetDir();
  };

  try {
    await run(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { cwd: base, runAs },
    );
    // Only the unix socket is used, so only `local` lines matter.
    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      `local all ${SUPERUSER} trust\nlocal all all ${options.roleAuth ?? 'trust'}\n`,
    );
    // Single-user mode creates the database before the server is up: no client binary needed.
    const out = await run(join(binDir, 'postgres'), ['--single', '-F', '-D', dataDir, 'postgres'], {
      cwd: base,
      runAs,
      input: `CREATE DATABASE ${database};\n`,
    });
    if (/\bERROR:/.test(out)) throw new Error(`startPostgres: creating database ${database} failed:\n${out}`);

    const log = openSync(logFile, 'a');
    try {
      child = spawn(
        join(binDir, 'postgres'),
        [
          '-D',
          dataDir,
          '-c',
          `port=${PORT}`,
          '-c',
          'listen_addresses=',
          '-c',
          `unix_socket_directories=${base}`,
          ...(options.durable
            ? []
            : [
                '-c',
                'fsync=off',
                '-c',
                'synchronous_commit=off',
                '-c',
                'full_page_writes=off',
                '-c',
                'shared_buffers=16MB',
                '-c',
                'max_wal_size=256MB',
              ]),
          '-c',
          'max_connections=50',
          '-c',
          'timezone=UTC',
        ],
        { cwd: base, env: childEnv(), stdio: ['ignore', log, log], ...(runAs ?? {}) },
      );
    } finally {
      closeSync(log);
    }
    const started = child;
    forgetChild = stopOnExit(() => killSync(started));
    // A forgotten stop() must not keep the test process alive; the exit hook stops the server then.
    started.unref();
    let spawnError: Error | undefined;
    started.once('error', (err) => {
      spawnError = err;
    });

    const deadline = Date.now() + timeoutMs;
    while (!isReady(dataDir)) {
      if (spawnError) throw new Error(`startPostgres: could not start postgres: ${spawnError.message}`);
      if (started.exitCode !== null || started.signalCode !== null) {
        throw new Error(`startPostgres: postgres exited during start-up:\n${tail(logFile)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`startPostgres: postgres not ready after ${timeoutMs} ms:\n${tail(logFile)}`);
      }
      await sleep(25);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  return {
    host: base,
    port: PORT,
    user: SUPERUSER,
    database,
    connectionString: `postgresql://${SUPERUSER}@/${database}?host=${encodeURIComponent(base)}&port=${PORT}`,
    stop: cleanup,
  };
}
