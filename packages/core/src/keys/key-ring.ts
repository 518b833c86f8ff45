import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { WaybillError, keyIdForPublicKey } from '@waybill/verify';
import type { Clock } from '../ports/clock.js';
import type { KeyRecord, Store } from '../ports/store.js';
import type { SecretBox } from '../secrets/secret-box.js';

export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface HmacKey {
  readonly keyId: string;
  readonly secret: Buffer;
}

/**
 * The home's keys: Ed25519 signing keys and named HMAC keys, kept in the store with their secret halves
 * sealed under the master key. Only key ids ever leave this class in clear.
 */
export class KeyRing {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly workspace = 'default',
  ) {}

  private context(r: Pick<KeyRecord, 'purpose' | 'id'>): string {
    return `key:${r.purpose}:${r.id}`;
  }

  /** Creates an Ed25519 key for `purpose` unless one is current; returns the current one. */
  async ensureSigningKey(
    purpose: 'waybill-signing' | 'log-signing' = 'waybill-signing',
  ): Promise<SigningKey> {
    const current = await this.currentRecord(purpose);
    if (current) return this.openSigning(current);
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const id = keyIdForPublicKey(publicKey);
    const record: KeyRecord = {
      id,
      workspace: this.workspace,
      purpose,
      name: 'default',
      algorithm: 'ed25519',
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      sealedSecret: this.box.seal(
        privateKey.export({ type: 'pkcs8', format: 'der' }),
        `key:${purpose}:${id}`,
      ),
      createdAt: this.clock.now().toISOString(),
      retiredAt: null,
    };
    await this.store.insertKey(record);
    return { keyId: id, privateKey, publicKey };
  }

  /** The current signing key; `ERR_WAYBILL_KEY_NOT_FOUND` when the home has none. */
  async signingKey(purpose: 'waybill-signing' | 'log-signing' = 'waybill-signing'): Promise<SigningKey> {
    const current = await this.currentRecord(purpose);
    if (!current) {
      throw new WaybillError(
        'ERR_WAYBILL_KEY_NOT_FOUND',
        `no ${purpose} key in this home; run \`waybill init\``,
      );
    }
    return this.openSigning(current);
  }

  /** Every public key (current and retired) of a purpose, for verification. */
  async verificationKeys(
    purpose: 'waybill-signing' | 'log-signing' = 'waybill-signing',
  ): Promise<KeyObject[]> {
    const records = await this.store.listKeys(this.workspace, purpose);
    return records.filter((r) => r.publicKey).map((r) => createPublicKey(r.publicKey!));
  }

  /** Creates a named HMAC-SHA-256 key (32 random bytes). Conflict if the name exists. */
  async createHmacKey(name: string): Promise<{ keyId: string }> {
    const existing = await this.findHmac(name);
    if (existing)
      throw new WaybillError('ERR_WAYBILL_CONFLICT', `an HMAC key named "${name}" already exists`);
    const id = `hmac-${randomBytes(8).toString('hex')}`;
    await this.store.insertKey({
      id,
      workspace: this.workspace,
      purpose: 'hmac',
      name,
      algorithm: 'hmac',
      publicKey: null,
      sealedSecret: this.box.seal(randomBytes(32), `key:hmac:${id}`),
      createdAt: this.clock.now().toISOString(),
      retiredAt: null,
    });
    return { keyId: id };
  }

  async hasHmacKey(name: string): Promise<boolean> {
    return (await this.findHmac(name)) !== undefined;
  }

  /** The named HMAC key; `ERR_WAYBILL_KEY_NOT_FOUND` with the command that creates it. */
  async hmacKey(name: string): Promise<HmacKey> {
    const r = await this.findHmac(name);
    if (!r) {
      throw new WaybillError(
        'ERR_WAYBILL_KEY_NOT_FOUND',
        `no HMAC key named "${name}"; create it with \`waybill keys create-hmac ${name}\``,
      );
    }
    return { keyId: r.id, secret: this.box.open(r.sealedSecret, this.context(r)) };
  }

  async list(): Promise<KeyRecord[]> {
    return this.store.listKeys(this.workspace);
  }

  private async findHmac(name: string): Promise<KeyRecord | undefined> {
    const all = await this.store.listKeys(this.workspace, 'hmac');
    return all.find((r) => r.name === name && r.retiredAt === null);
  }

  private async currentRecord(purpose: string): Promise<KeyRecord | undefined> {
    const all = await this.store.listKeys(this.workspace, purpose as KeyRecord['purpose']);
    return all.filter((r) => r.retiredAt === null).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
  }

  private openSigning(r: KeyRecord): SigningKey {
    const der = this.box.open(r.sealedSecret, this.context(r));
    const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return { keyId: r.id, privateKey, publicKey: createPublicKey(privateKey) };
  }
}
