import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { WaybillError } from '@waybill/core';
import { printJson, println, table } from '../output.js';
import { globals, withHome, type CommandContext } from './command-context.js';

export function registerDefinitionCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const def = program.command('def').description('export definitions: apply, list, show, history, diff');
  def
    .command('apply')
    .description('validate a definition file and store it as a new immutable version')
    .argument('<file>', 'YAML file (apiVersion: waybill/v1, kind: ExportDefinition)')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        throw new WaybillError('ERR_WAYBILL_USAGE', `cannot read definition file ${file}`);
      }
      await withHome(ctx, cmd, async (h) => {
        await h.guard.require(h.principal, 'definition.apply');
        const r = await h.definitions.apply(text, file, h.principal.name, h.actor);
        const out = { name: r.record.name, version: r.record.version, seq: r.record.seq, changed: r.changed };
        if (globals(cmd).json) printJson(io, out);
        else
          println(
            io,
            r.changed
              ? `applied ${out.name} version ${out.seq} (${out.version})`
              : `${out.name} unchanged: version ${out.seq} (${out.version}) is already the latest`,
          );
      });
    });
  def
    .command('list')
    .description('the latest version of every definition')
    .action(async (_o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const list = (await h.definitions.list()).map((d) => ({
          name: d.name,
          version: d.version,
          seq: d.seq,
          owner: d.body.owner,
          appliedBy: d.appliedBy,
          appliedAt: d.appliedAt,
        }));
        if (globals(cmd).json) printJson(io, { definitions: list });
        else if (list.length === 0)
          println(io, 'no definitions yet; apply one with `waybill def apply FILE`');
        else
          println(
            io,
            table([
              ['NAME', 'VERSION', 'OWNER', 'APPLIED'],
              ...list.map((d) => [
                d.name,
                `${d.seq} ${d.version.slice(0, 19)}`,
                d.owner,
                `${d.appliedAt} by ${d.appliedBy}`,
              ]),
            ]),
          );
      });
    });
  def
    .command('show')
    .description('a definition as applied (latest, or --at VERSION)')
    .argument('<name>')
    .option('--at <version>', 'a version digest (or unique prefix) or @N (default: latest)')
    .action(async (name: string, o: { at?: string }, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const d = await h.definitions.show(name, o.at);
        if (globals(cmd).json)
          printJson(io, {
            name: d.name,
            version: d.version,
            seq: d.seq,
            appliedBy: d.appliedBy,
            appliedAt: d.appliedAt,
            definition: d.body,
          });
        else {
          println(
            io,
            `# ${d.name} version ${d.seq} (${d.version}), applied ${d.appliedAt} by ${d.appliedBy}`,
          );
          io.stdout.write(d.sourceText.endsWith('\n') ? d.sourceText : d.sourceText + '\n');
        }
      });
    });
  def
    .command('history')
    .description('every version of a definition, with who applied it and when')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const list = (await h.definitions.history(name)).map((d) => ({
          seq: d.seq,
          version: d.version,
          appliedBy: d.appliedBy,
          appliedAt: d.appliedAt,
        }));
        if (globals(cmd).json) printJson(io, { name, versions: list });
        else
          println(
            io,
            table([
              ['#', 'VERSION', 'APPLIED AT', 'BY'],
              ...list.map((d) => [String(d.seq), d.version, d.appliedAt, d.appliedBy]),
            ]),
          );
      });
    });
  def
    .command('diff')
    .description('field-level changes between two versions (default: previous → latest)')
    .argument('<name>')
    .argument('[from]', 'version (digest prefix or @N)')
    .argument('[to]', 'version (digest prefix or @N)')
    .action(
      async (name: string, from: string | undefined, to: string | undefined, _o: unknown, cmd: Command) => {
        await withHome(ctx, cmd, async (h) => {
          const d = await h.definitions.diff(name, from, to);
          if (globals(cmd).json)
            printJson(io, { name, from: d.from.version, to: d.to.version, changes: d.changes });
          else {
            println(io, `${name}: version ${d.from.seq} → ${d.to.seq}`);
            if (d.changes.length === 0) println(io, '  no changes');
            for (const c of d.changes) {
              const sign = c.kind === 'added' ? '+' : c.kind === 'removed' ? '-' : '~';
              const show = (v: unknown) => JSON.stringify(v);
              println(
                io,
                `  ${sign} ${c.path}${c.kind === 'changed' ? `: ${show(c.before)} → ${show(c.after)}` : c.kind === 'added' ? `: ${show(c.after)}` : `: ${show(c.before)}`}`,
              );
            }
          }
        });
      },
    );
}
