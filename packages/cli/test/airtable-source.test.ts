// Contract test of the Airtable source: Airtable cannot run here, so a local HTTPS server plays its
// documented REST API (https://airtable.com/developers/web/api — metadata `GET /v0/meta/bases/{baseId}/tables`,
// records `GET /v0/{baseId}/{table}?pageSize&offset&fields[]`, bearer token) with fixtures that follow
// it exactly, and also plays pagination, a 429, a 503 and a dropped connection. The export runs through
// the CLI, and the formula, lookup and rollup fields' logic must come out as lineage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hasOpenssl, makeTestPki, type TestPki } from '@waybill/testkit';
import { cli, readColumnLineage, requestApproveRun, tempHome } from './cli-harness.js';

const BASE = 'appWaybillTest01';
const TOKEN = 'patFixtureToken.0123456789abcdef';
const CUSTOMERS = 'tblCustomers0001';
const ORDERS = 'tblOrders0000001';

const customers = Array.from({ length: 250 }, (_x, i) => ({
  id: `rec${String(i).padStart(14, '0')}`,
  createdTime: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  fields: {
    Name: `Customer ${i}`,
    Email: `c${i}@example.com`,
    Orders: i % 3 === 0 ? [] : [`recOrder${i}a`, `recOrder${i}b`],
    Total: i % 3 === 0 ? 0 : i * 2.5,
    'First order': i % 3 === 0 ? [] : [`2026-02-${String((i % 27) + 1).padStart(2, '0')}`],
    Label: `Customer ${i} <c${i}@example.com>`,
    ...(i % 7 === 0 ? {} : { Tier: i % 2 === 0 ? 'gold' : 'silver' }),
  },
}));

const schema = {
  tables: [
    {
      id: CUSTOMERS,
      name: 'Customers',
      primaryFieldId: 'fldName',
      fields: [
        { id: 'fldName', name: 'Name', type: 'singleLineText' },
        { id: 'fldEmail', name: 'Email', type: 'email' },
        {
          id: 'fldTier',
          name: 'Tier',
          type: 'singleSelect',
          options: { choices: [{ name: 'gold' }, { name: 'silver' }] },
        },
        {
          id: 'fldOrders',
          name: 'Orders',
          type: 'multipleRecordLinks',
          options: { linkedTableId: ORDERS, isReversed: false, prefersSingleRecordLink: false },
        },
        {
          id: 'fldTotal',
          name: 'Total',
          type: 'rollup',
          options: {
            recordLinkFieldId: 'fldOrders',
            fieldIdInLinkedTable: 'fldAmount',
            referencedFieldIds: [],
            formula: 'SUM(values)',
            isValid: true,
          },
        },
        {
          id: 'fldFirst',
          name: 'First order',
          type: 'multipleLookupValues',
          options: { recordLinkFieldId: 'fldOrders', fieldIdInLinkedTable: 'fldDate', isValid: true },
        },
        {
          id: 'fldLabel',
          name: 'Label',
          type: 'formula',
          options: {
            formula: 'CONCATENATE({fldName}, " <", {fldEmail}, ">")',
            referencedFieldIds: ['fldName', 'fldEmail'],
            isValid: true,
          },
        },
      ],
    },
    {
      id: ORDERS,
      name: 'Orders',
      primaryFieldId: 'fldDate',
      fields: [
        { id: 'fldDate', name: 'Date', type: 'date' },
        { id: 'fldAmount', name: 'Amount', type: 'currency' },
      ],
    },
  ],
};

let t: Awaited<ReturnType<typeof tempHome>>;
let pki: TestPki;
let server: Server;
let port = 0;
const seen: { path: string; status: number }[] = [];
/** Misbehaviour to play once, per page offset ('' for the first page, 'meta' for the schema). */
const trouble = new Map<string, 'rate-limit' | 'unavailable' | 'drop'>();

before(async () => {
  if (!hasOpenssl) return;
  t = await tempHome();
  pki = await makeTestPki('waybill-airtable-');
  server = createServer(
    { cert: await pki.read('server.crt'), key: await pki.read('server.key') },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://api.airtable.com');
      const send = (status: number, body: unknown) => {
        seen.push({ path: url.pathname + url.search, status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return send(401, { error: { type: 'AUTHENTICATION_REQUIRED', message: 'Authentication required' } });
      }
      const key = url.pathname.startsWith('/v0/meta/') ? 'meta' : (url.searchParams.get('offset') ?? '');
      const act = trouble.get(key);
      if (act) {
        trouble.delete(key);
        if (act === 'drop') {
          seen.push({ path: url.pathname, status: 0 });
          return req.socket.destroy();
        }
        return send(act === 'rate-limit' ? 429 : 503, {
          errors: [{ error: act === 'rate-limit' ? 'RATE_LIMIT_REACHED' : 'SERVICE_UNAVAILABLE' }],
        });
      }
      if (url.pathname === `/v0/meta/bases/${BASE}/tables`) return send(200, schema);
      if (url.pathname === `/v0/${BASE}/${CUSTOMERS}`) {
        const size = Math.min(Number(url.searchParams.get('pageSize') ?? 100), 100);
        const from = Number((url.searchParams.get('offset') ?? 'itr0').slice(3));
        const wanted = url.searchParams.getAll('fields[]');
        const page = customers.slice(from, from + size).map((r) => ({
          ...r,
          fields: Object.fromEntries(
            Object.entries(r.fields).filter(([k]) => wanted.length === 0 || wanted.includes(k)),
          ),
        }));
        return send(200, {
          records: page,
          ...(from + size < customers.length ? { offset: `itr${from + size}` } : {}),
        });
      }
      return send(404, { error: 'NOT_FOUND' });
    },
  );
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
  assert.equal((await cli(['--home', t.home, 'init'])).code, 0);
  await writeFile(join(t.dir, 'out.keep'), '');
  assert.equal(
    (await cli(['--home', t.home, 'destination', 'add', 'out', '--kind', 'directory', '--path', t.dir])).code,
    0,
  );
  const add = await cli([
    '--home',
    t.home,
    'source',
    'add',
    'air',
    '--kind',
    'airtable',
    '--base',
    BASE,
    '--api-url',
    `https://127.0.0.1:${port}`,
    '--ca',
    pki.file('ca.crt'),
    '--password-env',
    'AIRTABLE_TOKEN',
  ]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${port}`, '--private'])).code, 0);
});
after(async () => {
  server?.close();
  await pki?.dir.cleanup();
  await t?.cleanup();
});

const env = { AIRTABLE_TOKEN: TOKEN };

test(
  'airtable (contract, fixture server): pages to the end through a 429, a 503 and a dropped connection; values as the API gave them; app logic as lineage',
  { skip: !hasOpenssl },
  async () => {
    process.env['AIRTABLE_TOKEN'] = TOKEN;
    const file = join(t.dir, 'air.yaml');
    await writeFile(
      file,
      `apiVersion: waybill/v1
kind: ExportDefinition
name: air-customers
owner: team:sales
purposes: [reporting]
source: { connection: air, table: Customers, recordId: id, updatedAt: createdTime }
fields:
  - { name: id, from: id }
  - { name: name, from: Name, classification: confidential }
  - { name: tier, from: Tier }
  - { name: total, from: Total }
  - { name: first_order, from: First order }
  - { name: label, from: Label, transform: redact, classification: confidential }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
    );
    const applied = await cli(['--home', t.home, 'def', 'apply', file], env);
    assert.equal(applied.code, 0, applied.stderr);
    trouble.set('meta', 'unavailable');
    trouble.set('itr100', 'rate-limit');
    trouble.set('itr200', 'drop');
    seen.length = 0;
    const run = await requestApproveRun(t.home, 'air-customers', 'reporting', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { location: string; counts: { read: number; written: number } };
    assert.deepEqual(out.counts, { read: 250, filtered: 0, written: 250 });
    const rows = (await readFile(join(out.location, 'air-customers.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    rows.forEach((r, i) => {
      const c = customers[i]!;
      assert.equal(r['id'], c.id);
      assert.equal(r['name'], c.fields.Name);
      assert.equal(r['tier'], 'Tier' in c.fields ? c.fields.Tier : null, 'a missing field is null');
      assert.equal(r['total'], c.fields.Total);
      assert.equal(r['first_order'], JSON.stringify(c.fields['First order']));
      assert.equal(r['label'], '[REDACTED]');
    });
    // Only the selected fields were asked for, page after page, and every misbehaviour was retried.
    const pages = seen.filter((s) => s.path.startsWith(`/v0/${BASE}/`));
    assert.ok(
      pages.every((p) => !p.path.includes('Email')),
      'the projection is pushed down: Email never requested',
    );
    assert.deepEqual(
      pages.map((p) => p.status),
      [200, 429, 200, 0, 200],
      'page 1, page 2 rate-limited then served, page 3 dropped then served',
    );
    // records.jsonl carries each record's id and time.
    const first = JSON.parse(
      (await readFile(join(out.location, 'records.jsonl'), 'utf8')).split('\n')[0]!,
    ) as Record<string, string>;
    assert.equal(first['sourceRecordId'], customers[0]!.id);
    assert.equal(first['sourceUpdatedAt'], customers[0]!.createdTime);
    // The formula, the lookup and the rollup travel with the data.
    const cl = await readColumnLineage(out.location);
    // The entries the app's own logic adds (beside the copied column itself).
    const find = (field: string, subtype: string) =>
      cl[field]!.inputFields.find(
        (x) => x.transformations[0]!.subtype === subtype && x.field !== cl[field]!.inputFields[0]!.field,
      );
    const formula = cl['label']!.inputFields.filter((x) =>
      x.transformations[0]!.description.startsWith('formula'),
    );
    for (const x of formula) {
      assert.ok(x.transformations[0]!.description.includes('CONCATENATE({fldName}, " <", {fldEmail}, ">")'));
      assert.deepEqual(
        [x.transformations[0]!.type, x.transformations[0]!.subtype],
        ['DIRECT', 'TRANSFORMATION'],
      );
    }
    assert.deepEqual(
      cl['label']!.inputFields.filter((x) => x.transformations[0]!.description.startsWith('formula')).map(
        (x) => x.field,
      ),
      ['Name', 'Email'],
    );
    assert.deepEqual(
      [find('first_order', 'IDENTITY')!.name, find('first_order', 'IDENTITY')!.field],
      ['Orders', 'Date'],
    );
    assert.equal(find('first_order', 'JOIN')!.field, 'Orders');
    assert.equal(find('first_order', 'JOIN')!.transformations[0]!.type, 'INDIRECT');
    const rollup = find('total', 'AGGREGATION')!;
    assert.deepEqual([rollup.name, rollup.field], ['Orders', 'Amount']);
    assert.match(rollup.transformations[0]!.description, /SUM\(values\)/);
    const verify = await cli(['--home', t.home, 'verify', out.location]);
    assert.equal(verify.code, 0, verify.stdout);
    assert.ok(!run.stdout.includes(TOKEN) && !run.stderr.includes(TOKEN));
  },
);

test(
  'airtable (contract): a wrong token is a clear error that names the cause, never the token',
  { skip: !hasOpenssl },
  async () => {
    const r = await requestApproveRun(t.home, 'air-customers', 'reporting');
    process.env['AIRTABLE_TOKEN'] = 'patWrong.000';
    const wrong = await requestApproveRun(t.home, 'air-customers', 'reporting');
    process.env['AIRTABLE_TOKEN'] = TOKEN;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /ERR_WAYBILL_SOURCE_FAILED: airtable source: GET .* answered 401: the token is missing, wrong or lacks access/,
    );
    assert.ok(!wrong.stderr.includes('patWrong'));
  },
);
