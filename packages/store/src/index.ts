export { KyselyStore } from './kysely-store.js';
export { openSqliteStore, openPostgresStore } from './open-store.js';
export type { PostgresStoreOptions } from './open-store.js';
export type { Database } from './database-schema.js';
