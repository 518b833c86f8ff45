import type { Command } from 'commander';
import { WaybillError } from '@waybill/core';
import { openHome, resolveHome, type HomeContext } from '../home.js';
import type { Io } from '../output.js';
import { ApiClient } from '../remote/api-client.js';

export interface CommandContext {
  readonly io: Io;
  readonly setExit: (code: number) => void;
}

export interface GlobalOptions {
  readonly home?: string;
  readonly json?: boolean;
  readonly server?: string;
}

/**
 * The API client when the command is to talk to a server (`--server URL`, else `$WAYBILL_SERVER`);
 * undefined to work on the local home.
 */
export function remoteApi(ctx: CommandContext, cmd: Command): ApiClient | undefined {
  const server = globals(cmd).server ?? (ctx.io.env['WAYBILL_SERVER'] || undefined);
  return server === undefined ? undefined : ApiClient.fromEnv(server, ctx.io.env);
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Opens the home named by the global options, runs `fn`, and always closes the store. */
export async function withHome<T>(
  ctx: CommandContext,
  cmd: Command,
  fn: (h: HomeContext) => Promise<T>,
): Promise<T> {
  if (globals(cmd).server !== undefined) {
    throw new WaybillError(
      'ERR_WAYBILL_USAGE',
      `\`waybill ${cmd.parent?.name() ?? ''} ${cmd.name()}\` works on the local home only; drop --server`.replace(
        'waybill  ',
        'waybill ',
      ),
    );
  }
  const h = await openHome(resolveHome(globals(cmd).home, ctx.io.env), ctx.io.env);
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

/**
 * Runs a command on the local home, or against the server of `--server` / `$WAYBILL_SERVER`: both go
 * through the same services and checks, one in this process, the other in the server's.
 */
export async function withHomeOrServer<T>(
  ctx: CommandContext,
  cmd: Command,
  how: { local: (h: HomeContext) => Promise<T>; remote: (api: ApiClient) => Promise<T> },
): Promise<T> {
  const api = remoteApi(ctx, cmd);
  return api ? how.remote(api) : withHome(ctx, cmd, how.local);
}
