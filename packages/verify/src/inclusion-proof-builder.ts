import { WaybillError } from './waybill-error.js';
import { MERKLE_HASH_SIZE } from './merkle-hasher.js';
import { MerkleRootBuilder } from './merkle-root-builder.js';
import { toLeafCount } from './lib/tree-index.js';

/** An inclusion proof together with everything needed to check it. */
export interface StreamedInclusionProof {
  /** 0-based index of the proven leaf. */
  readonly index: number;
  /** Number of leaves in the tree the proof is for. */
  readonly size: number;
  /** The proven leaf's hash (`merkleLeafHash(leaf)`). */
  readonly leafHash: Buffer;
  /** RFC 9162 §2.1.3.1 audit path, from the leaf's sibling up to the root's child. */
  readonly proof: Buffer[];
  /** The root of the tree over all `size` leaves. */
  readonly root: Buffer;
}

interface LevelHash {
  readonly level: number;
  readonly hash: Buffer;
}

/**
 * Builds the RFC 9162 inclusion proof of one leaf while the leaf hashes stream past, in O(log n)
 * memory, so a recipient can prove record N of a multi-million-record file without holding its hashes.
 *
 * Why this works: at height `h` the subtree holding leaf `m` is the aligned block of 2^h leaves around
 * it; its sibling is the neighbouring block. Where bit `h` of `m` is 1 the sibling lies to the left, is
 * complete, and is exactly one of the peaks a {@link MerkleRootBuilder} holds just before leaf `m`
 * arrives. Where bit `h` is 0 the sibling lies to the right; those right siblings tile the leaves after
 * `m` in order of increasing height, so each is built by its own small root builder as leaves arrive.
 * A right sibling cut short by the end of the tree is the partial subtree RFC 9162's left-balanced
 * split produces, and one that starts past the end does not exist (the node is promoted).
 *
 * @example
 * ```ts
 * const builder = new InclusionProofBuilder(1_234_567);
 * for await (const leafHash of leafHashes) builder.add(leafHash);
 * const { proof, root, size } = builder.finish();
 * ```
 */
export class InclusionProofBuilder {
  readonly #index: number;
  readonly #all = new MerkleRootBuilder();
  readonly #siblings: LevelHash[] = [];
  #leafHash: Buffer | null = null;
  #right: MerkleRootBuilder | null = null;
  #rightLevel = 0;
  #rightWidth = 1;

  /** @param index 0-based index of the leaf to prove. */
  constructor(index: bigint | number) {
    this.#index = toLeafCount(index, 'index', 'ERR_WAYBILL_INVALID_INPUT');
  }

  /** The index this builder proves. */
  get index(): number {
    return this.#index;
  }

  /** Number of leaf hashes added so far. */
  get size(): number {
    return this.#all.size;
  }

  /** Appends the next leaf hash (32 bytes). */
  add(leafHash: Uint8Array): void {
    if (leafHash.length !== MERKLE_HASH_SIZE) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `a leaf hash has ${MERKLE_HASH_SIZE} bytes, got ${leafHash.length}; pass merkleLeafHash(leaf)`,
      );
    }
    const position = this.#all.size;
    if (position === this.#index) this.#enterLeaf(leafHash);
    else if (position > this.#index) this.#addRight(leafHash);
    this.#all.add(leafHash);
  }

  /**
   * Ends the stream and returns the proof for the tree of all leaves added. Throws
   * `ERR_WAYBILL_INVALID_INPUT` when fewer than `index + 1` leaves were added.
   */
  finish(): StreamedInclusionProof {
    if (this.#leafHash === null) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `index ${this.#index} is out of range for a tree of ${this.#all.size} leaves`,
      );
    }
    const siblings = [...this.#siblings];
    if (this.#right !== null && this.#right.size > 0) {
      siblings.push({ level: this.#rightLevel, hash: this.#right.root() });
    }
    siblings.sort((a, b) => a.level - b.level);
    return {
      index: this.#index,
      size: this.#all.size,
      leafHash: Buffer.from(this.#leafHash),
      proof: siblings.map((s) => s.hash),
      root: this.#all.root(),
    };
  }

  #enterLeaf(leafHash: Uint8Array): void {
    this.#leafHash = Buffer.from(leafHash);
    // The peaks before leaf m are the left siblings: one per set bit of m, highest bit first.
    const peaks = this.#all.peaks();
    let p = 0;
    for (let level = bitLength(this.#index) - 1; level >= 0; level--) {
      if (bit(this.#index, level)) this.#siblings.push({ level, hash: peaks[p++]! });
    }
    this.#rightLevel = nextZeroBit(this.#index, 0);
    this.#rightWidth = 2 ** this.#rightLevel;
    this.#right = new MerkleRootBuilder();
  }

  #addRight(leafHash: Uint8Array): void {
    const right = this.#right!;
    right.add(leafHash);
    if (right.size === this.#rightWidth) {
      this.#siblings.push({ level: this.#rightLevel, hash: right.root() });
      this.#rightLevel = nextZeroBit(this.#index, this.#rightLevel + 1);
      this.#rightWidth = 2 ** this.#rightLevel;
      this.#right = new MerkleRootBuilder();
    }
  }
}

// Bit arithmetic on numbers up to 2^53: `>>` and `&` would truncate to 32 bits.
function bit(n: number, level: number): boolean {
  return Math.floor(n / 2 ** level) % 2 === 1;
}

function bitLength(n: number): number {
  let bits = 0;
  while (2 ** bits <= n) bits++;
  return bits;
}

function nextZeroBit(n: number, from: number): number {
  let level = from;
  while (bit(n, level)) level++;
  return level;
}
