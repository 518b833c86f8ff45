import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '@waybill/testkit';
import type { TempDir } from '@waybill/testkit';
import { createSqliteSource } from '../src/index.js';
import { batches, isWaybillError, rows } from './helpers.js';

describe('sqlite source', () => {
  let dir: TempDir;
  let file: string;

  before(async () => {
    dir = await tempDir('waybill-sqlite-');
    file = join(dir.path, 'app.sqlite');
    const db = new Database(file);
    db.exec(`
      CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, big INTEGER, photo BLOB, note);
      CREATE TABLE numbers (n INTEGER NOT NULL, label TEXT);
      CREATE TABLE "we""ird" ("col""umn" TEXT, "select" INTEGER);
      CREATE VIEW adults AS SELECT id, name FROM people WHERE id > 1;
    `);
    const insert = db.prepare('INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)');
    insert.run(1, 'Zoë 🚀 日本語', 1.5, 9007199254740993n, Buffer.from([0, 1, 2, 255]), null);
    insert.run(2, null, null, -9007199254740991n, null, 'free text');
    insert.run(3, '', -0.25, -9223372036854775808n, Buffer.alloc(0), 42);
    db.prepare('INSERT INTO "we""ird" VALUES (?, ?)').run('ok', 7);
    const n = db.prepare('INSERT INTO numbers VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 100_000; i++) n.run(i, `row ${i}`);
    })();
    db.close();
  });

  after(async () => {
    await dir.cleanup();
  });

  test('describe lists columns with their declared types', async () => {
    const source = createSqliteSource({ path: file });
    try {
      assert.equal(source.kind, 'sqlite');
      assert.equal(source.instance, file);
      assert.deepEqual(await source.describe('people'), [
        { name: 'id', type: 'INTEGER' },
        { name: 'name', type: 'TEXT' },
        { name: 'score', type: 'REAL' },
        { name: 'big', type: 'INTEGER' },
        { name: 'photo', type: 'BLOB' },
        { name: 'note', type: '' },
      ]);
      assert.deepEqual(await source.describe('adults'), [
        { name: 'id', type: 'INTEGER' },
        { name: 'name', type: 'TEXT' },
      ]);
    } finally {
      await source.close();
    }
  });

  test('values are normalized: big integers as strings, blobs as base64, unicode and nulls kept', async () => {
    const source = createSqliteSource({ path: file });
    try {
      const got = await rows(
        source.read({ table: 'people', columns: ['id', 'name', 'score', 'big', 'photo', 'note'] }),
      );
      assert.deepEqual(got, [
        [1, 'Zoë 🚀 日本語', 1.5, '9007199254740993', 'AAEC/w==', null],
        [2, null, null, -9007199254740991, null, 'free text'],
        [3, '', -0.25, '-9223372036854775808', '', 42],
      ]);
    } finally {
      await source.close();
    }
  });

  test('the projection decides the order of the values', async () => {
    const source = createSqliteSource({ path: file });
    try {
      assert.deepEqual(await rows(source.read({ table: 'adults', columns: ['name', 'id'] })), [
        [null, 2],
        ['', 3],
      ]);
    } finally {
      await source.close();
    }
  });

  test('100k rows stream in batches of the requested size', async () => {
    const source = createSqliteSource({ path: file });
    try {
      const got = await batches(source.read({ table: 'numbers', columns: ['n', 'label'], batchSize: 4096 }));
      assert.equal(got.length, Math.ceil(100_000 / 4096));
      for (const b of got.slice(0, -1)) assert.equal(b.length, 4096);
      assert.equal(got.at(-1)!.length, 100_000 % 4096);
      let count = 0;
      let sum = 0;
      for (const b of got) {
        for (const [n, label] of b) {
          count++;
          sum += n as number;
          assert.equal(label, `row ${String(n)}`);
        }
      }
      assert.equal(count, 100_000);
      assert.equal(sum, (100_000 * 100_001) / 2);
    } finally {
      await source.close();
    }
  });

  test('breaking out mid-stream releases the read lock', async () => {
    const source = createSqliteSource({ path: file });
    const writer = new Database(file, { timeout: 0 });
    const canLockExclusively = (): boolean => {
      try {
        writer.exec('BEGIN EXCLUSIVE');
        writer.exec('ROLLBACK');
        return true;
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'SQLITE_BUSY');
        return false;
      }
    };
    try {
      let seen = 0;
      for await (const batch of source.read({ table: 'numbers', columns: ['n'], batchSize: 1000 })) {
        seen += batch.length;
        assert.equal(canLockExclusively(), false, 'a suspended stream holds its read lock');
        if (seen >= 3000) break;
      }
      assert.equal(seen, 3000);
      assert.equal(canLockExclusively(), true, 'break released the statement and its connection');
    } finally {
      writer.close();
      await source.close();
    }
  });

  test('an aborted signal stops the stream with its reason and releases the lock', async () => {
    const source = createSqliteSource({ path: file });
    const controller = new AbortController();
    const writer = new Database(file, { timeout: 0 });
    try {
      let seen = 0;
      await assert.rejects(
        (async () => {
          for await (const batch of source.read({
            table: 'numbers',
            columns: ['n'],
            batchSize: 500,
            signal: controller.signal,
          })) {
            seen += batch.length;
            controller.abort();
          }
        })(),
        { name: 'AbortError' },
      );
      assert.equal(seen, 500);
      writer.exec('BEGIN EXCLUSIVE; ROLLBACK');
    } finally {
      writer.close();
      await source.close();
    }
  });

  test('close() during a read makes the read fail instead of ending early', async () => {
    const source = createSqliteSource({ path: file });
    const stream = source.read({ table: 'numbers', columns: ['n'], batchSize: 100 });
    const iterator = stream[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).done, false);
    await source.close();
    await assert.rejects(
      iterator.next(),
      isWaybillError('ERR_WAYBILL_SOURCE_FAILED', /closed during the read/),
    );
  });

  test('a read does not block describe or a second read', async () => {
    const source = createSqliteSource({ path: file });
    try {
      const first = source.read({ table: 'numbers', columns: ['n'], batchSize: 10 })[Symbol.asyncIterator]();
      await first.next();
      assert.equal((await source.describe('numbers')).length, 2);
      assert.equal((await rows(source.read({ table: 'people', columns: ['id'] }))).length, 3);
      await first.return?.();
    } finally {
      await source.close();
    }
  });

  test('an unknown table is ERR_WAYBILL_NOT_FOUND listing the tables', async () => {
    const source = createSqliteSource({ path: file });
    try {
      await assert.rejects(
        source.describe('persons'),
        isWaybillError('ERR_WAYBILL_NOT_FOUND', /"persons"/, /"people"/, /"numbers"/),
      );
      await assert.rejects(
        rows(source.read({ table: 'persons', columns: ['id'] })),
        isWaybillError('ERR_WAYBILL_NOT_FOUND', /"persons"/),
      );
      // Names are exact: SQLite would accept PEOPLE, Waybill asks for the name as declared.
      await assert.rejects(source.describe('PEOPLE'), isWaybillError('ERR_WAYBILL_NOT_FOUND'));
    } finally {
      await source.close();
    }
  });

  test('an unknown column is ERR_WAYBILL_NOT_FOUND naming column and table and listing the columns', async () => {
    const source = createSqliteSource({ path: file });
    try {
      await assert.rejects(
        rows(source.read({ table: 'people', columns: ['id', 'email'] })),
        isWaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          /"email"/,
          /table "people"/,
          /available columns: "id", "name"/,
        ),
      );
      await assert.rejects(
        rows(source.read({ table: 'people', columns: [] })),
        isWaybillError('ERR_WAYBILL_INVALID_INPUT'),
      );
    } finally {
      await source.close();
    }
  });

  test('sql-injection-through-table-or-column-names-is-refused', async () => {
    const source = createSqliteSource({ path: file });
    try {
      await assert.rejects(
        rows(source.read({ table: 'people', columns: ['id" FROM people; DROP TABLE people; --'] })),
        isWaybillError('ERR_WAYBILL_NOT_FOUND'),
      );
      await assert.rejects(
        rows(source.read({ table: 'people" WHERE 1=1; --', columns: ['id'] })),
        isWaybillError('ERR_WAYBILL_NOT_FOUND'),
      );
      // Real names with quotes and keywords are quoted correctly.
      assert.deepEqual(await rows(source.read({ table: 'we"ird', columns: ['select', 'col"umn'] })), [
        [7, 'ok'],
      ]);
      assert.equal((await rows(source.read({ table: 'people', columns: ['id'] }))).length, 3);
    } finally {
      await source.close();
    }
  });

  test('a missing database file is ERR_WAYBILL_NOT_FOUND and nothing is created', async () => {
    const missing = join(dir.path, 'missing.sqlite');
    const source = createSqliteSource({ path: missing });
    await assert.rejects(
      source.describe('people'),
      isWaybillError('ERR_WAYBILL_NOT_FOUND', /does not exist/),
    );
    await assert.rejects(
      rows(source.read({ table: 'people', columns: ['id'] })),
      isWaybillError('ERR_WAYBILL_NOT_FOUND'),
    );
    await source.close();
  });

  test('a file that is not a database is ERR_WAYBILL_SOURCE_FAILED', async () => {
    const source = createSqliteSource({ path: new URL(import.meta.url).pathname });
    await assert.rejects(
      source.describe('people'),
      isWaybillError('ERR_WAYBILL_SOURCE_FAILED', /SQLITE_NOTADB/),
    );
    await source.close();
  });
});
