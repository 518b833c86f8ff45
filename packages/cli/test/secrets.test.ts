// Envelope encryption of stored secrets and `waybill secrets rotate`, on a real home; and a whole
// export through an HTTPS receiver, with every log line, audit event, waybill file and error of the
// run searched for the secret values. Attack tests are named after the attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SecretBox } from '@waybill/core';
import { hasOpenssl, makeTestPki, type TestPki } from '@waybill/testkit';
import { openHome } from '../src/home.js';
import { cli, cliProcess, requestApproveRun, tempHome } from './cli-harness.js';

const SIGNING_SECRET = 'whsec-Leak-Canary-7c1d9e';
let t: Awaited<ReturnType<typeof tempHome>>;
let pki: TestPki | undefined;
let server: Server | undefined;
let port = 0;
let failNext = 0;
const bodies: Buffer[] = [];

before(async () => {
  t = await tempHome();
  assert.equal((await cli(['--home', t.home, 'demo'])).code, 0);
  if (!hasOpenssl) return;
  pki = await makeTestPki('waybill-secrets-');
  server = createServer(
    { cert: await pki.read('server.crt'), key: await pki.read('server.key') },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks), Buffer.from(JSON.stringify(req.headers)));
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end('no');
        } else res.writeHead(200).end('ok');
      });
    },
  );
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server!.once('listening', r));
  port = (server.address() as AddressInfo).port;
  // The signing secret goes in on standard input and is stored encrypted.
  const add = await cliProcess(
    [
      '--home',
      t.home,
      'destination',
      'add',
      'hooks',
      '--kind',
      'https',
      '--url',
      `https://127.0.0.1:${port}/in`,
      '--ca',
      pki.file('ca.crt'),
      '--attempts',
      '1',
      '--password-stdin',
    ],
    {},
    SIGNING_SECRET,
  );
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${port}`, '--private'])).code, 0);
});
after(async () => {
  server?.close();
  await pki?.dir.cleanup();
  await t.cleanup();
});

function sealedOf(name: string): string {
  const db = new Database(join(t.home, 'waybill.db'), { readonly: true });
  try {
    return (db.prepare('SELECT secret FROM connections WHERE name = ?').get(name) as { secret: string })
      .secret;
  } finally {
    db.close();
  }
}

/** Every secret value of the home: the master key, each key of the key ring, the signing secret. */
async function secretValues(): Promise<string[]> {
  const master = (await readFile(join(t.home, 'master.key'), 'utf8')).trim();
  const h = await openHome(t.home, {});
  try {
    const hmac = await h.keys.hmacKey('demo-pseudonyms');
    return [
      master,
      Buffer.from(master, 'base64').toString('hex'),
      hmac.secret.toString('base64'),
      hmac.secret.toString('hex'),
      hmac.secret.toString('base64url'),
      SIGNING_SECRET,
    ];
  } finally {
    await h.close();
  }
}

test(
  'connection secrets are envelope-encrypted: a data key per secret, wrapped by the master key',
  { skip: !hasOpenssl },
  () => {
    const sealed = sealedOf('hooks');
    assert.match(sealed, /^v2:local:[0-9a-f]{16}:/);
    assert.ok(!sealed.includes(SIGNING_SECRET));
  },
);

test(
  'secret-values-never-appear in logs, audit events, waybills or errors of a whole run',
  { skip: !hasOpenssl },
  async () => {
    const file = join(t.dir, 'leak.yaml');
    await writeFile(
      file,
      `apiVersion: waybill/v1
kind: ExportDefinition
name: leak
owner: team:ops
purposes: [ops]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id, transform: { type: hash_keyed, key: demo-pseudonyms } }
  - { name: email, from: email, transform: { type: tokenize, key: demo-pseudonyms } }
  - { name: country, from: country }
destination: { connection: hooks, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
    );
    const applied = await cli(['--home', t.home, 'def', 'apply', file]);
    assert.equal(applied.code, 0, applied.stderr);
    const ok = await requestApproveRun(t.home, 'leak', 'ops', '--json');
    assert.equal(ok.code, 0, ok.stderr);
    failNext = 1; // and a run that fails at the destination, for its error
    const failed = await requestApproveRun(t.home, 'leak', 'ops');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /ERR_WAYBILL_DESTINATION_FAILED/);
    const audit = await cli(['--home', t.home, 'audit', 'search', '--limit', '10000', '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    const status = await cli(['--home', t.home, 'export', 'status', '--json']);
    const texts = [
      ok.stdout,
      ok.stderr,
      failed.stdout,
      failed.stderr,
      audit.stdout,
      status.stdout,
      ...bodies.map((b) => b.toString('latin1')),
    ];
    for (const f of await readdir(t.home)) {
      if (f.endsWith('.log') || f === 'audit.checkpoint')
        texts.push(await readFile(join(t.home, f), 'latin1'));
    }
    assert.ok(bodies.length >= 10, 'the receiver got the files of the run');
    for (const secret of await secretValues()) {
      for (const text of texts)
        assert.ok(!text.includes(secret), `a secret value (${secret.length} chars) leaked`);
    }
  },
);

test('secrets rotate re-wraps every data key under a new master key; the old key opens nothing; exports go on', async () => {
  const oldKey = Buffer.from((await readFile(join(t.home, 'master.key'), 'utf8')).trim(), 'base64');
  const before = hasOpenssl ? sealedOf('hooks') : null;
  const r = await cli(['--home', t.home, 'secrets', 'rotate', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rotation = JSON.parse(r.stdout) as { connections: number; keys: number; from: string; to: string };
  assert.ok(rotation.keys >= 3, 'signing, log and HMAC keys');
  assert.notEqual(rotation.from, rotation.to);
  const newKey = Buffer.from((await readFile(join(t.home, 'master.key'), 'utf8')).trim(), 'base64');
  assert.equal(newKey.length, 32);
  assert.ok(!newKey.equals(oldKey));
  assert.ok(!r.stdout.includes(newKey.toString('base64')), 'the new key is never printed');
  if (before !== null) {
    const after = sealedOf('hooks');
    assert.equal(after.split(':')[4], before.split(':')[4], 'the sealed value kept its ciphertext');
    assert.notEqual(after.split(':')[3], before.split(':')[3], 'its data key was re-wrapped');
    assert.throws(
      () => new SecretBox(oldKey).open(after, 'connection:default:destination:hooks'),
      /not by this master key/,
    );
    assert.equal(
      new SecretBox(newKey).open(after, 'connection:default:destination:hooks').toString(),
      SIGNING_SECRET,
    );
  }
  // The key ring opens under the new key: the demo export runs, verifies, and the log is intact.
  const run = await requestApproveRun(t.home, 'customers-marketing', 'marketing-analytics', '--json');
  assert.equal(run.code, 0, run.stderr);
  const verify = await cli([
    '--home',
    t.home,
    'verify',
    (JSON.parse(run.stdout) as { location: string }).location,
  ]);
  assert.equal(verify.code, 0, verify.stdout);
  const fsck = await cli(['--home', t.home, 'audit', 'verify']);
  assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
  const events = await cli(['--home', t.home, 'audit', 'search', '--type', 'secrets.rotated', '--json']);
  assert.match(events.stdout, /"secrets\.rotated"/);
  assert.ok(
    !events.stdout.includes(newKey.toString('base64')) && !events.stdout.includes(oldKey.toString('base64')),
  );
  // With the old key, the home no longer opens its secrets.
  const stale = await cli(['--home', t.home, 'keys', 'list'], {
    WAYBILL_MASTER_KEY: oldKey.toString('base64'),
  });
  const staleRun = await requestApproveRunWithKey(oldKey);
  assert.equal(staleRun.code, 1);
  assert.match(staleRun.stderr, /ERR_WAYBILL_SECRET_UNAVAILABLE: .*not by this master key/);
  assert.equal(stale.code, 0, 'listing key ids needs no secret');
});

test('rotating with WAYBILL_MASTER_KEY needs the new key from another variable, and checks it', async () => {
  const current = (await readFile(join(t.home, 'master.key'), 'utf8')).trim();
  const env = { WAYBILL_MASTER_KEY: current };
  const r = await cli(['--home', t.home, 'secrets', 'rotate'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--new-key-env VAR/);
  const short = await cli(['--home', t.home, 'secrets', 'rotate', '--new-key-env', 'NEXT'], {
    ...env,
    NEXT: 'c2hvcnQ=',
  });
  assert.match(short.stderr, /base64 of exactly 32 bytes/);
  const next = Buffer.alloc(32, 7).toString('base64');
  const ok = await cli(['--home', t.home, 'secrets', 'rotate', '--new-key-env', 'NEXT'], {
    ...env,
    NEXT: next,
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /set WAYBILL_MASTER_KEY to the value of \$NEXT/);
  assert.equal(
    (await readFile(join(t.home, 'master.key'), 'utf8')).trim(),
    current,
    'the key file is left alone',
  );
  const h = await openHome(t.home, { WAYBILL_MASTER_KEY: next });
  try {
    assert.equal((await h.keys.hmacKey('demo-pseudonyms')).secret.length, 32);
  } finally {
    await h.close();
  }
  await writeFile(join(t.home, 'master.key'), next + '\n');
});

async function requestApproveRunWithKey(key: Buffer) {
  const saved = process.env['WAYBILL_MASTER_KEY'];
  process.env['WAYBILL_MASTER_KEY'] = key.toString('base64');
  try {
    return await requestApproveRun(t.home, 'customers-marketing', 'marketing-analytics');
  } finally {
    if (saved === undefined) delete process.env['WAYBILL_MASTER_KEY'];
    else process.env['WAYBILL_MASTER_KEY'] = saved;
  }
}
