// Contract tests of the NocoDB and Directus sources against fixture servers that follow their
// documented v2 / REST APIs (NocoDB: meta `GET /api/v2/meta/bases/{b}/tables`, `GET /api/v2/meta/tables/{t}`,
// data `GET /api/v2/tables/{t}/records?limit&offset&fields` with `pageInfo`, header `xc-token`;
// Directus: `GET /collections`, `GET /fields/{c}`, `GET /items/{c}?fields&limit&page&sort`, bearer
// token), playing pagination, a 429 and a 503. The apps themselves (npm `nocodb`, `directus`) need
// Node 22 in their current versions, and Waybill runs on Node 20: see docs/concepts.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hasOpenssl, makeTestPki, type TestPki } from '@waybill/testkit';
import { cli, readColumnLineage, requestApproveRun, tempHome } from './cli-harness.js';

const NOCO_TOKEN = 'nocoTokenFixture_0123';
const DIRECTUS_TOKEN = 'directusStaticToken_0123';
const customers = Array.from({ length: 1200 }, (_x, i) => ({
  Id: i + 1,
  Title: `Customer ${i}`,
  Greeting: `Hello Customer ${i}`,
  Orders: i % 4,
  'Order total': i * 3,
  'First date': [`2026-03-${String((i % 28) + 1).padStart(2, '0')}`],
  // NocoDB prints timestamps as `2026-06-01 00:00:00+00:00` (as its SQLite stores them); some as RFC 3339.
  UpdatedAt:
    i % 2 === 0
      ? new Date(Date.UTC(2026, 5, 1, 0, 0, i)).toISOString().replace('T', ' ').replace('.000Z', '+00:00')
      : new Date(Date.UTC(2026, 5, 1, 0, 0, i)).toISOString(),
}));
const nocoColumns = [
  { id: 'cId', title: 'Id', uidt: 'ID', pk: true },
  { id: 'cTitle', title: 'Title', uidt: 'SingleLineText' },
  {
    id: 'cGreet',
    title: 'Greeting',
    uidt: 'Formula',
    colOptions: { formula: 'CONCAT("Hello ", {{cTitle}})', formula_raw: 'CONCAT("Hello ", {Title})' },
  },
  {
    id: 'cOrders',
    title: 'Orders',
    uidt: 'Links',
    colOptions: { fk_related_model_id: 'mOrders', type: 'hm' },
  },
  {
    id: 'cTotal',
    title: 'Order total',
    uidt: 'Rollup',
    colOptions: { fk_relation_column_id: 'cOrders', fk_rollup_column_id: 'oAmount', rollup_function: 'sum' },
  },
  {
    id: 'cFirst',
    title: 'First date',
    uidt: 'Lookup',
    colOptions: { fk_relation_column_id: 'cOrders', fk_lookup_column_id: 'oDate' },
  },
  { id: 'cUpd', title: 'UpdatedAt', uidt: 'LastModifiedTime', system: true },
];
const items = Array.from({ length: 1100 }, (_x, i) => ({
  id: i + 1,
  name: `Item ${i}`,
  price: i / 4,
  tags: ['a', String(i % 3)],
  date_updated: new Date(Date.UTC(2026, 6, 1, 0, i)).toISOString(),
}));

let t: Awaited<ReturnType<typeof tempHome>>;
let pki: TestPki;
let server: Server;
let port = 0;
const log: string[] = [];
const trouble = new Map<string, number>();

before(async () => {
  if (!hasOpenssl) return;
  t = await tempHome();
  pki = await makeTestPki('waybill-apps-');
  server = createServer(
    { cert: await pki.read('server.crt'), key: await pki.read('server.key') },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const send = (status: number, body: unknown) => {
        log.push(`${status} ${url.pathname}?${url.searchParams.toString()}`);
        res
          .writeHead(status, {
            'content-type': 'application/json',
            ...(status === 429 ? { 'retry-after': '0' } : {}),
          })
          .end(JSON.stringify(body));
      };
      const key = `${url.pathname}?${url.searchParams.get('offset') ?? url.searchParams.get('page') ?? ''}`;
      const act = trouble.get(key);
      if (act) {
        trouble.delete(key);
        return send(act, { msg: 'try again' });
      }
      if (url.pathname.startsWith('/noco/')) {
        if (req.headers['xc-token'] !== NOCO_TOKEN) return send(401, { msg: 'Authentication required' });
        const path = url.pathname.slice('/noco'.length);
        if (path === '/api/v2/meta/bases/pBase1/tables')
          return send(200, {
            list: [
              { id: 'mCust', title: 'Customers' },
              { id: 'mOrders', title: 'Orders' },
            ],
            pageInfo: {},
          });
        if (path === '/api/v2/meta/tables/mCust')
          return send(200, { id: 'mCust', title: 'Customers', columns: nocoColumns });
        if (path === '/api/v2/meta/tables/mOrders')
          return send(200, {
            id: 'mOrders',
            title: 'Orders',
            columns: [
              { id: 'oId', title: 'Id', uidt: 'ID', pk: true },
              { id: 'oAmount', title: 'Amount', uidt: 'Currency' },
              { id: 'oDate', title: 'Date', uidt: 'Date' },
            ],
          });
        if (path === '/api/v2/tables/mCust/records') {
          const limit = Number(url.searchParams.get('limit'));
          const offset = Number(url.searchParams.get('offset'));
          const fields = url.searchParams.get('fields')!.split(',');
          const list = customers
            .slice(offset, offset + limit)
            .map((c) => Object.fromEntries(fields.map((f) => [f, (c as Record<string, unknown>)[f]])));
          return send(200, {
            list,
            pageInfo: {
              totalRows: customers.length,
              page: offset / limit + 1,
              pageSize: limit,
              isFirstPage: offset === 0,
              isLastPage: offset + limit >= customers.length,
            },
          });
        }
        return send(404, { msg: 'not found' });
      }
      // `/capped/…` is the same Directus with QUERY_LIMIT_MAX=100.
      const capped = url.pathname.startsWith('/capped/');
      const path = capped ? url.pathname.slice('/capped'.length) : url.pathname;
      if (req.headers.authorization !== `Bearer ${DIRECTUS_TOKEN}`)
        return send(401, {
          errors: [{ message: 'Invalid user credentials.', extensions: { code: 'INVALID_CREDENTIALS' } }],
        });
      // An app that echoes the credentials it was sent (and a terminal escape) in its error message.
      if (path === '/fields/echo')
        return send(403, {
          errors: [
            {
              message: `\u001b[31mno access for ${req.headers.authorization} (${encodeURIComponent(DIRECTUS_TOKEN)}, ${Buffer.from(DIRECTUS_TOKEN).toString('base64')}) to "echo"`,
              extensions: { code: 'FORBIDDEN' },
            },
          ],
        });
      if (path === '/collections')
        return send(200, {
          data: [
            { collection: 'directus_users', schema: {} },
            { collection: 'products', schema: { name: 'products' } },
            { collection: 'folder', schema: null },
          ],
        });
      if (path === '/fields/products') {
        return send(200, {
          data: [
            { collection: 'products', field: 'id', type: 'integer', schema: { is_primary_key: true } },
            { collection: 'products', field: 'name', type: 'string', schema: { is_primary_key: false } },
            { collection: 'products', field: 'price', type: 'decimal', schema: { is_primary_key: false } },
            { collection: 'products', field: 'tags', type: 'json', schema: { is_primary_key: false } },
            {
              collection: 'products',
              field: 'date_updated',
              type: 'timestamp',
              schema: { is_primary_key: false },
              meta: { special: ['date-updated'] },
            },
            {
              collection: 'products',
              field: 'reviews',
              type: 'alias',
              schema: null,
              meta: { special: ['o2m'] },
            },
          ],
        });
      }
      if (path === '/items/products') {
        assert.equal(url.searchParams.get('sort'), 'id');
        const limit = Number(url.searchParams.get('limit'));
        // A server with QUERY_LIMIT_MAX=100 refuses bigger pages, in Directus's own words.
        if (capped && limit > 100) {
          const reason = '"limit" must be less than or equal to 100';
          return send(400, {
            errors: [{ message: `Invalid query. ${reason}.`, extensions: { reason, code: 'INVALID_QUERY' } }],
          });
        }
        const page = Number(url.searchParams.get('page'));
        const fields = url.searchParams.get('fields')!.split(',');
        return send(200, {
          data: items
            .slice((page - 1) * limit, page * limit)
            .map((it) => Object.fromEntries(fields.map((f) => [f, (it as Record<string, unknown>)[f]]))),
        });
      }
      return send(404, { errors: [{ message: "Route doesn't exist." }] });
    },
  );
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
  assert.equal((await cli(['--home', t.home, 'init'])).code, 0);
  assert.equal(
    (await cli(['--home', t.home, 'destination', 'add', 'out', '--kind', 'directory', '--path', t.dir])).code,
    0,
  );
  assert.equal((await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${port}`, '--private'])).code, 0);
  const noco = await cli([
    '--home',
    t.home,
    'source',
    'add',
    'noco',
    '--kind',
    'nocodb',
    '--api-url',
    `https://127.0.0.1:${port}/noco`,
    '--base',
    'pBase1',
    '--ca',
    pki.file('ca.crt'),
    '--password-env',
    'NOCO_TOKEN',
  ]);
  assert.equal(noco.code, 0, noco.stderr);
  const dx = await cli([
    '--home',
    t.home,
    'source',
    'add',
    'dx',
    '--kind',
    'directus',
    '--api-url',
    `https://127.0.0.1:${port}`,
    '--ca',
    pki.file('ca.crt'),
    '--password-env',
    'DIRECTUS_TOKEN',
  ]);
  assert.equal(dx.code, 0, dx.stderr);
  const capped = await cli([
    '--home',
    t.home,
    'source',
    'add',
    'dx-capped',
    '--kind',
    'directus',
    '--api-url',
    `https://127.0.0.1:${port}/capped`,
    '--ca',
    pki.file('ca.crt'),
    '--password-env',
    'DIRECTUS_TOKEN',
  ]);
  assert.equal(capped.code, 0, capped.stderr);
  process.env['NOCO_TOKEN'] = NOCO_TOKEN;
  process.env['DIRECTUS_TOKEN'] = DIRECTUS_TOKEN;
});
after(async () => {
  server?.close();
  await pki?.dir.cleanup();
  await t?.cleanup();
});

async function define(name: string, body: string): Promise<void> {
  const file = join(t.dir, `${name}.yaml`);
  await writeFile(
    file,
    `apiVersion: waybill/v1\nkind: ExportDefinition\nname: ${name}\nowner: team:ops\npurposes: [ops]\n${body}destination: { connection: out, path: '{name}/{runId}' }\nformat: ndjson\nretention: P7D\n`,
  );
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 0, r.stderr);
}

test(
  'nocodb (contract, fixture server): offset paging to the last page through a 429; formula, lookup, rollup as lineage; UpdatedAt in records.jsonl',
  { skip: !hasOpenssl },
  async () => {
    await define(
      'noco-customers',
      `source: { connection: noco, table: Customers, recordId: Id, updatedAt: UpdatedAt }
fields:
  - { name: id, from: Id }
  - { name: greeting, from: Greeting }
  - { name: total, from: Order total }
  - { name: first, from: First date }
`,
    );
    trouble.set('/noco/api/v2/tables/mCust/records?1000', 429);
    log.length = 0;
    const run = await requestApproveRun(t.home, 'noco-customers', 'ops', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { location: string; counts: { written: number } };
    assert.equal(out.counts.written, 1200);
    const pages = log.filter((l) => l.includes('/records?'));
    assert.deepEqual(
      pages.map((l) => [l.split(' ')[0], new URLSearchParams(l.split('?')[1]).get('offset')]),
      [
        ['200', '0'],
        ['200', '200'],
        ['200', '400'],
        ['200', '600'],
        ['200', '800'],
        ['429', '1000'],
        ['200', '1000'],
      ],
    );
    // A lookup column is read 200 records a page (NocoDB on SQLite fails with more: see nocodb-source.ts).
    assert.equal(new URLSearchParams(pages[0]!.split('?')[1]).get('limit'), '200');
    assert.equal(
      new URLSearchParams(pages[0]!.split('?')[1]).get('fields'),
      'Id,UpdatedAt,Greeting,Order total,First date',
    );
    const last = JSON.parse(
      (await readFile(join(out.location, 'noco-customers.ndjson'), 'utf8')).trim().split('\n')[1199]!,
    ) as Record<string, unknown>;
    assert.deepEqual(last, {
      first: JSON.stringify(['2026-03-24']),
      greeting: 'Hello Customer 1199',
      id: 1200,
      total: 3597,
    });
    const rec = JSON.parse(
      (await readFile(join(out.location, 'records.jsonl'), 'utf8')).split('\n')[0]!,
    ) as Record<string, string>;
    assert.equal(customers[0]!.UpdatedAt, '2026-06-01 00:00:00+00:00');
    assert.equal(rec['sourceUpdatedAt'], '2026-06-01T00:00:00+00:00');
    const rec1 = JSON.parse(
      (await readFile(join(out.location, 'records.jsonl'), 'utf8')).split('\n')[1]!,
    ) as Record<string, string>;
    assert.equal(rec1['sourceUpdatedAt'], customers[1]!.UpdatedAt);
    const cl = await readColumnLineage(out.location);
    assert.ok(
      cl['greeting']!.inputFields.some(
        (x) =>
          x.field === 'Title' &&
          x.transformations[0]!.description === 'formula of Greeting: CONCAT("Hello ", {Title})',
      ),
    );
    assert.ok(
      cl['total']!.inputFields.some(
        (x) => x.name === 'Orders' && x.field === 'Amount' && x.transformations[0]!.subtype === 'AGGREGATION',
      ),
    );
    assert.ok(
      cl['first']!.inputFields.some(
        (x) => x.name === 'Orders' && x.field === 'Date' && x.transformations[0]!.subtype === 'IDENTITY',
      ),
    );
    assert.ok(
      cl['first']!.inputFields.some((x) => x.field === 'Orders' && x.transformations[0]!.subtype === 'JOIN'),
    );
    assert.equal((await cli(['--home', t.home, 'verify', out.location])).code, 0);
  },
);

test(
  'directus (contract, fixture server): page paging in primary-key order through a 503; alias fields left out; JSON as canonical text',
  { skip: !hasOpenssl },
  async () => {
    const tables = await cli(['--home', t.home, 'catalog', 'scan', 'dx', '--json']);
    assert.equal(tables.code, 0, tables.stderr);
    assert.deepEqual(
      (JSON.parse(tables.stdout) as { scans: { table: string }[] }).scans.map((s) => s.table),
      ['products'],
    );
    await define(
      'dx-products',
      `source: { connection: dx, table: products, recordId: id, updatedAt: date_updated }
fields:
  - { name: id, from: id }
  - { name: name, from: name, classification: internal }
  - { name: price, from: price }
  - { name: tags, from: tags }
`,
    );
    trouble.set('/items/products?2', 503);
    log.length = 0;
    const run = await requestApproveRun(t.home, 'dx-products', 'ops', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { location: string; counts: { written: number } };
    assert.equal(out.counts.written, 1100);
    assert.deepEqual(
      log
        .filter((l) => l.includes('/items/'))
        .map((l) => [l.split(' ')[0], new URLSearchParams(l.split('?')[1]).get('page')]),
      [
        ['200', '1'],
        ['503', '2'],
        ['200', '2'],
      ],
    );
    const lines = (await readFile(join(out.location, 'dx-products.ndjson'), 'utf8')).trim().split('\n');
    assert.deepEqual(JSON.parse(lines[10]!), { id: 11, name: 'Item 10', price: 2.5, tags: '["a","1"]' });
    const describe = await cli(['--home', t.home, 'catalog', 'scan', 'dx', '--table', 'products', '--json']);
    assert.ok(!describe.stdout.includes('"reviews"'), 'alias fields hold no column');
    assert.equal((await cli(['--home', t.home, 'verify', out.location])).code, 0);
  },
);

test(
  'directus (contract, fixture server): a server that caps pages lower (QUERY_LIMIT_MAX) is read at its cap, to the end',
  { skip: !hasOpenssl },
  async () => {
    await define(
      'dx-capped-products',
      `source: { connection: dx-capped, table: products, recordId: id }
fields:
  - { name: id, from: id }
  - { name: name, from: name, classification: internal }
`,
    );
    log.length = 0;
    const run = await requestApproveRun(t.home, 'dx-capped-products', 'ops', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { location: string; counts: { written: number } };
    assert.equal(out.counts.written, 1100);
    const pages = log
      .filter((l) => l.includes('/items/'))
      .map((l) => {
        const q = new URLSearchParams(l.split('?')[1]);
        return [l.split(' ')[0], q.get('limit'), q.get('page')];
      });
    assert.deepEqual(pages[0], ['400', '1000', '1']);
    assert.deepEqual(
      pages.slice(1).map((p) => p.join(' ')),
      Array.from({ length: 12 }, (_x, i) => `200 100 ${i + 1}`),
    );
    const lines = (await readFile(join(out.location, 'dx-capped-products.ndjson'), 'utf8'))
      .trim()
      .split('\n');
    assert.deepEqual(JSON.parse(lines[1099]!), { id: 1100, name: 'Item 1099' });
    assert.equal((await cli(['--home', t.home, 'verify', out.location])).code, 0);
  },
);

test(
  'app-error-message-never-echoes-the-token: an app that repeats the credentials in its error is quoted with them blanked out',
  { skip: !hasOpenssl },
  async () => {
    const r = await cli(['--home', t.home, 'catalog', 'scan', 'dx', '--table', 'echo']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /answered 403: the token is missing, wrong or lacks access: ".*no access for … \(…, …\)/,
    );
    for (const form of [
      DIRECTUS_TOKEN,
      encodeURIComponent(DIRECTUS_TOKEN),
      Buffer.from(DIRECTUS_TOKEN).toString('base64'),
    ]) {
      assert.ok(!r.stderr.includes(form), `the token appears in the error as ${form}`);
    }
    assert.ok(!r.stderr.includes('\u001b'), 'a terminal escape from the app reaches stderr');
  },
);

test(
  'directus (contract, fixture server): a page refused mid-read (403 on page 2) fails the run and leaves nothing at the destination',
  { skip: !hasOpenssl },
  async () => {
    await define(
      'dx-broken',
      `source: { connection: dx, table: products, recordId: id }
fields:
  - { name: id, from: id }
  - { name: name, from: name, classification: internal }
`,
    );
    const before = (await readdir(t.dir)).sort();
    trouble.set('/items/products?2', 403);
    log.length = 0;
    const run = await requestApproveRun(t.home, 'dx-broken', 'ops', '--json');
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /directus source: GET \S+\/items\/products answered 403/);
    assert.deepEqual(
      log
        .filter((l) => l.includes('/items/'))
        .map((l) => [l.split(' ')[0], new URLSearchParams(l.split('?')[1]).get('page')]),
      [
        ['200', '1'],
        ['403', '2'],
      ],
    );
    assert.ok(!run.stderr.includes(DIRECTUS_TOKEN), 'the token never appears in an error');
    // Page 1 was read before page 2 was refused: nothing of it reached the destination.
    assert.deepEqual((await readdir(t.dir)).sort(), before);
    const status = await cli(['--home', t.home, 'export', 'status', run.exportId, '--json']);
    assert.match(status.stdout, /"failed"/, status.stdout);
  },
);
