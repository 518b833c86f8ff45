import type { Command } from 'commander';
import { WaybillError } from '@waybill/core';
// The JSON shape alone: the HTTP server itself (Fastify…) is loaded only by `waybill serve`.
import { exportJson, type ExportJson } from '@waybill/server/export-json';
import { printJson, println, table, usage, type Io } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { withInterrupts } from '../interrupts.js';
import { globals, withHome, withHomeOrServer, type CommandContext } from './command-context.js';

export function registerExportCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const exp = program.command('export').description('run exports and inspect runs');
  exp
    .command('request')
    .description(
      'ask to export a definition for a purpose; the policy decides: approved, pending approval, or denied',
    )
    .argument('<definition>', 'definition name')
    .requiredOption(
      '--purpose <purpose>',
      'one of the purposes the definition allows (or `investigation`, for security)',
    )
    .option(
      '--justification <text>',
      'why; makes a request that policy denies an exception request (needs security + one more approval)',
    )
    .action(async (name: string, o: { purpose: string; justification?: string }, cmd: Command) => {
      const input = {
        definition: name,
        purpose: o.purpose,
        ...(o.justification !== undefined ? { justification: o.justification } : {}),
      };
      const v = await withHomeOrServer(ctx, cmd, {
        local: async (h) => exportJson(await h.requests.request(h.principal, input)),
        remote: (api) => api.call<ExportJson>('POST', '/v1/exports', input),
      });
      printExport(io, globals(cmd).json === true, v);
      if (v.status === 'denied') ctx.setExit(1);
    });
  for (const decision of ['approve', 'reject'] as const) {
    exp
      .command(decision)
      .description(`${decision} a pending export (never your own; once per person)`)
      .argument('<exportId>')
      .requiredOption('--reason <text>', 'why (recorded in the audit log and the waybill)')
      .action(async (id: string, o: { reason: string }, cmd: Command) => {
        const body = { decision, reason: o.reason };
        const v = await withHomeOrServer(ctx, cmd, {
          local: async (h) => exportJson(await h.requests.decide(h.principal, id, body)),
          remote: (api) =>
            api.call<ExportJson>('POST', `/v1/exports/${encodeURIComponent(id)}/approvals`, body),
        });
        printExport(io, globals(cmd).json === true, v);
      });
  }
  exp
    .command('cancel')
    .description('cancel a pending or approved export')
    .argument('<exportId>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const v = await withHomeOrServer(ctx, cmd, {
        local: async (h) => exportJson(await h.requests.cancel(h.principal, id)),
        remote: (api) => api.call<ExportJson>('POST', `/v1/exports/${encodeURIComponent(id)}/cancel`),
      });
      printExport(io, globals(cmd).json === true, v);
    });
  exp
    .command('status')
    .description(
      'an export request: status, approvals, what it still needs, its run (all requests without an id)',
    )
    .argument('[exportId]')
    .option('--investigations', 'only investigation requests (security and admins)')
    .action(async (id: string | undefined, o: { investigations?: boolean }, cmd: Command) => {
      const json = globals(cmd).json === true;
      if (id !== undefined) {
        const v = await withHomeOrServer(ctx, cmd, {
          local: async (h) => exportJson(await h.requests.get(h.principal, id)),
          remote: (api) => api.call<ExportJson>('GET', `/v1/exports/${encodeURIComponent(id)}`),
        });
        return printExport(io, json, v);
      }
      const list = await withHomeOrServer(ctx, cmd, {
        local: async (h) =>
          (await h.requests.list(h.principal, o.investigations ? { kind: 'investigation' } : {})).map(
            exportJson,
          ),
        remote: async (api) =>
          (
            await api.call<{ exports: ExportJson[] }>(
              'GET',
              `/v1/exports${o.investigations ? '?kind=investigation' : ''}`,
            )
          ).exports,
      });
      if (json) return printJson(io, { exports: list });
      println(
        io,
        table([
          ['EXPORT', 'DEFINITION', 'PURPOSE', 'KIND', 'STATUS', 'REQUESTER', 'CREATED'],
          ...list.map((v) => [v.id, v.definition, v.purpose, v.kind, v.status, v.requester, v.createdAt]),
        ]),
      );
    });
  exp
    .command('run')
    .description(
      'run an approved export by its id; or, given a definition and --purpose, request it and run it at once if the policy approves it without approvals',
    )
    .argument(
      '<exportIdOrDefinition>',
      'an export id (from `export request`), or a definition name with --purpose',
    )
    .option('--purpose <purpose>', 'with a definition name: the purpose to request it for')
    .option('--justification <text>', 'with a definition name: as for `export request`')
    .option('--batch-size <n>', 'rows per source batch', '2000')
    .option(
      '--workers <n>',
      'pipeline worker threads (default: one per core, none for app sources paged over their API; 0 = none, least memory)',
    )
    .action(
      async (
        target: string,
        o: { purpose?: string; justification?: string; batchSize: string; workers?: string },
        cmd: Command,
      ) => {
        if (!/^\d+$/.test(o.batchSize) || Number(o.batchSize) < 1 || Number(o.batchSize) > 1_000_000) {
          throw usage(`--batch-size must be an integer from 1 to 1000000, got "${o.batchSize}"`);
        }
        if (o.workers !== undefined && (!/^\d+$/.test(o.workers) || Number(o.workers) > 16)) {
          throw usage(`--workers must be an integer from 0 to 16, got "${o.workers}"`);
        }
        const byId = EXPORT_ID.test(target);
        if (byId && o.purpose !== undefined)
          throw usage('--purpose goes with a definition name, not an export id');
        if (!byId && o.purpose === undefined) {
          throw usage(
            `give --purpose to request "${target}" and run it, or an export id from \`waybill export request\``,
          );
        }
        const g = globals(cmd);
        const input = {
          definition: target,
          purpose: o.purpose!,
          ...(o.justification !== undefined ? { justification: o.justification } : {}),
        };
        const out = await withHomeOrServer(ctx, cmd, {
          local: async (h) => {
            const id = byId
              ? target
              : ensureApproved(exportJson(await h.requests.request(h.principal, input)));
            const prepared = await h.requests.prepareRun(h.principal, id);
            // Drawn on stderr, shown only to a person: not with --json, not when stdout is piped.
            const bar = new ProgressBar(
              io.stderr,
              !g.json && io.stdout.isTTY === true && io.stderr.isTTY === true,
            );
            try {
              const r = await withInterrupts((signal) =>
                prepared.execute({
                  batchSize: Number(o.batchSize),
                  ...(o.workers !== undefined ? { workers: Number(o.workers) } : {}),
                  signal,
                  onProgress: (p) => bar.update(p),
                }),
              );
              bar.done();
              return {
                exportId: id,
                runId: r.run.id,
                status: r.run.status,
                definition: r.run.definitionName,
                purpose: r.run.purpose,
                location: r.location,
                counts: r.predicate.counts,
              };
            } finally {
              bar.done();
            }
          },
          remote: async (api) => {
            const id = byId
              ? target
              : ensureApproved(await api.call<ExportJson>('POST', '/v1/exports', input));
            await api.call('POST', `/v1/exports/${encodeURIComponent(id)}/run`);
            // The server runs it; follow it until it is done.
            for (;;) {
              const v = await api.call<ExportJson>('GET', `/v1/exports/${encodeURIComponent(id)}`);
              if (v.status !== 'running') {
                if (v.status !== 'completed' || !v.waybill) {
                  throw new WaybillError(
                    'ERR_WAYBILL_RUN_FAILED',
                    `export ${id} ${v.status}${v.waybill ? ` (run ${v.waybill.runId}: ${v.waybill.status})` : ''}; see \`waybill export status ${id}\``,
                  );
                }
                return {
                  exportId: id,
                  runId: v.waybill.runId,
                  status: v.waybill.status,
                  definition: v.definition,
                  purpose: v.purpose,
                  location: v.waybill.location ?? '',
                  counts: v.waybill.counts ?? { read: 0, filtered: 0, written: v.waybill.rows ?? 0 },
                };
              }
              await new Promise((r) => setTimeout(r, 250));
            }
          },
        });
        if (g.json) printJson(io, out);
        else {
          println(
            io,
            `run ${out.runId} sealed: ${out.counts.written} rows written (${out.counts.read} read, ${out.counts.filtered} filtered)`,
          );
          println(io, `export: ${out.location}`);
        }
      },
    );
  exp
    .command('list')
    .description('recent runs')
    .option('--limit <n>', 'how many', '20')
    .action(async (o: { limit: string }, cmd: Command) => {
      if (!/^\d{1,5}$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > 10000) {
        throw usage(`--limit must be an integer from 1 to 10000, got "${o.limit}"`);
      }
      await withHome(ctx, cmd, async (h) => {
        const runs = await h.store.listRuns('default', { limit: Number(o.limit) });
        if (globals(cmd).json) printJson(io, { runs });
        else
          println(
            io,
            table([
              ['RUN', 'DEFINITION', 'STATUS', 'ROWS', 'CREATED'],
              ...runs.map((r) => [
                r.id,
                r.definitionName,
                r.status,
                String(r.counts?.written ?? '-'),
                r.createdAt,
              ]),
            ]),
          );
      });
    });
  exp
    .command('show')
    .description('one run with its state transitions')
    .argument('<runId>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const run = await h.store.getRun('default', id);
        if (!run)
          throw new WaybillError('ERR_WAYBILL_NOT_FOUND', `no run "${id}"; see \`waybill export list\``);
        const transitions = await h.store.runTransitions(id);
        if (globals(cmd).json) printJson(io, { ...run, transitions });
        else {
          println(
            io,
            `run ${run.id}: ${run.status}${run.errorCode ? ` (${run.errorCode}: ${run.errorMessage})` : ''}`,
          );
          println(
            io,
            `definition ${run.definitionName} ${run.definitionVersion}, purpose ${run.purpose}, requester ${run.requester}`,
          );
          if (run.location) println(io, `export: ${run.location}`);
          for (const t of transitions)
            println(io, `  ${t.at}  ${t.status}${t.detail ? `  ${t.detail}` : ''}`);
        }
      });
    });
}

const EXPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The export's id if it is approved; otherwise why not, as the error the run would be refused with. */
function ensureApproved(v: ExportJson): string {
  if (v.status === 'denied') {
    const purpose = v.reasons.find((r) => r.startsWith('purpose "'));
    if (purpose)
      throw new WaybillError('ERR_WAYBILL_PURPOSE_NOT_ALLOWED', `${purpose} (export ${v.id} denied)`);
    throw new WaybillError('ERR_WAYBILL_POLICY_DENIED', `export ${v.id} denied: ${v.reasons.join('; ')}`);
  }
  if (v.status !== 'approved') {
    throw new WaybillError(
      'ERR_WAYBILL_NOT_APPROVED',
      `export ${v.id} is pending approval: ${v.reasons.join('; ')}; an approver runs \`waybill export approve ${v.id} --reason …\`, then run \`waybill export run ${v.id}\``,
    );
  }
  return v.id;
}

function printExport(io: Io, json: boolean, v: ExportJson): void {
  if (json) return printJson(io, v);
  println(io, `export ${v.id}: ${v.status.replace('_', ' ')}`);
  println(io, `  ${v.definition} for ${v.purpose} (${v.kind}), requested by ${v.requester}`);
  for (const reason of v.reasons) println(io, `  - ${reason}`);
  if (v.policy.policyIds.length > 0) println(io, `  policy: ${v.policy.policyIds.join(', ')}`);
  for (const a of v.approvals) {
    println(
      io,
      `  ${a.decision}d by ${a.approver} at ${a.at}${a.valid || a.decision === 'reject' ? '' : ' (no longer valid)'}: ${a.reason}`,
    );
  }
  if (v.waybill)
    println(
      io,
      `  run ${v.waybill.runId}: ${v.waybill.status}${v.waybill.location ? ` → ${v.waybill.location}` : ''}`,
    );
  if (v.status === 'pending_approval')
    println(io, `  approve with: waybill export approve ${v.id} --reason …`);
  if (v.status === 'approved') println(io, `  run with: waybill export run ${v.id}`);
}
