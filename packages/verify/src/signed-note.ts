import { sign, verify, type KeyObject } from 'node:crypto';
import { WaybillError } from './waybill-error.js';
import { assertNoteKeyName, noteKeyId, parseVerifierKey, type NoteVerifier } from './note-verifier-key.js';
import { decodeBase64Strict } from './lib/strict-base64.js';
import { assertEd25519PrivateKey, toEd25519PublicKey } from './lib/ed25519-key.js';
import { decodeUtf8Strict, hasControlCharacter } from './lib/utf8-text.js';

/** One signature line of a note, decoded but not verified. */
export interface NoteSignature {
  readonly name: string;
  /** The 32-bit key id as 8 lowercase hex digits. */
  readonly keyId: string;
  /** The signature bytes after the key id. */
  readonly signature: Buffer;
}

/** A note split into its text and its signature lines. */
export interface ParsedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A note whose signatures by trusted keys have all verified (at least one). */
export interface VerifiedNote {
  readonly text: string;
  /** The trusted keys that signed, as `{ name, keyId }`. */
  readonly verifiedBy: readonly { readonly name: string; readonly keyId: string }[];
}

/** Who signs a note: a key name and an Ed25519 private key. */
export interface NoteSigningKey {
  readonly name: string;
  readonly privateKey: KeyObject;
}

// c2sp.org/signed-note asks verifiers to bound the number of signatures, accepting at least 16.
const MAX_SIGNATURES = 100;
const MAX_NOTE_BYTES = 1 << 20;
const SIGNATURE_PREFIX = '\u2014 ';

/**
 * Splits a C2SP signed note (c2sp.org/signed-note, "Format") into text and signature lines, rejecting
 * anything malformed with `ERR_WAYBILL_NOTE_INVALID`: not UTF-8, a control character other than LF, a
 * text not ending in LF, no blank line before the signatures, a signature line not of the form
 * `— name base64(keyid4 || sig)`, a name with spaces or `+`.
 *
 * The text is what precedes the last blank line of the note (the spec lets the text contain blank
 * lines). Nothing here is verified: use {@link verifyNote}.
 *
 * @example
 * ```ts
 * const { text, signatures } = parseNote(checkpointNote);
 * ```
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const str = typeof note === 'string' ? note : decodeUtf8Strict(note);
  if (str === null) throw invalid('the note is not valid UTF-8');
  if (Buffer.byteLength(str, 'utf8') > MAX_NOTE_BYTES)
    throw invalid(`the note is larger than ${MAX_NOTE_BYTES} bytes`);
  if (/\p{Surrogate}/u.test(str)) throw invalid('the note is not valid UTF-8 (lone surrogate)');
  if (hasControlCharacter(str, true))
    throw invalid('the note contains a control character other than newline');
  if (!str.endsWith('\n')) throw invalid('the note does not end with a newline');
  const split = str.lastIndexOf('\n\n');
  if (split === -1) throw invalid('the note has no blank line separating the text from the signatures');
  const text = str.slice(0, split + 1);
  const block = str.slice(split + 2);
  if (block.length === 0) throw invalid('the note has no signature lines after its blank line');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw invalid(`the note has more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line, i): NoteSignature => {
    if (!line.startsWith(SIGNATURE_PREFIX)) {
      throw invalid(`signature line ${i + 1} does not start with an em dash (U+2014) and a space`);
    }
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space === -1) throw invalid(`signature line ${i + 1} is not "— name signature"`);
    const name = rest.slice(0, space);
    const encoded = rest.slice(space + 1);
    try {
      assertNoteKeyName(name);
    } catch {
      throw invalid(`signature line ${i + 1} has an invalid key name`);
    }
    const bytes = decodeBase64Strict(encoded);
    // Four bytes of key id followed by at least one byte of signature.
    if (bytes === null || bytes.length < 5) {
      throw invalid(`signature line ${i + 1} (${name}) is not base64 of a key id and a signature`);
    }
    return { name, keyId: bytes.subarray(0, 4).toString('hex'), signature: Buffer.from(bytes.subarray(4)) };
  });
  return { text, signatures };
}

/**
 * Verifies a signed note against trusted keys (parsed verifiers or vkey strings).
 *
 * Follows c2sp.org/signed-note, "Signatures": lines from unknown keys (name and key id not both
 * matching a trusted key) are ignored; a line from a trusted key must verify, else the whole note is
 * rejected (`ERR_WAYBILL_SIGNATURE_INVALID`); and at least one trusted signature is required
 * (`ERR_WAYBILL_UNKNOWN_KEY`). Two lines from the same trusted key are rejected as malformed.
 *
 * @example
 * ```ts
 * const { text } = verifyNote(note, ['example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k']);
 * ```
 */
export function verifyNote(
  note: string | Uint8Array,
  verifiers: readonly (NoteVerifier | string)[],
): VerifiedNote {
  const parsed = parseNote(note);
  const trusted = verifiers.map((v) => (typeof v === 'string' ? parseVerifierKey(v) : v));
  const message = Buffer.from(parsed.text, 'utf8');
  const seen = new Set<string>();
  const verifiedBy: { name: string; keyId: string }[] = [];
  for (const sig of parsed.signatures) {
    const key = trusted.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (key === undefined) continue;
    const id = `${sig.name}+${sig.keyId}`;
    if (seen.has(id)) throw invalid(`the note carries two signatures by ${id}`);
    seen.add(id);
    // Ed25519 signatures are 64 bytes (RFC 8032 §5.1.6); other lengths cannot verify.
    if (
      sig.signature.length !== 64 ||
      !verify(null, message, toEd25519PublicKey(key.publicKey), sig.signature)
    ) {
      throw new WaybillError(
        'ERR_WAYBILL_SIGNATURE_INVALID',
        `the note's signature by trusted key ${id} does not verify; the note was altered`,
      );
    }
    verifiedBy.push({ name: sig.name, keyId: sig.keyId });
  }
  if (verifiedBy.length === 0) {
    const present = parsed.signatures.map((s) => `${s.name}+${s.keyId}`).join(', ');
    throw new WaybillError(
      'ERR_WAYBILL_UNKNOWN_KEY',
      `the note is not signed by any trusted key (signed by: ${present}; trusted: ${trusted.map((v) => `${v.name}+${v.keyId}`).join(', ') || 'none'})`,
    );
  }
  return { text: parsed.text, verifiedBy };
}

/**
 * Signs `text` (which must end in a newline) as a C2SP signed note with one or more Ed25519 keys and
 * returns the note: the text, a blank line, then one `— name base64(keyid || sig)` line per key.
 *
 * @example
 * ```ts
 * const note = signNote('example.com/log\n3\n' + rootB64 + '\n', { name: 'example.com/log', privateKey });
 * ```
 */
export function signNote(text: string, signers: NoteSigningKey | readonly NoteSigningKey[]): string {
  const list: readonly NoteSigningKey[] = Array.isArray(signers) ? signers : [signers as NoteSigningKey];
  if (list.length === 0)
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'signNote needs at least one signer');
  if (!text.endsWith('\n')) throw invalid('the note text must end with a newline');
  if (hasControlCharacter(text, true) || /\p{Surrogate}/u.test(text)) {
    throw invalid('the note text must be valid Unicode without control characters other than newline');
  }
  const message = Buffer.from(text, 'utf8');
  const lines = list.map(({ name, privateKey }) => {
    assertNoteKeyName(name);
    assertEd25519PrivateKey(privateKey);
    const keyId = Buffer.from(noteKeyId(name, privateKey), 'hex');
    const sig = sign(null, message, privateKey);
    return `${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyId, sig]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

function invalid(reason: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_NOTE_INVALID', `malformed signed note: ${reason}`);
}
