import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { WaybillError, wrapError } from '@waybill/verify';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { OneShotHmac } from './one-shot-hmac.js';
import type { TransformContext } from './transform-context.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { TokenizeSpec } from './transform-specs.js';

export type { TokenizeSpec };

/** One token and its value, sealed: what the vault keeps. */
export interface TokenVaultEntry {
  readonly token: string;
  readonly keyName: string;
  readonly keyId: string;
  /** base64url of IV ‖ ciphertext ‖ tag. */
  readonly sealed: string;
}

const TOKEN = /^tok_[0-9a-f]{32}$/;
/** How many tokens a compiled transform remembers as already sealed (per worker; then it starts over). */
const SEEN_LIMIT = 200_000;

const derive = (secret: Uint8Array, label: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `waybill/${label}/v1`, 32));

/** Whether `text` looks like a token `tokenize` makes. */
export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

export function compileTokenize(spec: TokenizeSpec, field: string, ctx: TransformContext): CompiledTransform {
  let k: { keyId: string; secret: Uint8Array };
  try {
    k = ctx.hmacKey(spec.key);
  } catch (err) {
    if (err instanceof WaybillError) throw err;
    throw wrapError(
      err,
      'ERR_WAYBILL_SECRET_UNAVAILABLE',
      `tokenize on field "${field}": key "${spec.key}" is unavailable`,
    );
  }
  const hmac = new OneShotHmac('sha256', derive(k.secret, 'tokenize'));
  const vaultKey = derive(k.secret, 'token-vault');
  let seen = new Set<string>();
  let pending: TokenVaultEntry[] = [];
  return {
    type: 'tokenize',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'tokenize', key: spec.key, keyId: k.keyId, vault: 'store' }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      let text: string;
      if (typeof value === 'string') text = value;
      else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
      else
        throw transformFailed(
          'tokenize',
          field,
          `expected a string or a number, got a ${cellTypeName(value)}`,
        );
      const token = `tok_${hmac.digest(text, 'hex').slice(0, 32)}`;
      if (!seen.has(token)) {
        if (seen.size >= SEEN_LIMIT) seen = new Set();
        seen.add(token);
        pending.push({ token, keyName: spec.key, keyId: k.keyId, sealed: sealValue(vaultKey, token, text) });
      }
      return token;
    },
    drainVault(): TokenVaultEntry[] {
      const out = pending;
      pending = [];
      return out;
    },
  };
}

function sealValue(key: Buffer, token: string, text: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(token, 'utf8'));
  const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]).toString('base64url');
}

/**
 * Opens a vault entry with the secret of the key it names: the value the token stands for. Throws
 * `ERR_WAYBILL_INVALID_INPUT` when the entry was tampered with or belongs to another token.
 */
export function openVaultEntry(entry: Pick<TokenVaultEntry, 'token' | 'sealed'>, secret: Uint8Array): string {
  const raw = Buffer.from(entry.sealed, 'base64url');
  try {
    if (raw.length < 28) throw new Error('too short');
    const d = createDecipheriv('aes-256-gcm', derive(secret, 'token-vault'), raw.subarray(0, 12));
    d.setAAD(Buffer.from(entry.token, 'utf8'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
  } catch (err) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `the vault entry of ${entry.token} does not open (tampered with, or under another key)`,
      { cause: err },
    );
  }
}
