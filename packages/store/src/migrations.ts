import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Versioned migrations, applied at start by Kysely's Migrator. Never edit a released migration; add a
 * new one. Types are kept portable between SQLite and PostgreSQL (text timestamps in RFC 3339 UTC).
 */
const migrations: Record<string, Migration> = {
  '0001-initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('definitions')
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('source_text', 'text', (c) => c.notNull())
        .addColumn('applied_by', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        // A version may be applied again later (a revert): the sequence number is the key.
        .addPrimaryKeyConstraint('definitions_pk', ['workspace', 'name', 'seq'])
        .execute();
      await db.schema
        .createIndex('definitions_version_idx')
        .on('definitions')
        .columns(['workspace', 'name', 'version'])
        .execute();
      await db.schema
        .createTable('connections')
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('secret', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('connections_pk', ['workspace', 'role', 'name'])
        .execute();
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('definition_name', 'text', (c) => c.notNull())
        .addColumn('definition_version', 'text', (c) => c.notNull())
        .addColumn('requester', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('rows_read', 'bigint')
        .addColumn('rows_filtered', 'bigint')
        .addColumn('rows_written', 'bigint')
        .addColumn('location', 'text')
        .addColumn('waybill_digest', 'text')
        .execute();
      await db.schema
        .createIndex('runs_ws_created_idx')
        .on('runs')
        .columns(['workspace', 'created_at'])
        .execute();
      await db.schema
        .createTable('run_transitions')
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addPrimaryKeyConstraint('run_transitions_pk', ['run_id', 'seq'])
        .execute();
      await db.schema
        .createTable('keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text')
        .addColumn('sealed_secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .execute();
      await db.schema
        .createTable('principals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('principals_name_uq', ['workspace', 'name'])
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('principal_id', 'text', (c) => c.notNull().references('principals.id'))
        .addColumn('prefix', 'text', (c) => c.notNull().unique())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
    },
  },
  '0002-audit-log': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row: the committed size of the log and its origin. Appenders update it first, which takes
      // the row lock (PostgreSQL) or the write lock (SQLite): appends are serialized per store.
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('origin', 'text')
        .execute();
      await sql`INSERT INTO audit_head (id, size, origin) VALUES (1, 0, NULL)`.execute(db);
      await db.schema
        .createTable('audit_entries')
        .addColumn('idx', 'bigint', (c) => c.primaryKey().check(sql`idx >= 0`))
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('event', 'text')
        .addColumn('salt', 'text')
        .addColumn('leaf', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_entries_type_idx')
        .on('audit_entries')
        .columns(['type', 'idx'])
        .execute();
      await db.schema.createIndex('audit_entries_run_idx').on('audit_entries').columns(['run_id']).execute();
      await db.schema.createIndex('audit_entries_time_idx').on('audit_entries').columns(['time']).execute();
      // Interior hashes at heights 8, 16, 24…: the bottom rows of C2SP tlog-tiles, so a proof reads at
      // most one 256-wide tile per level instead of rehashing the log.
      await db.schema
        .createTable('audit_nodes')
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('idx', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_nodes_pk', ['height', 'idx'])
        .execute();
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('size', 'bigint', (c) => c.primaryKey())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003-governance': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Versioned Cedar policy sets: each applied text is kept, identified by its SHA-256.
      await db.schema
        .createTable('policy_sets')
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('applied_by', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        // A version may come back (a rollback applies an earlier text again): one row per application.
        .addPrimaryKeyConstraint('policy_sets_pk', ['workspace', 'seq'])
        .execute();
      await db.schema
        .createIndex('policy_sets_version_idx')
        .on('policy_sets')
        .columns(['workspace', 'version'])
        .execute();
      // A policy change waiting for the approvals the policy in force asks for.
      await db.schema
        .createTable('policy_proposals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('base_version', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('proposer_id', 'text', (c) => c.notNull().references('principals.id'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requirements', 'text', (c) => c.notNull())
        .addColumn('approvals', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('export_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('definition_name', 'text', (c) => c.notNull())
        .addColumn('definition_version', 'text', (c) => c.notNull())
        .addColumn('requester_id', 'text', (c) => c.notNull().references('principals.id'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('justification', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('requirements', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        // Approvals are collected in rounds: a new round starts when earlier approvals expired.
        .addColumn('round', 'bigint', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('export_requests_ws_created_idx')
        .on('export_requests')
        .columns(['workspace', 'created_at'])
        .execute();
      await db.schema
        .createTable('approvals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('export_id', 'text', (c) => c.notNull().references('export_requests.id'))
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('approver_id', 'text', (c) => c.notNull().references('principals.id'))
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('definition_version', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('round', 'bigint', (c) => c.notNull().defaultTo(1))
        // Nobody counts twice: one decision per person, export and round, enforced by the database too.
        .addUniqueConstraint('approvals_once_uq', ['export_id', 'approver_id', 'round'])
        .execute();
      await db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull().references('principals.id'))
        .addColumn('definition_name', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createIndex('grants_principal_idx')
        .on('grants')
        .columns(['workspace', 'principal_id', 'definition_name'])
        .execute();
    },
  },
  '0004-catalog': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Per connection and table: every version of its field classifications, as applied.
      await db.schema
        .createTable('catalog_versions')
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('table_name', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('applied_by', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('catalog_versions_pk', ['workspace', 'connection', 'table_name', 'seq'])
        .execute();
      // The latest scan of each table: what the detectors found (kinds and confidences, never values).
      await db.schema
        .createTable('catalog_scans')
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('table_name', 'text', (c) => c.notNull())
        .addColumn('scanned_at', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('catalog_scans_pk', ['workspace', 'connection', 'table_name'])
        .execute();
    },
  },
  '0005-reversal': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The token vault: each token `tokenize` made, with its value sealed under the key ring.
      await db.schema
        .createTable('token_vault')
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('key_name', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('token_vault_pk', ['workspace', 'token'])
        .execute();
      // Requests to give protected values back (detokenize, decrypt), with their approvals.
      await db.schema
        .createTable('reversal_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key_name', 'text')
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('justification', 'text', (c) => c.notNull())
        .addColumn('requester_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requirements', 'text', (c) => c.notNull())
        .addColumn('approvals', 'text', (c) => c.notNull())
        .addColumn('policy_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('reversal_requests_ws_idx')
        .on('reversal_requests')
        .columns(['workspace', 'created_at'])
        .execute();
    },
  },
  '0007-egress': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The hosts a workspace's destinations may reach (host patterns, optionally with private addresses).
      await db.schema
        .createTable('egress_rules')
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('pattern', 'text', (c) => c.notNull())
        .addColumn('allow_private', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('egress_rules_pk', ['workspace', 'pattern'])
        .execute();
    },
  },
  '0006-principal-attributes': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Attributes of a principal (`region: eu`) that policy row filters read as `requester.region`.
      await db.schema
        .alterTable('principals')
        .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
