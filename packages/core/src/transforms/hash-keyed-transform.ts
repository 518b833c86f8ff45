import { createSecretKey, type KeyObject } from 'node:crypto';
import { WaybillError, wrapError } from '@waybill/verify';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { TransformContext } from './transform-context.js';
import { OneShotHmac } from './one-shot-hmac.js';
import { cellTypeName, transformFailed, transformInvalid } from './transform-errors.js';
import type { HashKeyedSpec } from './transform-specs.js';

export type { HashKeyedSpec };

/** Length of the full digest in characters, per algorithm and encoding. */
export const DIGEST_LENGTH = {
  sha256: { hex: 64, base64url: 43 },
  sha512: { hex: 128, base64url: 86 },
} as const;

export function compileHashKeyed(
  spec: HashKeyedSpec,
  field: string,
  ctx: TransformContext,
): CompiledTransform {
  const { key: keyName, algorithm, encoding, length } = spec;
  let keyId: string;
  let key: KeyObject;
  try {
    const found = ctx.hmacKey(keyName);
    if (typeof found.keyId !== 'string' || found.keyId === '') {
      throw transformInvalid(
        'hash_keyed',
        field,
        'key',
        `the key ring returned key "${keyName}" without a key id`,
      );
    }
    if (!(found.secret instanceof Uint8Array) || found.secret.byteLength === 0) {
      throw transformInvalid(
        'hash_keyed',
        field,
        'key',
        `the key ring returned an empty secret for key "${keyName}"`,
      );
    }
    keyId = found.keyId;
    // Imported once here, not per value; createSecretKey copies the bytes, so the caller may wipe its buffer.
    key = createSecretKey(found.secret);
  } catch (err) {
    if (err instanceof WaybillError) throw err;
    throw wrapError(
      err,
      'ERR_WAYBILL_SECRET_UNAVAILABLE',
      `Transform hash_keyed on field "${field}" could not obtain HMAC key "${keyName}". Check that the key ` +
        `exists in the key ring and is readable.`,
    );
  }

  const recorded: Record<string, unknown> = { type: 'hash_keyed', key: keyName, keyId, algorithm, encoding };
  if (length !== undefined) recorded['length'] = length;

  const hmac = new OneShotHmac(algorithm, key.export());

  return {
    type: 'hash_keyed',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze(recorded),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      let text: string;
      if (typeof value === 'string') text = value;
      else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
      else
        throw transformFailed(
          'hash_keyed',
          field,
          `expected a string or a number, got a ${cellTypeName(value)}`,
        );
      const digest = hmac.digest(text, encoding);
      return length === undefined ? digest : digest.slice(0, length);
    },
  };
}
