import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { WaybillError, reversalJson, type ReversalJson, type RevealedItem } from '@waybill/core';
import { printJson, println, table, usage, type Io } from '../output.js';
import { globals, withHomeOrServer, type CommandContext } from './command-context.js';

/**
 * `waybill reversal …`: asking for the values behind tokens (`detokenize`) or Waybill encryption
 * (`decrypt`) — a separate, approvable action (docs/catalog.md, "Reversal").
 */
export function registerReversalCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const reversal = program
    .command('reversal')
    .description('give protected values back (detokenize, decrypt): requested, approved, revealed once');

  reversal
    .command('request')
    .description('ask for the values behind tokens or encrypted values; prints what approvals it needs')
    .argument('<kind>', 'detokenize | decrypt')
    .argument('[items...]', 'the tokens or encrypted values (or --from-file)')
    .option('--from-file <file>', 'read the items from a file, one per line')
    .option('--key <name>', 'decrypt: the key the values were encrypted under')
    .requiredOption('--justification <text>', 'why the values are needed (shown to approvers, logged)')
    .action(
      async (
        kind: string,
        given: string[],
        o: { fromFile?: string; key?: string; justification: string },
        cmd: Command,
      ) => {
        if (kind !== 'detokenize' && kind !== 'decrypt')
          throw usage(`the kind is detokenize or decrypt, got "${kind}"`);
        const items = [...given];
        if (o.fromFile !== undefined) {
          const path = resolve(io.cwd, o.fromFile);
          let text: string;
          try {
            text = await readFile(path, 'utf8');
          } catch (err) {
            throw new WaybillError(
              'ERR_WAYBILL_NOT_FOUND',
              `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
              { cause: err },
            );
          }
          items.push(
            ...text
              .split(/\r?\n/)
              .map((l) => l.trim())
              .filter((l) => l !== ''),
          );
        }
        if (items.length === 0) throw usage('give the items to reverse, as arguments or with --from-file');
        const body = {
          kind,
          items,
          justification: o.justification,
          ...(o.key !== undefined ? { key: o.key } : {}),
        } as const;
        const r = await withHomeOrServer(ctx, cmd, {
          local: async (h) => reversalJson(await h.reversals.request(h.principal, body)),
          remote: (api) => api.call<ReversalJson>('POST', '/v1/reversals', body),
        });
        printReversal(io, globals(cmd).json === true, r);
      },
    );

  for (const decision of ['approve', 'reject'] as const) {
    reversal
      .command(decision)
      .description(`${decision} a reversal request (never your own; once per person)`)
      .argument('<id>')
      .requiredOption('--reason <text>', 'why (recorded in the audit log)')
      .action(async (id: string, o: { reason: string }, cmd: Command) => {
        const body = { decision, reason: o.reason };
        const r = await withHomeOrServer(ctx, cmd, {
          local: async (h) => reversalJson(await h.reversals.decide(h.principal, id, body)),
          remote: (api) =>
            api.call<ReversalJson>('POST', `/v1/reversals/${encodeURIComponent(id)}/approvals`, body),
        });
        printReversal(io, globals(cmd).json === true, r);
      });
  }

  reversal
    .command('reveal')
    .description('the values of your approved reversal request, given back once')
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await withHomeOrServer(ctx, cmd, {
        local: async (h) => {
          const out = await h.reversals.reveal(h.principal, id);
          return { reversal: reversalJson(out.view), items: out.items };
        },
        remote: (api) =>
          api.call<{ reversal: ReversalJson; items: RevealedItem[] }>(
            'POST',
            `/v1/reversals/${encodeURIComponent(id)}/reveal`,
          ),
      });
      if (globals(cmd).json) return printJson(io, r);
      println(
        io,
        table([['ITEM', 'VALUE'], ...r.items.map((i) => [i.item, i.value ?? '(not in the vault)'])]),
      );
    });

  reversal
    .command('show')
    .description('one reversal request')
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await withHomeOrServer(ctx, cmd, {
        local: async (h) => reversalJson(await h.reversals.get(h.principal, id)),
        remote: (api) => api.call<ReversalJson>('GET', `/v1/reversals/${encodeURIComponent(id)}`),
      });
      printReversal(io, globals(cmd).json === true, r);
    });

  reversal
    .command('list')
    .description('reversal requests (all, for those who approve them; your own otherwise)')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withHomeOrServer(ctx, cmd, {
        local: async (h) => (await h.reversals.list(h.principal)).map(reversalJson),
        remote: async (api) =>
          (await api.call<{ reversals: ReversalJson[] }>('GET', '/v1/reversals')).reversals,
      });
      if (globals(cmd).json) return printJson(io, { reversals: list });
      println(
        io,
        table([
          ['REVERSAL', 'KIND', 'ITEMS', 'REQUESTER', 'STATUS', 'CREATED'],
          ...list.map((r) => [r.id, r.kind, String(r.count), r.requester, r.status, r.createdAt]),
        ]),
      );
    });
}

function printReversal(io: Io, json: boolean, r: ReversalJson): void {
  if (json) return printJson(io, r);
  println(
    io,
    `reversal ${r.id}: ${r.kind} of ${r.count} item${r.count === 1 ? '' : 's'}, ${r.status.replace('_', ' ')}`,
  );
  println(io, `  requested by ${r.requester}: ${r.justification}`);
  for (const a of r.approvals) println(io, `  ${a.decision}d by ${a.approver}: ${a.reason}`);
  for (const m of r.missing) println(io, `  needs ${m}`);
  if (r.status === 'pending_approval')
    println(io, `  approve with: waybill reversal approve ${r.id} --reason …`);
  if (r.status === 'approved') println(io, `  the requester reveals with: waybill reversal reveal ${r.id}`);
  if (r.status === 'denied')
    println(io, `  denied by policy ${r.policyIds.join(', ') || '(no policy permits it)'}`);
}
