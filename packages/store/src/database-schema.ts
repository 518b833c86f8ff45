import type { ColumnType } from 'kysely';

/** Counts are BIGINT in PostgreSQL (returned as strings by `pg`) and INTEGER in SQLite. */
type Count = ColumnType<number | string, number, number>;

export interface DefinitionsTable {
  workspace: string;
  name: string;
  version: string;
  seq: Count;
  body: string;
  source_text: string;
  applied_by: string;
  applied_at: string;
}

export interface ConnectionsTable {
  workspace: string;
  role: string;
  name: string;
  kind: string;
  config: string;
  secret: string | null;
  created_at: string;
  updated_at: string;
}

export interface RunsTable {
  id: string;
  workspace: string;
  definition_name: string;
  definition_version: string;
  requester: string;
  purpose: string;
  status: string;
  created_at: string;
  updated_at: string;
  error_code: string | null;
  error_message: string | null;
  rows_read: Count | null;
  rows_filtered: Count | null;
  rows_written: Count | null;
  location: string | null;
  waybill_digest: string | null;
}

export interface RunTransitionsTable {
  run_id: string;
  seq: Count;
  status: string;
  at: string;
  detail: string | null;
}

export interface KeysTable {
  id: string;
  workspace: string;
  purpose: string;
  name: string;
  algorithm: string;
  public_key: string | null;
  sealed_secret: string;
  created_at: string;
  retired_at: string | null;
}

export interface PrincipalsTable {
  id: string;
  workspace: string;
  name: string;
  kind: string;
  roles: string;
  created_at: string;
  /** JSON object of string attributes; '{}' by default. */
  attributes: ColumnType<string, string | undefined, string>;
}

export interface ApiKeysTable {
  id: string;
  principal_id: string;
  prefix: string;
  hash: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface AuditHeadTable {
  id: number;
  size: number | string;
  origin: string | null;
}

export interface AuditEntriesTable {
  idx: number | string;
  workspace: string;
  type: string;
  actor: string;
  time: string;
  run_id: string | null;
  event: string | null;
  salt: string | null;
  leaf: string;
  leaf_hash: string;
}

export interface AuditNodesTable {
  height: number;
  idx: number | string;
  hash: string;
}

export interface AuditCheckpointsTable {
  size: number | string;
  root_hash: string;
  note: string;
  created_at: string;
}

export interface PolicySetsTable {
  workspace: string;
  version: string;
  seq: Count;
  text: string;
  applied_by: string;
  applied_at: string;
}

export interface PolicyProposalsTable {
  id: string;
  workspace: string;
  version: string;
  base_version: string;
  text: string;
  proposer_id: string;
  status: string;
  requirements: string;
  approvals: string;
  created_at: string;
  updated_at: string;
}

export interface ExportRequestsTable {
  id: string;
  workspace: string;
  definition_name: string;
  definition_version: string;
  requester_id: string;
  purpose: string;
  justification: string | null;
  kind: string;
  status: string;
  reasons: string;
  requirements: string;
  decision: string;
  run_id: string | null;
  round: Count;
  created_at: string;
  updated_at: string;
}

export interface ApprovalsTable {
  id: string;
  export_id: string;
  workspace: string;
  approver_id: string;
  decision: string;
  reason: string;
  roles: string;
  definition_version: string;
  created_at: string;
  expires_at: string;
  round: Count;
}

export interface GrantsTable {
  id: string;
  workspace: string;
  principal_id: string;
  definition_name: string;
  reason: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface CatalogVersionsTable {
  workspace: string;
  connection: string;
  table_name: string;
  seq: Count;
  version: string;
  body: string;
  applied_by: string;
  applied_at: string;
}

export interface EgressRulesTable {
  workspace: string;
  pattern: string;
  allow_private: number;
  created_by: string;
  created_at: string;
}

export interface TokenVaultTable {
  workspace: string;
  token: string;
  key_name: string;
  key_id: string;
  sealed: string;
  run_id: string;
  created_at: string;
}

export interface ReversalRequestsTable {
  id: string;
  workspace: string;
  kind: string;
  key_name: string | null;
  items: string;
  justification: string;
  requester_id: string;
  status: string;
  requirements: string;
  approvals: string;
  policy_ids: string;
  created_at: string;
  updated_at: string;
}

export interface CatalogScansTable {
  workspace: string;
  connection: string;
  table_name: string;
  scanned_at: string;
  body: string;
}

/** The one schema both the SQLite and the PostgreSQL store use. */
export interface Database {
  definitions: DefinitionsTable;
  connections: ConnectionsTable;
  runs: RunsTable;
  run_transitions: RunTransitionsTable;
  keys: KeysTable;
  principals: PrincipalsTable;
  api_keys: ApiKeysTable;
  audit_head: AuditHeadTable;
  audit_entries: AuditEntriesTable;
  audit_nodes: AuditNodesTable;
  audit_checkpoints: AuditCheckpointsTable;
  policy_sets: PolicySetsTable;
  policy_proposals: PolicyProposalsTable;
  export_requests: ExportRequestsTable;
  approvals: ApprovalsTable;
  grants: GrantsTable;
  catalog_versions: CatalogVersionsTable;
  catalog_scans: CatalogScansTable;
  token_vault: TokenVaultTable;
  egress_rules: EgressRulesTable;
  reversal_requests: ReversalRequestsTable;
}
