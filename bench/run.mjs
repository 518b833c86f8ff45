#!/usr/bin/env node
// `npm run bench`: every benchmark in bench/, one after the other, each in a process of its own. Each
// writes only its own section of docs/benchmarks.md.
//
//   npm run bench                     # all of them
//   node bench/run.mjs audit          # one (after `npx tsc -b`); or BENCH_ONLY=audit npm run bench
//   node bench/run.mjs export audit   # several, in that order (BENCH_ONLY=export,audit)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = {
  export: 'export-bench.mjs',
  audit: 'audit-bench.mjs',
  api: 'api-bench.mjs',
  detectors: 'detectors-bench.mjs',
  apps: 'apps-bench.mjs',
};

const asked = process.argv.slice(2).join(',') || process.env.BENCH_ONLY || Object.keys(BENCHMARKS).join(',');
const names = asked
  .split(/[\s,]+/)
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  process.stderr.write(
    `bench/run.mjs: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of names) {
  process.stderr.write(`[bench] === ${name} (bench/${BENCHMARKS[name]}) ===\n`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(BENCHMARKS[name], import.meta.url))], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    process.stderr.write(`[bench] ${name} failed (${r.signal ?? `exit ${r.status}`})\n`);
    process.exit(r.status || 1);
  }
}
