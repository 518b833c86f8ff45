import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_POLICY_SET,
  POLICY_SCHEMA,
  ROLES,
  WaybillError,
  addIsoDuration,
  type PolicyChange,
} from '@waybill/core';
import { printJson, println, table, usage, type Io } from '../output.js';
import { globals, withHome, withHomeOrServer, type CommandContext } from './command-context.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** `name=value` pairs → an object; a pair without `=` is a usage error. */
function parseAttributes(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw usage(`attributes are name=value, got "${p}"`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** `--until TIME` or `--for DURATION` → an RFC 3339 time, or undefined when neither is given. */
function expiry(o: { until?: string; for?: string }, now: Date): string | undefined {
  if (o.until !== undefined && o.for !== undefined) throw usage('give --until or --for, not both');
  if (o.until !== undefined) {
    const t = Date.parse(o.until);
    if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(o.until)) {
      throw usage(`--until must be an RFC 3339 time (e.g. 2026-12-31T18:00:00Z), got "${o.until}"`);
    }
    return new Date(t).toISOString();
  }
  if (o.for !== undefined) {
    try {
      return addIsoDuration(now, o.for).toISOString();
    } catch {
      throw usage(`--for must be an ISO 8601 duration (e.g. PT8H, P7D), got "${o.for}"`);
    }
  }
  return undefined;
}

export function registerGovernanceCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;

  const user = program.command('user').description('users and service accounts, their roles and API keys');
  user
    .command('add')
    .description('add a user (or --service account) with roles; prints its API key once')
    .argument('<name>')
    .requiredOption('--role <role>', `a role (repeatable): ${ROLES.join(', ')}`, collect, [])
    .option('--service', 'a service account rather than a person')
    .option('--key-until <time>', 'the API key expires at this RFC 3339 time')
    .option('--key-for <duration>', 'the API key expires after this ISO 8601 duration (e.g. P90D)')
    .option(
      '--attr <name=value>',
      'an attribute policy row filters read (repeatable), e.g. region=eu',
      collect,
      [],
    )
    .action(
      async (
        name: string,
        o: { role: string[]; service?: boolean; keyUntil?: string; keyFor?: string; attr: string[] },
        cmd: Command,
      ) => {
        const until = expiry(
          {
            ...(o.keyUntil !== undefined ? { until: o.keyUntil } : {}),
            ...(o.keyFor !== undefined ? { for: o.keyFor } : {}),
          },
          new Date(),
        );
        const input = {
          name,
          kind: o.service ? ('service' as const) : ('user' as const),
          roles: o.role,
          ...(until !== undefined ? { keyExpiresAt: until } : {}),
          ...(o.attr.length > 0 ? { attributes: parseAttributes(o.attr) } : {}),
        };
        const out = await withHomeOrServer(ctx, cmd, {
          local: async (h) => {
            const c = await h.principals.create(h.principal, input);
            return {
              id: c.principal.id,
              name: c.principal.name,
              kind: c.principal.kind,
              roles: [...c.principal.roles],
              apiKey: c.apiKey,
              apiKeyId: c.apiKeyRecord.id,
            };
          },
          remote: async (api) => ({
            kind: input.kind,
            ...(await api.call<{
              id: string;
              name: string;
              roles: string[];
              apiKey: string;
              apiKeyId: string;
            }>('POST', '/v1/users', input)),
          }),
        });
        if (globals(cmd).json) return printJson(io, out);
        println(io, `${out.kind} ${out.name} (${out.roles.join(', ')}) added: ${out.id}`);
        println(io, `API key ${out.apiKeyId} (shown once, store it now): ${out.apiKey}`);
      },
    );
  user
    .command('set-attr')
    .description(
      'set attributes of a principal (name=value) or remove them (--unset name); row filters in policy read them',
    )
    .argument('<name>')
    .argument('[attributes...]', 'name=value pairs')
    .option('--unset <attribute>', 'remove an attribute (repeatable)', collect, [])
    .action(async (name: string, pairs: string[], o: { unset: string[] }, cmd: Command) => {
      const changes: Record<string, string | null> = { ...parseAttributes(pairs) };
      for (const k of o.unset) changes[k] = null;
      if (Object.keys(changes).length === 0) throw usage('give name=value pairs or --unset NAME');
      const out = await withHomeOrServer(ctx, cmd, {
        local: async (h) => {
          const p = await h.principals.setAttributes(h.principal, name, changes);
          return { name: p.name, attributes: { ...(p.attributes ?? {}) } };
        },
        remote: (api) =>
          api.call<{ name: string; attributes: Record<string, string> }>(
            'PATCH',
            `/v1/users/${encodeURIComponent(name)}/attributes`,
            changes,
          ),
      });
      if (globals(cmd).json) return printJson(io, out);
      const attrs = Object.entries(out.attributes).map(([k, v]) => `${k}=${v}`);
      println(io, `${out.name}: ${attrs.length > 0 ? attrs.join(', ') : 'no attributes'}`);
    });
  user
    .command('list')
    .description('principals of this workspace')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withHomeOrServer(ctx, cmd, {
        local: async (h) => {
          await h.guard.require(h.principal, 'principal.manage');
          return (await h.principals.list(h.principal)).map((p) => ({ ...p, roles: [...p.roles] }));
        },
        remote: async (api) =>
          (
            await api.call<{
              users: { id: string; name: string; kind: string; roles: string[]; createdAt: string }[];
            }>('GET', '/v1/users')
          ).users,
      });
      if (globals(cmd).json) return printJson(io, { principals: list });
      println(
        io,
        table([
          ['NAME', 'KIND', 'ROLES', 'ID'],
          ...list.map((p) => [p.name, p.kind, p.roles.join(','), p.id]),
        ]),
      );
    });
  user
    .command('key')
    .description('issue a new API key for a principal; prints it once')
    .argument('<name>')
    .option('--until <time>', 'expires at this RFC 3339 time')
    .option('--for <duration>', 'expires after this ISO 8601 duration')
    .action(async (name: string, o: { until?: string; for?: string }, cmd: Command) => {
      const until = expiry(o, new Date());
      await withHome(ctx, cmd, async (h) => {
        const k = await h.principals.issueKey(h.principal, name, until ?? null);
        const out = { apiKey: k.key, apiKeyId: k.record.id, expiresAt: k.record.expiresAt };
        if (globals(cmd).json) return printJson(io, out);
        println(io, `API key ${out.apiKeyId} (shown once): ${out.apiKey}`);
      });
    });
  user
    .command('keys')
    .description('a principal’s API keys: ids, prefixes, expiry, revocation (never the keys)')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const keys = await withHomeOrServer(ctx, cmd, {
        local: async (h) =>
          (await h.principals.keys(h.principal, name)).map((k) => ({
            id: k.id,
            prefix: k.prefix,
            createdAt: k.createdAt,
            expiresAt: k.expiresAt,
            revokedAt: k.revokedAt,
          })),
        remote: async (api) =>
          (
            await api.call<{
              apiKeys: {
                id: string;
                prefix: string;
                createdAt: string;
                expiresAt: string | null;
                revokedAt: string | null;
              }[];
            }>('GET', `/v1/users/${encodeURIComponent(name)}/api-keys`)
          ).apiKeys,
      });
      if (globals(cmd).json) return printJson(io, { apiKeys: keys });
      println(
        io,
        table([
          ['KEY ID', 'PREFIX', 'CREATED', 'EXPIRES', 'REVOKED'],
          ...keys.map((k) => [
            k.id,
            `wbk_${k.prefix}_…`,
            k.createdAt,
            k.expiresAt ?? '-',
            k.revokedAt ?? '-',
          ]),
        ]),
      );
    });
  user
    .command('revoke-key')
    .description('revoke an API key at once (tokens issued for it stop working too)')
    .argument('<apiKeyId>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withHomeOrServer(ctx, cmd, {
        local: (h) => h.principals.revokeKey(h.principal, id),
        remote: (api) => api.call('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`),
      });
      if (globals(cmd).json) return printJson(io, { revoked: id });
      println(io, `API key ${id} revoked`);
    });

  const grant = program.command('grant').description('time-bound grants to request and run one definition');
  grant
    .command('add')
    .description('let a principal request and run a definition until a time')
    .requiredOption('--principal <name>', 'who')
    .requiredOption('--definition <name>', 'which definition')
    .option('--until <time>', 'until this RFC 3339 time')
    .option('--for <duration>', 'for this ISO 8601 duration (e.g. PT8H)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(
      async (
        o: { principal: string; definition: string; until?: string; for?: string; reason: string },
        cmd: Command,
      ) => {
        const until = expiry(o, new Date());
        if (until === undefined) throw usage('give --until TIME or --for DURATION: a grant always expires');
        const input = {
          principal: o.principal,
          definition: o.definition,
          expiresAt: until,
          reason: o.reason,
        };
        const g = await withHomeOrServer(ctx, cmd, {
          local: async (h) => {
            const r = await h.grants.add(h.principal, input);
            return {
              id: r.id,
              expiresAt: r.expiresAt,
              principalId: r.principalId,
              definition: r.definitionName,
            };
          },
          remote: (api) =>
            api.call<{ id: string; expiresAt: string; principalId: string; definition: string }>(
              'POST',
              '/v1/grants',
              input,
            ),
        });
        if (globals(cmd).json) return printJson(io, g);
        println(io, `grant ${g.id}: ${o.principal} may request and run ${o.definition} until ${g.expiresAt}`);
      },
    );
  grant
    .command('revoke')
    .description('revoke a grant at once')
    .argument('<grantId>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withHomeOrServer(ctx, cmd, {
        local: (h) => h.grants.revoke(h.principal, id),
        remote: (api) => api.call('DELETE', `/v1/grants/${encodeURIComponent(id)}`),
      });
      if (globals(cmd).json) return printJson(io, { revoked: id });
      println(io, `grant ${id} revoked`);
    });
  grant
    .command('list')
    .description('grants of this workspace, with whether each holds now')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withHomeOrServer(ctx, cmd, {
        local: async (h) => {
          await h.guard.require(h.principal, 'grant.manage');
          const now = Date.now();
          return (await h.grants.list(h.principal)).map((g) => ({
            id: g.id,
            principalId: g.principalId,
            definition: g.definitionName,
            expiresAt: g.expiresAt,
            revokedAt: g.revokedAt,
            active: g.revokedAt === null && Date.parse(g.expiresAt) > now,
          }));
        },
        remote: async (api) =>
          (
            await api.call<{
              grants: {
                id: string;
                principalId: string;
                definition: string;
                expiresAt: string;
                revokedAt: string | null;
                active?: boolean;
              }[];
            }>('GET', '/v1/grants')
          ).grants.map((g) => ({ ...g, active: g.active === true })),
      });
      if (globals(cmd).json) return printJson(io, { grants: list });
      println(
        io,
        table([
          ['GRANT', 'PRINCIPAL', 'DEFINITION', 'EXPIRES', 'ACTIVE'],
          ...list.map((g) => [g.id, g.principalId, g.definition, g.expiresAt, g.active ? 'yes' : 'no']),
        ]),
      );
    });

  const policy = program.command('policy').description('the Cedar policy set in force');
  policy
    .command('apply')
    .description('validate a Cedar policy file against the schema and make it the policy set in force')
    .argument('<file>')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const path = resolve(io.cwd, file);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `cannot read policy file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
          { cause: err },
        );
      }
      const r = await withHomeOrServer(ctx, cmd, {
        local: (h) => h.policies.apply(h.principal, text),
        remote: (api) => api.call<PolicyChange>('PUT', '/v1/policy', { text }),
      });
      printPolicyChange(io, globals(cmd).json === true, r);
    });
  policy
    .command('show')
    .description('the policy set in force (its Cedar text)')
    .option('--schema', 'print the Cedar schema policies are validated against instead')
    .option(
      '--default',
      'print this version’s built-in default policy set instead (to apply it after an upgrade)',
    )
    .action(async (o: { schema?: boolean; default?: boolean }, cmd: Command) => {
      if (o.default) {
        if (globals(cmd).json) return printJson(io, { text: DEFAULT_POLICY_SET });
        return void io.stdout.write(DEFAULT_POLICY_SET);
      }
      if (o.schema) {
        if (globals(cmd).json) return printJson(io, { schema: POLICY_SCHEMA });
        return void io.stdout.write(POLICY_SCHEMA);
      }
      const set = await withHomeOrServer(ctx, cmd, {
        local: (h) => h.policies.inForce(h.principal.workspace),
        remote: (api) =>
          api.call<{
            version: string;
            seq: number;
            text: string;
            appliedBy: string | null;
            appliedAt: string | null;
          }>('GET', '/v1/policy'),
      });
      if (globals(cmd).json) return printJson(io, set);
      io.stdout.write(set.text.endsWith('\n') ? set.text : set.text + '\n');
    });
  for (const decision of ['approve', 'reject'] as const) {
    policy
      .command(decision)
      .description(`${decision} a proposed policy change (never your own; once per person)`)
      .argument('<proposalId>')
      .requiredOption('--reason <text>', 'why (recorded in the audit log)')
      .action(async (id: string, o: { reason: string }, cmd: Command) => {
        const body = { decision, reason: o.reason };
        const r = await withHomeOrServer(ctx, cmd, {
          local: (h) => h.policies.decideProposal(h.principal, id, body),
          remote: (api) =>
            api.call<PolicyChange>('POST', `/v1/policy/proposals/${encodeURIComponent(id)}/approvals`, body),
        });
        printPolicyChange(io, globals(cmd).json === true, r);
      });
  }
  policy
    .command('proposals')
    .description(
      'policy changes waiting for approval (and decided ones); --show ID prints one with what it changes',
    )
    .option('--show <proposalId>', 'one proposal: its text, and the lines it adds and removes')
    .action(async (o: { show?: string }, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const json = globals(cmd).json === true;
        if (o.show !== undefined) {
          const p = await h.policies.proposal(h.principal, o.show);
          const { approvals, ...rest } = p;
          if (json)
            return printJson(io, { ...rest, approvals: approvals.map(({ approverId: _a, ...a }) => a) });
          println(io, `policy change ${p.id}: ${p.status} (on top of ${p.baseVersion})`);
          for (const line of lineDiff(p.baseText ?? '', p.text)) println(io, line);
          return;
        }
        const list = await h.policies.proposals(h.principal);
        if (json) {
          return printJson(io, {
            proposals: list.map(({ text: _t, approvals, ...p }) => ({
              ...p,
              approvals: approvals.map(({ approverId: _a, ...a }) => a),
            })),
          });
        }
        println(
          io,
          table([
            ['PROPOSAL', 'VERSION', 'STATUS', 'APPROVALS', 'CREATED'],
            ...list.map((p) => [
              p.id,
              p.version.slice(0, 19) + '…',
              p.status,
              String(p.approvals.length),
              p.createdAt,
            ]),
          ]),
        );
      });
    });
  policy
    .command('history')
    .description('every policy set applied, with who and when')
    .action(async (_o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const list = await h.policies.history(h.principal.workspace);
        if (globals(cmd).json) return printJson(io, { versions: list.map(({ text: _t, ...rest }) => rest) });
        println(
          io,
          table([
            ['SEQ', 'VERSION', 'APPLIED BY', 'AT'],
            ...list.map((p) => [String(p.seq), p.version, p.appliedBy, p.appliedAt]),
          ]),
        );
      });
    });
}

function printPolicyChange(io: Io, json: boolean, r: PolicyChange): void {
  if (json) return printJson(io, r);
  switch (r.status) {
    case 'applied':
      return println(io, `policy set ${r.version} applied (version ${r.seq ?? '?'})`);
    case 'unchanged':
      return println(io, `policy set ${r.version} is already in force`);
    case 'pending_approval':
      println(io, `policy change ${r.proposalId ?? ''} is pending approval (policy set ${r.version})`);
      for (const reason of r.reasons ?? []) println(io, `  - ${reason}`);
      return println(io, `  approve with: waybill policy approve ${r.proposalId ?? ''} --reason …`);
    case 'rejected':
      return println(io, `policy change ${r.proposalId ?? ''} rejected`);
    case 'superseded':
      return println(
        io,
        `policy change ${r.proposalId ?? ''} superseded: the policy in force changed since; propose it again`,
      );
  }
}

/** The lines of `next` not in `base` (`+ `) and of `base` not in `next` (`- `): what a change adds and removes. */
function lineDiff(base: string, next: string): string[] {
  const a = base.split('\n');
  const b = next.split('\n');
  const inA = new Set(a);
  const inB = new Set(b);
  return [
    ...a.filter((l) => !inB.has(l)).map((l) => `- ${l}`),
    ...b.filter((l) => !inA.has(l)).map((l) => `+ ${l}`),
  ];
}
