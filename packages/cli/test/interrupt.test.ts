import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { binPath, cli, tempHome } from './cli-harness.js';

// An export interrupted at any point must release nothing: SIGTERM rolls back at once; a SIGKILL'ed
// run is rolled back by the next export on the same home.
let t: Awaited<ReturnType<typeof tempHome>>;
let out: string;

before(async () => {
  t = await tempHome();
  const db = new BetterSqlite3(join(t.dir, 'big.sqlite'));
  db.exec('CREATE TABLE big (id INTEGER PRIMARY KEY, email TEXT, note TEXT)');
  const ins = db.prepare('INSERT INTO big VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 400_000; i++) ins.run(i, `user${i}@example.com`, `note number ${i} `.repeat(4));
  })();
  db.close();
  out = join(t.dir, 'out');
  await mkdir(out);
  const home = ['--home', t.home];
  assert.equal((await cli([...home, 'init'])).code, 0);
  assert.equal(
    (await cli([...home, 'source', 'add', 'big', '--kind', 'sqlite', '--path', join(t.dir, 'big.sqlite')]))
      .code,
    0,
  );
  assert.equal(
    (await cli([...home, 'destination', 'add', 'out', '--kind', 'directory', '--path', out])).code,
    0,
  );
  await writeFile(
    join(t.dir, 'big.yaml'),
    `apiVersion: waybill/v1
kind: ExportDefinition
name: big
owner: team:data
purposes: [testing]
source: { connection: big, table: big }
fields:
  - { name: id, from: id }
  - { name: email, from: email, transform: mask_email, classification: internal }
  - { name: note, from: note }
destination: { connection: out, path: '{runId}' }
retention: P1D
`,
  );
  assert.equal((await cli([...home, 'def', 'apply', join(t.dir, 'big.yaml')])).code, 0);
});
after(async () => t.cleanup());

function startExport(): ReturnType<typeof spawn> {
  return spawn(
    process.execPath,
    [binPath, '--home', t.home, 'export', 'run', 'big', '--purpose', 'testing'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

async function waitForStaging(): Promise<void> {
  const staging = join(t.home, 'staging');
  for (let i = 0; i < 400; i++) {
    if (existsSync(staging) && (await readdir(staging)).length > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail('the export never started staging');
}

async function runs(): Promise<{ id: string; status: string; errorMessage: string | null }[]> {
  return (
    JSON.parse((await cli(['--home', t.home, 'export', 'list', '--json'])).stdout) as {
      runs: { id: string; status: string; errorMessage: string | null }[];
    }
  ).runs;
}

test('sigterm-mid-export-rolls-back-and-releases-nothing', async () => {
  const child = startExport();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForStaging();
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /interrupted by SIGTERM/);
  assert.deepEqual(await readdir(out), [], 'nothing at the destination');
  assert.deepEqual(await readdir(join(t.home, 'staging')), [], 'staging purged');
  assert.equal((await runs())[0]!.status, 'failed');
});

test('sigkill-mid-export-is-rolled-back-by-the-next-export', async () => {
  const child = startExport();
  await waitForStaging();
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  const killed = (await runs())[0]!;
  assert.notEqual(killed.status, 'sealed');
  assert.ok((await readdir(join(t.home, 'staging'))).length > 0, 'the killed run left its staging behind');
  // The next export on the home rolls the dead run back before starting its own.
  const next = await cli(['--home', t.home, 'export', 'run', 'big', '--purpose', 'testing', '--json']);
  assert.equal(next.code, 0, next.stderr);
  const all = await runs();
  const dead = all.find((r) => r.id === killed.id)!;
  assert.equal(dead.status, 'failed');
  assert.match(dead.errorMessage ?? '', /interrupted: the process running it \(pid \d+\) ended/);
  assert.deepEqual(await readdir(join(t.home, 'staging')), []);
  const left = await readdir(out);
  assert.equal(left.length, 1, `only the sealed export remains: ${left.join(', ')}`);
  assert.ok(!left[0]!.startsWith('.'), 'no temporary directory of the killed run');
});
