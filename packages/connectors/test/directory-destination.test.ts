import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { tempDir } from '@waybill/testkit';
import type { TempDir } from '@waybill/testkit';
import type { DestinationWrite } from '@waybill/core';
import { createDirectoryDestination } from '../src/index.js';
import { isWaybillError } from './helpers.js';

const RUN = '01890a5d-ac96-774b-bcce-b302099a8057';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) {
    await new Promise((resolve) => setImmediate(resolve));
    yield Buffer.from(p);
  }
}

/** The write's `copyFrom`, which a directory destination has. */
function copier(write: DestinationWrite): (name: string, from: string) => Promise<void> {
  assert.equal(typeof write.copyFrom, 'function', 'a directory destination copies local files itself');
  return (name, from) => write.copyFrom!(name, from);
}

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('directory destination', () => {
  let sandbox: TempDir;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    sandbox = await tempDir('waybill-dest-');
    root = join(sandbox.path, 'root');
    outside = join(sandbox.path, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
  });

  afterEach(async () => {
    await sandbox.cleanup();
  });

  test('nothing is visible at the final path before commit; commit makes it appear whole', async () => {
    const destination = createDirectoryDestination({ path: root });
    assert.equal(destination.kind, 'directory');
    const write = await destination.begin('crm/2024/people', { runId: RUN });
    const final = join(root, 'crm', '2024', 'people');
    const temp = join(root, 'crm', '2024', `.people.tmp-${RUN}`);
    assert.equal(write.location, final);

    await write.writeFile('people.csv', chunks('id,name\n', '1,Zoë\n', '2,Jan\n'));
    await write.writeFile('records.jsonl', Buffer.from('{"index":0}\n'));
    await write.writeFile('nested/part-1.csv', chunks('x\n'));
    assert.equal(existsSync(final), false, 'the final path does not exist before commit');
    assert.deepEqual(tree(join(root, 'crm', '2024')), [
      `.people.tmp-${RUN}`,
      `.people.tmp-${RUN}/nested`,
      `.people.tmp-${RUN}/nested/part-1.csv`,
      `.people.tmp-${RUN}/people.csv`,
      `.people.tmp-${RUN}/records.jsonl`,
    ]);

    await write.commit();
    assert.equal(existsSync(temp), false);
    assert.deepEqual(tree(final), ['nested', 'nested/part-1.csv', 'people.csv', 'records.jsonl']);
    assert.equal(readFileSync(join(final, 'people.csv'), 'utf8'), 'id,name\n1,Zoë\n2,Jan\n');
    assert.equal(readFileSync(join(final, 'records.jsonl'), 'utf8'), '{"index":0}\n');

    await assert.rejects(
      write.writeFile('late.csv', Buffer.from('x')),
      isWaybillError('ERR_WAYBILL_CONFLICT', /committed/),
    );
    await assert.rejects(write.commit(), isWaybillError('ERR_WAYBILL_CONFLICT'));
    await assert.rejects(write.abort(), isWaybillError('ERR_WAYBILL_CONFLICT', /already committed/));
    assert.equal(existsSync(join(final, 'people.csv')), true, 'abort after commit removes nothing');
  });

  test('abort removes everything written and the final path never appears', async () => {
    const destination = createDirectoryDestination({ path: root });
    const write = await destination.begin('people', { runId: RUN });
    await write.writeFile('people.csv', chunks('a', 'b'));
    await write.abort();
    await write.abort();
    assert.deepEqual(tree(root), []);
    await assert.rejects(write.commit(), isWaybillError('ERR_WAYBILL_CONFLICT', /aborted/));
  });

  test('a failing data stream leaves nothing at the final path; abort cleans up', async () => {
    const destination = createDirectoryDestination({ path: root });
    const write = await destination.begin('people', { runId: RUN });
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* chunks('partial');
      throw new Error('upstream broke');
    }
    await assert.rejects(write.writeFile('people.csv', failing()), /upstream broke/);
    assert.equal(existsSync(join(root, 'people')), false);
    await write.abort();
    assert.deepEqual(tree(root), []);
  });

  test('path-traversal-outside-destination-root-is-refused', async () => {
    const destination = createDirectoryDestination({ path: root });
    const attacks = [
      '../outside/stolen',
      'a/../../outside/stolen',
      '..',
      'a/..',
      '/etc/waybill',
      join(outside, 'stolen'),
      'a\\..\\..\\outside',
      'C:/windows',
      'a/./b',
      'a//b',
      'trailing/',
      '',
      'nul\0byte',
    ];
    for (const path of attacks) {
      await assert.rejects(
        destination.begin(path, { runId: RUN }),
        isWaybillError('ERR_WAYBILL_INVALID_INPUT'),
        path,
      );
    }
    // A file name inside an export cannot climb out either.
    const write = await destination.begin('export', { runId: RUN });
    for (const name of [
      '../escape.csv',
      '../../outside/escape.csv',
      '/tmp/escape.csv',
      'a/../../escape.csv',
      '',
    ]) {
      await assert.rejects(
        write.writeFile(name, Buffer.from('x')),
        isWaybillError('ERR_WAYBILL_INVALID_INPUT'),
        name,
      );
    }
    await write.abort();
    // A run id becomes part of a file name, so it is checked too.
    await assert.rejects(
      destination.begin('export', { runId: '../../outside' }),
      isWaybillError('ERR_WAYBILL_INVALID_INPUT'),
    );
    assert.deepEqual(tree(outside), []);
    assert.deepEqual(tree(root), []);
    assert.deepEqual(readdirSync(sandbox.path).sort(), ['outside', 'root']);
  });

  test('symlink-inside-root-cannot-redirect-an-export-outside', async () => {
    symlinkSync(outside, join(root, 'link'));
    const destination = createDirectoryDestination({ path: root });
    await assert.rejects(
      destination.begin('link/export', { runId: RUN }),
      isWaybillError('ERR_WAYBILL_INVALID_INPUT', /not a plain directory/),
    );
    await assert.rejects(
      destination.begin('link/deeper/export', { runId: RUN }),
      isWaybillError('ERR_WAYBILL_INVALID_INPUT'),
    );
    assert.deepEqual(tree(outside), []);
  });

  test('a root that is itself a symlink is followed once, as configured', async () => {
    const link = join(sandbox.path, 'root-link');
    symlinkSync(root, link);
    const write = await createDirectoryDestination({ path: link }).begin('e', { runId: RUN });
    await write.writeFile('f.txt', Buffer.from('ok'));
    await write.commit();
    assert.equal(readFileSync(join(root, 'e', 'f.txt'), 'utf8'), 'ok');
  });

  test('an existing target is ERR_WAYBILL_CONFLICT and is never touched', async () => {
    mkdirSync(join(root, 'taken'));
    const destination = createDirectoryDestination({ path: root });
    await assert.rejects(
      destination.begin('taken', { runId: RUN }),
      isWaybillError('ERR_WAYBILL_CONFLICT', /already exists/),
    );
    assert.deepEqual(tree(root), ['taken']);

    // The target appearing during the write is caught at commit: rename(2) would replace an empty directory.
    const write = await destination.begin('racy', { runId: RUN });
    await write.writeFile('a.csv', Buffer.from('a'));
    mkdirSync(join(root, 'racy'));
    await assert.rejects(write.commit(), isWaybillError('ERR_WAYBILL_CONFLICT', /appeared/));
    assert.deepEqual(tree(join(root, 'racy')), []);
    await write.abort();
  });

  test('a file written twice is ERR_WAYBILL_CONFLICT', async () => {
    const write = await createDirectoryDestination({ path: root }).begin('export', { runId: RUN });
    await write.writeFile('a.csv', Buffer.from('1'));
    await assert.rejects(write.writeFile('a.csv', Buffer.from('2')), isWaybillError('ERR_WAYBILL_CONFLICT'));
    await write.abort();
  });

  test('copyFrom gives the same file as writeFile of its bytes: same content, same mode, no overwrite', async () => {
    const staged = join(outside, 'staged.csv');
    const bytes = Buffer.from('id,name\r\n1,Zoë\r\n'.repeat(50_000));
    writeFileSync(staged, bytes, { mode: 0o600 });
    const write = await createDirectoryDestination({ path: root }).begin('export', { runId: RUN });
    const copyFrom = copier(write);
    await copyFrom('copied.csv', staged);
    await write.writeFile('streamed.csv', bytes);
    await assert.rejects(copyFrom('copied.csv', staged), isWaybillError('ERR_WAYBILL_CONFLICT'));
    await assert.rejects(copyFrom('streamed.csv', staged), isWaybillError('ERR_WAYBILL_CONFLICT'));
    await write.commit();
    const final = join(root, 'export');
    assert.deepEqual(readFileSync(join(final, 'copied.csv')), bytes);
    assert.deepEqual(readFileSync(join(final, 'streamed.csv')), bytes);
    // The mode a new file gets (umask), not the private mode of the staged file.
    assert.equal(statSync(join(final, 'copied.csv')).mode, statSync(join(final, 'streamed.csv')).mode);
    assert.equal(statSync(staged).mode & 0o777, 0o600);
  });

  test('copyFrom of a missing file fails and leaves nothing at the final path', async () => {
    const write = await createDirectoryDestination({ path: root }).begin('export', { runId: RUN });
    await assert.rejects(
      copier(write)('a.csv', join(outside, 'missing.csv')),
      isWaybillError('ERR_WAYBILL_DESTINATION_FAILED'),
    );
    await write.abort();
    assert.deepEqual(tree(root), []);
  });

  test('beginning again with the same run id replaces that run’s leftover temporary directory', async () => {
    const destination = createDirectoryDestination({ path: root });
    const crashed = await destination.begin('export', { runId: RUN });
    await crashed.writeFile('half.csv', Buffer.from('half'));
    const resumed = await destination.begin('export', { runId: RUN });
    await resumed.writeFile('full.csv', Buffer.from('full'));
    await resumed.commit();
    assert.deepEqual(tree(join(root, 'export')), ['full.csv']);
  });

  test('a missing root is ERR_WAYBILL_NOT_FOUND', async () => {
    const destination = createDirectoryDestination({ path: join(sandbox.path, 'nope') });
    await assert.rejects(
      destination.begin('export', { runId: RUN }),
      isWaybillError('ERR_WAYBILL_NOT_FOUND', /create it first/),
    );
    assert.equal(existsSync(join(sandbox.path, 'nope')), false);
  });

  test('an aborted signal stops a write', async () => {
    const controller = new AbortController();
    const write = await createDirectoryDestination({ path: root }).begin('export', {
      runId: RUN,
      signal: controller.signal,
    });
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield* chunks('first');
      controller.abort();
      yield* chunks('second');
    }
    await assert.rejects(write.writeFile('a.csv', slow()), { name: 'AbortError' });
    await write.abort();
    assert.deepEqual(tree(root), []);
  });
});

describe('directory destination: discard after a crash', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir('waybill-discard-');
  });
  afterEach(async () => dir.cleanup());

  test('discard removes the temporary directory of a run that never committed, and nothing else', async () => {
    const root = dir.path;
    const destination = createDirectoryDestination({ path: root });
    // A run that died mid-delivery: begun, written, never committed nor aborted.
    const crashed = await destination.begin('exports/a', { runId: RUN });
    await crashed.writeFile('payload.csv', Buffer.from('x\r\n'));
    // Another run that completed.
    const other = '01890a5d-ac96-774b-bcce-b302099a8058';
    const done = await destination.begin('exports/b', { runId: other });
    await done.writeFile('payload.csv', Buffer.from('y\r\n'));
    await done.commit();
    assert.ok(readdirSync(join(root, 'exports')).some((n) => n.includes('.tmp-')));
    await destination.discard('exports/a', { runId: RUN });
    await destination.discard('exports/b', { runId: other });
    assert.deepEqual(readdirSync(join(root, 'exports')).sort(), ['b']);
    assert.equal(readFileSync(join(root, 'exports', 'b', 'payload.csv'), 'utf8'), 'y\r\n');
    // Discarding outside the root is a no-op, never a deletion elsewhere.
    await assert.rejects(destination.discard('../outside', { runId: RUN }));
  });
});
