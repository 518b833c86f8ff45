// The HTTPS (webhook) destination against a real local HTTPS server with a generated CA and client
// certificate (mutual TLS), and the egress allowlist's SSRF defence. Attack tests are named after the
// attack. The receiver is a real HTTPS server in this test process; the CLI runs through its real entry point.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { hasOpenssl, makeTestPki, type TestPki } from '@waybill/testkit';
import { cli, requestApproveRun, tempHome } from './cli-harness.js';

if (!hasOpenssl) {
  console.error(
    '\n*** SKIPPING https destination tests: `openssl` is not installed (apt-get install openssl) ***\n',
  );
}

interface Received {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly clientCert: string | undefined;
}

/** A receiver: answers from a script per path prefix (status codes in turn), 200 otherwise. */
class Receiver {
  readonly received: Received[] = [];
  readonly script = new Map<string, { status: number; location?: string }[]>();
  server!: Server;
  port = 0;

  async start(pki: TestPki): Promise<void> {
    this.server = createServer(
      {
        cert: await pki.read('server.crt'),
        key: await pki.read('server.key'),
        ca: await pki.read('ca.crt'),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const path = req.url ?? '';
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          this.received.push({
            path,
            headers: req.headers,
            body: Buffer.concat(chunks),
            clientCert: ([] as (string | undefined)[]).concat(peer.subject?.CN)[0],
          });
          const key = [...this.script.keys()].find((k) => path.includes(k));
          const next = key === undefined ? undefined : this.script.get(key)!.shift();
          if (next) {
            res.writeHead(next.status, {
              'retry-after': '0',
              ...(next.location ? { location: next.location } : {}),
            });
            res.end('scripted');
            return;
          }
          res.writeHead(200).end('ok');
        });
      },
    );
    this.server.listen(0, '127.0.0.1');
    await new Promise((r) => this.server.once('listening', r));
    this.port = (this.server.address() as AddressInfo).port;
  }
}

let t: Awaited<ReturnType<typeof tempHome>>;
let pki: TestPki;
const receiver = new Receiver();
const SECRET = 'whsec-test-signing-key-9f8e7d';

async function addHooks(name: string, host: string, ...extra: string[]) {
  return cli(
    [
      '--home',
      t.home,
      'destination',
      'add',
      name,
      '--kind',
      'https',
      '--url',
      `https://${host}:${receiver.port}/inbox`,
      '--ca',
      pki.file('ca.crt'),
      '--password-env',
      'HOOK_SECRET',
      ...extra,
    ],
    { HOOK_SECRET: SECRET },
  );
}

async function defineTo(name: string, destination: string): Promise<void> {
  const file = join(t.dir, `${name}.yaml`);
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: ${name}
owner: team:ops
purposes: [ops]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
  - { name: country, from: country }
destination: { connection: ${destination}, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
  );
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 0, r.stderr);
}

const run = (definition: string) => requestApproveRun(t.home, definition, 'ops', '--json');
const env = { HOOK_SECRET: SECRET };

before(async () => {
  if (!hasOpenssl) return;
  t = await tempHome();
  pki = await makeTestPki('waybill-hooks-');
  await receiver.start(pki);
  const d = await cli(['--home', t.home, 'demo', '--json']);
  assert.equal(d.code, 0, d.stderr);
  const add = await addHooks(
    'hooks',
    '127.0.0.1',
    '--client-cert',
    pki.file('client.crt'),
    '--client-key',
    pki.file('client.key'),
    '--attempts',
    '3',
  );
  assert.equal(add.code, 0, add.stderr);
  assert.match(
    add.stderr,
    /note: exports to it will be refused until then: .*not on this workspace's egress allowlist/,
  );
  await defineTo('to-hooks', 'hooks');
});
after(async () => {
  receiver.server?.close();
  await pki?.dir.cleanup();
  await t?.cleanup();
});

test(
  'egress-to-a-host-not-on-the-allowlist is refused before anything is sent',
  { skip: !hasOpenssl },
  async () => {
    const before = receiver.received.length;
    const r = await cliEnv(() => run('to-hooks'));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /ERR_WAYBILL_EGRESS_DENIED: 127\.0\.0\.1:\d+ is not on this workspace's egress allowlist/,
    );
    assert.equal(receiver.received.length, before);
  },
);

test(
  'egress-to-loopback is refused unless the rule explicitly allows private addresses',
  { skip: !hasOpenssl },
  async () => {
    assert.equal((await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${receiver.port}`])).code, 0);
    const r = await cliEnv(() => run('to-hooks'));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /ERR_WAYBILL_EGRESS_DENIED: 127\.0\.0\.1 is a loopback, private or link-local address/,
    );
  },
);

test(
  'delivery over mutual TLS: each file signed, idempotent, in order, then the manifest; the receiver can verify the waybill',
  { skip: !hasOpenssl },
  async () => {
    assert.equal(
      (await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${receiver.port}`, '--private'])).code,
      0,
    );
    const start = receiver.received.length;
    const r = await cliEnv(() => run('to-hooks'));
    assert.equal(r.code, 0, r.stderr);
    const got = receiver.received.slice(start);
    const runId = got[0]!.headers['x-waybill-run-id'] as string;
    const names = got.map((g) => decodeURIComponent(g.path.split('/').pop()!));
    assert.deepEqual(names, [
      'to-hooks.ndjson',
      'records.jsonl',
      'lineage.json',
      'waybill.intoto.jsonl',
      'receipt.tlog-proof',
      '_complete',
    ]);
    for (const g of got) {
      assert.equal(g.clientCert, 'client', 'mutual TLS with the configured client certificate');
      assert.ok(g.path.startsWith(`/inbox/to-hooks/${runId}/`), g.path);
      const mac = createHmac('sha256', SECRET).update(g.body).digest('hex');
      assert.equal(g.headers['x-waybill-signature'], `sha256=${mac}`);
      assert.equal(g.headers['idempotency-key'], `${runId}/${decodeURIComponent(g.path.split('/').pop()!)}`);
    }
    const manifest = JSON.parse(got.at(-1)!.body.toString('utf8')) as {
      runId: string;
      files: { name: string; sha256: string }[];
    };
    assert.equal(manifest.runId, runId);
    assert.deepEqual(
      manifest.files.map((f) => [f.name, f.sha256]),
      got
        .slice(0, -1)
        .map((g) => [
          decodeURIComponent(g.path.split('/').pop()!),
          createHash('sha256').update(g.body).digest('hex'),
        ]),
    );
    // What arrived is a complete export: written out as files, the waybill verifies.
    const dir = join(t.dir, 'received', runId);
    await mkdir(dir, { recursive: true });
    for (const g of got.slice(0, -1))
      await writeFile(join(dir, decodeURIComponent(g.path.split('/').pop()!)), g.body);
    const verify = await cli(['--home', t.home, 'verify', dir]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    // The secret is nowhere in what was sent, nor in the CLI's output.
    for (const g of got) assert.ok(!g.body.includes(SECRET));
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));
  },
);

test('a 503 is retried with the same idempotency key; only a 2xx counts', { skip: !hasOpenssl }, async () => {
  receiver.script.set('records.jsonl', [{ status: 503 }, { status: 503 }]);
  const start = receiver.received.length;
  const r = await cliEnv(() => run('to-hooks'));
  assert.equal(r.code, 0, r.stderr);
  const tries = receiver.received.slice(start).filter((g) => g.path.endsWith('/records.jsonl'));
  assert.equal(tries.length, 3);
  assert.equal(new Set(tries.map((g) => g.headers['idempotency-key'])).size, 1);
});

test(
  'a 4xx is not retried, the run fails, and the manifest is never sent',
  { skip: !hasOpenssl },
  async () => {
    receiver.script.set('lineage.json', [{ status: 400 }]);
    const start = receiver.received.length;
    const r = await cliEnv(() => run('to-hooks'));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /ERR_WAYBILL_DESTINATION_FAILED: https destination: POST .*lineage\.json answered 400; only a 2xx counts/,
    );
    const got = receiver.received.slice(start);
    assert.equal(got.filter((g) => g.path.endsWith('/lineage.json')).length, 1);
    assert.ok(!got.some((g) => g.path.endsWith('/_complete')));
  },
);

test(
  'redirect-to-127.0.0.1 on another port is refused (SSRF after a redirect)',
  { skip: !hasOpenssl },
  async () => {
    receiver.script.set('to-hooks.ndjson', [{ status: 307, location: 'https://127.0.0.1:9/metadata' }]);
    const r = await cliEnv(() => run('to-hooks'));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /ERR_WAYBILL_EGRESS_DENIED: 127\.0\.0\.1:9 is not on this workspace's egress allowlist/,
    );
  },
);

test('name-that-resolves-to-127.0.0.1 is refused after DNS resolution', { skip: !hasOpenssl }, async () => {
  assert.equal(
    (
      await addHooks(
        'by-name',
        'localhost',
        '--client-cert',
        pki.file('client.crt'),
        '--client-key',
        pki.file('client.key'),
      )
    ).code,
    0,
  );
  assert.equal((await cli(['--home', t.home, 'egress', 'allow', `localhost:${receiver.port}`])).code, 0);
  await defineTo('to-by-name', 'by-name');
  const start = receiver.received.length;
  const r = await cliEnv(() => run('to-by-name'));
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /ERR_WAYBILL_EGRESS_DENIED: localhost is a loopback, private or link-local address \((127\.0\.0\.1|::1)\)/,
  );
  assert.equal(receiver.received.length, start, 'no connection was made');
});

test(
  'a client without the certificate the receiver requires gets nowhere',
  { skip: !hasOpenssl },
  async () => {
    assert.equal((await addHooks('no-cert', '127.0.0.1', '--attempts', '2')).code, 0);
    await defineTo('to-no-cert', 'no-cert');
    const start = receiver.received.length;
    const r = await cliEnv(() => run('to-no-cert'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERR_WAYBILL_DESTINATION_FAILED: https destination: POST .* failed after 2 tries/);
    assert.equal(receiver.received.length, start);
  },
);

/** Runs with the signing secret's environment variable set (the connection reads it at run time). */
async function cliEnv<T>(f: () => Promise<T>): Promise<T> {
  const saved = process.env['HOOK_SECRET'];
  process.env['HOOK_SECRET'] = env.HOOK_SECRET;
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env['HOOK_SECRET'];
    else process.env['HOOK_SECRET'] = saved;
  }
}
