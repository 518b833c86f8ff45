import { CompiledQuery, Migrator, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  ApiKeyRecord,
  AuditCheckpointRecord,
  AuditEntryRecord,
  AuditNodeKey,
  AuditSearch,
  ConnectionRecord,
  ConnectionRole,
  DefinitionVersionRecord,
  ExportDefinition,
  KeyPurpose,
  KeyRecord,
  PrincipalRecord,
  PolicySetRecord,
  CatalogVersionRecord,
  CatalogScanRecord,
  ReversalRequestRecord,
  TokenVaultRecord,
  EgressRule,
  PolicyProposalRecord,
  PolicyProposalDecision,
  ExportRequestRecord,
  ExportRequestKind,
  ExportRequestStatus,
  ApprovalRequirement,
  ApprovalRecord,
  PolicyDecisionRecord,
  GrantRecord,
  RunRecord,
  RunStatus,
  RunTransitionRecord,
  Store,
} from '@waybill/core';
import { WaybillError, wrapError } from '@waybill/core';
import type { AuditEntriesTable, Database, DefinitionsTable, RunsTable } from './database-schema.js';
import { migrationProvider } from './migrations.js';

const num = (v: number | string | null): number => (v === null ? 0 : Number(v));

function toDefinition(r: Selectable<DefinitionsTable>): DefinitionVersionRecord {
  return {
    workspace: r.workspace,
    name: r.name,
    version: r.version,
    seq: num(r.seq),
    body: JSON.parse(r.body) as ExportDefinition,
    sourceText: r.source_text,
    appliedBy: r.applied_by,
    appliedAt: r.applied_at,
  };
}

function toRun(r: Selectable<RunsTable>): RunRecord {
  return {
    id: r.id,
    workspace: r.workspace,
    definitionName: r.definition_name,
    definitionVersion: r.definition_version,
    requester: r.requester,
    purpose: r.purpose,
    status: r.status as RunStatus,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    counts:
      r.rows_read === null
        ? null
        : { read: num(r.rows_read), filtered: num(r.rows_filtered), written: num(r.rows_written) },
    location: r.location,
    waybillDigest: r.waybill_digest,
  };
}

/** A pg-style `query(text, values)`. */
export interface RawQuery {
  query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

/** One proof's reads in one statement (PostgreSQL): see `auditEntryAndCheckpoint`. */
const PROOF_READ_SQL = (latest: boolean): string => `
  (SELECT 'c' AS kind, size::text AS a, note AS b, root_hash AS c, created_at AS d, NULL::text AS e,
          NULL::text AS f, NULL::text AS g, NULL::text AS h, NULL::text AS i, NULL::text AS j
     FROM audit_checkpoints ${latest ? 'WHERE $2::bigint IS NULL ORDER BY size DESC LIMIT 1' : 'WHERE size = $2'})
  UNION ALL
  SELECT 'e', idx::text, workspace, type, actor, time, run_id, event, salt, leaf, leaf_hash
    FROM audit_entries WHERE idx = $1
  UNION ALL
  SELECT 'l', idx::text, leaf_hash, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM audit_entries WHERE idx = ANY($3::bigint[])
  UNION ALL
  SELECT 'n', n.idx::text, n.hash, n.height::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM audit_nodes n JOIN unnest($4::int[], $5::bigint[]) AS k(h, i) ON n.height = k.h AND n.idx = k.i`;

/**
 * The `Store` port over Kysely: one implementation for SQLite and PostgreSQL, the dialect handed in.
 * Driver errors are wrapped as `ERR_WAYBILL_STORE_FAILED` with the original as `cause`.
 */
export class KyselyStore implements Store {
  constructor(
    readonly kind: string,
    private readonly db: Kysely<Database>,
    private readonly inTransaction = false,
    private readonly onClose?: () => Promise<void>,
    /**
     * The PostgreSQL pool itself, for the one hot read path (a proof's entry, checkpoint and nodes):
     * a parameterized statement sent straight to the pool, without the query builder's allocations.
     */
    private readonly raw?: RawQuery,
  ) {}

  /** Applies every pending migration. */
  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw wrapError(
        error,
        'ERR_WAYBILL_STORE_FAILED',
        `store migration ${failed?.migrationName ?? ''} failed`,
      );
    }
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.db
      .transaction()
      .execute((trx: Transaction<Database>) => fn(new KyselyStore(this.kind, trx, true)));
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.onClose?.();
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WaybillError) throw err;
      // Two writers made the same thing at once (or it exists already): a conflict, not a broken store.
      if (isUniqueViolation(err)) {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `store: ${what} failed: it exists already (perhaps made at the same moment); look again and retry`,
          { cause: err },
        );
      }
      throw wrapError(err, 'ERR_WAYBILL_STORE_FAILED', `store: ${what} failed: ${(err as Error).message}`);
    }
  }

  insertDefinitionVersion(r: DefinitionVersionRecord): Promise<void> {
    return this.guard('saving a definition', async () => {
      await this.db
        .insertInto('definitions')
        .values({
          workspace: r.workspace,
          name: r.name,
          version: r.version,
          seq: r.seq,
          body: JSON.stringify(r.body),
          source_text: r.sourceText,
          applied_by: r.appliedBy,
          applied_at: r.appliedAt,
        })
        .execute();
    });
  }

  latestDefinition(workspace: string, name: string): Promise<DefinitionVersionRecord | undefined> {
    return this.guard('reading a definition', async () => {
      const r = await this.db
        .selectFrom('definitions')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('name', '=', name)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r && toDefinition(r);
    });
  }

  getDefinitionVersion(
    workspace: string,
    name: string,
    version: string,
  ): Promise<DefinitionVersionRecord | undefined> {
    return this.guard('reading a definition', async () => {
      const r = await this.db
        .selectFrom('definitions')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('name', '=', name)
        .where('version', '=', version)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r && toDefinition(r);
    });
  }

  definitionHistory(workspace: string, name: string): Promise<DefinitionVersionRecord[]> {
    return this.guard('reading definition history', async () => {
      const rows = await this.db
        .selectFrom('definitions')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('name', '=', name)
        .orderBy('seq', 'asc')
        .execute();
      return rows.map(toDefinition);
    });
  }

  listDefinitions(workspace: string): Promise<DefinitionVersionRecord[]> {
    return this.guard('listing definitions', async () => {
      const rows = await this.db
        .selectFrom('definitions as d')
        .selectAll('d')
        .where('d.workspace', '=', workspace)
        .where((eb) =>
          eb(
            'd.seq',
            '=',
            eb
              .selectFrom('definitions as m')
              .select((qb) => qb.fn.max('m.seq').as('s'))
              .whereRef('m.workspace', '=', 'd.workspace')
              .whereRef('m.name', '=', 'd.name'),
          ),
        )
        .orderBy('d.name')
        .execute();
      return rows.map(toDefinition);
    });
  }

  upsertConnection(r: ConnectionRecord): Promise<void> {
    return this.guard('saving a connection', async () => {
      await this.db
        .insertInto('connections')
        .values({
          workspace: r.workspace,
          role: r.role,
          name: r.name,
          kind: r.kind,
          config: JSON.stringify(r.config),
          secret: r.secret,
          created_at: r.createdAt,
          updated_at: r.updatedAt,
        })
        .onConflict((oc) =>
          oc.columns(['workspace', 'role', 'name']).doUpdateSet({
            kind: r.kind,
            config: JSON.stringify(r.config),
            secret: r.secret,
            updated_at: r.updatedAt,
          }),
        )
        .execute();
    });
  }

  getConnection(
    workspace: string,
    role: ConnectionRole,
    name: string,
  ): Promise<ConnectionRecord | undefined> {
    return this.guard('reading a connection', async () => {
      const r = await this.db
        .selectFrom('connections')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('role', '=', role)
        .where('name', '=', name)
        .executeTakeFirst();
      return r && toConnection(r);
    });
  }

  listConnections(workspace: string, role?: ConnectionRole): Promise<ConnectionRecord[]> {
    return this.guard('listing connections', async () => {
      let q = this.db.selectFrom('connections').selectAll().where('workspace', '=', workspace);
      if (role) q = q.where('role', '=', role);
      return (await q.orderBy('role').orderBy('name').execute()).map(toConnection);
    });
  }

  deleteConnection(workspace: string, role: ConnectionRole, name: string): Promise<boolean> {
    return this.guard('removing a connection', async () => {
      const r = await this.db
        .deleteFrom('connections')
        .where('workspace', '=', workspace)
        .where('role', '=', role)
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  insertRun(r: RunRecord, t: RunTransitionRecord): Promise<void> {
    return this.guard('creating a run', () =>
      this.transaction(async (tx) => {
        const db = (tx as KyselyStore).db;
        await db
          .insertInto('runs')
          .values({
            id: r.id,
            workspace: r.workspace,
            definition_name: r.definitionName,
            definition_version: r.definitionVersion,
            requester: r.requester,
            purpose: r.purpose,
            status: r.status,
            created_at: r.createdAt,
            updated_at: r.updatedAt,
            error_code: r.errorCode,
            error_message: r.errorMessage,
            rows_read: r.counts?.read ?? null,
            rows_filtered: r.counts?.filtered ?? null,
            rows_written: r.counts?.written ?? null,
            location: r.location,
            waybill_digest: r.waybillDigest,
          })
          .execute();
        await insertTransition(db, t);
      }),
    );
  }

  updateRun(
    id: string,
    from: RunStatus,
    patch: Partial<Omit<RunRecord, 'id' | 'workspace'>> & { status: RunStatus; updatedAt: string },
    t: RunTransitionRecord,
  ): Promise<boolean> {
    return this.guard('updating a run', () =>
      this.transaction(async (tx) => {
        const db = (tx as KyselyStore).db;
        const res = await db
          .updateTable('runs')
          .set({
            status: patch.status,
            updated_at: patch.updatedAt,
            ...(patch.errorCode !== undefined ? { error_code: patch.errorCode } : {}),
            ...(patch.errorMessage !== undefined ? { error_message: patch.errorMessage } : {}),
            ...(patch.counts
              ? {
                  rows_read: patch.counts.read,
                  rows_filtered: patch.counts.filtered,
                  rows_written: patch.counts.written,
                }
              : {}),
            ...(patch.location !== undefined ? { location: patch.location } : {}),
            ...(patch.waybillDigest !== undefined ? { waybill_digest: patch.waybillDigest } : {}),
          })
          .where('id', '=', id)
          .where('status', '=', from)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) return false;
        await insertTransition(db, t);
        return true;
      }),
    );
  }

  getRun(workspace: string, id: string): Promise<RunRecord | undefined> {
    return this.guard('reading a run', async () => {
      const r = await this.db
        .selectFrom('runs')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && toRun(r);
    });
  }

  listRuns(workspace: string, options: { limit?: number } = {}): Promise<RunRecord[]> {
    return this.guard('listing runs', async () => {
      const rows = await this.db
        .selectFrom('runs')
        .selectAll()
        .where('workspace', '=', workspace)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(options.limit ?? 50)
        .execute();
      return rows.map(toRun);
    });
  }

  runTransitions(runId: string): Promise<RunTransitionRecord[]> {
    return this.guard('reading run transitions', async () => {
      const rows = await this.db
        .selectFrom('run_transitions')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({
        runId: r.run_id,
        seq: num(r.seq),
        status: r.status as RunStatus,
        at: r.at,
        detail: r.detail,
      }));
    });
  }

  insertKey(r: KeyRecord): Promise<void> {
    return this.guard('saving a key', async () => {
      await this.db
        .insertInto('keys')
        .values({
          id: r.id,
          workspace: r.workspace,
          purpose: r.purpose,
          name: r.name,
          algorithm: r.algorithm,
          public_key: r.publicKey,
          sealed_secret: r.sealedSecret,
          created_at: r.createdAt,
          retired_at: r.retiredAt,
        })
        .execute();
    });
  }

  listKeys(workspace: string, purpose?: KeyPurpose): Promise<KeyRecord[]> {
    return this.guard('listing keys', async () => {
      let q = this.db.selectFrom('keys').selectAll().where('workspace', '=', workspace);
      if (purpose) q = q.where('purpose', '=', purpose);
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        workspace: r.workspace,
        purpose: r.purpose as KeyPurpose,
        name: r.name,
        algorithm: r.algorithm,
        publicKey: r.public_key,
        sealedSecret: r.sealed_secret,
        createdAt: r.created_at,
        retiredAt: r.retired_at,
      }));
    });
  }

  insertPrincipal(r: PrincipalRecord): Promise<void> {
    return this.guard('saving a principal', async () => {
      await this.db
        .insertInto('principals')
        .values({
          id: r.id,
          workspace: r.workspace,
          name: r.name,
          kind: r.kind,
          roles: JSON.stringify(r.roles),
          created_at: r.createdAt,
          attributes: JSON.stringify(r.attributes ?? {}),
        })
        .execute();
    });
  }

  getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
    return this.guard('reading a principal', async () => {
      const r = await this.db.selectFrom('principals').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toPrincipal(r);
    });
  }

  listPrincipals(workspace: string): Promise<PrincipalRecord[]> {
    return this.guard('listing principals', async () => {
      const rows = await this.db
        .selectFrom('principals')
        .selectAll()
        .where('workspace', '=', workspace)
        .orderBy('created_at')
        .execute();
      return rows.map(toPrincipal);
    });
  }

  insertApiKey(r: ApiKeyRecord): Promise<void> {
    return this.guard('saving an API key', async () => {
      await this.db
        .insertInto('api_keys')
        .values({
          id: r.id,
          principal_id: r.principalId,
          prefix: r.prefix,
          hash: r.hash,
          created_at: r.createdAt,
          expires_at: r.expiresAt,
          revoked_at: r.revokedAt,
        })
        .execute();
    });
  }

  findApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | undefined> {
    return this.guard('reading an API key', async () => {
      const r = await this.db
        .selectFrom('api_keys')
        .selectAll()
        .where('prefix', '=', prefix)
        .executeTakeFirst();
      return r && toApiKey(r);
    });
  }

  getPrincipalByName(workspace: string, name: string): Promise<PrincipalRecord | undefined> {
    return this.guard('reading a principal', async () => {
      const r = await this.db
        .selectFrom('principals')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('name', '=', name)
        .executeTakeFirst();
      return r && toPrincipal(r);
    });
  }

  updatePrincipalRoles(id: string, roles: readonly string[]): Promise<boolean> {
    return this.guard('updating a principal', async () => {
      const res = await this.db
        .updateTable('principals')
        .set({ roles: JSON.stringify(roles) })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  updatePrincipalAttributes(id: string, attributes: Readonly<Record<string, string>>): Promise<boolean> {
    return this.guard('updating a principal', async () => {
      const res = await this.db
        .updateTable('principals')
        .set({ attributes: JSON.stringify(attributes) })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  listApiKeys(principalId: string): Promise<ApiKeyRecord[]> {
    return this.guard('listing API keys', async () => {
      const rows = await this.db
        .selectFrom('api_keys')
        .selectAll()
        .where('principal_id', '=', principalId)
        .orderBy('created_at')
        .execute();
      return rows.map(toApiKey);
    });
  }

  getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.guard('reading an API key', async () => {
      const r = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toApiKey(r);
    });
  }

  revokeApiKey(id: string, at: string): Promise<boolean> {
    return this.guard('revoking an API key', async () => {
      const res = await this.db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  insertPolicySet(r: PolicySetRecord): Promise<void> {
    return this.guard('saving a policy set', async () => {
      await this.db
        .insertInto('policy_sets')
        .values({
          workspace: r.workspace,
          version: r.version,
          seq: r.seq,
          text: r.text,
          applied_by: r.appliedBy,
          applied_at: r.appliedAt,
        })
        .execute();
    });
  }

  latestPolicySet(workspace: string): Promise<PolicySetRecord | undefined> {
    return this.guard('reading the policy set', async () => {
      const r = await this.db
        .selectFrom('policy_sets')
        .selectAll()
        .where('workspace', '=', workspace)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r && toPolicySet(r);
    });
  }

  latestPolicySetVersion(workspace: string): Promise<string | undefined> {
    return this.guard('reading the policy set', async () => {
      const r = await this.db
        .selectFrom('policy_sets')
        .select('version')
        .where('workspace', '=', workspace)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r?.version;
    });
  }

  latestDefinitionVersion(workspace: string, name: string): Promise<string | undefined> {
    return this.guard('reading a definition', async () => {
      const r = await this.db
        .selectFrom('definitions')
        .select('version')
        .where('workspace', '=', workspace)
        .where('name', '=', name)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r?.version;
    });
  }

  getPolicySet(workspace: string, version: string): Promise<PolicySetRecord | undefined> {
    return this.guard('reading a policy set', async () => {
      const r = await this.db
        .selectFrom('policy_sets')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('version', '=', version)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r && toPolicySet(r);
    });
  }

  policySetHistory(workspace: string): Promise<PolicySetRecord[]> {
    return this.guard('listing policy sets', async () => {
      const rows = await this.db
        .selectFrom('policy_sets')
        .selectAll()
        .where('workspace', '=', workspace)
        .orderBy('seq')
        .execute();
      return rows.map(toPolicySet);
    });
  }

  insertPolicyProposal(r: PolicyProposalRecord): Promise<void> {
    return this.guard('saving a policy proposal', async () => {
      await this.db
        .insertInto('policy_proposals')
        .values({
          id: r.id,
          workspace: r.workspace,
          version: r.version,
          base_version: r.baseVersion,
          text: r.text,
          proposer_id: r.proposerId,
          status: r.status,
          requirements: JSON.stringify(r.requirements),
          approvals: JSON.stringify(r.approvals),
          created_at: r.createdAt,
          updated_at: r.updatedAt,
        })
        .execute();
    });
  }

  getPolicyProposal(workspace: string, id: string): Promise<PolicyProposalRecord | undefined> {
    return this.guard('reading a policy proposal', async () => {
      const r = await this.db
        .selectFrom('policy_proposals')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && toPolicyProposal(r);
    });
  }

  listPolicyProposals(workspace: string): Promise<PolicyProposalRecord[]> {
    return this.guard('listing policy proposals', async () => {
      const rows = await this.db
        .selectFrom('policy_proposals')
        .selectAll()
        .where('workspace', '=', workspace)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      return rows.map(toPolicyProposal);
    });
  }

  updatePolicyProposal(
    workspace: string,
    id: string,
    updatedAt: string,
    patch: Pick<PolicyProposalRecord, 'status' | 'approvals' | 'updatedAt'>,
  ): Promise<boolean> {
    return this.guard('updating a policy proposal', async () => {
      const res = await this.db
        .updateTable('policy_proposals')
        .set({
          status: patch.status,
          approvals: JSON.stringify(patch.approvals),
          updated_at: patch.updatedAt,
        })
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .where('updated_at', '=', updatedAt)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  saveTokens(
    workspace: string,
    entries: readonly TokenVaultRecord[],
    runId: string,
    at: string,
  ): Promise<void> {
    return this.guard('saving token-vault entries', async () => {
      // 7 values a row: well under SQLite's and PostgreSQL's bound-parameter limits.
      for (let i = 0; i < entries.length; i += 500) {
        await this.db
          .insertInto('token_vault')
          .values(
            entries.slice(i, i + 500).map((e) => ({
              workspace,
              token: e.token,
              key_name: e.keyName,
              key_id: e.keyId,
              sealed: e.sealed,
              run_id: runId,
              created_at: at,
            })),
          )
          .onConflict((oc) => oc.columns(['workspace', 'token']).doNothing())
          .execute();
      }
    });
  }

  findTokens(workspace: string, tokens: readonly string[]): Promise<TokenVaultRecord[]> {
    return this.guard('reading the token vault', async () => {
      const out: TokenVaultRecord[] = [];
      for (let i = 0; i < tokens.length; i += 500) {
        const rows = await this.db
          .selectFrom('token_vault')
          .select(['token', 'key_name', 'key_id', 'sealed'])
          .where('workspace', '=', workspace)
          .where('token', 'in', tokens.slice(i, i + 500))
          .execute();
        for (const r of rows)
          out.push({ token: r.token, keyName: r.key_name, keyId: r.key_id, sealed: r.sealed });
      }
      return out;
    });
  }

  saveEgressRule(workspace: string, r: Required<EgressRule>): Promise<void> {
    return this.guard('saving an egress rule', async () => {
      await this.db
        .insertInto('egress_rules')
        .values({
          workspace,
          pattern: r.pattern,
          allow_private: r.allowPrivate ? 1 : 0,
          created_by: r.createdBy,
          created_at: r.createdAt,
        })
        .onConflict((oc) =>
          oc.columns(['workspace', 'pattern']).doUpdateSet({
            allow_private: r.allowPrivate ? 1 : 0,
            created_by: r.createdBy,
            created_at: r.createdAt,
          }),
        )
        .execute();
    });
  }

  listEgressRules(workspace: string): Promise<EgressRule[]> {
    return this.guard('listing egress rules', async () => {
      const rows = await this.db
        .selectFrom('egress_rules')
        .selectAll()
        .where('workspace', '=', workspace)
        .orderBy('pattern')
        .execute();
      return rows.map((r) => ({
        pattern: r.pattern,
        allowPrivate: Number(r.allow_private) === 1,
        createdBy: r.created_by,
        createdAt: r.created_at,
      }));
    });
  }

  deleteEgressRule(workspace: string, pattern: string): Promise<boolean> {
    return this.guard('removing an egress rule', async () => {
      const res = await this.db
        .deleteFrom('egress_rules')
        .where('workspace', '=', workspace)
        .where('pattern', '=', pattern)
        .executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    });
  }

  insertReversal(r: ReversalRequestRecord): Promise<void> {
    return this.guard('saving a reversal request', async () => {
      await this.db
        .insertInto('reversal_requests')
        .values({
          id: r.id,
          workspace: r.workspace,
          kind: r.kind,
          key_name: r.keyName,
          items: JSON.stringify(r.items),
          justification: r.justification,
          requester_id: r.requesterId,
          status: r.status,
          requirements: JSON.stringify(r.requirements),
          approvals: JSON.stringify(r.approvals),
          policy_ids: JSON.stringify(r.policyIds),
          created_at: r.createdAt,
          updated_at: r.updatedAt,
        })
        .execute();
    });
  }

  getReversal(workspace: string, id: string): Promise<ReversalRequestRecord | undefined> {
    return this.guard('reading a reversal request', async () => {
      const r = await this.db
        .selectFrom('reversal_requests')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && toReversal(r);
    });
  }

  listReversals(workspace: string): Promise<ReversalRequestRecord[]> {
    return this.guard('listing reversal requests', async () => {
      const rows = await this.db
        .selectFrom('reversal_requests')
        .selectAll()
        .where('workspace', '=', workspace)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      return rows.map(toReversal);
    });
  }

  updateReversal(
    workspace: string,
    id: string,
    updatedAt: string,
    patch: Pick<ReversalRequestRecord, 'status' | 'approvals' | 'updatedAt'>,
  ): Promise<boolean> {
    return this.guard('updating a reversal request', async () => {
      const res = await this.db
        .updateTable('reversal_requests')
        .set({
          status: patch.status,
          approvals: JSON.stringify(patch.approvals),
          updated_at: patch.updatedAt,
        })
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .where('updated_at', '=', updatedAt)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  insertCatalogVersion(r: CatalogVersionRecord): Promise<void> {
    return this.guard('saving a catalog version', async () => {
      await this.db
        .insertInto('catalog_versions')
        .values({
          workspace: r.workspace,
          connection: r.connection,
          table_name: r.table,
          seq: r.seq,
          version: r.version,
          body: JSON.stringify(r.fields),
          applied_by: r.appliedBy,
          applied_at: r.appliedAt,
        })
        .execute();
    });
  }

  latestCatalog(
    workspace: string,
    connection: string,
    table: string,
  ): Promise<CatalogVersionRecord | undefined> {
    return this.guard('reading the catalog', async () => {
      const r = await this.db
        .selectFrom('catalog_versions')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('connection', '=', connection)
        .where('table_name', '=', table)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r && toCatalogVersion(r);
    });
  }

  catalogHistory(workspace: string, connection: string, table: string): Promise<CatalogVersionRecord[]> {
    return this.guard('reading the catalog', async () => {
      const rows = await this.db
        .selectFrom('catalog_versions')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('connection', '=', connection)
        .where('table_name', '=', table)
        .orderBy('seq')
        .execute();
      return rows.map(toCatalogVersion);
    });
  }

  listCatalogs(workspace: string, connection?: string): Promise<CatalogVersionRecord[]> {
    return this.guard('listing the catalog', async () => {
      let q = this.db.selectFrom('catalog_versions as c').selectAll('c').where('c.workspace', '=', workspace);
      if (connection !== undefined) q = q.where('c.connection', '=', connection);
      const rows = await q
        .where((e) =>
          e.eb(
            'c.seq',
            '=',
            e
              .selectFrom('catalog_versions as d')
              .select(({ fn }) => fn.max('d.seq').as('m'))
              .whereRef('d.workspace', '=', 'c.workspace')
              .whereRef('d.connection', '=', 'c.connection')
              .whereRef('d.table_name', '=', 'c.table_name'),
          ),
        )
        .orderBy('c.connection')
        .orderBy('c.table_name')
        .execute();
      return rows.map(toCatalogVersion);
    });
  }

  saveCatalogScan(r: CatalogScanRecord): Promise<void> {
    return this.guard('saving a catalog scan', async () => {
      const values = {
        workspace: r.workspace,
        connection: r.connection,
        table_name: r.table,
        scanned_at: r.scannedAt,
        body: JSON.stringify(r.columns),
      };
      await this.db
        .insertInto('catalog_scans')
        .values(values)
        .onConflict((oc) =>
          oc
            .columns(['workspace', 'connection', 'table_name'])
            .doUpdateSet({ scanned_at: values.scanned_at, body: values.body }),
        )
        .execute();
    });
  }

  latestCatalogScan(
    workspace: string,
    connection: string,
    table: string,
  ): Promise<CatalogScanRecord | undefined> {
    return this.guard('reading a catalog scan', async () => {
      const r = await this.db
        .selectFrom('catalog_scans')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('connection', '=', connection)
        .where('table_name', '=', table)
        .executeTakeFirst();
      return (
        r && {
          workspace: r.workspace,
          connection: r.connection,
          table: r.table_name,
          scannedAt: r.scanned_at,
          columns: JSON.parse(r.body) as CatalogScanRecord['columns'],
        }
      );
    });
  }

  insertExportRequest(r: ExportRequestRecord): Promise<void> {
    return this.guard('saving an export request', async () => {
      await this.db
        .insertInto('export_requests')
        .values({
          id: r.id,
          workspace: r.workspace,
          definition_name: r.definitionName,
          definition_version: r.definitionVersion,
          requester_id: r.requesterId,
          purpose: r.purpose,
          justification: r.justification,
          kind: r.kind,
          status: r.status,
          reasons: JSON.stringify(r.reasons),
          requirements: JSON.stringify(r.requirements),
          decision: JSON.stringify(r.decision),
          run_id: r.runId,
          round: r.round,
          created_at: r.createdAt,
          updated_at: r.updatedAt,
        })
        .execute();
    });
  }

  getExportRequest(workspace: string, id: string): Promise<ExportRequestRecord | undefined> {
    return this.guard('reading an export request', async () => {
      const r = await this.db
        .selectFrom('export_requests')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && toExportRequest(r);
    });
  }

  listExportRequests(
    workspace: string,
    options: { kind?: ExportRequestKind; limit?: number } = {},
  ): Promise<ExportRequestRecord[]> {
    return this.guard('listing export requests', async () => {
      let q = this.db.selectFrom('export_requests').selectAll().where('workspace', '=', workspace);
      if (options.kind) q = q.where('kind', '=', options.kind);
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(options.limit ?? 100)
        .execute();
      return rows.map(toExportRequest);
    });
  }

  updateExportRequest(
    workspace: string,
    id: string,
    from: ExportRequestStatus,
    patch: Partial<Pick<ExportRequestRecord, 'reasons' | 'requirements' | 'decision' | 'runId' | 'round'>> & {
      status: ExportRequestStatus;
      updatedAt: string;
    },
    ifUpdatedAt?: string,
  ): Promise<boolean> {
    return this.guard('updating an export request', async () => {
      let q = this.db
        .updateTable('export_requests')
        .set({
          status: patch.status,
          updated_at: patch.updatedAt,
          ...(patch.reasons ? { reasons: JSON.stringify(patch.reasons) } : {}),
          ...(patch.requirements ? { requirements: JSON.stringify(patch.requirements) } : {}),
          ...(patch.decision ? { decision: JSON.stringify(patch.decision) } : {}),
          ...(patch.runId !== undefined ? { run_id: patch.runId } : {}),
          ...(patch.round !== undefined ? { round: patch.round } : {}),
        })
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .where('status', '=', from);
      if (ifUpdatedAt !== undefined) q = q.where('updated_at', '=', ifUpdatedAt);
      const res = await q.executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  insertApproval(r: ApprovalRecord): Promise<void> {
    return this.guard('saving an approval', async () => {
      try {
        await this.db
          .insertInto('approvals')
          .values({
            id: r.id,
            export_id: r.exportId,
            workspace: r.workspace,
            approver_id: r.approverId,
            decision: r.decision,
            reason: r.reason,
            roles: JSON.stringify(r.roles),
            definition_version: r.definitionVersion,
            created_at: r.createdAt,
            expires_at: r.expiresAt,
            round: r.round,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err))
          throw new WaybillError(
            'ERR_WAYBILL_CONFLICT',
            `this principal already decided on export ${r.exportId}`,
            {
              cause: err,
            },
          );
        throw err;
      }
    });
  }

  listApprovals(workspace: string, exportId: string): Promise<ApprovalRecord[]> {
    return this.guard('listing approvals', async () => {
      const rows = await this.db
        .selectFrom('approvals')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('export_id', '=', exportId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toApproval);
    });
  }

  insertGrant(r: GrantRecord): Promise<void> {
    return this.guard('saving a grant', async () => {
      await this.db
        .insertInto('grants')
        .values({
          id: r.id,
          workspace: r.workspace,
          principal_id: r.principalId,
          definition_name: r.definitionName,
          reason: r.reason,
          created_by: r.createdBy,
          created_at: r.createdAt,
          expires_at: r.expiresAt,
          revoked_at: r.revokedAt,
        })
        .execute();
    });
  }

  getGrant(workspace: string, id: string): Promise<GrantRecord | undefined> {
    return this.guard('reading a grant', async () => {
      const r = await this.db
        .selectFrom('grants')
        .selectAll()
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && toGrant(r);
    });
  }

  listGrants(
    workspace: string,
    filter: { principalId?: string; definitionName?: string } = {},
  ): Promise<GrantRecord[]> {
    return this.guard('listing grants', async () => {
      let q = this.db.selectFrom('grants').selectAll().where('workspace', '=', workspace);
      if (filter.principalId) q = q.where('principal_id', '=', filter.principalId);
      if (filter.definitionName) q = q.where('definition_name', '=', filter.definitionName);
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      return rows.map(toGrant);
    });
  }

  revokeGrant(workspace: string, id: string, at: string): Promise<boolean> {
    return this.guard('revoking a grant', async () => {
      const res = await this.db
        .updateTable('grants')
        .set({ revoked_at: at })
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    });
  }

  retireKey(id: string, retiredAt: string): Promise<boolean> {
    return this.guard('retiring a key', async () => {
      const r = await this.db
        .updateTable('keys')
        .set({ retired_at: retiredAt })
        .where('id', '=', id)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    });
  }

  resealKey(id: string, sealedSecret: string): Promise<boolean> {
    return this.guard('re-sealing a key', async () => {
      const r = await this.db
        .updateTable('keys')
        .set({ sealed_secret: sealedSecret })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  auditHead(): Promise<{ size: number; origin: string | null }> {
    return this.guard('reading the audit log head', async () => {
      const r = await this.db
        .selectFrom('audit_head')
        .selectAll()
        .where('id', '=', 1)
        .executeTakeFirstOrThrow();
      return { size: num(r.size), origin: r.origin };
    });
  }

  initAuditOrigin(origin: string): Promise<string> {
    return this.guard('setting the audit log origin', async () => {
      await this.db
        .updateTable('audit_head')
        .set({ origin })
        .where('id', '=', 1)
        .where('origin', 'is', null)
        .execute();
      return (await this.auditHead()).origin ?? origin;
    });
  }

  reserveAuditIndexes(count: number): Promise<number> {
    return this.guard('appending to the audit log', async () => {
      // The update comes first: it takes the lock before the size is read (no lost update between
      // concurrent appenders, on either database).
      const r = await this.db
        .updateTable('audit_head')
        .set((eb) => ({ size: eb('size', '+', count) }))
        .where('id', '=', 1)
        .returning('size')
        .executeTakeFirstOrThrow();
      return num(r.size) - count;
    });
  }

  insertAuditEntries(records: readonly AuditEntryRecord[]): Promise<void> {
    return this.guard('appending to the audit log', async () => {
      // Bounded statements: SQLite allows at most 32766 bound parameters.
      for (let i = 0; i < records.length; i += 500) {
        await this.db
          .insertInto('audit_entries')
          .values(
            records.slice(i, i + 500).map((r) => ({
              idx: r.index,
              workspace: r.workspace,
              type: r.type,
              actor: r.actor,
              time: r.time,
              run_id: r.runId,
              event: r.event,
              salt: r.salt,
              leaf: r.leaf,
              leaf_hash: r.leafHash,
            })),
          )
          .execute();
      }
    });
  }

  auditEntries(from: number, limit: number): Promise<AuditEntryRecord[]> {
    return this.guard('reading the audit log', async () => {
      const rows = await this.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('idx', '>=', from)
        .orderBy('idx')
        .limit(limit)
        .execute();
      return rows.map(toAuditEntry);
    });
  }

  auditLeafHashes(from: number, to: number): Promise<{ index: number; hash: string }[]> {
    return this.guard('reading the audit log', async () => {
      const rows = await this.db
        .selectFrom('audit_entries')
        .select(['idx', 'leaf_hash'])
        .where('idx', '>=', from)
        .where('idx', '<', to)
        .orderBy('idx')
        .execute();
      return rows.map((r) => ({ index: num(r.idx), hash: r.leaf_hash }));
    });
  }

  insertAuditNodes(nodes: readonly (AuditNodeKey & { hash: string })[]): Promise<void> {
    return this.guard('storing audit log hashes', async () => {
      for (let i = 0; i < nodes.length; i += 1000) {
        await this.db
          .insertInto('audit_nodes')
          .values(nodes.slice(i, i + 1000).map((n) => ({ height: n.height, idx: n.index, hash: n.hash })))
          .execute();
      }
    });
  }

  auditTreeHashes(keys: readonly AuditNodeKey[]): Promise<(AuditNodeKey & { hash: string })[]> {
    return this.guard('reading audit log hashes', async () => {
      const out: (AuditNodeKey & { hash: string })[] = [];
      if (this.kind === 'postgres') {
        // One statement whatever the number of keys: arrays joined with unnest, so PostgreSQL plans
        // one small join instead of a long OR.
        const leaves = keys.filter((k) => k.height === 0).map((k) => k.index);
        const nodes = keys.filter((k) => k.height > 0);
        const { rows } = await sql<{ height: number; idx: string | number; hash: string }>`
          SELECT 0 AS height, idx, leaf_hash AS hash FROM audit_entries WHERE idx = ANY(${leaves}::bigint[])
          UNION ALL
          SELECT n.height, n.idx, n.hash FROM audit_nodes n
            JOIN unnest(${nodes.map((k) => k.height)}::int[], ${nodes.map((k) => k.index)}::bigint[]) AS k(h, i)
              ON n.height = k.h AND n.idx = k.i`.execute(this.db);
        return rows.map((r) => ({ height: Number(r.height), index: num(r.idx), hash: r.hash }));
      }
      // SQLite: one round trip per chunk, leaf hashes and stored nodes in a single UNION ALL.
      for (let i = 0; i < keys.length; i += 200) {
        const chunk = keys.slice(i, i + 200);
        const leaves = chunk.filter((k) => k.height === 0).map((k) => k.index);
        const nodes = chunk.filter((k) => k.height > 0);
        const leafQuery = this.db
          .selectFrom('audit_entries')
          .select([sql<number>`0`.as('height'), 'idx', 'leaf_hash as hash'])
          .where('idx', 'in', leaves.length > 0 ? leaves : [-1]);
        const nodeQuery = this.db
          .selectFrom('audit_nodes')
          .select(['height', 'idx', 'hash'])
          .where((eb) =>
            nodes.length > 0
              ? eb.or(nodes.map((k) => eb.and([eb('height', '=', k.height), eb('idx', '=', k.index)])))
              : sql<boolean>`1 = 0`,
          );
        const rows = await leafQuery.unionAll(nodeQuery).execute();
        for (const r of rows) out.push({ height: Number(r.height), index: num(r.idx), hash: r.hash });
      }
      return out;
    });
  }

  auditNodes(height: number, from: number, to: number): Promise<{ index: number; hash: string }[]> {
    return this.guard('reading audit log hashes', async () => {
      const rows = await this.db
        .selectFrom('audit_nodes')
        .select(['idx', 'hash'])
        .where('height', '=', height)
        .where('idx', '>=', from)
        .where('idx', '<', to)
        .orderBy('idx')
        .execute();
      return rows.map((r) => ({ index: num(r.idx), hash: r.hash }));
    });
  }

  redactAuditEntry(index: number): Promise<boolean> {
    return this.guard('redacting an audit entry', async () => {
      const r = await this.db
        .updateTable('audit_entries')
        .set({ event: null, salt: null, actor: '', run_id: null })
        .where('idx', '=', index)
        .where('event', 'is not', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    });
  }

  searchAuditEntries(q: AuditSearch): Promise<AuditEntryRecord[]> {
    return this.guard('searching the audit log', async () => {
      // Only entries of the log: those the head counts (rows outside it are not logged events).
      const head = await this.auditHead();
      let sel = this.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('idx', '>=', 0)
        .where('idx', '<', head.size);
      if (q.type !== undefined) sel = sel.where('type', '=', q.type);
      if (q.actor !== undefined) sel = sel.where('actor', '=', q.actor);
      if (q.since !== undefined) sel = sel.where('time', '>=', q.since);
      if (q.runId !== undefined) sel = sel.where('run_id', '=', q.runId);
      if (q.workspace !== undefined) sel = sel.where('workspace', '=', q.workspace);
      if (q.from !== undefined) sel = sel.where('idx', '>=', q.from);
      const rows = await sel
        .orderBy('idx', q.descending ? 'desc' : 'asc')
        .limit(q.limit)
        .execute();
      return rows.map(toAuditEntry);
    });
  }

  insertAuditCheckpoint(r: AuditCheckpointRecord): Promise<void> {
    return this.guard('storing an audit checkpoint', async () => {
      await this.db
        .insertInto('audit_checkpoints')
        .values({ size: r.size, root_hash: r.rootHash, note: r.note, created_at: r.createdAt })
        .onConflict((oc) => oc.column('size').doNothing())
        .execute();
    });
  }

  auditCheckpoints(): Promise<AuditCheckpointRecord[]> {
    return this.guard('reading audit checkpoints', async () => {
      const rows = await this.db.selectFrom('audit_checkpoints').selectAll().orderBy('size').execute();
      return rows.map(toCheckpoint);
    });
  }

  auditEntryAndCheckpoint(
    index: number,
    size?: number,
    nodes: readonly AuditNodeKey[] = [],
  ): Promise<{
    entry?: AuditEntryRecord;
    checkpoint?: AuditCheckpointRecord;
    hashes: (AuditNodeKey & { hash: string })[];
  }> {
    return this.guard('reading the audit log', async () => {
      if (this.kind !== 'postgres') {
        // In-process SQLite: separate statements cost no round trips.
        const [entry] = (await this.auditEntries(index, 1)).filter((e) => e.index === index);
        const checkpoint =
          size === undefined ? await this.latestAuditCheckpoint() : await this.auditCheckpointAt(size);
        const hashes = nodes.length > 0 ? await this.auditTreeHashes(nodes) : [];
        return { ...(entry ? { entry } : {}), ...(checkpoint ? { checkpoint } : {}), hashes };
      }
      // PostgreSQL: one statement, one round trip. Three row shapes in one UNION ALL of text columns:
      // 'c' the checkpoint, 'e' the entry, 'l'/'n' the leaf hashes and nodes asked for.
      const leaves = nodes.filter((k) => k.height === 0).map((k) => k.index);
      const inner = nodes.filter((k) => k.height > 0);
      type Row = {
        kind: string;
        a: string | null;
        b: string | null;
        c: string | null;
        d: string | null;
        e: string | null;
        f: string | null;
        g: string | null;
        h: string | null;
        i: string | null;
        j: string | null;
      };
      const values = [index, size ?? null, leaves, inner.map((k) => k.height), inner.map((k) => k.index)];
      const text = PROOF_READ_SQL(size === undefined);
      // Inside a transaction, through its connection; else straight to the pool.
      const rows =
        this.raw && !this.inTransaction
          ? (await this.raw.query<Row>(text, values)).rows
          : (await this.db.executeQuery<Row>(CompiledQuery.raw(text, values))).rows;
      let entry: AuditEntryRecord | undefined;
      let checkpoint: AuditCheckpointRecord | undefined;
      const hashes: (AuditNodeKey & { hash: string })[] = [];
      for (const r of rows) {
        if (r.kind === 'c') {
          checkpoint = { size: Number(r.a), note: r.b!, rootHash: r.c!, createdAt: r.d! };
        } else if (r.kind === 'e') {
          entry = {
            index: Number(r.a),
            workspace: r.b!,
            type: r.c!,
            actor: r.d!,
            time: r.e!,
            runId: r.f,
            event: r.g,
            salt: r.h,
            leaf: r.i!,
            leafHash: r.j!,
          };
        } else if (r.kind === 'l') hashes.push({ height: 0, index: Number(r.a), hash: r.b! });
        else hashes.push({ height: Number(r.c), index: Number(r.a), hash: r.b! });
      }
      return { ...(entry ? { entry } : {}), ...(checkpoint ? { checkpoint } : {}), hashes };
    });
  }

  latestAuditCheckpoint(): Promise<AuditCheckpointRecord | undefined> {
    return this.guard('reading audit checkpoints', async () => {
      const r = await this.db
        .selectFrom('audit_checkpoints')
        .selectAll()
        .orderBy('size', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r && toCheckpoint(r);
    });
  }

  auditCheckpointAt(size: number): Promise<AuditCheckpointRecord | undefined> {
    return this.guard('reading audit checkpoints', async () => {
      const r = await this.db
        .selectFrom('audit_checkpoints')
        .selectAll()
        .where('size', '=', size)
        .executeTakeFirst();
      return r && toCheckpoint(r);
    });
  }
}

function toAuditEntry(r: Selectable<AuditEntriesTable>): AuditEntryRecord {
  return {
    index: num(r.idx),
    workspace: r.workspace,
    type: r.type,
    actor: r.actor,
    time: r.time,
    runId: r.run_id,
    event: r.event,
    salt: r.salt,
    leaf: r.leaf,
    leafHash: r.leaf_hash,
  };
}

function toCheckpoint(r: Selectable<Database['audit_checkpoints']>): AuditCheckpointRecord {
  return { size: num(r.size), rootHash: r.root_hash, note: r.note, createdAt: r.created_at };
}

async function insertTransition(db: Kysely<Database>, t: RunTransitionRecord): Promise<void> {
  await db
    .insertInto('run_transitions')
    .values({ run_id: t.runId, seq: t.seq, status: t.status, at: t.at, detail: t.detail })
    .execute();
}

function toConnection(r: Selectable<Database['connections']>): ConnectionRecord {
  return {
    workspace: r.workspace,
    name: r.name,
    role: r.role as ConnectionRole,
    kind: r.kind,
    config: JSON.parse(r.config) as Record<string, unknown>,
    secret: r.secret,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toApiKey(r: Selectable<Database['api_keys']>): ApiKeyRecord {
  return {
    id: r.id,
    principalId: r.principal_id,
    prefix: r.prefix,
    hash: r.hash,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

function toPolicySet(r: Selectable<Database['policy_sets']>): PolicySetRecord {
  return {
    workspace: r.workspace,
    version: r.version,
    seq: num(r.seq),
    text: r.text,
    appliedBy: r.applied_by,
    appliedAt: r.applied_at,
  };
}

function toCatalogVersion(r: Selectable<Database['catalog_versions']>): CatalogVersionRecord {
  return {
    workspace: r.workspace,
    connection: r.connection,
    table: r.table_name,
    seq: num(r.seq),
    version: r.version,
    fields: JSON.parse(r.body) as CatalogVersionRecord['fields'],
    appliedBy: r.applied_by,
    appliedAt: r.applied_at,
  };
}

function toPolicyProposal(r: Selectable<Database['policy_proposals']>): PolicyProposalRecord {
  return {
    id: r.id,
    workspace: r.workspace,
    version: r.version,
    baseVersion: r.base_version,
    text: r.text,
    proposerId: r.proposer_id,
    status: r.status as PolicyProposalRecord['status'],
    requirements: JSON.parse(r.requirements) as ApprovalRequirement[],
    approvals: JSON.parse(r.approvals) as PolicyProposalDecision[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toReversal(r: Selectable<Database['reversal_requests']>): ReversalRequestRecord {
  return {
    id: r.id,
    workspace: r.workspace,
    kind: r.kind as ReversalRequestRecord['kind'],
    keyName: r.key_name,
    items: JSON.parse(r.items) as string[],
    justification: r.justification,
    requesterId: r.requester_id,
    status: r.status as ReversalRequestRecord['status'],
    requirements: JSON.parse(r.requirements) as ApprovalRequirement[],
    approvals: JSON.parse(r.approvals) as PolicyProposalDecision[],
    policyIds: JSON.parse(r.policy_ids) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toExportRequest(r: Selectable<Database['export_requests']>): ExportRequestRecord {
  return {
    id: r.id,
    workspace: r.workspace,
    definitionName: r.definition_name,
    definitionVersion: r.definition_version,
    requesterId: r.requester_id,
    purpose: r.purpose,
    justification: r.justification,
    kind: r.kind as ExportRequestKind,
    status: r.status as ExportRequestStatus,
    reasons: JSON.parse(r.reasons) as string[],
    requirements: JSON.parse(r.requirements) as ApprovalRequirement[],
    decision: JSON.parse(r.decision) as PolicyDecisionRecord,
    runId: r.run_id,
    round: num(r.round),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toApproval(r: Selectable<Database['approvals']>): ApprovalRecord {
  return {
    id: r.id,
    exportId: r.export_id,
    workspace: r.workspace,
    approverId: r.approver_id,
    decision: r.decision as 'approve' | 'reject',
    reason: r.reason,
    roles: JSON.parse(r.roles) as string[],
    definitionVersion: r.definition_version,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    round: num(r.round),
  };
}

function toGrant(r: Selectable<Database['grants']>): GrantRecord {
  return {
    id: r.id,
    workspace: r.workspace,
    principalId: r.principal_id,
    definitionName: r.definition_name,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

/** A unique-constraint violation, from either driver (SQLite's extended code, PostgreSQL's SQLSTATE). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

function toPrincipal(r: Selectable<Database['principals']>): PrincipalRecord {
  return {
    id: r.id,
    workspace: r.workspace,
    name: r.name,
    kind: r.kind as 'user' | 'service',
    roles: JSON.parse(r.roles) as string[],
    createdAt: r.created_at,
    attributes: JSON.parse(r.attributes) as Record<string, string>,
  };
}
