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
  type SqliteDialectConfig,
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

export class ImmediateSqliteDialect implements Dialect {
  constructor(private readonly config: SqliteDialectConfig) {}

  createDriver(): Driver {
    return new ImmediateSqliteDriver(this.config);
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
