import { createHash, type KeyObject } from 'node:crypto';
import { WaybillError } from './waybill-error.js';
import { decodeBase64Strict } from './lib/strict-base64.js';
import { ed25519PublicKeyFromRaw, rawEd25519PublicKey } from './lib/ed25519-key.js';
import { isLowerHex } from './lib/hex-string.js';
import { hasControlCharacter } from './lib/utf8-text.js';

/** A trusted signed-note key: who may sign, under which 4-byte key id, with which Ed25519 key. */
export interface NoteVerifier {
  /** Key name, e.g. the log origin `waybill.example/audit`. */
  readonly name: string;
  /** The 32-bit key id as 8 lowercase hex digits. */
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

/** The C2SP signed-note signature type byte for Ed25519. */
export const NOTE_ED25519_TYPE = 0x01;

/**
 * The C2SP signed-note key id of an Ed25519 key: `SHA-256(name || 0x0A || 0x01 || pub32)[:4]`, as 8
 * lowercase hex digits (c2sp.org/signed-note, "Ed25519 signatures").
 *
 * @example
 * ```ts
 * noteKeyId('example.com/log', publicKey); // e.g. '530d903a'
 * ```
 */
export function noteKeyId(name: string, publicKey: KeyObject): string {
  return noteKeyIdFromRaw(name, rawEd25519PublicKey(publicKey));
}

function noteKeyIdFromRaw(name: string, raw: Uint8Array): string {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, NOTE_ED25519_TYPE]))
    .update(raw)
    .digest()
    .subarray(0, 4)
    .toString('hex');
}

/**
 * Checks a signed-note key name: non-empty, no Unicode whitespace, no `+` (c2sp.org/signed-note,
 * "Format"). Throws `ERR_WAYBILL_NOTE_INVALID`.
 */
export function assertNoteKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name) || hasControlCharacter(name, false)) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      `note key name ${JSON.stringify(name)} is invalid: it must be non-empty, without spaces or "+"`,
    );
  }
}

/**
 * Parses a verifier key `name+hexkeyid+base64(0x01 || pub32)` (the golang.org/x/mod/sumdb/note vkey
 * encoding) and checks that the key id matches the key. Throws `ERR_WAYBILL_NOTE_INVALID`.
 *
 * @example
 * ```ts
 * const verifier = parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
 * ```
 */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // Only the first two "+" separate fields: the base64 key may itself contain "+".
  const first = vkey.indexOf('+');
  const second = first === -1 ? -1 : vkey.indexOf('+', first + 1);
  if (second === -1) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      'a verifier key has the form name+hexkeyid+base64key (three parts joined by "+")',
    );
  }
  const name = vkey.slice(0, first);
  const id = vkey.slice(first + 1, second);
  const encoded = vkey.slice(second + 1);
  assertNoteKeyName(name);
  if (!isLowerHex(id, 8)) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      `verifier key id ${JSON.stringify(id)} is not 8 lowercase hex digits`,
    );
  }
  const bytes = decodeBase64Strict(encoded);
  if (bytes === null || bytes.length !== 33 || bytes[0] !== NOTE_ED25519_TYPE) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      `verifier key for ${name} is not base64 of 0x01 followed by a 32-byte Ed25519 key; only Ed25519 is supported`,
    );
  }
  const raw = bytes.subarray(1);
  if (noteKeyIdFromRaw(name, raw) !== id) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      `verifier key for ${name}: key id ${id} does not match the key`,
    );
  }
  return { name, keyId: id, publicKey: ed25519PublicKeyFromRaw(raw) };
}

/**
 * Formats the verifier key (`vkey`) of an Ed25519 key under `name`, for publication beside a log.
 *
 * @example
 * ```ts
 * const vkey = vkeyFor('waybill.example/audit', logPublicKey);
 * ```
 */
export function vkeyFor(name: string, publicKey: KeyObject): string {
  assertNoteKeyName(name);
  const raw = rawEd25519PublicKey(publicKey);
  const encoded = Buffer.concat([Buffer.from([NOTE_ED25519_TYPE]), raw]).toString('base64');
  return `${name}+${noteKeyIdFromRaw(name, raw)}+${encoded}`;
}

/**
 * A verifier from a name and a key, for callers that hold the key rather than its vkey.
 *
 * @example
 * ```ts
 * const verifier = noteVerifierFor('waybill.example/audit', logPublicKey);
 * verifyNote(checkpointNote, [verifier]);
 * ```
 */
export function noteVerifierFor(name: string, publicKey: KeyObject): NoteVerifier {
  return parseVerifierKey(vkeyFor(name, publicKey));
}
