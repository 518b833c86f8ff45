import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/secrets/secret-box.js';
import { LocalKeyProvider } from '../../src/secrets/key-provider.js';

test('seal/open round-trips and the ciphertext does not contain the plaintext', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('s3cret-pässword', 'connection:default:source:crm');
  assert.ok(!sealed.includes('s3cret'));
  assert.match(sealed, /^v2:local:[0-9a-f]{16}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.equal(box.open(sealed, 'connection:default:source:crm').toString('utf8'), 's3cret-pässword');
  assert.notEqual(
    box.seal('same', 'ctx').split(':')[3],
    box.seal('same', 'ctx').split(':')[3],
    'a data key per value',
  );
});

test('secret-moved-to-another-connection-fails-to-open', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('pw', 'connection:default:source:a');
  assert.throws(() => box.open(sealed, 'connection:default:source:b'), {
    code: 'ERR_WAYBILL_SECRET_UNAVAILABLE',
  });
});

test('flipped-byte-in-sealed-secret-is-detected, in the wrapped data key and in the value', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('pw', 'ctx');
  const parts = sealed.split(':');
  for (const at of [3, 4]) {
    const raw = Buffer.from(parts[at]!, 'base64');
    for (let i = 0; i < raw.length; i++) {
      const copy = Buffer.from(raw);
      copy[i] = copy[i]! ^ 1;
      const changed = [...parts];
      changed[at] = copy.toString('base64');
      assert.throws(() => box.open(changed.join(':'), 'ctx'), { code: 'ERR_WAYBILL_SECRET_UNAVAILABLE' });
    }
  }
});

test('a wrong master key cannot open, and the error does not leak the value', () => {
  const sealed = new SecretBox(randomBytes(32)).seal('hunter2', 'ctx');
  assert.throws(
    () => new SecretBox(randomBytes(32)).open(sealed, 'ctx'),
    (e: Error) => !e.message.includes('hunter2') && /not by this master key/.test(e.message),
  );
  assert.throws(() => new SecretBox(randomBytes(16)), { code: 'ERR_WAYBILL_HOME_INVALID' });
});

test('values of the earlier v1 format (sealed straight under the master key) still open', () => {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from('ctx'));
  const ct = Buffer.concat([c.update('legacy'), c.final()]);
  const v1 = `v1:${Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64')}`;
  assert.equal(new SecretBox(key).open(v1, 'ctx').toString(), 'legacy');
  assert.throws(() => new SecretBox(randomBytes(32)).open(v1, 'ctx'), /wrong master key/);
});

test('rewrap moves a value to a new master key without touching its ciphertext; the old key no longer opens it', () => {
  const oldBox = new SecretBox(randomBytes(32));
  const newBox = new SecretBox(new LocalKeyProvider(randomBytes(32)));
  const sealed = oldBox.seal('pg-password', 'connection:default:source:crm');
  const moved = oldBox.rewrap(sealed, 'connection:default:source:crm', newBox);
  assert.equal(moved.split(':')[4], sealed.split(':')[4], 'same ciphertext');
  assert.notEqual(moved.split(':')[3], sealed.split(':')[3], 'a re-wrapped data key');
  assert.equal(newBox.open(moved, 'connection:default:source:crm').toString(), 'pg-password');
  assert.throws(() => oldBox.open(moved, 'connection:default:source:crm'), /not by this master key/);
  // A tampered value is not vouched for under the new key.
  const parts = sealed.split(':');
  const body = Buffer.from(parts[4]!, 'base64');
  body[0]! ^= 1;
  parts[4] = body.toString('base64');
  assert.throws(() => oldBox.rewrap(parts.join(':'), 'connection:default:source:crm', newBox), {
    code: 'ERR_WAYBILL_SECRET_UNAVAILABLE',
  });
});
