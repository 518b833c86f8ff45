/**
 * The Cedar schema every Waybill policy set is validated against (strict mode). Entities and context
 * are built by Waybill at decision time from its own state (`policy-entities.ts`); docs/policy.md
 * describes each attribute for policy authors.
 *
 * - `Principal in Role`: a user or service account is a member of each role it holds in its workspace.
 * - `Definition.sensitivity`: the highest classification declared on its output fields (`public` <
 *   `internal` < `confidential` < `restricted`; an unclassified field counts as `internal`).
 * - `Export.kind`: `business`, `exception` (requested although policy denies it, with a justification)
 *   or `investigation` (requested by `security` with purpose `investigation`).
 * - `context.approvals`: unexpired approvals for the definition version requested, counted per role
 *   the approvers hold (`total` counts people, each once).
 * - `context.grant`: the principal holds an unexpired, unrevoked grant for the definition.
 * - `reversal.request|approve|run`: giving back the values behind tokens (`detokenize`) or encryption
 *   (`decrypt`); `context.kind` says which, `context.count` how many values.
 * - `field.release`: the protection rules, asked per output field (`Field.sensitivity`, `piiKind`) with
 *   the destination's `context.tier` and the `context.protection` its transform achieves (0–3).
 * - `policy.apply`: whether a policy change takes effect now (its `context.approvals` count the
 *   approvals of the proposal so far); `policy.approve`: who may approve one.
 */
export const POLICY_SCHEMA = `namespace Waybill {
  entity Role;
  entity Workspace;
  entity Principal in [Role] { workspace: String, kind: String, name: String };
  entity Definition {
    workspace: String,
    name: String,
    owner: String,
    purposes: Set<String>,
    sensitivity: String,
    classifications: Set<String>,
    destination: String,
  };
  entity Export {
    workspace: String,
    requester: Principal,
    definition: Definition,
    purpose: String,
    kind: String,
  };
  entity Field { workspace: String, name: String, sensitivity: String, piiKind: String };
  type Approvals = { total: Long, approver: Long, security: Long, admin: Long };

  action "reversal.request" appliesTo {
    principal: Principal,
    resource: Workspace,
    context: { kind: String, count: Long },
  };
  action "reversal.run" appliesTo {
    principal: Principal,
    resource: Workspace,
    context: { kind: String, count: Long, approvals: Approvals },
  };
  action "reversal.approve" appliesTo { principal: Principal, resource: Workspace, context: {} };
  action "field.release" appliesTo {
    principal: Principal,
    resource: Field,
    context: { tier: String, protection: Long, transform: String },
  };

  action "export.request", "exception.request", "investigation.request" appliesTo {
    principal: Principal,
    resource: Definition,
    context: { purpose: String, grant: Bool },
  };
  action "export.approve", "export.cancel", "export.read" appliesTo {
    principal: Principal,
    resource: Export,
    context: {},
  };
  action "export.run" appliesTo {
    principal: Principal,
    resource: Export,
    context: { approvals: Approvals, grant: Bool },
  };
  action "policy.apply" appliesTo {
    principal: Principal,
    resource: Workspace,
    context: { approvals: Approvals },
  };
  action "policy.approve" appliesTo { principal: Principal, resource: Workspace, context: {} };
  action "definition.apply", "catalog.manage", "audit.read", "audit.redact", "connection.manage", "policy.manage", "keys.rotate", "principal.manage",
    "grant.manage", "investigation.list" appliesTo {
    principal: Principal,
    resource: Workspace,
    context: {},
  };
}
`;

/** Every action Waybill asks the policy about. */
export const POLICY_ACTIONS = [
  'definition.apply',
  'export.request',
  'exception.request',
  'investigation.request',
  'export.approve',
  'export.cancel',
  'export.read',
  'export.run',
  'audit.read',
  'audit.redact',
  'connection.manage',
  'catalog.manage',
  'policy.manage',
  'policy.apply',
  'policy.approve',
  'keys.rotate',
  'principal.manage',
  'grant.manage',
  'investigation.list',
  'reversal.request',
  'reversal.approve',
  'reversal.run',
  'field.release',
] as const;

export type PolicyAction = (typeof POLICY_ACTIONS)[number];
