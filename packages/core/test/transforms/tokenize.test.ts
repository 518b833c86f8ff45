import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, hkdfSync } from 'node:crypto';
import { compileTransform, isToken, openVaultEntry } from '../../src/index.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const secret = Buffer.alloc(32, 7);
const ctx = { hmacKey: (name: string) => ({ keyId: `hmac-${name}`, secret }) };

test('tokenize: known answer — the HMAC-SHA-256 of the value under the derived key, 128 bits in hex', () => {
  const t = compileTransform({ type: 'tokenize', key: 'vault' }, 'email', ctx);
  const derived = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'waybill/tokenize/v1', 32));
  const expected =
    'tok_' + createHmac('sha256', derived).update('ann@example.com').digest('hex').slice(0, 32);
  assert.equal(t.apply('ann@example.com'), expected);
  assert.ok(isToken(expected));
  // Numbers in their decimal form; the same in every compiled instance (workers agree).
  const other = compileTransform({ type: 'tokenize', key: 'vault' }, 'email', ctx);
  assert.equal(other.apply(42), t.apply('42'));
  assert.equal(t.apply(null), null);
  assert.notEqual(t.apply('ann@example.com '), expected);
  assert.deepEqual(t.recorded, { type: 'tokenize', key: 'vault', keyId: 'hmac-vault', vault: 'store' });
  assert.equal(t.masking, true);
});

test('tokenize: each token is handed to the vault once, and its entry opens only to its value', () => {
  const t = compileTransform({ type: 'tokenize', key: 'vault' }, 'email', ctx);
  const a = t.apply('ann@example.com') as string;
  t.apply('ann@example.com');
  const b = t.apply('bo@example.org') as string;
  const entries = t.drainVault!();
  assert.deepEqual(
    entries.map((e) => e.token),
    [a, b],
  );
  assert.deepEqual(t.drainVault!(), [], 'drained');
  t.apply('ann@example.com');
  assert.deepEqual(t.drainVault!(), [], 'a token already handed over is not sealed again');
  assert.equal(openVaultEntry(entries[0]!, secret), 'ann@example.com');
  assert.ok(!entries[0]!.sealed.includes('ann'));
  // Another token's entry, another key, a flipped byte: none opens.
  expectWaybillError(
    () => openVaultEntry({ token: b, sealed: entries[0]!.sealed }, secret),
    'ERR_WAYBILL_INVALID_INPUT',
  );
  expectWaybillError(() => openVaultEntry(entries[0]!, Buffer.alloc(32, 8)), 'ERR_WAYBILL_INVALID_INPUT');
  const raw = Buffer.from(entries[0]!.sealed, 'base64url');
  raw[14]! ^= 1;
  expectWaybillError(
    () => openVaultEntry({ token: a, sealed: raw.toString('base64url') }, secret),
    'ERR_WAYBILL_INVALID_INPUT',
  );
});

test('tokenize refuses booleans and needs a key', () => {
  const t = compileTransform({ type: 'tokenize', key: 'vault' }, 'flag', ctx);
  expectWaybillError(() => t.apply(true), 'ERR_WAYBILL_TRANSFORM_FAILED');
  expectWaybillError(
    () => compileTransform({ type: 'tokenize' } as never, 'f', ctx),
    'ERR_WAYBILL_TRANSFORM_INVALID',
  );
});
