import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@waybill/testkit';
import type { TempDir } from '@waybill/testkit';
import { createNdjsonSource } from '../src/index.js';
import { batches, isWaybillError, rows } from './helpers.js';

describe('ndjson source', () => {
  let dir: TempDir;
  const path = (name: string): string => join(dir.path, name);

  before(async () => {
    dir = await tempDir('waybill-ndjson-');
    writeFileSync(
      path('events.ndjson'),
      '{"id":1,"name":"Zoë 🚀","meta":{"b":2,"a":[1,"x"]},"ok":true}\r\n' +
        '{"id":2,"extra":"late key","name":null}\n' +
        '\n' +
        '   \n' +
        '{"id":9007199254740991,"ok":false}',
    );
    writeFileSync(path('broken.ndjson'), '{"id":1}\n{"id":2}\n{"id": 3, "secret": "hunter2"\n{"id":4}\n');
    writeFileSync(path('array.ndjson'), '{"id":1}\n["not","an","object"]\n');
    writeFileSync(
      path('latin1.ndjson'),
      Buffer.concat([Buffer.from('{"id":1}\n{"n":"'), Buffer.from([0xe9]), Buffer.from('"}\n')]),
    );
    writeFileSync(path('empty.ndjson'), '');
    let big = '';
    for (let i = 1; i <= 30_000; i++) big += `${JSON.stringify({ n: i, s: `v${i}` })}\n`;
    writeFileSync(path('big.ndjson'), big);
  });

  after(async () => {
    await dir.cleanup();
  });

  test('columns are the keys of the first line plus the declared ones', async () => {
    const source = createNdjsonSource({ path: path('events.ndjson'), columns: ['extra', 'id'] });
    assert.equal(source.kind, 'ndjson');
    assert.deepEqual(
      (await source.describe('events')).map((c) => `${c.name}:${c.type}`),
      ['id:json', 'name:json', 'meta:json', 'ok:json', 'extra:json'],
    );
    await assert.rejects(source.describe('events2'), isWaybillError('ERR_WAYBILL_NOT_FOUND', /"events"/));
  });

  test('values: scalars as they are, missing keys null, nested values as canonical JSON', async () => {
    const source = createNdjsonSource({ path: path('events.ndjson'), columns: ['extra'] });
    assert.deepEqual(
      await rows(source.read({ table: 'events', columns: ['id', 'name', 'meta', 'ok', 'extra'] })),
      [
        [1, 'Zoë 🚀', '{"a":[1,"x"],"b":2}', true, null],
        [2, null, null, null, 'late key'],
        [9007199254740991, null, null, false, null],
      ],
    );
  });

  test('an undeclared key of a later line is not a column', async () => {
    const source = createNdjsonSource({ path: path('events.ndjson') });
    await assert.rejects(
      rows(source.read({ table: 'events', columns: ['extra'] })),
      isWaybillError('ERR_WAYBILL_NOT_FOUND', /"extra"/, /table "events"/, /"id", "name", "meta", "ok"/),
    );
  });

  test('prototype-pollution-through-column-names-reads-nothing-from-the-prototype', async () => {
    const source = createNdjsonSource({
      path: path('events.ndjson'),
      columns: ['constructor', '__proto__', 'toString'],
    });
    assert.deepEqual(
      await rows(source.read({ table: 'events', columns: ['constructor', '__proto__', 'toString'] })),
      [
        [null, null, null],
        [null, null, null],
        [null, null, null],
      ],
    );
  });

  test('a malformed line is ERR_WAYBILL_SOURCE_ROW_INVALID naming file and line, never the content', async () => {
    const source = createNdjsonSource({ path: path('broken.ndjson') });
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const batch of source.read({ table: 'broken', columns: ['id'], batchSize: 1 }))
          seen += batch.length;
      })(),
      (err) => {
        isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /broken\.ndjson/, /line 3 /)(err);
        const e = err as Error;
        assert.doesNotMatch(e.message, /hunter2|secret/);
        assert.equal(e.cause, undefined, "JSON.parse's message quotes the line, so it is not attached");
        return true;
      },
    );
    assert.equal(seen, 2, 'the lines before the bad one were delivered');
  });

  test('a line that is not an object, or not UTF-8, is ERR_WAYBILL_SOURCE_ROW_INVALID', async () => {
    await assert.rejects(
      rows(createNdjsonSource({ path: path('array.ndjson') }).read({ table: 'array', columns: ['id'] })),
      isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /line 2 is JSON but not an object/),
    );
    await assert.rejects(
      rows(createNdjsonSource({ path: path('latin1.ndjson') }).read({ table: 'latin1', columns: ['id'] })),
      isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /line 2 is not valid UTF-8/),
    );
  });

  test('an empty file has only the declared columns and no rows; a missing file is ERR_WAYBILL_NOT_FOUND', async () => {
    const source = createNdjsonSource({ path: path('empty.ndjson'), columns: ['a'] });
    assert.deepEqual(await source.describe('empty'), [{ name: 'a', type: 'json' }]);
    assert.deepEqual(await rows(source.read({ table: 'empty', columns: ['a'] })), []);
    await assert.rejects(
      createNdjsonSource({ path: path('gone.ndjson') }).describe('gone'),
      isWaybillError('ERR_WAYBILL_NOT_FOUND'),
    );
  });

  test('30k lines stream in batches; break and abort stop reading', async () => {
    const source = createNdjsonSource({ path: path('big.ndjson') });
    const got = await batches(source.read({ table: 'big', columns: ['n', 's'], batchSize: 7000 }));
    assert.deepEqual(
      got.map((b) => b.length),
      [7000, 7000, 7000, 7000, 2000],
    );
    assert.deepEqual(got[4]!.at(-1), [30_000, 'v30000']);
    let seen = 0;
    for await (const batch of source.read({ table: 'big', columns: ['n'], batchSize: 50 })) {
      seen += batch.length;
      if (seen === 100) break;
    }
    assert.equal(seen, 100);
    const controller = new AbortController();
    await assert.rejects(
      (async () => {
        for await (const batch of source.read({
          table: 'big',
          columns: ['n'],
          batchSize: 10,
          signal: controller.signal,
        })) {
          assert.ok(batch.length > 0);
          controller.abort();
        }
      })(),
      { name: 'AbortError' },
    );
  });
});

describe('ndjson source: numbers a double cannot hold', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir('waybill-ndjson-big-');
  });
  after(async () => dir.cleanup());

  test('an integer beyond 2^53 or an overflow is refused naming line and key, never the value', async () => {
    for (const [line, key] of [
      ['{"id":1,"big":9007199254740993}', 'big'],
      ['{"id":1,"huge":1e400}', 'huge'],
    ] as const) {
      const file = join(dir.path, `${key}.ndjson`);
      writeFileSync(file, `{"id":0,"ok":1.5}\n${line}\n`);
      const source = createNdjsonSource({ path: file });
      await assert.rejects(
        rows(source.read({ table: key, columns: ['id'] })),
        isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', new RegExp(`line 2`), new RegExp(`"${key}"`)),
      );
      await source.close();
    }
  });
});
