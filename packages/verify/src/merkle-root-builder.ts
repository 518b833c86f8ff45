import { WaybillError } from './waybill-error.js';
import { MERKLE_HASH_SIZE, merkleEmptyRoot, merkleNodeHashBinary } from './merkle-hasher.js';

/**
 * Computes an RFC 9162 §2.1.1 Merkle tree root from leaf hashes fed one at a time, in O(log n) memory.
 *
 * The builder keeps one hash per set bit of the current size: the roots of the perfect subtrees that
 * make up the binary decomposition of the leaves seen so far ("peaks"), largest first. Because RFC 9162
 * always splits at the largest power of two below the size, the root is these peaks folded from the
 * right, so a records file with millions of lines never needs its hashes in memory.
 *
 * @example
 * ```ts
 * const builder = new MerkleRootBuilder();
 * for await (const digest of digests) builder.add(merkleLeafHash(digest));
 * const root = builder.root();
 * ```
 */
export class MerkleRootBuilder {
  // Peaks are kept as 'binary' (latin1) strings of 32 chars: a V8 string is far cheaper to create than
  // a Buffer, and an export folds one node per record on average (measured: ~3× faster at 1M leaves).
  readonly #peaks: string[] = [];
  #size = 0;

  /** Number of leaves added so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends the leaf hash (`merkleLeafHash(leaf)`, 32 bytes) of the next leaf. */
  add(leafHash: Uint8Array): void {
    if (leafHash.length !== MERKLE_HASH_SIZE) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `a leaf hash has ${MERKLE_HASH_SIZE} bytes, got ${leafHash.length}; pass merkleLeafHash(leaf), not the leaf`,
      );
    }
    this.#push(Buffer.from(leafHash.buffer, leafHash.byteOffset, MERKLE_HASH_SIZE).toString('latin1'));
  }

  /** Appends many leaf hashes at once: `leafHashes` holds them back to back, 32 bytes each. */
  addAll(leafHashes: Uint8Array): void {
    if (leafHashes.length % MERKLE_HASH_SIZE !== 0) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `leaf hashes come in ${MERKLE_HASH_SIZE}-byte units`,
      );
    }
    const all = Buffer.from(leafHashes.buffer, leafHashes.byteOffset, leafHashes.byteLength).toString(
      'latin1',
    );
    for (let i = 0; i < all.length; i += MERKLE_HASH_SIZE) this.#push(all.slice(i, i + MERKLE_HASH_SIZE));
  }

  #push(leaf: string): void {
    if (this.#size >= Number.MAX_SAFE_INTEGER) {
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'too many leaves for a streaming builder');
    }
    let hash = leaf;
    // Each trailing 1 bit of the old size is a peak of the same height as the carry: merge them.
    for (let n = this.#size; n % 2 === 1; n = (n - 1) / 2) {
      hash = merkleNodeHashBinary(this.#peaks.pop()!, hash);
    }
    this.#peaks.push(hash);
    this.#size += 1;
  }

  /**
   * The roots of the perfect subtrees covering the leaves so far, largest (leftmost) first. Their
   * sizes are the set bits of `size`, high to low.
   */
  peaks(): Buffer[] {
    return this.#peaks.map((p) => Buffer.from(p, 'latin1'));
  }

  /** The root of the tree over all leaves added so far; the empty-tree root for zero leaves. */
  root(): Buffer {
    const peaks = this.#peaks;
    if (peaks.length === 0) return merkleEmptyRoot();
    let root = peaks[peaks.length - 1]!;
    for (let i = peaks.length - 2; i >= 0; i--) root = merkleNodeHashBinary(peaks[i]!, root);
    return Buffer.from(root, 'latin1');
  }
}

/**
 * The RFC 9162 §2.1.1 root over a list of leaf hashes.
 *
 * @example
 * ```ts
 * const root = merkleRoot(leaves.map(merkleLeafHash));
 * ```
 */
export function merkleRoot(leafHashes: Iterable<Uint8Array>): Buffer {
  const builder = new MerkleRootBuilder();
  for (const h of leafHashes) builder.add(h);
  return builder.root();
}
