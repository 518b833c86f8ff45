import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';

/**
 * Kysely's SQLite driver opens transactions with a plain (deferred) `BEGIN`. A deferred transaction
 * that reads first and writes later cannot upgrade its lock when another connection wrote meanwhile:
 * SQLite fails it at once with SQLITE_BUSY, whatever the busy timeout. Waybill's transactions all
 * write (each carries an audit entry), so they take the write lock up front with `BEGIN IMMEDIATE`:
 * concurrent commands then wait their turn (busy_timeout) instead of failing.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite connection prepares every query anew, and preparing costs more than running most of
 * Waybill's small queries. The queries are built by code, so their SQL texts are few: each is prepared
 * once and reused. A statement still iterating (a streamed query) is busy, and gets a fresh one.
 */
function withStatementCache(db: SqliteDatabase): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const value = Reflect.get(target, prop, receiver) as unknown;
        // Native methods want the real database as `this`, not the proxy.
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return (sql: string): SqliteStatement => {
        const hit = cache.get(sql);
        if (hit && !(hit as SqliteStatement & { busy?: boolean }).busy) return hit;
        const stmt = target.prepare(sql);
        if (!hit) {
          if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
          cache.set(sql, stmt);
        }
        return stmt;
      };
    },
  });
}

export class ImmediateSqliteDialect implements Dialect {
  constructor(private readonly config: SqliteDialectConfig & { database: SqliteDatabase }) {}

  createDriver(): Driver {
    return new ImmediateSqliteDriver({ ...this.config, database: withStatementCache(this.config.database) });
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
