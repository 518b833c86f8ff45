// Proofs past 2^31 and 2^32 leaves. No database here can hold billions of entries, so the store is a
// stand-in (the only one in the test suite): a virtual log whose every leaf hash is the same, so each
// stored node at height h has the same known hash. Proof shapes still depend on the index and
// size exactly as in a real log, and they are checked by @waybill/verify's BigInt verifier, so any
// 32-bit overflow in the tree arithmetic would show as a failed verification.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { merkleNodeHash, verifyConsistency, verifyInclusion } from '@waybill/verify';
import { TreeReader, type Store } from '../../src/index.js';
import { largestPowerOfTwoBelow } from '../../src/audit/stored-merkle-tree.js';

const leaf = createHash('sha256').update('leaf').digest();
const levels: Buffer[] = [leaf];
for (let h = 1; h <= 52; h++) levels.push(merkleNodeHash(levels[h - 1]!, levels[h - 1]!));

let reads = 0;
let nodesRead = 0;
const virtualLog = {
  auditTreeHashes: (keys: readonly { height: number; index: number }[]) => {
    reads++;
    nodesRead += keys.length;
    return Promise.resolve(keys.map((k) => ({ ...k, hash: levels[k.height]!.toString('hex') })));
  },
} as unknown as Store;

describe('stored Merkle tree beyond 32-bit sizes', () => {
  it('finds the largest power of two below n exactly, up to 2^53', () => {
    assert.equal(largestPowerOfTwoBelow(2), 1);
    assert.equal(largestPowerOfTwoBelow(3), 2);
    assert.equal(largestPowerOfTwoBelow(2 ** 31 + 1), 2 ** 31);
    assert.equal(largestPowerOfTwoBelow(2 ** 32), 2 ** 31);
    assert.equal(largestPowerOfTwoBelow(2 ** 52 + 1), 2 ** 52);
    assert.equal(largestPowerOfTwoBelow(2 ** 53 - 1), 2 ** 52);
  });

  for (const [size, index] of [
    [2 ** 31 + 5, 2 ** 31 + 3],
    [2 ** 33 + 12_345, 2 ** 32 + 777],
    [3 * 2 ** 40 + 1, 2 ** 41 - 1],
  ] as const) {
    it(`proves entry ${index} in a log of ${size} entries and consistency from 2^31`, async () => {
      reads = 0;
      nodesRead = 0;
      const reader = new TreeReader(virtualLog, size);
      const root = await reader.root();
      const path = await reader.inclusionProof(index);
      verifyInclusion(BigInt(index), BigInt(size), leaf, path, root);
      const old = 2 ** 31 + 1;
      const oldRoot = await new TreeReader(virtualLog, old).root();
      verifyConsistency(old, size, await reader.consistencyProof(old), oldRoot, root);
      // Each root or proof is one read of a few stored nodes, never the log.
      assert.equal(reads, 4);
      assert.ok(nodesRead < 4 * 64, `${nodesRead} nodes read`);
    });
  }
});
