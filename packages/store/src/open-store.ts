import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { wrapError } from '@waybill/core';
import type { Database } from './database-schema.js';
import { ImmediateSqliteDialect } from './immediate-sqlite-dialect.js';
import { KyselyStore } from './kysely-store.js';

/**
 * Opens (creating if needed) the embedded SQLite store at `path` and applies pending migrations.
 * WAL mode so readers never block the writer, every commit durable (synchronous=FULL); foreign keys on.
 */
export async function openSqliteStore(path: string): Promise<KyselyStore> {
  let database: BetterSqlite3.Database;
  try {
    database = new BetterSqlite3(path);
    database.pragma('journal_mode = WAL');
    // better-sqlite3 builds SQLite with WAL commits left unsynced (synchronous=NORMAL): a power cut could
    // lose the last commits, audit entries included. FULL syncs the WAL at every commit.
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
  } catch (err) {
    throw wrapError(
      err,
      'ERR_WAYBILL_STORE_FAILED',
      `cannot open the SQLite store at ${path}: ${(err as Error).message}`,
    );
  }
  const store = new KyselyStore(
    'sqlite',
    new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database }) }),
  );
  await store.migrate();
  return store;
}

export interface PostgresStoreOptions {
  /** A `postgres://` URL; a password in it is used but never echoed. */
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  readonly max?: number;
}

/** Opens the PostgreSQL store and applies pending migrations. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<KyselyStore> {
  const { password, ...rest } = options;
  // pg lets values parsed from a connection string override explicit ones, so a separately kept
  // password is put into the string (in memory only; it is never stored or printed this way).
  const config: pg.PoolConfig = { max: options.max ?? 10, ...rest };
  if (password !== undefined) {
    if (rest.connectionString !== undefined) {
      config.connectionString = rest.connectionString.replace(
        /^(postgres(?:ql)?:\/\/)([^:@/?#]*)@/,
        (_, scheme: string, user: string) => `${scheme}${user}:${encodeURIComponent(password)}@`,
      );
    } else config.password = password;
  }
  const pool = new pg.Pool(config);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    // The pg error message never contains the password; the URL is not repeated.
    throw wrapError(
      err,
      'ERR_WAYBILL_STORE_FAILED',
      `cannot connect to the PostgreSQL store: ${(err as Error).message}`,
    );
  }
  const store = new KyselyStore(
    'postgres',
    new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    false,
    undefined,
    pool,
  );
  await store.migrate();
  return store;
}
