import type { AuditLog } from '../audit/audit-log.js';
import { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import { connectionSecretContext } from './connection-secret.js';
import type { SecretBox } from './secret-box.js';

/** What a rotation re-wrapped. */
export interface SecretRotation {
  readonly connections: number;
  readonly keys: number;
  readonly from: string;
  readonly to: string;
}

/**
 * Re-wraps every secret of the store under a new master key, in one transaction: each connection's
 * sealed credential (references to environment variables are left alone) and each key of the key ring.
 * The sealed values keep their ciphertext; only their data keys are wrapped anew (values of the older
 * `v1` format are sealed anew). Logged as `secrets.rotated` with the counts and both key ids — never a
 * key. Call it before the new master key replaces the old one; until then nothing has changed.
 */
export async function rotateSecrets(o: {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly from: SecretBox;
  readonly to: SecretBox;
  readonly actor: string;
  readonly workspace?: string;
}): Promise<SecretRotation> {
  const workspace = o.workspace ?? 'default';
  return o.store.transaction(async (tx) => {
    let connections = 0;
    for (const role of ['source', 'destination'] as const) {
      for (const c of await tx.listConnections(workspace, role)) {
        if (c.secret === null || c.secret.startsWith('env:')) continue;
        const secret = o.from.rewrap(c.secret, connectionSecretContext(c), o.to);
        await tx.upsertConnection({ ...c, secret });
        connections++;
      }
    }
    let keys = 0;
    for (const k of await tx.listKeys(workspace)) {
      await tx.resealKey(k.id, o.from.rewrap(k.sealedSecret, KeyRing.context(k), o.to));
      keys++;
    }
    const rotation = { connections, keys, from: o.from.provider.id, to: o.to.provider.id };
    await o.audit.append(tx, {
      type: 'secrets.rotated',
      actor: o.actor,
      workspace,
      details: {
        connections,
        keyRing: keys,
        fromWrapping: rotation.from,
        toWrapping: rotation.to,
        at: o.clock.now().toISOString(),
      },
    });
    return rotation;
  });
}
