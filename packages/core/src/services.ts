import type { AuditLog } from './audit/audit-log.js';
import { CatalogService } from './catalog/catalog-service.js';
import { policyProtectionRules } from './catalog/protection-rules.js';
import { ConnectionService } from './connections/connection-service.js';
import { DefinitionService } from './definitions/definition-service.js';
import { AccessGuard } from './governance/access-guard.js';
import { ExportRequestService } from './governance/export-request-service.js';
import { GrantService } from './governance/grant-service.js';
import { PolicyService } from './governance/policy-service.js';
import { PrincipalService } from './governance/principal-service.js';
import { ReversalService } from './governance/reversal-service.js';
import { EgressService } from './governance/egress-service.js';
import type { KeyRing } from './keys/key-ring.js';
import { ExportService } from './pipeline/export-service.js';
import type { Clock } from './ports/clock.js';
import type { ConnectionOpener } from './ports/connection-opener.js';
import type { Notifier } from './ports/notifier.js';
import type { Store } from './ports/store.js';
import type { SecretBox } from './secrets/secret-box.js';

/** What the services are built from: the adapters, handed in by the one place that wires them. */
export interface ServiceDeps {
  readonly store: Store;
  readonly keys: KeyRing;
  readonly box: SecretBox;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly connections: ConnectionOpener;
  /** Where runs stage their files. */
  readonly stagingRoot: string;
  readonly env?: NodeJS.ProcessEnv;
  /** How long an approval holds (default 24 h). */
  readonly approvalTtlMs?: number;
  /** Told when a validation gate stops a run. */
  readonly notifiers?: readonly Notifier[];
}

/** Waybill's services, the same for the CLI and the server: both go through the same checks. */
export interface Services {
  readonly definitions: DefinitionService;
  readonly exports: ExportService;
  readonly connections: ConnectionService;
  readonly policies: PolicyService;
  readonly guard: AccessGuard;
  readonly principals: PrincipalService;
  readonly grants: GrantService;
  readonly requests: ExportRequestService;
  readonly catalog: CatalogService;
  readonly reversals: ReversalService;
  readonly egress: EgressService;
}

export function createServices(d: ServiceDeps): Services {
  const common = {
    store: d.store,
    keys: d.keys,
    box: d.box,
    audit: d.audit,
    clock: d.clock,
    connections: d.connections,
    ...(d.env ? { env: d.env } : {}),
  };
  const policies = new PolicyService({ store: d.store, audit: d.audit, clock: d.clock });
  const guard = new AccessGuard({ policies, audit: d.audit });
  const protectionRules = async (workspace: string) =>
    policyProtectionRules(await policies.engine(workspace), workspace);
  const exports = new ExportService({
    ...common,
    protectionRules,
    stagingRoot: d.stagingRoot,
    ...(d.notifiers ? { notifiers: d.notifiers } : {}),
  });
  const grants = new GrantService({ store: d.store, audit: d.audit, clock: d.clock, guard });
  return {
    definitions: new DefinitionService({ ...common, protectionRules }),
    exports,
    connections: new ConnectionService({ store: d.store, audit: d.audit }),
    policies,
    guard,
    principals: new PrincipalService({ store: d.store, audit: d.audit, clock: d.clock, guard }),
    grants,
    catalog: new CatalogService({
      store: d.store,
      audit: d.audit,
      clock: d.clock,
      guard,
      box: d.box,
      connections: d.connections,
      ...(d.env ? { env: d.env } : {}),
    }),
    egress: new EgressService({ store: d.store, audit: d.audit, clock: d.clock, guard }),
    reversals: new ReversalService({ store: d.store, audit: d.audit, clock: d.clock, guard, keys: d.keys }),
    requests: new ExportRequestService({
      store: d.store,
      audit: d.audit,
      clock: d.clock,
      guard,
      grants,
      exports,
      ...(d.approvalTtlMs !== undefined ? { approvalTtlMs: d.approvalTtlMs } : {}),
    }),
  };
}
