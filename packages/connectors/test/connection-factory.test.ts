import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@waybill/testkit';
import {
  CsvSource,
  DirectoryDestination,
  NdjsonSource,
  PostgresSource,
  SqliteSource,
  createConnectionOpener,
  createDestination,
  createSource,
  destinationKinds,
  sourceKinds,
} from '../src/index.js';
import { isWaybillError, rows } from './helpers.js';

const invalid = (...patterns: RegExp[]) => isWaybillError('ERR_WAYBILL_CONNECTION_INVALID', ...patterns);

test('createSource builds each kind from valid settings', async () => {
  assert.deepEqual(
    [...sourceKinds],
    ['sqlite', 'postgres', 'csv', 'ndjson', 'airtable', 'baserow', 'nocodb', 'directus'],
  );
  assert.deepEqual([...destinationKinds], ['directory', 'https', 'sftp', 's3']);
  assert.ok(createSource('sqlite', { path: 'a.sqlite' }) instanceof SqliteSource);
  assert.ok(createSource('csv', { path: 'a.csv', delimiter: ';' }) instanceof CsvSource);
  assert.ok(createSource('ndjson', { path: 'a.ndjson', columns: ['x'] }) instanceof NdjsonSource);
  const pgHost = createSource(
    'postgres',
    { host: 'db.internal', port: 6543, database: 'crm', user: 'reader', ssl: true, schema: 'app' },
    { password: 'pw' },
  );
  assert.ok(pgHost instanceof PostgresSource);
  assert.equal(pgHost.instance, 'postgresql://reader@db.internal:6543/crm');
  const pgUrl = createSource('postgres', { url: 'postgres://reader@[::1]/crm?sslmode=require' });
  assert.equal(pgUrl.instance, 'postgresql://reader@[::1]:5432/crm');
  await pgHost.close();
  await pgUrl.close();
  assert.ok(createDestination('directory', { path: '/srv/exports' }) instanceof DirectoryDestination);
});

test('unknown kinds name the supported ones', () => {
  assert.throws(() => createSource('mysql', {}), invalid(/"mysql"/, /sqlite, postgres, csv, ndjson/));
  assert.throws(() => createDestination('ftp', {}), invalid(/"ftp"/, /directory, https, sftp, s3/));
});

test('invalid settings name the field and never echo its value', () => {
  const cases: [string, unknown, RegExp][] = [
    ['sqlite', null, /settings must be an object/],
    ['sqlite', ['a'], /settings must be an object/],
    ['sqlite', {}, /field "path" must be a non-empty string/],
    ['sqlite', { path: '' }, /field "path"/],
    ['sqlite', { path: 'a\0b' }, /NUL/],
    ['sqlite', { path: 'a', pth: 'x' }, /unknown field "pth"/],
    ['csv', { path: 'a.csv', delimiter: '"' }, /field "delimiter"/],
    ['csv', { path: 'a.csv', delimiter: 4 }, /field "delimiter"/],
    ['csv', { path: 'a.csv', delimiter: ';;' }, /field "delimiter" must be one character/],
    ['ndjson', { path: 'a.ndjson', columns: 'x' }, /field "columns" must be a list/],
    ['ndjson', { path: 'a.ndjson', columns: ['x', 'x'] }, /twice/],
    ['postgres', { host: 'h', database: 'd' }, /field "user"/],
    [
      'postgres',
      { host: 'h', database: 'd', user: 'u', port: 70000 },
      /field "port" must be an integer from 1 to 65535/,
    ],
    ['postgres', { host: 'h', database: 'd', user: 'u', port: '5432' }, /field "port"/],
    ['postgres', { host: 'h', database: 'd', user: 'u', ssl: 'yes' }, /field "ssl" must be true or false/],
    ['postgres', { url: 'postgres://u@h/d', host: 'h' }, /unknown field "host"/],
    ['postgres', { url: 'mysql://u@h/d' }, /postgresql:\/\//],
    ['postgres', { url: 'postgres://u@h/d?sslmode=prefer' }, /sslmode/],
    ['postgres', { url: 'postgres://u@h/d?options=-c%20x' }, /parameter "options" is not supported/],
    ['postgres', { url: 'postgres://h/d' }, /names no user/],
    ['postgres', { url: 'postgres://u@h/' }, /must name the database/],
    ['postgres', { url: 'postgres://u@h:99999/d' }, /port must be an integer/],
    ['postgres', { url: 'postgres://u@h1,h2/d' }, /single host/],
    ['postgres', { url: 'postgres://u:@h/d' }, /must not contain a password/],
    ['postgres', { url: 'not a url hunter2' }, /not a valid connection URL/],
    ['postgres', { url: 'postgres://u@h/d?sslmode=disable', ssl: true }, /contradicts/],
  ];
  for (const [kind, config, pattern] of cases) {
    assert.throws(
      () => createSource(kind, config),
      (err) => {
        invalid(new RegExp(`^${kind} connection: `), pattern)(err);
        assert.doesNotMatch((err as Error).message, /hunter2/);
        return true;
      },
      `${kind} ${JSON.stringify(config)}`,
    );
  }
  assert.throws(() => createDestination('directory', { path: 1 }), invalid(/field "path"/));
});

test('https destination settings are checked field by field', () => {
  assert.equal(
    createDestination('https', { url: 'https://hooks.example.com/in', attempts: 3 }).kind,
    'https',
  );
  for (const [config, pattern] of [
    [{ url: 'http://hooks.example.com/' }, /must use https/],
    [{ url: 'https://user:hunter2@hooks.example.com/' }, /must not carry credentials/],
    [{ url: 'https://hooks.example.com/?token=hunter2' }, /query or a fragment/],
    [{ url: 'not a url' }, /absolute https:\/\/ URL/],
    [{ url: 'https://h.example.com/', clientCert: '/c.pem' }, /"clientCert" and "clientKey" together/],
    [{ url: 'https://h.example.com/', attempts: 0 }, /"attempts" must be an integer from 1 to 20/],
    [{ url: 'https://h.example.com/', trust: 'everyone' }, /"trust" must be internal, partner or public/],
    [{ url: 'https://h.example.com/', method: 'PUT' }, /unknown field "method"/],
  ] as const) {
    assert.throws(
      () => createDestination('https', config),
      (err) => {
        invalid(pattern)(err);
        assert.doesNotMatch((err as Error).message, /hunter2/);
        return true;
      },
      JSON.stringify(config),
    );
  }
  assert.throws(
    () => createDestination('directory', { path: '/srv' }, { secret: 'x' }),
    invalid(/takes no secret/),
  );
});

test('s3 destination settings are checked field by field', () => {
  assert.equal(createDestination('s3', { bucket: 'exports', prefix: 'waybill', sse: 'AES256' }).kind, 's3');
  for (const [config, pattern] of [
    [{ bucket: 'Not_A_Bucket' }, /must be an S3 bucket name/],
    [{ bucket: 'exports', endpoint: 'http://minio.local:9000' }, /must use https/],
    [{ bucket: 'exports', endpoint: 'https://key:hunter2@minio.local' }, /must not carry credentials/],
    [{ bucket: 'exports', sse: 'rot13' }, /AES256 or aws:kms/],
    [{ bucket: 'exports', kmsKeyId: 'k' }, /needs "sse": "aws:kms"/],
    [{ bucket: 'exports', prefix: 'a/../b' }, /without "\.\." segments/],
    // Refused when the destination is added, not at the first export (the driver loads on first use).
    [{ bucket: 'exports', region: 'us east-1' }, /must be a region name/],
  ] as const) {
    assert.throws(
      () => createDestination('s3', config),
      (err) => {
        invalid(pattern)(err);
        assert.doesNotMatch((err as Error).message, /hunter2/);
        return true;
      },
      JSON.stringify(config),
    );
  }
  assert.throws(
    () => createDestination('s3', { bucket: 'exports' }, { secret: 'no-colon' }),
    invalid(/ACCESS_KEY_ID:SECRET_ACCESS_KEY/),
  );
});

test('sftp destination settings are checked field by field; the host key is required', () => {
  const key = 'SHA256:' + 'A'.repeat(43);
  const ok = { host: 'sftp.partner.example', user: 'drop', path: '/incoming', hostKey: key };
  assert.equal(createDestination('sftp', ok).kind, 'sftp');
  for (const [config, pattern] of [
    [{ ...ok, hostKey: undefined }, /field "hostKey" must be a non-empty string/],
    [{ ...ok, hostKey: 'MD5:aa:bb' }, /OpenSSH SHA256 fingerprint/],
    [{ ...ok, path: 'relative/dir' }, /absolute remote directory/],
    [{ ...ok, path: '/a/../etc' }, /without "\.\." segments/],
    [{ ...ok, port: 70000 }, /field "port" must be an integer from 1 to 65535/],
    [{ ...ok, password: 'hunter2' }, /"password" must not be in the settings/],
  ] as const) {
    assert.throws(() => createDestination('sftp', config), invalid(pattern), JSON.stringify(config));
  }
});

test('a password in the settings is refused without being echoed; secrets go where they belong', () => {
  assert.throws(
    () => createSource('postgres', { host: 'h', database: 'd', user: 'u', password: 'hunter2' }),
    (err) => {
      invalid(/"password" must not be in the settings/)(err);
      assert.doesNotMatch((err as Error).message, /hunter2/);
      return true;
    },
  );
  assert.throws(
    () => createSource('postgres', { url: 'postgresql://u:hunter2@h/d' }),
    (err) => {
      invalid(/must not contain a password/)(err);
      assert.doesNotMatch((err as Error).message, /hunter2/);
      return true;
    },
  );
  assert.throws(
    () => createSource('sqlite', { path: 'a' }, { password: 'hunter2' }),
    invalid(/takes no password/),
  );
});

test('createConnectionOpener opens sources and destinations from stored connections', async () => {
  const dir = await tempDir('waybill-opener-');
  try {
    writeFileSync(join(dir.path, 'people.csv'), 'id\n1\n');
    mkdirSync(join(dir.path, 'out'));
    const opener = createConnectionOpener();
    const record = {
      workspace: 'default',
      name: 'crm',
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-01-01T00:00:00Z',
      secret: null,
    };
    const source = await opener.openSource(
      { ...record, role: 'source', kind: 'csv', config: { path: join(dir.path, 'people.csv') } },
      undefined,
    );
    assert.deepEqual(await rows(source.read({ table: 'people', columns: ['id'] })), [['1']]);
    const destination = await opener.openDestination(
      { ...record, role: 'destination', kind: 'directory', config: { path: join(dir.path, 'out') } },
      undefined,
    );
    assert.equal(destination.kind, 'directory');
    await assert.rejects(
      opener.openSource({ ...record, role: 'source', kind: 'nope', config: {} }, undefined),
      invalid(/"nope"/),
    );
  } finally {
    await dir.cleanup();
  }
});
