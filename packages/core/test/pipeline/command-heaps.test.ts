import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// V8 flags are process-wide, so each case runs in a process of its own: it starts the pipeline's worker
// pool, keeps allocating on the main thread with a steady share of survivors (what a long export does),
// and prints the main thread's young generation size.
function youngGeneration(fix: boolean, rowsOnMainThread = false): { before: number; after: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { useCommandHeaps, mainThreadBuildsRows } from ${JSON.stringify(new URL('../../src/pipeline/command-heaps.js', import.meta.url).href)};
    import { WorkerPool } from ${JSON.stringify(new URL('../../src/pipeline/worker-pool.js', import.meta.url).href)};
    const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    if (${fix}) useCommandHeaps();
    const before = size();
    const pool = new WorkerPool(2);
    await pool.online;
    if (${rowsOnMainThread}) mainThreadBuildsRows();
    const keep = [];
    for (let i = 0; i < 3e6; i++) {
      keep.push({ i, s: 'row ' + i });
      if (keep.length > 20000) keep.length = 0;
    }
    await pool.close();
    console.log(JSON.stringify({ before, after: size() }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { before: number; after: number };
}

test('a command that uses lean heaps keeps its main thread young generation after worker threads start', () => {
  // Starting a worker configures a new isolate, which sets V8's growth factor back to 2; the pool sets it
  // back to 1 once its threads are online.
  const fixed = youngGeneration(true);
  assert.equal(fixed.after, fixed.before, 'the young generation grew');
  // The same work without the fix grows it (so the check above can fail).
  const grown = youngGeneration(false);
  assert.ok(grown.after >= 4 * grown.before, `without the fix: ${JSON.stringify(grown)}`);
});

test('when the source builds rows on the main thread, its young generation grows again', () => {
  // Batches of rows built on the main thread outlive a small young generation (they would be promoted).
  const grows = youngGeneration(true, true);
  assert.ok(grows.after >= 4 * grows.before, JSON.stringify(grows));
});
