import { createCipheriv, timingSafeEqual } from 'node:crypto';

/**
 * AES-SIV (RFC 5297): deterministic authenticated encryption. Node's crypto has AES but no SIV mode,
 * so this composes it from AES primitives: CMAC (RFC 4493) over AES-CBC with a zero IV, S2V over the
 * associated data and the plaintext, and AES-CTR keyed by the second half of the key with the synthetic
 * IV as counter. Checked against the RFC 5297 appendix A vectors in the tests.
 *
 * The key is K1 ‖ K2: 32 bytes for AES-128-SIV, 64 for AES-256-SIV. The output is V ‖ C (16 + |P|).
 */
export class AesSiv {
  private readonly algorithm: 'aes-128' | 'aes-256';
  private readonly macKey: Buffer;
  private readonly ctrKey: Buffer;
  private readonly k1: Buffer;
  private readonly k2: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32 && key.length !== 64) throw new RangeError('AES-SIV takes a 32- or 64-byte key');
    const half = key.length / 2;
    this.algorithm = half === 16 ? 'aes-128' : 'aes-256';
    this.macKey = Buffer.from(key.subarray(0, half));
    this.ctrKey = Buffer.from(key.subarray(half));
    // RFC 4493 §2.3: subkeys from L = AES(K, 0^128).
    const l = createCipheriv(`${this.algorithm}-ecb`, this.macKey, null).setAutoPadding(false).update(ZERO);
    this.k1 = dbl(l);
    this.k2 = dbl(this.k1);
  }

  /** RFC 4493 CMAC of `m` under the S2V key. */
  cmac(m: Uint8Array): Buffer {
    const n = Math.max(1, Math.ceil(m.length / 16));
    const complete = m.length > 0 && m.length % 16 === 0;
    const padded = Buffer.alloc(n * 16);
    padded.set(m);
    if (!complete) padded[m.length] = 0x80;
    const sub = complete ? this.k1 : this.k2;
    for (let i = 0; i < 16; i++) padded[(n - 1) * 16 + i]! ^= sub[i]!;
    const c = createCipheriv(`${this.algorithm}-cbc`, this.macKey, ZERO).setAutoPadding(false);
    const out = c.update(padded);
    return out.subarray(out.length - 16);
  }

  /** S2V (RFC 5297 §2.4) of the associated data strings and the plaintext. */
  s2v(ad: readonly Uint8Array[], p: Uint8Array): Buffer {
    let d = this.cmac(ZERO);
    for (const s of ad) d = xor(dbl(d), this.cmac(s));
    if (p.length >= 16) {
      const t = Buffer.from(p);
      for (let i = 0; i < 16; i++) t[p.length - 16 + i]! ^= d[i]!;
      return this.cmac(t);
    }
    const padded = Buffer.alloc(16);
    padded.set(p);
    padded[p.length] = 0x80;
    return this.cmac(xor(dbl(d), padded));
  }

  encrypt(p: Uint8Array, ad: readonly Uint8Array[] = []): Buffer {
    const v = this.s2v(ad, p);
    return Buffer.concat([v, this.ctr(v, p)]);
  }

  /** The plaintext, or null when `sealed` does not authenticate under this key and `ad`. */
  decrypt(sealed: Uint8Array, ad: readonly Uint8Array[] = []): Buffer | null {
    if (sealed.length < 16) return null;
    const v = Buffer.from(sealed.subarray(0, 16));
    const p = this.ctr(v, sealed.subarray(16));
    return timingSafeEqual(this.s2v(ad, p), v) ? p : null;
  }

  private ctr(v: Buffer, data: Uint8Array): Buffer {
    // RFC 5297 §2.6: the counter is V with the 31st and 63rd bits (from the right) cleared.
    const q = Buffer.from(v);
    q[8]! &= 0x7f;
    q[12]! &= 0x7f;
    const c = createCipheriv(`${this.algorithm}-ctr`, this.ctrKey, q);
    return Buffer.concat([c.update(data), c.final()]);
  }
}

const ZERO = Buffer.alloc(16);

/** Doubling in GF(2^128) (RFC 5297 §2.3). */
function dbl(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 15; i++) out[i] = ((b[i]! << 1) | (b[i + 1]! >>> 7)) & 0xff;
  out[15] = (b[15]! << 1) & 0xff;
  if (b[0]! & 0x80) out[15] ^= 0x87;
  return out;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
