import { WaybillError } from './waybill-error.js';
import { MERKLE_HASH_SIZE } from './merkle-hasher.js';
import { decodeBase64Strict } from './lib/strict-base64.js';
import { hasControlCharacter } from './lib/utf8-text.js';

/** The body of a C2SP transparency log checkpoint (c2sp.org/tlog-checkpoint). */
export interface Checkpoint {
  /** Unique identifier of the log, e.g. `waybill.example/audit`. */
  readonly origin: string;
  /** Number of leaves in the tree. */
  readonly size: bigint;
  /** RFC 9162 root hash of the tree at `size` (32 bytes). */
  readonly rootHash: Buffer;
  /** Opaque extension lines (not auditable; their use is NOT RECOMMENDED by the spec). */
  readonly extensions: readonly string[];
}

/**
 * Parses a checkpoint note text (the signed part of the note, ending in a newline):
 * origin line, decimal tree size without leading zeroes, base64 root hash, then optional non-empty
 * extension lines (c2sp.org/tlog-checkpoint, "Note text"). Throws `ERR_WAYBILL_NOTE_INVALID`.
 *
 * Parse only text returned by `verifyNote`: an unverified checkpoint says nothing.
 *
 * @example
 * ```ts
 * const checkpoint = parseCheckpoint(verifyNote(note, [logVkey]).text);
 * ```
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw invalid('the checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalid('a checkpoint has at least three lines: origin, tree size, root hash');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw invalid('the origin line is empty');
  if (hasControlCharacter(text, true)) throw invalid('the checkpoint contains a control character');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || sizeText.length > 20) {
    throw invalid(`tree size ${JSON.stringify(sizeText)} is not a decimal number without leading zeroes`);
  }
  const size = BigInt(sizeText);
  if (size >= 1n << 64n) throw invalid(`tree size ${sizeText} does not fit in 64 bits`);
  const rootHash = decodeBase64Strict(rootText);
  if (rootHash === null || rootHash.length !== MERKLE_HASH_SIZE) {
    throw invalid(`root hash ${JSON.stringify(rootText)} is not base64 of ${MERKLE_HASH_SIZE} bytes`);
  }
  extensions.forEach((line, i) => {
    if (line.length === 0) throw invalid(`extension line ${i + 1} is empty`);
  });
  return { origin, size, rootHash, extensions };
}

/**
 * Formats a checkpoint body, ready for `signNote`.
 *
 * @example
 * ```ts
 * const note = signNote(formatCheckpoint({ origin, size: 42n, rootHash }), { name: origin, privateKey });
 * ```
 */
export function formatCheckpoint(checkpoint: {
  readonly origin: string;
  readonly size: bigint | number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}): string {
  const size = BigInt(checkpoint.size);
  const text = [
    checkpoint.origin,
    size.toString(10),
    Buffer.from(checkpoint.rootHash).toString('base64'),
    ...(checkpoint.extensions ?? []),
  ].join('\n');
  const out = `${text}\n`;
  // Round-trip so a bad origin, size or hash is caught when writing, not when a recipient reads it.
  parseCheckpoint(out);
  return out;
}

function invalid(reason: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_NOTE_INVALID', `malformed checkpoint: ${reason}`);
}
