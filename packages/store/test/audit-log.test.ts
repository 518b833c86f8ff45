// The audit log over both real stores: the tree the store keeps (leaf hashes and tile rows) must give
// exactly the RFC 9162 roots and proofs that @waybill/verify's reference code computes from the leaves.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  AuditLog,
  KeyRing,
  SecretBox,
  fsckAuditLog,
  systemClock,
  type AuditEntryRecord,
  type Store,
} from '@waybill/core';
import {
  consistencyProof,
  inclusionProof,
  merkleRoot,
  openAuditLeaf,
  parseCheckpoint,
  parseTlogProof,
  verifyConsistency,
  verifyNote,
  verifyTlogProof,
  merkleLeafHash,
} from '@waybill/verify';
import { startPostgres, tempDir, type PgCluster, type TempDir } from '@waybill/testkit';
import { openPostgresStore, openSqliteStore, type KyselyStore } from '../src/index.js';

let pg: PgCluster | null = null;
let dir: TempDir | undefined;

const box = new SecretBox(randomBytes(32));

async function openLog(store: Store, checkpointFile?: string): Promise<AuditLog> {
  const keys = new KeyRing(store, box, systemClock);
  await keys.ensureSigningKey('log-signing');
  return new AuditLog({ store, keys, clock: systemClock, ...(checkpointFile ? { checkpointFile } : {}) });
}

const event = (i: number) => ({
  type: i % 3 === 0 ? 'run.created' : 'definition.applied',
  actor: `user:u${i % 4}`,
  workspace: 'default',
  subjects: i % 3 === 0 ? { run: `run-${i}` } : { definition: `def-${i}` },
  details: { n: i, text: `événement ${i}` },
});

function auditSuite(name: string, open: () => Promise<KyselyStore | null>): void {
  describe(`audit log: ${name}`, () => {
    let store: KyselyStore | null;
    let log: AuditLog;
    const leafHashes: Buffer[] = [];
    before(async () => {
      store = await open();
      if (store) log = await openLog(store, join(dir!.path, `${name}.checkpoint`));
    });
    after(async () => {
      await store?.close();
    });

    test('appends in batches give contiguous indexes and the reference RFC 9162 roots and proofs', async (t) => {
      if (!store) return t.skip(`${name} not available on this machine`);
      // Batch sizes that cross 256-entry tile boundaries in every way: inside, exactly on, across several.
      for (const n of [1, 2, 253, 256, 300, 1, 511, 17]) {
        const st: Store = store;
        const records: AuditEntryRecord[] = await st.transaction((tx) =>
          log.append(
            tx,
            Array.from({ length: n }, (_, i) => event(leafHashes.length + i)),
          ),
        );
        for (const r of records) {
          assert.equal(r.index, leafHashes.length);
          leafHashes.push(Buffer.from(r.leafHash, 'hex'));
        }
      }
      const size = leafHashes.length;
      assert.equal(await log.size(), size);
      for (const s of [1, 2, 3, 255, 256, 257, 512, 1000, size]) {
        const reader = log.tree.at(s);
        assert.deepEqual(await reader.root(), merkleRoot(leafHashes.slice(0, s)), `root at ${s}`);
        for (const m of [0, 1, s >> 1, s - 1]) {
          if (m >= s) continue;
          assert.deepEqual(
            await reader.inclusionProof(m),
            inclusionProof(m, leafHashes.slice(0, s)),
            `inclusion of ${m} at ${s}`,
          );
        }
        for (const old of [1, 7, 256, s - 1]) {
          if (old <= 0 || old >= s) continue;
          const proof = await reader.consistencyProof(old);
          assert.deepEqual(
            proof,
            consistencyProof(old, s, leafHashes.slice(0, s)),
            `consistency ${old}→${s}`,
          );
          verifyConsistency(
            old,
            s,
            proof,
            merkleRoot(leafHashes.slice(0, old)),
            merkleRoot(leafHashes.slice(0, s)),
          );
        }
      }
    });

    test('a signed checkpoint, a tlog-proof that opens the entry, and a clean fsck', async (t) => {
      if (!store) return t.skip(`${name} not available on this machine`);
      const c = await log.checkpoint();
      assert.equal(c.size, leafHashes.length);
      const [vkey] = await log.verifierKeys();
      const body = parseCheckpoint(verifyNote(c.note, [vkey!]).text);
      assert.equal(body.origin, await log.origin());
      assert.deepEqual(body.rootHash, merkleRoot(leafHashes));
      const proof = await log.proof(300);
      const parsed = verifyTlogProof(proof, {
        leafHash: leafHashes[300]!,
        verifiers: [vkey!],
      });
      assert.equal(parsed.index, 300n);
      // Later proofs against the same checkpoint read their path ahead, with the entry (one round trip on
      // PostgreSQL); each must be the same proof the tree gives.
      for (const i of [0, 1, 255, 256, 299, leafHashes.length - 1]) {
        const text = await log.proof(i);
        const p = verifyTlogProof(text, { leafHash: leafHashes[i]!, verifiers: [vkey!] });
        assert.equal(p.index, BigInt(i));
        assert.deepEqual(parseTlogProof(text).proof, inclusionProof(i, leafHashes));
      }
      const opened = openAuditLeaf(parsed.extra!);
      assert.deepEqual(merkleLeafHash(opened.leaf), leafHashes[300]);
      assert.equal(opened.event.index, 300);
      assert.deepEqual(opened.event.details, { n: 300, text: 'événement 300' });
      const report = await fsckAuditLog({
        store,
        verifierKeys: [vkey!],
        origin: await log.origin(),
        checkpointFile: join(dir!.path, `${name}.checkpoint`),
      });
      assert.deepEqual(report.problems, []);
      assert.equal(report.valid, true);
      assert.equal(report.size, leafHashes.length);
    });

    test('redaction erases the event, keeps the leaf, and every proof stays valid', async (t) => {
      if (!store) return t.skip(`${name} not available on this machine`);
      const redaction = await log.redact(5, 'GDPR erasure request #12', 'user:dpo', 'default');
      leafHashes.push(Buffer.from(redaction.leafHash, 'hex'));
      const entry = await log.entry(5);
      assert.equal(entry.event, null);
      assert.equal(entry.salt, null);
      await log.checkpoint();
      const [vkey] = await log.verifierKeys();
      const proof = await log.proof(5);
      assert.doesNotMatch(proof, /^extra /m, 'a redacted entry has nothing to open');
      verifyTlogProof(proof, { leafHash: leafHashes[5]!, verifiers: [vkey!] });
      await assert.rejects(log.redact(5, 'again', 'user:dpo', 'default'), { code: 'ERR_WAYBILL_CONFLICT' });
      const report = await fsckAuditLog({ store, verifierKeys: [vkey!], origin: await log.origin() });
      assert.deepEqual(report.problems, []);
    });

    test('checkpoints follow appends within the configured interval', async (t) => {
      if (!store) return t.skip(`${name} not available on this machine`);
      const stop = log.startCheckpointing({ intervalMs: 25, onError: (e) => assert.fail(String(e)) });
      try {
        await log.appendNow([event(1), event(2), event(3)]);
        const size = await log.size();
        const deadline = Date.now() + 5000;
        while ((await log.latestCheckpoint())!.size < size && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        assert.equal((await log.latestCheckpoint())!.size, size);
        await log.appendNow(event(4));
      } finally {
        await stop();
      }
      assert.equal(
        (await log.latestCheckpoint())!.size,
        await log.size(),
        'stopping signs a last checkpoint',
      );
      const all = await store.auditLeafHashes(0, await log.size());
      leafHashes.splice(0, leafHashes.length, ...all.map((h) => Buffer.from(h.hash, 'hex')));
    });

    test('secrets are refused in event details', async (t) => {
      if (!store) return t.skip(`${name} not available on this machine`);
      await assert.rejects(
        log.appendNow({ type: 'x', actor: 'system', workspace: 'default', details: { password: 'hunter2' } }),
        (err: Error) => !err.message.includes('hunter2') && /secret/.test(err.message),
      );
      assert.equal(await log.size(), leafHashes.length, 'nothing appended');
    });

    if (name === 'postgres') {
      test('concurrent appenders on separate connections get one contiguous sequence', async (t) => {
        if (!store) return t.skip('postgres not available on this machine');
        const before = await log.size();
        const others = await Promise.all(
          [1, 2, 3].map(() => openPostgresStore({ connectionString: pg!.connectionString })),
        );
        try {
          const logs = await Promise.all(others.map((s) => openLog(s)));
          await Promise.all(
            logs.map((l, k) =>
              Promise.all(
                Array.from({ length: 20 }, (_, j) =>
                  l.appendNow([event(k * 100 + j), event(k * 100 + j + 1)]),
                ),
              ),
            ),
          );
        } finally {
          await Promise.all(others.map((s) => s.close()));
        }
        const after = await log.size();
        assert.equal(after, before + 3 * 20 * 2);
        const entries = await store.auditEntries(before, 1000);
        assert.deepEqual(
          entries.map((e) => e.index),
          Array.from({ length: after - before }, (_, i) => before + i),
        );
        const [vkey] = await log.verifierKeys();
        const report = await fsckAuditLog({ store, verifierKeys: [vkey!], origin: await log.origin() });
        assert.deepEqual(report.problems, []);
      });
    }
  });
}

async function workDir(): Promise<TempDir> {
  return (dir ??= await tempDir('waybill-audit-'));
}

auditSuite('sqlite', async () => openSqliteStore(join((await workDir()).path, 'waybill.db')));

auditSuite('postgres', async () => {
  await workDir();
  pg = await startPostgres({ database: 'waybill_audit' });
  if (!pg) return null;
  return openPostgresStore({ connectionString: pg.connectionString });
});

after(async () => {
  await pg?.stop();
  await dir?.cleanup();
});
