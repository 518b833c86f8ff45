import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WaybillError } from '@waybill/verify';

const VERSION = 'v1';

/**
 * AES-256-GCM sealing of secrets under the home's master key. The `context` is bound as associated
 * data, so a sealed value cannot be moved to another slot (a connection's password pasted onto another
 * connection fails to open). Output: `v1:` + base64(iv(12) ‖ ciphertext ‖ tag(16)).
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== 32) {
      throw new WaybillError(
        'ERR_WAYBILL_HOME_INVALID',
        'the master key must be 32 bytes (base64 of 32 random bytes)',
      );
    }
    this.#key = Buffer.from(masterKey);
  }

  seal(plaintext: Uint8Array | string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64')}`;
  }

  open(sealed: string, context: string): Buffer {
    const [version, body] = sealed.split(':', 2);
    const raw = body === undefined ? Buffer.alloc(0) : Buffer.from(body, 'base64');
    if (version !== VERSION || raw.length < 28) {
      throw new WaybillError('ERR_WAYBILL_SECRET_UNAVAILABLE', `sealed secret for ${context} is malformed`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    } catch (err) {
      throw new WaybillError(
        'ERR_WAYBILL_SECRET_UNAVAILABLE',
        `cannot open the secret for ${context}: wrong master key or tampered value`,
        { cause: err },
      );
    }
  }
}
