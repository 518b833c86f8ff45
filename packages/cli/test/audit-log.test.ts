// The audit log through the CLI, on real homes (SQLite store files), and the attacks it must detect, each
// test named after its attack. Tampering is done the way an attacker with write access to the database
// would: straight SQL on the store file, never through Waybill.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  merkleLeafHash,
  openAuditLeaf,
  parseCheckpoint,
  parseNote,
  parseTlogProof,
  signNote,
  verifyConsistency,
  verifyNote,
  verifyTlogProof,
} from '@waybill/verify';
import { SecretBox } from '@waybill/core';
import { openSqliteStore } from '@waybill/store';
import { binPath, cli, cliProcess, requestApproveRun, tempHome } from './cli-harness.js';

interface Demo {
  runId: string;
  waybillDir: string;
}

let t: Awaited<ReturnType<typeof tempHome>>;
let first: Demo;
let second: Demo;
let copies = 0;

const DEMO = ['demo', '--customers', '300', '--orders', '600', '--json'];

before(async () => {
  t = await tempHome();
  const a = await cli(['--home', t.home, ...DEMO]);
  assert.equal(a.code, 0, a.stderr);
  first = JSON.parse(a.stdout) as Demo;
  const b = await cli(['--home', t.home, ...DEMO]);
  assert.equal(b.code, 0, b.stderr);
  second = JSON.parse(b.stdout) as Demo;
});
after(async () => t.cleanup());

/** A copy of the demo home (with its exports) to tamper with; paths inside it are rebased. */
async function copyHome(): Promise<{ home: string; rebase: (p: string) => string }> {
  const home = join(t.dir, `copy-${++copies}`);
  await cp(t.home, home, { recursive: true });
  // Export locations and the demo source point into the original home; the copy gets its own.
  const rebase = (p: string): string => p.replace(t.home, home);
  const db = new BetterSqlite3(join(home, 'waybill.db'));
  try {
    for (const row of db.prepare('SELECT role, name, config FROM connections').all() as {
      role: string;
      name: string;
      config: string;
    }[]) {
      db.prepare('UPDATE connections SET config = ? WHERE role = ? AND name = ?').run(
        rebase(row.config),
        row.role,
        row.name,
      );
    }
  } finally {
    db.close();
  }
  return { home, rebase };
}

function sql(home: string, fn: (db: BetterSqlite3.Database) => void): void {
  const db = new BetterSqlite3(join(home, 'waybill.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

/** Request → approval by a second user → run, of the demo definition in `home`. */
function exportRun(home: string, ...extra: string[]): ReturnType<typeof cli> {
  return requestApproveRun(home, 'customers-marketing', 'marketing-analytics', ...extra);
}

interface Fsck {
  valid: boolean;
  size: number;
  firstBadIndex?: number;
  problems: { index: number | null; message: string }[];
}

async function auditVerify(home: string): Promise<{ code: number; report: Fsck }> {
  const r = await cli(['--home', home, 'audit', 'verify', '--json']);
  return { code: r.code, report: JSON.parse(r.stdout) as Fsck };
}

async function json<T>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

interface EntryView {
  index: number;
  type: string;
  actor: string;
  redacted: boolean;
  event: { subjects: Record<string, string>; details: Record<string, unknown> } | null;
  leafHash: string;
}

test('every run transition is logged in order, and the log verifies', async () => {
  const { entries } = await json<{ entries: EntryView[] }>([
    '--home',
    t.home,
    'audit',
    'search',
    '--run',
    first.runId,
  ]);
  assert.deepEqual(
    entries.map((e) => e.type),
    ['run.created', 'run.staged', 'run.validated', 'run.delivered', 'run.sealed'],
  );
  const sealed = entries[4]!;
  const envelope = await readFile(join(first.waybillDir, 'waybill.intoto.jsonl'));
  assert.equal(sealed.event!.details['waybillDigest'], createHash('sha256').update(envelope).digest('hex'));
  assert.equal(sealed.actor, 'user:admin');
  const before = await json<{ entries: EntryView[] }>(['--home', t.home, 'audit', 'tail', '-n', '100']);
  const types = new Set(before.entries.map((e) => e.type));
  for (const ty of ['key.created', 'principal.created', 'connection.added', 'definition.applied'])
    assert.ok(types.has(ty), `${ty} is logged`);
  const { code, report } = await auditVerify(t.home);
  assert.equal(code, 0, JSON.stringify(report.problems));
  assert.equal(report.valid, true);
  assert.equal(report.size, before.entries.length);
});

test('audit checkpoint, key, entry --raw, proof and consistency are checkable offline', async () => {
  const vkey = (await cli(['--home', t.home, 'audit', 'key'])).stdout.trim();
  assert.match(vkey, /^waybill\.local\/audit\/[0-9a-f]{16}\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
  const note = (await cli(['--home', t.home, 'audit', 'checkpoint'])).stdout;
  const checkpoint = parseCheckpoint(verifyNote(note, [vkey]).text);
  const size = Number(checkpoint.size);

  // --raw writes the exact 32 leaf bytes; SHA-256(0x00 || leaf) is the entry's leaf hash.
  const raw = spawnSync(process.execPath, [binPath, '--home', t.home, 'audit', 'entry', '3', '--raw']);
  assert.equal(raw.status, 0);
  assert.equal(raw.stdout.length, 32);
  const entry = await json<EntryView>(['--home', t.home, 'audit', 'entry', '3']);
  assert.equal(merkleLeafHash(raw.stdout).toString('base64'), entry.leafHash);

  const proof = (await cli(['--home', t.home, 'audit', 'proof', '3'])).stdout;
  const verified = verifyTlogProof(proof, {
    leafHash: Buffer.from(entry.leafHash, 'base64'),
    verifiers: [vkey],
  });
  assert.equal(verified.treeSize, checkpoint.size);
  assert.deepEqual(openAuditLeaf(parseTlogProof(proof).extra!).event, entry.event);

  // init signed a checkpoint of its 5 entries (2 keys, the policy set, the admin and its API key); the
  // latest one extends it.
  const oldProof = (await cli(['--home', t.home, 'audit', 'proof', '0', '--size', '5'])).stdout;
  const old = parseCheckpoint(verifyNote(parseTlogProof(oldProof).checkpoint, [vkey]).text);
  const c = await json<{ oldSize: number; newSize: number; proof: string[] }>([
    '--home',
    t.home,
    'audit',
    'consistency',
    '5',
  ]);
  assert.equal(c.newSize, size);
  verifyConsistency(
    5,
    size,
    c.proof.map((h) => Buffer.from(h, 'base64')),
    old.rootHash,
    checkpoint.rootHash,
  );

  const bad = await cli(['--home', t.home, 'audit', 'proof', 'x']);
  assert.equal(bad.code, 2);
  assert.equal((await cli(['--home', t.home, 'audit', 'consistency', '0'])).code, 2);
  const missing = await cli(['--home', t.home, 'audit', 'entry', String(size + 1000)]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /ERR_WAYBILL_NOT_FOUND/);
  const since = await cli(['--home', t.home, 'audit', 'search', '--since', 'yesterday']);
  assert.equal(since.code, 2);
  // Reading the log needs no master key: anyone holding the home's store can check it.
  const noKey = await cli(['--home', t.home, 'audit', 'verify'], { WAYBILL_MASTER_KEY: 'A'.repeat(44) });
  assert.equal(noKey.code, 0, noKey.stderr);
});

test('editing-an-event-in-the-database-is-detected', async () => {
  const { home } = await copyHome();
  sql(home, (db) =>
    db
      .prepare(
        "UPDATE audit_entries SET event = replace(event, 'user:admin', 'user:mallory'), actor = 'user:mallory' WHERE idx = 7",
      )
      .run(),
  );
  const { code, report } = await auditVerify(home);
  assert.equal(code, 1);
  assert.equal(report.firstBadIndex, 7);
  assert.match(report.problems[0]!.message, /entry 7: its event or salt was changed/);
});

test('deleting-a-row-is-detected', async () => {
  const { home } = await copyHome();
  sql(home, (db) => db.prepare('DELETE FROM audit_entries WHERE idx = 5').run());
  const { code, report } = await auditVerify(home);
  assert.equal(code, 1);
  assert.equal(report.firstBadIndex, 5);
  assert.match(report.problems[0]!.message, /entry 5 is missing/);
  // Proving anything that needs the gap fails loudly instead of serving a wrong proof.
  const proof = await cli(['--home', home, 'audit', 'proof', '4']);
  assert.equal(proof.code, 1);
  assert.match(proof.stderr, /ERR_WAYBILL_LOG_TAMPERED/);
});

test('reordering-two-rows-is-detected', async () => {
  const { home } = await copyHome();
  sql(home, (db) => {
    db.prepare('UPDATE audit_entries SET idx = 1000000000 WHERE idx = 5').run();
    db.prepare('UPDATE audit_entries SET idx = 5 WHERE idx = 6').run();
    db.prepare('UPDATE audit_entries SET idx = 6 WHERE idx = 1000000000').run();
  });
  const { code, report } = await auditVerify(home);
  assert.equal(code, 1);
  assert.equal(report.firstBadIndex, 5);
  assert.match(report.problems[0]!.message, /entry 5 holds the event logged as entry 6/);
});

test('replacing-the-stored-checkpoint-with-one-signed-by-another-key-is-detected', async () => {
  const { home } = await copyHome();
  const forger = generateKeyPairSync('ed25519');
  sql(home, (db) => {
    const latest = db
      .prepare('SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1')
      .get() as {
      size: number;
      note: string;
    };
    const origin = parseNote(latest.note).text.split('\n')[0]!;
    const forged = signNote(parseNote(latest.note).text, { name: origin, privateKey: forger.privateKey });
    db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(forged, latest.size);
  });
  const { code, report } = await auditVerify(home);
  assert.equal(code, 1);
  assert.ok(
    report.problems.some((p) =>
      /stored checkpoint of size \d+ is not validly signed by this log's key/.test(p.message),
    ),
    JSON.stringify(report.problems),
  );
});

test('truncating-the-log-and-re-appending-different-events-is-detected', async () => {
  const { home } = await copyHome();
  const size = (await auditVerify(home)).report.size;
  const keep = 8;
  // The attacker drops the tail (and every checkpoint that covers it) and fixes up the head row.
  sql(home, (db) => {
    db.prepare('DELETE FROM audit_entries WHERE idx >= ?').run(keep);
    db.prepare('DELETE FROM audit_checkpoints WHERE size > ?').run(keep);
    db.prepare('UPDATE audit_head SET size = ?').run(keep);
  });
  // Different events are appended through Waybill itself (a new HMAC key): the action is stored, but
  // no checkpoint is signed over the rewritten log.
  const append = await cli(['--home', home, 'keys', 'create-hmac', 'after-truncation']);
  assert.equal(append.code, 1);
  assert.match(
    append.stderr,
    /ERR_WAYBILL_LOG_TAMPERED: the audit log no longer extends its signed checkpoint of size/,
  );
  const { code, report } = await auditVerify(home);
  assert.equal(code, 1);
  assert.ok(report.size < size);
  // The re-appended entries are well formed; what gives them away is that they no longer match what was
  // signed. The first entry not vouched for by a still-matching checkpoint is reported.
  assert.ok(report.firstBadIndex !== undefined && report.firstBadIndex <= keep, String(report.firstBadIndex));
  assert.ok(
    report.problems.some((p) => /checkpoint file .* covers \d+ entries, but the store holds/.test(p.message)),
  );
  // Deleting the checkpoint file as well leaves the stored checkpoints to tell: the log is still
  // accepted only up to what they signed, and nothing new is signed over it.
});

test('flipped-byte-of-a-receipt-is-detected', async () => {
  const { home, rebase } = await copyHome();
  const dir = rebase(first.waybillDir);
  const file = join(dir, 'receipt.tlog-proof');
  const original = await readFile(file);
  for (const at of [
    0,
    30,
    original.indexOf('index ') + 7,
    original.length - 5,
    Math.floor(original.length / 2),
  ]) {
    const flipped = Buffer.from(original);
    flipped[at] = flipped[at]! ^ 0x01;
    await writeFile(file, flipped);
    const r = await cli(['--home', home, 'verify', dir, '--json']);
    assert.equal(r.code, 1, `flip at ${at} detected`);
    assert.match(r.stdout, /receipt\.tlog-proof/);
  }
  await writeFile(file, original);
  assert.equal((await cli(['--home', home, 'verify', dir])).code, 0);
});

test('receipt-of-another-export-is-detected', async () => {
  const { home, rebase } = await copyHome();
  const target = rebase(first.waybillDir);
  await cp(join(rebase(second.waybillDir), 'receipt.tlog-proof'), join(target, 'receipt.tlog-proof'));
  const r = await cli(['--home', home, 'verify', target, '--json']);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout) as { errors: { code: string; message: string }[] };
  assert.deepEqual(
    report.errors.map((e) => e.code),
    ['ERR_WAYBILL_RECEIPT_MISMATCH'],
  );
  assert.match(report.errors[0]!.message, new RegExp(`seals run "${second.runId}", not ${first.runId}`));
});

test('an export whose seal cannot be logged is never released', async () => {
  const { home, rebase } = await copyHome();
  const exportsDir = rebase(join(first.waybillDir, '..'));
  const before = await readdir(exportsDir);
  // The store refuses the seal entry (as a full disk or a lost database connection would).
  sql(home, (db) =>
    db.exec(`CREATE TRIGGER no_seal BEFORE INSERT ON audit_entries WHEN NEW.type = 'run.sealed'
             BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`),
  );
  const r = await exportRun(home);
  assert.equal(r.code, 1);
  assert.deepEqual(await readdir(exportsDir), before, 'nothing new at the destination');
  const failed = await json<{ entries: EntryView[] }>([
    '--home',
    home,
    'audit',
    'search',
    '--type',
    'run.failed',
  ]);
  assert.equal(failed.entries.length, 1);
  assert.equal(failed.entries[0]!.event!.details['from'], 'delivered');
  sql(home, (db) => db.exec('DROP TRIGGER no_seal'));
  assert.equal((await auditVerify(home)).code, 0);
});

test('redaction erases an event; proofs, exports and audit verify stay valid', async () => {
  const { home, rebase } = await copyHome();
  const r = await cli([
    '--home',
    home,
    'audit',
    'redact',
    '2',
    '--reason',
    'GDPR erasure request 7',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { redactionEntry: number };
  const entry = await json<EntryView>(['--home', home, 'audit', 'entry', '2']);
  assert.equal(entry.redacted, true);
  assert.equal(entry.event, null);
  const redaction = await json<EntryView>(['--home', home, 'audit', 'entry', String(out.redactionEntry)]);
  assert.equal(redaction.type, 'audit.redacted');
  assert.equal(redaction.event!.details['reason'], 'GDPR erasure request 7');
  const vkey = (await cli(['--home', home, 'audit', 'key'])).stdout.trim();
  const proof = (await cli(['--home', home, 'audit', 'proof', '2'])).stdout;
  verifyTlogProof(proof, { leafHash: Buffer.from(entry.leafHash, 'base64'), verifiers: [vkey] });
  assert.equal((await auditVerify(home)).code, 0);
  assert.equal((await cli(['--home', home, 'verify', rebase(first.waybillDir)])).code, 0);
  const again = await cli(['--home', home, 'audit', 'redact', '2', '--reason', 'again']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /ERR_WAYBILL_CONFLICT/);
  // The redaction itself stays: erasing it would leave an erasure nobody accounts for.
  const ofRedaction = await cli([
    '--home',
    home,
    'audit',
    'redact',
    String(out.redactionEntry),
    '--reason',
    'x',
  ]);
  assert.equal(ofRedaction.code, 1);
  assert.match(ofRedaction.stderr, /records a redaction/);
  // An erasure done behind Waybill's back (no audit.redacted event) is itself detected.
  sql(home, (db) => db.prepare('UPDATE audit_entries SET event = NULL, salt = NULL WHERE idx = 3').run());
  const { report } = await auditVerify(home);
  assert.equal(report.firstBadIndex, 3);
  assert.match(report.problems[0]!.message, /entry 3 was erased, but no audit\.redacted event records it/);
});

test('keys rotate: new key ids, old waybills and checkpoints still verify, each rotation logged', async () => {
  const { home, rebase } = await copyHome();
  const oldVkey = (await cli(['--home', home, 'audit', 'key'])).stdout.trim();
  const w = await json<{ keyId: string }>(['--home', home, 'keys', 'rotate', '--waybill']);
  const l = await json<{ keyId: string; vkey: string }>(['--home', home, 'keys', 'rotate', '--log']);
  assert.notEqual(l.vkey, oldVkey);
  assert.equal((await cli(['--home', home, 'audit', 'key'])).stdout.trim(), l.vkey);
  // The latest checkpoint is signed by the new log key; the older ones keep the old key's signature.
  const note = (await cli(['--home', home, 'audit', 'checkpoint'])).stdout;
  verifyNote(note, [l.vkey]);
  assert.throws(() => verifyNote(note, [oldVkey]));
  assert.equal((await auditVerify(home)).code, 0);
  // The old export (old waybill key, receipt under the old log key) still verifies from the home.
  assert.equal((await cli(['--home', home, 'verify', rebase(first.waybillDir)])).code, 0);
  // A new export is signed by the new waybill key.
  const again = await json<{ waybillDir: string }>(['--home', home, ...DEMO.slice(0, -1)]);
  const envelope = JSON.parse(await readFile(join(again.waybillDir, 'waybill.intoto.jsonl'), 'utf8')) as {
    signatures: { keyid: string }[];
  };
  assert.equal(envelope.signatures[0]!.keyid, w.keyId);
  const rotations = await json<{ entries: EntryView[] }>([
    '--home',
    home,
    'audit',
    'search',
    '--type',
    'key.rotated',
  ]);
  assert.equal(rotations.entries.length, 2);
  assert.equal((await cli(['--home', home, 'keys', 'rotate'])).code, 2);
});

test('a run released just before its process died is not rolled back by recovery', async () => {
  const { home, rebase } = await copyHome();
  const location = rebase(first.waybillDir);
  const exportsRoot = rebase(join(t.home, 'demo', 'exports'));
  const path = location.slice(exportsRoot.length + 1);
  // The process committed the export, then died before marking it released in its staging marker.
  // (pid 2^22 + 12345 is above Linux's pid_max: no such process.)
  const marker = {
    runId: first.runId,
    pid: 2 ** 22 + 12345,
    host: hostname(),
    destination: 'demo-exports',
    path,
  };
  const stage = async (runId: string): Promise<void> => {
    const dir = join(home, 'staging', runId);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'run.json'), JSON.stringify({ ...marker, runId }));
  };
  await stage(first.runId);
  // A sealed run whose committed envelope does not match what was sealed was not released by it.
  sql(home, (db) =>
    db.prepare('UPDATE runs SET waybill_digest = ? WHERE id = ?').run('00'.repeat(32), second.runId),
  );
  await stage(second.runId);
  const r = await exportRun(home, '--json');
  assert.equal(r.code, 0, r.stderr);
  const show = async (id: string) =>
    JSON.parse((await cli(['--home', home, 'export', 'show', id, '--json'])).stdout) as { status: string };
  assert.equal((await show(first.runId)).status, 'sealed');
  assert.equal((await cli(['--home', home, 'verify', location])).code, 0);
  assert.equal((await show(second.runId)).status, 'failed');
  const failed = await json<{ entries: EntryView[] }>([
    '--home',
    home,
    'audit',
    'search',
    '--type',
    'run.failed',
  ]);
  assert.deepEqual(
    failed.entries.map((e) => e.event!.subjects['run']),
    [second.runId],
  );
  assert.deepEqual(await readdir(join(home, 'staging')), []);
});

test('a-retired-log-key-signing-a-later-checkpoint-is-detected', async () => {
  // The old log key leaked, which is why it was rotated; whoever holds it must not be able to vouch for
  // entries logged after the rotation.
  const { home } = await copyHome();
  const db = new BetterSqlite3(join(home, 'waybill.db'), { readonly: true });
  const old = db.prepare("SELECT id FROM keys WHERE purpose = 'log-signing'").get() as { id: string };
  db.close();
  assert.equal((await cli(['--home', home, 'keys', 'rotate', '--log'])).code, 0);
  assert.equal((await cli(['--home', home, 'keys', 'create-hmac', 'after-rotation'])).code, 0);
  const store = await openSqliteStore(join(home, 'waybill.db'));
  try {
    const box = new SecretBox(
      Buffer.from((await readFile(join(home, 'master.key'), 'utf8')).trim(), 'base64'),
    );
    const record = (await store.listKeys('default', 'log-signing')).find((k) => k.id === old.id)!;
    const oldKey = createPrivateKey({
      key: box.open(record.sealedSecret, `key:log-signing:${old.id}`),
      format: 'der',
      type: 'pkcs8',
    });
    const latest = (await store.latestAuditCheckpoint())!;
    const text = parseNote(latest.note).text;
    const forged = signNote(text, { name: text.split('\n')[0]!, privateKey: oldKey });
    sql(home, (d) =>
      d.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(forged, latest.size),
    );
  } finally {
    await store.close();
  }
  const { code, report } = await auditVerify(home);
  assert.equal(code, 1);
  assert.ok(
    report.problems.some((p) =>
      /signed only by a log key that a logged rotation retired before it/.test(p.message),
    ),
    JSON.stringify(report.problems),
  );
});

test('a-log-that-lost-its-origin-is-reported-not-renamed', async () => {
  const { home } = await copyHome();
  sql(home, (db) => db.prepare('UPDATE audit_head SET origin = NULL').run());
  const r = await cli(['--home', home, 'audit', 'verify']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_LOG_TAMPERED: the audit log holds \d+ entries but has lost its origin/);
  sql(home, (db) => {
    const head = db.prepare('SELECT origin FROM audit_head').get() as { origin: string | null };
    assert.equal(head.origin, null, 'reading never makes up a new origin');
  });
});

test('concurrent commands on one SQLite home all succeed, and the log stays contiguous and verifiable', async () => {
  // Separate processes, as users and scripts run them. Each command's transaction takes SQLite's write
  // lock up front (BEGIN IMMEDIATE), so they queue instead of failing with "database is locked".
  const { home } = await copyHome();
  const dest = join(home, 'concurrent-out');
  await mkdir(dest);
  const before = (await auditVerify(home)).report.size;
  const results = await Promise.all(
    ['a', 'b', 'c'].map(async (w) => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await cliProcess([
          '--home',
          home,
          'destination',
          'add',
          `${w}-${i}`,
          '--kind',
          'directory',
          '--path',
          dest,
        ]);
        out.push(r.code);
        if (r.code !== 0) process.stderr.write(r.stderr);
      }
      return out;
    }),
  );
  assert.deepEqual(results.flat(), Array(15).fill(0));
  const { code, report } = await auditVerify(home);
  assert.equal(code, 0, JSON.stringify(report.problems));
  // Each command logs its policy decision (access.allowed) and its change (connection.added).
  assert.equal(report.size, before + 30);
});
