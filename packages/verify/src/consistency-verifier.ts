import { WaybillError } from './waybill-error.js';
import { MERKLE_HASH_SIZE, merkleNodeHash } from './merkle-hasher.js';
import { toTreeIndex } from './lib/tree-index.js';

/**
 * Checks an RFC 9162 §2.1.4.2 consistency proof: that the tree of `size2` leaves with root `root2`
 * extends the tree of `size1` leaves with root `root1`. Throws `ERR_WAYBILL_PROOF_INVALID` with the
 * reason otherwise.
 *
 * Equal sizes need an empty proof and equal roots. A first size of 0 is refused: RFC 9162 defines the
 * check for 0 < first, and "consistent with the empty tree" proves nothing about either log state.
 *
 * @example
 * ```ts
 * verifyConsistency(old.size, latest.size, proof, old.rootHash, latest.rootHash);
 * ```
 */
export function verifyConsistency(
  size1: bigint | number,
  size2: bigint | number,
  proof: readonly Uint8Array[] | null,
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const first = toTreeIndex(size1, 'size1', 'ERR_WAYBILL_PROOF_INVALID');
  const second = toTreeIndex(size2, 'size2', 'ERR_WAYBILL_PROOF_INVALID');
  const path = proof ?? [];
  if (first === 0n) throw invalid('size1 is 0: a consistency proof from the empty tree proves nothing');
  if (second < first) throw invalid(`size2 (${second}) is smaller than size1 (${first})`);
  if (first === second) {
    if (path.length > 0) throw invalid(`size1 = size2 = ${first}, but the proof is not empty`);
    if (!Buffer.from(root1).equals(root2)) throw invalid(`size1 = size2 = ${first}, but the roots differ`);
    return;
  }
  // Step 1.
  if (path.length === 0) throw invalid('the proof is empty');
  path.forEach((p, i) => {
    if (p.length !== MERKLE_HASH_SIZE)
      throw invalid(`proof hash ${i} has ${p.length} bytes, expected ${MERKLE_HASH_SIZE}`);
  });
  // Step 2: when the old tree is a perfect subtree of the new one, its root is the start of the path.
  const hashes = (first & (first - 1n)) === 0n ? [root1, ...path] : [...path];
  // Step 3-4.
  let fn = first - 1n;
  let sn = second - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 5.
  let fr: Buffer = Buffer.from(hashes[0]!);
  let sr: Buffer = Buffer.from(hashes[0]!);
  // Step 6.
  for (const c of hashes.slice(1)) {
    if (sn === 0n) throw invalid(`proof has more than the expected hashes for sizes ${first} → ${second}`);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = merkleNodeHash(c, fr);
      sr = merkleNodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = merkleNodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 7.
  if (sn !== 0n) throw invalid(`proof has fewer than the expected hashes for sizes ${first} → ${second}`);
  if (!fr.equals(root1)) throw invalid(`proof does not lead to root1 (computed ${fr.toString('hex')})`);
  if (!sr.equals(root2)) throw invalid(`proof does not lead to root2 (computed ${sr.toString('hex')})`);
}

function invalid(reason: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_PROOF_INVALID', `consistency proof rejected: ${reason}`);
}
