import type { ExportView } from '@waybill/core';
import { z } from 'zod';

const requirement = z.object({
  role: z.enum(['approver', 'security', 'admin', 'any']),
  count: z.number().int(),
});

/** An export request as the API answers it (`GET /v1/exports/{id}` and friends). */
export const exportSchema = z.object({
  id: z.string().describe('the export request id (UUIDv7)'),
  status: z.enum([
    'denied',
    'pending_approval',
    'approved',
    'rejected',
    'running',
    'completed',
    'failed',
    'cancelled',
    'void',
  ]),
  definition: z.string(),
  definitionVersion: z.string().describe('the definition version requested; approvals hold for it only'),
  purpose: z.string(),
  kind: z.enum(['business', 'exception', 'investigation']),
  requester: z.string().describe('as the audit log names it, e.g. user:alice'),
  justification: z.string().nullable(),
  reasons: z.array(z.string()).describe('why it is denied or pending, in words'),
  requirements: z.array(requirement).describe('the approvals it needs'),
  policy: z.object({
    decision: z.enum(['allow', 'deny']),
    policyIds: z.array(z.string()).describe('the Cedar policies that decided'),
    policySet: z.string(),
  }),
  approvals: z.array(
    z.object({
      approver: z.string(),
      decision: z.enum(['approve', 'reject']),
      roles: z.array(z.string()),
      reason: z.string(),
      at: z.string(),
      expiresAt: z.string(),
      valid: z.boolean().describe('unexpired and for the definition version requested'),
    }),
  ),
  waybill: z
    .object({
      runId: z.string(),
      status: z.string(),
      location: z.string().nullable(),
      waybillDigest: z.string().nullable().describe('SHA-256 of waybill.intoto.jsonl'),
      rows: z.number().int().nullable().describe('rows written'),
      counts: z
        .object({ read: z.number().int(), filtered: z.number().int(), written: z.number().int() })
        .nullable(),
    })
    .optional()
    .describe('the run, once the export ran'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type ExportJson = z.input<typeof exportSchema>;

export function exportJson(v: ExportView): ExportJson {
  const r = v.request;
  return {
    id: r.id,
    status: r.status,
    definition: r.definitionName,
    definitionVersion: r.definitionVersion,
    purpose: r.purpose,
    kind: r.kind,
    requester: v.requester,
    justification: r.justification,
    reasons: [...r.reasons],
    requirements: r.requirements.map((q) => ({ ...q })),
    policy: {
      decision: r.decision.decision,
      policyIds: [...r.decision.policyIds],
      policySet: r.decision.policySet,
    },
    approvals: v.approvals.map((a) => ({
      approver: a.approver,
      decision: a.decision,
      roles: [...a.roles],
      reason: a.reason,
      at: a.createdAt,
      expiresAt: a.expiresAt,
      valid: a.valid,
    })),
    ...(v.run
      ? {
          waybill: {
            runId: v.run.id,
            status: v.run.status,
            location: v.run.location,
            waybillDigest: v.run.waybillDigest,
            rows: v.run.counts?.written ?? null,
            counts: v.run.counts ? { ...v.run.counts } : null,
          },
        }
      : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
