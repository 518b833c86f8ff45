import { WaybillError } from './waybill-error.js';
import { checkLeafHashes, largestPowerOfTwoBelow, subtreeHash } from './lib/merkle-subtree.js';
import { toLeafCount } from './lib/tree-index.js';

/**
 * The RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `index` in the tree over `leafHashes`,
 * from the leaf's sibling up to the root's child.
 *
 * Holds every leaf hash in memory; to prove one record of a large file, stream the hashes through an
 * {@link InclusionProofBuilder} instead.
 *
 * @example
 * ```ts
 * const proof = inclusionProof(3, leafHashes);
 * verifyInclusion(3, leafHashes.length, leafHashes[3], proof, merkleRoot(leafHashes));
 * ```
 */
export function inclusionProof(index: bigint | number, leafHashes: readonly Uint8Array[]): Buffer[] {
  const m = toLeafCount(index, 'index', 'ERR_WAYBILL_INVALID_INPUT');
  if (m >= leafHashes.length) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `index ${m} is out of range for a tree of ${leafHashes.length} leaves`,
    );
  }
  checkLeafHashes(leafHashes, leafHashes.length);
  return path(m, leafHashes, 0, leafHashes.length);
}

// PATH(m, D[n]) of RFC 9162 §2.1.3.1 on the slice [start, end) of the leaves.
function path(m: number, leaves: readonly Uint8Array[], start: number, end: number): Buffer[] {
  const n = end - start;
  if (n <= 1) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...path(m, leaves, start, start + k), subtreeHash(leaves, start + k, end)];
  return [...path(m - k, leaves, start + k, end), subtreeHash(leaves, start, start + k)];
}
