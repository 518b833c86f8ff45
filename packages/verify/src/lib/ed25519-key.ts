import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { WaybillError } from '../waybill-error.js';

// DER prefixes of the fixed-size Ed25519 encodings (RFC 8410 §4 and §7): the raw 32-byte key follows.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Returns the Ed25519 public key of `key` (a public key, or the public half of a private key).
 * Throws `ERR_WAYBILL_INVALID_INPUT` for any other key type, so a misconfigured RSA or EC key fails
 * loudly instead of never matching.
 */
export function toEd25519PublicKey(key: KeyObject, what = 'key'): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `${what} must be an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`,
    );
  }
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** Checks that `key` is an Ed25519 private key. */
export function assertEd25519PrivateKey(key: KeyObject, what = 'privateKey'): void {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `${what} must be an Ed25519 private key`);
  }
}

/** The 32-byte RFC 8032 encoding of an Ed25519 public key. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  const der = toEd25519PublicKey(key).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(SPKI_PREFIX.length));
}

/** A public KeyObject from the 32-byte RFC 8032 encoding. */
export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `an Ed25519 public key has 32 bytes, got ${raw.length}`,
    );
  }
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** A private KeyObject from the 32-byte RFC 8032 seed. */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `an Ed25519 seed has 32 bytes, got ${seed.length}`);
  }
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}
