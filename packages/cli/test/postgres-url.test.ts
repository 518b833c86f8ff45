import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitPostgresUrl } from '../src/postgres-url.js';

test('password-with-unencoded-at-sign-never-leaks-into-the-stored-url', () => {
  assert.deepEqual(splitPostgresUrl('postgres://reader:Secret@Tail99@127.0.0.1:55432/crm'), {
    url: 'postgres://reader@127.0.0.1:55432/crm',
    password: 'Secret@Tail99',
  });
  assert.deepEqual(splitPostgresUrl('postgresql://u:p%40ss%3Aw@/db?host=/tmp/s&port=5'), {
    url: 'postgresql://u@/db?host=/tmp/s&port=5',
    password: 'p@ss:w',
  });
  assert.deepEqual(splitPostgresUrl('postgres://u:a:b@h/db'), { url: 'postgres://u@h/db', password: 'a:b' });
  assert.deepEqual(splitPostgresUrl('postgres://u@h/db'), { url: 'postgres://u@h/db' });
  assert.deepEqual(splitPostgresUrl('postgres://h/db?x=a@b'), { url: 'postgres://h/db?x=a@b' });
  assert.throws(() => splitPostgresUrl('postgres://u:%zz@h/db'));
});
