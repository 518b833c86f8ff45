// Integration test against a real NocoDB (npm `nocodb`, pinned in test-apps/nocodb, on SQLite, behind a
// TLS proxy). Runs with WAYBILL_APPS=1 (`npm run test:apps` installs the app and sets it); otherwise it
// skips and says so. Builds a base through NocoDB's own meta API — customers with a link to orders, a
// lookup, a rollup and a formula over them — seeds it through the data API, exports it with an API
// token, and compares every exported record and its lineage with what NocoDB's API returns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { appsSkipReason, setupNocodb, startNocodb, type NocodbSetup, type TestApp } from '@waybill/testkit';
import { cli, readColumnLineage, requestApproveRun, type tempHome } from './cli-harness.js';
import { appHome, applyDefinition, requestApproved, scanTable } from './apps-harness.js';

const skip = appsSkipReason('nocodb');
if (skip) console.log(`\n*** SKIPPING NocoDB integration tests: ${skip} ***\n`);

const CUSTOMERS = 2_500;
const LINKED = 150;
let app: TestApp | null = null;
let noco: NocodbSetup;
let t: Awaited<ReturnType<typeof tempHome>>;
let customersId = '';

interface Column {
  id: string;
  title: string;
}
const columnId = (table: { columns: Column[] }, title: string) =>
  table.columns.find((c) => c.title === title)!.id;

before(
  async () => {
    if (skip) return;
    app = await startNocodb();
    assert.ok(app, 'nocodb is installed');
    console.log(`nocodb ${app.version} started in ${app.startMs} ms`);
    noco = await setupNocodb(app);
    const api = (method: string, path: string, body?: unknown) => noco.api(method, path, body);
    const orders = (await api('POST', `/api/v2/meta/bases/${noco.baseId}/tables`, {
      title: 'Orders',
      columns: [
        { column_name: 'id', title: 'Id', uidt: 'ID' },
        { column_name: 'amount', title: 'Amount', uidt: 'Currency' },
        { column_name: 'odate', title: 'Date', uidt: 'Date' },
      ],
    })) as { id: string; columns: Column[] };
    let customers = (await api('POST', `/api/v2/meta/bases/${noco.baseId}/tables`, {
      title: 'Customers',
      columns: [
        { column_name: 'id', title: 'Id', uidt: 'ID' },
        { column_name: 'name', title: 'Name', uidt: 'SingleLineText', pv: true },
        { column_name: 'email', title: 'Email', uidt: 'Email' },
        { column_name: 'price', title: 'Price', uidt: 'Decimal' },
        { column_name: 'notes', title: 'Notes', uidt: 'LongText' },
      ],
    })) as { id: string; columns: Column[] };
    customersId = customers.id;
    customers = (await api('POST', `/api/v2/meta/tables/${customersId}/columns`, {
      title: 'Orders',
      uidt: 'Links',
      parentId: customersId,
      childId: orders.id,
      type: 'hm',
    })) as { id: string; columns: Column[] };
    const link = columnId(customers, 'Orders');
    await api('POST', `/api/v2/meta/tables/${customersId}/columns`, {
      title: 'First date',
      uidt: 'Lookup',
      fk_relation_column_id: link,
      fk_lookup_column_id: columnId(orders, 'Date'),
    });
    await api('POST', `/api/v2/meta/tables/${customersId}/columns`, {
      title: 'Order total',
      uidt: 'Rollup',
      fk_relation_column_id: link,
      fk_rollup_column_id: columnId(orders, 'Amount'),
      rollup_function: 'sum',
    });
    await api('POST', `/api/v2/meta/tables/${customersId}/columns`, {
      title: 'Greeting',
      uidt: 'Formula',
      formula_raw: 'CONCAT("Hello ", {Name})',
    });
    for (let i = 0; i < CUSTOMERS; i += 500) {
      await api(
        'POST',
        `/api/v2/tables/${customersId}/records`,
        Array.from({ length: Math.min(500, CUSTOMERS - i) }, (_x, k) => {
          const n = i + k;
          return {
            Name: `Customer ${n} ${'ÄÖÜé'[n % 4]}`,
            Email: `customer${n}@example${n % 7}.org`,
            Price: ((n * 37) % 10_000) / 100,
            Notes: n % 10 === 0 ? `call back at customer${n}@mail.example.net please` : `note ${n}`,
          };
        }),
      );
    }
    await api(
      'POST',
      `/api/v2/tables/${orders.id}/records`,
      Array.from({ length: LINKED * 3 }, (_x, k) => ({
        Amount: (k % 17) + 0.5,
        Date: `2026-0${(k % 9) + 1}-${String((k % 28) + 1).padStart(2, '0')}`,
      })),
    );
    for (let c = 1; c <= LINKED; c++) {
      await api(
        'POST',
        `/api/v2/tables/${customersId}/links/${link}/records/${c}`,
        [0, 1, 2].map((k) => ({ Id: (c - 1) * 3 + k + 1 })),
      );
    }
    // An edit sets a record's last-modified time: some records have one, most do not.
    await api(
      'PATCH',
      `/api/v2/tables/${customersId}/records`,
      Array.from({ length: 40 }, (_x, k) => ({ Id: 1000 + k, Notes: `edited ${k}` })),
    );

    t = await appHome(app, 'nocodb', [{ name: 'noco', token: noco.token, extra: ['--base', noco.baseId] }]);
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
source: { connection: ${connection}, table: Customers, recordId: Id, updatedAt: UpdatedAt }
fields:
  - { name: id, from: Id, classification: internal }
  - { name: name, from: Name, classification: internal }
  - { name: email, from: Email, transform: mask_email, classification: confidential }
  - { name: price, from: Price, classification: internal }
  - { name: greeting, from: Greeting, classification: internal }
  - { name: total, from: Order total, classification: internal }
  - { name: first, from: First date, classification: internal }
  - { name: notes, from: Notes, transform: scan_and_apply, classification: internal }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`;

const apply = (name: string, connection: string) =>
  applyDefinition(t, name, definition(name, connection), app!);

/** A value as Waybill's sources hand it on: scalars as they are, anything else as canonical JSON text. */
function cell(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

test(
  'nocodb (real app): the catalog scan reads the meta API and proposes email for the Email field',
  { skip: skip ?? false },
  async () => {
    const { col, stdout } = await scanTable(t.home, 'noco', 'Customers', app!);
    assert.equal(col('Email').proposed.piiKind, 'email');
    assert.ok((col('Notes').embedded['email'] ?? 0) > 0, JSON.stringify(col('Notes')));
    assert.ok(!stdout.includes('customer10@mail.example.net'), 'no sampled value is printed raw');
  },
);

test(
  "nocodb (real app): every record is exported, equal to NocoDB's own API; formula, lookup and rollup as lineage",
  { skip: skip ?? false },
  async () => {
    await apply('noco-customers', 'noco');
    const run = await requestApproveRun(t.home, 'noco-customers', 'ops', '--json');
    assert.equal(run.code, 0, `${run.stderr}\nnocodb said:\n${app!.log().slice(-3000)}`);
    const out = JSON.parse(run.stdout) as { location: string; counts: { read: number; written: number } };
    assert.equal(out.counts.written, CUSTOMERS);

    const truth: Record<string, unknown>[] = [];
    for (let offset = 0; ;) {
      const fields = 'Id,UpdatedAt,Name,Email,Price,Greeting,Order total,First date,Notes';
      const page = (await noco.api(
        'GET',
        `/api/v2/tables/${customersId}/records?limit=200&offset=${offset}&fields=${encodeURIComponent(fields)}`,
      )) as { list: Record<string, unknown>[]; pageInfo: { isLastPage: boolean } };
      truth.push(...page.list);
      offset += page.list.length;
      if (page.pageInfo.isLastPage) break;
    }
    assert.equal(truth.length, CUSTOMERS);
    const lines = (await readFile(join(out.location, 'noco-customers.ndjson'), 'utf8')).trim().split('\n');
    const records = (await readFile(join(out.location, 'records.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, CUSTOMERS);
    let updated = 0;
    truth.forEach((want, i) => {
      const got = JSON.parse(lines[i]!) as Record<string, unknown>;
      assert.equal(got['id'], want['Id']);
      assert.equal(got['name'], want['Name']);
      assert.equal(got['price'], cell(want['Price']));
      assert.equal(got['greeting'], want['Greeting']);
      assert.equal(got['total'], cell(want['Order total']));
      assert.equal(got['first'], cell(want['First date']));
      const email = want['Email'] as string;
      assert.notEqual(got['email'], email);
      assert.ok(String(got['email']).endsWith(email.slice(email.indexOf('@'))));
      if (String(want['Notes']).includes('@')) assert.ok(!String(got['notes']).includes('@mail.example.net'));
      else assert.equal(got['notes'], want['Notes']);
      const rec = JSON.parse(records[i]!) as Record<string, unknown>;
      assert.equal(rec['sourceRecordId'], String(want['Id']));
      if (want['UpdatedAt'] === null) assert.equal(rec['sourceUpdatedAt'], undefined);
      else {
        updated++;
        // NocoDB prints `2026-12-06 11:36:23+00:00`; records.jsonl holds the same instant in RFC 3339.
        assert.match(String(rec['sourceUpdatedAt']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
        assert.equal(Date.parse(String(rec['sourceUpdatedAt'])), Date.parse(want['UpdatedAt'] as string));
      }
    });
    assert.ok(updated >= 40, `records with a last-modified time: ${updated}`);
    // The linked records really are there: the rollup and the lookup carry values.
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.notEqual(first['total'], 0);
    assert.notEqual(first['first'], null);

    const cl = await readColumnLineage(out.location);
    assert.ok(
      cl['greeting']!.inputFields.some(
        (x) =>
          x.field === 'Name' &&
          x.transformations.some((tr) => tr.description === 'formula of Greeting: CONCAT("Hello ", {Name})'),
      ),
      JSON.stringify(cl['greeting']),
    );
    assert.ok(
      cl['total']!.inputFields.some(
        (x) =>
          x.name === 'Orders' &&
          x.field === 'Amount' &&
          x.transformations.some((tr) => tr.subtype === 'AGGREGATION'),
      ),
      JSON.stringify(cl['total']),
    );
    assert.ok(
      cl['first']!.inputFields.some(
        (x) =>
          x.name === 'Orders' &&
          x.field === 'Date' &&
          x.transformations.some((tr) => tr.subtype === 'IDENTITY'),
      ),
      JSON.stringify(cl['first']),
    );
    assert.ok(
      cl['first']!.inputFields.some(
        (x) => x.field === 'Orders' && x.transformations.some((tr) => tr.subtype === 'JOIN'),
      ),
    );
    const v = await cli(['--home', t.home, 'verify', out.location]);
    assert.equal(v.code, 0, v.stderr);
  },
);

test(
  'nocodb (real app): a field deleted in NocoDB after approval fails the run, naming it; nothing at the destination',
  { skip: skip ?? false },
  async () => {
    await apply('noco-drift', 'noco');
    const id = await requestApproved(t.home, 'noco-drift', 'ops');
    // Someone deletes the Notes field in NocoDB's UI between approval and run.
    const meta = (await noco.api('GET', `/api/v2/meta/tables/${customersId}`)) as { columns: Column[] };
    await noco.api('DELETE', `/api/v2/meta/columns/${columnId(meta, 'Notes')}`);
    const before = await readdir(join(t.dir, 'out'));
    const run = await cli(['--home', t.home, 'export', 'run', id]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /Notes/);
    assert.ok(!run.stderr.includes(noco.token), 'the token never appears in an error');
    assert.ok(!run.stderr.includes('    at '), 'no stack trace');
    assert.deepEqual(await readdir(join(t.dir, 'out')), before);
    const status = await cli(['--home', t.home, 'export', 'status', id, '--json']);
    assert.match(status.stdout, /"failed"/, status.stdout);
  },
);
