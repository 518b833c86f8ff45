import type { Command } from 'commander';
import { printJson, println, table } from '../output.js';
import { globals, withHome, type CommandContext } from './command-context.js';

/** `waybill egress allow | list | remove`: the hosts network destinations may reach. */
export function registerEgressCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const egress = program
    .command('egress')
    .description('the egress allowlist: the hosts network destinations (https) may reach');
  egress
    .command('allow')
    .description('let destinations reach a host: name, *.domain, IPv4 or [IPv6], with an optional :port')
    .argument('<pattern>')
    .option('--private', 'also when it is (or resolves to) a loopback, private or link-local address')
    .action(async (pattern: string, o: { private?: boolean }, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const rule = await h.egress.allow(h.principal, pattern, { allowPrivate: o.private === true });
        if (globals(cmd).json) return printJson(io, rule);
        println(
          io,
          `egress to ${rule.pattern} allowed${rule.allowPrivate ? ' (private addresses too)' : ''}`,
        );
      });
    });
  egress
    .command('list')
    .description('the allowlist')
    .action(async (_o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const rules = await h.egress.list(h.principal);
        if (globals(cmd).json) return printJson(io, { rules });
        if (rules.length === 0)
          return println(
            io,
            'no egress allowed; network destinations are refused until you `waybill egress allow HOST`',
          );
        println(
          io,
          table([
            ['PATTERN', 'PRIVATE', 'BY', 'AT'],
            ...rules.map((r) => [
              r.pattern,
              r.allowPrivate ? 'yes' : 'no',
              r.createdBy ?? '',
              r.createdAt ?? '',
            ]),
          ]),
        );
      });
    });
  egress
    .command('remove')
    .description('take a host off the allowlist')
    .argument('<pattern>')
    .action(async (pattern: string, _o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        await h.egress.remove(h.principal, pattern);
        if (globals(cmd).json) return printJson(io, { removed: pattern });
        println(io, `egress to ${pattern} removed`);
      });
    });
}
