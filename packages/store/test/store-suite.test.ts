import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseDefinition, definitionVersion, type Store, type RunRecord } from '@waybill/core';
import { startPostgres, tempDir, type PgCluster, type TempDir } from '@waybill/testkit';
import { openPostgresStore, openSqliteStore, type KyselyStore } from '../src/index.js';

const defText = `apiVersion: waybill/v1
kind: ExportDefinition
name: people
owner: team:data
purposes: [testing]
source: { connection: crm, table: people }
fields: [{ name: id, from: id }]
destination: { connection: out }
retention: P7D
`;

function run(id: string, createdAt: string): RunRecord {
  return {
    id,
    workspace: 'default',
    definitionName: 'people',
    definitionVersion: 'sha256:00',
    requester: 'alice',
    purpose: 'testing',
    status: 'created',
    createdAt,
    updatedAt: createdAt,
    errorCode: null,
    errorMessage: null,
    counts: null,
    location: null,
    waybillDigest: null,
  };
}

/** One suite, run against every store adapter (SQLite file and a real PostgreSQL cluster). */
function storeSuite(name: string, open: () => Promise<KyselyStore | null>): void {
  describe(`store: ${name}`, () => {
    let store: KyselyStore | null;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });
    const s = (t: { skip: (m: string) => void }): Store | null => {
      if (!store) t.skip(`${name} not available on this machine`);
      return store;
    };

    test('migrations are idempotent', async (t) => {
      const st = s(t) as KyselyStore | null;
      if (!st) return;
      await st.migrate();
      await st.migrate();
    });

    test('definition versions: insert, latest, history, list, immutability', async (t) => {
      const st = s(t);
      if (!st) return;
      const body = parseDefinition(defText);
      const base = { workspace: 'default', name: 'people', body, sourceText: defText, appliedBy: 'alice' };
      await st.insertDefinitionVersion({
        ...base,
        version: definitionVersion(body),
        seq: 1,
        appliedAt: '2026-11-29T10:00:00.000Z',
      });
      const body2 = parseDefinition(defText.replace('P7D', 'P8D'));
      await st.insertDefinitionVersion({
        ...base,
        body: body2,
        version: definitionVersion(body2),
        seq: 2,
        appliedAt: '2026-11-29T11:00:00.000Z',
      });
      assert.equal((await st.latestDefinition('default', 'people'))?.seq, 2);
      assert.equal((await st.latestDefinition('default', 'people'))?.body.retention, 'P8D');
      assert.deepEqual(
        (await st.definitionHistory('default', 'people')).map((d) => d.seq),
        [1, 2],
      );
      assert.deepEqual(
        (await st.listDefinitions('default')).map((d) => [d.name, d.seq]),
        [['people', 2]],
      );
      assert.equal(await st.latestDefinition('other-workspace', 'people'), undefined);
      // An applied version is never overwritten: a sequence number is stored once (immutability by key).
      await assert.rejects(
        st.insertDefinitionVersion({
          ...base,
          body: body2,
          version: definitionVersion(body2),
          seq: 1,
          appliedAt: '2026-11-29T12:00:00.000Z',
        }),
        { code: 'ERR_WAYBILL_CONFLICT' },
      );
      // Re-applying an older version (a revert) is a new application of the same version.
      await st.insertDefinitionVersion({
        ...base,
        version: definitionVersion(body),
        seq: 3,
        appliedAt: '2026-11-29T12:00:00.000Z',
      });
      assert.equal((await st.latestDefinition('default', 'people'))?.version, definitionVersion(body));
      assert.equal((await st.getDefinitionVersion('default', 'people', definitionVersion(body)))?.seq, 3);
    });

    test('connections upsert, list by role, delete', async (t) => {
      const st = s(t);
      if (!st) return;
      const c = {
        workspace: 'default',
        name: 'crm',
        role: 'source' as const,
        kind: 'sqlite',
        config: { path: '/x' },
        secret: null,
        createdAt: 'a',
        updatedAt: 'a',
      };
      await st.upsertConnection(c);
      await st.upsertConnection({ ...c, config: { path: '/y' }, updatedAt: 'b' });
      await st.upsertConnection({ ...c, role: 'destination', kind: 'directory' });
      const got = await st.getConnection('default', 'source', 'crm');
      assert.deepEqual(got?.config, { path: '/y' });
      assert.equal(got?.createdAt, 'a');
      assert.equal((await st.listConnections('default', 'source')).length, 1);
      assert.equal((await st.listConnections('default')).length, 2);
      assert.equal(await st.deleteConnection('default', 'destination', 'crm'), true);
      assert.equal(await st.deleteConnection('default', 'destination', 'crm'), false);
    });

    test('runs are a persisted state machine with optimistic transitions', async (t) => {
      const st = s(t);
      if (!st) return;
      await st.insertRun(run('r1', '2026-11-29T10:00:00.000Z'), {
        runId: 'r1',
        seq: 1,
        status: 'created',
        at: 't1',
        detail: null,
      });
      assert.equal(
        await st.updateRun(
          'r1',
          'created',
          { status: 'staged', updatedAt: 't2', counts: { read: 5_000_000_000, filtered: 1, written: 4 } },
          { runId: 'r1', seq: 2, status: 'staged', at: 't2', detail: null },
        ),
        true,
      );
      // A second worker that still believes the run is `created` loses.
      assert.equal(
        await st.updateRun(
          'r1',
          'created',
          { status: 'failed', updatedAt: 't3' },
          { runId: 'r1', seq: 3, status: 'failed', at: 't3', detail: null },
        ),
        false,
      );
      const r = await st.getRun('default', 'r1');
      assert.equal(r?.status, 'staged');
      assert.deepEqual(r?.counts, { read: 5_000_000_000, filtered: 1, written: 4 });
      assert.deepEqual(
        (await st.runTransitions('r1')).map((x) => x.status),
        ['created', 'staged'],
      );
      assert.equal(await st.getRun('other', 'r1'), undefined, 'runs do not cross workspaces');
    });

    test('a failed transaction leaves nothing behind', async (t) => {
      const st = s(t);
      if (!st) return;
      await assert.rejects(
        st.transaction(async (tx) => {
          await tx.insertRun(run('r-tx', '2026-11-29T10:00:00.000Z'), {
            runId: 'r-tx',
            seq: 1,
            status: 'created',
            at: 't',
            detail: null,
          });
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await st.getRun('default', 'r-tx'), undefined);
    });

    test('keys, principals and API keys', async (t) => {
      const st = s(t);
      if (!st) return;
      await st.insertKey({
        id: 'k1',
        workspace: 'default',
        purpose: 'hmac',
        name: 'n',
        algorithm: 'hmac',
        publicKey: null,
        sealedSecret: 'v1:x',
        createdAt: 'a',
        retiredAt: null,
      });
      assert.equal((await st.listKeys('default', 'hmac'))[0]?.id, 'k1');
      assert.equal((await st.listKeys('default', 'waybill-signing')).length, 0);
      await st.insertPrincipal({
        id: 'p1',
        workspace: 'default',
        name: 'alice',
        kind: 'user',
        roles: ['admin'],
        createdAt: 'a',
      });
      await st.insertApiKey({
        id: 'a1',
        principalId: 'p1',
        prefix: 'abc',
        hash: 'h',
        createdAt: 'a',
        expiresAt: null,
        revokedAt: null,
      });
      assert.deepEqual((await st.getPrincipal('p1'))?.roles, ['admin']);
      assert.equal((await st.findApiKeyByPrefix('abc'))?.principalId, 'p1');
      assert.equal((await st.getPrincipalByName('default', 'alice'))?.id, 'p1');
      assert.equal(await st.getPrincipalByName('acme', 'alice'), undefined);
      assert.equal(await st.revokeApiKey('a1', 'b'), true);
      assert.equal(await st.revokeApiKey('a1', 'c'), false);
      assert.equal((await st.getApiKey('a1'))?.revokedAt, 'b');
      assert.equal((await st.listApiKeys('p1')).length, 1);
      assert.equal(await st.updatePrincipalRoles('p1', ['admin', 'security']), true);
      assert.deepEqual((await st.getPrincipal('p1'))?.roles, ['admin', 'security']);
      assert.equal(await st.updatePrincipalRoles('nobody', ['admin']), false);
      // Attributes: none by default, replaced as a whole.
      assert.deepEqual((await st.getPrincipal('p1'))?.attributes, {});
      assert.equal(await st.updatePrincipalAttributes('p1', { region: 'eu', team: 'support' }), true);
      assert.deepEqual((await st.getPrincipal('p1'))?.attributes, { region: 'eu', team: 'support' });
      assert.equal(await st.updatePrincipalAttributes('nobody', {}), false);
    });

    test('egress rules: saved per workspace, replaced by pattern, removed', async (t) => {
      const st = s(t);
      if (!st) return;
      await st.saveEgressRule('default', {
        pattern: 'b.example.com',
        allowPrivate: false,
        createdBy: 'u',
        createdAt: 'a',
      });
      await st.saveEgressRule('default', {
        pattern: 'a.example.com:8443',
        allowPrivate: true,
        createdBy: 'u',
        createdAt: 'a',
      });
      await st.saveEgressRule('default', {
        pattern: 'b.example.com',
        allowPrivate: true,
        createdBy: 'v',
        createdAt: 'b',
      });
      assert.deepEqual(await st.listEgressRules('default'), [
        { pattern: 'a.example.com:8443', allowPrivate: true, createdBy: 'u', createdAt: 'a' },
        { pattern: 'b.example.com', allowPrivate: true, createdBy: 'v', createdAt: 'b' },
      ]);
      assert.deepEqual(await st.listEgressRules('acme'), []);
      assert.equal(await st.deleteEgressRule('default', 'b.example.com'), true);
      assert.equal(await st.deleteEgressRule('default', 'b.example.com'), false);
      assert.equal((await st.listEgressRules('default')).length, 1);
    });

    test('the token vault keeps the first entry of a token; reversal requests update optimistically', async (t) => {
      const st = s(t);
      if (!st) return;
      const entry = (token: string, sealed: string) => ({ token, keyName: 'k', keyId: 'hmac-1', sealed });
      // More entries than one INSERT takes at once, with a duplicate across chunks.
      const many = Array.from({ length: 1203 }, (_x, i) =>
        entry(`tok_${String(i).padStart(32, '0')}`, `s${i}`),
      );
      await st.saveTokens('default', many, 'run-1', 'a');
      await st.saveTokens('default', [entry(many[7]!.token, 'other'), entry('tok_new', 'n')], 'run-2', 'b');
      const found = await st.findTokens('default', [
        many[7]!.token,
        'tok_new',
        'tok_missing',
        many[1202]!.token,
      ]);
      assert.deepEqual(
        found.map((f) => [f.token, f.sealed]).sort(),
        [
          [many[7]!.token, 's7'],
          [many[1202]!.token, 's1202'],
          ['tok_new', 'n'],
        ].sort(),
      );
      assert.deepEqual(await st.findTokens('acme', [many[7]!.token]), [], 'another workspace sees nothing');
      assert.equal(
        (
          await st.findTokens(
            'default',
            many.map((m) => m.token),
          )
        ).length,
        1203,
      );

      const rec = {
        id: 'r1',
        workspace: 'default',
        kind: 'detokenize' as const,
        keyName: null,
        items: ['tok_a'],
        justification: 'why',
        requesterId: 'p1',
        status: 'pending_approval' as const,
        requirements: [{ role: 'security' as const, count: 1 }],
        approvals: [],
        policyIds: ['x'],
        createdAt: 'a',
        updatedAt: 'a',
      };
      await st.insertReversal(rec);
      assert.deepEqual(await st.getReversal('default', 'r1'), rec);
      assert.equal(await st.getReversal('acme', 'r1'), undefined);
      const approval = {
        approverId: 'p2',
        approver: 'user:bob',
        decision: 'approve' as const,
        roles: ['security'],
        reason: 'ok',
        at: 'b',
      };
      assert.equal(
        await st.updateReversal('default', 'r1', 'a', {
          status: 'approved',
          approvals: [approval],
          updatedAt: 'b',
        }),
        true,
      );
      assert.equal(
        await st.updateReversal('default', 'r1', 'a', { status: 'revealed', approvals: [], updatedAt: 'c' }),
        false,
        'stale',
      );
      assert.deepEqual((await st.getReversal('default', 'r1'))?.approvals, [approval]);
      assert.deepEqual(
        (await st.listReversals('default')).map((r) => r.status),
        ['approved'],
      );
    });

    test('policy sets, export requests, approvals (once per person) and grants', async (t) => {
      const st = s(t);
      if (!st) return;
      for (const [seq, version] of [
        [1, 'sha256:aa'],
        [2, 'sha256:bb'],
        [3, 'sha256:aa'],
      ] as const) {
        await st.insertPolicySet({
          workspace: 'default',
          version,
          seq,
          text: version,
          appliedBy: 'x',
          appliedAt: 't',
        });
      }
      assert.equal((await st.latestPolicySet('default'))?.seq, 3);
      assert.equal((await st.getPolicySet('default', 'sha256:aa'))?.seq, 3);
      assert.deepEqual(
        (await st.policySetHistory('default')).map((p) => p.seq),
        [1, 2, 3],
      );
      assert.equal(await st.latestPolicySet('acme'), undefined);

      await st.insertPrincipal({
        id: 'p2',
        workspace: 'default',
        name: 'bob',
        kind: 'user',
        roles: ['approver'],
        createdAt: 'a',
      });
      const req = {
        id: 'e1',
        workspace: 'default',
        definitionName: 'people',
        definitionVersion: 'sha256:01',
        requesterId: 'p1',
        purpose: 'testing',
        justification: null,
        kind: 'business',
        status: 'pending_approval',
        reasons: ['needs 1 more approval'],
        requirements: [{ role: 'approver', count: 1 }],
        decision: { decision: 'deny', policyIds: ['x'], policySet: 'sha256:aa' },
        runId: null,
        round: 1,
        createdAt: '2026-11-29T10:00:00.000Z',
        updatedAt: '2026-11-29T10:00:00.000Z',
      } as const;
      await st.insertExportRequest(req);
      assert.deepEqual(await st.getExportRequest('default', 'e1'), req);
      assert.equal(await st.getExportRequest('acme', 'e1'), undefined);
      const approval = {
        id: 'ap1',
        exportId: 'e1',
        workspace: 'default',
        approverId: 'p2',
        decision: 'approve',
        reason: 'ok',
        roles: ['approver'],
        definitionVersion: 'sha256:01',
        createdAt: 't',
        expiresAt: 'u',
        round: 1,
      } as const;
      await st.insertApproval(approval);
      await assert.rejects(st.insertApproval({ ...approval, id: 'ap2' }), { code: 'ERR_WAYBILL_CONFLICT' });
      assert.deepEqual(await st.listApprovals('default', 'e1'), [approval]);
      assert.equal(
        await st.updateExportRequest('default', 'e1', 'approved', { status: 'running', updatedAt: 'v' }),
        false,
      );
      assert.equal(
        await st.updateExportRequest('default', 'e1', 'pending_approval', {
          status: 'approved',
          updatedAt: 'v',
          reasons: [],
        }),
        true,
      );
      assert.equal((await st.getExportRequest('default', 'e1'))?.status, 'approved');
      assert.equal((await st.listExportRequests('default')).length, 1);
      assert.equal((await st.listExportRequests('default', { kind: 'investigation' })).length, 0);

      const grant = {
        id: 'g1',
        workspace: 'default',
        principalId: 'p2',
        definitionName: 'people',
        reason: 'r',
        createdBy: 'user:alice',
        createdAt: 't',
        expiresAt: '2026-12-01T00:00:00.000Z',
        revokedAt: null,
      };
      await st.insertGrant(grant);
      assert.deepEqual(await st.listGrants('default', { principalId: 'p2', definitionName: 'people' }), [
        grant,
      ]);
      assert.equal((await st.listGrants('default', { definitionName: 'other' })).length, 0);
      assert.equal(await st.revokeGrant('acme', 'g1', 'w'), false);
      assert.equal(await st.revokeGrant('default', 'g1', 'w'), true);
      assert.equal((await st.getGrant('default', 'g1'))?.revokedAt, 'w');
    });
  });
}

let dir: TempDir;
let pg: PgCluster | null = null;

storeSuite('sqlite', async () => {
  dir = await tempDir('waybill-store-');
  return openSqliteStore(join(dir.path, 'waybill.db'));
});

storeSuite('postgres', async () => {
  pg = await startPostgres({ database: 'waybill_store' });
  if (!pg) return null;
  return openPostgresStore({ connectionString: pg.connectionString });
});

after(async () => {
  await pg?.stop();
  await dir?.cleanup();
});
