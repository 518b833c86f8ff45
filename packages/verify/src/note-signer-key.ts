import { createPublicKey, type KeyObject } from 'node:crypto';
import { WaybillError } from './waybill-error.js';
import { NOTE_ED25519_TYPE, assertNoteKeyName, noteKeyId } from './note-verifier-key.js';
import { decodeBase64Strict } from './lib/strict-base64.js';
import { ed25519PrivateKeyFromSeed } from './lib/ed25519-key.js';
import { isLowerHex } from './lib/hex-string.js';

/** A signed-note signing key, decoded. */
export interface NoteSigner {
  readonly name: string;
  /** The 32-bit key id as 8 lowercase hex digits. */
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Parses a signer key `PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed32)` (the
 * golang.org/x/mod/sumdb/note skey encoding) and checks the key id. Throws `ERR_WAYBILL_NOTE_INVALID`
 * without echoing the key.
 *
 * Security: the skey is a secret; keep it out of logs and error reports.
 *
 * @example
 * ```ts
 * const signer = parseSignerKey(process.env.LOG_SKEY!);
 * const note = signNote(checkpointText, signer);
 * ```
 */
export function parseSignerKey(skey: string): NoteSigner {
  // Only the first four "+" separate fields: the base64 key may itself contain "+".
  const prefix = 'PRIVATE+KEY+';
  const nameEnd = skey.indexOf('+', prefix.length);
  const idEnd = nameEnd === -1 ? -1 : skey.indexOf('+', nameEnd + 1);
  if (!skey.startsWith(prefix) || idEnd === -1) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      'a signer key has the form PRIVATE+KEY+name+hexkeyid+base64key',
    );
  }
  const name = skey.slice(prefix.length, nameEnd);
  const id = skey.slice(nameEnd + 1, idEnd);
  const encoded = skey.slice(idEnd + 1);
  assertNoteKeyName(name);
  const bytes = decodeBase64Strict(encoded);
  if (!isLowerHex(id, 8) || bytes === null || bytes.length !== 33 || bytes[0] !== NOTE_ED25519_TYPE) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      `signer key for ${name} is malformed: expected an 8-hex key id and base64 of 0x01 followed by a 32-byte Ed25519 seed`,
    );
  }
  const privateKey = ed25519PrivateKeyFromSeed(bytes.subarray(1));
  const publicKey = createPublicKey(privateKey);
  if (noteKeyId(name, publicKey) !== id) {
    throw new WaybillError(
      'ERR_WAYBILL_NOTE_INVALID',
      `signer key for ${name}: key id ${id} does not match the key`,
    );
  }
  return { name, keyId: id, privateKey, publicKey };
}
