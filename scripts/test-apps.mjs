#!/usr/bin/env node
// The integration tests against the real no-code apps (`npm run test:apps`). Each app is its own small
// package under test-apps/<app>/ (pinned version + lockfile, never part of `npm ci` of the project); it is
// installed here when missing or out of date, then the `apps-*` tests run with WAYBILL_APPS=1. Timings of
// the install and of the tests are printed, so that docs/concepts.md can say what this costs.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const appsDir = join(root, 'test-apps');
const timings = [];
for (const app of readdirSync(appsDir)) {
  const dir = join(appsDir, app);
  if (!existsSync(join(dir, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const want = manifest.dependencies?.[app];
  // `waybill.ignoreScripts` + `waybill.rebuild`: for an app whose install scripts cannot run here (see its
  // package.json), skip them all and build the native modules it needs by name.
  const how = manifest.waybill ?? {};
  // Installed means every step below finished for exactly this package.json and lockfile: a stamp of
  // both is written last, so a failed rebuild or a changed lockfile installs again.
  const stampFile = join(dir, 'node_modules', '.waybill-installed');
  const stamp = createHash('sha256')
    .update(readFileSync(join(dir, 'package.json')))
    .update(readFileSync(join(dir, 'package-lock.json')))
    .digest('hex');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    console.log(`test-apps: ${app} ${want} is installed`);
    continue;
  }
  rmSync(stampFile, { force: true });
  console.log(`test-apps: installing ${app} ${want} (npm ci in test-apps/${app}; a few minutes)…`);
  const t0 = Date.now();
  const npm = (args) => {
    const r = spawnSync('npm', args, { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`test-apps: npm ${args.join(' ')} for ${app} failed (exit ${r.status})`);
      process.exit(1);
    }
  };
  npm([
    'ci',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...(how.ignoreScripts ? ['--ignore-scripts'] : []),
  ]);
  if (how.rebuild?.length) npm(['rebuild', '--loglevel=error', ...how.rebuild]);
  writeFileSync(stampFile, stamp);
  timings.push(`install ${app}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
if (process.argv.includes('--install-only')) {
  if (timings.length) console.log(`test-apps: ${timings.join(', ')}`);
  process.exit(0);
}
const t0 = Date.now();
const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), '/apps-'], {
  stdio: 'inherit',
  env: { ...process.env, WAYBILL_APPS: '1' },
});
timings.push(`tests: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(`test-apps: ${timings.join(', ')}`);
process.exit(r.status ?? 1);
