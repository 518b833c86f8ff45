import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { OneShotHmac } from '../../src/transforms/one-shot-hmac.js';

// The one-shot construction must equal node:crypto's HMAC for every key length (shorter than, equal
// to and longer than the block), message (empty, unicode, longer than the initial buffer) and output.
test('OneShotHmac equals createHmac across key lengths, messages, algorithms and encodings', () => {
  const messages = ['', 'a', 'user1@example.com', 'é😀中文\u0301', 'x'.repeat(5000), '€'.repeat(2000)];
  for (const algorithm of ['sha256', 'sha512'] as const) {
    for (const keyLength of [0, 1, 4, 32, 63, 64, 65, 127, 128, 129, 300]) {
      const key = randomBytes(keyLength);
      const h = new OneShotHmac(algorithm, key);
      for (const encoding of ['hex', 'base64url'] as const) {
        for (const m of [...messages, ...messages.slice().reverse()]) {
          assert.equal(h.digest(m, encoding), createHmac(algorithm, key).update(m, 'utf8').digest(encoding));
        }
      }
    }
  }
});

test('RFC 4231 test case 2 (key "Jefe")', () => {
  const h = new OneShotHmac('sha256', Buffer.from('Jefe'));
  assert.equal(
    h.digest('what do ya want for nothing?', 'hex'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
});
