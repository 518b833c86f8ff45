import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@waybill/testkit';
import type { TempDir } from '@waybill/testkit';
import { createCsvSource } from '../src/index.js';
import { batches, isWaybillError, rows } from './helpers.js';

describe('csv source', () => {
  let dir: TempDir;
  const path = (name: string): string => join(dir.path, name);

  before(async () => {
    dir = await tempDir('waybill-csv-');
    writeFileSync(
      path('people.csv'),
      '\uFEFFid,name,note\r\n' +
        '1,"Doe, Jane","line one\nline two"\r\n' +
        '2,,""\r\n' +
        '\r\n' +
        '3,"He said ""hi""",Zoë 🚀\r\n',
    );
    writeFileSync(path('semi.csv'), 'a;b\n1;x,y\n');
    writeFileSync(path('ragged.csv'), 'a,b\n1,2\n3,secret-value-4,5\n');
    writeFileSync(path('unclosed.csv'), 'a,b\n1,"never closed\n2,3\n');
    writeFileSync(path('dupes.csv'), 'a,b,a\n1,2,3\n');
    writeFileSync(path('empty.csv'), '');
    writeFileSync(path('header-only.csv'), 'a,b\n');
    let big = 'n,s\n';
    for (let i = 1; i <= 50_000; i++) big += `${i},"v ${i}"\n`;
    writeFileSync(path('big.csv'), big);
  });

  after(async () => {
    await dir.cleanup();
  });

  test('the header names the columns and the file stem names the table', async () => {
    const source = createCsvSource({ path: path('people.csv') });
    assert.equal(source.kind, 'csv');
    assert.equal(source.instance, path('people.csv'));
    assert.deepEqual(await source.describe('people'), [
      { name: 'id', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'note', type: 'text' },
    ]);
    await assert.rejects(
      source.describe('other'),
      isWaybillError('ERR_WAYBILL_NOT_FOUND', /"other"/, /"people"/),
    );
  });

  test('quoted fields keep delimiters, quotes and line breaks; empty unquoted fields are null', async () => {
    const source = createCsvSource({ path: path('people.csv') });
    assert.deepEqual(await rows(source.read({ table: 'people', columns: ['id', 'name', 'note'] })), [
      ['1', 'Doe, Jane', 'line one\nline two'],
      ['2', null, ''],
      ['3', 'He said "hi"', 'Zoë 🚀'],
    ]);
    assert.deepEqual(await rows(source.read({ table: 'people', columns: ['note', 'id'] })), [
      ['line one\nline two', '1'],
      ['', '2'],
      ['Zoë 🚀', '3'],
    ]);
  });

  test('a custom delimiter', async () => {
    const source = createCsvSource({ path: path('semi.csv'), delimiter: ';' });
    assert.deepEqual(await rows(source.read({ table: 'semi', columns: ['a', 'b'] })), [['1', 'x,y']]);
  });

  test('an unknown column is ERR_WAYBILL_NOT_FOUND listing the header', async () => {
    const source = createCsvSource({ path: path('people.csv') });
    await assert.rejects(
      rows(source.read({ table: 'people', columns: ['email'] })),
      isWaybillError('ERR_WAYBILL_NOT_FOUND', /"email"/, /table "people"/, /"id", "name", "note"/),
    );
  });

  test('a record with the wrong number of fields names the line, not the content', async () => {
    const source = createCsvSource({ path: path('ragged.csv') });
    await assert.rejects(rows(source.read({ table: 'ragged', columns: ['a'] })), (err) => {
      isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /ragged\.csv/, /line 3/)(err);
      const e = err as Error;
      assert.doesNotMatch(e.message, /secret-value/);
      assert.equal(e.cause, undefined);
      return true;
    });
  });

  test('an unclosed quote is ERR_WAYBILL_SOURCE_ROW_INVALID', async () => {
    const source = createCsvSource({ path: path('unclosed.csv') });
    await assert.rejects(
      rows(source.read({ table: 'unclosed', columns: ['a'] })),
      isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /line 2 .*never closed/),
    );
  });

  test('duplicate header names and an empty file are refused; a header alone is an empty table', async () => {
    await assert.rejects(
      createCsvSource({ path: path('dupes.csv') }).describe('dupes'),
      isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /"a" more than once/),
    );
    await assert.rejects(
      createCsvSource({ path: path('empty.csv') }).describe('empty'),
      isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /empty/),
    );
    assert.deepEqual(
      await rows(
        createCsvSource({ path: path('header-only.csv') }).read({ table: 'header-only', columns: ['b'] }),
      ),
      [],
    );
  });

  test('line endings CRLF, LF and CR, a missing final line break and a trailing delimiter', async () => {
    writeFileSync(path('endings.csv'), 'a\tb\r1\t\n2\t"x"\r\n3\t');
    const source = createCsvSource({ path: path('endings.csv'), delimiter: '\t' });
    assert.deepEqual(await rows(source.read({ table: 'endings', columns: ['a', 'b'] })), [
      ['1', null],
      ['2', 'x'],
      ['3', null],
    ]);
  });

  test('stray quotes and invalid UTF-8 are ERR_WAYBILL_SOURCE_ROW_INVALID with the line', async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['stray', 'a,b\n1,2\n3,ab"c\n', /line 3 .*quote appears inside an unquoted field/],
      ['after', 'a,b\n"1"x,2\n', /line 2 .*characters follow the closing quote/],
      [
        'bytes',
        Buffer.concat([Buffer.from('a,b\n1,2\n3,'), Buffer.from([0xff]), Buffer.from('\n')]),
        /line 3 .*not valid UTF-8/,
      ],
    ];
    for (const [name, content, pattern] of cases) {
      writeFileSync(path(`${name}.csv`), content);
      await assert.rejects(
        rows(createCsvSource({ path: path(`${name}.csv`) }).read({ table: name, columns: ['a'] })),
        isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', pattern),
        name,
      );
    }
  });

  test('random records survive chunk boundaries byte for byte', async () => {
    // A seeded generator (mulberry32), so a failure can be replayed.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const alphabet = ['a', 'Z', '0', ' ', ',', '"', '\n', '\r\n', 'é', '日本', '🚀', ';'];
    const value = (): string | null => {
      if (random() < 0.1) return null;
      let v = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i++) v += alphabet[Math.floor(random() * alphabet.length)]!;
      return v;
    };
    const field = (v: string | null): string =>
      v === null ? '' : v === '' || /[",\r\n]/.test(v) || random() < 0.2 ? `"${v.replaceAll('"', '""')}"` : v;
    const expected: (string | null)[][] = [];
    let text = 'x,y,z\r\n';
    while (text.length < 400_000) {
      const record = [value(), value(), value()];
      // A record of one empty unquoted field would be an empty line; the generator has three fields.
      expected.push(record);
      text += record.map(field).join(',') + (random() < 0.5 ? '\r\n' : '\n');
    }
    writeFileSync(path('random.csv'), text);
    const got = await rows(
      createCsvSource({ path: path('random.csv') }).read({ table: 'random', columns: ['x', 'y', 'z'] }),
    );
    assert.equal(got.length, expected.length);
    assert.deepEqual(got, expected);
  });

  test('a missing file is ERR_WAYBILL_NOT_FOUND', async () => {
    const source = createCsvSource({ path: path('nope.csv') });
    await assert.rejects(source.describe('nope'), isWaybillError('ERR_WAYBILL_NOT_FOUND', /does not exist/));
    await assert.rejects(
      rows(source.read({ table: 'nope', columns: ['a'] })),
      isWaybillError('ERR_WAYBILL_NOT_FOUND'),
    );
  });

  test('50k rows stream in batches, and a break stops reading', async () => {
    const source = createCsvSource({ path: path('big.csv') });
    const got = await batches(source.read({ table: 'big', columns: ['s', 'n'], batchSize: 1000 }));
    assert.equal(got.length, 50);
    assert.deepEqual(got[49]!.at(-1), ['v 50000', '50000']);
    let seen = 0;
    for await (const batch of source.read({ table: 'big', columns: ['n'], batchSize: 100 })) {
      seen += batch.length;
      if (seen >= 300) break;
    }
    assert.equal(seen, 300);
    await source.close();
  });

  test('an aborted signal stops the stream with its reason', async () => {
    const source = createCsvSource({ path: path('big.csv') });
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
