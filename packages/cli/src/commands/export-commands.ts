import type { Command } from 'commander';
import { WaybillError } from '@waybill/core';
import { printJson, println, table, usage } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { withInterrupts } from '../interrupts.js';
import { globals, withHome, type CommandContext } from './command-context.js';

export function registerExportCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const exp = program.command('export').description('run exports and inspect runs');
  exp
    .command('run')
    .description('run an export of a definition for a purpose (staged, validated, delivered, sealed)')
    .argument('<definition>', 'definition name')
    .requiredOption('--purpose <purpose>', 'one of the purposes the definition allows')
    .option('--at <version>', 'a specific definition version digest (default: latest)')
    .option('--batch-size <n>', 'rows per source batch', '2000')
    .option('--workers <n>', 'pipeline worker threads (default: one per core; 0 = none, least memory)')
    .action(
      async (
        name: string,
        o: { purpose: string; at?: string; batchSize: string; workers?: string },
        cmd: Command,
      ) => {
        if (!/^\d+$/.test(o.batchSize) || Number(o.batchSize) < 1 || Number(o.batchSize) > 1_000_000) {
          throw usage(`--batch-size must be an integer from 1 to 1000000, got "${o.batchSize}"`);
        }
        if (o.workers !== undefined && (!/^\d+$/.test(o.workers) || Number(o.workers) > 16)) {
          throw usage(`--workers must be an integer from 0 to 16, got "${o.workers}"`);
        }
        const g = globals(cmd);
        await withHome(ctx, cmd, async (h) => {
          // Drawn on stderr, shown only to a person: not with --json, not when stdout is piped.
          const bar = new ProgressBar(
            io.stderr,
            !g.json && io.stdout.isTTY === true && io.stderr.isTTY === true,
          );
          try {
            const version = o.at ? (await h.definitions.show(name, o.at)).version : undefined;
            const r = await withInterrupts((signal) =>
              h.exports.run({
                definition: name,
                purpose: o.purpose,
                requester: h.principal.name,
                actor: h.actor,
                batchSize: Number(o.batchSize),
                ...(o.workers !== undefined ? { workers: Number(o.workers) } : {}),
                ...(version !== undefined ? { version } : {}),
                signal,
                onProgress: (p) => bar.update(p),
              }),
            );
            bar.done();
            const out = {
              runId: r.run.id,
              status: r.run.status,
              definition: name,
              purpose: o.purpose,
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
