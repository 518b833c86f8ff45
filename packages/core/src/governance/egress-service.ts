import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { Caller, EgressRule, Store } from '../ports/store.js';
import type { AccessGuard } from './access-guard.js';
import { actorOf } from './principal-service.js';

/**
 * An egress allowlist pattern: `host`, `*.domain` (any subdomain, not the domain itself), an IPv4
 * address or `[IPv6]`, each with an optional `:port`. Groups: 1 the `*.`, 2 the host, 4 the `:port`.
 */
export const EGRESS_PATTERN = /^(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/;

/** Normalizes and checks an egress pattern; `ERR_WAYBILL_INVALID_INPUT` naming it otherwise. */
export function checkEgressPattern(pattern: string): string {
  const p = pattern.trim().toLowerCase();
  const m = EGRESS_PATTERN.exec(p);
  const port = m?.[4] ? Number(m[4].slice(1)) : undefined;
  if (!m || (port !== undefined && (port < 1 || port > 65535)) || (m[1] && m[2]!.startsWith('['))) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `egress pattern ${JSON.stringify(pattern.slice(0, 100))}: write a host name, *.domain, an IPv4 address or [IPv6], optionally with :port`,
    );
  }
  return p;
}

/**
 * The workspace's egress allowlist: which hosts its network destinations (HTTPS, and later SFTP and
 * S3) may reach. Empty by default — nothing leaves over the network until an admin names the host.
 * Changes need `connection.manage` and are logged (`egress.allowed`, `egress.removed`).
 */
export class EgressService {
  constructor(
    private readonly o: {
      readonly store: Store;
      readonly audit: AuditLog;
      readonly clock: Clock;
      readonly guard: AccessGuard;
    },
  ) {}

  async allow(
    caller: Caller,
    pattern: string,
    options: { allowPrivate?: boolean } = {},
  ): Promise<EgressRule> {
    const p = checkEgressPattern(pattern);
    await this.o.guard.require(caller, 'connection.manage');
    const rule = {
      pattern: p,
      allowPrivate: options.allowPrivate === true,
      createdBy: actorOf(caller),
      createdAt: this.o.clock.now().toISOString(),
    };
    await this.o.store.transaction(async (tx) => {
      await tx.saveEgressRule(caller.workspace, rule);
      await this.o.audit.append(tx, {
        type: 'egress.allowed',
        actor: actorOf(caller),
        workspace: caller.workspace,
        details: { pattern: p, localNetwork: rule.allowPrivate },
      });
    });
    return rule;
  }

  async remove(caller: Caller, pattern: string): Promise<void> {
    const p = checkEgressPattern(pattern);
    await this.o.guard.require(caller, 'connection.manage');
    await this.o.store.transaction(async (tx) => {
      if (!(await tx.deleteEgressRule(caller.workspace, p))) {
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `no egress rule ${JSON.stringify(p)} in this workspace`,
        );
      }
      await this.o.audit.append(tx, {
        type: 'egress.removed',
        actor: actorOf(caller),
        workspace: caller.workspace,
        details: { pattern: p },
      });
    });
  }

  list(caller: Caller): Promise<EgressRule[]> {
    return this.o.store.listEgressRules(caller.workspace);
  }
}
