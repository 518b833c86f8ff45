import { WaybillError } from './waybill-error.js';
import { isLowerHex } from './lib/hex-string.js';
import { decodeUtf8Strict } from './lib/utf8-text.js';

/** DSSE payload type of an in-toto Statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** `_type` of an in-toto Statement v1. */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** `predicateType` of a Waybill export attestation. */
export const WAYBILL_PREDICATE_TYPE = 'https://waybill.dev/export/v1';
/** File names with a fixed meaning in a waybill directory (docs/waybill-format.md). */
export const WAYBILL_FILES = {
  envelope: 'waybill.intoto.jsonl',
  receipt: 'receipt.tlog-proof',
  records: 'records.jsonl',
  lineage: 'lineage.json',
} as const;

/** One subject of the statement: a file of the waybill directory and its SHA-256. */
export interface WaybillSubject {
  readonly name: string;
  /** Lowercase hex SHA-256 of the file. */
  readonly sha256: string;
}

/** The fields of the export predicate that verification relies on; the rest is in `raw`. */
export interface WaybillPredicate {
  readonly runId: string;
  readonly records: { readonly file: 'records.jsonl'; readonly count: number; readonly merkleRoot: string };
  /** Key id (`keyIdForPublicKey`) of the key that signed the envelope. */
  readonly signingKeyId: string;
  /** The whole predicate as signed. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A Waybill export statement that passed shape validation. */
export interface WaybillStatement {
  readonly subjects: readonly WaybillSubject[];
  readonly predicate: WaybillPredicate;
}

/**
 * Validates the payload of a Waybill envelope as an in-toto Statement v1 with predicate type
 * `https://waybill.dev/export/v1`. Subject names must be plain file names (no path separators, no
 * `.`/`..`): a subject such as `../../etc/passwd` would otherwise make a verifier hash files outside the
 * waybill directory. Throws `ERR_WAYBILL_STATEMENT_INVALID` naming the first problem.
 *
 * Call it only on a payload returned by `verifyEnvelope`.
 *
 * @example
 * ```ts
 * const { payload } = verifyEnvelope(envelope, keys);
 * const statement = parseWaybillStatement(payload);
 * ```
 */
export function parseWaybillStatement(payload: Uint8Array | string): WaybillStatement {
  const text = typeof payload === 'string' ? payload : decodeUtf8Strict(payload);
  if (text === null) throw invalid('the payload is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new WaybillError('ERR_WAYBILL_STATEMENT_INVALID', 'the statement is not valid JSON', {
      cause: err,
    });
  }
  if (!isObject(value)) throw invalid('the statement must be a JSON object');
  if (value['_type'] !== IN_TOTO_STATEMENT_TYPE) {
    throw invalid(`_type must be "${IN_TOTO_STATEMENT_TYPE}", got ${JSON.stringify(value['_type'])}`);
  }
  if (value['predicateType'] !== WAYBILL_PREDICATE_TYPE) {
    throw invalid(
      `predicateType must be "${WAYBILL_PREDICATE_TYPE}", got ${JSON.stringify(value['predicateType'])}`,
    );
  }
  const subject = value['subject'];
  if (!Array.isArray(subject) || subject.length === 0) throw invalid('subject must be a non-empty array');
  const seen = new Set<string>();
  const subjects = subject.map((s: unknown, i): WaybillSubject => {
    if (!isObject(s)) throw invalid(`subject[${i}] must be an object`);
    const name = s['name'];
    if (typeof name !== 'string' || !isPlainFileName(name)) {
      throw invalid(
        `subject[${i}].name must be a plain file name inside the waybill directory, got ${JSON.stringify(name)}`,
      );
    }
    if (seen.has(name)) throw invalid(`subject "${name}" is listed twice`);
    seen.add(name);
    if (name === WAYBILL_FILES.envelope || name === WAYBILL_FILES.receipt) {
      throw invalid(`"${name}" cannot be a subject: it is written after the statement is signed`);
    }
    const digest = s['digest'];
    const sha256 = isObject(digest) ? digest['sha256'] : undefined;
    if (!isLowerHex(sha256, 64))
      throw invalid(`subject "${name}" needs digest.sha256 as 64 lowercase hex digits`);
    return { name, sha256 };
  });
  const predicate = value['predicate'];
  if (!isObject(predicate)) throw invalid('predicate must be an object');
  const runId = predicate['runId'];
  if (typeof runId !== 'string' || runId.length === 0)
    throw invalid('predicate.runId must be a non-empty string');
  const records = predicate['records'];
  if (!isObject(records)) throw invalid('predicate.records must be an object');
  if (records['file'] !== WAYBILL_FILES.records) {
    throw invalid(
      `predicate.records.file must be "${WAYBILL_FILES.records}", got ${JSON.stringify(records['file'])}`,
    );
  }
  const count = records['count'];
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw invalid('predicate.records.count must be a non-negative integer');
  }
  const merkleRoot = records['merkleRoot'];
  if (!isLowerHex(merkleRoot, 64))
    throw invalid('predicate.records.merkleRoot must be 64 lowercase hex digits');
  const signingKeyId = predicate['signingKeyId'];
  if (!isLowerHex(signingKeyId, 32)) throw invalid('predicate.signingKeyId must be 32 lowercase hex digits');
  return {
    subjects,
    predicate: {
      runId,
      records: { file: WAYBILL_FILES.records, count, merkleRoot },
      signingKeyId,
      raw: predicate,
    },
  };
}

function isPlainFileName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 255 &&
    name !== '.' &&
    name !== '..' &&
    !/[/\\]/.test(name) &&
    !name.includes('\0')
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(reason: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_STATEMENT_INVALID', `invalid waybill statement: ${reason}`);
}
