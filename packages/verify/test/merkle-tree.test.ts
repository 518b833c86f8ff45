import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  InclusionProofBuilder,
  MerkleRootBuilder,
  WaybillError,
  consistencyProof,
  inclusionProof,
  merkleEmptyRoot,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => merkleLeafHash(Buffer.from(`leaf ${i}`)));

// MTH(D[n]) exactly as RFC 9162 §2.1.1 writes it, as the reference for the streaming builder.
function naiveRoot(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return createHash('sha256').digest();
  if (hashes.length === 1) return hashes[0]!;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return merkleNodeHash(naiveRoot(hashes.slice(0, k)), naiveRoot(hashes.slice(k)));
}

const proofInvalid = (err: unknown) =>
  err instanceof WaybillError && err.code === 'ERR_WAYBILL_PROOF_INVALID';

describe('Merkle tree hashing (RFC 9162 §2.1.1)', () => {
  it('hashes leaves and nodes with domain separation', () => {
    const leaf = Buffer.from('');
    assert.equal(
      merkleLeafHash(leaf).toString('hex'),
      createHash('sha256')
        .update(Buffer.from([0]))
        .digest('hex'),
    );
    assert.equal(
      merkleEmptyRoot().toString('hex'),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    assert.deepEqual(
      merkleNodeHash(a, b),
      createHash('sha256')
        .update(Buffer.from([1]))
        .update(a)
        .update(b)
        .digest(),
    );
  });

  it('streaming root builder equals the naive recursive root for sizes 0..70', () => {
    const all = leaves(70);
    for (let n = 0; n <= 70; n++) {
      const builder = new MerkleRootBuilder();
      for (const h of all.slice(0, n)) builder.add(h);
      assert.equal(builder.size, n);
      assert.deepEqual(builder.root(), naiveRoot(all.slice(0, n)), `size ${n}`);
      assert.deepEqual(merkleRoot(all.slice(0, n)), naiveRoot(all.slice(0, n)));
      // One peak per set bit of the size: O(log n) memory.
      assert.equal(builder.peaks().length, n.toString(2).replace(/0/g, '').length);
    }
  });

  it('rejects a leaf that is not a 32-byte hash', () => {
    assert.throws(() => new MerkleRootBuilder().add(Buffer.from('raw leaf')), {
      code: 'ERR_WAYBILL_INVALID_INPUT',
    });
  });
});

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  it('generated proofs verify for every index of sizes 1..70, and fail for any other index', () => {
    const all = leaves(70);
    for (let n = 1; n <= 70; n++) {
      const hashes = all.slice(0, n);
      const root = naiveRoot(hashes);
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(m, hashes);
        verifyInclusion(m, n, hashes[m]!, proof, root);
        if (n > 1) {
          const other = (m + 1) % n;
          assert.throws(() => verifyInclusion(other, n, hashes[m]!, proof, root), proofInvalid);
        }
      }
    }
  });

  it('the streaming builder produces the same proof and root as the in-memory generator', () => {
    const all = leaves(70);
    for (let n = 1; n <= 70; n++) {
      const hashes = all.slice(0, n);
      for (let m = 0; m < n; m++) {
        const builder = new InclusionProofBuilder(m);
        for (const h of hashes) builder.add(h);
        const streamed = builder.finish();
        assert.equal(streamed.size, n);
        assert.equal(streamed.index, m);
        assert.deepEqual(streamed.leafHash, hashes[m]);
        assert.deepEqual(streamed.proof, inclusionProof(m, hashes), `index ${m} of ${n}`);
        assert.deepEqual(streamed.root, naiveRoot(hashes));
      }
    }
  });

  it('the streaming builder works on a larger tree and refuses an index past the end', () => {
    const hashes = leaves(5000);
    for (const m of [0, 1, 2047, 2048, 4095, 4096, 4999]) {
      const builder = new InclusionProofBuilder(BigInt(m));
      for (const h of hashes) builder.add(h);
      const { proof, root, size } = builder.finish();
      verifyInclusion(m, size, hashes[m]!, proof, root);
      assert.deepEqual(proof, inclusionProof(m, hashes));
    }
    const short = new InclusionProofBuilder(10);
    for (const h of hashes.slice(0, 10)) short.add(h);
    assert.throws(() => short.finish(), { code: 'ERR_WAYBILL_INVALID_INPUT' });
  });

  it('index arithmetic stays exact past 2^31 and 2^53', () => {
    // In a tree of 2^k + 1 leaves, the last leaf's audit path is the root of the first 2^k leaves.
    for (const k of [31n, 32n, 53n, 60n, 63n]) {
      const size = (1n << k) + 1n;
      const leftSubtree = Buffer.alloc(32, 7);
      const leaf = merkleLeafHash(Buffer.from('last'));
      const root = merkleNodeHash(leftSubtree, leaf);
      verifyInclusion(size - 1n, size, leaf, [leftSubtree], root);
      assert.throws(() => verifyInclusion(size - 2n, size, leaf, [leftSubtree], root), proofInvalid);
      assert.throws(() => verifyInclusion(size, size, leaf, [leftSubtree], root), proofInvalid);
    }
    // A leaf deep in a 2^40 tree: index 2^40 - 1 has 40 left siblings.
    const size = 1n << 40n;
    const path = Array.from({ length: 40 }, (_, i) => Buffer.alloc(32, i + 1));
    const leaf = merkleLeafHash(Buffer.from('x'));
    const expected = path.reduce<Buffer>((acc, p) => merkleNodeHash(p, acc), leaf);
    assert.deepEqual(rootFromInclusionProof(size - 1n, size, leaf, path), expected);
    assert.throws(
      () => verifyInclusion(Number.MAX_SAFE_INTEGER + 1, size, leaf, path, expected),
      proofInvalid,
    );
  });

  it('rejects out-of-range and malformed input with a reason', () => {
    const hashes = leaves(4);
    const proof = inclusionProof(1, hashes);
    const root = merkleRoot(hashes);
    assert.throws(() => verifyInclusion(4, 4, hashes[1]!, proof, root), /out of range/);
    assert.throws(
      () => verifyInclusion(1, 4, hashes[1]!, [...proof, hashes[0]!], root),
      /more than the expected/,
    );
    assert.throws(() => verifyInclusion(1, 4, hashes[1]!, proof.slice(1), root), /fewer than the expected/);
    assert.throws(() => verifyInclusion(1, 4, hashes[1]!.subarray(1), proof, root), /leaf hash has 31 bytes/);
    assert.throws(() => verifyInclusion(-1, 4, hashes[1]!, proof, root), proofInvalid);
    assert.throws(() => inclusionProof(4, hashes), { code: 'ERR_WAYBILL_INVALID_INPUT' });
  });
});

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  it('generated proofs verify for every 0 < size1 <= size2 <= 40 and bind both roots', () => {
    const all = leaves(40);
    for (let n = 1; n <= 40; n++) {
      const root2 = naiveRoot(all.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const root1 = naiveRoot(all.slice(0, m));
        const proof = consistencyProof(m, n, all);
        verifyConsistency(m, n, proof, root1, root2);
        verifyConsistency(BigInt(m), BigInt(n), proof, root1, root2);
        if (m < n) {
          assert.throws(
            () => verifyConsistency(m, n, proof, root2, root1),
            proofInvalid,
            `swapped ${m} ${n}`,
          );
          const tampered = proof.map((p, i) => (i === 0 ? merkleLeafHash(p) : p));
          assert.throws(() => verifyConsistency(m, n, tampered, root1, root2), proofInvalid);
        }
      }
    }
  });

  it('refuses size1 = 0, size2 < size1 and bad generation arguments', () => {
    const all = leaves(4);
    assert.throws(
      () => verifyConsistency(0, 4, [], merkleEmptyRoot(), merkleRoot(all)),
      /from the empty tree/,
    );
    assert.throws(() => verifyConsistency(3, 2, [], merkleRoot(all), merkleRoot(all)), /smaller/);
    assert.throws(() => consistencyProof(0, 2, all), { code: 'ERR_WAYBILL_INVALID_INPUT' });
    assert.throws(() => consistencyProof(3, 5, all), { code: 'ERR_WAYBILL_INVALID_INPUT' });
  });
});
