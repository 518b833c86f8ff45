import { sign, verify, createPublicKey, type KeyObject } from 'node:crypto';
import { WaybillError } from './waybill-error.js';
import { pae } from './dsse-pae.js';
import { keyIdForPublicKey } from './public-key-id.js';
import { decodeBase64Lenient } from './lib/strict-base64.js';
import { assertEd25519PrivateKey } from './lib/ed25519-key.js';
import { trustedKeyMap } from './lib/trusted-keys.js';

/** One signature of a DSSE envelope. */
export interface DsseSignature {
  /** Hint naming the key; optional in DSSE, always set by Waybill (32 hex, see `keyIdForPublicKey`). */
  readonly keyid?: string;
  /** Base64 signature over `PAE(payloadType, payload)`. */
  readonly sig: string;
}

/** A DSSE JSON envelope (secure-systems-lab/dsse envelope.md). */
export interface DsseEnvelope {
  /** Base64 of the payload bytes. */
  readonly payload: string;
  readonly payloadType: string;
  readonly signatures: readonly DsseSignature[];
}

/** A signer for {@link signEnvelope}. */
export interface EnvelopeSigner {
  /** Defaults to `keyIdForPublicKey(privateKey)`. */
  readonly keyId?: string;
  /** Ed25519 private key. */
  readonly privateKey: KeyObject;
}

/** What an envelope says once at least one signature by a trusted key has verified. */
export interface VerifiedEnvelope {
  readonly payloadType: string;
  readonly payload: Buffer;
  /** Key ids (map keys) of the trusted keys whose signatures verified. */
  readonly keyIds: string[];
}

// Bounds that no legitimate envelope reaches; they keep a hostile file from costing unbounded work.
const MAX_SIGNATURES = 64;
const ENVELOPE_FIELDS = new Set(['payload', 'payloadType', 'signatures']);
const SIGNATURE_FIELDS = new Set(['keyid', 'sig']);

/**
 * Parses a DSSE envelope from its JSON text (a string) or an already parsed value, strictly: exactly the fields
 * `payload`, `payloadType`, `signatures`; at least one signature; every base64 field canonical. Throws
 * `ERR_WAYBILL_ENVELOPE_MALFORMED` naming what is wrong.
 *
 * @example
 * ```ts
 * const envelope = parseEnvelope(firstLineOf('waybill.intoto.jsonl'));
 * ```
 */
export function parseEnvelope(input: unknown): DsseEnvelope {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new WaybillError('ERR_WAYBILL_ENVELOPE_MALFORMED', 'DSSE envelope is not valid JSON', {
        cause: err,
      });
    }
  }
  if (!isPlainObject(value)) throw malformed('DSSE envelope must be a JSON object');
  for (const key of Object.keys(value)) {
    if (!ENVELOPE_FIELDS.has(key)) throw malformed(`DSSE envelope has an unknown field "${key}"`);
  }
  const { payload, payloadType, signatures } = value;
  if (typeof payload !== 'string') throw malformed('DSSE envelope field "payload" must be a base64 string');
  if (decodeBase64Lenient(payload) === null)
    throw malformed('DSSE envelope field "payload" is not valid base64');
  if (typeof payloadType !== 'string' || payloadType.length === 0) {
    throw malformed('DSSE envelope field "payloadType" must be a non-empty string');
  }
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw malformed('DSSE envelope field "signatures" must be a non-empty array');
  }
  if (signatures.length > MAX_SIGNATURES) {
    throw malformed(
      `DSSE envelope has ${signatures.length} signatures; at most ${MAX_SIGNATURES} are accepted`,
    );
  }
  const parsed = signatures.map((s: unknown, i): DsseSignature => {
    if (!isPlainObject(s)) throw malformed(`DSSE signature ${i} must be a JSON object`);
    for (const key of Object.keys(s)) {
      if (!SIGNATURE_FIELDS.has(key)) throw malformed(`DSSE signature ${i} has an unknown field "${key}"`);
    }
    const { keyid, sig } = s;
    if (typeof sig !== 'string' || sig.length === 0)
      throw malformed(`DSSE signature ${i} needs a base64 "sig"`);
    if (decodeBase64Lenient(sig) === null)
      throw malformed(`DSSE signature ${i} field "sig" is not valid base64`);
    if (keyid === undefined) return { sig };
    if (typeof keyid !== 'string') throw malformed(`DSSE signature ${i} field "keyid" must be a string`);
    return { keyid, sig };
  });
  return { payload, payloadType, signatures: parsed };
}

/**
 * Signs `payload` as a DSSE envelope with Ed25519 over `PAE(payloadType, payload)`.
 *
 * @example
 * ```ts
 * const envelope = signEnvelope('application/vnd.in-toto+json', statementBytes, { privateKey });
 * await writeFile('waybill.intoto.jsonl', JSON.stringify(envelope) + '\n');
 * ```
 */
export function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signers: EnvelopeSigner | readonly EnvelopeSigner[],
): DsseEnvelope {
  const list: readonly EnvelopeSigner[] = Array.isArray(signers) ? signers : [signers as EnvelopeSigner];
  if (list.length === 0)
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'signEnvelope needs at least one signer');
  if (payloadType.length === 0)
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'payloadType must not be empty');
  const message = pae(payloadType, payload);
  return {
    payload: Buffer.from(payload).toString('base64'),
    payloadType,
    signatures: list.map((s) => {
      assertEd25519PrivateKey(s.privateKey);
      // Ed25519 hashes internally (RFC 8032 §5.1.6); Node takes a null digest for it.
      const sig = sign(null, message, s.privateKey).toString('base64');
      return { keyid: s.keyId ?? keyIdForPublicKey(createPublicKey(s.privateKey)), sig };
    }),
  };
}

/**
 * Verifies a DSSE envelope against trusted Ed25519 public keys, given as a map from key id to key or as
 * a list (ids are then computed with `keyIdForPublicKey`).
 *
 * Per DSSE protocol.md, signatures whose `keyid` names no trusted key are skipped, and a signature
 * without a `keyid` is tried against every trusted key. A signature that names a trusted key but fails
 * to verify rejects the envelope (`ERR_WAYBILL_SIGNATURE_INVALID`): it is evidence of tampering. With no
 * verifying signature at all, the error is `ERR_WAYBILL_UNKNOWN_KEY`.
 *
 * Security: read the payload only from the returned value, never from the envelope before this returns.
 *
 * @example
 * ```ts
 * const { payload, keyIds } = verifyEnvelope(envelope, [exporterPublicKey]);
 * ```
 */
export function verifyEnvelope(
  envelope: DsseEnvelope | string,
  keys: ReadonlyMap<string, KeyObject> | readonly KeyObject[],
): VerifiedEnvelope {
  const env = parseEnvelope(envelope);
  const trusted = trustedKeyMap(keys);
  const payload = decodeBase64Lenient(env.payload)!;
  const message = pae(env.payloadType, payload);
  const verified = new Set<string>();
  env.signatures.forEach((s, i) => {
    const sig = decodeBase64Lenient(s.sig)!;
    if (s.keyid !== undefined && s.keyid !== '') {
      const key = trusted.get(s.keyid);
      if (key === undefined) return;
      if (!ed25519Verify(message, key, sig)) {
        throw new WaybillError(
          'ERR_WAYBILL_SIGNATURE_INVALID',
          `DSSE signature ${i} by trusted key ${s.keyid} does not verify; the envelope or its payload was altered`,
        );
      }
      verified.add(s.keyid);
      return;
    }
    for (const [id, key] of trusted) {
      if (ed25519Verify(message, key, sig)) verified.add(id);
    }
  });
  if (verified.size === 0) {
    const named = env.signatures.map((s) => s.keyid ?? '(none)').join(', ');
    throw new WaybillError(
      'ERR_WAYBILL_UNKNOWN_KEY',
      `no signature on the envelope is by a trusted key (signature key ids: ${named}; trusted: ${[...trusted.keys()].join(', ') || 'none'}); pass the signer's public key`,
    );
  }
  return { payloadType: env.payloadType, payload, keyIds: [...verified] };
}

function ed25519Verify(message: Buffer, key: KeyObject, sig: Buffer): boolean {
  // RFC 8032 §5.1.7: an Ed25519 signature is exactly 64 bytes; anything else cannot verify.
  if (sig.length !== 64) return false;
  return verify(null, message, key, sig);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(message: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_ENVELOPE_MALFORMED', message);
}
