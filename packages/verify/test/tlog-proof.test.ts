import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  TLOG_PROOF_HEADER,
  formatCheckpoint,
  formatTlogProof,
  inclusionProof,
  merkleLeafHash,
  merkleRoot,
  parseCheckpoint,
  parseTlogProof,
  signNote,
  verifyTlogProof,
  vkeyFor,
} from '../src/index.js';

const ORIGIN = 'example.com/fancylog';
const log = generateKeyPairSync('ed25519');
const vkey = vkeyFor(ORIGIN, log.publicKey);
const entries = Array.from({ length: 11 }, (_, i) => Buffer.from(`entry ${i}`));
const leafHashes = entries.map((e) => merkleLeafHash(e));
const root = merkleRoot(leafHashes);
const checkpoint = signNote(formatCheckpoint({ origin: ORIGIN, size: leafHashes.length, rootHash: root }), {
  name: ORIGIN,
  privateKey: log.privateKey,
});

describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
  it('formats and parses origin, size, root and extension lines', () => {
    const text = formatCheckpoint({
      origin: ORIGIN,
      size: 20852163n,
      rootHash: root,
      extensions: ['ext one'],
    });
    assert.equal(text, `${ORIGIN}\n20852163\n${root.toString('base64')}\next one\n`);
    const parsed = parseCheckpoint(text);
    assert.equal(parsed.origin, ORIGIN);
    assert.equal(parsed.size, 20852163n);
    assert.deepEqual(parsed.rootHash, root);
    assert.deepEqual(parsed.extensions, ['ext one']);
  });

  it('parses the spec example and sizes past 2^53', () => {
    const cp = parseCheckpoint(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
    assert.equal(cp.size, 20852163n);
    assert.equal(
      parseCheckpoint(`o\n18446744073709551615\n${root.toString('base64')}\n`).size,
      2n ** 64n - 1n,
    );
  });

  it('rejects malformed checkpoints', () => {
    const r = root.toString('base64');
    for (const text of [
      `${ORIGIN}\n1\n${r}`,
      `${ORIGIN}\n1\n`,
      `\n1\n${r}\n`,
      `${ORIGIN}\n01\n${r}\n`,
      `${ORIGIN}\n-1\n${r}\n`,
      `${ORIGIN}\n1 \n${r}\n`,
      `${ORIGIN}\n18446744073709551616\n${r}\n`,
      `${ORIGIN}\n1\n${r.slice(4)}\n`,
      `${ORIGIN}\n1\n${r}\n\n`,
    ]) {
      assert.throws(() => parseCheckpoint(text), { code: 'ERR_WAYBILL_NOTE_INVALID' }, JSON.stringify(text));
    }
  });
});

describe('transparency log proofs (c2sp.org/tlog-proof)', () => {
  it('formats, parses and verifies a proof for every index', () => {
    for (let index = 0; index < entries.length; index++) {
      const text = formatTlogProof({
        extra: Buffer.from('context'),
        index,
        proof: inclusionProof(index, leafHashes),
        checkpoint,
      });
      assert.ok(
        text.startsWith(
          `${TLOG_PROOF_HEADER}\nextra ${Buffer.from('context').toString('base64')}\nindex ${index}\n`,
        ),
      );
      const parsed = parseTlogProof(text);
      assert.equal(parsed.index, BigInt(index));
      assert.deepEqual(parsed.extra, Buffer.from('context'));
      assert.equal(parsed.checkpoint, checkpoint);
      const result = verifyTlogProof(text, {
        leafHash: leafHashes[index]!,
        verifiers: [vkey],
        origin: ORIGIN,
      });
      assert.equal(result.treeSize, 11n);
      assert.equal(result.index, BigInt(index));
      assert.equal(result.origin, ORIGIN);
      assert.deepEqual(result.rootHash, root);
      // Another entry's hash does not verify at this index.
      assert.throws(
        () => verifyTlogProof(text, { leafHash: leafHashes[(index + 1) % 11]!, verifiers: [vkey] }),
        { code: 'ERR_WAYBILL_PROOF_INVALID' },
      );
    }
  });

  it('omits the extra line when there is no extra data, and handles a one-entry log', () => {
    const single = signNote(formatCheckpoint({ origin: ORIGIN, size: 1, rootHash: leafHashes[0]! }), {
      name: ORIGIN,
      privateKey: log.privateKey,
    });
    const text = formatTlogProof({ index: 0, proof: [], checkpoint: single });
    assert.equal(text, `${TLOG_PROOF_HEADER}\nindex 0\n\n${single}`);
    assert.equal(parseTlogProof(text).extra, null);
    verifyTlogProof(text, { leafHash: leafHashes[0]!, verifiers: [vkey] });
  });

  it('rejects a checkpoint signed by another key, or for another origin', () => {
    const text = formatTlogProof({ index: 2, proof: inclusionProof(2, leafHashes), checkpoint });
    const other = vkeyFor(ORIGIN, generateKeyPairSync('ed25519').publicKey);
    assert.throws(() => verifyTlogProof(text, { leafHash: leafHashes[2]!, verifiers: [other] }), {
      code: 'ERR_WAYBILL_UNKNOWN_KEY',
    });
    assert.throws(
      () =>
        verifyTlogProof(text, { leafHash: leafHashes[2]!, verifiers: [vkey], origin: 'example.com/other' }),
      {
        code: 'ERR_WAYBILL_PROOF_INVALID',
      },
    );
  });

  // The extra line is opaque and unauthenticated by design (c2sp.org/tlog-proof, "Format"): the caller
  // binds it through the leaf hash it computes. So the flips here cover a proof without one.
  it('flipped-byte-in-tlog-proof-is-detected', () => {
    const bytes = Buffer.from(
      formatTlogProof({ index: 5, proof: inclusionProof(5, leafHashes), checkpoint }),
    );
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i]! ^= 0x01;
      assert.throws(
        () => verifyTlogProof(copy, { leafHash: leafHashes[5]!, verifiers: [vkey] }),
        (err: { code?: string }) =>
          [
            'ERR_WAYBILL_PROOF_INVALID',
            'ERR_WAYBILL_NOTE_INVALID',
            'ERR_WAYBILL_SIGNATURE_INVALID',
            'ERR_WAYBILL_UNKNOWN_KEY',
          ].includes(err.code ?? ''),
        `flip at byte ${i}`,
      );
    }
  });

  it('rejects malformed proofs', () => {
    const proof = inclusionProof(5, leafHashes).map((h) => h.toString('base64'));
    const body = (head: string[]) => `${head.join('\n')}\n\n${checkpoint}`;
    const cases: [string, RegExp][] = [
      [body(['c2sp.org/tlog-proof@v2', 'index 5', ...proof]), /first line/],
      [body([TLOG_PROOF_HEADER, 'index 05', ...proof]), /index line/],
      [body([TLOG_PROOF_HEADER, ...proof]), /index line/],
      [body([TLOG_PROOF_HEADER, 'extra', 'index 5', ...proof]), /index line/],
      [body([TLOG_PROOF_HEADER, 'extra !!', 'index 5', ...proof]), /extra line/],
      [body([TLOG_PROOF_HEADER, 'index 5', ...proof, 'AAAA']), /proof line/],
      [`${TLOG_PROOF_HEADER}\nindex 5\n${proof.join('\n')}\n`, /blank line/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseTlogProof(text),
        { code: 'ERR_WAYBILL_PROOF_INVALID', message },
        text.split('\n\n')[0],
      );
    }
    assert.throws(
      () => parseTlogProof(body([TLOG_PROOF_HEADER, 'index 5']).replace(ORIGIN + '\n11', ORIGIN + '\n011')),
      {
        code: 'ERR_WAYBILL_NOTE_INVALID',
      },
    );
  });
});
