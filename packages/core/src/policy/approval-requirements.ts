import { WaybillError } from '@waybill/verify';
import type { ApprovalRecord, ApprovalRequirement } from '../ports/store.js';

const ROLES = new Set(['approver', 'security', 'admin', 'any']);

/**
 * Parses an `@approvals("approver:1,security:1,any:2")` annotation. `policyId` names the policy in errors.
 */
export function parseApprovalsAnnotation(value: string, policyId: string): ApprovalRequirement[] {
  const out: ApprovalRequirement[] = [];
  for (const part of value.split(',')) {
    const m = /^\s*([a-z]+)\s*:\s*([1-9][0-9]?)\s*$/.exec(part);
    if (!m || !ROLES.has(m[1]!)) {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_INVALID',
        `policy "${policyId}": @approvals("${value}") must list role:count pairs separated by commas, with role one of approver, security, admin, any (e.g. "approver:1" or "security:1,any:2")`,
      );
    }
    out.push({ role: m[1] as ApprovalRequirement['role'], count: Number(m[2]) });
  }
  return out;
}

/** Merges requirements from several policies: the largest count per role holds. */
export function mergeRequirements(lists: readonly (readonly ApprovalRequirement[])[]): ApprovalRequirement[] {
  const best = new Map<ApprovalRequirement['role'], number>();
  for (const list of lists) for (const r of list) best.set(r.role, Math.max(best.get(r.role) ?? 0, r.count));
  const order: ApprovalRequirement['role'][] = ['approver', 'security', 'admin', 'any'];
  return order.filter((r) => best.has(r)).map((role) => ({ role, count: best.get(role)! }));
}

/** The approvals Cedar sees as `context.approvals`: people who approved, counted per role they hold. */
export interface ApprovalCounts {
  readonly total: number;
  readonly approver: number;
  readonly security: number;
  readonly admin: number;
}

/**
 * Counts the approvals that hold at `now` for `definitionVersion`: decision `approve`, unexpired, given
 * for that version (a new version voids earlier approvals), one per person.
 */
export function countApprovals(
  approvals: readonly ApprovalRecord[],
  definitionVersion: string,
  now: Date,
): ApprovalCounts {
  const seen = new Set<string>();
  let approver = 0;
  let security = 0;
  let admin = 0;
  for (const a of approvals) {
    if (a.decision !== 'approve' || a.definitionVersion !== definitionVersion) continue;
    if (Date.parse(a.expiresAt) <= now.getTime() || seen.has(a.approverId)) continue;
    seen.add(a.approverId);
    if (a.roles.includes('approver')) approver++;
    if (a.roles.includes('security')) security++;
    if (a.roles.includes('admin')) admin++;
  }
  return { total: seen.size, approver, security, admin };
}

/** What is still missing, in words (`1 more approval by an approver`), or [] when the counts meet them. */
export function missingApprovals(
  requirements: readonly ApprovalRequirement[],
  counts: ApprovalCounts,
): string[] {
  const out: string[] = [];
  for (const r of requirements) {
    const have = r.role === 'any' ? counts.total : counts[r.role];
    const need = r.count - have;
    if (need > 0) {
      const who = r.role === 'any' ? 'anyone who may approve' : `someone with the ${r.role} role`;
      out.push(`${need} more approval${need > 1 ? 's' : ''} by ${who}`);
    }
  }
  return out;
}
