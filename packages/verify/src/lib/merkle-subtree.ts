import { WaybillError } from '../waybill-error.js';
import { MERKLE_HASH_SIZE, merkleEmptyRoot, merkleNodeHash } from '../merkle-hasher.js';

/** MTH(D[start:end]) of RFC 9162 §2.1.1. */
export function subtreeHash(leaves: readonly Uint8Array[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 0) return merkleEmptyRoot();
  if (n === 1) return Buffer.from(leaves[start]!);
  const k = largestPowerOfTwoBelow(n);
  return merkleNodeHash(subtreeHash(leaves, start, start + k), subtreeHash(leaves, start + k, end));
}

/** The largest power of two strictly less than `n` (n >= 2), the RFC 9162 split point. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Rejects leaf hashes that are not 32 bytes: a common mistake is passing the leaves themselves. */
export function checkLeafHashes(leafHashes: readonly Uint8Array[], count: number): void {
  for (let i = 0; i < count; i++) {
    if (leafHashes[i]!.length !== MERKLE_HASH_SIZE) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `leaf hash ${i} has ${leafHashes[i]!.length} bytes, expected ${MERKLE_HASH_SIZE}; pass merkleLeafHash(leaf)`,
      );
    }
  }
}
