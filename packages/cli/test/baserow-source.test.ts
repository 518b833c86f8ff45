// Contract test of the Baserow source: Baserow cannot run here, so a local HTTPS server plays its
// documented REST API (https://api.baserow.io/api/redoc/ — `GET /api/database/fields/table/{id}/`,
// `GET /api/database/rows/table/{id}/?page&size&include`, `Authorization: Token …`) with fixtures that
// follow it exactly, including pagination (`next`), a 429 with Retry-After and a 502.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readdir } from 'node:fs/promises';
import { hasOpenssl, makeTestPki, repoRoot, sharedTestdata, type TestPki } from '@waybill/testkit';
import { cli, readColumnLineage, requestApproveRun, tempHome } from './cli-harness.js';

// ajv-formats is CommonJS; its default export arrives wrapped.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

const TOKEN = 'dbTokenFixture0123456789';
const fields = [
  { id: 11, table_id: 1, name: 'Name', order: 0, type: 'text', primary: true, read_only: false },
  {
    id: 12,
    table_id: 1,
    name: 'Orders',
    order: 1,
    type: 'link_row',
    primary: false,
    read_only: false,
    link_row_table_id: 2,
  },
  {
    id: 13,
    table_id: 1,
    name: 'Spent',
    order: 2,
    type: 'rollup',
    primary: false,
    read_only: true,
    through_field_id: 12,
    target_field_id: 21,
    rollup_function: 'sum',
  },
  {
    id: 14,
    table_id: 1,
    name: 'Shout',
    order: 3,
    type: 'formula',
    primary: false,
    read_only: true,
    formula: "upper(field('Name'))",
    formula_type: 'text',
  },
  {
    id: 15,
    table_id: 1,
    name: 'Amounts',
    order: 4,
    type: 'lookup',
    primary: false,
    read_only: true,
    through_field_id: 12,
    target_field_id: 21,
  },
];
const orderFields = [
  {
    id: 21,
    table_id: 2,
    name: 'Amount',
    order: 0,
    type: 'number',
    primary: true,
    read_only: false,
    number_decimal_places: 2,
  },
];
const rows = Array.from({ length: 450 }, (_x, i) => ({
  id: i + 1,
  order: `${i + 1}.00000000000000000000`,
  field_11: `Person ${i}`,
  field_12: [{ id: i, value: `${i}.00` }],
  field_13: `${(i * 1.5).toFixed(2)}`,
  field_14: `PERSON ${i}`,
  field_15: [{ id: i, value: `${i}.00` }],
}));

let t: Awaited<ReturnType<typeof tempHome>>;
let pki: TestPki;
let server: Server;
let port = 0;
const seen: { page: string | null; status: number; include: string | null }[] = [];
const trouble = new Map<string, number>();

before(async () => {
  if (!hasOpenssl) return;
  t = await tempHome();
  pki = await makeTestPki('waybill-baserow-');
  server = createServer(
    { cert: await pki.read('server.crt'), key: await pki.read('server.key') },
    (req, res) => {
      const url = new URL(req.url ?? '/', `https://127.0.0.1`);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        if (url.pathname.includes('/rows/'))
          seen.push({ page: url.searchParams.get('page'), status, include: url.searchParams.get('include') });
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Token ${TOKEN}`)
        return send(401, { error: 'ERROR_INVALID_TOKEN', detail: 'The provided token is invalid.' });
      const act = trouble.get(`${url.pathname}?${url.searchParams.get('page') ?? ''}`);
      if (act) {
        trouble.delete(`${url.pathname}?${url.searchParams.get('page') ?? ''}`);
        return send(act, { error: 'ERROR_TOO_MANY_REQUESTS' }, act === 429 ? { 'retry-after': '1' } : {});
      }
      if (url.pathname === '/api/database/fields/table/1/') return send(200, fields);
      if (url.pathname === '/api/database/fields/table/2/') return send(200, orderFields);
      if (url.pathname === '/api/database/rows/table/1/') {
        const size = Number(url.searchParams.get('size') ?? 100);
        const page = Number(url.searchParams.get('page') ?? 1);
        const include = url.searchParams.get('include')?.split(',');
        const slice = rows
          .slice((page - 1) * size, page * size)
          .map((r) =>
            Object.fromEntries(
              Object.entries(r).filter(
                ([k]) => k === 'id' || k === 'order' || !include || include.includes(k),
              ),
            ),
          );
        const next =
          page * size < rows.length
            ? `https://127.0.0.1:${port}/api/database/rows/table/1/?page=${page + 1}&size=${size}`
            : null;
        return send(200, { count: rows.length, next, previous: page > 1 ? 'x' : null, results: slice });
      }
      return send(404, { error: 'ERROR_TABLE_DOES_NOT_EXIST' });
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
  const add = await cli([
    '--home',
    t.home,
    'source',
    'add',
    'br',
    '--kind',
    'baserow',
    '--api-url',
    `https://127.0.0.1:${port}`,
    '--ca',
    pki.file('ca.crt'),
    '--table',
    'people=1',
    '--table',
    'orders=2',
    '--password-env',
    'BASEROW_TOKEN',
  ]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await cli(['--home', t.home, 'egress', 'allow', `127.0.0.1:${port}`, '--private'])).code, 0);
});
after(async () => {
  server?.close();
  await pki?.dir.cleanup();
  await t?.cleanup();
});

test(
  'baserow (contract, fixture server): pages to the end through a 429 and a 502, only the fields asked for; app logic as lineage',
  { skip: !hasOpenssl },
  async () => {
    process.env['BASEROW_TOKEN'] = TOKEN;
    const file = join(t.dir, 'br.yaml');
    await writeFile(
      file,
      `apiVersion: waybill/v1
kind: ExportDefinition
name: br-people
owner: team:ops
purposes: [ops]
source: { connection: br, table: people, recordId: id }
fields:
  - { name: id, from: id }
  - { name: shout, from: Shout }
  - { name: spent, from: Spent }
  - { name: amounts, from: Amounts }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
    );
    const applied = await cli(['--home', t.home, 'def', 'apply', file]);
    assert.equal(applied.code, 0, applied.stderr);
    trouble.set('/api/database/rows/table/1/?2', 429);
    trouble.set('/api/database/rows/table/1/?3', 502);
    seen.length = 0;
    const run = await requestApproveRun(t.home, 'br-people', 'ops', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { location: string; counts: { written: number } };
    assert.equal(out.counts.written, 450);
    assert.deepEqual(
      seen.map((s) => [s.page, s.status]),
      [
        ['1', 200],
        ['2', 429],
        ['2', 200],
        ['3', 502],
        ['3', 200],
      ],
    );
    assert.ok(
      seen.every((s) => s.include === 'field_14,field_13,field_15'),
      'only the fields the definition reads',
    );
    const lines = (await readFile(join(out.location, 'br-people.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[7], {
      amounts: JSON.stringify([{ id: 7, value: '7.00' }]),
      id: 8,
      shout: 'PERSON 7',
      spent: '10.50',
    });
    const cl = await readColumnLineage(out.location);
    const shout = cl['shout']!.inputFields.find((x) => x.field === 'Name')!;
    assert.deepEqual(
      [shout.transformations[0]!.subtype, shout.transformations[0]!.description],
      ['TRANSFORMATION', "formula of Shout: upper(field('Name'))"],
    );
    const spent = cl['spent']!.inputFields.find((x) => x.name === 'orders')!;
    assert.deepEqual([spent.field, spent.transformations[0]!.subtype], ['Amount', 'AGGREGATION']);
    assert.match(spent.transformations[0]!.description, /sum\(values\)/);
    assert.ok(
      cl['amounts']!.inputFields.some(
        (x) => x.field === 'Orders' && x.transformations[0]!.subtype === 'JOIN',
      ),
    );
    assert.equal((await cli(['--home', t.home, 'verify', out.location])).code, 0);
    // The lineage with the app's logic, and the predicate with its sourceLogic, validate against their schemas.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const ol = join(sharedTestdata(), 'openlineage');
    ajv.addSchema(JSON.parse(await readFile(join(ol, 'OpenLineage.json'), 'utf8')) as object);
    for (const f of await readdir(join(ol, 'facets'))) {
      if (f.endsWith('.json'))
        ajv.addSchema(JSON.parse(await readFile(join(ol, 'facets', f), 'utf8')) as object);
    }
    const lineage = JSON.parse(await readFile(join(out.location, 'lineage.json'), 'utf8')) as {
      outputs: { facets: Record<string, { _schemaURL: string }> }[];
    };
    const facet = lineage.outputs[0]!.facets['columnLineage']!;
    const validateFacet = ajv.getSchema(facet._schemaURL)!;
    assert.ok(validateFacet(facet), JSON.stringify(validateFacet.errors));
    const envelope = JSON.parse(
      (await readFile(join(out.location, 'waybill.intoto.jsonl'), 'utf8')).split('\n')[0]!,
    ) as { payload: string };
    const predicate = (
      JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
        predicate: { fields: { name: string; sourceLogic?: unknown[] }[] };
      }
    ).predicate;
    const validatePredicate = ajv.compile(
      JSON.parse(await readFile(join(repoRoot(), 'docs', 'predicate.schema.json'), 'utf8')) as object,
    );
    assert.ok(validatePredicate(predicate), JSON.stringify(validatePredicate.errors));
    assert.deepEqual(predicate.fields.find((f) => f.name === 'spent')!.sourceLogic, [
      {
        column: 'Spent',
        kind: 'rollup',
        expression: 'sum(values)',
        via: 'Orders',
        linkedTable: 'orders',
        linkedColumn: 'Amount',
      },
    ]);
  },
);
