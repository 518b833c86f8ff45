import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/secrets/secret-box.js';

test('seal/open round-trips and the ciphertext does not contain the plaintext', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('s3cret-pässword', 'connection:default:source:crm');
  assert.ok(!sealed.includes('s3cret'));
  assert.equal(box.open(sealed, 'connection:default:source:crm').toString('utf8'), 's3cret-pässword');
});

test('secret-moved-to-another-connection-fails-to-open', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('pw', 'connection:default:source:a');
  assert.throws(() => box.open(sealed, 'connection:default:source:b'), {
    code: 'ERR_WAYBILL_SECRET_UNAVAILABLE',
  });
});

test('flipped-byte-in-sealed-secret-is-detected', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('pw', 'ctx');
  const raw = Buffer.from(sealed.slice(3), 'base64');
  for (let i = 0; i < raw.length; i++) {
    const copy = Buffer.from(raw);
    copy[i] = copy[i]! ^ 1;
    assert.throws(() => box.open(`v1:${copy.toString('base64')}`, 'ctx'), {
      code: 'ERR_WAYBILL_SECRET_UNAVAILABLE',
    });
  }
});

test('a wrong master key cannot open, and the error does not leak the value', () => {
  const sealed = new SecretBox(randomBytes(32)).seal('hunter2', 'ctx');
  assert.throws(
    () => new SecretBox(randomBytes(32)).open(sealed, 'ctx'),
    (e: Error) => !e.message.includes('hunter2') && /wrong master key/.test(e.message),
  );
  assert.throws(() => new SecretBox(randomBytes(16)), { code: 'ERR_WAYBILL_HOME_INVALID' });
});
