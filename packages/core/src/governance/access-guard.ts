import type { Context, EntityJson, EntityUid } from '@cedar-policy/cedar-wasm/nodejs';
import { WaybillError } from '@waybill/verify';
import type { AuditLog } from '../audit/audit-log.js';
import type { Caller } from '../ports/store.js';
import type { PolicyDecision, PolicyEngine } from '../policy/policy-engine.js';
import { principalEntity, principalUid, workspaceUid } from '../policy/policy-entities.js';
import type { PolicyAction } from '../policy/policy-schema.js';
import type { PolicyService } from './policy-service.js';
import { actorOf } from './principal-service.js';

/** Workspace-wide actions (their resource is the workspace itself). */
export type WorkspaceAction =
  | 'audit.read'
  | 'audit.redact'
  | 'connection.manage'
  | 'catalog.manage'
  | 'policy.manage'
  | 'keys.rotate'
  | 'principal.manage'
  | 'grant.manage'
  | 'investigation.list'
  | 'definition.apply';

/**
 * Asks the policy and turns a denial into an audited refusal. Every refusal is an `access.denied`
 * entry naming the action and the policies that decided; every lookup of something outside the
 * caller's workspace is an `access.not_found` entry and a 404 that does not reveal whether it exists
 * elsewhere.
 */
export class AccessGuard {
  constructor(private readonly o: { readonly policies: PolicyService; readonly audit: AuditLog }) {}

  engine(caller: Caller): Promise<PolicyEngine> {
    return this.o.policies.engine(caller.workspace);
  }

  /** Decides an action of `caller` on a resource. */
  async decide(
    caller: Caller,
    action: PolicyAction,
    resource: EntityUid,
    context: Context,
    entities: readonly EntityJson[],
  ): Promise<PolicyDecision> {
    const engine = await this.engine(caller);
    return engine.decide({
      principal: principalUid(caller.id),
      action,
      resource,
      context,
      entities: [principalEntity(caller), ...entities],
    });
  }

  /**
   * Requires a workspace-wide action; refuses (audited, `ERR_WAYBILL_FORBIDDEN`) otherwise. An allowed
   * decision is logged too (`access.allowed`, with the policies that allowed it): each decision of the
   * policy is in the audit log with its reasons.
   */
  async require(caller: Caller, action: WorkspaceAction): Promise<PolicyDecision> {
    const d = await this.decide(caller, action, workspaceUid(caller.workspace), {}, []);
    if (d.decision !== 'allow') await this.refuse(caller, action, {}, d);
    await this.o.audit.appendNow({
      type: 'access.allowed',
      actor: actorOf(caller),
      workspace: caller.workspace,
      details: { action, policyIds: d.policyIds, policySet: d.policySet },
    });
    return d;
  }

  /** Logs a refusal and throws `ERR_WAYBILL_FORBIDDEN` (with the deciding policies, when a policy decided). */
  async refuse(
    caller: Caller,
    action: string,
    subjects: Readonly<Record<string, string>>,
    decision?: PolicyDecision,
    why?: string,
  ): Promise<never> {
    await this.o.audit.appendNow({
      type: 'access.denied',
      actor: actorOf(caller),
      workspace: caller.workspace,
      subjects,
      details: {
        action,
        ...(decision ? { policyIds: decision.policyIds, policySet: decision.policySet } : {}),
        ...(why ? { reason: why } : {}),
      },
    });
    const because =
      why ??
      (decision && decision.policyIds.length > 0
        ? `denied by policy ${decision.policyIds.map((id) => `"${id}"`).join(', ')}`
        : 'no policy permits it');
    throw new WaybillError('ERR_WAYBILL_FORBIDDEN', `${actorOf(caller)} may not ${action}: ${because}`);
  }

  /** Logs a lookup that found nothing in the caller's workspace and throws `ERR_WAYBILL_NOT_FOUND`. */
  async notFound(caller: Caller, kind: string, id: string): Promise<never> {
    await this.o.audit.appendNow({
      type: 'access.not_found',
      actor: actorOf(caller),
      workspace: caller.workspace,
      subjects: { [kind]: id.slice(0, 100) },
      details: { kind },
    });
    throw new WaybillError(
      'ERR_WAYBILL_NOT_FOUND',
      `no ${kind} ${JSON.stringify(id.slice(0, 100))} in this workspace`,
    );
  }
}
