// Encryption to recipients: the payload leaves as an age file, the waybill covers the ciphertext and
// the plaintext's digest; decrypted with Debian's `age` command, the plaintext verifies too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { repoRoot } from '@waybill/testkit';
import { cli, requestApproveRun, tempHome } from './cli-harness.js';

// ajv-formats is CommonJS; its default export arrives wrapped.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

const hasAge = spawnSync('age', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasAge)
  console.error('\n*** SKIPPING age tests: Debian `age` is not installed (apt-get install age) ***\n');

let t: Awaited<ReturnType<typeof tempHome>>;
let identity: string;
let recipient: string;
let dir: string;

function age(args: string[]): void {
  const r = spawnSync('age', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

before(async () => {
  if (!hasAge) return;
  t = await tempHome();
  assert.equal((await cli(['--home', t.home, 'demo'])).code, 0);
  identity = join(t.dir, 'recipient.key');
  const k = spawnSync('age-keygen', ['-o', identity], { encoding: 'utf8' });
  assert.equal(k.status, 0, k.stderr);
  recipient = spawnSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).stdout.trim();
  assert.match(recipient, /^age1[0-9a-z]+$/);
  await mkdir(join(t.dir, 'sealed-out'));
  const add = await cli([
    '--home',
    t.home,
    'destination',
    'add',
    'sealed',
    '--kind',
    'directory',
    '--path',
    join(t.dir, 'sealed-out'),
    '--age-recipient',
    recipient,
  ]);
  assert.equal(add.code, 0, add.stderr);
  const file = join(t.dir, 'sealed.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: sealed
owner: team:ops
purposes: [ops]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
  - { name: country, from: country }
destination: { connection: sealed, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
  const run = await requestApproveRun(t.home, 'sealed', 'ops', '--json');
  assert.equal(run.code, 0, run.stderr);
  dir = (JSON.parse(run.stdout) as { location: string }).location;
});
after(async () => t?.cleanup());

test(
  'the payload leaves encrypted: no plaintext at the destination, the waybill covers the ciphertext',
  { skip: !hasAge },
  async () => {
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, [
      'lineage.json',
      'receipt.tlog-proof',
      'records.jsonl',
      'sealed.ndjson.age',
      'waybill.intoto.jsonl',
    ]);
    const head = (await readFile(join(dir, 'sealed.ndjson.age'))).subarray(0, 21).toString('latin1');
    assert.equal(head, 'age-encryption.org/v1');
    const v = await cli(['--home', t.home, 'verify', dir, '--json']);
    assert.equal(v.code, 0, v.stdout);
    assert.deepEqual((JSON.parse(v.stdout) as { encryption: unknown }).encryption, {
      plaintext: 'sealed.ndjson',
      status: 'absent',
    });
    const envelope = JSON.parse(
      (await readFile(join(dir, 'waybill.intoto.jsonl'), 'utf8')).split('\n')[0]!,
    ) as {
      payload: string;
    };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      predicate: { encryption: { recipients: string[]; plaintext: { name: string } } };
    };
    assert.deepEqual(statement.predicate.encryption.recipients, [recipient]);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(
      JSON.parse(await readFile(join(repoRoot(), 'docs', 'predicate.schema.json'), 'utf8')) as object,
    );
    assert.ok(validate(statement.predicate), JSON.stringify(validate.errors));
  },
);

test(
  'decrypted with Debian age, the plaintext verifies against the signed digest and its records',
  { skip: !hasAge },
  async () => {
    age(['-d', '-i', identity, '-o', join(dir, 'sealed.ndjson'), join(dir, 'sealed.ndjson.age')]);
    const lines = (await readFile(join(dir, 'sealed.ndjson'), 'utf8')).trim().split('\n');
    assert.ok(lines.length > 100);
    assert.deepEqual(Object.keys(JSON.parse(lines[0]!) as object), ['country', 'id']);
    const v = await cli(['--home', t.home, 'verify', dir]);
    assert.equal(v.code, 0, v.stdout);
    assert.match(v.stdout, /decrypted plaintext sealed\.ndjson matches the signed digest/);
  },
);

test(
  'a flipped byte in the ciphertext or in the decrypted plaintext is detected',
  { skip: !hasAge },
  async () => {
    const plain = join(dir, 'sealed.ndjson');
    const original = await readFile(plain);
    const changed = Buffer.from(original);
    changed[changed.indexOf('"US"') + 1] = 'X'.charCodeAt(0);
    await writeFile(plain, changed);
    const v = await cli(['--home', t.home, 'verify', dir]);
    assert.equal(v.code, 1);
    assert.match(
      v.stdout,
      /ERR_WAYBILL_DIGEST_MISMATCH: sealed\.ndjson \(the decrypted payload\) has SHA-256/,
    );
    await writeFile(plain, original);

    const sealedFile = join(dir, 'sealed.ndjson.age');
    const bytes = await readFile(sealedFile);
    bytes[bytes.length - 5]! ^= 1;
    await writeFile(sealedFile, bytes);
    const w = await cli(['--home', t.home, 'verify', dir]);
    assert.equal(w.code, 1);
    assert.match(w.stdout, /ERR_WAYBILL_DIGEST_MISMATCH: sealed\.ndjson\.age has SHA-256/);
  },
);

test('a destination refuses a malformed recipient when it is added', { skip: !hasAge }, async () => {
  const r = await cli([
    '--home',
    t.home,
    'destination',
    'add',
    'bad',
    '--kind',
    'directory',
    '--path',
    t.dir,
    '--age-recipient',
    'ssh-ed25519 AAAA',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_CONNECTION_INVALID: .*"ageRecipients" must list age public keys/);
});
