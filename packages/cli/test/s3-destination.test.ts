// The S3 destination against s3rver, a local S3-compatible server (over HTTPS, with a generated CA),
// through the AWS SDK with multipart uploads: temporary prefix, commit in order with the completion
// marker last, cleanup on failure, server-side encryption requested. Attack tests are named after the
// attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import S3rver from 's3rver';
import { hasOpenssl, makeTestPki, tempDir, type TempDir, type TestPki } from '@waybill/testkit';
import { cli, cliProcess, requestApproveRun, tempHome } from './cli-harness.js';

let t: Awaited<ReturnType<typeof tempHome>>;
let pki: TestPki;
let store: TempDir;
let server: S3rver | undefined;
let port = 0;
const sseHeaders: string[] = [];

/** The objects in the bucket, from s3rver's own files (key → content). */
async function objects(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const root = join(store.path, 'exports');
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p, `${prefix}${e.name}/`);
      else if (e.name.endsWith('._S3rver_object'))
        out.set(`${prefix}${e.name.slice(0, -'._S3rver_object'.length)}`, await readFile(p));
    }
  }
  await walk(root, '');
  return out;
}

before(async () => {
  if (!hasOpenssl) return;
  t = await tempHome();
  pki = await makeTestPki('waybill-s3-');
  store = await tempDir('waybill-s3rver-');
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: store.path,
    key: await pki.read('server.key'),
    cert: await pki.read('server.crt'),
    configureBuckets: [{ name: 'exports', configs: [] }],
  });
  const address = (await server.run()) as { port: number };
  port = address.port;
  // What reaches the server: the SSE header s3rver itself ignores.
  (server as unknown as { httpServer: HttpServer }).httpServer.on('request', (req) => {
    if (req.method === 'PUT') sseHeaders.push(String(req.headers['x-amz-server-side-encryption'] ?? ''));
  });
  assert.equal((await cli(['--home', t.home, 'demo'])).code, 0);
  const add = await cliProcess(
    [
      '--home',
      t.home,
      'destination',
      'add',
      'lake',
      '--kind',
      's3',
      '--bucket',
      'exports',
      '--prefix',
      'waybill',
      '--endpoint',
      `https://127.0.0.1:${port}`,
      '--ca',
      pki.file('ca.crt'),
      '--sse',
      'AES256',
      '--password-stdin',
    ],
    {},
    'S3RVER:S3RVER',
  );
  assert.equal(add.code, 0, add.stderr);
  const file = join(t.dir, 'to-lake.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: to-lake
owner: team:data
purposes: [analytics]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
  - { name: country, from: country }
  - { name: value, from: lifetime_value }
destination: { connection: lake, path: '{name}/{runId}' }
format: ndjson
retention: P30D
`,
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
});
after(async () => {
  await server?.close();
  await store?.cleanup();
  await pki?.dir.cleanup();
  await t?.cleanup();
});

test('egress-to-the-s3-endpoint is refused until the allowlist names it', { skip: !hasOpenssl }, async () => {
  const r = await requestApproveRun(t.home, 'to-lake', 'analytics');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /ERR_WAYBILL_EGRESS_DENIED: 127\.0\.0\.1:\d+ is not on this workspace's egress allowlist/,
  );
  assert.equal((await objects()).size, 0);
  assert.equal((await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${port}`, '--private'])).code, 0);
});

test(
  'an export goes up under a temporary prefix and is committed in order with the marker last; it verifies',
  { skip: !hasOpenssl },
  async () => {
    const r = await requestApproveRun(t.home, 'to-lake', 'analytics', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { runId: string; location: string };
    assert.equal(out.location, `s3://exports/waybill/to-lake/${out.runId}/`);
    assert.ok(sseHeaders.length >= 6, 'uploads, copies and the marker');
    assert.ok(
      sseHeaders.every((h) => h === 'AES256'),
      `server-side encryption on every write: ${sseHeaders.join(',')}`,
    );
    const objs = await objects();
    const keys = [...objs.keys()].sort();
    const prefix = `waybill/to-lake/${out.runId}/`;
    assert.deepEqual(
      keys,
      [
        `${prefix}_COMPLETE`,
        `${prefix}lineage.json`,
        `${prefix}receipt.tlog-proof`,
        `${prefix}records.jsonl`,
        `${prefix}to-lake.ndjson`,
        `${prefix}waybill.intoto.jsonl`,
      ],
      'nothing left under the temporary prefix',
    );
    const marker = JSON.parse(objs.get(`${prefix}_COMPLETE`)!.toString('utf8')) as {
      runId: string;
      files: { name: string; sha256: string }[];
    };
    assert.equal(marker.runId, out.runId);
    assert.deepEqual(
      marker.files.map((f) => f.name),
      ['to-lake.ndjson', 'records.jsonl', 'lineage.json', 'waybill.intoto.jsonl', 'receipt.tlog-proof'],
    );
    for (const f of marker.files) {
      assert.equal(
        createHash('sha256')
          .update(objs.get(`${prefix}${f.name}`)!)
          .digest('hex'),
        f.sha256,
        f.name,
      );
    }
    // Downloaded as files, the export verifies.
    const dir = join(t.dir, 'downloaded');
    await mkdir(dir, { recursive: true });
    for (const f of marker.files) await writeFile(join(dir, f.name), objs.get(`${prefix}${f.name}`)!);
    const v = await cli(['--home', t.home, 'verify', dir]);
    assert.equal(v.code, 0, v.stdout);
    await rm(dir, { recursive: true });
  },
);

test(
  'a payload larger than one part goes up as a multipart upload, byte for byte',
  { skip: !hasOpenssl },
  async () => {
    // Wide rows make a payload over the SDK's 5 MiB part size.
    const file = join(t.dir, 'wide.yaml');
    await writeFile(
      file,
      `apiVersion: waybill/v1
kind: ExportDefinition
name: wide
owner: team:data
purposes: [analytics]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
${Array.from({ length: 40 }, (_x, i) => `  - { name: pad${i}, compute: '"${'x'.repeat(120)}" + string(id)' }`).join('\n')}
destination: { connection: lake, path: '{name}/{runId}' }
format: csv
retention: P30D
`,
    );
    assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
    const r = await requestApproveRun(t.home, 'wide', 'analytics', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { runId: string };
    const payload = (await objects()).get(`waybill/wide/${out.runId}/wide.csv`)!;
    assert.ok(payload.length > 5 * 1024 * 1024, `${payload.length} bytes`);
    const marker = JSON.parse((await objects()).get(`waybill/wide/${out.runId}/_COMPLETE`)!.toString()) as {
      files: { name: string; sha256: string }[];
    };
    assert.equal(createHash('sha256').update(payload).digest('hex'), marker.files[0]!.sha256);
  },
);

test('a-wrong-s3-secret fails the run and leaves nothing in the bucket', { skip: !hasOpenssl }, async () => {
  const before = (await objects()).size;
  const add = await cliProcess(
    [
      '--home',
      t.home,
      'destination',
      'add',
      'lake',
      '--kind',
      's3',
      '--bucket',
      'exports',
      '--prefix',
      'waybill',
      '--endpoint',
      `https://127.0.0.1:${port}`,
      '--ca',
      pki.file('ca.crt'),
      '--password-stdin',
    ],
    {},
    'NOBODY:not-the-secret',
  );
  assert.equal(add.code, 0, add.stderr);
  const r = await requestApproveRun(t.home, 'to-lake', 'analytics');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_DESTINATION_FAILED|signature/i);
  assert.ok(!r.stderr.includes('not-the-secret'));
  assert.equal((await objects()).size, before);
});
