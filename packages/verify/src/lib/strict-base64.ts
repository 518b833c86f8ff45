/**
 * Base64 decoding that accepts exactly one spelling per byte string.
 *
 * `Buffer.from(s, 'base64')` silently skips invalid characters, accepts either alphabet and ignores
 * non-zero trailing bits, so two different texts can decode to the same bytes. In signed formats that
 * malleability lets a tampered file still verify, so every decoder here re-encodes and compares.
 */

const STANDARD_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const STANDARD_UNPADDED = /^[A-Za-z0-9+/]*$/;
const URL_SAFE_PADDED = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;
const URL_SAFE_UNPADDED = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes standard, padded base64 (RFC 4648 §4), the encoding of C2SP notes, checkpoints and proofs.
 * Returns `null` unless `text` is the canonical encoding of its bytes.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  if (!STANDARD_PADDED.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/**
 * Decodes base64 as DSSE allows it: the standard (RFC 4648 §4) or URL-safe (§5) alphabet, with or
 * without padding (DSSE envelope.md, "Base64()"). The text must still be the canonical spelling of its
 * bytes in the alphabet and padding style it uses. Returns `null` otherwise.
 */
export function decodeBase64Lenient(text: string): Buffer | null {
  const padded = text.endsWith('=');
  let urlSafe: boolean;
  if (padded ? STANDARD_PADDED.test(text) : STANDARD_UNPADDED.test(text)) urlSafe = false;
  else if (padded ? URL_SAFE_PADDED.test(text) : URL_SAFE_UNPADDED.test(text)) urlSafe = true;
  else return null;
  // An unpadded text of length 1 mod 4 cannot be produced by any encoder.
  if (!padded && text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, urlSafe ? 'base64url' : 'base64');
  let again = bytes.toString(urlSafe ? 'base64url' : 'base64');
  if (urlSafe && padded) again += '='.repeat((4 - (again.length % 4)) % 4);
  if (!urlSafe && !padded) again = again.replace(/=+$/, '');
  return again === text ? bytes : null;
}
