import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { ConnectionRecord, ConnectionRole, Store } from '../ports/store.js';

/**
 * Registering, changing and removing named connections, each change logged in the audit log in the
 * same transaction. The log names the connection, its kind and its non-secret settings' keys — never a
 * credential, not even sealed.
 */
export class ConnectionService {
  constructor(
    private readonly o: { readonly store: Store; readonly audit: AuditLog; readonly workspace?: string },
  ) {}

  private get workspace(): string {
    return this.o.workspace ?? 'default';
  }

  /** Adds or replaces a connection; returns whether one was replaced. */
  async save(record: ConnectionRecord, actor: string): Promise<{ replaced: boolean }> {
    return this.o.store.transaction(async (tx) => {
      const existing = await tx.getConnection(record.workspace, record.role, record.name);
      await tx.upsertConnection(record);
      await this.o.audit.append(tx, {
        type: existing ? 'connection.changed' : 'connection.added',
        actor,
        workspace: record.workspace,
        subjects: { connection: `${record.role}/${record.name}` },
        details: {
          role: record.role,
          kind: record.kind,
          settings: Object.keys(record.config).sort(),
          auth: record.secret === null ? 'none' : record.secret.startsWith('env:') ? 'env' : 'sealed',
        },
      });
      return { replaced: existing !== undefined };
    });
  }

  async remove(role: ConnectionRole, name: string, actor: string): Promise<void> {
    await this.o.store.transaction(async (tx) => {
      const existing = await tx.getConnection(this.workspace, role, name);
      if (!existing || !(await tx.deleteConnection(this.workspace, role, name))) {
        throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `no ${role} connection "${name}"`);
      }
      await this.o.audit.append(tx, {
        type: 'connection.removed',
        actor,
        workspace: this.workspace,
        subjects: { connection: `${role}/${name}` },
        details: { role, kind: existing.kind },
      });
    });
  }
}
