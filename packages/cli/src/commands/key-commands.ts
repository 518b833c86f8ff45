import type { Command } from 'commander';
import { printJson, println, table, usage } from '../output.js';
import { globals, withHome, type CommandContext } from './command-context.js';
import { readPublicKeys, resolveHome } from '../home.js';
import { slug, WaybillError } from '@waybill/core';

export function registerKeyCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const keys = program.command('keys').description('signing and HMAC keys of the home');
  keys
    .command('public')
    .description('the current waybill signing public key')
    .action(async (_o: unknown, cmd: Command) => {
      // Public halves only: no master key needed.
      const g = globals(cmd);
      const all = await readPublicKeys(resolveHome(g.home, io.env), 'waybill-signing', io.env);
      const k = all.find((x) => x.current);
      if (!k)
        throw new WaybillError(
          'ERR_WAYBILL_KEY_NOT_FOUND',
          'this home has no waybill signing key; run `waybill init`',
        );
      const pem = k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      if (g.json) printJson(io, { keyId: k.keyId, pem });
      else io.stdout.write(pem);
    });
  keys
    .command('create-hmac')
    .description('create a named HMAC-SHA-256 key for hash_keyed transforms')
    .argument('<name>', 'the name definitions use (transform.key)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      if (!slug.safeParse(name).success)
        throw new WaybillError('ERR_WAYBILL_USAGE', `key name "${name}" must be a lowercase slug`);
      await withHome(ctx, cmd, async (h) => {
        await h.guard.require(h.principal, 'keys.rotate');
        const r = await h.keys.createHmacKey(name, h.actor);
        if (globals(cmd).json) printJson(io, { name, keyId: r.keyId });
        else println(io, `created HMAC key "${name}" (key id ${r.keyId})`);
      });
    });
  keys
    .command('rotate')
    .description('replace the log or waybill signing key; old public keys stay trusted for what they signed')
    .option('--log', 'rotate the audit log key')
    .option('--waybill', 'rotate the waybill signing key')
    .action(async (o: { log?: boolean; waybill?: boolean }, cmd: Command) => {
      if (!!o.log === !!o.waybill) throw usage('give exactly one of --log or --waybill');
      const purpose = o.log ? 'log-signing' : 'waybill-signing';
      await withHome(ctx, cmd, async (h) => {
        // The old log key signs one last checkpoint, so everything logged before is covered by it.
        if (o.log) await h.audit.checkpoint();
        await h.guard.require(h.principal, 'keys.rotate');
        const k = await h.keys.rotateSigningKey(purpose, h.actor);
        const out: Record<string, unknown> = { purpose, keyId: k.keyId };
        if (o.log) {
          // The rotation itself is signed at once by the new key.
          await h.audit.checkpoint();
          out['vkey'] = (await h.audit.verifierKeys())[0];
        }
        if (globals(cmd).json) printJson(io, out);
        else
          println(
            io,
            `rotated the ${purpose} key: new key id ${k.keyId}${o.log ? `\nnew log verifier key: ${String(out['vkey'])}` : ''}`,
          );
      });
    });
  keys
    .command('list')
    .description('keys of the home (ids and public halves only)')
    .action(async (_o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const list = (await h.keys.list()).map((k) => ({
          id: k.id,
          purpose: k.purpose,
          name: k.name,
          algorithm: k.algorithm,
          createdAt: k.createdAt,
          retiredAt: k.retiredAt,
        }));
        if (globals(cmd).json) printJson(io, { keys: list });
        else
          println(
            io,
            table([
              ['ID', 'PURPOSE', 'NAME', 'CREATED', 'RETIRED'],
              ...list.map((k) => [k.id, k.purpose, k.name, k.createdAt, k.retiredAt ?? '-']),
            ]),
          );
      });
    });
}
