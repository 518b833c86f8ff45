import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import { LocalKeyProvider, type KeyProvider } from './key-provider.js';

const V1 = 'v1';
const V2 = 'v2';

/**
 * Seals secrets with envelope encryption: each value under its own random 256-bit data key
 * (AES-256-GCM), the data key wrapped by the {@link KeyProvider} (the home's master key). The `context`
 * is bound as associated data to both, so a sealed value cannot be moved to another slot (a
 * connection's password pasted onto another connection fails to open).
 *
 * Format `v2:<provider id>:<wrapped data key>:<base64(iv(12) ‖ ciphertext ‖ tag(16))>`. Values of the
 * earlier `v1:` format (sealed straight under the master key) still open; `rewrap` turns either into
 * a `v2` value under another provider without touching the ciphertext of a `v2` value.
 */
export class SecretBox {
  readonly provider: KeyProvider;

  constructor(keyOrProvider: Uint8Array | KeyProvider) {
    this.provider = keyOrProvider instanceof Uint8Array ? new LocalKeyProvider(keyOrProvider) : keyOrProvider;
  }

  seal(plaintext: Uint8Array | string, context: string): string {
    const dataKey = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const wrapped = this.provider.wrapKey(dataKey, context);
    dataKey.fill(0);
    return `${V2}:${this.provider.id}:${wrapped}:${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64')}`;
  }

  open(sealed: string, context: string): Buffer {
    const parts = sealed.split(':');
    if (parts[0] === V1 && parts.length === 2) return this.openV1(parts[1]!, context);
    if (parts[0] !== V2 || parts.length !== 5) throw malformed(context);
    const providerId = `${parts[1]}:${parts[2]}`;
    if (providerId !== this.provider.id) {
      throw new WaybillError(
        'ERR_WAYBILL_SECRET_UNAVAILABLE',
        `the secret for ${context} is wrapped by key ${providerId}, not by this master key (${this.provider.id}); was the master key rotated?`,
      );
    }
    const raw = Buffer.from(parts[4]!, 'base64');
    if (raw.length < 28) throw malformed(context);
    const dataKey = this.provider.unwrapKey(parts[3]!, context);
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    } catch (err) {
      throw new WaybillError(
        'ERR_WAYBILL_SECRET_UNAVAILABLE',
        `cannot open the secret for ${context}: tampered value`,
        { cause: err },
      );
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * The same secret sealed for `next`: a `v2` value keeps its ciphertext and gets its data key
   * re-wrapped; a `v1` value is opened and sealed anew.
   */
  rewrap(sealed: string, context: string, next: SecretBox): string {
    const parts = sealed.split(':');
    if (parts[0] === V2 && parts.length === 5) {
      this.open(sealed, context); // authenticates the whole value before vouching for it under a new key
      const dataKey = this.provider.unwrapKey(parts[3]!, context);
      try {
        return `${V2}:${next.provider.id}:${next.provider.wrapKey(dataKey, context)}:${parts[4]}`;
      } finally {
        dataKey.fill(0);
      }
    }
    const plain = this.open(sealed, context);
    try {
      return next.seal(plain, context);
    } finally {
      plain.fill(0);
    }
  }

  private openV1(body: string, context: string): Buffer {
    const raw = Buffer.from(body, 'base64');
    if (raw.length < 28 || !(this.provider instanceof LocalKeyProvider)) throw malformed(context);
    try {
      return this.provider.openLegacy(
        raw.subarray(0, 12),
        raw.subarray(12, raw.length - 16),
        raw.subarray(raw.length - 16),
        context,
      );
    } catch (err) {
      throw new WaybillError(
        'ERR_WAYBILL_SECRET_UNAVAILABLE',
        `cannot open the secret for ${context}: wrong master key or tampered value`,
        { cause: err },
      );
    }
  }
}

function malformed(context: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_SECRET_UNAVAILABLE', `sealed secret for ${context} is malformed`);
}
