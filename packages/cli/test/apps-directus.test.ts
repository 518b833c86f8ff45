// Integration test against a real Directus (npm `directus`, pinned in test-apps/directus, on SQLite,
// behind a TLS proxy). Runs with WAYBILL_APPS=1 (`npm run test:apps` installs the app and sets it);
// otherwise it skips and says so. Seeds a collection through Directus's own API, gives Waybill a
// least-privilege user (a policy that reads that collection and the schema, nothing else), exports it,
// and compares every exported record with what Directus's API itself returns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appsSkipReason, startDirectus, type TestApp } from '@waybill/testkit';
import { cli, requestApproveRun, type tempHome } from './cli-harness.js';
import { appHome, applyDefinition, requestApproved, scanTable } from './apps-harness.js';

const skip = appsSkipReason('directus');
if (skip) console.log(`\n*** SKIPPING Directus integration tests: ${skip} ***\n`);

const ROWS = 2_500;
let app: (TestApp & { token: string }) | null = null;
let t: Awaited<ReturnType<typeof tempHome>>;
let readerToken = '';
let revokedToken = '';
let revokedUser = '';

async function api(method: string, path: string, body?: unknown, token = app!.token): Promise<unknown> {
  const r = await fetch(`${app!.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`directus ${method} ${path}: ${r.status} ${text.slice(0, 500)}`);
  return text ? (JSON.parse(text) as { data: unknown }).data : null;
}

const customer = (i: number) => ({
  name: `Customer ${i} ${'ÄÖÜé'[i % 4]}`,
  email: `customer${i}@example${i % 7}.org`,
  price: ((i * 37) % 10_000) / 100,
  tags: i % 5 === 0 ? null : ['t', String(i % 3)],
  notes: i % 10 === 0 ? `call back at customer${i}@mail.example.net please` : `note ${i}`,
});

before(
  async () => {
    if (skip) return;
    app = await startDirectus();
    assert.ok(app, 'directus is installed');
    console.log(`directus ${app.version} started in ${app.startMs} ms`);
    await api('POST', '/collections', {
      collection: 'customers',
      schema: {},
      meta: { singleton: false },
      fields: [
        {
          field: 'id',
          type: 'integer',
          meta: { hidden: true },
          schema: { is_primary_key: true, has_auto_increment: true },
        },
        { field: 'name', type: 'string' },
        { field: 'email', type: 'string' },
        { field: 'price', type: 'float' },
        { field: 'tags', type: 'json', meta: { special: ['cast-json'] } },
        { field: 'notes', type: 'text' },
        { field: 'date_updated', type: 'timestamp', meta: { special: ['date-created', 'date-updated'] } },
      ],
    });
    for (let i = 0; i < ROWS; i += 500) {
      await api(
        'POST',
        '/items/customers',
        Array.from({ length: Math.min(500, ROWS - i) }, (_x, k) => customer(i + k)),
      );
    }
    // Least privilege: a role whose only policy reads this collection and the schema it is described by.
    const policy = (await api('POST', '/policies', {
      name: 'waybill-read',
      app_access: false,
      admin_access: false,
    })) as { id: string };
    for (const collection of ['customers', 'directus_collections', 'directus_fields']) {
      await api('POST', '/permissions', { policy: policy.id, collection, action: 'read', fields: ['*'] });
    }
    const role = (await api('POST', '/roles', { name: 'waybill' })) as { id: string };
    await api('POST', '/access', { role: role.id, policy: policy.id });
    readerToken = `reader_${Date.now()}`;
    revokedToken = `revoked_${Date.now()}`;
    await api('POST', '/users', { email: 'waybill@example.com', role: role.id, token: readerToken });
    revokedUser = (
      (await api('POST', '/users', { email: 'gone@example.com', role: role.id, token: revokedToken })) as {
        id: string;
      }
    ).id;

    t = await appHome(app, 'directus', [
      { name: 'dx', token: readerToken },
      { name: 'dx-nobody', token: 'not-a-directus-token' },
      { name: 'dx-revoked', token: revokedToken },
    ]);
  },
  { timeout: 300_000 },
);

after(
  async () => {
    await app?.stop();
    await t?.cleanup();
  },
  { timeout: 60_000 },
);

const definition = (name: string, connection: string) => `apiVersion: waybill/v1
kind: ExportDefinition
name: ${name}
owner: team:ops
purposes: [ops]
source: { connection: ${connection}, table: customers, recordId: id, updatedAt: date_updated }
fields:
  - { name: id, from: id, classification: internal }
  - { name: name, from: name, classification: internal }
  - { name: email, from: email, transform: mask_email, classification: confidential }
  - { name: price, from: price, classification: internal }
  - { name: tags, from: tags, classification: internal }
  - { name: notes, from: notes, transform: scan_and_apply, classification: internal }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`;

const apply = (name: string, connection: string) =>
  applyDefinition(t, name, definition(name, connection), app!);

test(
  'directus (real app): the catalog scan reads the schema and finds the e-mail addresses in the notes',
  { skip: skip ?? false },
  async () => {
    const { columns, col, stdout } = await scanTable(t.home, 'dx', 'customers', app!);
    assert.deepEqual(
      columns.map((c) => c.column),
      ['id', 'name', 'email', 'price', 'tags', 'notes', 'date_updated'],
    );
    assert.equal(col('email').proposed.piiKind, 'email');
    assert.equal(col('name').proposed.piiKind, 'name');
    assert.ok((col('notes').embedded['email'] ?? 0) > 0, JSON.stringify(col('notes')));
    assert.ok(!stdout.includes('customer10@mail.example.net'), 'no sampled value is printed raw');
  },
);

test(
  "directus (real app): every record is exported, equal to what Directus's own API returns, with ids and update times",
  { skip: skip ?? false },
  async () => {
    await apply('dx-customers', 'dx');
    const run = await requestApproveRun(t.home, 'dx-customers', 'ops', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { location: string; counts: { read: number; written: number } };
    assert.equal(out.counts.read, ROWS);
    assert.equal(out.counts.written, ROWS);

    // What Directus itself says, paged with the admin token straight from the app.
    const truth: Record<string, unknown>[] = [];
    for (let page = 1; ; page++) {
      const data = (await api('GET', `/items/customers?limit=1000&page=${page}&sort=id`)) as Record<
        string,
        unknown
      >[];
      truth.push(...data);
      if (data.length < 1000) break;
    }
    assert.equal(truth.length, ROWS);
    const lines = (await readFile(join(out.location, 'dx-customers.ndjson'), 'utf8')).trim().split('\n');
    const records = (await readFile(join(out.location, 'records.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, ROWS);
    truth.forEach((want, i) => {
      const got = JSON.parse(lines[i]!) as Record<string, unknown>;
      assert.equal(got['id'], want['id']);
      assert.equal(got['name'], want['name']);
      assert.equal(got['price'], want['price']);
      assert.equal(got['tags'], want['tags'] === null ? null : JSON.stringify(want['tags']));
      const email = want['email'] as string;
      assert.notEqual(got['email'], email);
      assert.ok(String(got['email']).endsWith(email.slice(email.indexOf('@'))), String(got['email']));
      if (String(want['notes']).includes('@')) assert.ok(!String(got['notes']).includes('@mail.example.net'));
      else assert.equal(got['notes'], want['notes']);
      const rec = JSON.parse(records[i]!) as Record<string, unknown>;
      assert.equal(rec['sourceRecordId'], String(want['id']));
      assert.equal(rec['sourceUpdatedAt'], new Date(want['date_updated'] as string).toISOString());
    });
    const v = await cli(['--home', t.home, 'verify', out.location]);
    assert.equal(v.code, 0, v.stderr);
  },
);

test(
  'directus (real app): a token Directus refuses is a clear error at def apply, never echoed',
  { skip: skip ?? false },
  async () => {
    const file = join(t.dir, 'dx-nobody.yaml');
    await writeFile(file, definition('dx-nobody', 'dx-nobody'));
    const applied = await cli(['--home', t.home, 'def', 'apply', file]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /directus source/);
    assert.match(applied.stderr, /401|credentials/i);
    assert.ok(!applied.stderr.includes('not-a-directus-token'), 'the token never appears in an error');
    assert.ok(!applied.stderr.includes('    at '), 'no stack trace');
  },
);

test(
  'directus (real app): a token revoked after approval fails the run cleanly: nothing at the destination, run failed',
  { skip: skip ?? false },
  async () => {
    await apply('dx-revoked', 'dx-revoked');
    const id = await requestApproved(t.home, 'dx-revoked', 'ops');
    await api('PATCH', `/users/${revokedUser}`, { token: null });
    const before = await readdir(join(t.dir, 'out')).catch(() => []);
    const run = await cli(['--home', t.home, 'export', 'run', id]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /directus source/);
    assert.match(run.stderr, /401|credentials/i);
    assert.ok(!run.stderr.includes(revokedToken), 'the token never appears in an error');
    assert.ok(!run.stderr.includes('    at '), 'no stack trace');
    assert.deepEqual(await readdir(join(t.dir, 'out')).catch(() => []), before);
    const status = await cli(['--home', t.home, 'export', 'status', id, '--json']);
    assert.match(status.stdout, /"failed"/, status.stdout);
  },
);

test(
  'directus (real app): a server with QUERY_LIMIT_MAX=100 is read at its cap, every item, none twice',
  { skip: skip ?? false },
  async () => {
    const capped = await startDirectus({ QUERY_LIMIT_MAX: '100' });
    assert.ok(capped);
    try {
      const post = async (path: string, body: unknown) => {
        const r = await fetch(`${capped.httpUrl}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${capped.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.ok(r.ok, `${path}: ${r.status} ${await r.text()}`);
      };
      await post('/collections', {
        collection: 'notes',
        schema: {},
        meta: {},
        fields: [
          { field: 'id', type: 'integer', schema: { is_primary_key: true, has_auto_increment: true } },
          { field: 'body', type: 'string' },
        ],
      });
      await post(
        '/items/notes',
        Array.from({ length: 250 }, (_x, i) => ({ body: `note ${i}` })),
      );
      const home = await appHome(capped, 'directus', [{ name: 'capped', token: capped.token }]);
      try {
        await applyDefinition(
          home,
          'capped-notes',
          `apiVersion: waybill/v1
kind: ExportDefinition
name: capped-notes
owner: team:ops
purposes: [ops]
source: { connection: capped, table: notes, recordId: id }
fields:
  - { name: id, from: id, classification: internal }
  - { name: body, from: body, classification: internal }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
          capped,
        );
        const run = await requestApproveRun(home.home, 'capped-notes', 'ops', '--json');
        assert.equal(run.code, 0, run.stderr);
        const out = JSON.parse(run.stdout) as { location: string; counts: { written: number } };
        assert.equal(out.counts.written, 250);
        const ids = (await readFile(join(out.location, 'capped-notes.ndjson'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { id: number }).id);
        assert.deepEqual(
          ids,
          Array.from({ length: 250 }, (_x, i) => i + 1),
        );
      } finally {
        await home.cleanup();
      }
    } finally {
      await capped.stop();
    }
  },
);
