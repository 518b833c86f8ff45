// The installed command runs through its shebang (`npx waybill`, node_modules/.bin/waybill), not through
// `node bin/waybill.js` as the other tests start it: this runs the file itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { binPath } from './cli-harness.js';

test('the waybill command runs as an executable through its shebang', async () => {
  const first = (await readFile(binPath, 'utf8')).split('\n')[0];
  // Portable: `env -S` is missing from BusyBox (Alpine), so the shebang takes no arguments.
  assert.equal(first, '#!/usr/bin/env node');
  const { stdout } = await promisify(execFile)(binPath, ['--version']);
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(stdout.trim(), pkg.version);
});
