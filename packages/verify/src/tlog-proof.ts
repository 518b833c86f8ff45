import { WaybillError } from './waybill-error.js';
import { MERKLE_HASH_SIZE } from './merkle-hasher.js';
import { verifyInclusion } from './inclusion-verifier.js';
import { parseCheckpoint } from './tlog-checkpoint.js';
import { parseNote, verifyNote } from './signed-note.js';
import type { NoteVerifier } from './note-verifier-key.js';
import { decodeBase64Strict } from './lib/strict-base64.js';
import { decodeUtf8Strict, hasControlCharacter } from './lib/utf8-text.js';

/** The first line of every proof (c2sp.org/tlog-proof, "Format"). */
export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

/** A C2SP `tlog-proof@v1`, parsed but not verified. */
export interface TlogProof {
  /** Opaque, unauthenticated application data; `null` when the proof has no `extra` line. */
  readonly extra: Buffer | null;
  /** 0-based index of the entry in the log. */
  readonly index: bigint;
  /** RFC 9162 inclusion proof, leaf sibling first. */
  readonly proof: readonly Buffer[];
  /** The signed checkpoint note, verbatim (text, blank line, signature lines). */
  readonly checkpoint: string;
}

/** What a verified proof establishes. */
export interface VerifiedTlogProof {
  readonly origin: string;
  readonly index: bigint;
  readonly treeSize: bigint;
  readonly rootHash: Buffer;
  readonly extra: Buffer | null;
  /** Trusted keys whose checkpoint signatures verified. */
  readonly verifiedBy: readonly { readonly name: string; readonly keyId: string }[];
}

// RFC 9162 trees of up to 2^64 leaves have audit paths of at most 64 hashes.
const MAX_PROOF_HASHES = 64;
const MAX_PROOF_BYTES = 1 << 20;

/**
 * Parses a C2SP transparency log proof (c2sp.org/tlog-proof): the line `c2sp.org/tlog-proof@v1`, an
 * optional `extra <base64>` line, `index <decimal>`, zero or more base64 proof hashes (one per line),
 * a blank line, then the checkpoint as a signed note. Throws `ERR_WAYBILL_PROOF_INVALID` for a
 * malformed proof and `ERR_WAYBILL_NOTE_INVALID` for a malformed checkpoint.
 *
 * @example
 * ```ts
 * const { index, extra } = parseTlogProof(await readFile('receipt.tlog-proof'));
 * ```
 */
export function parseTlogProof(input: string | Uint8Array): TlogProof {
  const text = typeof input === 'string' ? input : decodeUtf8Strict(input);
  if (text === null) throw invalid('the proof is not valid UTF-8');
  if (Buffer.byteLength(text, 'utf8') > MAX_PROOF_BYTES)
    throw invalid(`the proof is larger than ${MAX_PROOF_BYTES} bytes`);
  if (hasControlCharacter(text, true))
    throw invalid('the proof contains a control character other than newline');
  const split = text.indexOf('\n\n');
  if (split === -1) throw invalid('no blank line separates the inclusion proof from the checkpoint');
  const head = text.slice(0, split).split('\n');
  const checkpoint = text.slice(split + 2);
  let line = 0;
  if (head[line++] !== TLOG_PROOF_HEADER) throw invalid(`the first line is not "${TLOG_PROOF_HEADER}"`);
  let extra: Buffer | null = null;
  if (head[line]?.startsWith('extra ')) {
    extra = decodeBase64Strict(head[line]!.slice('extra '.length));
    if (extra === null || extra.length === 0)
      throw invalid('the extra line does not hold non-empty base64 data');
    line++;
  }
  const indexLine = head[line++];
  const indexMatch = indexLine === undefined ? null : /^index (0|[1-9][0-9]{0,19})$/.exec(indexLine);
  if (indexMatch === null)
    throw invalid('the index line ("index N", N decimal without leading zeroes) is missing');
  const index = BigInt(indexMatch[1]!);
  if (index >= 1n << 64n) throw invalid(`index ${index} does not fit in 64 bits`);
  const hashLines = head.slice(line);
  if (hashLines.length > MAX_PROOF_HASHES)
    throw invalid(`the proof has more than ${MAX_PROOF_HASHES} hashes`);
  const proof = hashLines.map((h, i) => {
    const bytes = decodeBase64Strict(h);
    if (bytes === null || bytes.length !== MERKLE_HASH_SIZE) {
      throw invalid(`inclusion proof line ${i + 1} is not base64 of a ${MERKLE_HASH_SIZE}-byte hash`);
    }
    return bytes;
  });
  // Structure only; the signatures are checked by verifyTlogProof.
  parseCheckpoint(parseNote(checkpoint).text);
  return { extra, index, proof, checkpoint };
}

/**
 * Formats a C2SP `tlog-proof@v1`. `checkpoint` is the signed checkpoint note, included verbatim.
 *
 * @example
 * ```ts
 * const receipt = formatTlogProof({ extra: commitment, index: 41n, proof, checkpoint: signedNote });
 * ```
 */
export function formatTlogProof(proof: {
  readonly extra?: Uint8Array | null;
  readonly index: bigint | number;
  readonly proof: readonly Uint8Array[];
  readonly checkpoint: string;
}): string {
  const lines = [TLOG_PROOF_HEADER];
  if (proof.extra !== undefined && proof.extra !== null) {
    if (proof.extra.length === 0) throw invalid('extra data must not be empty; omit it instead');
    lines.push(`extra ${Buffer.from(proof.extra).toString('base64')}`);
  }
  lines.push(`index ${BigInt(proof.index).toString(10)}`);
  for (const h of proof.proof) lines.push(Buffer.from(h).toString('base64'));
  const out = `${lines.join('\n')}\n\n${proof.checkpoint}`;
  parseTlogProof(out);
  return out;
}

/**
 * Verifies a C2SP `tlog-proof@v1`: the checkpoint must carry a valid signature by one of `verifiers`
 * (the log's keys; see `verifyNote` for the rules), its origin must equal `origin` when given, and the
 * inclusion proof must show the entry with `leafHash` at `index` in the checkpointed tree.
 *
 * The proof does not carry the entry: the caller computes `leafHash` from the data it expects to be
 * logged (the `extra` field is unauthenticated and only trustworthy once this check binds it).
 *
 * @example
 * ```ts
 * const result = verifyTlogProof(receipt, { leafHash: merkleLeafHash(entry), verifiers: [logVkey] });
 * ```
 */
export function verifyTlogProof(
  input: string | Uint8Array | TlogProof,
  options: {
    readonly leafHash: Uint8Array;
    readonly verifiers: readonly (NoteVerifier | string)[];
    readonly origin?: string;
  },
): VerifiedTlogProof {
  const parsed = typeof input === 'string' || input instanceof Uint8Array ? parseTlogProof(input) : input;
  const note = verifyNote(parsed.checkpoint, options.verifiers);
  const checkpoint = parseCheckpoint(note.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw invalid(
      `the checkpoint is from log ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(options.origin)}`,
    );
  }
  verifyInclusion(parsed.index, checkpoint.size, options.leafHash, parsed.proof, checkpoint.rootHash);
  return {
    origin: checkpoint.origin,
    index: parsed.index,
    treeSize: checkpoint.size,
    rootHash: checkpoint.rootHash,
    extra: parsed.extra,
    verifiedBy: note.verifiedBy,
  };
}

function invalid(reason: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_PROOF_INVALID', `malformed tlog-proof: ${reason}`);
}
