#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with Node's own test runner.
// Node 20's `node --test` takes no globs, so the files are gathered here.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
}
for (const pkg of readdirSync(join(root, 'packages'))) {
  const d = join(root, 'packages', pkg, 'dist', 'test');
  if (existsSync(d)) walk(d);
}
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  console.error('run-tests: no compiled test files found; run `tsc -b` first');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-concurrency=2', '--test-reporter=spec', ...selected],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
