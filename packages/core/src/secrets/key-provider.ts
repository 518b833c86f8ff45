import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { WaybillError } from '@waybill/verify';

/**
 * Wraps and unwraps data keys: the one holder of the key that protects every secret of a home (the
 * master key, or later a cloud KMS key). Secrets are sealed under their own random data key
 * (envelope encryption); only the data keys go through the provider, so rotating the master key
 * re-wraps 32-byte keys and never touches the sealed values.
 */
export interface KeyProvider {
  /** Names the wrapping key, not secret (written beside each wrapped key): `local:<fingerprint>`. */
  readonly id: string;
  wrapKey(dataKey: Uint8Array, context: string): string;
  unwrapKey(wrapped: string, context: string): Buffer;
}

/**
 * The home's master key as a key provider (`WAYBILL_MASTER_KEY` or `HOME/master.key`): AES-256-GCM key
 * wrapping, the secret's context bound as associated data. Its id is a fingerprint of the key.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly id: string;
  readonly #key: Buffer;

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== 32) {
      throw new WaybillError(
        'ERR_WAYBILL_HOME_INVALID',
        'the master key must be 32 bytes (base64 of 32 random bytes)',
      );
    }
    this.#key = Buffer.from(masterKey);
    const fingerprint = createHash('sha256')
      .update('waybill master key id\0')
      .update(this.#key)
      .digest('hex');
    this.id = `local:${fingerprint.slice(0, 16)}`;
  }

  wrapKey(dataKey: Uint8Array, context: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(`data-key:${context}`, 'utf8'));
    const ct = Buffer.concat([c.update(dataKey), c.final()]);
    return Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64');
  }

  unwrapKey(wrapped: string, context: string): Buffer {
    const raw = Buffer.from(wrapped, 'base64');
    try {
      if (raw.length < 28) throw new Error('too short');
      const d = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      d.setAAD(Buffer.from(`data-key:${context}`, 'utf8'));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
    } catch (err) {
      throw new WaybillError(
        'ERR_WAYBILL_SECRET_UNAVAILABLE',
        `cannot unwrap the data key of ${context}: wrong master key or tampered value`,
        { cause: err },
      );
    }
  }

  /**
   * Opens a value sealed straight under the master key (the `v1:` format, before envelope encryption),
   * so homes made earlier keep working until `waybill secrets rotate` re-seals them.
   */
  openLegacy(iv: Buffer, body: Buffer, tag: Buffer, context: string): Buffer {
    const d = createDecipheriv('aes-256-gcm', this.#key, iv);
    d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(body), d.final()]);
  }
}
