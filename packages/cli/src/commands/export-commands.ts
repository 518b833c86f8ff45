import type { Command } from 'commander';
import { WaybillError, type ExportView } from '@waybill/core';
import { printJson, println, table, usage, type Io } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { withInterrupts } from '../interrupts.js';
import { globals, withHome, type CommandContext } from './command-context.js';

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
      await withHome(ctx, cmd, async (h) => {
        const v = await h.requests.request(h.principal, {
          definition: name,
          purpose: o.purpose,
          ...(o.justification !== undefined ? { justification: o.justification } : {}),
        });
        printExport(io, globals(cmd).json === true, v);
        if (v.request.status === 'denied') ctx.setExit(1);
      });
    });
  for (const decision of ['approve', 'reject'] as const) {
    exp
      .command(decision)
      .description(`${decision} a pending export (never your own; once per person)`)
      .argument('<exportId>')
      .requiredOption('--reason <text>', 'why (recorded in the audit log and the waybill)')
      .action(async (id: string, o: { reason: string }, cmd: Command) => {
        await withHome(ctx, cmd, async (h) => {
          const v = await h.requests.decide(h.principal, id, { decision, reason: o.reason });
          printExport(io, globals(cmd).json === true, v);
        });
      });
  }
  exp
    .command('cancel')
    .description('cancel a pending or approved export')
    .argument('<exportId>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        printExport(io, globals(cmd).json === true, await h.requests.cancel(h.principal, id));
      });
    });
  exp
    .command('status')
    .description(
      'an export request: status, approvals, what it still needs, its run (all requests without an id)',
    )
    .argument('[exportId]')
    .option('--investigations', 'only investigation requests (security and admins)')
    .action(async (id: string | undefined, o: { investigations?: boolean }, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const json = globals(cmd).json === true;
        if (id !== undefined) return printExport(io, json, await h.requests.get(h.principal, id));
        const list = await h.requests.list(h.principal, o.investigations ? { kind: 'investigation' } : {});
        if (json) return printJson(io, { exports: list.map(exportJson) });
        println(
          io,
          table([
            ['EXPORT', 'DEFINITION', 'PURPOSE', 'KIND', 'STATUS', 'REQUESTER', 'CREATED'],
            ...list.map((v) => [
              v.request.id,
              v.request.definitionName,
              v.request.purpose,
              v.request.kind,
              v.request.status,
              v.requester,
              v.request.createdAt,
            ]),
          ]),
        );
      });
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
    .option('--workers <n>', 'pipeline worker threads (default: one per core; 0 = none, least memory)')
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
        await withHome(ctx, cmd, async (h) => {
          let id = target;
          if (!byId) {
            const v = await h.requests.request(h.principal, {
              definition: target,
              purpose: o.purpose!,
              ...(o.justification !== undefined ? { justification: o.justification } : {}),
            });
            id = v.request.id;
            if (v.request.status === 'denied') {
              throw new WaybillError(
                'ERR_WAYBILL_POLICY_DENIED',
                `export ${id} denied: ${v.request.reasons.join('; ')}`,
              );
            }
            if (v.request.status !== 'approved') {
              throw new WaybillError(
                'ERR_WAYBILL_NOT_APPROVED',
                `export ${id} is pending approval: ${v.request.reasons.join('; ')}; an approver runs \`waybill export approve ${id} --reason …\`, then run \`waybill export run ${id}\``,
              );
            }
          }
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
            const out = {
              exportId: id,
              runId: r.run.id,
              status: r.run.status,
              definition: r.run.definitionName,
              purpose: r.run.purpose,
              location: r.location,
              counts: r.predicate.counts,
            };
            if (g.json) printJson(io, out);
            else {
              println(
                io,
                `run ${out.runId} sealed: ${out.counts.written} rows written (${out.counts.read} read, ${out.counts.filtered} filtered)`,
              );
              println(io, `export: ${out.location}`);
            }
          } finally {
            bar.done();
          }
        });
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

/** An export request as `--json` prints it (the HTTP API's shape). */
export function exportJson(v: ExportView): Record<string, unknown> {
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
    reasons: r.reasons,
    requirements: r.requirements,
    policy: r.decision,
    approvals: v.approvals.map((a) => ({
      approver: a.approver,
      decision: a.decision,
      roles: a.roles,
      reason: a.reason,
      at: a.createdAt,
      expiresAt: a.expiresAt,
      valid: a.valid,
    })),
    runId: r.runId,
    ...(v.run ? { run: { id: v.run.id, status: v.run.status, location: v.run.location } } : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function printExport(io: Io, json: boolean, v: ExportView): void {
  if (json) return printJson(io, exportJson(v));
  const r = v.request;
  println(io, `export ${r.id}: ${r.status.replace('_', ' ')}`);
  println(io, `  ${r.definitionName} for ${r.purpose} (${r.kind}), requested by ${v.requester}`);
  for (const reason of r.reasons) println(io, `  - ${reason}`);
  if (r.decision.policyIds.length > 0) println(io, `  policy: ${r.decision.policyIds.join(', ')}`);
  for (const a of v.approvals) {
    println(
      io,
      `  ${a.decision}d by ${a.approver} at ${a.createdAt}${a.valid || a.decision === 'reject' ? '' : ' (no longer valid)'}: ${a.reason}`,
    );
  }
  if (v.run) println(io, `  run ${v.run.id}: ${v.run.status}${v.run.location ? ` → ${v.run.location}` : ''}`);
  if (r.status === 'pending_approval')
    println(io, `  approve with: waybill export approve ${r.id} --reason …`);
  if (r.status === 'approved') println(io, `  run with: waybill export run ${r.id}`);
}
