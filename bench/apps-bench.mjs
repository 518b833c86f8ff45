#!/usr/bin/env node
// Benchmark of the no-code apps issue: export 10,000 records from a real local Directus and NocoDB (the
// pinned versions of test-apps/, installed by `npm run test:apps`; on SQLite, behind a TLS proxy), side
// by side in the same run with a plain script that pages the same records through the app's API
// (bench/apps-plain-pager.mjs) and with the app's own CSV export. Writes its section of docs/benchmarks.md.
//
//   node bench/run.mjs apps            # after `npm run test:apps` (or it installs the apps first)
//   BENCH_APP_ROWS=2000 BENCH_APP_BIG_ROWS=4000 BENCH_PAIRS=3 node bench/run.mjs apps
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedApp, setupNocodb, startDirectus, startNocodb } from '@waybill/testkit';
import { writeSection } from './benchmarks-md.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/cli/bin/waybill.js');
const pager = join(root, 'bench/apps-plain-pager.mjs');
const ROWS = Number(process.env.BENCH_APP_ROWS ?? 10_000);
// A larger Directus table, to show which part of Waybill's time is fixed and which grows with records.
const BIG_ROWS = Number(process.env.BENCH_APP_BIG_ROWS ?? 50_000);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const work = join(tmpdir(), `waybill-apps-bench-${process.pid}`);
mkdirSync(work, { recursive: true });

function log(...a) {
  process.stderr.write(`[bench:apps] ${a.join(' ')}\n`);
}

if (!installedApp('directus') || !installedApp('nocodb')) {
  log('installing the pinned apps first (node scripts/test-apps.mjs --install-only)');
  const r = spawnSync(process.execPath, [join(root, 'scripts/test-apps.mjs'), '--install-only'], {
    stdio: 'inherit',
  });
  if (r.status !== 0) log('*** installing the apps failed: measuring those that are installed ***');
}

/** Runs a command under GNU time, asynchronously (the apps' TLS proxies live in this process's event loop): wall seconds and peak RSS (MiB). */
async function timedAsync(cmd, args, env = {}) {
  const { spawn } = await import('node:child_process');
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const c = spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}`));
      const lines = stderr.trim().split('\n');
      resolve({ secs, rssMiB: Number(lines[lines.length - 1]) / 1024, stdout });
    });
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const waybill = async (home, args, env = {}) =>
  (await timedAsync(process.execPath, [bin, '--home', home, ...args], env)).stdout;

const customer = (i) => ({
  name: `Customer ${i}`,
  email: `customer${i}@example${i % 7}.org`,
  phone: `+1 555 ${String(i).padStart(7, '0')}`,
  country: ['US', 'CA', 'GB', 'DE', 'FR'][i % 5],
  price: ((i * 37) % 10_000) / 100,
  notes: i % 10 === 0 ? `call back at customer${i}@mail.example.net` : `note ${i}`,
});

async function setupHome(name, app, kind, extraArgs, tokenEnv) {
  const home = join(work, name);
  rmSync(home, { recursive: true, force: true });
  const out = join(work, `${name}-out`);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(work, `${name}-ca.crt`), app.ca);
  const { adminKey } = JSON.parse(await waybill(home, ['init', '--json']));
  await waybill(home, ['destination', 'add', 'out', '--kind', 'directory', '--path', out]);
  await waybill(home, ['egress', 'allow', new URL(app.url).host, '--private']);
  await waybill(home, [
    'source',
    'add',
    'app',
    '--kind',
    kind,
    '--api-url',
    app.url,
    ...extraArgs,
    '--ca',
    join(work, `${name}-ca.crt`),
    '--password-env',
    tokenEnv,
  ]);
  return { home, adminKey };
}

/**
 * `waybill serve` on the home, warm: one export through the HTTP API is POST /v1/exports (the policy
 * approves it), POST /v1/exports/{id}/run, then GET /v1/exports/{id} every 5 ms until the run is sealed.
 */
async function startServer(home, adminKey, env) {
  const { spawn } = await import('node:child_process');
  const child = spawn(bin, ['--home', home, 'serve', '--port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`waybill serve exited (${code}): ${err}`)));
  });
  const call = async (method, path, body, token) => {
    const r = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const { accessToken } = await call('POST', '/v1/auth/token', { apiKey: adminKey });
  return {
    async exportOnce() {
      const t0 = process.hrtime.bigint();
      const req = await call(
        'POST',
        '/v1/exports',
        { definition: 'bench-app', purpose: 'benchmark' },
        accessToken,
      );
      if (req.status !== 'approved')
        throw new Error(`the export is ${req.status}: ${JSON.stringify(req.reasons)}`);
      await call('POST', `/v1/exports/${req.id}/run`, undefined, accessToken);
      for (;;) {
        const v = await call('GET', `/v1/exports/${req.id}`, undefined, accessToken);
        if (v.waybill?.status === 'sealed') {
          const secs = Number(process.hrtime.bigint() - t0) / 1e9;
          rmSync(v.waybill.location, { recursive: true, force: true });
          return { secs, rows: v.waybill.rows };
        }
        if (v.status === 'failed' || v.waybill?.status === 'failed')
          throw new Error(`the run failed: ${JSON.stringify(v)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

const definition = (table, recordId, updatedAt, cols) => `apiVersion: waybill/v1
kind: ExportDefinition
name: bench-app
owner: team:bench
purposes: [benchmark]
source: { connection: app, table: ${table}, recordId: ${recordId}, updatedAt: ${updatedAt} }
fields:
  - { name: id, from: ${cols.id}, classification: internal }
  - { name: name, from: ${cols.name}, classification: internal }
  - { name: email, from: ${cols.email}, transform: mask_email, classification: internal }
  - { name: phone, from: ${cols.phone}, transform: { type: mask_partial, keep: last, n: 4 }, classification: internal }
  - { name: country, from: ${cols.country}, classification: internal }
  - { name: price, from: ${cols.price}, classification: internal }
  - { name: notes, from: ${cols.notes}, transform: scan_and_apply, classification: internal }
destination: { connection: out, path: '{name}/{runId}' }
format: csv
retention: P1D
`;

/**
 * Writes and applies the benchmark definition for an app's table; returns the fields the plain paging
 * script asks for (the record id, the update time, then the exported columns), the same data.
 */
async function applyBenchDefinition(app, home, env, table, recordId, updatedAt, cols) {
  const file = join(work, `${app}.yaml`);
  writeFileSync(file, definition(table, recordId, updatedAt, cols));
  await waybill(home.home, ['def', 'apply', file], env);
  const { name, email, phone, country, price, notes } = cols;
  return [recordId, updatedAt, name, email, phone, country, price, notes].join(',');
}

async function measure(label, { home, adminKey }, env, plainArgs, csvArgs, expected = ROWS, pairs = PAIRS) {
  const rows = [];
  const server = await startServer(home, adminKey, env);
  // A warm-up run: the first compiles the policy set and opens the connection to the app.
  await server.exportOnce();
  for (let i = 0; i < pairs; i++) {
    const plainOut = join(work, `${label}-plain.ndjson`);
    const plain = await timedAsync(process.execPath, [pager, ...plainArgs(plainOut)], env);
    const plainRecords = JSON.parse(plain.stdout).records;
    // The waybill command itself, as users run it (its shebang sets the runtime's flags).
    const w = await timedAsync(
      bin,
      ['--home', home, 'export', 'run', 'bench-app', '--purpose', 'benchmark', '--json'],
      env,
    );
    const out = JSON.parse(w.stdout);
    if (out.counts.written !== expected || plainRecords !== expected)
      throw new Error(
        `${label}: waybill wrote ${out.counts.written}, the plain script ${plainRecords}; expected ${expected}`,
      );
    rmSync(out.location, { recursive: true, force: true });
    let csv = null;
    if (csvArgs) {
      const csvOut = join(work, `${label}-app.csv`);
      csv = await timedAsync(process.execPath, [pager, ...csvArgs(csvOut)], env);
      const lines = readFileSync(csvOut, 'utf8').trim().split('\n').length;
      if (lines < expected) throw new Error(`${label}: the app's CSV export has ${lines} lines`);
    }
    const served = await server.exportOnce();
    if (served.rows !== expected) throw new Error(`${label}: waybill serve wrote ${served.rows}`);
    rows.push({
      plain: plain.secs,
      waybill: w.secs,
      served: served.secs,
      rss: w.rssMiB,
      csv: csv?.secs ?? null,
    });
    log(
      `${label} pair ${i + 1}: plain ${plain.secs.toFixed(2)} s, waybill serve ${served.secs.toFixed(2)} s, waybill CLI ${w.secs.toFixed(2)} s${csv ? `, app CSV ${csv.secs.toFixed(2)} s` : ''}`,
    );
  }
  await server.stop();
  return rows;
}

const results = {
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
};

// Directus
if (!installedApp('directus')) log('*** SKIPPING Directus: not installed under test-apps/directus ***');
else {
  const app = await startDirectus();
  try {
    log(`directus ${app.version} up in ${app.startMs} ms; seeding ${ROWS} items`);
    const H = { authorization: `Bearer ${app.token}`, 'content-type': 'application/json' };
    const post = async (p, b) => {
      const r = await fetch(app.httpUrl + p, { method: 'POST', headers: H, body: JSON.stringify(b) });
      if (!r.ok) throw new Error(`directus POST ${p}: ${r.status} ${await r.text()}`);
    };
    await post('/collections', {
      collection: 'customers',
      schema: {},
      meta: {},
      fields: [
        { field: 'id', type: 'integer', schema: { is_primary_key: true, has_auto_increment: true } },
        { field: 'name', type: 'string' },
        { field: 'email', type: 'string' },
        { field: 'phone', type: 'string' },
        { field: 'country', type: 'string' },
        { field: 'price', type: 'float' },
        { field: 'notes', type: 'text' },
        { field: 'date_updated', type: 'timestamp', meta: { special: ['date-created', 'date-updated'] } },
      ],
    });
    for (let i = 0; i < ROWS; i += 1000)
      await post(
        '/items/customers',
        Array.from({ length: Math.min(1000, ROWS - i) }, (_x, k) => customer(i + k)),
      );
    const home = await setupHome('directus', app, 'directus', [], 'APP_TOKEN');
    const env = { APP_TOKEN: app.token, NODE_EXTRA_CA_CERTS: join(work, 'directus-ca.crt') };
    const fields = await applyBenchDefinition('directus', home, env, 'customers', 'id', 'date_updated', {
      id: 'id',
      name: 'name',
      email: 'email',
      phone: 'phone',
      country: 'country',
      price: 'price',
      notes: 'notes',
    });
    results.directus = {
      version: app.version,
      rows: await measure(
        'directus',
        home,
        env,
        (o) => ['directus', app.url, 'customers', fields, o],
        (o) => ['directus-csv', app.url, 'customers', fields, o],
      ),
    };
    if (BIG_ROWS > ROWS) {
      log(`directus: seeding up to ${BIG_ROWS} items`);
      for (let i = ROWS; i < BIG_ROWS; i += 1000)
        await post(
          '/items/customers',
          Array.from({ length: Math.min(1000, BIG_ROWS - i) }, (_x, k) => customer(i + k)),
        );
      results.directusBig = {
        version: app.version,
        count: BIG_ROWS,
        rows: await measure(
          'directus-big',
          home,
          env,
          (o) => ['directus', app.url, 'customers', fields, o],
          (o) => ['directus-csv', app.url, 'customers', fields, o],
          BIG_ROWS,
          Math.min(PAIRS, 3),
        ),
      };
    }
  } finally {
    await app.stop();
  }
}

// NocoDB
if (!installedApp('nocodb')) log('*** SKIPPING NocoDB: not installed under test-apps/nocodb ***');
else {
  const app = await startNocodb();
  try {
    log(`nocodb ${app.version} up in ${app.startMs} ms; seeding ${ROWS} records`);
    const noco = await setupNocodb(app);
    const table = await noco.api('POST', `/api/v2/meta/bases/${noco.baseId}/tables`, {
      title: 'Customers',
      columns: [
        { column_name: 'id', title: 'Id', uidt: 'ID' },
        { column_name: 'name', title: 'Name', uidt: 'SingleLineText', pv: true },
        { column_name: 'email', title: 'Email', uidt: 'Email' },
        { column_name: 'phone', title: 'Phone', uidt: 'PhoneNumber' },
        { column_name: 'country', title: 'Country', uidt: 'SingleLineText' },
        { column_name: 'price', title: 'Price', uidt: 'Decimal' },
        { column_name: 'notes', title: 'Notes', uidt: 'LongText' },
      ],
    });
    for (let i = 0; i < ROWS; i += 1000) {
      const page = Array.from({ length: Math.min(1000, ROWS - i) }, (_x, k) => {
        const c = customer(i + k);
        return {
          Name: c.name,
          Email: c.email,
          Phone: c.phone,
          Country: c.country,
          Price: c.price,
          Notes: c.notes,
        };
      });
      await noco.api('POST', `/api/v2/tables/${table.id}/records`, page);
    }
    const seeded = { baseId: noco.baseId, tableId: table.id, apiToken: noco.token };
    const home = await setupHome('nocodb', app, 'nocodb', ['--base', seeded.baseId], 'APP_TOKEN');
    const env = { APP_TOKEN: seeded.apiToken, NODE_EXTRA_CA_CERTS: join(work, 'nocodb-ca.crt') };
    const fields = await applyBenchDefinition('nocodb', home, env, 'Customers', 'Id', 'UpdatedAt', {
      id: 'Id',
      name: 'Name',
      email: 'Email',
      phone: 'Phone',
      country: 'Country',
      price: 'Price',
      notes: 'Notes',
    });
    results.nocodb = {
      version: app.version,
      rows: await measure(
        'nocodb',
        home,
        env,
        (o) => ['nocodb', app.url, seeded.tableId, fields, o],
        (o) => ['nocodb-csv', app.url, `${seeded.baseId}/${seeded.tableId}`, '-', o],
      ),
    };
  } finally {
    await app.stop();
  }
}

const fmt = (x) => x.toFixed(2);
const section = (name, r) => {
  if (!r)
    return `### ${name}\n\nNot measured in this run: the app is not installed (\`npm run test:apps\` installs it).`;
  const cli = median(r.rows.map((x) => x.waybill / x.plain));
  const served = median(r.rows.map((x) => x.served / x.plain));
  return [
    `### ${name} ${r.version}: ${(r.count ?? ROWS).toLocaleString('en-US')} records`,
    '',
    `| pair | plain paging script (s) | waybill serve (s) | ratio | waybill CLI, fresh process (s) | ratio | CLI peak RSS (MiB) | app's CSV export (s) |`,
    '|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x, i) =>
        `| ${i + 1} | ${fmt(x.plain)} | ${fmt(x.served)} | ${fmt(x.served / x.plain)} | ${fmt(x.waybill)} | ${fmt(x.waybill / x.plain)} | ${x.rss.toFixed(0)} | ${x.csv === null ? '—' : fmt(x.csv)} |`,
    ),
    '',
    `**Median ratio Waybill / plain paging script: ${fmt(served)} through \`waybill serve\`, ${fmt(cli)} as a fresh CLI process** (target ≤ 1.3). The app's own CSV export: median ${fmt(median(r.rows.map((x) => x.csv)))} s.`,
  ].join('\n');
};

writeSection(
  'apps',
  [
    `Machine: ${results.machine}. Date: ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '## Export of 10,000 records from the real apps (Directus, NocoDB) on this machine',
    '',
    'Each app runs locally on SQLite (the pinned version of `test-apps/`), behind a local TLS proxy, seeded with',
    `${ROWS.toLocaleString('en-US')} customer records through its own API. Waybill exports them with a definition of 7 fields,`,
    '3 of them masked (request, policy, paging through the API, transforms, CSV, per-record digests, Merkle root,',
    'staging with fsync, delivery, lineage, DSSE signature, audit), two ways: through a warm `waybill serve` (HTTP',
    'API: request, run, then poll every 5 ms until sealed), which is how a team runs Waybill; and as a fresh',
    '`waybill export run` process, which adds the fixed cost of starting one (loading the modules, opening the',
    'store, compiling the policy set). The baseline is bench/apps-plain-pager.mjs, a fresh Node process that pages',
    'the same fields through the same API, 1000 records a page, with the same token, and writes each record as a',
    "line of JSON; beside it, the app's own CSV export of the table.",
    '',
    section('Directus', results.directus),
    '',
    section('NocoDB', results.nocodb),
    ...(results.directusBig
      ? [
          '',
          section('Directus', results.directusBig),
          '',
          `The same export at ${(BIG_ROWS / ROWS).toLocaleString('en-US')} times the records: the fresh process adds the same fixed start-up cost, so its`,
          'ratio falls as tables grow, while the paging itself keeps pace with the plain script.',
        ]
      : []),
  ].join('\n'),
);
rmSync(work, { recursive: true, force: true });
log('wrote docs/benchmarks.md (section apps)');
