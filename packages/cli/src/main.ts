import { Command, CommanderError, Option } from 'commander';
import { WaybillError } from '@waybill/core';
import type { Io } from './output.js';
import { registerInitCommands } from './commands/init-commands.js';
import { registerDefinitionCommands } from './commands/definition-commands.js';
import { registerConnectionCommands } from './commands/connection-commands.js';
import { registerExportCommands } from './commands/export-commands.js';
import { registerKeyCommands } from './commands/key-commands.js';
import { registerVerifyCommand } from './commands/verify-command.js';
import { registerAuditCommands } from './commands/audit-commands.js';
import { registerGovernanceCommands } from './commands/governance-commands.js';
import { registerServeCommand } from './commands/serve-command.js';
import { registerLoginCommand } from './commands/login-command.js';
import { registerCatalogCommands } from './commands/catalog-commands.js';
import { registerNotifyCommands } from './commands/notify-commands.js';
import { registerReversalCommands } from './commands/reversal-commands.js';
import { registerEgressCommands } from './commands/egress-commands.js';
import { registerSecretsCommands } from './commands/secrets-commands.js';

/** Exit codes (CONTRACT.md): 0 success, 1 refused / does not hold, 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
export const VERSION = '0.1.0';

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('waybill')
    .description('Governed, signed, verifiable exports out of no-code apps')
    .addOption(new Option('--home <dir>', 'the Waybill home (default: $WAYBILL_HOME, else ./.waybill)'))
    .option('--json', 'print one JSON document on stdout and nothing else')
    .addOption(
      new Option(
        '--server <url>',
        'talk to a Waybill server instead of the local home (default: $WAYBILL_SERVER)',
      ),
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's own usage errors become the one-line contract format.
      outputError: (s) =>
        io.stderr.write(`waybill: ERR_WAYBILL_USAGE: ${s.replace(/^error: /, '').trim()}\n`),
    });
  program.enablePositionalOptions(false);
  const ctx = { io, setExit };
  registerInitCommands(program, ctx);
  registerVerifyCommand(program, ctx);
  registerKeyCommands(program, ctx);
  registerDefinitionCommands(program, ctx);
  registerConnectionCommands(program, ctx);
  registerExportCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerGovernanceCommands(program, ctx);
  registerServeCommand(program, ctx);
  registerLoginCommand(program, ctx);
  registerCatalogCommands(program, ctx);
  registerNotifyCommands(program, ctx);
  registerReversalCommands(program, ctx);
  registerEgressCommands(program, ctx);
  registerSecretsCommands(program, ctx);
  for (const c of program.commands) {
    c.exitOverride();
    // A command group called without its subcommand is a usage error with one line, not a help dump.
    if (c.commands.length > 0) {
      const names = c.commands.map((s) => s.name()).join(', ');
      c.action(() => {
        throw new WaybillError(
          'ERR_WAYBILL_USAGE',
          `waybill ${c.name()} needs a subcommand: ${names} (see --help)`,
        );
      });
    }
  }
  return program;
}

/** Runs the CLI; returns the exit code. Never throws, never prints a stack trace (unless WAYBILL_DEBUG=1). */
export async function main(argv: readonly string[], io?: Partial<Io>): Promise<number> {
  const full: Io = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
  };
  // The version is answered only as the whole command line, so `--version` can never shadow an option.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    full.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  let exit = EXIT_OK;
  const json = argv.includes('--json');
  const program = buildProgram(full, (c) => (exit = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return EXIT_OK;
      // A command group called without its subcommand: help was shown, but it is still a usage error.
      if (json) {
        const message = oneLine(err.message.replace(/^error: /, ''));
        full.stdout.write(JSON.stringify({ error: { code: 'ERR_WAYBILL_USAGE', message } }) + '\n');
      }
      return EXIT_USAGE;
    }
    if (err instanceof WaybillError) {
      full.stderr.write(`waybill: ${err.code}: ${oneLine(err.message)}\n`);
      // With --json, stdout still carries one JSON document: the error, in the HTTP API's shape.
      if (json)
        full.stdout.write(
          JSON.stringify({ error: { code: err.code, message: oneLine(err.message) } }) + '\n',
        );
      if (full.env['WAYBILL_DEBUG'] === '1' && err.cause instanceof Error)
        full.stderr.write(`${err.cause.stack ?? ''}\n`);
      return err.code === 'ERR_WAYBILL_USAGE' ? EXIT_USAGE : EXIT_REFUSED;
    }
    const message = oneLine((err as Error)?.message ?? String(err));
    full.stderr.write(`waybill: ERR_WAYBILL_INTERNAL: ${message}\n`);
    if (json) full.stdout.write(JSON.stringify({ error: { code: 'ERR_WAYBILL_INTERNAL', message } }) + '\n');
    if (full.env['WAYBILL_DEBUG'] === '1') full.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT_REFUSED;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
