// docs/benchmarks.md is shared by every benchmark in bench/: a common header, then one section per
// benchmark between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`. Each script rewrites only
// its own section (appending it when absent), so running one benchmark keeps the others' figures.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchmarksFile = join(fileURLToPath(new URL('..', import.meta.url)), 'docs', 'benchmarks.md');

const HEADER = [
  '# Benchmarks',
  '',
  'Produced by `npm run bench` (bench/run.mjs, which runs every benchmark in bench/; `node bench/run.mjs audit`',
  'or `BENCH_ONLY=export npm run bench` runs one). Each benchmark rewrites only its own section below; every',
  'figure in a section comes from one run of its script, with its baseline measured side by side in the same',
  'run. Not a CI test: run it on a quiet machine.',
  '',
].join('\n');

/** Replaces the section `name` of docs/benchmarks.md with `body` (appends it when absent). */
export function writeSection(name, body, file = benchmarksFile) {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n\n${body.trim()}\n\n${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (!text.startsWith('# Benchmarks')) text = `${HEADER}\n${text}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}
