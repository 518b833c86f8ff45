import type { Command } from 'commander';
import { printJson, println, usage } from '../output.js';
import { globals, remoteApi, type CommandContext } from './command-context.js';

/**
 * `waybill --server URL login`: exchanges the API key in `WAYBILL_API_KEY` for an access token and says
 * who it belongs to. With `--json` it prints the token, for scripts (`WAYBILL_TOKEN=…`) and other HTTP
 * clients; each other command with `--server` logs in by itself.
 */
export function registerLoginCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  program
    .command('login')
    .description('with --server: exchange WAYBILL_API_KEY for an access token and show who you are')
    .action(async (_o: unknown, cmd: Command) => {
      const api = remoteApi(ctx, cmd);
      if (!api) throw usage('login talks to a server: give --server URL (or set WAYBILL_SERVER)');
      const token = await api.login();
      const me = await api.call<{
        id: string;
        name: string;
        kind: string;
        workspace: string;
        roles: string[];
      }>('GET', '/v1/me');
      if (globals(cmd).json) return printJson(io, { ...token, principal: me, server: api.baseUrl });
      println(
        io,
        `logged in to ${api.baseUrl} as ${me.kind}:${me.name} (${me.roles.join(', ')}) in workspace ${me.workspace}`,
      );
      println(
        io,
        `access token valid until ${token.expiresAt} (print it with --json; use it as WAYBILL_TOKEN)`,
      );
    });
}
