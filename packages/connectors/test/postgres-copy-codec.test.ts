import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import pg from 'pg';
import type { CellValue } from '@waybill/core';
import { startPostgres, type PgCluster } from '@waybill/testkit';
import { createPostgresSource, type PostgresSource } from '../src/index.js';
import { decodeBlock, decodeRows } from '../src/pg-copy-text-codec.js';

// The COPY fast path must hand the pipeline exactly the cells the cursor read gives, value for value,
// including the values COPY escapes (tabs, newlines, backslashes) and every type with a parser.
describe('postgres COPY fast path', () => {
  let cluster: PgCluster | null = null;
  let source: PostgresSource;
  const skipped = (t: TestContext): boolean => {
    if (cluster !== null) return false;
    t.skip('no PostgreSQL binaries on this machine (see the warning on stderr)');
    return true;
  };

  before(async () => {
    cluster = await startPostgres({ database: 'copy_codec' });
    if (cluster === null) return;
    const admin = new pg.Client({ connectionString: cluster.connectionString });
    await admin.connect();
    await admin.query(`
      CREATE TABLE mixed (
        id int8, n int4, amount numeric(20,4), huge numeric, f float8, ok boolean, day date,
        at timestamptz, local timestamp, raw bytea, doc jsonb, label text, tags text[]);
      INSERT INTO mixed VALUES
        (1, 7, 12.5, 123456789012345678901234567890.5, 1.5, true, '2024-02-29', '2024-05-01 12:30:00.123456+02',
         '2024-05-01 12:30:00', '\\x00ff0a09', '{"b":1,"a":[true,null]}', E'tab\\there\\nnewline \\\\ back', '{x,"y z"}'),
        (2, NULL, NULL, 'NaN', 'Infinity', false, NULL, NULL, NULL, NULL, NULL, '', NULL),
        (9007199254740993, -1, -0.0001, 0, -0, NULL, '0001-01-01', '1970-01-01 00:00:00+00', NULL, '\\x', '[]',
         'émoji 😀 \\N literal', '{}'),
        (4, 0, 99999999999999.9999, 1e-20, 1e300, true, '2000-01-01', NULL, NULL, NULL, '"s"', E'cr\\rfeed\\f', NULL);
      INSERT INTO mixed (id, label) SELECT g, 'row ' || g FROM generate_series(10, 30000) g;`);
    await admin.end();
    source = createPostgresSource({
      host: cluster.host,
      port: cluster.port,
      database: cluster.database,
      user: cluster.user,
    });
  });
  after(async () => {
    await source?.close();
    await cluster?.stop();
  });

  test('decoded COPY blocks equal the cursor read, value for value', async (t) => {
    if (skipped(t)) return;
    const columns = (await source.describe('mixed')).map((c) => c.name);
    const viaCursor: CellValue[][] = [];
    for await (const batch of source.read({ table: 'mixed', columns, batchSize: 777 }))
      viaCursor.push(...batch);
    const encoded = await source.readEncoded({ table: 'mixed', columns });
    const viaCopy: CellValue[][] = [];
    let blocks = 0;
    let rowNumber = 1;
    for await (const block of encoded.blocks) {
      blocks++;
      const rows = decodeBlock(block.bytes, encoded.codec.options, rowNumber);
      assert.equal(rows.length, block.rows, 'a block says how many rows it holds');
      rowNumber += rows.length;
      viaCopy.push(...rows);
    }
    assert.ok(blocks >= 1);
    assert.equal(viaCopy.length, viaCursor.length);
    assert.deepEqual(viaCopy, viaCursor);
    assert.equal(viaCopy[0]![11], 'tab\there\nnewline \\ back');
    assert.equal(viaCopy[2]![0], '9007199254740993');
    // The codec module is loadable by URL, as the pipeline workers load it.
    const mod = (await import(encoded.codec.module)) as { decodeRows: typeof decodeRows };
    assert.equal(typeof mod.decodeRows, 'function');
  });

  test('breaking out of the blocks frees the connection for the next read', async (t) => {
    if (skipped(t)) return;
    for (let i = 0; i < 6; i++) {
      const encoded = await source.readEncoded({ table: 'mixed', columns: ['id', 'label'] });
      for await (const block of encoded.blocks) {
        assert.ok(block.rows > 0);
        break;
      }
    }
    const again = await source.readEncoded({ table: 'mixed', columns: ['id'] });
    let n = 0;
    for await (const b of again.blocks) n += b.rows;
    assert.equal(n, 4 + 29991);
  });

  test('a malformed block is refused with the row number, not its content', () => {
    const bad = Buffer.from('1\tsecret-value\n2\n');
    assert.throws(
      () => decodeBlock(bad, { oids: [20, 25], where: 'postgres source x' }, 41),
      (e: Error) => {
        assert.match(e.message, /row 42 has 1 fields/);
        assert.ok(!e.message.includes('secret'));
        return true;
      },
    );
  });

  test('decodeRows decodes a row when it is asked for, so a malformed row fails only when reached', () => {
    const block = Buffer.from('1\tplain\n2\n3\ttab\\there\n4\t\\N\n');
    const batch = decodeRows(block, { oids: [20, 25], where: 'postgres source x' }, 10);
    assert.equal(batch.length, 4);
    assert.deepEqual(batch.row(0), [1, 'plain']);
    assert.throws(() => batch.row(1), /row 11 has 1 fields/);
    assert.deepEqual(batch.row(2), [3, 'tab\there']);
    assert.deepEqual(batch.row(3), [4, null]);
  });
});
