import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliProcess, tempHome } from './cli-harness.js';

let t: Awaited<ReturnType<typeof tempHome>>;
const errLine = /^waybill: ERR_WAYBILL_[A-Z_]+: .+\n$/;

before(async () => {
  t = await tempHome();
  const r = await cli(['--home', t.home, 'init', '--json']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => t.cleanup());

/** Registers a file- or directory-backed connection and asserts it was accepted. */
async function addConnection(
  role: 'source' | 'destination',
  name: string,
  kind: string,
  path: string,
): Promise<void> {
  const r = await cli(['--home', t.home, role, 'add', name, '--kind', kind, '--path', path]);
  assert.equal(r.code, 0, r.stderr);
}

const def = (
  over: Partial<Record<'source' | 'fields' | 'filter' | 'format', string>> = {},
) => `apiVersion: waybill/v1
kind: ExportDefinition
name: people
owner: team:data
purposes: [testing]
source: ${over.source ?? '{ connection: people, table: people }'}
${over.filter ? `filter: '${over.filter}'\n` : ''}fields:
${over.fields ?? '  - { name: id, from: id }\n  - { name: email, from: email, transform: mask_email, classification: internal }'}
destination: { connection: out, path: '{name}/{runId}' }
format: ${over.format ?? 'ndjson'}
retention: P7D
`;

test('init on an existing home is refused with exit 1 and one line', async () => {
  const r = await cli(['--home', t.home, 'init']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, errLine);
  assert.match(r.stderr, /ERR_WAYBILL_CONFLICT/);
});

test('usage errors exit 2 with one clear line', async () => {
  for (const args of [
    ['frobnicate'],
    ['def'],
    ['def', 'apply'],
    ['export', 'run', 'x'],
    ['source', 'add', 'x', '--kind', 'oracle', '--path', 'x'],
    ['--home'],
  ]) {
    const r = await cli(['--home', t.home, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /waybill: ERR_WAYBILL_USAGE: /, args.join(' '));
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
});

test('commands on a missing home say how to create one', async () => {
  const r = await cli(['--home', join(t.dir, 'missing'), 'def', 'list']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_HOME_INVALID: no Waybill home at .* run `waybill init`/);
});

test('a malformed definition is refused naming file, line and field; nothing is stored', async () => {
  const dir = join(t.dir, 'src');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'people.ndjson'), '{"id":1,"email":"a@example.com"}\n');
  await addConnection('source', 'people', 'ndjson', join(dir, 'people.ndjson'));
  await mkdir(join(t.dir, 'out'), { recursive: true });
  await addConnection('destination', 'out', 'directory', join(t.dir, 'out'));
  const file = join(t.dir, 'bad.yaml');
  await writeFile(
    file,
    def({ fields: '  - { name: id, from: id, transform: { type: mask_partial, keep: middle, n: 2 } }' }),
  );
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, errLine);
  assert.match(r.stderr, /ERR_WAYBILL_DEFINITION_INVALID: .*bad\.yaml:\d+:\d+: fields\[0\]\.transform/);
  await writeFile(file, def({ fields: '  - { name: id, from: nosuchcolumn }' }));
  const r2 = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /column "nosuchcolumn" does not exist in people/);
  await writeFile(file, def({ filter: 'email ==' }));
  const r3 = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /ERR_WAYBILL_EXPRESSION_INVALID|ERR_WAYBILL_DEFINITION_INVALID/);
  const list = await cli(['--home', t.home, 'def', 'list', '--json']);
  assert.deepEqual((JSON.parse(list.stdout) as { definitions: unknown[] }).definitions, []);
});

test('def apply, history and diff track versions with who and when', async () => {
  const file = join(t.dir, 'people.yaml');
  await writeFile(file, def());
  const a = await cli(['--home', t.home, 'def', 'apply', file, '--json']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal((JSON.parse(a.stdout) as { seq: number }).seq, 1);
  const again = await cli(['--home', t.home, 'def', 'apply', file, '--json']);
  assert.equal((JSON.parse(again.stdout) as { changed: boolean }).changed, false);
  await writeFile(
    file,
    def({
      fields:
        '  - { name: id, from: id }\n  - { name: email, from: email, transform: redact, classification: internal }',
    }),
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
  const h = JSON.parse((await cli(['--home', t.home, 'def', 'history', 'people', '--json'])).stdout) as {
    versions: { seq: number; appliedBy: string; appliedAt: string }[];
  };
  assert.deepEqual(
    h.versions.map((v) => v.seq),
    [1, 2],
  );
  assert.equal(h.versions[0]!.appliedBy, 'admin');
  const d = JSON.parse((await cli(['--home', t.home, 'def', 'diff', 'people', '--json'])).stdout) as {
    changes: { kind: string; path: string }[];
  };
  assert.deepEqual(
    d.changes.map((c) => `${c.kind} ${c.path}`),
    ['changed fields.email.transform'],
  );
  const show = await cli(['--home', t.home, 'def', 'show', 'people', '--at', '@1']);
  assert.match(show.stdout, /mask_email/);
});

test('a source that fails mid-stream leaves nothing at the destination and a failed run with its reason', async () => {
  const dir = join(t.dir, 'broken');
  await mkdir(dir, { recursive: true });
  const lines = Array.from({ length: 5000 }, (_, i) =>
    JSON.stringify({ id: i + 1, email: `u${i}@example.com` }),
  );
  lines[4321] = '{"id": 4322, "email": ';
  await writeFile(join(dir, 'people.ndjson'), lines.join('\n') + '\n');
  await addConnection('source', 'people', 'ndjson', join(dir, 'people.ndjson'));
  const out = join(t.dir, 'out');
  const before = existsSync(out) ? await readdir(out, { recursive: true }) : [];
  const r = await cli(['--home', t.home, 'export', 'run', 'people', '--purpose', 'testing']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_SOURCE_ROW_INVALID: .*line 4322/);
  assert.ok(!r.stderr.includes('u4321'), 'no row content in the error');
  const after = existsSync(out) ? await readdir(out, { recursive: true }) : [];
  assert.deepEqual(after, before, 'nothing at the destination');
  const runs = JSON.parse((await cli(['--home', t.home, 'export', 'list', '--json'])).stdout) as {
    runs: { id: string; status: string; errorCode: string }[];
  };
  assert.equal(runs.runs[0]!.status, 'failed');
  assert.equal(runs.runs[0]!.errorCode, 'ERR_WAYBILL_SOURCE_ROW_INVALID');
  const show = JSON.parse(
    (await cli(['--home', t.home, 'export', 'show', runs.runs[0]!.id, '--json'])).stdout,
  ) as { transitions: { status: string }[] };
  assert.deepEqual(
    show.transitions.map((x) => x.status),
    ['created', 'failed'],
  );
  assert.deepEqual(await readdir(join(t.home, 'staging')), [], 'staging purged');
});

test('a purpose the definition does not allow is refused', async () => {
  const r = await cli(['--home', t.home, 'export', 'run', 'people', '--purpose', 'marketing']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_PURPOSE_NOT_ALLOWED: purpose "marketing" is not allowed/);
});

test('credentials are stored encrypted and never printed', async () => {
  const secret = 'pw-Zq9!correct-horse';
  const r = await cliProcess(
    [
      '--home',
      t.home,
      'source',
      'add',
      'warehouse',
      '--kind',
      'postgres',
      '--host',
      '/tmp',
      '--database',
      'w',
      '--user',
      'u',
      '--password-stdin',
      '--json',
    ],
    {},
    secret + '\n',
  );
  assert.equal(r.code, 0, r.stderr);
  const viaUrl = await cli([
    '--home',
    t.home,
    'source',
    'add',
    'warehouse2',
    '--kind',
    'postgres',
    '--url',
    `postgres://u:${encodeURIComponent(secret)}@localhost:5432/w`,
  ]);
  assert.equal(viaUrl.code, 0, viaUrl.stderr);
  const list = await cli(['--home', t.home, 'source', 'list', '--json']);
  assert.ok(!list.stdout.includes(secret) && !list.stdout.includes(encodeURIComponent(secret)));
  assert.match(list.stdout, /stored encrypted/);
  const db = await readFile(join(t.home, 'waybill.db'));
  assert.ok(!db.includes(Buffer.from(secret)), 'plaintext password in the store file');
  const wal = existsSync(join(t.home, 'waybill.db-wal'))
    ? await readFile(join(t.home, 'waybill.db-wal'))
    : Buffer.alloc(0);
  assert.ok(!wal.includes(Buffer.from(secret)), 'plaintext password in the WAL');
});

test('malformed connections are refused naming what is wrong, and nothing is stored', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['source', 'add', 'nofile', '--kind', 'sqlite', '--path', join(t.dir, 'missing.sqlite')],
      /ERR_WAYBILL_/,
    ],
    [
      ['destination', 'add', 'nodir', '--kind', 'directory', '--path', join(t.dir, 'no', 'such', 'dir')],
      /ERR_WAYBILL_/,
    ],
    [['source', 'add', 'Bad Name', '--kind', 'csv', '--path', 'x.csv'], /lowercase slug/],
    [['source', 'add', 'pg', '--kind', 'postgres', '--url', 'mysql://x@y/z'], /postgres:\/\//],
    [
      ['source', 'add', 'pg', '--kind', 'postgres', '--host', 'h', '--database', 'd', '--port', '99999'],
      /--port must be 1-65535/,
    ],
    [['source', 'add', 'csv', '--kind', 'csv'], /needs --path/],
  ];
  for (const [args, pattern] of cases) {
    const r = await cli(['--home', t.home, ...args]);
    assert.ok(r.code === 1 || r.code === 2, `${args.join(' ')} → ${r.code}`);
    assert.match(r.stderr, errLine);
    assert.match(r.stderr, pattern, args.join(' '));
  }
  const list = JSON.parse((await cli(['--home', t.home, 'source', 'list', '--json'])).stdout) as {
    connections: { name: string }[];
  };
  assert.ok(!list.connections.some((c) => ['nofile', 'csv', 'pg'].includes(c.name)));
});

test('a transform that fails on a row fails the run in the worker, naming field and row but not the value', async () => {
  const dir = join(t.dir, 'dates');
  await mkdir(dir, { recursive: true });
  const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i + 1, born: '1990-05-17' }));
  lines[2500] = JSON.stringify({ id: 2501, born: 'not-a-date-zz9' });
  await writeFile(join(dir, 'people2.ndjson'), lines.join('\n') + '\n');
  await addConnection('source', 'people2', 'ndjson', join(dir, 'people2.ndjson'));
  const file = join(t.dir, 'people2.yaml');
  await writeFile(
    file,
    def({
      source: '{ connection: people2, table: people2 }',
      fields:
        '  - { name: id, from: id }\n  - { name: born, from: born, transform: { type: date_truncate, unit: year }, classification: internal }',
    }).replace('name: people', 'name: people2'),
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
  const out = join(t.dir, 'out');
  const before = await readdir(out, { recursive: true });
  const r = await cli(['--home', t.home, 'export', 'run', 'people2', '--purpose', 'testing']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_TRANSFORM_FAILED: .*born.*source row 2501/);
  assert.ok(!r.stderr.includes('zz9'));
  assert.deepEqual(await readdir(out, { recursive: true }), before);
});

test('re-applying an earlier version is recorded as a revert, not refused', async () => {
  const file = join(t.dir, 'people.yaml');
  await writeFile(file, def());
  const r = await cli(['--home', t.home, 'def', 'apply', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const h = JSON.parse((await cli(['--home', t.home, 'def', 'history', 'people', '--json'])).stdout) as {
    versions: { seq: number; version: string }[];
  };
  const seqs = h.versions.map((v) => v.seq);
  assert.equal(seqs[seqs.length - 1], seqs.length);
  assert.equal(h.versions[h.versions.length - 1]!.version, h.versions[0]!.version);
  const show = await cli([
    '--home',
    t.home,
    'def',
    'show',
    'people',
    '--at',
    h.versions[0]!.version.slice(7, 19),
    '--json',
  ]);
  assert.equal(show.code, 0, show.stderr);
});

test('CSV headers that are not identifiers can be exported, and updatedAt dates become RFC 3339', async () => {
  const dir = join(t.dir, 'csvsrc');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'contacts.csv'),
    'Contact ID,First Name,Changed\r\n1,Ada,2024-03-01\r\n2,"Grace, R.",2024-03-02 10:00:00\r\n',
  );
  await addConnection('source', 'contacts', 'csv', join(dir, 'contacts.csv'));
  const file = join(t.dir, 'contacts.yaml');
  await writeFile(
    file,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: contacts
owner: team:data
purposes: [testing]
source: { connection: contacts, table: contacts, recordId: Contact ID, updatedAt: Changed }
fields:
  - { name: first_name, from: First Name, transform: { type: mask_partial, keep: first, n: 1 }, classification: internal }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P1D
`,
  );
  const a = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(a.code, 0, a.stderr);
  const r = await cli(['--home', t.home, 'export', 'run', 'contacts', '--purpose', 'testing', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const loc = (JSON.parse(r.stdout) as { location: string }).location;
  const records = (await readFile(join(loc, 'records.jsonl'), 'utf8')).trim().split('\n');
  assert.match(records[0]!, /"sourceRecordId":"1","sourceUpdatedAt":"2024-03-01T00:00:00Z"/);
  assert.match(records[1]!, /"sourceUpdatedAt":"2024-03-02T10:00:00Z"/);
  assert.equal(
    await readFile(join(loc, 'contacts.ndjson'), 'utf8'),
    '{"first_name":"A**"}\n{"first_name":"G********"}\n',
  );
  assert.equal((await cli(['--home', t.home, 'verify', loc])).code, 0);
});
