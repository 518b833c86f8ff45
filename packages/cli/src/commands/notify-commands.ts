import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { WebhookNotifier } from '@waybill/connectors';
import type { HomeConfig } from '../home.js';
import { printJson, println, usage } from '../output.js';
import { globals, withHome, type CommandContext } from './command-context.js';

async function writeConfig(home: string, config: HomeConfig): Promise<void> {
  // Written whole and renamed into place: a crash never leaves half a configuration.
  const tmp = join(home, `config.json.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, join(home, 'config.json'));
}

/** `waybill notify`: where owners hear about runs that a validation gate stopped. */
export function registerNotifyCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const notify = program
    .command('notify')
    .description(
      'where owners are told about runs a validation gate stopped (always HOME/notifications.log)',
    );
  notify
    .command('webhook')
    .description(
      'also POST each notice to this webhook (JSON, signed with HMAC-SHA-256 when a secret is given)',
    )
    .argument('<url>', 'https:// (plain http only on this machine)')
    .option('--secret-env <var>', 'read the signing secret from this environment variable when notifying')
    .action(async (url: string, o: { secretEnv?: string }, cmd: Command) => {
      try {
        new WebhookNotifier({ url });
      } catch (err) {
        throw usage(`${(err as Error).message}, got "${url}"`);
      }
      if (o.secretEnv !== undefined && !/^[A-Z_][A-Z0-9_]*$/.test(o.secretEnv)) {
        throw usage(`--secret-env must name an environment variable (A-Z, 0-9, _), got "${o.secretEnv}"`);
      }
      await withHome(ctx, cmd, async (h) => {
        await h.guard.require(h.principal, 'connection.manage');
        const config = JSON.parse(await readFile(join(h.home, 'config.json'), 'utf8')) as HomeConfig;
        const webhook = { url, ...(o.secretEnv !== undefined ? { secretEnv: o.secretEnv } : {}) };
        await writeConfig(h.home, { ...config, notifications: { ...config.notifications, webhook } });
        await h.audit.appendNow({
          type: 'notifications.changed',
          actor: h.actor,
          workspace: h.principal.workspace,
          details: { webhook: new URL(url).origin, signed: o.secretEnv !== undefined },
        });
        if (globals(cmd).json) return printJson(io, { webhook });
        println(
          io,
          `notices also go to ${new URL(url).origin}${o.secretEnv ? `, signed with $${o.secretEnv}` : ''}`,
        );
      });
    });
  notify
    .command('off')
    .description('stop posting to the webhook (the log file stays)')
    .action(async (_o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        await h.guard.require(h.principal, 'connection.manage');
        const config = JSON.parse(await readFile(join(h.home, 'config.json'), 'utf8')) as HomeConfig;
        const rest: Record<string, unknown> = { ...config };
        delete rest['notifications'];
        await writeConfig(h.home, rest as unknown as HomeConfig);
        await h.audit.appendNow({
          type: 'notifications.changed',
          actor: h.actor,
          workspace: h.principal.workspace,
          details: { webhook: null },
        });
        if (globals(cmd).json) return printJson(io, { webhook: null });
        println(io, 'notices go to the log file only');
      });
    });
}
