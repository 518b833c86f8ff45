import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { WaybillError, keyIdForPublicKey } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { KeyRecord, Store } from '../ports/store.js';
import type { SecretBox } from '../secrets/secret-box.js';

/** What a signing key signs: waybills, audit-log checkpoints, or the server's access tokens. */
export type SigningPurpose = 'waybill-signing' | 'log-signing' | 'token-signing';

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
  private audit: AuditLog | undefined;

  constructor(
    private readonly store: Store,
    private box: SecretBox,
    private readonly clock: Clock,
    private readonly workspace = 'default',
  ) {}

  /**
   * Logs every key creation, rotation and retirement in `audit`, in the transaction that stores it.
   * (The log signs its checkpoints with a key from this ring, hence the late wiring.)
   */
  useAuditLog(audit: AuditLog): void {
    this.audit = audit;
  }

  private async saveKey(record: KeyRecord, actor: string, retire?: KeyRecord): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (retire && !(await tx.retireKey(retire.id, record.createdAt))) {
        throw new WaybillError(
          'ERR_WAYBILL_CONFLICT',
          `key ${retire.id} was retired meanwhile (another rotation); nothing was changed`,
        );
      }
      await tx.insertKey(record);
      await this.audit?.append(tx, {
        type: retire ? 'key.rotated' : 'key.created',
        actor,
        workspace: this.workspace,
        subjects: { key: record.id },
        details: {
          purpose: record.purpose,
          name: record.name,
          algorithm: record.algorithm,
          ...(retire ? { replaces: retire.id } : {}),
        },
      });
    });
  }

  /**
   * Opens the ring's secrets with `box` from now on: after `rotateSecrets` re-wrapped them under a new
   * master key, so that the rest of the command (its closing checkpoint) uses the new one.
   */
  useBox(box: SecretBox): void {
    this.box = box;
  }

  /** The associated data a key's sealed secret is bound to. */
  static context(r: Pick<KeyRecord, 'purpose' | 'id'>): string {
    return `key:${r.purpose}:${r.id}`;
  }

  private context(r: Pick<KeyRecord, 'purpose' | 'id'>): string {
    return `key:${r.purpose}:${r.id}`;
  }

  /** Creates an Ed25519 key for `purpose` unless one is current; returns the current one. */
  async ensureSigningKey(purpose: SigningPurpose = 'waybill-signing', actor = 'system'): Promise<SigningKey> {
    const current = await this.currentRecord(purpose);
    if (current) return this.openSigning(current);
    return this.newSigningKey(purpose, actor);
  }

  /**
   * Replaces the current signing key of `purpose` with a new one (new key id). The old public key is
   * kept, retired, so what it signed still verifies; its validity window is createdAt…retiredAt.
   */
  async rotateSigningKey(purpose: SigningPurpose, actor: string): Promise<SigningKey> {
    const current = await this.currentRecord(purpose);
    if (!current) {
      throw new WaybillError(
        'ERR_WAYBILL_KEY_NOT_FOUND',
        `no ${purpose} key to rotate; run \`waybill init\``,
      );
    }
    return this.newSigningKey(purpose, actor, current);
  }

  private async newSigningKey(
    purpose: SigningPurpose,
    actor: string,
    replaces?: KeyRecord,
  ): Promise<SigningKey> {
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
    await this.saveKey(record, actor, replaces);
    return { keyId: id, privateKey, publicKey };
  }

  /** The current signing key; `ERR_WAYBILL_KEY_NOT_FOUND` when the home has none. */
  async signingKey(purpose: SigningPurpose = 'waybill-signing'): Promise<SigningKey> {
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
  async verificationKeys(purpose: SigningPurpose = 'waybill-signing'): Promise<KeyObject[]> {
    const records = await this.store.listKeys(this.workspace, purpose);
    return records.filter((r) => r.publicKey).map((r) => createPublicKey(r.publicKey!));
  }

  /** Creates a named HMAC-SHA-256 key (32 random bytes). Conflict if the name exists. */
  async createHmacKey(name: string, actor = 'system'): Promise<{ keyId: string }> {
    const existing = await this.findHmac(name);
    if (existing)
      throw new WaybillError('ERR_WAYBILL_CONFLICT', `an HMAC key named "${name}" already exists`);
    const id = `hmac-${randomBytes(8).toString('hex')}`;
    await this.saveKey(
      {
        id,
        workspace: this.workspace,
        purpose: 'hmac',
        name,
        algorithm: 'hmac',
        publicKey: null,
        sealedSecret: this.box.seal(randomBytes(32), `key:hmac:${id}`),
        createdAt: this.clock.now().toISOString(),
        retiredAt: null,
      },
      actor,
    );
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

  /**
   * Whether a stored public key really is the public half of its sealed private key. Public halves are
   * kept in clear for offline verification; this binds them to the master key, so a key planted in the
   * store by someone without the master key is told apart.
   */
  isAuthentic(record: KeyRecord): boolean {
    if (record.publicKey === null) return true;
    try {
      const opened = this.openSigning(record);
      const stored = createPublicKey(record.publicKey).export({ type: 'spki', format: 'der' });
      return opened.publicKey.export({ type: 'spki', format: 'der' }).equals(stored);
    } catch {
      return false;
    }
  }

  /** Throws the reason a key's sealed secret does not open (a wrong master key, tampering); nothing if it does. */
  assertOpens(record: KeyRecord): void {
    this.box.open(record.sealedSecret, this.context(record)).fill(0);
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
