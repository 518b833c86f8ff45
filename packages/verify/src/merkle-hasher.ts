import { createHash, hash } from 'node:crypto';

// RFC 9162 §2.1.1 domain-separates leaves from interior nodes so a leaf can never be passed off as a
// node (second-preimage attack on the tree).
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** Size in bytes of every hash in a Waybill Merkle tree (SHA-256). */
export const MERKLE_HASH_SIZE = 32;

/**
 * The RFC 9162 §2.1.1 leaf hash: `SHA-256(0x00 || leaf)`.
 *
 * @example
 * ```ts
 * const leafHash = merkleLeafHash(Buffer.from(record.digest, 'hex'));
 * ```
 */
export function merkleLeafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

// Interior nodes are hashed once per leaf when a tree is built, so they use the one-shot `crypto.hash`
// (Node >= 20.12) over a reused 65-byte buffer instead of a hash object per node.
const nodeInput = Buffer.alloc(1 + 2 * MERKLE_HASH_SIZE);
nodeInput[0] = NODE_PREFIX[0]!;

/**
 * The RFC 9162 §2.1.1 interior node hash: `SHA-256(0x01 || left || right)`.
 *
 * @example
 * ```ts
 * const parent = merkleNodeHash(leftChild, rightChild);
 * ```
 */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== MERKLE_HASH_SIZE || right.length !== MERKLE_HASH_SIZE) {
    return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + MERKLE_HASH_SIZE);
  return hash('sha256', nodeInput, 'buffer');
}

/**
 * The root of the empty tree, `SHA-256("")` (RFC 9162 §2.1.1).
 *
 * @example
 * ```ts
 * merkleEmptyRoot().toString('hex'); // 'e3b0c442…b855'
 * ```
 */
export function merkleEmptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/** `merkleNodeHash` over 32-char 'binary' strings, returning one: for the builders' hot loop. */
export function merkleNodeHashBinary(left: string, right: string): string {
  nodeInput.write(left, 1, 'latin1');
  nodeInput.write(right, 1 + MERKLE_HASH_SIZE, 'latin1');
  return hash('sha256', nodeInput, 'binary');
}
