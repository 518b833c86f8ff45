import { createHash, type KeyObject } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError, type WaybillErrorCode } from './waybill-error.js';
import { parseEnvelope, verifyEnvelope, type DsseEnvelope, type VerifiedEnvelope } from './dsse-envelope.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  WAYBILL_FILES,
  WAYBILL_PREDICATE_TYPE,
  parseWaybillStatement,
  type WaybillStatement,
} from './in-toto-statement.js';
import { merkleLeafHash } from './merkle-hasher.js';
import { MerkleRootBuilder } from './merkle-root-builder.js';
import { InclusionProofBuilder } from './inclusion-proof-builder.js';
import { verifyInclusion } from './inclusion-verifier.js';
import { parseRecordLine, type RecordLine } from './record-line.js';
import { parseTlogProof, verifyTlogProof } from './tlog-proof.js';
import { SEAL_EVENT_TYPE, openAuditLeaf } from './audit-leaf.js';
import type { NoteVerifier } from './note-verifier-key.js';
import { sha256File } from './lib/file-digest.js';
import { readFileLines, type FileLine } from './lib/line-reader.js';
import { trustedKeyMap } from './lib/trusted-keys.js';
import { decodeUtf8Strict } from './lib/utf8-text.js';

/** Options of {@link verifyWaybillDirectory}. */
export interface VerifyWaybillDirectoryOptions {
  /**
   * The exporter's trusted Ed25519 public keys, as a list or as a map from key id to key. Required in
   * practice: without a trusted key nothing in the directory can be authenticated, and the result is
   * invalid with `ERR_WAYBILL_UNKNOWN_KEY`.
   */
  readonly keys?: readonly KeyObject[] | ReadonlyMap<string, KeyObject>;
  /**
   * Trusted audit-log keys (parsed or as vkey strings). When given, `receipt.tlog-proof` (if present)
   * is verified against them; when omitted, the receipt is not checked and `receipt.status` says so.
   */
  readonly logVerifiers?: readonly (NoteVerifier | string)[];
  /**
   * Whether a missing `receipt.tlog-proof` is an error (default true): every export Waybill seals
   * carries one, so its absence means the export cannot be shown to be in the audit log. False only for
   * exports known to predate receipts.
   */
  readonly requireReceipt?: boolean;
  /** 0-based index of a record to prove: the result then carries its inclusion proof. */
  readonly record?: number;
  /** Aborting rejects the returned promise with the signal's reason (the only way it rejects). */
  readonly signal?: AbortSignal;
}

/** One problem found in a waybill directory. */
export interface WaybillVerificationError {
  readonly code: WaybillErrorCode;
  readonly message: string;
}

/** The inclusion proof of one record in the records Merkle tree (all hashes lowercase hex). */
export interface RecordInclusionProof {
  readonly index: number;
  /** Number of records (leaves) in the tree. */
  readonly size: number;
  /** The record's digest from records.jsonl: the Merkle leaf. */
  readonly digest: string;
  readonly sourceRecordId: string;
  readonly sourceUpdatedAt?: string;
  /** `SHA-256(0x00 || digest bytes)`. */
  readonly leafHash: string;
  /** RFC 9162 audit path, leaf sibling first. */
  readonly proof: readonly string[];
  /** The signed `predicate.records.merkleRoot` the proof was checked against. */
  readonly root: string;
  /** True when the proof leads from the record to the signed root. */
  readonly verified: boolean;
}

/**
 * What was learnt from `receipt.tlog-proof`. Index and tree size are decimal strings: exact for any log
 * size, and the report stays JSON-serializable.
 */
export type ReceiptStatus =
  | { readonly status: 'absent' }
  | { readonly status: 'unchecked' }
  | { readonly status: 'invalid' }
  | {
      readonly status: 'verified';
      readonly origin: string;
      readonly index: string;
      readonly treeSize: string;
    };

/** The outcome of {@link verifyWaybillDirectory}. */
export interface WaybillDirectoryReport {
  /** True when no check failed. */
  readonly valid: boolean;
  /** The signed `predicate.runId`, once the statement was authenticated; `null` before. */
  readonly runId: string | null;
  /** Every problem found, in the order checked. Empty when `valid`. */
  readonly errors: readonly WaybillVerificationError[];
  /** Key ids of the trusted keys whose signatures verified. */
  readonly signedBy: readonly string[];
  readonly receipt: ReceiptStatus;
  /** Present when `options.record` was given and the record could be proven. */
  readonly recordProof?: RecordInclusionProof;
  /**
   * Present when the payload left encrypted (age): `absent` when only the ciphertext is here (its
   * digest was checked), `verified` when the decrypted plaintext lies beside it and matched.
   */
  readonly encryption?: { readonly plaintext: string; readonly status: 'absent' | 'verified' | 'invalid' };
}

// Bounds on files read whole; far above what a real waybill holds, low enough to refuse a bomb.
const MAX_ENVELOPE_FILE_BYTES = 16 << 20;
const MAX_LINEAGE_BYTES = 64 << 20;
const MAX_RECEIPT_BYTES = 1 << 20;
const MAX_RECORD_LINE_BYTES = 64 << 10;
const MAX_PAYLOAD_LINE_BYTES = 64 << 20;
// A broken million-line file must not yield a million errors.
const MAX_REPORTED_PER_CHECK = 20;
const PAYLOAD_NAME = /\.(csv|ndjson)(\.age)?$/;

/**
 * Verifies a waybill directory (docs/waybill-format.md): the DSSE envelope's signature by a trusted key,
 * the in-toto statement, that the directory holds exactly the signed subjects with their SHA-256
 * digests, `records.jsonl` (shape, order, count, RFC 9162 Merkle root and, for an NDJSON payload, each
 * payload line's digest), `lineage.json`'s attestation facet, and `receipt.tlog-proof` when log keys are
 * given. With `record`, also builds and checks that record's inclusion proof.
 *
 * Never throws for bad input: every problem is collected in `errors`, each with a stable code. Files are
 * streamed: memory stays O(log n) in the number of records, and large payloads are hashed chunk by chunk.
 * Nothing read from the directory is trusted before the envelope's signature verified.
 *
 * @example
 * ```ts
 * const report = await verifyWaybillDirectory('./export-2025-06-01', { keys: [exporterKey], record: 41 });
 * if (!report.valid) for (const e of report.errors) console.error(e.code, e.message);
 * ```
 */
export async function verifyWaybillDirectory(
  dir: string,
  options: VerifyWaybillDirectoryOptions = {},
): Promise<WaybillDirectoryReport> {
  const issues = new IssueList();
  const state: VerificationState = { runId: null, signedBy: [], receipt: { status: 'absent' } };
  try {
    await verifyInto(dir, options, issues, state);
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (err instanceof WaybillError) issues.add(err.code, err.message);
    else issues.add('ERR_WAYBILL_INTERNAL', `unexpected failure while verifying ${dir}: ${String(err)}`);
  }
  const errors = issues.finish();
  return {
    valid: errors.length === 0,
    runId: state.runId,
    errors,
    signedBy: state.signedBy,
    receipt: state.receipt,
    ...(state.recordProof ? { recordProof: state.recordProof } : {}),
    ...(state.encryption ? { encryption: state.encryption } : {}),
  };
}

interface VerificationState {
  runId: string | null;
  signedBy: string[];
  receipt: ReceiptStatus;
  recordProof?: RecordInclusionProof;
  encryption?: { plaintext: string; status: 'absent' | 'verified' | 'invalid' };
}

class IssueList {
  readonly #errors: WaybillVerificationError[] = [];
  readonly #counts = new Map<string, { code: WaybillErrorCode; count: number; what: string }>();

  get size(): number {
    return this.#errors.length + this.#counts.size;
  }

  add(code: WaybillErrorCode, message: string): void {
    this.#errors.push({ code, message });
  }

  /** Records the first few problems of a repeated kind, then only counts them. */
  addCapped(kind: string, code: WaybillErrorCode, message: string, what: string): void {
    const entry = this.#counts.get(kind) ?? { code, count: 0, what };
    entry.count++;
    this.#counts.set(kind, entry);
    if (entry.count <= MAX_REPORTED_PER_CHECK) this.#errors.push({ code, message });
  }

  finish(): WaybillVerificationError[] {
    for (const { code, count, what } of this.#counts.values()) {
      if (count > MAX_REPORTED_PER_CHECK) {
        this.#errors.push({
          code,
          message: `…and ${count - MAX_REPORTED_PER_CHECK} more ${what} not listed`,
        });
      }
    }
    return this.#errors;
  }
}

async function verifyInto(
  dir: string,
  options: VerifyWaybillDirectoryOptions,
  issues: IssueList,
  state: VerificationState,
): Promise<void> {
  const { signal } = options;
  if (options.record !== undefined && (!Number.isSafeInteger(options.record) || options.record < 0)) {
    issues.add(
      'ERR_WAYBILL_INVALID_INPUT',
      `record must be a non-negative integer, got ${String(options.record)}`,
    );
  }

  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    issues.add('ERR_WAYBILL_FILE_MISSING', `cannot read the waybill directory ${dir} (${errnoOf(err)})`);
    return;
  }
  const files = new Map(entries.map((e) => [e.name, e]));

  // 1. Authenticate: nothing else in the directory means anything until a trusted key signed it.
  const verified = await authenticate(dir, files, options, issues);
  if (verified === null) return;
  const { envelope, statement } = verified;
  state.signedBy = envelope.keyIds;
  state.runId = statement.predicate.runId;
  const { predicate } = statement;
  if (!envelope.keyIds.includes(predicate.signingKeyId)) {
    issues.add(
      'ERR_WAYBILL_STATEMENT_INVALID',
      `predicate.signingKeyId is ${predicate.signingKeyId}, but the envelope was signed by ${envelope.keyIds.join(', ')}`,
    );
  }

  // 2. The directory must hold exactly the signed subjects, byte for byte.
  const subjectNames = new Set(statement.subjects.map((s) => s.name));
  for (const required of [WAYBILL_FILES.records, WAYBILL_FILES.lineage]) {
    if (!subjectNames.has(required))
      issues.add('ERR_WAYBILL_STATEMENT_INVALID', `the statement does not list ${required} as a subject`);
  }
  const payloads = statement.subjects.filter((s) => PAYLOAD_NAME.test(s.name));
  if (payloads.length === 0) {
    issues.add(
      'ERR_WAYBILL_STATEMENT_INVALID',
      'the statement lists no payload file (<name>.csv or <name>.ndjson)',
    );
  }
  const present = new Set<string>();
  for (const subject of statement.subjects) {
    signal?.throwIfAborted();
    const entry = files.get(subject.name);
    if (entry === undefined) {
      issues.add(
        'ERR_WAYBILL_FILE_MISSING',
        `${subject.name} is listed in the signed statement but missing from the directory`,
      );
      continue;
    }
    if (!entry.isFile()) {
      issues.add(
        'ERR_WAYBILL_FILE_MISSING',
        `${subject.name} is listed in the signed statement but is not a regular file`,
      );
      continue;
    }
    let actual: string;
    try {
      actual = await sha256File(join(dir, subject.name), signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      issues.add('ERR_WAYBILL_FILE_MISSING', `${subject.name} cannot be read (${errnoOf(err)})`);
      continue;
    }
    present.add(subject.name);
    if (actual !== subject.sha256) {
      issues.add(
        'ERR_WAYBILL_DIGEST_MISMATCH',
        `${subject.name} has SHA-256 ${actual}, but the signed statement says ${subject.sha256}: the file was changed after signing`,
      );
    }
  }
  // An encrypted payload: its plaintext, once decrypted beside it, is vouched for by the signed digest.
  const encryption = encryptionOf(predicate.raw, payloads, issues);
  if (encryption) {
    state.encryption = { plaintext: encryption.name, status: 'absent' };
    const entry = files.get(encryption.name);
    if (entry?.isFile()) {
      let actual: string | null = null;
      try {
        actual = await sha256File(join(dir, encryption.name), signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        issues.add('ERR_WAYBILL_FILE_MISSING', `${encryption.name} cannot be read (${errnoOf(err)})`);
      }
      if (actual !== null && actual !== encryption.sha256) {
        state.encryption.status = 'invalid';
        issues.add(
          'ERR_WAYBILL_DIGEST_MISMATCH',
          `${encryption.name} (the decrypted payload) has SHA-256 ${actual}, but the signed predicate says ${encryption.sha256}`,
        );
      } else if (actual !== null) {
        state.encryption.status = 'verified';
        present.add(encryption.name);
      }
    }
  }
  for (const [name, entry] of files) {
    if (subjectNames.has(name) || name === WAYBILL_FILES.envelope) continue;
    if (encryption && name === encryption.name) continue;
    if (name === WAYBILL_FILES.receipt && entry.isFile()) continue;
    issues.add(
      'ERR_WAYBILL_UNEXPECTED_FILE',
      `${name} is in the directory but not listed in the signed statement, so nothing vouches for it`,
    );
  }

  // 3. records.jsonl against the predicate (and the payload lines, for NDJSON).
  if (present.has(WAYBILL_FILES.records)) {
    // The payload lines are checked against their records in the plaintext: the payload itself, or
    // the decrypted file beside an encrypted one.
    const plain = encryption ? encryption.name : payloads.length === 1 ? payloads[0]!.name : null;
    const ndjson = plain !== null && plain.endsWith('.ndjson') && present.has(plain) ? plain : null;
    await checkRecords(dir, statement, ndjson, options, issues, state);
  }

  // 4. lineage.json's attestation facet must describe this run.
  if (present.has(WAYBILL_FILES.lineage)) await checkLineage(dir, statement, issues);

  // 5. The audit log receipt, when present and the caller can check it.
  const receipt = files.get(WAYBILL_FILES.receipt);
  if (!receipt?.isFile() && (options.requireReceipt ?? true)) {
    issues.add(
      'ERR_WAYBILL_FILE_MISSING',
      `${WAYBILL_FILES.receipt} is missing: nothing shows that this export was entered in the audit log`,
    );
  }
  if (receipt?.isFile()) {
    // A receipt nobody can check proves nothing, and an unchecked file must not ride along in a
    // directory reported valid: without the log's key it makes the verdict invalid.
    if (options.logVerifiers === undefined || options.logVerifiers.length === 0) {
      state.receipt = { status: 'unchecked' };
      issues.add(
        'ERR_WAYBILL_UNKNOWN_KEY',
        `${WAYBILL_FILES.receipt} is present but no audit-log key was given to check it; pass the log's verifier key (waybill verify --log-key VKEY)`,
      );
    } else
      state.receipt = await checkReceipt(
        dir,
        options.logVerifiers,
        { runId: predicate.runId, envelopeSha256: verified.envelopeSha256 },
        issues,
      );
  }
}

/** The signed `predicate.encryption`, checked against the payload subject; null when there is none. */
function encryptionOf(
  raw: Readonly<Record<string, unknown>>,
  payloads: readonly { name: string }[],
  issues: IssueList,
): { name: string; sha256: string } | null {
  const e = raw['encryption'];
  const encrypted = payloads.some((p) => p.name.endsWith('.age'));
  if (e === undefined) {
    if (encrypted)
      issues.add(
        'ERR_WAYBILL_STATEMENT_INVALID',
        'the payload is an .age file but the predicate has no encryption',
      );
    return null;
  }
  const plaintext = isObject(e) ? e['plaintext'] : undefined;
  const name = isObject(plaintext) ? plaintext['name'] : undefined;
  const sha256 = isObject(plaintext) ? plaintext['sha256'] : undefined;
  if (
    !isObject(e) ||
    e['format'] !== 'age-encryption.org/v1' ||
    typeof name !== 'string' ||
    !/^[^/\\]+\.(csv|ndjson)$/.test(name) ||
    typeof sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(sha256) ||
    !payloads.some((p) => p.name === `${name}.age`)
  ) {
    issues.add(
      'ERR_WAYBILL_STATEMENT_INVALID',
      'predicate.encryption must name the age format and the plaintext (name, sha256) of the .age payload subject',
    );
    return null;
  }
  return { name, sha256 };
}

async function authenticate(
  dir: string,
  files: ReadonlyMap<string, Dirent>,
  options: VerifyWaybillDirectoryOptions,
  issues: IssueList,
): Promise<{ envelope: VerifiedEnvelope; statement: WaybillStatement; envelopeSha256: string } | null> {
  const keys = options.keys;
  if (
    keys === undefined ||
    (Array.isArray(keys) ? keys.length === 0 : (keys as ReadonlyMap<string, KeyObject>).size === 0)
  ) {
    issues.add(
      'ERR_WAYBILL_UNKNOWN_KEY',
      "no trusted public keys were given: pass the exporter's public key(s) as `keys`; without them the waybill cannot be authenticated",
    );
    return null;
  }
  let trusted: Map<string, KeyObject>;
  try {
    trusted = trustedKeyMap(keys);
  } catch (err) {
    issues.add('ERR_WAYBILL_INVALID_INPUT', err instanceof Error ? err.message : String(err));
    return null;
  }

  const text = await readWholeFile(
    dir,
    files,
    WAYBILL_FILES.envelope,
    MAX_ENVELOPE_FILE_BYTES,
    'ERR_WAYBILL_ENVELOPE_MALFORMED',
    issues,
  );
  if (text === null) return null;
  if (!text.endsWith('\n')) {
    issues.add(
      'ERR_WAYBILL_ENVELOPE_MALFORMED',
      `${WAYBILL_FILES.envelope} must be JSON Lines ending with a newline`,
    );
    return null;
  }
  const envelopes: DsseEnvelope[] = [];
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      try {
        envelopes.push(parseEnvelope(line));
      } catch (err) {
        issues.add(
          'ERR_WAYBILL_ENVELOPE_MALFORMED',
          `${WAYBILL_FILES.envelope} line ${i + 1}: ${messageOf(err)}`,
        );
      }
    });
  if (issues.size > 0) return null;

  const verified: VerifiedEnvelope[] = [];
  const unknown: string[] = [];
  envelopes.forEach((envelope, i) => {
    try {
      verified.push(verifyEnvelope(envelope, trusted));
    } catch (err) {
      const code = err instanceof WaybillError ? err.code : 'ERR_WAYBILL_INTERNAL';
      const message = `${WAYBILL_FILES.envelope} line ${i + 1}: ${messageOf(err)}`;
      if (code === 'ERR_WAYBILL_UNKNOWN_KEY') unknown.push(message);
      else issues.add(code, message);
    }
  });
  if (issues.size > 0) return null;
  if (verified.length === 0) {
    for (const message of unknown) issues.add('ERR_WAYBILL_UNKNOWN_KEY', message);
    return null;
  }

  // Envelopes by other trusted parties may ride along; exactly one must be the export statement.
  const statements: { envelope: VerifiedEnvelope; statement: WaybillStatement }[] = [];
  const rejections: string[] = [];
  for (const envelope of verified) {
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      rejections.push(
        `payloadType is ${JSON.stringify(envelope.payloadType)}, expected "${IN_TOTO_PAYLOAD_TYPE}"`,
      );
      continue;
    }
    try {
      statements.push({ envelope, statement: parseWaybillStatement(envelope.payload) });
    } catch (err) {
      rejections.push(messageOf(err));
    }
  }
  if (statements.length !== 1) {
    issues.add(
      'ERR_WAYBILL_STATEMENT_INVALID',
      statements.length === 0
        ? `no signed envelope holds a valid waybill statement: ${rejections.join('; ')}`
        : `${statements.length} signed envelopes hold waybill statements; a waybill has exactly one`,
    );
    return null;
  }
  return { ...statements[0]!, envelopeSha256: createHash('sha256').update(text, 'utf8').digest('hex') };
}

async function checkRecords(
  dir: string,
  statement: WaybillStatement,
  ndjsonPayload: string | null,
  options: VerifyWaybillDirectoryOptions,
  issues: IssueList,
  state: VerificationState,
): Promise<void> {
  const { signal } = options;
  const expected = statement.predicate.records;
  const root = new MerkleRootBuilder();
  const wanted =
    options.record !== undefined && Number.isSafeInteger(options.record) && options.record >= 0
      ? options.record
      : null;
  const prover = wanted === null ? null : new InclusionProofBuilder(wanted);
  let proven: RecordLine | null = null;
  let count = 0;
  // Once a line cannot be parsed, its leaf is unknown and no root or proof can be computed.
  let leavesKnown = true;
  const payload: AsyncIterator<FileLine> | null =
    ndjsonPayload === null
      ? null
      : readFileLines(join(dir, ndjsonPayload), {
          maxLineBytes: MAX_PAYLOAD_LINE_BYTES,
          code: 'ERR_WAYBILL_RECORDS_MISMATCH',
          signal,
        })[Symbol.asyncIterator]();
  let payloadEnded = false;
  const mismatch = (kind: string, message: string, what: string): void =>
    issues.addCapped(kind, 'ERR_WAYBILL_RECORDS_MISMATCH', message, what);

  try {
    const lines = readFileLines(join(dir, WAYBILL_FILES.records), {
      maxLineBytes: MAX_RECORD_LINE_BYTES,
      code: 'ERR_WAYBILL_RECORDS_MISMATCH',
      signal,
    });
    for await (const line of lines) {
      const i = count++;
      if (i % 65536 === 0) signal?.throwIfAborted();
      if (!line.terminated)
        mismatch(
          'records-lf',
          `records.jsonl: the last line (${i + 1}) does not end with LF`,
          'unterminated lines',
        );
      let record: RecordLine | null = null;
      const text = decodeUtf8Strict(line.bytes);
      if (text === null)
        mismatch('records-line', `records.jsonl line ${i + 1} is not valid UTF-8`, 'malformed records lines');
      else {
        try {
          record = parseRecordLine(text);
        } catch (err) {
          mismatch(
            'records-line',
            `records.jsonl line ${i + 1}: ${messageOf(err)}`,
            'malformed records lines',
          );
        }
      }
      if (record === null) leavesKnown = false;
      else {
        if (record.index !== i) {
          mismatch(
            'records-index',
            `records.jsonl line ${i + 1} has index ${record.index}, expected ${i}: records are out of order, missing or duplicated`,
            'out-of-order records',
          );
        }
        if (leavesKnown) {
          const leaf = merkleLeafHash(Buffer.from(record.digest, 'hex'));
          root.add(leaf);
          prover?.add(leaf);
        }
        if (i === wanted) proven = record;
      }
      if (payload !== null && !payloadEnded) {
        const next = await payload.next();
        if (next.done === true) {
          payloadEnded = true;
          mismatch(
            'payload-count',
            `${ndjsonPayload} has ${i} lines, fewer than the records in records.jsonl`,
            'payload line count problems',
          );
        } else {
          if (!next.value.terminated) {
            mismatch(
              'payload-lf',
              `${ndjsonPayload}: the last line (${i + 1}) does not end with LF`,
              'unterminated payload lines',
            );
          }
          const digest = createHash('sha256').update(next.value.bytes).digest('hex');
          if (record !== null && digest !== record.digest) {
            mismatch(
              'payload-digest',
              `${ndjsonPayload} line ${i + 1} has SHA-256 ${digest}, but records.jsonl line ${i + 1} says ${record.digest}`,
              'payload lines that do not match their record digest',
            );
          }
        }
      }
    }
    if (payload !== null && !payloadEnded) {
      const next = await payload.next();
      if (next.done !== true) {
        mismatch(
          'payload-count',
          `${ndjsonPayload} has more lines than the ${count} records in records.jsonl`,
          'payload line count problems',
        );
      }
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    issues.add(
      'ERR_WAYBILL_RECORDS_MISMATCH',
      err instanceof WaybillError ? err.message : `records.jsonl cannot be read (${errnoOf(err)})`,
    );
    return;
  } finally {
    await payload?.return?.();
  }

  if (count !== expected.count) {
    issues.add(
      'ERR_WAYBILL_RECORDS_MISMATCH',
      `records.jsonl has ${count} records, but the signed predicate says ${expected.count}`,
    );
  }
  if (leavesKnown) {
    const actual = root.root().toString('hex');
    if (actual !== expected.merkleRoot) {
      issues.add(
        'ERR_WAYBILL_RECORDS_MISMATCH',
        `the Merkle root of records.jsonl is ${actual}, but the signed predicate says ${expected.merkleRoot}`,
      );
    }
  }

  if (wanted === null || prover === null) return;
  if (wanted >= count) {
    issues.add(
      'ERR_WAYBILL_INVALID_INPUT',
      `record ${wanted} is out of range: this export has ${count} records (indexes 0 to ${count - 1})`,
    );
    return;
  }
  if (!leavesKnown || proven === null) {
    issues.add('ERR_WAYBILL_PROOF_INVALID', `cannot prove record ${wanted}: records.jsonl is malformed`);
    return;
  }
  const built = prover.finish();
  let verified = true;
  try {
    verifyInclusion(
      built.index,
      built.size,
      built.leafHash,
      built.proof,
      Buffer.from(expected.merkleRoot, 'hex'),
    );
  } catch (err) {
    verified = false;
    issues.add(
      'ERR_WAYBILL_PROOF_INVALID',
      `record ${wanted} is not included under the signed Merkle root: ${messageOf(err)}`,
    );
  }
  state.recordProof = {
    index: built.index,
    size: built.size,
    digest: proven.digest,
    sourceRecordId: proven.sourceRecordId,
    ...(proven.sourceUpdatedAt !== undefined ? { sourceUpdatedAt: proven.sourceUpdatedAt } : {}),
    leafHash: built.leafHash.toString('hex'),
    proof: built.proof.map((h) => h.toString('hex')),
    root: expected.merkleRoot,
    verified,
  };
}

async function checkLineage(dir: string, statement: WaybillStatement, issues: IssueList): Promise<void> {
  const path = join(dir, WAYBILL_FILES.lineage);
  const text = await readFileChecked(
    path,
    WAYBILL_FILES.lineage,
    MAX_LINEAGE_BYTES,
    'ERR_WAYBILL_LINEAGE_INVALID',
    issues,
  );
  if (text === null) return;
  const bad = (reason: string): void => issues.add('ERR_WAYBILL_LINEAGE_INVALID', `lineage.json ${reason}`);
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    bad('is not valid JSON');
    return;
  }
  const facet = field(field(field(event, 'run'), 'facets'), 'waybill_attestation');
  if (!isObject(facet)) {
    bad('has no run.facets.waybill_attestation object');
    return;
  }
  const { predicate } = statement;
  if (facet['envelope'] !== WAYBILL_FILES.envelope) {
    bad(
      `names envelope ${JSON.stringify(facet['envelope'])} in its attestation facet, expected "${WAYBILL_FILES.envelope}"`,
    );
  }
  if (facet['predicateType'] !== WAYBILL_PREDICATE_TYPE) {
    bad(`names predicateType ${JSON.stringify(facet['predicateType'])} in its attestation facet`);
  }
  if (facet['runId'] !== predicate.runId) {
    bad(
      `describes run ${JSON.stringify(facet['runId'])}, but the signed predicate is for run ${predicate.runId}`,
    );
  }
  if (facet['recordsMerkleRoot'] !== predicate.records.merkleRoot) {
    bad(
      `gives records Merkle root ${JSON.stringify(facet['recordsMerkleRoot'])}, but the signed predicate says ${predicate.records.merkleRoot}`,
    );
  }
}

async function checkReceipt(
  dir: string,
  verifiers: readonly (NoteVerifier | string)[],
  expected: { readonly runId: string; readonly envelopeSha256: string },
  issues: IssueList,
): Promise<ReceiptStatus> {
  const path = join(dir, WAYBILL_FILES.receipt);
  const text = await readFileChecked(
    path,
    WAYBILL_FILES.receipt,
    MAX_RECEIPT_BYTES,
    'ERR_WAYBILL_PROOF_INVALID',
    issues,
  );
  if (text === null) return { status: 'invalid' };
  try {
    const proof = parseTlogProof(text);
    // The `extra` line opens the logged leaf: salt || canonical JSON of the seal event
    // (docs/waybill-format.md, "Receipt"). The inclusion proof authenticates it; only then is the event
    // read, and it must be the seal of this very export.
    if (proof.extra === null) {
      throw new WaybillError('ERR_WAYBILL_PROOF_INVALID', 'it has no extra line carrying the logged entry');
    }
    const { leaf, event } = openAuditLeaf(proof.extra);
    const result = verifyTlogProof(proof, { leafHash: merkleLeafHash(leaf), verifiers });
    const mismatch = (what: string): never => {
      throw new WaybillError(
        'ERR_WAYBILL_RECEIPT_MISMATCH',
        `it proves that log entry ${proof.index} is in the audit log, but that entry ${what}: the receipt belongs to another export`,
      );
    };
    if (BigInt(event.index) !== proof.index) mismatch(`says it is entry ${event.index}`);
    if (event.type !== SEAL_EVENT_TYPE)
      mismatch(`is a ${JSON.stringify(event.type)} event, not ${SEAL_EVENT_TYPE}`);
    if (event.subjects['run'] !== expected.runId)
      mismatch(`seals run ${JSON.stringify(event.subjects['run'])}, not ${expected.runId}`);
    if (event.details['waybillDigest'] !== expected.envelopeSha256) {
      mismatch(
        `seals a ${WAYBILL_FILES.envelope} with SHA-256 ${JSON.stringify(event.details['waybillDigest'])}, not this one (${expected.envelopeSha256})`,
      );
    }
    return {
      status: 'verified',
      origin: result.origin,
      index: result.index.toString(),
      treeSize: result.treeSize.toString(),
    };
  } catch (err) {
    issues.add(
      err instanceof WaybillError ? err.code : 'ERR_WAYBILL_PROOF_INVALID',
      `${WAYBILL_FILES.receipt}: ${messageOf(err)}`,
    );
    return { status: 'invalid' };
  }
}

async function readWholeFile(
  dir: string,
  files: ReadonlyMap<string, Dirent>,
  name: string,
  maxBytes: number,
  code: WaybillErrorCode,
  issues: IssueList,
): Promise<string | null> {
  const entry = files.get(name);
  if (entry === undefined || !entry.isFile()) {
    issues.add(
      'ERR_WAYBILL_FILE_MISSING',
      `${name} is missing from the waybill directory (or is not a regular file)`,
    );
    return null;
  }
  return readFileChecked(join(dir, name), name, maxBytes, code, issues);
}

async function readFileChecked(
  path: string,
  name: string,
  maxBytes: number,
  code: WaybillErrorCode,
  issues: IssueList,
): Promise<string | null> {
  let bytes: Buffer;
  try {
    const { size } = await stat(path);
    if (size > maxBytes) {
      issues.add(code, `${name} is ${size} bytes, more than the ${maxBytes} accepted`);
      return null;
    }
    bytes = await readFile(path);
  } catch (err) {
    issues.add('ERR_WAYBILL_FILE_MISSING', `${name} cannot be read (${errnoOf(err)})`);
    return null;
  }
  const text = decodeUtf8Strict(bytes);
  if (text === null) issues.add(code, `${name} is not valid UTF-8`);
  return text;
}

function field(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : messageOf(err);
}
