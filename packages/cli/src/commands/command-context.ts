import type { Command } from 'commander';
import { openHome, resolveHome, type HomeContext } from '../home.js';
import type { Io } from '../output.js';

export interface CommandContext {
  readonly io: Io;
  readonly setExit: (code: number) => void;
}

export interface GlobalOptions {
  readonly home?: string;
  readonly json?: boolean;
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
  const h = await openHome(resolveHome(globals(cmd).home, ctx.io.env), ctx.io.env);
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}
