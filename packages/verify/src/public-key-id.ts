import { createHash, type KeyObject } from 'node:crypto';
import { toEd25519PublicKey } from './lib/ed25519-key.js';

/**
 * The key id Waybill puts in DSSE signatures and predicates: the first 32 lowercase hex characters
 * (128 bits) of SHA-256 over the key's SubjectPublicKeyInfo DER encoding. A private key is reduced to
 * its public half first. Only Ed25519 keys are accepted.
 *
 * @example
 * ```ts
 * const { publicKey } = generateKeyPairSync('ed25519');
 * keyIdForPublicKey(publicKey); // e.g. '3f6a…' (32 hex characters)
 * ```
 */
export function keyIdForPublicKey(publicKey: KeyObject): string {
  const der = toEd25519PublicKey(publicKey, 'publicKey').export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}
