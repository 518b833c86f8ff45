import type { Context, EntityJson, EntityUid } from '@cedar-policy/cedar-wasm/nodejs';
import { WaybillError } from '@waybill/verify';
import type { ApprovalRequirement } from '../ports/store.js';
import { mergeRequirements } from './approval-requirements.js';
import { loadCedar, type CedarModule } from './cedar-module.js';
import type { PolicyAction } from './policy-schema.js';
import { POLICY_SCHEMA } from './policy-schema.js';
import type { CompiledPolicySet, PolicyInfo } from './policy-set.js';

/** One question to the policy. */
export interface PolicyQuestion {
  readonly principal: EntityUid;
  readonly action: PolicyAction;
  readonly resource: EntityUid;
  readonly context: Context;
  /** Every entity the policies may look at (the principal, the resource and what they refer to). */
  readonly entities: readonly EntityJson[];
}

/** The policy's answer, with the policies that determined it. */
export interface PolicyDecision {
  readonly decision: 'allow' | 'deny';
  /**
   * The ids of the determining policies: the permits that allowed it, or the forbids that denied it;
   * empty for a denial because nothing permits it (deny by default).
   */
  readonly policyIds: readonly string[];
  /** The policy set version that decided. */
  readonly policySet: string;
  /** Policies that failed to evaluate (they count as not matching: fail closed). */
  readonly errors: readonly string[];
}

const SCHEMA_NAME = 'waybill-policy-schema';
const ANSWER_CACHE_SIZE = 5000;
let schemaLoaded = false;

/**
 * Decides with one compiled policy set. The set and the schema are parsed once (Cedar's preparsed
 * cache), so a decision only evaluates: STYLE "decide once per run, never per row" keeps it off hot paths.
 */
export class PolicyEngine {
  private readonly answers = new Map<string, PolicyDecision>();

  private constructor(
    private readonly cedar: CedarModule,
    readonly policySet: CompiledPolicySet,
  ) {}

  static async create(policySet: CompiledPolicySet): Promise<PolicyEngine> {
    const cedar = await loadCedar();
    if (!schemaLoaded) {
      const s = cedar.preparseSchema(SCHEMA_NAME, POLICY_SCHEMA);
      if (s.type === 'failure')
        throw new WaybillError('ERR_WAYBILL_INTERNAL', `policy schema: ${s.errors[0]?.message}`);
      schemaLoaded = true;
    }
    const staticPolicies = Object.fromEntries([...policySet.policies].map(([id, p]) => [id, p.text]));
    const r = cedar.preparsePolicySet(policySet.version, { staticPolicies });
    if (r.type === 'failure') {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy set: ${r.errors.map((e) => e.message).join('; ')}`,
      );
    }
    return new PolicyEngine(cedar, policySet);
  }

  decide(q: PolicyQuestion): PolicyDecision {
    // A decision is a pure function of the policy set (this engine's), the question and its entities:
    // the same question gets the same answer, so answers are remembered (bounded, oldest out).
    const key = JSON.stringify([q.principal, q.action, q.resource, q.context, q.entities]);
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    const decided = this.evaluate(q);
    if (this.answers.size >= ANSWER_CACHE_SIZE) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(key, decided);
    return decided;
  }

  private evaluate(q: PolicyQuestion): PolicyDecision {
    const answer = this.cedar.statefulIsAuthorized({
      principal: q.principal,
      action: { type: 'Waybill::Action', id: q.action },
      resource: q.resource,
      context: q.context,
      entities: [...q.entities],
      preparsedPolicySetId: this.policySet.version,
      preparsedSchemaName: SCHEMA_NAME,
      validateRequest: true,
    });
    if (answer.type === 'failure') {
      // A malformed question is Waybill's bug, not the caller's: never allow on it.
      throw new WaybillError(
        'ERR_WAYBILL_INTERNAL',
        `policy question for ${q.action} is malformed: ${answer.errors.map((e) => e.message).join('; ')}`,
      );
    }
    const { decision, diagnostics } = answer.response;
    return Object.freeze({
      decision,
      policyIds: [...diagnostics.reason].sort(),
      policySet: this.policySet.version,
      errors: diagnostics.errors.map((e) => `policy "${e.policyId}": ${e.error.message}`),
    });
  }

  policy(id: string): PolicyInfo | undefined {
    return this.policySet.policies.get(id);
  }

  /**
   * When a denial can be lifted by approvals: every determining policy is a forbid with `@approvals`.
   * Returns the merged requirements, or undefined when approvals cannot lift it.
   */
  approvalsToLift(d: PolicyDecision): ApprovalRequirement[] | undefined {
    if (d.decision !== 'deny' || d.policyIds.length === 0 || d.errors.length > 0) return undefined;
    const lists: (readonly ApprovalRequirement[])[] = [];
    for (const id of d.policyIds) {
      const p = this.policy(id);
      if (!p || p.approvals.length === 0) return undefined;
      lists.push(p.approvals);
    }
    return mergeRequirements(lists);
  }

  /** Whether a denial may be requested as an exception: no determining policy says `@exceptions("never")`. */
  exceptionAllowed(d: PolicyDecision): boolean {
    return d.policyIds.every((id) => !this.policy(id)?.noExceptions);
  }
}
