import type { ExportDefinition } from '../definitions/export-definition-schema.js';
import type { RunStatus } from '../runs/run-status.js';

export interface DefinitionVersionRecord {
  readonly workspace: string;
  readonly name: string;
  /** `sha256:<hex>` of the canonical JSON of `body`. */
  readonly version: string;
  /** 1, 2, 3… in the order versions were applied. */
  readonly seq: number;
  readonly body: ExportDefinition;
  /** The YAML as applied, for `def show`. */
  readonly sourceText: string;
  readonly appliedBy: string;
  readonly appliedAt: string;
}

export type ConnectionRole = 'source' | 'destination';

export interface ConnectionRecord {
  readonly workspace: string;
  readonly name: string;
  readonly role: ConnectionRole;
  readonly kind: string;
  /** Non-secret settings only. */
  readonly config: Record<string, unknown>;
  /** Sealed secret (AES-256-GCM under the master key) or an env reference; never plain. */
  readonly secret: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RunCounts {
  readonly read: number;
  readonly filtered: number;
  readonly written: number;
}

export interface RunRecord {
  readonly id: string;
  readonly workspace: string;
  readonly definitionName: string;
  readonly definitionVersion: string;
  readonly requester: string;
  readonly purpose: string;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly counts: RunCounts | null;
  /** Where the export is visible once sealed. */
  readonly location: string | null;
  /** sha256 hex of the delivered `waybill.intoto.jsonl`. */
  readonly waybillDigest: string | null;
}

export interface RunTransitionRecord {
  readonly runId: string;
  readonly seq: number;
  readonly status: RunStatus;
  readonly at: string;
  readonly detail: string | null;
}

export type KeyPurpose = 'waybill-signing' | 'log-signing' | 'token-signing' | 'hmac';

export interface KeyRecord {
  readonly id: string;
  readonly workspace: string;
  readonly purpose: KeyPurpose;
  /** Human name (`default` for signing keys; the name definitions use for HMAC keys). */
  readonly name: string;
  readonly algorithm: string;
  /** SPKI PEM for asymmetric keys, null for symmetric ones. */
  readonly publicKey: string | null;
  /** The private/secret key, sealed under the master key. */
  readonly sealedSecret: string;
  readonly createdAt: string;
  readonly retiredAt: string | null;
}

export interface PrincipalRecord {
  readonly id: string;
  readonly workspace: string;
  readonly name: string;
  readonly kind: 'user' | 'service';
  readonly roles: readonly string[];
  readonly createdAt: string;
  /** Attributes policy row filters read as `requester.<name>` (`region: eu`). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Who acts: a principal as services need it (what an access token or an API key establishes). */
export type Caller = Omit<PrincipalRecord, 'createdAt'>;

export interface ApiKeyRecord {
  readonly id: string;
  readonly principalId: string;
  /** Public lookup prefix of the key. */
  readonly prefix: string;
  /** sha256 hex of the whole key; the key itself is never stored. */
  readonly hash: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

/** The roles a principal can hold in its workspace. */
export const ROLES = ['viewer', 'requester', 'approver', 'security', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A stored Cedar policy set version. */
export interface PolicySetRecord {
  readonly workspace: string;
  /** `sha256:<hex>` of the policy text. */
  readonly version: string;
  readonly seq: number;
  readonly text: string;
  readonly appliedBy: string;
  readonly appliedAt: string;
}

/** One decision on a policy proposal. */
export interface PolicyProposalDecision {
  readonly approverId: string;
  readonly approver: string;
  readonly decision: 'approve' | 'reject';
  readonly roles: readonly string[];
  readonly reason: string;
  readonly at: string;
}

/** A policy set waiting for the approvals the policy in force asks for before it applies. */
export interface PolicyProposalRecord {
  readonly id: string;
  readonly workspace: string;
  readonly version: string;
  /** The version in force when it was proposed: it applies only on top of that one. */
  readonly baseVersion: string;
  readonly text: string;
  readonly proposerId: string;
  readonly status: 'pending_approval' | 'applied' | 'rejected' | 'superseded';
  readonly requirements: readonly ApprovalRequirement[];
  readonly approvals: readonly PolicyProposalDecision[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A host a workspace's destinations may reach: `hooks.example.com`, `*.partner.org`, `10.0.0.5:8443`. */
export interface EgressRule {
  readonly pattern: string;
  /** Whether the host may resolve to a loopback, private or link-local address (refused otherwise). */
  readonly allowPrivate: boolean;
  readonly createdBy?: string;
  readonly createdAt?: string;
}

/** One entry of the token vault: a token and its value, sealed under the key ring. */
export interface TokenVaultRecord {
  readonly token: string;
  readonly keyName: string;
  readonly keyId: string;
  readonly sealed: string;
}

/** What a reversal gives back: tokens to their values (`detokenize`), or encrypted values (`decrypt`). */
export type ReversalKind = 'detokenize' | 'decrypt';

/** A request to give protected values back, approved like an export (separation of duties). */
export interface ReversalRequestRecord {
  readonly id: string;
  readonly workspace: string;
  readonly kind: ReversalKind;
  /** `decrypt`: the key ring's key the values were encrypted under. */
  readonly keyName: string | null;
  /** The tokens or encrypted values to give back (not secret: they are what was exported). */
  readonly items: readonly string[];
  readonly justification: string;
  readonly requesterId: string;
  readonly status: 'pending_approval' | 'approved' | 'denied' | 'rejected' | 'revealed';
  readonly requirements: readonly ApprovalRequirement[];
  readonly approvals: readonly PolicyProposalDecision[];
  /** The policies that decided the request. */
  readonly policyIds: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The classification of one field (column) of a source table. */
export interface FieldClassification {
  readonly sensitivity: 'public' | 'internal' | 'confidential' | 'restricted';
  /** What kind of personal data it holds, if any (`email`, `national_id`, `free_text`…). */
  readonly piiKind?: string;
  /** How long it may be kept (ISO 8601 duration). */
  readonly retention?: string;
  /** `gdpr`, `hipaa`, `pci`, `ccpa`… */
  readonly regulations?: readonly string[];
  /** The purposes it may be used for; every purpose when absent. */
  readonly purposes?: readonly string[];
  readonly description?: string;
}

/** One version of the classifications of a table's fields. */
export interface CatalogVersionRecord {
  readonly workspace: string;
  readonly connection: string;
  readonly table: string;
  readonly seq: number;
  /** `sha256:<hex>` of the canonical JSON of `fields`. */
  readonly version: string;
  readonly fields: Readonly<Record<string, FieldClassification>>;
  readonly appliedBy: string;
  readonly appliedAt: string;
}

/** The latest scan of a table: per column, the kinds found and how sure (never a value). */
export interface CatalogScanRecord {
  readonly workspace: string;
  readonly connection: string;
  readonly table: string;
  readonly scannedAt: string;
  readonly columns: readonly {
    readonly column: string;
    readonly likelyPii: boolean;
    readonly piiKind: string | null;
    readonly confidence: number;
    readonly proposed: string;
  }[];
}

/** `business` (the usual), `exception` (asked although policy denies it), `investigation` (by security). */
export type ExportRequestKind = 'business' | 'exception' | 'investigation';

export type ExportRequestStatus =
  | 'denied'
  | 'pending_approval'
  | 'approved'
  | 'rejected'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled'
  /** The definition changed after the request: its approvals are void; request it again. */
  | 'void';

/** `count` approvals by people holding `role` (`any`: any approving role) are needed. */
export interface ApprovalRequirement {
  readonly role: 'approver' | 'security' | 'admin' | 'any';
  readonly count: number;
}

/** What the policy engine decided for a request, and why. */
export interface PolicyDecisionRecord {
  readonly decision: 'allow' | 'deny';
  /** The ids of the policies that determined the decision. */
  readonly policyIds: readonly string[];
  /** The policy set version that decided. */
  readonly policySet: string;
}

export interface ExportRequestRecord {
  readonly id: string;
  readonly workspace: string;
  readonly definitionName: string;
  /** The definition version requested; approvals hold for this version only. */
  readonly definitionVersion: string;
  readonly requesterId: string;
  readonly purpose: string;
  readonly justification: string | null;
  readonly kind: ExportRequestKind;
  readonly status: ExportRequestStatus;
  /** Why it is denied or pending, for people. */
  readonly reasons: readonly string[];
  /** The approvals it needs (empty when none). */
  readonly requirements: readonly ApprovalRequirement[];
  readonly decision: PolicyDecisionRecord;
  readonly runId: string | null;
  /** Approvals count only in the current round; a round ends when its approvals expired. */
  readonly round: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ApprovalRecord {
  readonly id: string;
  readonly exportId: string;
  readonly workspace: string;
  readonly approverId: string;
  readonly decision: 'approve' | 'reject';
  readonly reason: string;
  /** The approver's roles when approving: what the approval counts for. */
  readonly roles: readonly string[];
  /** The definition version approved; a newer version voids the approval. */
  readonly definitionVersion: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** The export's approval round it was given in. */
  readonly round: number;
}

/** A time-bound grant: `principalId` may request and run `definitionName` until `expiresAt`. */
export interface GrantRecord {
  readonly id: string;
  readonly workspace: string;
  readonly principalId: string;
  readonly definitionName: string;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
}

/** One entry of the audit log (ARCHITECTURE.md "The audit log"). Hashes are lowercase hex. */
export interface AuditEntryRecord {
  /** 0-based position in the log. */
  readonly index: number;
  readonly workspace: string;
  readonly type: string;
  /** Empty once the entry is redacted. */
  readonly actor: string;
  readonly time: string;
  /** The run the event is about, for search; null for other events or once redacted. */
  readonly runId: string | null;
  /** RFC 8785 canonical JSON of the event; null once redacted (erased). */
  readonly event: string | null;
  /** base64 of the 32-byte salt; null once redacted. */
  readonly salt: string | null;
  /** The 32-byte leaf commitment `SHA-256(domain || salt || event)`. */
  readonly leaf: string;
  /** `SHA-256(0x00 || leaf)`. */
  readonly leafHash: string;
}

/** A node of the audit log's Merkle tree: height 0 is a leaf, node `i` at height `h` covers leaves [i·2^h, (i+1)·2^h). */
export interface AuditNodeKey {
  readonly height: number;
  readonly index: number;
}

/** A signed checkpoint of the audit log. */
export interface AuditCheckpointRecord {
  readonly size: number;
  /** Root hash at `size`, hex. */
  readonly rootHash: string;
  /** The C2SP signed note, verbatim. */
  readonly note: string;
  readonly createdAt: string;
}

export interface AuditSearch {
  readonly type?: string;
  readonly actor?: string;
  /** RFC 3339; entries at or after. */
  readonly since?: string;
  readonly runId?: string;
  readonly workspace?: string;
  /** Entries from this index on. */
  readonly from?: number;
  readonly limit: number;
  /** Newest first. */
  readonly descending?: boolean;
}

/**
 * Persistence of Waybill's state. Adapters (SQLite, PostgreSQL) live in `@waybill/store`; core only sees
 * this port. Every method that changes state can run inside `transaction`.
 */
export interface Store {
  readonly kind: string;
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;

  insertDefinitionVersion(record: DefinitionVersionRecord): Promise<void>;
  latestDefinition(workspace: string, name: string): Promise<DefinitionVersionRecord | undefined>;
  /** Only the version digest of the latest definition version (cheap: no body). */
  latestDefinitionVersion(workspace: string, name: string): Promise<string | undefined>;
  getDefinitionVersion(
    workspace: string,
    name: string,
    version: string,
  ): Promise<DefinitionVersionRecord | undefined>;
  definitionHistory(workspace: string, name: string): Promise<DefinitionVersionRecord[]>;
  listDefinitions(workspace: string): Promise<DefinitionVersionRecord[]>;

  upsertConnection(record: ConnectionRecord): Promise<void>;
  getConnection(workspace: string, role: ConnectionRole, name: string): Promise<ConnectionRecord | undefined>;
  listConnections(workspace: string, role?: ConnectionRole): Promise<ConnectionRecord[]>;
  deleteConnection(workspace: string, role: ConnectionRole, name: string): Promise<boolean>;

  insertRun(record: RunRecord, transition: RunTransitionRecord): Promise<void>;
  /** Moves a run to `patch.status` only if it is still in `from` (optimistic check); false otherwise. */
  updateRun(
    id: string,
    from: RunStatus,
    patch: Partial<Omit<RunRecord, 'id' | 'workspace'>> & { status: RunStatus; updatedAt: string },
    transition: RunTransitionRecord,
  ): Promise<boolean>;
  getRun(workspace: string, id: string): Promise<RunRecord | undefined>;
  listRuns(workspace: string, options?: { limit?: number }): Promise<RunRecord[]>;
  runTransitions(runId: string): Promise<RunTransitionRecord[]>;

  insertKey(record: KeyRecord): Promise<void>;
  listKeys(workspace: string, purpose?: KeyPurpose): Promise<KeyRecord[]>;
  /** Marks a key retired (no longer used to sign; still trusted for what it signed). */
  retireKey(id: string, retiredAt: string): Promise<boolean>;
  /** Replaces a key's sealed secret (re-wrapped under a new master key); false when there is no such key. */
  resealKey(id: string, sealedSecret: string): Promise<boolean>;

  insertPrincipal(record: PrincipalRecord): Promise<void>;
  getPrincipal(id: string): Promise<PrincipalRecord | undefined>;
  listPrincipals(workspace: string): Promise<PrincipalRecord[]>;
  insertApiKey(record: ApiKeyRecord): Promise<void>;
  findApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | undefined>;
  getPrincipalByName(workspace: string, name: string): Promise<PrincipalRecord | undefined>;
  /** Replaces a principal's roles; false when there is no such principal. */
  updatePrincipalRoles(id: string, roles: readonly string[]): Promise<boolean>;
  /** Replaces a principal's attributes; false when there is no such principal. */
  updatePrincipalAttributes(id: string, attributes: Readonly<Record<string, string>>): Promise<boolean>;
  listApiKeys(principalId: string): Promise<ApiKeyRecord[]>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Marks an API key revoked; false when it does not exist or already is. */
  revokeApiKey(id: string, at: string): Promise<boolean>;

  insertPolicySet(record: PolicySetRecord): Promise<void>;
  latestPolicySet(workspace: string): Promise<PolicySetRecord | undefined>;
  /** Only the version of the latest policy set (cheap: asked at every decision). */
  latestPolicySetVersion(workspace: string): Promise<string | undefined>;
  getPolicySet(workspace: string, version: string): Promise<PolicySetRecord | undefined>;
  policySetHistory(workspace: string): Promise<PolicySetRecord[]>;
  insertPolicyProposal(record: PolicyProposalRecord): Promise<void>;
  getPolicyProposal(workspace: string, id: string): Promise<PolicyProposalRecord | undefined>;
  listPolicyProposals(workspace: string): Promise<PolicyProposalRecord[]>;
  /** Updates a proposal only if it was last updated at `updatedAt` (optimistic check); false otherwise. */
  updatePolicyProposal(
    workspace: string,
    id: string,
    updatedAt: string,
    patch: Pick<PolicyProposalRecord, 'status' | 'approvals' | 'updatedAt'>,
  ): Promise<boolean>;

  /** Stores token-vault entries made by run `runId`; a token already in the vault is kept as it is. */
  saveTokens(
    workspace: string,
    entries: readonly TokenVaultRecord[],
    runId: string,
    at: string,
  ): Promise<void>;
  /** The vault entries of these tokens (those that exist). */
  findTokens(workspace: string, tokens: readonly string[]): Promise<TokenVaultRecord[]>;
  /** Adds or replaces an egress rule of a workspace. */
  saveEgressRule(workspace: string, rule: Required<EgressRule>): Promise<void>;
  listEgressRules(workspace: string): Promise<EgressRule[]>;
  /** Removes an egress rule; false when there was none. */
  deleteEgressRule(workspace: string, pattern: string): Promise<boolean>;
  insertReversal(record: ReversalRequestRecord): Promise<void>;
  getReversal(workspace: string, id: string): Promise<ReversalRequestRecord | undefined>;
  listReversals(workspace: string): Promise<ReversalRequestRecord[]>;
  /** Updates a reversal only if it was last updated at `updatedAt` (optimistic check); false otherwise. */
  updateReversal(
    workspace: string,
    id: string,
    updatedAt: string,
    patch: Pick<ReversalRequestRecord, 'status' | 'approvals' | 'updatedAt'>,
  ): Promise<boolean>;

  insertCatalogVersion(record: CatalogVersionRecord): Promise<void>;
  latestCatalog(
    workspace: string,
    connection: string,
    table: string,
  ): Promise<CatalogVersionRecord | undefined>;
  catalogHistory(workspace: string, connection: string, table: string): Promise<CatalogVersionRecord[]>;
  /** The latest version of every catalogued table (of one connection, when given). */
  listCatalogs(workspace: string, connection?: string): Promise<CatalogVersionRecord[]>;
  /** Stores a table's scan, replacing the previous one. */
  saveCatalogScan(record: CatalogScanRecord): Promise<void>;
  latestCatalogScan(
    workspace: string,
    connection: string,
    table: string,
  ): Promise<CatalogScanRecord | undefined>;

  insertExportRequest(record: ExportRequestRecord): Promise<void>;
  getExportRequest(workspace: string, id: string): Promise<ExportRequestRecord | undefined>;
  listExportRequests(
    workspace: string,
    options?: { kind?: ExportRequestKind; limit?: number },
  ): Promise<ExportRequestRecord[]>;
  /** Updates a request only if it is still in `from` (optimistic check); false otherwise. */
  updateExportRequest(
    workspace: string,
    id: string,
    from: ExportRequestStatus,
    patch: Partial<Pick<ExportRequestRecord, 'reasons' | 'requirements' | 'decision' | 'runId' | 'round'>> & {
      status: ExportRequestStatus;
      updatedAt: string;
    },
    /** Also require this `updatedAt` (nobody changed it since it was read). */
    ifUpdatedAt?: string,
  ): Promise<boolean>;
  /** Stores an approval or rejection; `ERR_WAYBILL_CONFLICT` when this person already decided. */
  insertApproval(record: ApprovalRecord): Promise<void>;
  listApprovals(workspace: string, exportId: string): Promise<ApprovalRecord[]>;

  insertGrant(record: GrantRecord): Promise<void>;
  getGrant(workspace: string, id: string): Promise<GrantRecord | undefined>;
  listGrants(
    workspace: string,
    filter?: { principalId?: string; definitionName?: string },
  ): Promise<GrantRecord[]>;
  /** Marks a grant revoked; false when it does not exist in the workspace or already is. */
  revokeGrant(workspace: string, id: string, at: string): Promise<boolean>;

  /** The log's committed size and its origin (null until set). */
  auditHead(): Promise<{ readonly size: number; readonly origin: string | null }>;
  /** Sets the log's origin unless it has one; returns the origin in force. */
  initAuditOrigin(origin: string): Promise<string>;
  /**
   * Reserves `count` consecutive indexes and returns the first. Serializes appenders: the log stays
   * locked for others until the surrounding transaction ends. Call inside `transaction`.
   */
  reserveAuditIndexes(count: number): Promise<number>;
  insertAuditEntries(records: readonly AuditEntryRecord[]): Promise<void>;
  /** Entries with `from <= index`, in index order, at most `limit`. */
  auditEntries(from: number, limit: number): Promise<AuditEntryRecord[]>;
  /** Leaf hashes of the entries with `from <= index < to`, in index order (fewer if rows are missing). */
  auditLeafHashes(from: number, to: number): Promise<{ index: number; hash: string }[]>;
  /** Stores hashes of complete subtrees (height >= 1), each written once. */
  insertAuditNodes(nodes: readonly (AuditNodeKey & { hash: string })[]): Promise<void>;
  /** Stored interior hashes at `height` with `from <= index < to`, in index order. */
  auditNodes(height: number, from: number, to: number): Promise<{ index: number; hash: string }[]>;
  /** The stored hashes of these nodes (leaf hashes for height 0); missing ones are left out. */
  auditTreeHashes(keys: readonly AuditNodeKey[]): Promise<(AuditNodeKey & { hash: string })[]>;
  /** Erases an entry's event and salt (its leaf stays); false when there is no such unredacted entry. */
  redactAuditEntry(index: number): Promise<boolean>;
  searchAuditEntries(query: AuditSearch): Promise<AuditEntryRecord[]>;
  /** Stores a checkpoint; one already stored for the same size is kept. */
  insertAuditCheckpoint(record: AuditCheckpointRecord): Promise<void>;
  /** Every stored checkpoint, by size. */
  auditCheckpoints(): Promise<AuditCheckpointRecord[]>;
  latestAuditCheckpoint(): Promise<AuditCheckpointRecord | undefined>;
  /**
   * Entry `index`, the checkpoint of `size` (default the latest) and, optionally, the tree nodes a proof
   * is expected to need, in one read. Entry or checkpoint are undefined when missing.
   */
  auditEntryAndCheckpoint(
    index: number,
    size?: number,
    nodes?: readonly AuditNodeKey[],
  ): Promise<{
    entry?: AuditEntryRecord;
    checkpoint?: AuditCheckpointRecord;
    /** The stored hashes of `nodes` found (as `auditTreeHashes`), read in the same round trip. */
    hashes: (AuditNodeKey & { hash: string })[];
  }>;
  auditCheckpointAt(size: number): Promise<AuditCheckpointRecord | undefined>;
}
