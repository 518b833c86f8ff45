import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { startPostgres } from '@waybill/testkit';
import type { PgCluster } from '@waybill/testkit';
import type { WaybillError } from '@waybill/verify';
import { createPostgresSource, createSource } from '../src/index.js';
import type { PostgresSource } from '../src/index.js';
import { batches, isWaybillError, rows } from './helpers.js';

// Real PostgreSQL from testkit (no mocks). Without PostgreSQL binaries every test is skipped, loudly.
describe('postgres source', () => {
  let cluster: PgCluster | null = null;
  let admin: pg.Client;

  const skipped = (t: TestContext): boolean => {
    if (cluster !== null) return false;
    t.skip('no PostgreSQL binaries on this machine (see the warning on stderr)');
    return true;
  };
  const open = (extra: { schema?: string } = {}): PostgresSource =>
    createPostgresSource({
      host: cluster!.host,
      port: cluster!.port,
      database: cluster!.database,
      user: cluster!.user,
      ...extra,
    });
  /** Sessions this suite's sources opened (application_name is set by the source). */
  const sessions = async (state?: string): Promise<{ state: string; query: string }[]> => {
    const r = await admin.query<{ state: string; query: string }>(
      `SELECT state, query FROM pg_stat_activity WHERE application_name = 'waybill' AND pid <> pg_backend_pid()
       AND ($1::text IS NULL OR state = $1)`,
      [state ?? null],
    );
    return r.rows;
  };
  const eventually = async (check: () => Promise<boolean>, what: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  before(async () => {
    cluster = await startPostgres({ roleAuth: 'scram-sha-256' });
    if (cluster === null) return;
    admin = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      database: cluster.database,
      user: cluster.user,
    });
    await admin.connect();
    await admin.query(`
      CREATE TABLE typed (
        id int4, big int8, small_big int8, amount numeric(20,4), huge numeric, day date,
        at timestamptz, naive timestamp, raw bytea, doc jsonb, plain json, flag bool, ratio float8,
        label text, tags text[], span interval, uid uuid
      );
      INSERT INTO typed VALUES
        (1, 9223372036854775807, 42, 12345.6789, 123456789012345678901234567890.123, '2024-02-29',
         '2024-05-01 12:30:00.123456+02', '2024-05-01 12:30:00', '\\x0001ff', '{"b": 1, "a": [true, null]}',
         '{"z": 1.50, "y": "ü"}', true, 'NaN', 'Zoë 🚀', '{a,"b c"}', '1 day 02:03:04',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
        (2, -9007199254740991, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, -9223372036854775808, 0, -0.5, 0.000001, '0044-03-15 BC', 'infinity', '1999-12-31 23:59:59.5',
         '\\x', '[]', 'null', false, 1e300, '', '{}', '-1 mons', NULL);
      CREATE TABLE big AS SELECT g AS n, md5(g::text) AS s FROM generate_series(1, 200000) g;
      CREATE VIEW slow AS SELECT 1 AS n FROM pg_sleep(30);
      CREATE SCHEMA "Sales";
      CREATE TABLE "Sales"."Orders" ("Id" int4, "we""ird" text);
      INSERT INTO "Sales"."Orders" VALUES (7, 'ok');
      CREATE ROLE reader LOGIN PASSWORD 'correct horse battery staple';
      GRANT SELECT ON typed TO reader;
    `);
  });

  after(async () => {
    if (cluster === null) return;
    await admin.end();
    await cluster.stop();
  });

  test('describe lists columns with their declared types', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      assert.equal(source.kind, 'postgres');
      const columns = await source.describe('typed');
      assert.deepEqual(
        columns.map((c) => `${c.name}:${c.type}`),
        [
          'id:integer',
          'big:bigint',
          'small_big:bigint',
          'amount:numeric(20,4)',
          'huge:numeric',
          'day:date',
          'at:timestamp with time zone',
          'naive:timestamp without time zone',
          'raw:bytea',
          'doc:jsonb',
          'plain:json',
          'flag:boolean',
          'ratio:double precision',
          'label:text',
          'tags:text[]',
          'span:interval',
          'uid:uuid',
        ],
      );
    } finally {
      await source.close();
    }
  });

  test('values are normalized to CellValue', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      const columns = (await source.describe('typed')).map((c) => c.name);
      const got = await rows(source.read({ table: 'typed', columns }));
      const byId = new Map(got.map((r) => [r[0], Object.fromEntries(columns.map((c, i) => [c, r[i]]))]));
      assert.deepEqual(byId.get(1), {
        id: 1,
        big: '9223372036854775807',
        small_big: 42,
        amount: 12345.6789,
        huge: '123456789012345678901234567890.123',
        day: '2024-02-29',
        at: '2024-05-01T10:30:00.123456Z',
        naive: '2024-05-01T12:30:00Z',
        raw: 'AAH/',
        doc: '{"a":[true,null],"b":1}',
        plain: '{"y":"ü","z":1.5}',
        flag: true,
        ratio: 'NaN',
        label: 'Zoë 🚀',
        tags: '{a,"b c"}',
        span: 'P1DT2H3M4S',
        uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      });
      const second = byId.get(2)!;
      assert.equal(second['big'], -9007199254740991);
      for (const c of columns.slice(2)) assert.equal(second[c], null, c);
      assert.deepEqual(byId.get(3), {
        id: 3,
        big: '-9223372036854775808',
        small_big: 0,
        amount: -0.5,
        huge: 0.000001,
        day: '0044-03-15 BC',
        at: 'infinity',
        naive: '1999-12-31T23:59:59.5Z',
        raw: '',
        doc: '[]',
        plain: 'null',
        flag: false,
        ratio: 1e300,
        label: '',
        tags: '{}',
        span: 'P-1M',
        uid: null,
      });
    } finally {
      await source.close();
    }
  });

  test('200k rows stream through a server-side cursor in batches', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      let count = 0;
      let sum = 0;
      const sizes = new Set<number>();
      let first = true;
      for await (const batch of source.read({ table: 'big', columns: ['n', 's'], batchSize: 5000 })) {
        if (first) {
          first = false;
          // While the consumer holds a batch, the session sits in its transaction with the cursor open.
          const open = await sessions('idle in transaction');
          assert.equal(open.length, 1);
          assert.match(open[0]!.query, /^FETCH FORWARD 5000 FROM waybill_read/);
        }
        sizes.add(batch.length);
        for (const [n] of batch) {
          count++;
          sum += n as number;
        }
      }
      assert.equal(count, 200_000);
      assert.equal(sum, (200_000 * 200_001) / 2);
      assert.deepEqual([...sizes], [5000]);
      assert.deepEqual(await sessions('idle in transaction'), []);
    } finally {
      await source.close();
    }
  });

  test('breaking out early rolls back, frees the connection, and close() ends the pool', async (t) => {
    if (skipped(t)) return;
    const source = open();
    let seen = 0;
    for await (const batch of source.read({ table: 'big', columns: ['n'], batchSize: 1000 })) {
      seen += batch.length;
      if (seen >= 2000) break;
    }
    assert.equal(seen, 2000);
    assert.deepEqual(await sessions('idle in transaction'), [], 'no transaction or cursor is left open');
    assert.equal((await sessions('idle')).length, 1, 'the connection went back to the pool');
    // The same source can read again on the pooled connection.
    assert.equal((await rows(source.read({ table: 'typed', columns: ['id'] }))).length, 3);
    await source.close();
    await eventually(async () => (await sessions()).length === 0, 'the pool closed its connections');
  });

  test('an abort mid-query frees the connection at once', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      await assert.rejects(rows(source.read({ table: 'slow', columns: ['n'], signal: controller.signal })), {
        name: 'AbortError',
      });
      assert.ok(Date.now() - started < 5000, 'the abort did not wait for the 30 s query');
      await eventually(async () => (await sessions('active')).length === 0, 'the aborted session ended');
    } finally {
      await source.close();
    }
  });

  test('an abort between batches stops the stream and rolls back', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      const controller = new AbortController();
      await assert.rejects(
        (async () => {
          for await (const batch of source.read({
            table: 'big',
            columns: ['n'],
            batchSize: 100,
            signal: controller.signal,
          })) {
            assert.ok(batch.length > 0);
            controller.abort();
          }
        })(),
        { name: 'AbortError' },
      );
      await eventually(
        async () => (await sessions('idle in transaction')).length === 0,
        'no transaction is left open',
      );
    } finally {
      await source.close();
    }
  });

  test('unknown table and column are ERR_WAYBILL_NOT_FOUND with what exists', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      await assert.rejects(
        source.describe('tpyed'),
        isWaybillError('ERR_WAYBILL_NOT_FOUND', /"tpyed"/, /"big"/, /"typed"/),
      );
      await assert.rejects(
        rows(source.read({ table: 'typed', columns: ['id', 'email'] })),
        isWaybillError('ERR_WAYBILL_NOT_FOUND', /"email"/, /table "typed"/, /"id", "big", "small_big"/),
      );
      assert.deepEqual(await sessions('idle in transaction'), []);
    } finally {
      await source.close();
    }
  });

  test('sql-injection-through-table-or-column-names-is-refused', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      await assert.rejects(
        rows(source.read({ table: 'typed', columns: ['id" FROM typed; DROP TABLE typed; --'] })),
        isWaybillError('ERR_WAYBILL_NOT_FOUND'),
      );
      await assert.rejects(
        rows(source.read({ table: 'typed"; DROP TABLE big; --', columns: ['id'] })),
        isWaybillError('ERR_WAYBILL_NOT_FOUND'),
      );
      assert.equal(
        (await admin.query<{ c: number }>('SELECT count(*)::int AS c FROM big')).rows[0]!.c,
        200_000,
      );
    } finally {
      await source.close();
    }
  });

  test('a schema and mixed-case, quoted names are read exactly', async (t) => {
    if (skipped(t)) return;
    const source = open({ schema: 'Sales' });
    try {
      assert.deepEqual(await rows(source.read({ table: 'Orders', columns: ['we"ird', 'Id'] })), [['ok', 7]]);
      await assert.rejects(
        source.describe('orders'),
        isWaybillError('ERR_WAYBILL_NOT_FOUND', /schema "Sales"/, /"Orders"/),
      );
    } finally {
      await source.close();
    }
  });

  test('a connection URL without a password works; one with a password is refused without echoing it', async (t) => {
    if (skipped(t)) return;
    const source = createSource('postgres', { url: cluster!.connectionString });
    try {
      assert.equal((await source.describe('typed')).length, 17);
      assert.equal(source.instance, cluster!.connectionString);
    } finally {
      await source.close();
    }
    assert.throws(
      () => createPostgresSource({ url: 'postgresql://reader:hunter2-in-url@localhost/db' }),
      (err) => {
        isWaybillError('ERR_WAYBILL_CONNECTION_INVALID', /must not contain a password/)(err);
        assert.doesNotMatch((err as Error).message, /hunter2/);
        return true;
      },
    );
  });

  test('password-never-appears-in-errors: wrong password and unreachable server', async (t) => {
    if (skipped(t)) return;
    const wrong = 'Wr0ng-S3cret-Pa55word';
    const config = { host: cluster!.host, port: cluster!.port, database: cluster!.database, user: 'reader' };
    const denied = createSource('postgres', config, { password: wrong });
    try {
      assert.doesNotMatch(denied.instance, /Wr0ng/);
      assert.doesNotMatch(inspect(denied, { depth: 20, showHidden: true }), /Wr0ng/);
      assert.doesNotMatch(JSON.stringify(denied), /Wr0ng/);
      const check =
        (...patterns: RegExp[]) =>
        (err: unknown) => {
          isWaybillError('ERR_WAYBILL_SOURCE_FAILED', ...patterns)(err);
          const e = err as WaybillError;
          assert.doesNotMatch(e.message, /Wr0ng/);
          assert.doesNotMatch(String(e.stack), /Wr0ng/);
          assert.doesNotMatch(String((e.cause as Error | undefined)?.message), /Wr0ng/);
          return true;
        };
      await assert.rejects(
        denied.describe('typed'),
        check(/password authentication failed for user "reader"/, /28P01/),
      );
      await assert.rejects(
        rows(denied.read({ table: 'typed', columns: ['id'] })),
        check(/could not connect/),
      );
    } finally {
      await denied.close();
    }

    const unreachable = createSource(
      'postgres',
      { ...config, host: `${cluster!.host}/does-not-exist` },
      { password: wrong },
    );
    try {
      await assert.rejects(unreachable.describe('typed'), (err) => {
        isWaybillError('ERR_WAYBILL_SOURCE_FAILED', /could not connect/)(err);
        assert.doesNotMatch((err as Error).message, /Wr0ng/);
        return true;
      });
    } finally {
      await unreachable.close();
    }

    const allowed = createSource('postgres', config, { password: 'correct horse battery staple' });
    try {
      assert.equal((await rows(allowed.read({ table: 'typed', columns: ['id'] }))).length, 3);
      await assert.rejects(
        rows(allowed.read({ table: 'big', columns: ['n'] })),
        isWaybillError('ERR_WAYBILL_SOURCE_FAILED', /permission denied/, /42501/),
      );
    } finally {
      await allowed.close();
    }
  });

  test('after close() the source refuses work', async (t) => {
    if (skipped(t)) return;
    const source = open();
    await source.close();
    await source.close();
    await assert.rejects(source.describe('typed'), isWaybillError('ERR_WAYBILL_SOURCE_FAILED', /closed/));
  });

  test('batches hold the requested number of rows', async (t) => {
    if (skipped(t)) return;
    const source = open();
    try {
      const got = await batches(source.read({ table: 'big', columns: ['n'], batchSize: 70_000 }));
      // Capped at 50 000 rows per batch so one batch never holds an unbounded share of a table.
      assert.deepEqual(
        got.map((b) => b.length),
        [50_000, 50_000, 50_000, 50_000],
      );
    } finally {
      await source.close();
    }
  });
});
