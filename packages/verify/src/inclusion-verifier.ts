import { WaybillError } from './waybill-error.js';
import { MERKLE_HASH_SIZE, merkleNodeHash } from './merkle-hasher.js';
import { toTreeIndex } from './lib/tree-index.js';

/**
 * Checks an RFC 9162 §2.1.3.2 inclusion proof: that the leaf with hash `leafHash` is at `index` in the
 * tree of `size` leaves whose root is `root`. Throws `ERR_WAYBILL_PROOF_INVALID` with the reason
 * otherwise. Indexes are bigints internally, so sizes past 2^31 and 2^53 are handled exactly.
 *
 * @example
 * ```ts
 * verifyInclusion(index, checkpoint.size, merkleLeafHash(entry), proof, checkpoint.rootHash);
 * ```
 */
export function verifyInclusion(
  index: bigint | number,
  size: bigint | number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[] | null,
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!Buffer.from(computed).equals(root)) {
    throw new WaybillError(
      'ERR_WAYBILL_PROOF_INVALID',
      `inclusion proof for leaf ${index} of ${size} does not lead to the expected root: ` +
        `computed ${computed.toString('hex')}, expected ${Buffer.from(root).toString('hex')}`,
    );
  }
}

/**
 * The root an RFC 9162 §2.1.3.2 inclusion proof leads to. Throws `ERR_WAYBILL_PROOF_INVALID` when the
 * proof cannot be a proof for that index and size (wrong length, malformed hashes).
 *
 * @example
 * ```ts
 * const root = rootFromInclusionProof(3, 7, leafHash, proof);
 * ```
 */
export function rootFromInclusionProof(
  index: bigint | number,
  size: bigint | number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[] | null,
): Buffer {
  const leafIndex = toTreeIndex(index, 'leaf index', 'ERR_WAYBILL_PROOF_INVALID');
  const treeSize = toTreeIndex(size, 'tree size', 'ERR_WAYBILL_PROOF_INVALID');
  const path = proof ?? [];
  if (leafIndex >= treeSize) {
    throw invalid(`leaf index ${leafIndex} is out of range for a tree of ${treeSize} leaves`);
  }
  if (leafHash.length !== MERKLE_HASH_SIZE) {
    throw invalid(`leaf hash has ${leafHash.length} bytes, expected ${MERKLE_HASH_SIZE}`);
  }
  checkPath(path);
  // Step 2-4: fn walks the leaf's position up the tree, sn the last leaf's; where they meet, the node
  // has no right sibling and is promoted without hashing.
  let fn = leafIndex;
  let sn = treeSize - 1n;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of path) {
    if (sn === 0n)
      throw invalid(`proof has more than the expected hashes for leaf ${leafIndex} of ${treeSize}`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = merkleNodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 5: a proof that stops early leaves sn above 0.
  if (sn !== 0n)
    throw invalid(`proof has fewer than the expected hashes for leaf ${leafIndex} of ${treeSize}`);
  return r;
}

function checkPath(path: readonly Uint8Array[]): void {
  path.forEach((p, i) => {
    if (p.length !== MERKLE_HASH_SIZE)
      throw invalid(`proof hash ${i} has ${p.length} bytes, expected ${MERKLE_HASH_SIZE}`);
  });
}

function invalid(reason: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_PROOF_INVALID', reason);
}
