import {
  ROLES,
  SLUG_PATTERN,
  WaybillError,
  actorOf,
  type AuditLog,
  type Caller,
  type Clock,
  type ExportResult,
  type PolicyChange,
  reversalJson,
  type Services,
  type Store,
} from '@waybill/core';
import { z } from 'zod';
import type { AccessTokenService } from '../auth/access-token-service.js';
import { defineRoute, type RouteDefinition, type RouteLogger } from '../http/route-definition.js';
import { exportJson, exportSchema } from './export-json.js';

/** What the business routes are built from. */
export interface WaybillRoutesDeps {
  readonly services: Services;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly tokens: AccessTokenService;
  readonly clock: Clock;
  /** Starts a run in the background (the server tracks it for a graceful shutdown). */
  readonly startRun: (work: (signal: AbortSignal) => Promise<ExportResult>, log: RouteLogger) => void;
}

const AUTH_FAILURES_LOGGED_PER_MINUTE = 20;
const slug = z.string().regex(SLUG_PATTERN, 'a lowercase name (letters, digits, ".", "_", "-")');
const idParam = z.object({ id: z.uuid({ message: 'an id (UUID)' }) });
const time = z.iso.datetime({ offset: true, message: 'an RFC 3339 time, e.g. 2026-12-31T18:00:00Z' });

/** Every route of the Waybill API (CONTRACT.md "HTTP" keeps their shape). */
export function waybillRoutes(d: WaybillRoutesDeps): RouteDefinition[] {
  const { services: s } = d;
  const failures = { since: 0, logged: 0, suppressed: 0 };
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/auth/token',
      operationId: 'createAccessToken',
      summary: 'Exchange an API key for a short-lived access token',
      description: 'The token (a JWT signed with EdDSA) lasts 15 minutes; it dies with its API key.',
      tags: ['auth'],
      auth: 'none',
      body: z.strictObject({ apiKey: z.string().min(1).max(200) }),
      responses: {
        200: {
          description: 'A new access token.',
          schema: z.object({ accessToken: z.string(), expiresAt: z.string() }),
        },
      },
      handler: async ({ body }) => {
        let who;
        try {
          who = await s.principals.authenticate(body.apiKey);
        } catch (err) {
          // A login failure is an audit event (ARCHITECTURE.md); it names the key's public prefix at most.
          // Anyone can fail to log in, so at most a few are logged a minute, the rest counted: an
          // attacker cannot grow the log at will.
          const now = d.clock.now().getTime();
          if (now - failures.since >= 60_000) Object.assign(failures, { since: now, logged: 0 });
          if (failures.logged < AUTH_FAILURES_LOGGED_PER_MINUTE) {
            failures.logged++;
            const prefix = /^wbk_([a-z0-9]{12})_/.exec(body.apiKey)?.[1];
            await d.audit.appendNow({
              type: 'auth.failed',
              actor: 'anonymous',
              workspace: 'default',
              details: {
                method: 'apiKey',
                ...(prefix ? { prefix } : {}),
                ...(failures.suppressed > 0 ? { notLoggedBefore: failures.suppressed } : {}),
              },
            });
            failures.suppressed = 0;
          } else failures.suppressed++;
          throw err;
        }
        const issued = await d.tokens.issue({
          principalId: who.principal.id,
          workspace: who.principal.workspace,
          apiKeyId: who.apiKey.id,
        });
        return { status: 200, body: { accessToken: issued.accessToken, expiresAt: issued.expiresAt } };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/me',
      operationId: 'getMe',
      summary: 'Who the token belongs to',
      tags: ['auth'],
      auth: 'bearer',
      responses: {
        200: {
          description: 'The caller.',
          schema: z.object({
            id: z.string(),
            name: z.string(),
            kind: z.enum(['user', 'service']),
            workspace: z.string(),
            roles: z.array(z.string()),
            apiKeyId: z.string().optional().describe('the API key the token was exchanged for'),
          }),
        },
      },
      handler: ({ principal: p }) => ({
        status: 200,
        body: {
          id: p.id,
          name: p.name,
          kind: p.kind,
          workspace: p.workspace,
          roles: [...p.roles],
          ...(p.apiKeyId !== undefined ? { apiKeyId: p.apiKeyId } : {}),
        },
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/users',
      operationId: 'createUser',
      summary: 'Add a user or service account with roles (admin); its API key is shown once',
      tags: ['principals'],
      auth: 'bearer',
      body: z.strictObject({
        name: z.string().min(1).max(63),
        roles: z.array(z.enum(ROLES)).min(1),
        kind: z.enum(['user', 'service']).optional(),
        keyExpiresAt: time.optional(),
        attributes: z.record(z.string(), z.string()).optional(),
      }),
      responses: {
        201: {
          description: 'Created; `apiKey` is shown this once.',
          schema: z.object({
            id: z.string(),
            name: z.string(),
            roles: z.array(z.string()),
            apiKey: z.string(),
            apiKeyId: z.string(),
          }),
        },
      },
      handler: async ({ principal, body }) => {
        const c = await s.principals.create(principal, {
          name: body.name,
          roles: body.roles,
          ...(body.kind ? { kind: body.kind } : {}),
          ...(body.keyExpiresAt ? { keyExpiresAt: body.keyExpiresAt } : {}),
          ...(body.attributes ? { attributes: body.attributes } : {}),
        });
        return {
          status: 201,
          body: {
            id: c.principal.id,
            name: c.principal.name,
            roles: [...c.principal.roles],
            apiKey: c.apiKey,
            apiKeyId: c.apiKeyRecord.id,
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/users',
      operationId: 'listUsers',
      summary: 'The principals of the caller’s workspace',
      tags: ['principals'],
      auth: 'bearer',
      responses: {
        200: {
          description: 'Principals, oldest first.',
          schema: z.object({
            users: z.array(
              z.object({
                id: z.string(),
                name: z.string(),
                kind: z.string(),
                roles: z.array(z.string()),
                createdAt: z.string(),
              }),
            ),
          }),
        },
      },
      handler: async ({ principal }) => {
        await s.guard.require(principal, 'principal.manage');
        const list = await s.principals.list(principal);
        return {
          status: 200,
          body: {
            users: list.map((u) => ({
              id: u.id,
              name: u.name,
              kind: u.kind,
              roles: [...u.roles],
              createdAt: u.createdAt,
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/users/:name/api-keys',
      operationId: 'listApiKeys',
      summary:
        'A principal’s API keys: ids, prefixes, expiry, revocation (never the keys); one’s own, or admin',
      tags: ['principals'],
      auth: 'bearer',
      params: z.object({ name: z.string().min(1).max(200) }),
      responses: {
        200: {
          description: 'The keys, oldest first.',
          schema: z.object({
            apiKeys: z.array(
              z.object({
                id: z.string(),
                prefix: z.string(),
                createdAt: z.string(),
                expiresAt: z.string().nullable(),
                revokedAt: z.string().nullable(),
              }),
            ),
          }),
        },
      },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: {
          apiKeys: (await s.principals.keys(principal, params.name)).map((k) => ({
            id: k.id,
            prefix: k.prefix,
            createdAt: k.createdAt,
            expiresAt: k.expiresAt,
            revokedAt: k.revokedAt,
          })),
        },
      }),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/api-keys/:id',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key at once (tokens issued for it stop working too)',
      tags: ['principals'],
      auth: 'bearer',
      params: idParam,
      responses: { 204: { description: 'Revoked.' } },
      handler: async ({ principal, params }) => {
        await s.principals.revokeKey(principal, params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/exports',
      operationId: 'requestExport',
      summary: 'Request an export of a definition for a purpose; the policy decides',
      description:
        'Answers `approved` when the policy allows it without approvals, `pending_approval` with the approvals it needs, or `denied` with the policies that decided. A `justification` turns a denied request into an exception request (security + one more approval). Purpose `investigation` is for security.',
      tags: ['exports'],
      auth: 'bearer',
      body: z.strictObject({
        definition: slug,
        purpose: slug,
        justification: z.string().min(1).max(2000).optional(),
      }),
      responses: { 201: { description: 'The export request, with its status.', schema: exportSchema } },
      handler: async ({ principal, body }) => {
        const v = await s.requests.request(principal, {
          definition: body.definition,
          purpose: body.purpose,
          ...(body.justification !== undefined ? { justification: body.justification } : {}),
        });
        return { status: 201, body: exportJson(v) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/exports',
      operationId: 'listExports',
      summary: 'Export requests the caller may see, newest first',
      tags: ['exports'],
      auth: 'bearer',
      query: z.object({
        kind: z.enum(['business', 'exception', 'investigation']).optional(),
        limit: z.coerce.number().int().min(1).max(500).optional(),
      }),
      responses: {
        200: { description: 'Export requests.', schema: z.object({ exports: z.array(exportSchema) }) },
      },
      handler: async ({ principal, query }) => {
        const list = await s.requests.list(principal, {
          ...(query.kind ? { kind: query.kind } : {}),
          ...(query.limit ? { limit: query.limit } : {}),
        });
        return { status: 200, body: { exports: list.map(exportJson) } };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/exports/:id',
      operationId: 'getExport',
      summary: 'One export request: status, requester, approvals, and its waybill once it ran',
      tags: ['exports'],
      auth: 'bearer',
      params: idParam,
      responses: { 200: { description: 'The export request.', schema: exportSchema } },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: exportJson(await s.requests.get(principal, params.id)),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/exports/:id/approvals',
      operationId: 'decideExport',
      summary:
        'Approve or reject a pending export (never one’s own; once per person; an approving role it needs)',
      tags: ['exports'],
      auth: 'bearer',
      params: idParam,
      body: z.strictObject({ decision: z.enum(['approve', 'reject']), reason: z.string().min(1).max(2000) }),
      responses: { 200: { description: 'The export request after the decision.', schema: exportSchema } },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: exportJson(await s.requests.decide(principal, params.id, body)),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/exports/:id/run',
      operationId: 'runExport',
      summary: 'Run an approved export; 409 unless approved and unexpired',
      description: 'The run starts in the background; follow it with `GET /v1/exports/{id}`.',
      tags: ['exports'],
      auth: 'bearer',
      params: idParam,
      responses: {
        202: {
          description: 'The run started.',
          schema: z.object({ id: z.string(), status: z.literal('running') }),
        },
      },
      handler: async ({ principal, params, log }) => {
        const prepared = await s.requests.prepareRun(principal, params.id);
        d.startRun((signal) => prepared.execute({ signal }), log);
        return { status: 202, body: { id: params.id, status: 'running' } };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/exports/:id/cancel',
      operationId: 'cancelExport',
      summary: 'Cancel a pending or approved export',
      tags: ['exports'],
      auth: 'bearer',
      params: idParam,
      responses: { 200: { description: 'The cancelled export request.', schema: exportSchema } },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: exportJson(await s.requests.cancel(principal, params.id)),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/grants',
      operationId: 'createGrant',
      summary: 'Let a principal request and run one definition until a time (admin)',
      tags: ['grants'],
      auth: 'bearer',
      body: z.strictObject({
        principal: z.string().min(1).max(63),
        definition: slug,
        expiresAt: time,
        reason: z.string().min(1).max(2000),
      }),
      responses: { 201: { description: 'The grant.', schema: grantSchema } },
      handler: async ({ principal, body }) => ({
        status: 201,
        body: grantJson(await s.grants.add(principal, body)),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/grants',
      operationId: 'listGrants',
      summary: 'Grants of the workspace, with whether each holds now',
      tags: ['grants'],
      auth: 'bearer',
      responses: { 200: { description: 'Grants.', schema: z.object({ grants: z.array(grantSchema) }) } },
      handler: async ({ principal }) => {
        await s.guard.require(principal, 'grant.manage');
        const now = d.clock.now().getTime();
        const list = await s.grants.list(principal);
        return {
          status: 200,
          body: {
            grants: list.map((g) => ({
              ...grantJson(g),
              active: g.revokedAt === null && Date.parse(g.expiresAt) > now,
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/grants/:id',
      operationId: 'revokeGrant',
      summary: 'Revoke a grant at once',
      tags: ['grants'],
      auth: 'bearer',
      params: idParam,
      responses: { 204: { description: 'Revoked.' } },
      handler: async ({ principal, params }) => {
        await s.grants.revoke(principal, params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policy',
      operationId: 'getPolicy',
      summary: 'The Cedar policy set in force',
      tags: ['policy'],
      auth: 'bearer',
      responses: {
        200: {
          description: 'The policy set in force.',
          schema: z.object({
            version: z.string(),
            seq: z.number().int(),
            text: z.string(),
            appliedBy: z.string().nullable(),
            appliedAt: z.string().nullable(),
          }),
        },
      },
      handler: async ({ principal }) => {
        // Policies are not secret: everyone may read the rules they are held to.
        const p = await s.policies.inForce(principal.workspace);
        return {
          status: 200,
          body: {
            version: p.version,
            seq: p.seq,
            text: p.text,
            appliedBy: p.appliedBy,
            appliedAt: p.appliedAt,
          },
        };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/v1/policy',
      operationId: 'applyPolicy',
      summary:
        'Validate a Cedar policy set and make it the one in force (admin), or propose it when policy changes need approvals',
      tags: ['policy'],
      auth: 'bearer',
      body: z.strictObject({
        text: z
          .string()
          .min(1)
          .max(256 * 1024),
      }),
      responses: {
        200: {
          description: 'What happened: applied, unchanged, or pending approval.',
          schema: policyChangeSchema,
        },
      },
      handler: async ({ principal, body }) => ({
        status: 200,
        body: policyChangeJson(await s.policies.apply(principal, body.text)),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policy/proposals',
      operationId: 'listPolicyProposals',
      summary: 'Policy changes proposed in the workspace, newest first',
      tags: ['policy'],
      auth: 'bearer',
      responses: {
        200: {
          description: 'Proposals (without their text; GET the policy once applied).',
          schema: z.object({
            proposals: z.array(
              z.object({
                id: z.string(),
                version: z.string(),
                status: z.string(),
                requirements: z.array(z.object({ role: z.string(), count: z.number().int() })),
                approvals: z.array(
                  z.object({
                    approver: z.string(),
                    decision: z.string(),
                    reason: z.string(),
                    at: z.string(),
                  }),
                ),
                createdAt: z.string(),
              }),
            ),
          }),
        },
      },
      handler: async ({ principal }) => {
        const list = await s.policies.proposals(principal);
        return {
          status: 200,
          body: {
            proposals: list.map((p) => ({
              id: p.id,
              version: p.version,
              status: p.status,
              requirements: p.requirements.map((r) => ({ ...r })),
              approvals: p.approvals.map((a) => ({
                approver: a.approver,
                decision: a.decision,
                reason: a.reason,
                at: a.at,
              })),
              createdAt: p.createdAt,
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/policy/proposals/:id',
      operationId: 'getPolicyProposal',
      summary: 'One proposed policy change with its text and the text it would replace',
      tags: ['policy'],
      auth: 'bearer',
      params: idParam,
      responses: {
        200: {
          description: 'The proposal.',
          schema: z.object({
            id: z.string(),
            version: z.string(),
            baseVersion: z.string(),
            status: z.string(),
            text: z.string(),
            baseText: z.string().nullable(),
            requirements: z.array(z.object({ role: z.string(), count: z.number().int() })),
            approvals: z.array(
              z.object({ approver: z.string(), decision: z.string(), reason: z.string(), at: z.string() }),
            ),
            createdAt: z.string(),
          }),
        },
      },
      handler: async ({ principal, params }) => {
        const p = await s.policies.proposal(principal, params.id);
        return {
          status: 200,
          body: {
            id: p.id,
            version: p.version,
            baseVersion: p.baseVersion,
            status: p.status,
            text: p.text,
            baseText: p.baseText,
            requirements: p.requirements.map((r) => ({ ...r })),
            approvals: p.approvals.map((a) => ({
              approver: a.approver,
              decision: a.decision,
              reason: a.reason,
              at: a.at,
            })),
            createdAt: p.createdAt,
          },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/policy/proposals/:id/approvals',
      operationId: 'decidePolicyProposal',
      summary: 'Approve or reject a proposed policy change (never one’s own; once per person)',
      tags: ['policy'],
      auth: 'bearer',
      params: idParam,
      body: z.strictObject({ decision: z.enum(['approve', 'reject']), reason: z.string().min(1).max(2000) }),
      responses: { 200: { description: 'What happened to the proposal.', schema: policyChangeSchema } },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: policyChangeJson(await s.policies.decideProposal(principal, params.id, body)),
      }),
    }),
    defineRoute({
      method: 'PATCH',
      url: '/v1/users/:name/attributes',
      operationId: 'setUserAttributes',
      summary:
        'Set (a text value) or remove (null) attributes of a principal, which policy row filters read as requester.<name> (admin)',
      tags: ['principals'],
      auth: 'bearer',
      params: z.object({ name: z.string().min(1).max(200) }),
      body: z.record(z.string(), z.string().nullable()),
      responses: {
        200: {
          description: 'The principal’s attributes now.',
          schema: z.object({ name: z.string(), attributes: z.record(z.string(), z.string()) }),
        },
      },
      handler: async ({ principal, params, body }) => {
        const p = await s.principals.setAttributes(principal, params.name, body);
        return { status: 200, body: { name: p.name, attributes: { ...(p.attributes ?? {}) } } };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/reversals',
      operationId: 'requestReversal',
      summary:
        'Ask for protected values back: tokens to their values (detokenize) or encrypted values (decrypt); approved like an export',
      tags: ['reversals'],
      auth: 'bearer',
      body: z.strictObject({
        kind: z.enum(['detokenize', 'decrypt']),
        items: z.array(z.string().min(1).max(6000)).min(1).max(1000),
        key: z.string().min(1).max(200).optional(),
        justification: z.string().min(1).max(2000),
      }),
      responses: {
        201: { description: 'The request, with the approvals it needs.', schema: reversalSchema },
      },
      handler: async ({ principal, body }) => ({
        status: 201,
        body: reversalJson(await s.reversals.request(principal, body)),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/reversals',
      operationId: 'listReversals',
      summary: 'Reversal requests: all of them for those who approve them, one’s own for others',
      tags: ['reversals'],
      auth: 'bearer',
      responses: {
        200: { description: 'Newest first.', schema: z.object({ reversals: z.array(reversalSchema) }) },
      },
      handler: async ({ principal }) => ({
        status: 200,
        body: { reversals: (await s.reversals.list(principal)).map(reversalJson) },
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/reversals/:id',
      operationId: 'getReversal',
      summary: 'One reversal request (its requester, or someone who approves reversals)',
      tags: ['reversals'],
      auth: 'bearer',
      params: idParam,
      responses: { 200: { description: 'The request.', schema: reversalSchema } },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: reversalJson(await s.reversals.get(principal, params.id)),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/reversals/:id/approvals',
      operationId: 'decideReversal',
      summary: 'Approve or reject a reversal request (never one’s own; once per person)',
      tags: ['reversals'],
      auth: 'bearer',
      params: idParam,
      body: z.strictObject({ decision: z.enum(['approve', 'reject']), reason: z.string().min(1).max(2000) }),
      responses: { 200: { description: 'The request after the decision.', schema: reversalSchema } },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: reversalJson(await s.reversals.decide(principal, params.id, body)),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/reversals/:id/reveal',
      operationId: 'revealReversal',
      summary: 'The values, given back once to the requester of an approved reversal',
      tags: ['reversals'],
      auth: 'bearer',
      params: idParam,
      responses: {
        200: {
          description: 'Each item with its value (null when the vault has no such token).',
          schema: z.object({
            reversal: reversalSchema,
            items: z.array(z.object({ item: z.string(), value: z.string().nullable() })),
          }),
        },
      },
      handler: async ({ principal, params }) => {
        const r = await s.reversals.reveal(principal, params.id);
        return { status: 200, body: { reversal: reversalJson(r.view), items: r.items } };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/audit',
      operationId: 'readAudit',
      summary:
        'Audit-log entries of the caller’s workspace from index `from`, with the latest signed checkpoint',
      tags: ['audit'],
      auth: 'bearer',
      query: z.object({
        from: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      responses: {
        200: {
          description:
            'Entries in index order (redacted ones without their event) and the checkpoint to verify them against.',
          schema: z.object({
            entries: z.array(
              z.object({
                index: z.number().int(),
                type: z.string(),
                actor: z.string(),
                time: z.string(),
                leafHash: z.string().describe('hex'),
                event: z.record(z.string(), z.unknown()).nullable(),
                salt: z.string().nullable(),
              }),
            ),
            checkpoint: z.string().nullable().describe('the C2SP signed note, verbatim'),
          }),
        },
      },
      handler: async ({ principal, query }) => {
        await s.guard.require(principal, 'audit.read');
        const entries = await d.store.searchAuditEntries({
          workspace: principal.workspace,
          from: query.from,
          limit: query.limit,
        });
        const checkpoint = await d.store.latestAuditCheckpoint();
        await d.audit.appendNow({
          type: 'audit.read',
          actor: actorOf(principal),
          workspace: principal.workspace,
          details: { from: query.from, limit: query.limit, returned: entries.length },
        });
        return {
          status: 200,
          body: {
            entries: entries.map((e) => ({
              index: e.index,
              type: e.type,
              actor: e.actor,
              time: e.time,
              leafHash: e.leafHash,
              event: e.event === null ? null : (JSON.parse(e.event) as Record<string, unknown>),
              salt: e.salt,
            })),
            checkpoint: checkpoint?.note ?? null,
          },
        };
      },
    }),
  ];
}

const reversalSchema = z.object({
  id: z.string(),
  kind: z.enum(['detokenize', 'decrypt']),
  key: z.string().nullable(),
  count: z.number().int(),
  items: z.array(z.string()),
  justification: z.string(),
  requester: z.string(),
  status: z.enum(['pending_approval', 'approved', 'denied', 'rejected', 'revealed']),
  requirements: z.array(z.object({ role: z.string(), count: z.number().int() })),
  missing: z.array(z.string()),
  approvals: z.array(
    z.object({ approver: z.string(), decision: z.string(), reason: z.string(), at: z.string() }),
  ),
  policyIds: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const policyChangeSchema = z.object({
  status: z.enum(['applied', 'unchanged', 'pending_approval', 'rejected', 'superseded']),
  version: z.string(),
  seq: z.number().int().optional(),
  changed: z.boolean(),
  proposalId: z.string().optional(),
  requirements: z.array(z.object({ role: z.string(), count: z.number().int() })).optional(),
  reasons: z.array(z.string()).optional(),
});

function policyChangeJson(c: PolicyChange): z.input<typeof policyChangeSchema> {
  return {
    status: c.status,
    version: c.version,
    changed: c.changed,
    ...(c.seq !== undefined ? { seq: c.seq } : {}),
    ...(c.proposalId !== undefined ? { proposalId: c.proposalId } : {}),
    ...(c.requirements ? { requirements: c.requirements.map((r) => ({ ...r })) } : {}),
    ...(c.reasons ? { reasons: [...c.reasons] } : {}),
  };
}

const grantSchema = z.object({
  id: z.string(),
  principalId: z.string(),
  definition: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  active: z.boolean().optional(),
});

function grantJson(g: {
  id: string;
  principalId: string;
  definitionName: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}): z.input<typeof grantSchema> {
  return {
    id: g.id,
    principalId: g.principalId,
    definition: g.definitionName,
    reason: g.reason,
    createdBy: g.createdBy,
    createdAt: g.createdAt,
    expiresAt: g.expiresAt,
    revokedAt: g.revokedAt,
  };
}

export type { Caller };
export { WaybillError };
