import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  MerkleRootBuilder,
  WAYBILL_PREDICATE_TYPE,
  auditLeaf,
  auditLeafOpening,
  canonicalJson,
  formatCheckpoint,
  formatRecordLine,
  formatTlogProof,
  inclusionProof,
  keyIdForPublicKey,
  merkleLeafHash,
  signEnvelope,
  signNote,
  vkeyFor,
  type RecordLine,
} from '../../src/index.js';

/** The statement as the fixture builds it, loose enough for tests to break it. */
export interface FixtureStatement {
  _type: string;
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: {
    runId?: string;
    records: { file: string; count: unknown; merkleRoot: string };
    signingKeyId: string;
    [field: string]: unknown;
  };
}

/** The lineage event as the fixture builds it. */
export interface FixtureLineage {
  run: { runId: string; facets?: { waybill_attestation: Record<string, unknown> } };
  [field: string]: unknown;
}

export interface FixtureOptions {
  readonly format?: 'ndjson' | 'csv';
  readonly records?: number;
  /** Called on the records.jsonl lines before anything is hashed or signed (a faulty producer). */
  readonly mutateRecordLines?: (lines: string[]) => string[];
  /** Called on the payload lines (NDJSON only) before anything is hashed or signed. */
  readonly mutatePayloadLines?: (lines: string[]) => string[];
  /** Called on the statement before it is signed. */
  readonly mutateStatement?: (statement: FixtureStatement) => void;
  /** Called on the lineage event before it is hashed. */
  readonly mutateLineage?: (event: FixtureLineage) => void;
  /** Signs with this key instead of a fresh one. */
  readonly signingKey?: KeyObject;
  readonly receipt?: boolean;
  /** Overrides members of the logged seal event (to build a receipt of another export). */
  readonly sealEvent?: Record<string, unknown>;
}

export interface WaybillFixture {
  readonly dir: string;
  readonly payloadName: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly keyId: string;
  readonly runId: string;
  readonly logOrigin: string;
  readonly logVkey: string;
  readonly recordLines: readonly RecordLine[];
  readonly leafHashes: readonly Buffer[];
  readonly merkleRoot: string;
  cleanup(): Promise<void>;
}

export const LOG_ORIGIN = 'log.waybill.test/audit';

/**
 * Writes a complete waybill directory built only from this package's primitives, the way the exporter
 * does: payload, records.jsonl, lineage.json, the signed statement and an audit-log receipt.
 */
export async function buildWaybillFixture(options: FixtureOptions = {}): Promise<WaybillFixture> {
  const format = options.format ?? 'ndjson';
  const count = options.records ?? 5;
  const dir = await mkdtemp(join(tmpdir(), 'waybill-verify-'));
  const runId = '01970a2b-6c3d-7e4f-8a9b-0c1d2e3f4a5b';
  const payloadName = `customers.${format}`;
  const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

  const rows = Array.from({ length: count }, (_, i) => ({
    id: i,
    name: `Customer ${i} «ü»`,
    email: `c${i}@example.com`,
    tier: i % 3 === 0 ? 'gold' : null,
  }));
  let payloadLines = rows.map((r) => canonicalJson(r));
  let recordLines = rows.map((r, i) =>
    formatRecordLine({
      digest: sha256(canonicalJson(r)),
      index: i,
      sourceRecordId: `rec_${i}`,
      ...(i % 2 === 0 ? { sourceUpdatedAt: '2025-06-01T12:00:00Z' } : {}),
    }),
  );
  if (options.mutatePayloadLines) payloadLines = options.mutatePayloadLines(payloadLines);
  if (options.mutateRecordLines) recordLines = options.mutateRecordLines(recordLines);

  const payload =
    format === 'ndjson'
      ? payloadLines.map((l) => l + '\n').join('')
      : 'email,id,name,tier\n' + rows.map((r) => `${r.email},${r.id},"${r.name}",${r.tier ?? ''}\n`).join('');
  const records = recordLines.map((l) => l + '\n').join('');
  const parsed = recordLines.map((l) => JSON.parse(l) as RecordLine);
  const leafHashes = parsed.map((r) => merkleLeafHash(Buffer.from(r.digest, 'hex')));
  const builder = new MerkleRootBuilder();
  for (const h of leafHashes) builder.add(h);
  const merkleRoot = builder.root().toString('hex');

  const lineageEvent: FixtureLineage = {
    eventType: 'COMPLETE',
    eventTime: '2025-06-01T12:00:05Z',
    producer: 'https://github.com/waybill-dev/waybill/tree/v0.1.0',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: {
      runId,
      facets: {
        waybill_attestation: {
          _producer: 'https://github.com/waybill-dev/waybill/tree/v0.1.0',
          _schemaURL: 'https://waybill.dev/spec/facets/1-0-0/WaybillAttestationRunFacet.json',
          envelope: 'waybill.intoto.jsonl',
          predicateType: WAYBILL_PREDICATE_TYPE,
          runId,
          recordsMerkleRoot: merkleRoot,
        },
      },
    },
    job: { namespace: 'waybill', name: 'customers-export' },
    inputs: [],
    outputs: [{ namespace: 'file:///exports', name: payloadName }],
  };
  options.mutateLineage?.(lineageEvent);
  const lineage = JSON.stringify(lineageEvent, null, 2) + '\n';

  const { privateKey, publicKey } = options.signingKey
    ? { privateKey: options.signingKey, publicKey: createPublicKey(options.signingKey) }
    : generateKeyPairSync('ed25519');
  const keyId = keyIdForPublicKey(publicKey);
  const statement: FixtureStatement = {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [
      { name: payloadName, digest: { sha256: sha256(payload) } },
      { name: 'lineage.json', digest: { sha256: sha256(lineage) } },
      { name: 'records.jsonl', digest: { sha256: sha256(records) } },
    ],
    predicateType: WAYBILL_PREDICATE_TYPE,
    predicate: {
      waybillVersion: '1',
      runId,
      purpose: 'quarterly churn analysis',
      records: { file: 'records.jsonl', count, merkleRoot },
      signingKeyId: keyId,
    },
  };
  options.mutateStatement?.(statement);
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(canonicalJson(statement)), {
    keyId,
    privateKey,
  });
  const envelopeFile = JSON.stringify(envelope) + '\n';

  await writeFile(join(dir, payloadName), payload);
  await writeFile(join(dir, 'records.jsonl'), records);
  await writeFile(join(dir, 'lineage.json'), lineage);
  await writeFile(join(dir, 'waybill.intoto.jsonl'), envelopeFile);

  // The audit log: a few unrelated entries around the seal entry of this export.
  const log = generateKeyPairSync('ed25519');
  const logVkey = vkeyFor(LOG_ORIGIN, log.publicKey);
  if (options.receipt ?? true) {
    const commitments: Buffer[] = Array.from({ length: 6 }, () => randomBytes(32));
    const sealIndex = 3;
    // The seal entry as Waybill's log writes it: a salted commitment to the canonical seal event.
    const sealEvent = Buffer.from(
      canonicalJson({
        index: sealIndex,
        type: 'run.sealed',
        time: '2026-01-02T03:04:05.000Z',
        actor: 'user:alice',
        workspace: 'default',
        subjects: { run: runId, definition: 'people' },
        details: { waybillDigest: createHash('sha256').update(envelopeFile).digest('hex') },
        ...options.sealEvent,
      }),
    );
    const salt = randomBytes(32);
    commitments[sealIndex] = auditLeaf(salt, sealEvent);
    const logLeaves = commitments.map((c) => merkleLeafHash(c));
    const logRoot = new MerkleRootBuilder();
    for (const h of logLeaves) logRoot.add(h);
    const checkpoint = signNote(
      formatCheckpoint({ origin: LOG_ORIGIN, size: logLeaves.length, rootHash: logRoot.root() }),
      {
        name: LOG_ORIGIN,
        privateKey: log.privateKey,
      },
    );
    const receipt = formatTlogProof({
      extra: auditLeafOpening(salt, sealEvent),
      index: sealIndex,
      proof: inclusionProof(sealIndex, logLeaves),
      checkpoint,
    });
    await writeFile(join(dir, 'receipt.tlog-proof'), receipt);
  }

  return {
    dir,
    payloadName,
    publicKey,
    privateKey,
    keyId,
    runId,
    logOrigin: LOG_ORIGIN,
    logVkey,
    recordLines: parsed,
    leafHashes,
    merkleRoot,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
