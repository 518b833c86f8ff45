import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  inclusionProof,
  keyIdForPublicKey,
  merkleEmptyRoot,
  verifyWaybillDirectory,
  vkeyFor,
  type WaybillDirectoryReport,
  type WaybillErrorCode,
} from '../src/index.js';
import {
  buildWaybillFixture,
  type FixtureOptions,
  type FixtureStatement,
  type WaybillFixture,
} from './support/waybill-fixture.js';

const codes = (r: WaybillDirectoryReport) => r.errors.map((e) => e.code);

function assertOnly(report: WaybillDirectoryReport, code: WaybillErrorCode, mention?: string): void {
  assert.equal(report.valid, false);
  assert.ok(codes(report).includes(code), `expected ${code}, got ${JSON.stringify(report.errors)}`);
  if (mention !== undefined) {
    assert.ok(
      report.errors.some((e) => e.code === code && e.message.includes(mention)),
      `expected a ${code} naming ${mention}: ${JSON.stringify(report.errors)}`,
    );
  }
}

async function withFixture(
  options: FixtureOptions,
  run: (fx: WaybillFixture) => Promise<void>,
): Promise<void> {
  const fx = await buildWaybillFixture(options);
  try {
    await run(fx);
  } finally {
    await fx.cleanup();
  }
}

describe('verifyWaybillDirectory', () => {
  let fx: WaybillFixture;
  before(async () => {
    fx = await buildWaybillFixture({ records: 7 });
  });
  after(() => fx.cleanup());

  it('accepts an intact waybill and reports what it verified', async () => {
    const report = await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] });
    assert.deepEqual(report.errors, []);
    assert.equal(report.valid, true);
    assert.equal(report.runId, fx.runId);
    assert.deepEqual(report.signedBy, [fx.keyId]);
    assert.equal(report.receipt.status, 'verified');
    assert.ok(
      report.receipt.status === 'verified' && report.receipt.index === '3' && report.receipt.treeSize === '6',
    );
    assert.equal(report.recordProof, undefined);
    // The CLI prints the report as JSON.
    assert.doesNotThrow(() => JSON.stringify(report));
  });

  it('accepts keys as a map from key id', async () => {
    const report = await verifyWaybillDirectory(fx.dir, {
      keys: new Map([[fx.keyId, fx.publicKey]]),
      logVerifiers: [fx.logVkey],
    });
    assert.equal(report.valid, true, JSON.stringify(report.errors));
  });

  it('unverifiable-receipt-makes-the-waybill-invalid', async () => {
    // A receipt without the log key to check it proves nothing; it must not pass as part of a valid export.
    const report = await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey] });
    assertOnly(report, 'ERR_WAYBILL_UNKNOWN_KEY', 'receipt.tlog-proof');
    assert.equal(report.receipt.status, 'unchecked');
  });

  it('accepts CSV payloads and empty exports', async () => {
    await withFixture({ format: 'csv', records: 4 }, async (csv) => {
      const report = await verifyWaybillDirectory(csv.dir, {
        keys: [csv.publicKey],
        logVerifiers: [csv.logVkey],
      });
      assert.deepEqual(report.errors, []);
    });
    await withFixture({ records: 0, receipt: false }, async (empty) => {
      assert.equal(empty.merkleRoot, merkleEmptyRoot().toString('hex'));
      const report = await verifyWaybillDirectory(empty.dir, {
        keys: [empty.publicKey],
        logVerifiers: [empty.logVkey],
        requireReceipt: false,
      });
      assert.deepEqual(report.errors, []);
      assert.equal(report.receipt.status, 'absent');
    });
  });

  it('proves one record on request', async () => {
    for (let n = 0; n < 7; n++) {
      const report = await verifyWaybillDirectory(fx.dir, {
        keys: [fx.publicKey],
        logVerifiers: [fx.logVkey],
        record: n,
      });
      assert.equal(report.valid, true, JSON.stringify(report.errors));
      const proof = report.recordProof!;
      assert.equal(proof.index, n);
      assert.equal(proof.size, 7);
      assert.equal(proof.verified, true);
      assert.equal(proof.digest, fx.recordLines[n]!.digest);
      assert.equal(proof.sourceRecordId, `rec_${n}`);
      assert.equal(proof.sourceUpdatedAt, n % 2 === 0 ? '2025-06-01T12:00:00Z' : undefined);
      assert.equal(proof.leafHash, fx.leafHashes[n]!.toString('hex'));
      assert.deepEqual(
        proof.proof,
        inclusionProof(n, fx.leafHashes).map((h) => h.toString('hex')),
      );
      assert.equal(proof.root, fx.merkleRoot);
    }
  });

  it('reports an out-of-range or invalid record index', async () => {
    for (const record of [7, 1000, -1, 1.5]) {
      const report = await verifyWaybillDirectory(fx.dir, {
        keys: [fx.publicKey],
        logVerifiers: [fx.logVkey],
        record,
      });
      assertOnly(report, 'ERR_WAYBILL_INVALID_INPUT');
      assert.equal(report.recordProof, undefined);
    }
  });

  it('streams a large records file and proves a record deep inside it', async () => {
    await withFixture({ records: 20000, receipt: false }, async (big) => {
      const report = await verifyWaybillDirectory(big.dir, {
        keys: [big.publicKey],
        logVerifiers: [big.logVkey],
        requireReceipt: false,
        record: 13337,
      });
      assert.deepEqual(report.errors, []);
      assert.deepEqual(
        report.recordProof!.proof,
        inclusionProof(13337, big.leafHashes).map((h) => h.toString('hex')),
      );
    });
  });

  it('never throws: missing directory, empty directory, garbage files', async () => {
    assertOnly(
      await verifyWaybillDirectory(join(fx.dir, 'nope'), { keys: [fx.publicKey] }),
      'ERR_WAYBILL_FILE_MISSING',
    );
    const dir = await mkdtemp(join(tmpdir(), 'waybill-garbage-'));
    try {
      assertOnly(
        await verifyWaybillDirectory(dir, { keys: [fx.publicKey] }),
        'ERR_WAYBILL_FILE_MISSING',
        'waybill.intoto.jsonl',
      );
      for (const name of [
        'waybill.intoto.jsonl',
        'records.jsonl',
        'lineage.json',
        'receipt.tlog-proof',
        'x.ndjson',
      ]) {
        await writeFile(join(dir, name), randomBytes(300));
      }
      const report = await verifyWaybillDirectory(dir, {
        keys: [fx.publicKey],
        logVerifiers: [fx.logVkey],
        record: 1,
      });
      assertOnly(report, 'ERR_WAYBILL_ENVELOPE_MALFORMED');
      await writeFile(
        join(dir, 'waybill.intoto.jsonl'),
        '{"payload":"","payloadType":"x","signatures":[{"sig":"AA=="}]}\n',
      );
      assertOnly(await verifyWaybillDirectory(dir, { keys: [fx.publicKey] }), 'ERR_WAYBILL_UNKNOWN_KEY');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cannot authenticate without trusted keys', async () => {
    assertOnly(await verifyWaybillDirectory(fx.dir), 'ERR_WAYBILL_UNKNOWN_KEY');
    assertOnly(await verifyWaybillDirectory(fx.dir, { keys: [] }), 'ERR_WAYBILL_UNKNOWN_KEY');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    assertOnly(await verifyWaybillDirectory(fx.dir, { keys: [rsa] }), 'ERR_WAYBILL_INVALID_INPUT');
  });

  it('honours an abort signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(
      verifyWaybillDirectory(fx.dir, {
        keys: [fx.publicKey],
        logVerifiers: [fx.logVkey],
        signal: controller.signal,
      }),
      /stop/,
    );
  });
});

describe('waybill attacks', () => {
  it('signature-by-unknown-key-is-rejected', async () => {
    const attacker = generateKeyPairSync('ed25519');
    await withFixture({ signingKey: attacker.privateKey }, async (forged) => {
      const trusted = generateKeyPairSync('ed25519').publicKey;
      const report = await verifyWaybillDirectory(forged.dir, { keys: [trusted] });
      assertOnly(report, 'ERR_WAYBILL_UNKNOWN_KEY');
      assert.equal(report.runId, null, 'nothing from an unauthenticated statement is reported');
    });
  });

  it('signature-claiming-a-trusted-key-id-is-rejected', async () => {
    await withFixture({}, async (fx) => {
      const impostor = generateKeyPairSync('ed25519');
      const path = join(fx.dir, 'waybill.intoto.jsonl');
      const env = JSON.parse(await readFile(path, 'utf8')) as { signatures: { keyid: string }[] };
      const trusted = new Map([[env.signatures[0]!.keyid, impostor.publicKey]]);
      assertOnly(await verifyWaybillDirectory(fx.dir, { keys: trusted }), 'ERR_WAYBILL_SIGNATURE_INVALID');
    });
  });

  it('removed-file-is-detected', async () => {
    await withFixture({}, async (fx) => {
      for (const name of [fx.payloadName, 'records.jsonl', 'lineage.json']) {
        await rename(join(fx.dir, name), join(fx.dir, '..', `${name}.moved-${process.pid}`));
        try {
          assertOnly(
            await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
            'ERR_WAYBILL_FILE_MISSING',
            name,
          );
        } finally {
          await rename(join(fx.dir, '..', `${name}.moved-${process.pid}`), join(fx.dir, name));
        }
      }
      await rm(join(fx.dir, 'waybill.intoto.jsonl'));
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
        'ERR_WAYBILL_FILE_MISSING',
        'waybill.intoto.jsonl',
      );
    });
  });

  it('extra-file-is-detected', async () => {
    await withFixture({}, async (fx) => {
      await writeFile(join(fx.dir, 'customers-full.csv'), 'email\nall@example.com\n');
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
        'ERR_WAYBILL_UNEXPECTED_FILE',
        'customers-full.csv',
      );
      await rm(join(fx.dir, 'customers-full.csv'));
      await mkdir(join(fx.dir, 'receipt.tlog-proof.d'));
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
        'ERR_WAYBILL_UNEXPECTED_FILE',
        'receipt.tlog-proof.d',
      );
    });
  });

  it('swapped-records-lines-are-detected', async () => {
    // After signing: the file no longer matches its signed digest, and the order check fails.
    await withFixture({}, async (fx) => {
      const path = join(fx.dir, 'records.jsonl');
      const lines = (await readFile(path, 'utf8')).split('\n');
      [lines[1], lines[2]] = [lines[2]!, lines[1]!];
      await writeFile(path, lines.join('\n'));
      const report = await verifyWaybillDirectory(fx.dir, {
        keys: [fx.publicKey],
        logVerifiers: [fx.logVkey],
      });
      assertOnly(report, 'ERR_WAYBILL_DIGEST_MISMATCH', 'records.jsonl');
      assertOnly(report, 'ERR_WAYBILL_RECORDS_MISMATCH', 'index');
    });
    // Before signing (a faulty or dishonest producer): the signature holds, the records check does not.
    await withFixture({ mutateRecordLines: (l) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)] }, async (fx) => {
      const report = await verifyWaybillDirectory(fx.dir, {
        keys: [fx.publicKey],
        logVerifiers: [fx.logVkey],
      });
      assert.deepEqual([...new Set(codes(report))], ['ERR_WAYBILL_RECORDS_MISMATCH']);
      assertOnly(report, 'ERR_WAYBILL_RECORDS_MISMATCH', 'has index 2, expected 1');
    });
  });

  it('payload-line-not-matching-its-record-digest-is-detected', async () => {
    await withFixture(
      { mutatePayloadLines: (l) => [l[0]!, l[1]!.replace('Customer', 'Kustomer'), ...l.slice(2)] },
      async (fx) => {
        const report = await verifyWaybillDirectory(fx.dir, {
          keys: [fx.publicKey],
          logVerifiers: [fx.logVkey],
        });
        assert.deepEqual([...new Set(codes(report))], ['ERR_WAYBILL_RECORDS_MISMATCH']);
        assertOnly(report, 'ERR_WAYBILL_RECORDS_MISMATCH', 'customers.ndjson line 2');
      },
    );
    await withFixture({ mutatePayloadLines: (l) => l.slice(0, -1) }, async (fx) => {
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
        'ERR_WAYBILL_RECORDS_MISMATCH',
        'fewer',
      );
    });
    await withFixture({ mutatePayloadLines: (l) => [...l, l[0]!] }, async (fx) => {
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
        'ERR_WAYBILL_RECORDS_MISMATCH',
        'more lines',
      );
    });
  });

  it('dropped-record-with-signed-count-is-detected', async () => {
    await withFixture(
      { mutateRecordLines: (l) => l.slice(0, -1), mutatePayloadLines: (l) => l.slice(0, -1) },
      async (fx) => {
        const report = await verifyWaybillDirectory(fx.dir, {
          keys: [fx.publicKey],
          logVerifiers: [fx.logVkey],
        });
        assertOnly(report, 'ERR_WAYBILL_RECORDS_MISMATCH', 'the signed predicate says 5');
      },
    );
  });

  it('forged-merkle-root-is-detected', async () => {
    await withFixture(
      {
        mutateStatement: (s) => {
          s.predicate.records.merkleRoot = 'ab'.repeat(32);
        },
        mutateLineage: (e) => {
          e.run.facets!.waybill_attestation.recordsMerkleRoot = 'ab'.repeat(32);
        },
      },
      async (fx) => {
        const report = await verifyWaybillDirectory(fx.dir, {
          keys: [fx.publicKey],
          logVerifiers: [fx.logVkey],
          record: 1,
        });
        assert.deepEqual(
          [...new Set(codes(report))],
          ['ERR_WAYBILL_RECORDS_MISMATCH', 'ERR_WAYBILL_PROOF_INVALID'],
        );
        assert.equal(report.recordProof?.verified, false);
      },
    );
  });

  it('non-canonical-records-line-is-detected', async () => {
    await withFixture(
      { mutateRecordLines: (l) => [l[0]!.replace('{"digest"', '{ "digest"'), ...l.slice(1)] },
      async (fx) => {
        assertOnly(
          await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
          'ERR_WAYBILL_RECORDS_MISMATCH',
          'canonical',
        );
      },
    );
  });

  it('lineage-for-another-run-is-detected', async () => {
    await withFixture(
      { mutateLineage: (e) => (e.run.facets!.waybill_attestation.runId = 'another-run') },
      async (fx) => {
        const report = await verifyWaybillDirectory(fx.dir, {
          keys: [fx.publicKey],
          logVerifiers: [fx.logVkey],
        });
        assert.deepEqual(codes(report), ['ERR_WAYBILL_LINEAGE_INVALID']);
      },
    );
    await withFixture({ mutateLineage: (e) => delete e.run.facets }, async (fx) => {
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
        'ERR_WAYBILL_LINEAGE_INVALID',
        'waybill_attestation',
      );
    });
  });

  it('subject-path-traversal-is-rejected', async () => {
    await withFixture(
      {
        mutateStatement: (s) => s.subject.push({ name: '../secret.txt', digest: { sha256: 'a'.repeat(64) } }),
      },
      async (fx) => {
        const report = await verifyWaybillDirectory(fx.dir, {
          keys: [fx.publicKey],
          logVerifiers: [fx.logVkey],
        });
        assert.deepEqual(codes(report), ['ERR_WAYBILL_STATEMENT_INVALID']);
        assert.equal(report.runId, null);
      },
    );
  });

  it('statement-shape-and-predicate-type-are-checked', async () => {
    const mutations: ((s: FixtureStatement) => void)[] = [
      (s) => (s.predicateType = 'https://slsa.dev/provenance/v1'),
      (s) => (s._type = 'https://in-toto.io/Statement/v0.1'),
      (s) => (s.subject = []),
      (s) => delete s.predicate.runId,
      (s) => (s.predicate.records.count = '7'),
      (s) => (s.subject[0]!.digest = { sha512: 'a'.repeat(128) }),
      (s) => s.subject.push(s.subject[0]!),
      (s) => s.subject.push({ name: 'waybill.intoto.jsonl', digest: { sha256: 'a'.repeat(64) } }),
    ];
    for (const mutateStatement of mutations) {
      await withFixture({ mutateStatement, receipt: false }, async (fx) => {
        assertOnly(
          await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
          'ERR_WAYBILL_STATEMENT_INVALID',
        );
      });
    }
  });

  it('signing-key-id-mismatch-is-detected', async () => {
    await withFixture({ mutateStatement: (s) => (s.predicate.signingKeyId = '0'.repeat(32)) }, async (fx) => {
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] }),
        'ERR_WAYBILL_STATEMENT_INVALID',
        'signingKeyId',
      );
    });
  });

  it('deleted-receipt-is-detected', async () => {
    await withFixture({}, async (fx) => {
      await rm(join(fx.dir, 'receipt.tlog-proof'));
      const report = await verifyWaybillDirectory(fx.dir, {
        keys: [fx.publicKey],
        logVerifiers: [fx.logVkey],
      });
      assertOnly(report, 'ERR_WAYBILL_FILE_MISSING', 'receipt.tlog-proof is missing');
      assert.equal(report.receipt.status, 'absent');
    });
  });

  it('receipt-of-another-export-is-rejected', async () => {
    // A genuine, validly signed receipt, but for another export's seal: another run, another envelope,
    // or another kind of entry altogether. Each proves something is in the log, not that this export is.
    for (const [sealEvent, why] of [
      [{ subjects: { run: '01970a2b-0000-7000-8000-000000000000', definition: 'people' } }, /seals run/],
      [{ details: { waybillDigest: 'ab'.repeat(32) } }, /seals a waybill\.intoto\.jsonl with SHA-256/],
      [{ type: 'definition.applied' }, /not run\.sealed/],
      [{ index: 4 }, /says it is entry 4/],
    ] as const) {
      await withFixture({ sealEvent }, async (fx) => {
        const report = await verifyWaybillDirectory(fx.dir, {
          keys: [fx.publicKey],
          logVerifiers: [fx.logVkey],
        });
        assertOnly(report, 'ERR_WAYBILL_RECEIPT_MISMATCH', 'receipt.tlog-proof');
        assert.match(report.errors[0]!.message, why);
        assert.equal(report.receipt.status, 'invalid');
      });
    }
  });

  it('receipt-from-an-untrusted-log-is-rejected', async () => {
    await withFixture({}, async (fx) => {
      const otherLog = vkeyFor(fx.logOrigin, generateKeyPairSync('ed25519').publicKey);
      const report = await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [otherLog] });
      assertOnly(report, 'ERR_WAYBILL_UNKNOWN_KEY', 'receipt.tlog-proof');
      assert.equal(report.receipt.status, 'invalid');
      assertOnly(
        await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [] }),
        'ERR_WAYBILL_UNKNOWN_KEY',
      );
      assert.equal(keyIdForPublicKey(fx.publicKey), fx.keyId);
    });
  });
});

describe('flipped bytes', () => {
  let fx: WaybillFixture;
  before(async () => {
    fx = await buildWaybillFixture({ records: 5 });
  });
  after(() => fx.cleanup());

  const sensitive: [string, (fx: WaybillFixture) => string, WaybillErrorCode[]][] = [
    ['payload', (f) => f.payloadName, ['ERR_WAYBILL_DIGEST_MISMATCH']],
    ['records', () => 'records.jsonl', ['ERR_WAYBILL_DIGEST_MISMATCH']],
    ['lineage', () => 'lineage.json', ['ERR_WAYBILL_DIGEST_MISMATCH']],
    [
      'envelope',
      () => 'waybill.intoto.jsonl',
      ['ERR_WAYBILL_ENVELOPE_MALFORMED', 'ERR_WAYBILL_SIGNATURE_INVALID', 'ERR_WAYBILL_UNKNOWN_KEY'],
    ],
    [
      'receipt',
      () => 'receipt.tlog-proof',
      [
        'ERR_WAYBILL_PROOF_INVALID',
        'ERR_WAYBILL_NOTE_INVALID',
        'ERR_WAYBILL_SIGNATURE_INVALID',
        'ERR_WAYBILL_UNKNOWN_KEY',
      ],
    ],
  ];

  for (const [label, fileOf, expected] of sensitive) {
    it(`flipped-byte-in-${label}-is-detected`, async () => {
      const path = join(fx.dir, fileOf(fx));
      const original = await readFile(path);
      // Every byte of these small files; each flip is a one-bit change, the subtlest tampering.
      try {
        for (let pos = 0; pos < original.length; pos++) {
          const copy = Buffer.from(original);
          copy[pos]! ^= 0x01;
          await writeFile(path, copy);
          const report = await verifyWaybillDirectory(fx.dir, {
            keys: [fx.publicKey],
            logVerifiers: [fx.logVkey],
          });
          assert.equal(report.valid, false, `flip at byte ${pos} of ${fileOf(fx)} went undetected`);
          assert.ok(
            report.errors.some((e) => expected.includes(e.code)),
            `flip at byte ${pos} of ${fileOf(fx)}: ${JSON.stringify(report.errors)}`,
          );
        }
      } finally {
        await writeFile(path, original);
      }
      assert.equal(
        (await verifyWaybillDirectory(fx.dir, { keys: [fx.publicKey], logVerifiers: [fx.logVkey] })).valid,
        true,
      );
    });
  }

  it('flipped-byte-in-a-large-payload-is-detected (sampled positions)', async () => {
    await withFixture({ records: 3000, receipt: false }, async (big) => {
      for (const name of [big.payloadName, 'records.jsonl']) {
        const path = join(big.dir, name);
        const original = await readFile(path);
        const positions = [
          0,
          original.length - 1,
          ...Array.from({ length: 40 }, (_, i) => Math.floor(((i + 0.5) * original.length) / 40)),
        ];
        try {
          for (const pos of positions) {
            const copy = Buffer.from(original);
            copy[pos]! ^= 0x01;
            await writeFile(path, copy);
            const report = await verifyWaybillDirectory(big.dir, {
              keys: [big.publicKey],
              logVerifiers: [big.logVkey],
              requireReceipt: false,
            });
            assertOnly(report, 'ERR_WAYBILL_DIGEST_MISMATCH', name);
            // A changed payload line also stops matching its record digest. (A flip in records.jsonl
            // may only touch sourceRecordId, which the Merkle leaves do not cover: the file digest does.)
            if (name === big.payloadName) assertOnly(report, 'ERR_WAYBILL_RECORDS_MISMATCH');
          }
        } finally {
          await writeFile(path, original);
        }
      }
    });
  });
});
