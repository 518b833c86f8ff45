import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { sharedTestdata, repoRoot } from '@waybill/testkit';
import { cli, cliProcess, tempHome } from './cli-harness.js';

// ajv-formats is CommonJS; its default export arrives wrapped.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

let t: Awaited<ReturnType<typeof tempHome>>;
let demo: {
  runId: string;
  definition: string;
  purpose: string;
  waybillDir: string;
  sourceDatabase: string;
  rows: number;
  verified: boolean;
};

before(async () => {
  t = await tempHome();
  const r = await cli(['--home', t.home, 'demo', '--json']);
  assert.equal(r.code, 0, r.stderr);
  demo = JSON.parse(r.stdout) as typeof demo;
});
after(async () => t.cleanup());

test('demo prints the contract JSON and verifies', () => {
  assert.deepEqual(
    Object.keys(demo).sort(),
    ['definition', 'purpose', 'rows', 'runId', 'sourceDatabase', 'verified', 'waybillDir'].sort(),
  );
  assert.equal(demo.verified, true);
  assert.equal(demo.purpose, 'marketing-analytics');
  assert.match(demo.runId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('the demo CRM is seeded with the promised tables and sizes, deterministically', () => {
  const db = new BetterSqlite3(demo.sourceDatabase, { readonly: true });
  try {
    const c = db.prepare('SELECT count(*) AS n FROM customers').get() as { n: number };
    const o = db.prepare('SELECT count(*) AS n FROM orders').get() as { n: number };
    assert.ok(c.n >= 5000 && o.n >= 20000);
    const notes = db.prepare("SELECT count(*) AS n FROM customers WHERE notes LIKE '%@%'").get() as {
      n: number;
    };
    assert.ok(notes.n > 0, 'some notes embed an email');
    const first = db.prepare('SELECT name, email, ssn FROM customers WHERE id = 1').get() as Record<
      string,
      string
    >;
    assert.match(first['ssn']!, /^9\d\d-\d\d-\d{4}$/);
    assert.equal(
      demo.rows,
      (db.prepare("SELECT count(*) AS n FROM customers WHERE country IN ('US','CA')").get() as { n: number })
        .n,
    );
  } finally {
    db.close();
  }
});

test('the export is masked as the definition says', async () => {
  const csv = await readFile(join(demo.waybillDir, 'customers-marketing.csv'), 'utf8');
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'customer_id,email_pseudonym,phone_last4,birth_date,country,value_band');
  assert.equal(lines.length - 2, demo.rows);
  const db = new BetterSqlite3(demo.sourceDatabase, { readonly: true });
  try {
    for (const line of lines.slice(1, 50)) {
      const [id, email, phone, birth, country, band] = line.split(',');
      const src = db.prepare('SELECT * FROM customers WHERE id = ?').get(Number(id)) as Record<
        string,
        string | number
      >;
      assert.notEqual(email, src['email']);
      assert.match(email!, /^[0-9a-f]{64}$/);
      assert.ok(!csv.includes(String(src['ssn'])), 'no SSN anywhere in the export');
      const digits = String(src['phone']);
      assert.equal(phone!.slice(-4), digits.slice(-4));
      assert.match(phone!.slice(0, -4), /^\*+$/);
      assert.equal(birth, `${String(src['birth_date']).slice(0, 4)}-01-01`);
      assert.ok(country === 'US' || country === 'CA');
      const ltv = Number(src['lifetime_value']);
      assert.equal(band, ltv >= 10000 ? 'gold' : ltv >= 1000 ? 'silver' : 'bronze');
    }
  } finally {
    db.close();
  }
  // Same key, same pseudonym: the HMAC is deterministic per key, and not an unkeyed hash.
  assert.ok(!csv.includes(createHmac('sha256', '').update('x').digest('hex')));
});

test('the export directory holds exactly the promised files', async () => {
  const files = (await readdir(demo.waybillDir)).sort();
  assert.deepEqual(files, [
    'customers-marketing.csv',
    'lineage.json',
    'receipt.tlog-proof',
    'records.jsonl',
    'waybill.intoto.jsonl',
  ]);
});

test('lineage.json validates against the official OpenLineage JSON Schemas', async () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const dir = join(sharedTestdata(), 'openlineage');
  ajv.addSchema(JSON.parse(await readFile(join(dir, 'OpenLineage.json'), 'utf8')) as object);
  const facetsDir = join(dir, 'facets');
  for (const f of await readdir(facetsDir)) {
    if (f.endsWith('.json')) ajv.addSchema(JSON.parse(await readFile(join(facetsDir, f), 'utf8')) as object);
  }
  const event = JSON.parse(await readFile(join(demo.waybillDir, 'lineage.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const validateEvent = ajv.getSchema('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent')!;
  assert.ok(validateEvent(event), JSON.stringify(validateEvent.errors));
  // Each facet also validates against its own schema (the core schema leaves facets open).
  const out = (event['outputs'] as { facets: Record<string, { _schemaURL: string }> }[])[0]!;
  for (const [name, facet] of Object.entries(out.facets)) {
    const v = ajv.getSchema(facet._schemaURL);
    assert.ok(v, `schema for facet ${name}`);
    assert.ok(v(facet), `${name}: ${JSON.stringify(v.errors)}`);
  }
  const cl = out.facets['columnLineage'] as unknown as {
    fields: Record<string, { inputFields: { transformations: { masking: boolean; subtype: string }[] }[] }>;
    dataset: { transformations: { type: string; subtype: string }[] }[];
  };
  assert.equal(cl.fields['email_pseudonym']!.inputFields[0]!.transformations[0]!.masking, true);
  assert.equal(cl.fields['country']!.inputFields[0]!.transformations[0]!.subtype, 'IDENTITY');
  assert.equal(cl.dataset[0]!.transformations[0]!.subtype, 'FILTER');
});

test('the predicate validates against docs/predicate.schema.json and records what was done', async () => {
  const line = (await readFile(join(demo.waybillDir, 'waybill.intoto.jsonl'), 'utf8')).trim();
  const env = JSON.parse(line) as { payload: string; payloadType: string };
  assert.equal(env.payloadType, 'application/vnd.in-toto+json');
  const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as {
    predicate: Record<string, unknown>;
    subject: { name: string }[];
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const schema = JSON.parse(
    await readFile(join(repoRoot(), 'docs', 'predicate.schema.json'), 'utf8'),
  ) as object;
  const v = ajv.compile(schema);
  assert.ok(v(statement.predicate), JSON.stringify(v.errors));
  const p = statement.predicate as {
    fields: {
      name: string;
      transform: Record<string, unknown> | null;
      emitted: boolean;
      computed: unknown;
    }[];
    counts: { read: number; written: number; filtered: number };
  };
  const email = p.fields.find((f) => f.name === 'email_pseudonym')!;
  assert.equal(email.transform!['type'], 'hash_keyed');
  assert.ok(!JSON.stringify(statement).match(/"secret"/), 'no key material in the statement');
  assert.equal(p.fields.find((f) => f.name === 'ssn')!.emitted, false);
  assert.ok(p.fields.find((f) => f.name === 'value_band')!.computed);
  assert.equal(p.counts.read, p.counts.filtered + p.counts.written);
  assert.deepEqual(statement.subject.map((s) => s.name).sort(), [
    'customers-marketing.csv',
    'lineage.json',
    'records.jsonl',
  ]);
});

test('waybill verify accepts the export (as a separate process, JSON contract)', async () => {
  const r = await cliProcess(['--home', t.home, 'verify', demo.waybillDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { valid: boolean; runId: string; errors: unknown[] };
  assert.equal(out.valid, true);
  assert.equal(out.runId, demo.runId);
  assert.deepEqual(out.errors, []);
});

test('waybill verify --key with the public key from keys public', async () => {
  const pem = await cli(['--home', t.home, 'keys', 'public']);
  assert.equal(pem.code, 0);
  assert.match(pem.stdout, /^-----BEGIN PUBLIC KEY-----/);
  const keyFile = join(t.dir, 'waybill.pub');
  await writeFile(keyFile, pem.stdout);
  // A recipient with no home holds the two public keys: the exporter's and the audit log's.
  const vkey = (await cli(['--home', t.home, 'audit', 'key'])).stdout.trim();
  const nohome = { WAYBILL_HOME: join(t.dir, 'nohome') };
  const r = await cli(['verify', demo.waybillDir, '--key', keyFile, '--log-key', vkey, '--json'], nohome);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { receipt: { status: string } };
  assert.equal(report.receipt.status, 'verified');
  // Without the log key the receipt cannot be checked, and an unchecked receipt is not a valid waybill.
  const unchecked = await cli(['verify', demo.waybillDir, '--key', keyFile, '--json'], nohome);
  assert.equal(unchecked.code, 1);
  assert.match(unchecked.stdout, /ERR_WAYBILL_UNKNOWN_KEY/);
  const j = await cli(['--home', t.home, 'keys', 'public', '--json']);
  const k = JSON.parse(j.stdout) as { keyId: string; pem: string };
  assert.equal(k.pem, pem.stdout);
  assert.match(k.keyId, /^[0-9a-f]{32}$/);
});

test('waybill verify --record proves one record without the others', async () => {
  const r = await cli(['--home', t.home, 'verify', demo.waybillDir, '--record', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { valid: boolean; recordProof: Record<string, unknown> };
  assert.equal(out.valid, true);
  assert.ok(out.recordProof);
  const bad = await cli([
    '--home',
    t.home,
    'verify',
    demo.waybillDir,
    '--record',
    String(demo.rows + 5),
    '--json',
  ]);
  assert.equal(bad.code, 1);
  const usage = await cli(['--home', t.home, 'verify', demo.waybillDir, '--record', 'x']);
  assert.equal(usage.code, 2);
});

test('flipped-byte-in-any-export-file-is-detected', async () => {
  const { cp } = await import('node:fs/promises');
  for (const name of await readdir(demo.waybillDir)) {
    const copy = join(t.dir, `flip-${name}`);
    await cp(demo.waybillDir, copy, { recursive: true });
    const file = join(copy, name);
    const bytes = await readFile(file);
    // A few positions per file: start, middle, end.
    for (const pos of [0, Math.floor(bytes.length / 2), bytes.length - 2]) {
      const flipped = Buffer.from(bytes);
      flipped[pos] = flipped[pos]! ^ 0x01;
      await writeFile(file, flipped);
      const r = await cli(['--home', t.home, 'verify', copy, '--json']);
      assert.equal(r.code, 1, `flip at ${name}:${pos} went unnoticed`);
      assert.equal((JSON.parse(r.stdout) as { valid: boolean }).valid, false);
    }
    await writeFile(file, bytes);
  }
});

test('a second demo run reuses the home and makes a new run', async () => {
  const r = await cli(['--home', t.home, 'demo', '--json', '--customers', '200', '--orders', '100']);
  assert.equal(r.code, 0, r.stderr);
  const d2 = JSON.parse(r.stdout) as typeof demo;
  assert.notEqual(d2.runId, demo.runId);
  assert.equal(d2.verified, true);
});
