import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { WaybillError, wrapError } from '@waybill/verify';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { TransformContext } from './transform-context.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import { AesSiv } from './aes-siv.js';
import type { EncryptSpec, EncryptDeterministicSpec } from './transform-specs.js';

export type { EncryptSpec, EncryptDeterministicSpec };

const derive = (secret: Uint8Array, label: string, length = 32): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `waybill/${label}/v1`, length));
const AAD = Buffer.from('waybill-encrypted-value-v1');

function seal(key: Buffer, iv: Buffer, plain: string): string {
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(AAD);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]).toString('base64url');
}

function keyFor(
  ctx: TransformContext,
  name: string,
  type: string,
  field: string,
): { keyId: string; secret: Uint8Array } {
  try {
    return ctx.hmacKey(name);
  } catch (err) {
    if (err instanceof WaybillError) throw err;
    throw wrapError(
      err,
      'ERR_WAYBILL_SECRET_UNAVAILABLE',
      `${type} on field "${field}": key "${name}" is unavailable`,
    );
  }
}

function text(type: string, field: string, value: CellValue): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw transformFailed(type, field, `expected a string or a number, got a ${cellTypeName(value)}`);
}

export function compileEncrypt(spec: EncryptSpec, field: string, ctx: TransformContext): CompiledTransform {
  const k = keyFor(ctx, spec.key, 'encrypt', field);
  const key = derive(k.secret, 'encrypt');
  return {
    type: 'encrypt',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({
      type: 'encrypt',
      key: spec.key,
      keyId: k.keyId,
      algorithm: 'AES-256-GCM',
      format: 'wbe1',
    }),
    apply(value: CellValue): CellValue {
      const plain = text('encrypt', field, value);
      return plain === null ? null : `wbe1:${seal(key, randomBytes(12), plain)}`;
    },
  };
}

export function compileEncryptDeterministic(
  spec: EncryptDeterministicSpec,
  field: string,
  ctx: TransformContext,
): CompiledTransform {
  const k = keyFor(ctx, spec.key, 'encrypt_deterministic', field);
  const siv = new AesSiv(derive(k.secret, 'encrypt-siv', 64));
  return {
    type: 'encrypt_deterministic',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({
      type: 'encrypt_deterministic',
      key: spec.key,
      keyId: k.keyId,
      algorithm: 'AES-256-SIV (RFC 5297)',
      format: 'wbs1',
    }),
    apply(value: CellValue): CellValue {
      const plain = text('encrypt_deterministic', field, value);
      if (plain === null) return null;
      return `wbs1:${siv.encrypt(Buffer.from(plain, 'utf8'), [AAD]).toString('base64url')}`;
    },
  };
}

/**
 * Decrypts a value written by `encrypt` or `encrypt_deterministic` with the key ring's secret of the key
 * it names. Throws `ERR_WAYBILL_INVALID_INPUT` for text that is not such a value or does not open under
 * that key (tampered with, or another key).
 */
export function decryptValue(value: string, secret: Uint8Array): string {
  const m = /^(wbe1|wbs1):([A-Za-z0-9_-]+)$/.exec(value);
  const raw = m ? Buffer.from(m[2]!, 'base64url') : Buffer.alloc(0);
  if (!m || raw.length < (m[1] === 'wbe1' ? 28 : 16))
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', 'not a value encrypted by Waybill');
  const refused = (cause?: unknown) =>
    new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      'the value does not open under this key (tampered with, or another key)',
      cause === undefined ? {} : { cause },
    );
  if (m[1] === 'wbs1') {
    const plain = new AesSiv(derive(secret, 'encrypt-siv', 64)).decrypt(raw, [AAD]);
    if (plain === null) throw refused();
    return plain.toString('utf8');
  }
  try {
    const d = createDecipheriv('aes-256-gcm', derive(secret, 'encrypt'), raw.subarray(0, 12));
    d.setAAD(AAD);
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
  } catch (err) {
    throw refused(err);
  }
}
