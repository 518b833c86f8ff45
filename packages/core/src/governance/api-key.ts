import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API keys look like `wbk_<12-char lookup prefix>_<43 base64url chars of secret>`. */
export const API_KEY_PATTERN = /^wbk_([a-z0-9]{12})_[A-Za-z0-9_-]{43}$/;

/** SHA-256 hex of a whole API key: what the store keeps (the key itself is shown once, never stored). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random API key (256 bits of secret) with its lookup prefix and stored hash. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const key = `wbk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** The lookup prefix of a well-formed key, or undefined. */
export function apiKeyPrefix(key: string): string | undefined {
  return API_KEY_PATTERN.exec(key)?.[1];
}

/** Constant-time comparison of a presented key with a stored hash. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
