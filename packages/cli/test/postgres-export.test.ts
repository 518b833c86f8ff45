import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PgCluster } from '@waybill/testkit';
import { cli, tempHome } from './cli-harness.js';

// A whole governed export from a real PostgreSQL (throwaway cluster), through the CLI, with a password
// that must never surface anywhere.
let cluster: PgCluster | null = null;
let t: Awaited<ReturnType<typeof tempHome>>;
const PASSWORD = 'pg-Secret-4f1e!x';

before(async () => {
  t = await tempHome();
  cluster = await startPostgres({ database: 'crm', roleAuth: 'scram-sha-256' });
  if (!cluster) return;
  const admin = new pg.Client({ connectionString: cluster.connectionString });
  await admin.connect();
  await admin.query(`
    CREATE ROLE exporter LOGIN PASSWORD '${PASSWORD}';
    CREATE TABLE customers (id bigint PRIMARY KEY, email text, country text, ltv numeric(12,2), note text);
    INSERT INTO customers SELECT g, 'user' || g || '@example.com', (ARRAY['US','CA','DE'])[1 + g % 3], g * 1.25,
      CASE WHEN g % 5 = 0 THEN E'multi\\nline, "quoted"' END FROM generate_series(1, 12000) g;
    GRANT SELECT ON customers TO exporter;`);
  await admin.end();
});
after(async () => {
  await cluster?.stop();
  await t.cleanup();
});

test('export from PostgreSQL with an encrypted password: rows, masking, verification, no secret anywhere', async (tc) => {
  if (!cluster) {
    tc.skip('no PostgreSQL binaries on this machine');
    return;
  }
  const home = ['--home', t.home];
  assert.equal((await cli([...home, 'init'])).code, 0);
  const add = await cli([
    ...home,
    'source',
    'add',
    'crm',
    '--kind',
    'postgres',
    '--host',
    cluster.host,
    '--port',
    String(cluster.port),
    '--database',
    cluster.database,
    '--user',
    'exporter',
    '--password-env',
    'CRM_PW',
  ]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(
    (await cli([...home, 'destination', 'add', 'out', '--kind', 'directory', '--path', t.dir])).code,
    0,
  );
  assert.equal((await cli([...home, 'keys', 'create-hmac', 'crm'])).code, 0);
  const def = join(t.dir, 'def.yaml');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    def,
    `apiVersion: waybill/v1
kind: ExportDefinition
name: pg-customers
owner: team:data
purposes: [analytics]
source: { connection: crm, table: customers }
filter: 'country != "DE"'
fields:
  - { name: id, from: id, type: integer }
  - { name: email, from: email, transform: { type: hash_keyed, key: crm }, classification: internal }
  - { name: country, from: country }
  - { name: ltv_band, from: ltv, transform: { type: bucket, boundaries: [1000, 10000] } }
  - { name: note, from: note }
destination: { connection: out, path: 'exports/{runId}' }
format: csv
retention: P30D
`,
  );
  const missing = await cli([...home, 'def', 'apply', def]);
  assert.equal(missing.code, 1, 'the password variable is not set yet');
  assert.match(missing.stderr, /ERR_WAYBILL_SECRET_UNAVAILABLE: .*\$CRM_PW/);
  const env = { CRM_PW: PASSWORD };
  const applied = await cli([...home, 'def', 'apply', def], env);
  assert.equal(applied.code, 0, applied.stderr);
  const run = await cli([...home, 'export', 'run', 'pg-customers', '--purpose', 'analytics', '--json'], env);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as {
    runId: string;
    location: string;
    counts: { read: number; filtered: number; written: number };
  };
  assert.deepEqual(out.counts, { read: 12000, filtered: 4000, written: 8000 });
  const csv = await readFile(join(out.location, 'pg-customers.csv'), 'utf8');
  assert.ok(csv.startsWith('id,email,country,ltv_band,note\r\n'));
  assert.ok(
    csv.includes('"multi\nline, ""quoted"""'),
    'RFC 4180 quoting of embedded newline, comma and quotes',
  );
  assert.ok(!csv.includes('@example.com'), 'emails are pseudonymized');
  const verify = await cli([...home, 'verify', out.location, '--json']);
  assert.equal(verify.code, 0, verify.stdout);
  // The password is nowhere: not in outputs, not in the export, not in the store.
  const everything = [
    add.stdout,
    add.stderr,
    run.stdout,
    run.stderr,
    verify.stdout,
    (await cli([...home, 'source', 'list', '--json'])).stdout,
  ];
  for (const f of await readdir(out.location)) everything.push(await readFile(join(out.location, f), 'utf8'));
  for (const text of everything) assert.ok(!text.includes(PASSWORD), 'password leaked');
  const db = await readFile(join(t.home, 'waybill.db'));
  assert.ok(!db.includes(Buffer.from(PASSWORD)));
  // A wrong password fails the run with a clear error that does not echo it.
  const wrong = await cli([...home, 'export', 'run', 'pg-customers', '--purpose', 'analytics'], {
    CRM_PW: 'nope-wrong-pw',
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /ERR_WAYBILL_SOURCE_FAILED/);
  assert.ok(!wrong.stderr.includes('nope-wrong-pw'));
});

test('the whole demo runs on a PostgreSQL store (init --store), and the URL password is kept encrypted', async (tc) => {
  if (!cluster) {
    tc.skip('no PostgreSQL binaries on this machine');
    return;
  }
  const admin = new pg.Client({ connectionString: cluster.connectionString });
  await admin.connect();
  await admin.query(`CREATE ROLE storeowner LOGIN PASSWORD '${PASSWORD}'`);
  await admin.query('CREATE DATABASE waybill_store OWNER storeowner');
  await admin.end();
  const home = join(t.dir, 'pg-home');
  const url = `postgresql://storeowner:${encodeURIComponent(PASSWORD)}@/waybill_store?host=${encodeURIComponent(cluster.host)}&port=${cluster.port}`;
  const init = await cli(['--home', home, 'init', '--store', url, '--json']);
  assert.equal(init.code, 0, init.stderr);
  const config = await readFile(join(home, 'config.json'), 'utf8');
  assert.ok(
    !config.includes(PASSWORD) && !config.includes(encodeURIComponent(PASSWORD)),
    'password in config.json',
  );
  const demo = await cli(['--home', home, 'demo', '--json', '--customers', '600', '--orders', '900']);
  assert.equal(demo.code, 0, demo.stderr);
  assert.equal((JSON.parse(demo.stdout) as { verified: boolean }).verified, true);
  const history = await cli(['--home', home, 'def', 'history', 'customers-marketing', '--json']);
  assert.equal((JSON.parse(history.stdout) as { versions: unknown[] }).versions.length, 1);
  // A store that cannot be reached leaves no half-made home behind.
  const bad = join(t.dir, 'bad-home');
  const r = await cli([
    '--home',
    bad,
    'init',
    '--store',
    `postgresql://nobody@/nodb?host=${encodeURIComponent(cluster.host)}&port=1`,
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_STORE_FAILED/);
  const { existsSync } = await import('node:fs');
  assert.equal(existsSync(bad), false);
});
