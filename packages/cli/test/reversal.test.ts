// Tokenize with a token vault, and reversal (detokenize, decrypt) as its own approvable action: on a
// real home over the demo CRM (SQLite store, real Cedar, the CLI as a child process). Attack tests are
// named after the attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cli, requestApproveRun, tempHome } from './cli-harness.js';

let t: Awaited<ReturnType<typeof tempHome>>;
let crm: string;
const keys: Record<string, string> = {};
/** The delivered rows: id → { email token, encrypted phone }. */
let delivered: { id: number; email: string; phone: string }[] = [];
let source: Map<number, { email: string; phone: string }>;

const as = (who: string, args: string[]) =>
  cli(['--home', t.home, ...args], who === 'admin' ? {} : { WAYBILL_API_KEY: keys[who]! });

before(async () => {
  t = await tempHome();
  const r = await cli(['--home', t.home, 'demo', '--json']);
  assert.equal(r.code, 0, r.stderr);
  crm = (JSON.parse(r.stdout) as { sourceDatabase: string }).sourceDatabase;
  for (const [name, role] of [
    ['rita', 'requester'],
    ['andy', 'approver'],
    ['sam', 'security'],
    ['sue', 'security'],
  ] as const) {
    const u = await cli(['--home', t.home, 'user', 'add', name, '--role', role, '--json']);
    assert.equal(u.code, 0, u.stderr);
    keys[name] = (JSON.parse(u.stdout) as { apiKey: string }).apiKey;
  }
  const file = join(t.dir, 'tokens.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: tokens
owner: team:support
purposes: [support]
source: { connection: demo-crm, table: customers }
fields:
  - { name: id, from: id }
  - { name: email, from: email, transform: { type: tokenize, key: demo-pseudonyms } }
  - { name: phone, from: phone, transform: { type: encrypt, key: demo-pseudonyms } }
destination: { connection: demo-exports, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
  );
  const applied = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(applied.code, 0, applied.stderr);
  // Two workers: vault entries come from several threads and batches.
  const run = await requestApproveRun(
    t.home,
    'tokens',
    'support',
    '--json',
    '--workers',
    '2',
    '--batch-size',
    '100',
  );
  assert.equal(run.code, 0, run.stderr);
  const dir = (JSON.parse(run.stdout) as { location: string }).location;
  delivered = (await readFile(join(dir, 'tokens.ndjson'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: number; email: string; phone: string });
  const db = new Database(crm, { readonly: true });
  source = new Map(
    (
      db.prepare('SELECT id, email, phone FROM customers').all() as {
        id: number;
        email: string;
        phone: string;
      }[]
    ).map((x) => [x.id, { email: x.email, phone: x.phone }]),
  );
  db.close();
});
after(async () => t.cleanup());

const withEmail = () => delivered.filter((d) => d.email !== null).slice(0, 5);

async function requestAs(
  who: string,
  args: string[],
): Promise<{ id: string; status: string; missing: string[] }> {
  const r = await as(who, ['reversal', 'request', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { id: string; status: string; missing: string[] };
}

test('tokenize: every email leaves as an opaque token, equal emails get equal tokens, the vault holds each once', () => {
  assert.ok(delivered.length > 100);
  const byEmail = new Map<string, string>();
  for (const d of delivered) {
    const email = source.get(d.id)!.email;
    if (email === null) continue;
    assert.match(d.email, /^tok_[0-9a-f]{32}$/);
    assert.ok(!d.email.includes(email));
    const seen = byEmail.get(email);
    if (seen !== undefined) assert.equal(d.email, seen);
    byEmail.set(email, d.email);
  }
  const db = new Database(join(t.home, 'waybill.db'), { readonly: true });
  const n = (db.prepare('SELECT COUNT(*) AS n FROM token_vault').get() as { n: number }).n;
  const sample = db.prepare('SELECT sealed FROM token_vault LIMIT 50').all() as { sealed: string }[];
  db.close();
  assert.equal(n, new Set(byEmail.values()).size);
  for (const row of sample) for (const email of byEmail.keys()) assert.ok(!row.sealed.includes(email));
});

test('detokenize: requested, approved by security, revealed once to the requester with the source values', async () => {
  const items = withEmail().map((d) => d.email);
  const req = await requestAs('rita', [
    'detokenize',
    ...items,
    '--justification',
    'customer asked for a copy',
  ]);
  assert.equal(req.status, 'pending_approval');
  assert.deepEqual(req.missing, ['1 more approval by someone with the security role']);

  const early = await as('rita', ['reversal', 'reveal', req.id]);
  assert.equal(early.code, 1);
  assert.match(early.stderr, /ERR_WAYBILL_NOT_APPROVED/);

  const ok = await as('sam', ['reversal', 'approve', req.id, '--reason', 'checked the ticket', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { status: string }).status, 'approved');

  const r = await as('rita', ['reversal', 'reveal', req.id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { items: { item: string; value: string | null }[] };
  const expected = withEmail().map((d) => ({ item: d.email, value: source.get(d.id)!.email }));
  assert.deepEqual(out.items, expected);

  const again = await as('rita', ['reversal', 'reveal', req.id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /ERR_WAYBILL_CONFLICT: .*revealed.*given back once/);

  // The log records who, how many and why — never a value.
  const log = await cli(['--home', t.home, 'audit', 'search', '--limit', '2000', '--json']);
  assert.equal(log.code, 0, log.stderr);
  const revealed = (
    JSON.parse(log.stdout) as { entries: { event: { type: string; details: Record<string, unknown> } }[] }
  ).entries
    .map((e) => e.event)
    .filter((e) => e.type.startsWith('reversal.'));
  assert.deepEqual(
    revealed.map((e) => e.type),
    ['reversal.requested', 'reversal.approved', 'reversal.revealed'],
  );
  assert.equal(revealed[2]!.details['count'], items.length);
  for (const e of expected) assert.ok(!log.stdout.includes(e.value), 'a revealed value is in the audit log');
});

test('self-approval-of-a-reversal is refused, even by a security principal', async () => {
  const req = await requestAs('sam', ['detokenize', withEmail()[0]!.email, '--justification', 'fraud check']);
  const r = await as('sam', ['reversal', 'approve', req.id, '--reason', 'me']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_FORBIDDEN: .*nobody approves their own reversal/);
});

test('reversal-approved-by-a-plain-approver does not count; security must approve', async () => {
  const req = await requestAs('rita', ['detokenize', withEmail()[1]!.email, '--justification', 'ticket 42']);
  const r = await as('andy', ['reversal', 'approve', req.id, '--reason', 'looks fine']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_FORBIDDEN/);
  const show = await as('rita', ['reversal', 'show', req.id, '--json']);
  assert.equal((JSON.parse(show.stdout) as { status: string }).status, 'pending_approval');
});

test('reveal-by-someone-other-than-the-requester is refused, approver included', async () => {
  const req = await requestAs('rita', ['detokenize', withEmail()[2]!.email, '--justification', 'ticket 43']);
  assert.equal((await as('sue', ['reversal', 'approve', req.id, '--reason', 'ok'])).code, 0);
  for (const who of ['sue', 'admin', 'andy']) {
    const r = await as(who, ['reversal', 'reveal', req.id]);
    assert.equal(r.code, 1, who);
    assert.match(r.stderr, /ERR_WAYBILL_FORBIDDEN: .*only the requester/);
  }
});

test('a viewer may not even ask for a reversal; an unknown token reveals as not in the vault', async () => {
  const v = await cli(['--home', t.home, 'user', 'add', 'vera', '--role', 'viewer', '--json']);
  keys['vera'] = (JSON.parse(v.stdout) as { apiKey: string }).apiKey;
  const denied = await as('vera', [
    'reversal',
    'request',
    'detokenize',
    withEmail()[0]!.email,
    '--justification',
    'x',
  ]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /ERR_WAYBILL_FORBIDDEN: .*members-request-reversals|no policy permits it/);

  const unknown = 'tok_' + '0'.repeat(32);
  const req = await requestAs('rita', ['detokenize', unknown, '--justification', 'ticket 44']);
  assert.equal((await as('sam', ['reversal', 'approve', req.id, '--reason', 'ok'])).code, 0);
  const r = await as('rita', ['reversal', 'reveal', req.id, '--json']);
  assert.deepEqual((JSON.parse(r.stdout) as { items: unknown[] }).items, [{ item: unknown, value: null }]);
});

test('decrypt: encrypted phones come back under the key they were encrypted with', async () => {
  const rows = delivered.filter((d) => d.phone !== null).slice(0, 3);
  const req = await requestAs('rita', [
    'decrypt',
    ...rows.map((d) => d.phone),
    '--key',
    'demo-pseudonyms',
    '--justification',
    'call back',
  ]);
  assert.equal((await as('sam', ['reversal', 'approve', req.id, '--reason', 'ok'])).code, 0);
  const r = await as('rita', ['reversal', 'reveal', req.id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    (JSON.parse(r.stdout) as { items: { value: string }[] }).items.map((i) => i.value),
    rows.map((d) => source.get(d.id)!.phone),
  );
});

test('bad reversal requests get a precise error naming the field', async () => {
  const bad = await as('rita', ['reversal', 'request', 'detokenize', 'not-a-token', '--justification', 'x']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ERR_WAYBILL_INVALID_INPUT: items\[0\]: not a token/);
  const noKey = await as('rita', [
    'reversal',
    'request',
    'decrypt',
    delivered[0]!.phone,
    '--justification',
    'x',
  ]);
  assert.match(noKey.stderr, /key: decrypt needs the name of the key/);
  const kind = await as('rita', ['reversal', 'request', 'unmask', 'x', '--justification', 'x']);
  assert.match(kind.stderr, /detokenize or decrypt/);
});

test('vault-entry-swapped-between-tokens does not open: the value is bound to its token', async () => {
  const [a, b] = withEmail();
  const db = new Database(join(t.home, 'waybill.db'));
  const sealedB = (
    db.prepare('SELECT sealed FROM token_vault WHERE token = ?').get(b!.email) as { sealed: string }
  ).sealed;
  db.prepare('UPDATE token_vault SET sealed = ? WHERE token = ?').run(sealedB, a!.email);
  db.close();
  const req = await requestAs('rita', ['detokenize', a!.email, '--justification', 'ticket 45']);
  assert.equal((await as('sam', ['reversal', 'approve', req.id, '--reason', 'ok'])).code, 0);
  const r = await as('rita', ['reversal', 'reveal', req.id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_INVALID_INPUT: the vault entry of tok_[0-9a-f]+ does not open/);
  assert.ok(!r.stderr.includes(source.get(b!.id)!.email));
});
