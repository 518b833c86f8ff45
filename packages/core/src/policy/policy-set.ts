import { createHash } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import type { ApprovalRequirement } from '../ports/store.js';
import { parseApprovalsAnnotation } from './approval-requirements.js';
import { loadCedar } from './cedar-module.js';
import { POLICY_SCHEMA } from './policy-schema.js';

/** One policy of a set, as Waybill reads it. */
export interface PolicyInfo {
  /** From the policy's `@id("…")` annotation, which every policy must carry. */
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** The policy's text, as written. */
  readonly text: string;
  /** From `@approvals("…")`: approvals that lift this forbid. */
  readonly approvals: readonly ApprovalRequirement[];
  /** `@exceptions("never")`: a denial by this policy cannot become an exception request. */
  readonly noExceptions: boolean;
  /** From `@protection("masked" | "pseudonymized" | "dropped")` on a forbid of `field.release`. */
  readonly protection?: 'masked' | 'pseudonymized' | 'dropped';
  /** From `@rowFilter("CEL")` on a permit of `export.run`: only rows it keeps are exported. */
  readonly rowFilter?: string;
}

/** A parsed, schema-validated policy set. */
export interface CompiledPolicySet {
  /** `sha256:<hex>` of the text. */
  readonly version: string;
  readonly text: string;
  readonly policies: ReadonlyMap<string, PolicyInfo>;
}

const POLICY_ID = /^[a-z0-9][a-z0-9-]{0,99}$/;

function messages(errors: readonly { message: string; help?: string | null }[]): string {
  return errors.map((e) => e.message + (e.help ? ` (${e.help})` : '')).join('; ');
}

/** `sha256:<hex>` of a policy set's text: its version. */
export function policySetVersion(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/**
 * Parses a Cedar policy set and validates it against Waybill's schema (strict mode). Every policy must
 * carry a unique `@id("kebab-case")`, which is how decisions, audit events and waybills name it.
 * Throws `ERR_WAYBILL_POLICY_INVALID` naming the policy and the problem.
 */
export async function compilePolicySet(text: string): Promise<CompiledPolicySet> {
  const cedar = await loadCedar();
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    throw new WaybillError(
      'ERR_WAYBILL_POLICY_INVALID',
      `policy set does not parse: ${messages(parts.errors)}`,
    );
  }
  if (parts.policy_templates.length > 0) {
    throw new WaybillError(
      'ERR_WAYBILL_POLICY_INVALID',
      'policy templates (policies with ?principal or ?resource slots) are not supported; write static policies',
    );
  }
  const policies = new Map<string, PolicyInfo>();
  for (const [n, policyText] of parts.policies.entries()) {
    const json = cedar.policyToJson(policyText);
    if (json.type === 'failure') {
      throw new WaybillError('ERR_WAYBILL_POLICY_INVALID', `policy #${n + 1}: ${messages(json.errors)}`);
    }
    const annotations = json.json.annotations ?? {};
    const id = annotations['id'];
    if (id === undefined || !POLICY_ID.test(id)) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy #${n + 1} needs an @id("…") annotation of lowercase letters, digits and dashes (got ${id === undefined ? 'none' : JSON.stringify(id)}): decisions name policies by it`,
      );
    }
    if (policies.has(id)) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy id "${id}" is used twice; ids must be unique`,
      );
    }
    const approvalsText = annotations['approvals'];
    if (approvalsText !== undefined && json.json.effect !== 'forbid') {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy "${id}": @approvals only makes sense on a forbid (the approvals lift it)`,
      );
    }
    const exceptions = annotations['exceptions'];
    if (exceptions !== undefined && exceptions !== 'never') {
      throw new WaybillError('ERR_WAYBILL_POLICY_INVALID', `policy "${id}": @exceptions only takes "never"`);
    }
    const protection = annotations['protection'];
    if (
      protection !== undefined &&
      (json.json.effect !== 'forbid' || !['masked', 'pseudonymized', 'dropped'].includes(protection))
    ) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy "${id}": @protection goes on a forbid of field.release and takes "masked", "pseudonymized" or "dropped"`,
      );
    }
    const rowFilter = annotations['rowFilter'];
    if (
      rowFilter !== undefined &&
      (json.json.effect !== 'permit' || rowFilter.trim() === '' || rowFilter.length > 2000)
    ) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy "${id}": @rowFilter goes on a permit of export.run and holds a CEL expression of 1–2000 characters`,
      );
    }
    policies.set(id, {
      id,
      effect: json.json.effect,
      text: policyText,
      approvals: approvalsText === undefined ? [] : parseApprovalsAnnotation(approvalsText, id),
      noExceptions: exceptions === 'never',
      ...(rowFilter !== undefined ? { rowFilter } : {}),
      ...(protection !== undefined
        ? { protection: protection as 'masked' | 'pseudonymized' | 'dropped' }
        : {}),
    });
  }
  const staticPolicies = Object.fromEntries([...policies].map(([id, p]) => [id, p.text]));
  const validation = cedar.validate({
    schema: POLICY_SCHEMA,
    policies: { staticPolicies },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type === 'failure') {
    throw new WaybillError('ERR_WAYBILL_POLICY_INVALID', `policy set: ${messages(validation.errors)}`);
  }
  if (validation.validationErrors.length > 0) {
    const detail = validation.validationErrors
      .map((e) => `policy "${e.policyId}": ${e.error.message}${e.error.help ? ` (${e.error.help})` : ''}`)
      .join('; ');
    throw new WaybillError(
      'ERR_WAYBILL_POLICY_INVALID',
      `policy set does not validate against Waybill's schema (see docs/policy.md): ${detail}`,
    );
  }
  return { version: policySetVersion(text), text, policies };
}
