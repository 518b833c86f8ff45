import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { WaybillError } from '@waybill/verify';
import { compileTransform, type TransformContext } from '../../src/transforms/index.js';
import { rfc4231TestCase2 } from './hmac-vectors.js';
import { keyRing } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const secretA = new Uint8Array(32).fill(0xa5);
const secretB = new Uint8Array(32).fill(0x5a);
const ctx = keyRing({
  jefe: { keyId: 'jefe-v1', secret: rfc4231TestCase2.key },
  customers: { keyId: 'customers-2025-01', secret: secretA },
  partners: { keyId: 'partners-2025-01', secret: secretB },
});

/** HMAC computed directly with node:crypto, independently of the transform. */
function hmac(secret: Uint8Array, algorithm: string, text: string, encoding: 'hex' | 'base64url'): string {
  return createHmac(algorithm, secret).update(Buffer.from(text, 'utf8')).digest(encoding);
}

void describe('hash_keyed', () => {
  void it('matches RFC 4231 test case 2 (HMAC-SHA-256, hex by default)', () => {
    const t = compileTransform({ type: 'hash_keyed', key: 'jefe' }, 'customer_id', ctx);
    assert.equal(t.apply(rfc4231TestCase2.data), rfc4231TestCase2.hmacSha256);
  });

  void it('matches RFC 4231 test case 2 (HMAC-SHA-512)', () => {
    const t = compileTransform({ type: 'hash_keyed', key: 'jefe', algorithm: 'sha512' }, 'customer_id', ctx);
    assert.equal(t.apply(rfc4231TestCase2.data), rfc4231TestCase2.hmacSha512);
  });

  void it('encodes base64url and truncates to length', () => {
    const b64 = compileTransform({ type: 'hash_keyed', key: 'jefe', encoding: 'base64url' }, 'id', ctx);
    assert.equal(
      b64.apply(rfc4231TestCase2.data),
      Buffer.from(rfc4231TestCase2.hmacSha256, 'hex').toString('base64url'),
    );
    const short = compileTransform({ type: 'hash_keyed', key: 'jefe', length: 16 }, 'id', ctx);
    assert.equal(short.apply(rfc4231TestCase2.data), rfc4231TestCase2.hmacSha256.slice(0, 16));
  });

  void it('hashes the UTF-8 text of the value: unicode, empty string and 1 MB values', () => {
    const t = compileTransform({ type: 'hash_keyed', key: 'customers' }, 'name', ctx);
    for (const v of ['', 'Zoë', 'e\u0301', '👩‍👩‍👧', '東京', 'a'.repeat(1024 * 1024)]) {
      assert.equal(t.apply(v), hmac(secretA, 'sha256', v, 'hex'));
    }
  });

  void it('hashes numbers as their decimal text, so 123 and "123" pseudonymize alike', () => {
    const t = compileTransform({ type: 'hash_keyed', key: 'customers' }, 'customer_id', ctx);
    assert.equal(t.apply(123), t.apply('123'));
    assert.equal(t.apply(123), hmac(secretA, 'sha256', '123', 'hex'));
    assert.equal(t.apply(1.5), hmac(secretA, 'sha256', '1.5', 'hex'));
    assert.equal(t.apply(-0), hmac(secretA, 'sha256', '0', 'hex'));
    // Beyond 2^53 sources deliver decimal strings; the string is hashed as is.
    assert.equal(t.apply('9007199254740993'), hmac(secretA, 'sha256', '9007199254740993', 'hex'));
  });

  void it('is deterministic per key and differs across keys', () => {
    const a1 = compileTransform({ type: 'hash_keyed', key: 'customers' }, 'email', ctx);
    const a2 = compileTransform({ type: 'hash_keyed', key: 'customers' }, 'other_field', ctx);
    const b = compileTransform({ type: 'hash_keyed', key: 'partners' }, 'email', ctx);
    const v = 'jane@example.com';
    assert.equal(a1.apply(v), a1.apply(v));
    assert.equal(a1.apply(v), a2.apply(v));
    assert.notEqual(a1.apply(v), b.apply(v));
    assert.notEqual(a1.apply(v), a1.apply('jane@example.org'));
  });

  void it('keeps null', () => {
    const t = compileTransform({ type: 'hash_keyed', key: 'customers' }, 'email', ctx);
    assert.equal(t.apply(null), null);
  });

  void it('records the key name and id, never the secret', () => {
    const t = compileTransform({ type: 'hash_keyed', key: 'customers', length: 20 }, 'email', ctx);
    assert.deepEqual(t.recorded, {
      type: 'hash_keyed',
      key: 'customers',
      keyId: 'customers-2025-01',
      algorithm: 'sha256',
      encoding: 'hex',
      length: 20,
    });
    const serialized = JSON.stringify(t.recorded);
    assert.ok(!serialized.includes(Buffer.from(secretA).toString('hex')));
    assert.ok(!serialized.includes(Buffer.from(secretA).toString('base64')));
    assert.equal(t.masking, true);
  });

  void it('fetches the key once, at compile time, and copies it', () => {
    let lookups = 0;
    const secret = new Uint8Array(rfc4231TestCase2.key);
    const counting: TransformContext = {
      hmacKey: () => {
        lookups++;
        return { keyId: 'k1', secret };
      },
    };
    const t = compileTransform({ type: 'hash_keyed', key: 'jefe' }, 'id', counting);
    secret.fill(0); // the caller wipes its buffer after handing it over
    for (let i = 0; i < 3; i++) assert.equal(t.apply(rfc4231TestCase2.data), rfc4231TestCase2.hmacSha256);
    assert.equal(lookups, 1);
  });

  void it('rejects booleans without showing the value', () => {
    const t = compileTransform({ type: 'hash_keyed', key: 'customers' }, 'is_vip', ctx);
    const err = expectWaybillError(() => t.apply(false), 'ERR_WAYBILL_TRANSFORM_FAILED');
    assert.match(err.message, /hash_keyed/);
    assert.match(err.message, /"is_vip"/);
    assert.doesNotMatch(err.message, /false/);
  });

  void it('rejects bad parameters, naming the parameter', () => {
    const cases: [unknown, string][] = [
      [{ type: 'hash_keyed' }, '"key"'],
      ['hash_keyed', '"key"'],
      [{ type: 'hash_keyed', key: '' }, '"key"'],
      [{ type: 'hash_keyed', key: 'customers', algorithm: 'md5' }, '"algorithm"'],
      [{ type: 'hash_keyed', key: 'customers', encoding: 'base64' }, '"encoding"'],
      [{ type: 'hash_keyed', key: 'customers', length: 65 }, '"length"'],
      [{ type: 'hash_keyed', key: 'customers', encoding: 'base64url', length: 44 }, '"length"'],
      [{ type: 'hash_keyed', key: 'customers', length: 0 }, '"length"'],
      [{ type: 'hash_keyed', key: 'customers', salt: 'x' }, '"salt"'],
    ];
    for (const [spec, parameter] of cases) {
      const err = expectWaybillError(
        () => compileTransform(spec as never, 'email', ctx),
        'ERR_WAYBILL_TRANSFORM_INVALID',
      );
      assert.ok(err.message.includes(parameter), `${err.message} should name ${parameter}`);
    }
    // The longest allowed truncation is the full digest.
    assert.doesNotThrow(() =>
      compileTransform({ type: 'hash_keyed', key: 'customers', algorithm: 'sha512', length: 128 }, 'f', ctx),
    );
  });

  void it('does not offer unkeyed hashing', () => {
    for (const type of ['hash', 'sha256', 'hash_unkeyed']) {
      expectWaybillError(
        () => compileTransform({ type } as never, 'email', ctx),
        'ERR_WAYBILL_TRANSFORM_INVALID',
      );
    }
  });

  void it('passes the key ring’s WaybillError through and wraps foreign errors', () => {
    const missing: TransformContext = {
      hmacKey: (name) => {
        throw new WaybillError('ERR_WAYBILL_KEY_NOT_FOUND', `no HMAC key named "${name}"`);
      },
    };
    expectWaybillError(
      () => compileTransform({ type: 'hash_keyed', key: 'x' }, 'f', missing),
      'ERR_WAYBILL_KEY_NOT_FOUND',
    );
    const err = expectWaybillError(
      () => compileTransform({ type: 'hash_keyed', key: 'nope' }, 'email', ctx),
      'ERR_WAYBILL_SECRET_UNAVAILABLE',
    );
    assert.match(err.message, /"nope"/);
    assert.ok(err.cause instanceof Error);
  });

  void it('rejects an empty secret or a missing key id from the key ring', () => {
    const empty = keyRing({ k: { keyId: 'k1', secret: new Uint8Array(0) } });
    expectWaybillError(
      () => compileTransform({ type: 'hash_keyed', key: 'k' }, 'f', empty),
      'ERR_WAYBILL_TRANSFORM_INVALID',
    );
    const noId = keyRing({ k: { keyId: '', secret: secretA } });
    expectWaybillError(
      () => compileTransform({ type: 'hash_keyed', key: 'k' }, 'f', noId),
      'ERR_WAYBILL_TRANSFORM_INVALID',
    );
  });
});
