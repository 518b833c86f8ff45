import type { KeyObject } from 'node:crypto';
import { keyIdForPublicKey } from '../public-key-id.js';
import { toEd25519PublicKey } from './ed25519-key.js';

/** Normalizes trusted keys to a map from key id to Ed25519 public key. */
export function trustedKeyMap(
  keys: ReadonlyMap<string, KeyObject> | readonly KeyObject[],
): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  if (Array.isArray(keys)) {
    for (const key of keys as readonly KeyObject[]) {
      const pub = toEd25519PublicKey(key, 'trusted key');
      out.set(keyIdForPublicKey(pub), pub);
    }
  } else {
    for (const [id, key] of keys as ReadonlyMap<string, KeyObject>)
      out.set(id, toEd25519PublicKey(key, `trusted key ${id}`));
  }
  return out;
}
