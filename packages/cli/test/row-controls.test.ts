// Row-level controls on a real home over the demo CRM: row filters that the policy derives from the
// requester's attributes, and k-anonymity that suppresses or generalizes instead of only blocking.
// Attack tests are named after the attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_POLICY_SET } from '@waybill/core';
import { cli, tempHome } from './cli-harness.js';

let t: Awaited<ReturnType<typeof tempHome>>;
let crm: string;
const keys: Record<string, string> = {};

const as = (who: string, args: string[]) =>
  cli(['--home', t.home, ...args], who === 'admin' ? {} : { WAYBILL_API_KEY: keys[who]! });

async function addUser(name: string, role: string, ...attrs: string[]): Promise<void> {
  const u = await cli([
    '--home',
    t.home,
    'user',
    'add',
    name,
    '--role',
    role,
    ...attrs.flatMap((a) => ['--attr', a]),
    '--json',
  ]);
  assert.equal(u.code, 0, u.stderr);
  keys[name] = (JSON.parse(u.stdout) as { apiKey: string }).apiKey;
}

async function apply(name: string, body: string): Promise<void> {
  const file = join(t.dir, `${name}.yaml`);
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: ${name}
owner: team:support
purposes: [support]
source: { connection: demo-crm, table: customers }
destination: { connection: demo-exports, path: '{name}/{runId}' }
format: ndjson
retention: P7D
${body}`,
  );
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 0, r.stderr);
}

/** Requests and runs `definition` as `who`, approved by `amy` when the policy wants an approval. */
async function runAs(who: string, definition: string) {
  const req = await as(who, ['export', 'request', definition, '--purpose', 'support', '--json']);
  assert.equal(req.code, 0, req.stderr);
  const v = JSON.parse(req.stdout) as { id: string; status: string };
  if (v.status === 'pending_approval') {
    const ok = await as('amy', ['export', 'approve', v.id, '--reason', 'reviewed']);
    assert.equal(ok.code, 0, ok.stderr);
  } else assert.equal(v.status, 'approved', req.stdout);
  return as(who, ['export', 'run', v.id, '--json']);
}

async function delivered(run: { stdout: string }, name: string): Promise<Record<string, unknown>[]> {
  const dir = (JSON.parse(run.stdout) as { location: string }).location;
  const text = (await readFile(join(dir, `${name}.ndjson`), 'utf8')).trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function sql<T>(q: string): T[] {
  const db = new Database(crm, { readonly: true });
  try {
    return db.prepare(q).all() as T[];
  } finally {
    db.close();
  }
}

before(async () => {
  t = await tempHome();
  const r = await cli(['--home', t.home, 'demo', '--json']);
  assert.equal(r.code, 0, r.stderr);
  crm = (JSON.parse(r.stdout) as { sourceDatabase: string }).sourceDatabase;
  const policy = join(t.dir, 'policy.cedar');
  await writeFile(
    policy,
    `${DEFAULT_POLICY_SET}
@id("requesters-see-their-countrys-rows")
@rowFilter("country == requester.country")
permit (principal in Waybill::Role::"requester", action == Waybill::Action::"export.run", resource)
when { resource.requester == principal };
`,
  );
  const applied = await cli(['--home', t.home, 'policy', 'apply', policy]);
  assert.equal(applied.code, 0, applied.stderr);
  await addUser('ursula', 'requester', 'country=US');
  await addUser('carl', 'requester', 'country=CA');
  await addUser('nadia', 'requester');
  await addUser('amy', 'approver');
  await apply('countries', `fields:\n  - { name: id, from: id }\n  - { name: country, from: country }\n`);
});
after(async () => t.cleanup());

test('a row filter from policy: each requester gets only the rows of their own country', async () => {
  for (const [who, country] of [
    ['ursula', 'US'],
    ['carl', 'CA'],
  ] as const) {
    const run = await runAs(who, 'countries');
    assert.equal(run.code, 0, run.stderr);
    const rows = await delivered(run, 'countries');
    const expected = sql<{ id: number }>(`SELECT id FROM customers WHERE country = '${country}' ORDER BY id`);
    assert.ok(expected.length > 10);
    assert.deepEqual(
      rows.map((r) => r.id),
      expected.map((e) => e.id),
    );
    // The waybill records the filter as it was applied, and the policy that put it there.
    const dir = (JSON.parse(run.stdout) as { location: string }).location;
    const envelope = JSON.parse(
      (await readFile(join(dir, 'waybill.intoto.jsonl'), 'utf8')).split('\n')[0]!,
    ) as {
      payload: string;
    };
    const predicate = (
      JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
        predicate: { filter: { expression: string }; policy: { policyIds: string[] } };
      }
    ).predicate;
    assert.equal(predicate.filter.expression, `country == "${country}"`);
    assert.ok(predicate.policy.policyIds.includes('requesters-see-their-countrys-rows'));
  }
});

test('requester-without-the-attribute cannot run unfiltered: the run is refused and logged', async () => {
  const req = await as('nadia', ['export', 'request', 'countries', '--purpose', 'support', '--json']);
  const v = JSON.parse(req.stdout) as { id: string };
  const run = await as('nadia', ['export', 'run', v.id]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /ERR_WAYBILL_POLICY_DENIED: policy "requesters-see-their-countrys-rows" filters the rows by requester.country, and nadia has no attribute "country"; set it with `waybill user set-attr nadia country=…`/,
  );
  const log = await cli(['--home', t.home, 'audit', 'search', '--type', 'access.denied', '--json']);
  assert.match(log.stdout, /requester.country/);
  // Given the attribute, the same request runs, filtered.
  const set = await cli(['--home', t.home, 'user', 'set-attr', 'nadia', 'country=CA']);
  assert.equal(set.code, 0, set.stderr);
  const again = await runAs('nadia', 'countries');
  assert.equal(again.code, 0, again.stderr);
  assert.ok((await delivered(again, 'countries')).every((r) => r.country === 'CA'));
});

test('attribute-value-injected-into-the-filter stays a string literal', async () => {
  const set = await cli(['--home', t.home, 'user', 'set-attr', 'carl', 'country=CA" || true || "']);
  assert.equal(set.code, 0, set.stderr);
  const run = await runAs('carl', 'countries');
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await delivered(run, 'countries'), [], 'no country has that name: no row, not every row');
  assert.equal((await cli(['--home', t.home, 'user', 'set-attr', 'carl', 'country=CA'])).code, 0);
});

test('user set-attr validates names and needs principal.manage', async () => {
  const bad = await cli(['--home', t.home, 'user', 'set-attr', 'carl', 'Country=CA']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ERR_WAYBILL_INVALID_INPUT: attributes: "Country" must be a lowercase identifier/);
  const self = await as('carl', ['user', 'set-attr', 'carl', 'country=US']);
  assert.equal(self.code, 1);
  assert.match(self.stderr, /ERR_WAYBILL_FORBIDDEN/);
  const pair = await cli(['--home', t.home, 'user', 'set-attr', 'carl', 'country']);
  assert.match(pair.stderr, /attributes are name=value/);
});

/** A k-anonymity definition over birth dates and countries of the demo customers. */
async function kDefinition(name: string, born: string, privacy: string): Promise<void> {
  await apply(
    name,
    `fields:
  - { name: id, from: id, transform: { type: hash_keyed, key: demo-pseudonyms } }
  - { name: born, from: birth_date, transform: ${born} }
  - { name: country, from: country }
privacy: ${privacy}
`,
  );
}

function predicateOf(dirText: string): {
  validation: { gate: string; passed: boolean; detail: string }[];
  fields: { name: string; transform: Record<string, unknown> | null }[];
} {
  const envelope = JSON.parse(dirText.split('\n')[0]!) as { payload: string };
  return (JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: never })
    .predicate;
}

function classSizes(rows: Record<string, unknown>[]): number[] {
  const m = new Map<string, number>();
  for (const r of rows) {
    const key = JSON.stringify([r.born, r.country]);
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return [...m.values()];
}

test('k-anonymity with enforce: suppress — exactly the records of too-small combinations are left out', async () => {
  await kDefinition(
    'k-suppress',
    '{ type: date_truncate, unit: year }',
    '{ quasiIdentifiers: [born, country], k: 11, enforce: suppress, maxSuppressed: 0.5 }',
  );
  const run = await runAs('ursula', 'k-suppress');
  assert.equal(run.code, 0, run.stderr);
  const rows = await delivered(run, 'k-suppress');
  // Independently: the SQL group sizes of (birth year, country), among US rows (ursula's row filter).
  const groups = sql<{ n: number }>(
    `SELECT COUNT(*) AS n FROM customers WHERE country = 'US' GROUP BY substr(birth_date, 1, 4), country`,
  );
  const small = groups.filter((g) => g.n < 11).reduce((a, g) => a + g.n, 0);
  assert.ok(small > 0, 'the data has small combinations to suppress');
  const total = groups.reduce((a, g) => a + g.n, 0);
  assert.equal(rows.length, total - small);
  assert.ok(Math.min(...classSizes(rows)) >= 11);
  const dir = (JSON.parse(run.stdout) as { location: string }).location;
  const gate = predicateOf(await readFile(join(dir, 'waybill.intoto.jsonl'), 'utf8')).validation.find(
    (g) => g.gate === 'k-anonymity',
  )!;
  assert.equal(gate.passed, true);
  assert.match(
    gate.detail,
    new RegExp(`suppressed ${small} records in combinations shared by fewer than 11`),
  );
  // Records are numbered over what was written, and the waybill verifies.
  const verify = await cli(['--home', t.home, 'verify', dir]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
});

test('k-anonymity with enforce: suppress blocks when more than maxSuppressed would go', async () => {
  await kDefinition(
    'k-suppress-none',
    '{ type: date_truncate, unit: day }',
    '{ quasiIdentifiers: [born, country], k: 3, enforce: suppress, maxSuppressed: 0.01 }',
  );
  const run = await runAs('ursula', 'k-suppress-none');
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /validation gate k-anonymity: \d+ records are in combinations of born, country shared by fewer than 3/,
  );
});

test('k-anonymity with enforce: generalize — birth dates climb to the least coarse unit that makes the export k-anonymous', async () => {
  await kDefinition(
    'k-general',
    '{ type: date_truncate, unit: day }',
    '{ quasiIdentifiers: [born, country], k: 5, enforce: generalize, maxSuppressed: 0.05 }',
  );
  const run = await runAs('ursula', 'k-general');
  assert.equal(run.code, 0, run.stderr);
  const rows = await delivered(run, 'k-general');
  assert.ok(Math.min(...classSizes(rows)) >= 5);
  const dir = (JSON.parse(run.stdout) as { location: string }).location;
  const p = predicateOf(await readFile(join(dir, 'waybill.intoto.jsonl'), 'utf8'));
  const unit = p.fields.find((f) => f.name === 'born')!.transform!['unit'] as string;
  assert.notEqual(unit, 'day', 'generalized beyond the definition');
  // The waybill records the transform as applied, and the gate says how far it went.
  assert.ok(rows.every((r) => (unit === 'year' ? /^\d{4}-01-01$/ : /^\d{4}-\d{2}-01$/).test(String(r.born))));
  const gate = p.validation.find((g) => g.gate === 'k-anonymity')!;
  assert.match(gate.detail, new RegExp(`generalized born: date_truncate day → date_truncate ${unit}`));
  // And it is the least: one unit finer would not have been k-anonymous within 5% suppression.
  const finer = unit === 'year' ? 7 : 10;
  const groups = sql<{ n: number }>(
    `SELECT COUNT(*) AS n FROM customers WHERE country = 'US' GROUP BY substr(birth_date, 1, ${finer})`,
  );
  const below = groups.filter((g) => g.n < 5).reduce((a, g) => a + g.n, 0);
  const total = groups.reduce((a, g) => a + g.n, 0);
  assert.ok(below > Math.floor(0.05 * total), `${below} of ${total}`);
});

test('output-schema: a required field that is empty fails the run naming field and row; nothing is delivered', async () => {
  const empty = sql<{ n: number }>(
    `SELECT COUNT(*) AS n FROM customers WHERE country = 'US' AND notes IS NULL`,
  );
  assert.ok(empty[0]!.n > 0, 'the demo data has customers without notes');
  await apply(
    'required-email',
    `fields:\n  - { name: id, from: id }\n  - { name: notes, from: notes, transform: scan_and_apply, required: true }\n`,
  );
  const run = await runAs('ursula', 'required-email');
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /validation gate output-schema: output field "notes" is required, and it is empty at source row \d+; nothing was delivered/,
  );
  // Marked required where the data is complete, it passes and says so in the gate.
  await apply('required-id', `fields:\n  - { name: id, from: id, required: true }\n`);
  const ok = await runAs('ursula', 'required-id');
  assert.equal(ok.code, 0, ok.stderr);
  const dir = (JSON.parse(ok.stdout) as { location: string }).location;
  const gate = predicateOf(await readFile(join(dir, 'waybill.intoto.jsonl'), 'utf8')).validation.find(
    (g) => g.gate === 'output-schema',
  )!;
  assert.match(gate.detail, /required id: never empty/);
  // The destination has the passing export's directory, and none for the failed one.
  const { readdir } = await import('node:fs/promises');
  const root = join(dir, '..', '..');
  const names = await readdir(root);
  assert.ok(names.includes('required-id'));
  assert.ok(!names.includes('required-email'), names.join(', '));
});
