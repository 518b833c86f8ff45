import { WaybillError } from './waybill-error.js';
import { checkLeafHashes, largestPowerOfTwoBelow, subtreeHash } from './lib/merkle-subtree.js';
import { toLeafCount } from './lib/tree-index.js';

/**
 * The RFC 9162 §2.1.4.1 consistency proof between the tree of the first `size1` leaves and the tree of
 * the first `size2` leaves of `leafHashes` (0 < size1 <= size2 <= leafHashes.length). Equal sizes give
 * an empty proof.
 *
 * @example
 * ```ts
 * const proof = consistencyProof(3, 7, leafHashes);
 * verifyConsistency(3, 7, proof, merkleRoot(leafHashes.slice(0, 3)), merkleRoot(leafHashes.slice(0, 7)));
 * ```
 */
export function consistencyProof(
  size1: bigint | number,
  size2: bigint | number,
  leafHashes: readonly Uint8Array[],
): Buffer[] {
  const m = toLeafCount(size1, 'size1', 'ERR_WAYBILL_INVALID_INPUT');
  const n = toLeafCount(size2, 'size2', 'ERR_WAYBILL_INVALID_INPUT');
  if (m === 0 || m > n || n > leafHashes.length) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `a consistency proof needs 0 < size1 <= size2 <= ${leafHashes.length} leaves, got size1=${m}, size2=${n}`,
    );
  }
  checkLeafHashes(leafHashes, n);
  return subproof(m, leafHashes, 0, n, true);
}

// SUBPROOF(m, D[start:end], b) of RFC 9162 §2.1.4.1. `b` says whether the subtree for m is a subtree
// the verifier already knows the hash of (the old root), in which case it is left out.
function subproof(
  m: number,
  leaves: readonly Uint8Array[],
  start: number,
  end: number,
  b: boolean,
): Buffer[] {
  const n = end - start;
  if (m === n) return b ? [] : [subtreeHash(leaves, start, end)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(m, leaves, start, start + k, b), subtreeHash(leaves, start + k, end)];
  return [...subproof(m - k, leaves, start + k, end, false), subtreeHash(leaves, start, start + k)];
}
