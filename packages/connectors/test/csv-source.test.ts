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
    await assert.rejects(source.describe('other'), isWaybillError('ERR_WAYBILL_NOT_FOUND', /"other"/, /"people"/));
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
      assert.equal(e.cause, undefined, 'the parser error quotes the record, so it is not attached');
      return true;
    });
  });

  test('an unclosed quote is ERR_WAYBILL_SOURCE_ROW_INVALID', async () => {
    const source = createCsvSource({ path: path('unclosed.csv') });
    await assert.rejects(
      rows(source.read({ table: 'unclosed', columns: ['a'] })),
      isWaybillError('ERR_WAYBILL_SOURCE_ROW_INVALID', /CSV_QUOTE_NOT_CLOSED/),
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
    assert.deepEqual(await rows(createCsvSource({ path: path('header-only.csv') }).read({ table: 'header-only', columns: ['b'] })), []);
  });

  test('a missing file is ERR_WAYBILL_NOT_FOUND', async () => {
    const source = createCsvSource({ path: path('nope.csv') });
    await assert.rejects(source.describe('nope'), isWaybillError('ERR_WAYBILL_NOT_FOUND', /does not exist/));
    await assert.rejects(rows(source.read({ table: 'nope', columns: ['a'] })), isWaybillError('ERR_WAYBILL_NOT_FOUND'));
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
        for await (const _ of source.read({ table: 'big', columns: ['n'], batchSize: 10, signal: controller.signal })) {
          controller.abort();
        }
      })(),
      { name: 'AbortError' },
    );
  });
});
