import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AesSiv } from '../../src/transforms/aes-siv.js';

const h = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

test('AES-SIV: RFC 5297 A.1, deterministic authenticated encryption (AES-128-SIV)', () => {
  const siv = new AesSiv(h('fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0 f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'));
  const ad = [h('101112131415161718191a1b1c1d1e1f 2021222324252627')];
  const out = siv.encrypt(h('112233445566778899aabbccddee'), ad);
  assert.equal(out.toString('hex'), '85632d07c6e8f37f950acd320a2ecc93' + '40c02b9690c4dc04daef7f6afe5c');
  assert.equal(siv.decrypt(out, ad)?.toString('hex'), '112233445566778899aabbccddee');
});

test('AES-SIV: RFC 5297 A.2, several associated data strings and a nonce', () => {
  const siv = new AesSiv(h('7f7e7d7c7b7a79787776757473727170 404142434445464748494a4b4c4d4e4f'));
  const ad = [
    h('00112233445566778899aabbccddeeff deaddadadeaddadaffeeddccbbaa9988 7766554433221100'),
    h('102030405060708090a0'),
    h('09f911029d74e35bd84156c5635688c0'),
  ];
  const plain = h(
    '7468697320697320736f6d6520706c61 696e7465787420746f20656e63727970 74207573696e67205349562d414553',
  );
  assert.equal(
    siv.encrypt(plain, ad).toString('hex'),
    '7bdb6e3b432667eb06f4d14bff2fbd0f' +
      'cb900f2fddbe404326601965c889bf17 dba77ceb094fa663b7a3f748ba8af829 ea64ad544a272e9c485b62a3fd5c0d'.replace(
        /\s/g,
        '',
      ),
  );
});

test('AES-SIV: every length round-trips under a 512-bit key; a flipped bit, other data or another key fails', () => {
  const key = Buffer.alloc(64, 9);
  const siv = new AesSiv(key);
  for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 100]) {
    const p = Buffer.alloc(n, 0xab);
    const c = siv.encrypt(p, [Buffer.from('ctx')]);
    assert.equal(c.length, 16 + n);
    assert.deepEqual(siv.decrypt(c, [Buffer.from('ctx')]), p);
    assert.deepEqual(siv.encrypt(p, [Buffer.from('ctx')]), c, 'deterministic');
    for (let bit = 0; bit < c.length * 8; bit += 7) {
      const t = Buffer.from(c);
      t[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(siv.decrypt(t, [Buffer.from('ctx')]), null, `bit ${bit} of ${n}`);
    }
    assert.equal(siv.decrypt(c, [Buffer.from('other')]), null);
    assert.equal(new AesSiv(Buffer.alloc(64, 8)).decrypt(c, [Buffer.from('ctx')]), null);
  }
  assert.throws(() => new AesSiv(Buffer.alloc(48)), /32- or 64-byte key/);
});
