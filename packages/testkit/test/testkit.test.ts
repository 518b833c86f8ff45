import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, sharedTestdata, startPostgres, tempDir } from '../src/index.js';

test('tempDir creates an empty directory and cleanup removes it', async () => {
  const dir = await tempDir('waybill-testkit-');
  assert.ok(existsSync(dir.path));
  await dir.cleanup();
  assert.equal(existsSync(dir.path), false);
  await dir.cleanup();
});

test('repoRoot finds the workspace root and sharedTestdata sits beside it', () => {
  const manifest = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as {
    workspaces?: unknown;
  };
  assert.ok(Array.isArray(manifest.workspaces));
  assert.ok(sharedTestdata('signed-note.json').endsWith(join('shared', 'testdata', 'signed-note.json')));
});

test('startPostgres runs a cluster on a unix socket and stop removes it', async (t) => {
  const pg = await startPostgres();
  if (pg === null) {
    t.skip('no PostgreSQL binaries on this machine');
    return;
  }
  try {
    assert.ok(existsSync(join(pg.host, `.s.PGSQL.${pg.port}`)), 'the socket exists');
    assert.equal(pg.user, 'waybill');
    assert.match(pg.connectionString, /^postgresql:\/\/waybill@\/waybill_test\?host=/);
  } finally {
    await pg.stop();
  }
  assert.equal(existsSync(pg.host), false, 'stop removed the directory');
});
