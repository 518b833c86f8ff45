// The SFTP destination against Debian's OpenSSH server, started by the test on 127.0.0.1 as the
// current user (installed by .ci/run): temp name + rename, host-key pinning, trust on first use only
// when asked, the egress allowlist. Attack tests are named after the attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSshd, type TestSshd } from '@waybill/testkit';
import { cli, cliProcess, requestApproveRun, tempHome } from './cli-harness.js';

let sshd: TestSshd | null = null;
let t: Awaited<ReturnType<typeof tempHome>>;

before(async () => {
  sshd = await startSshd();
  if (!sshd) {
    console.error(
      '\n*** SKIPPING sftp tests: Debian openssh-server is not installed (apt-get install openssh-server) ***\n',
    );
    return;
  }
  t = await tempHome();
  assert.equal((await cli(['--home', t.home, 'demo'])).code, 0);
  const file = join(t.dir, 'to-sftp.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: to-sftp
owner: team:ops
purposes: [ops]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
  - { name: country, from: country }
destination: { connection: partner, path: 'drops/{runId}' }
format: csv
retention: P7D
`,
  );
  // The definition names a destination added later in each test; apply it once one exists.
  await addPartner(['--host-key', sshd.hostKeyFingerprint]);
  const applied = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(applied.code, 0, applied.stderr);
});
after(async () => {
  await sshd?.stop();
  await t?.cleanup();
});

/** (Re)adds destination `partner` with the client key as its secret (read from standard input). */
function addPartner(extra: string[]) {
  return cliProcess(
    [
      '--home',
      t.home,
      'destination',
      'add',
      'partner',
      '--kind',
      'sftp',
      '--host',
      '127.0.0.1',
      '--port',
      String(sshd!.port),
      '--user',
      sshd!.user,
      '--path',
      sshd!.root,
      '--password-stdin',
      ...extra,
    ],
    {},
    sshd!.clientKey,
  );
}

test('egress-to-the-sftp-host-is-refused until the allowlist names it (with --private for loopback)', async (tc) => {
  if (!sshd) return tc.skip('no sshd');
  const r = await requestApproveRun(t.home, 'to-sftp', 'ops');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /ERR_WAYBILL_EGRESS_DENIED: 127\.0\.0\.1:\d+ is not on this workspace's egress allowlist/,
  );
  assert.equal((await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${sshd.port}`])).code, 0);
  const loop = await requestApproveRun(t.home, 'to-sftp', 'ops');
  assert.match(loop.stderr, /ERR_WAYBILL_EGRESS_DENIED: 127\.0\.0\.1 is a loopback/);
  assert.equal(
    (await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${sshd.port}`, '--private'])).code,
    0,
  );
  assert.deepEqual(await readdir(sshd.root), [], 'nothing was written');
});

test('an export lands under a temporary name and is renamed into place; it verifies', async (tc) => {
  if (!sshd) return tc.skip('no sshd');
  const r = await requestApproveRun(t.home, 'to-sftp', 'ops', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { runId: string; location: string };
  assert.equal(
    out.location,
    `sftp://${sshd.user}@127.0.0.1:${sshd.port}${join(sshd.root, 'drops', out.runId)}`,
  );
  const drops = await readdir(join(sshd.root, 'drops'));
  assert.deepEqual(drops, [out.runId], 'no temporary directory is left behind');
  const files = (await readdir(join(sshd.root, 'drops', out.runId))).sort();
  assert.deepEqual(files, [
    'lineage.json',
    'receipt.tlog-proof',
    'records.jsonl',
    'to-sftp.csv',
    'waybill.intoto.jsonl',
  ]);
  const verify = await cli(['--home', t.home, 'verify', join(sshd.root, 'drops', out.runId)]);
  assert.equal(verify.code, 0, verify.stdout);
  assert.ok(!r.stdout.includes('PRIVATE KEY') && !r.stderr.includes('PRIVATE KEY'));
});

test('a-changed-host-key is refused before logging in (a man in the middle)', async (tc) => {
  if (!sshd) return tc.skip('no sshd');
  const wrong = 'SHA256:' + Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '');
  assert.equal((await addPartner(['--host-key', wrong])).code, 0);
  const before = await readdir(join(sshd.root, 'drops'));
  const r = await requestApproveRun(t.home, 'to-sftp', 'ops');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `ERR_WAYBILL_DESTINATION_FAILED: sftp destination: the host key of 127\\.0\\.0\\.1:${sshd.port} is ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}, not the pinned`,
    ),
  );
  assert.deepEqual(await readdir(join(sshd.root, 'drops')), before);
});

test('no host key and no --trust-on-first-use is refused; with it, the key shown is pinned', async (tc) => {
  if (!sshd) return tc.skip('no sshd');
  const none = await addPartner([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /pin the server's host key: --host-key SHA256:/);
  const tofu = await addPartner(['--trust-on-first-use']);
  assert.equal(tofu.code, 0, tofu.stderr);
  assert.match(
    tofu.stderr,
    new RegExp(
      `trusting on first use: 127\\.0\\.0\\.1 presented ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}; pinned`,
    ),
  );
  const list = await cli(['--home', t.home, 'destination', 'list', '--json']);
  const partner = (
    JSON.parse(list.stdout) as {
      connections: { name: string; config: { hostKey: string }; credential: string }[];
    }
  ).connections.find((c) => c.name === 'partner')!;
  assert.equal(partner.config.hostKey, sshd.hostKeyFingerprint);
  assert.equal(partner.credential, 'stored encrypted');
  const r = await requestApproveRun(t.home, 'to-sftp', 'ops');
  assert.equal(r.code, 0, r.stderr);
});
