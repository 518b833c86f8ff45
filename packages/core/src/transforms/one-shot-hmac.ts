import { createHash, hash } from 'node:crypto';

const BLOCK = { sha256: 64, sha512: 128 } as const;
const OUT = { sha256: 32, sha512: 64 } as const;

/**
 * HMAC (RFC 2104) over `crypto.hash` one-shot calls: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)).
 *
 * Why not `createHmac`: it builds a native object, a key schedule and a digest Buffer per value, which
 * dominates an export that pseudonymizes millions of values (~1.3 µs vs ~0.5 µs per value here). The
 * padded keys are computed once; the message is written into a reused buffer. Checked against
 * `createHmac` and the RFC 4231 vectors in the tests.
 */
export class OneShotHmac {
  private readonly block: number;
  private inner: Buffer;
  private readonly outer: Buffer;

  constructor(
    private readonly algorithm: 'sha256' | 'sha512',
    key: Uint8Array,
  ) {
    const B = BLOCK[algorithm];
    this.block = B;
    // RFC 2104 §2: keys longer than the block are hashed first; shorter ones are zero-padded.
    const k = key.length > B ? createHash(algorithm).update(key).digest() : Buffer.from(key);
    this.inner = Buffer.alloc(B + 1024);
    this.outer = Buffer.alloc(B + OUT[algorithm]);
    for (let i = 0; i < B; i++) {
      const kb = i < k.length ? k[i]! : 0;
      this.inner[i] = kb ^ 0x36;
      this.outer[i] = kb ^ 0x5c;
    }
  }

  /** The HMAC of the UTF-8 bytes of `text`. */
  digest(text: string, encoding: 'hex' | 'base64url'): string {
    const B = this.block;
    // A UTF-16 code unit becomes at most 3 UTF-8 bytes; grow the buffer before writing, never truncate.
    if (text.length * 3 > this.inner.length - B) {
      const grown = Buffer.alloc(B + text.length * 3);
      this.inner.copy(grown, 0, 0, B);
      this.inner = grown;
    }
    const n = this.inner.write(text, B, 'utf8');
    const innerDigest = hash(this.algorithm, this.inner.subarray(0, B + n), 'binary');
    this.outer.write(innerDigest, B, 'latin1');
    return hash(this.algorithm, this.outer, encoding);
  }
}
