import { createSecretKey, type KeyObject } from 'node:crypto';
import { WaybillError, wrapError } from '@waybill/verify';
import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { TransformContext } from './transform-context.js';
import { OneShotHmac } from './one-shot-hmac.js';
import { cellTypeName, transformFailed, transformInvalid } from './transform-errors.js';

/** Length of the full digest in characters, per algorithm and encoding. */
const DIGEST_LENGTH = {
  sha256: { hex: 64, base64url: 43 },
  sha512: { hex: 128, base64url: 86 },
} as const;

/**
 * `hash_keyed`: a keyed pseudonym, HMAC (RFC 2104) of the value under a named key from the key ring. The same
 * value under the same key always gives the same output, so pseudonymized columns still join; without the key
 * the output cannot be linked back by hashing guesses. There is deliberately no unkeyed hash: a plain hash of
 * an email or a phone number is reversed by hashing candidates.
 *
 * The HMAC input is the UTF-8 text of the value: a string as is, a number in its shortest round-trip decimal
 * form (`String(n)`, as RFC 8785 writes numbers). So `123` and `"123"` hash alike, which keeps integers that
 * some sources deliver as decimal strings (beyond ±2^53) consistent with those delivered as numbers. `null` stays
 * `null`; booleans are an error (a hash of two possible values hides nothing).
 *
 * `length` truncates the encoded digest to that many characters. The waybill records the key name and the key
 * id, never the secret.
 */
export const hashKeyedSpecSchema = z
  .strictObject({
    type: z.literal('hash_keyed'),
    key: z.string().min(1, { error: 'must name a key of the key ring' }),
    algorithm: z.enum(['sha256', 'sha512']).default('sha256'),
    encoding: z.enum(['hex', 'base64url']).default('hex'),
    length: z.number().int().min(1).optional(),
  })
  .superRefine((spec, ctx) => {
    const max = DIGEST_LENGTH[spec.algorithm][spec.encoding];
    if (spec.length !== undefined && spec.length > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['length'],
        message: `must be at most ${max}, the length of a ${spec.algorithm} digest in ${spec.encoding}`,
      });
    }
  });
export type HashKeyedSpec = z.output<typeof hashKeyedSpecSchema>;

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
