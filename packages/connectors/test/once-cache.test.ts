import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnceCache } from '../src/lib/once-cache.js';

test('a value is read once per key and shared by concurrent callers', async () => {
  const cache = new OnceCache<string, number>();
  let reads = 0;
  const load = () => Promise.resolve(++reads);
  const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
  assert.deepEqual([a, b, await cache.get('k', load)], [1, 1, 1]);
  assert.equal(await cache.get('other', load), 2);
  assert.equal(reads, 2);
});

test('a failed read is forgotten: the next call reads again', async () => {
  const cache = new OnceCache<string, string>();
  await assert.rejects(
    cache.get('k', () => Promise.reject(new Error('app down'))),
    /app down/,
  );
  assert.equal(await cache.get('k', () => Promise.resolve('ok')), 'ok');
});
