import type { Command } from 'commander';
import { parseVerifierKey } from '@waybill/verify';
import {
  AuditLog,
  WaybillError,
  fsckAuditLog,
  systemClock,
  type AuditEntryRecord,
  type Store,
} from '@waybill/core';
import { checkpointFile, resolveHome, trustedLogKeys, withPublicStore } from '../home.js';
import { printJson, println, table, usage } from '../output.js';
import { globals, withHome, type CommandContext } from './command-context.js';

const INDEX = /^(0|[1-9]\d{0,15})$/;

function index(text: string, what: string): number {
  if (!INDEX.test(text)) throw usage(`${what} must be an entry index (0, 1, 2…), got "${text}"`);
  return Number(text);
}

/** The log over the store, for reading and proving only: no private key, no master key. */
function readOnlyLog(store: Store, home: string): AuditLog {
  const noSigning = (): never => {
    throw new WaybillError('ERR_WAYBILL_INTERNAL', 'this command reads the audit log; it cannot sign');
  };
  return new AuditLog({
    store,
    keys: { signingKey: noSigning, verificationKeys: noSigning },
    clock: systemClock,
    checkpointFile: checkpointFile(home),
    readOnly: true,
  });
}

/** An entry as `audit entry`, `tail` and `search` show it; the leaf and its hash in base64. */
function entryView(e: AuditEntryRecord): Record<string, unknown> {
  let event: unknown = null;
  if (e.event !== null) {
    try {
      event = JSON.parse(e.event);
    } catch {
      event = e.event; // not JSON (tampered): shown as stored; `audit verify` reports it
    }
  }
  return {
    index: e.index,
    type: e.type,
    time: e.time,
    actor: e.actor,
    workspace: e.workspace,
    redacted: e.event === null,
    event,
    salt: e.salt,
    leaf: Buffer.from(e.leaf, 'hex').toString('base64'),
    leafHash: Buffer.from(e.leafHash, 'hex').toString('base64'),
  };
}

function entryLines(entries: readonly AuditEntryRecord[]): string {
  return table([
    ['INDEX', 'TIME', 'TYPE', 'ACTOR', 'ABOUT'],
    ...entries.map((e) => {
      const view = entryView(e).event as { subjects?: unknown } | null;
      const subjects =
        e.event === null
          ? '(redacted)'
          : view && typeof view === 'object' && view.subjects && typeof view.subjects === 'object'
            ? Object.entries(view.subjects as Record<string, unknown>)
                .map(([k, v]) => `${k}=${String(v)}`)
                .join(' ')
            : '(unreadable event)';
      return [String(e.index), e.time, e.type, e.actor || '-', subjects];
    }),
  ]);
}

export function registerAuditCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const audit = program
    .command('audit')
    .description('the tamper-evident audit log: verify, checkpoints, entries, proofs, search, redaction');

  const printEntries = (cmd: Command, entries: readonly AuditEntryRecord[], none: string): void => {
    if (globals(cmd).json) printJson(io, { entries: entries.map(entryView) });
    else println(io, entries.length ? entryLines(entries) : none);
  };

  /** Runs `fn` over the home's store without the master key (offline checks need no principal). */
  const withLog = async <T>(cmd: Command, fn: (log: AuditLog, store: Store, home: string) => Promise<T>) => {
    const home = resolveHome(globals(cmd).home, io.env);
    return withPublicStore(home, io.env, (store) => fn(readOnlyLog(store, home), store, home));
  };

  audit
    .command('verify')
    .description('rehash the whole log and check it against every signed checkpoint (a full fsck)')
    .option(
      '--log-key <vkey>',
      "trust only this log verifier key (repeatable); default: the home's log keys, checked against the master key",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(async (o: { logKey?: string[] }, cmd: Command) => {
      for (const k of o.logKey ?? []) {
        try {
          parseVerifierKey(k);
        } catch {
          throw usage('--log-key must be a signed-note verifier key: name+keyid+base64(0x01 ‖ public key)');
        }
      }
      await withLog(cmd, async (log, store, home) => {
        let last = 0;
        // Which log keys to trust: pinned ones are best; else the store's, each checked against the
        // master key when it is here (a key planted in the store would let a forger re-sign history).
        const keyProblems: { index: null; message: string }[] = [];
        let keyTrust: 'pinned' | 'master-key' | 'unauthenticated' = 'pinned';
        let vkeys = o.logKey ?? [];
        if (o.logKey === undefined) {
          const trusted = await trustedLogKeys(home, io.env, store);
          keyTrust = trusted.trust;
          vkeys = trusted.vkeys;
          for (const id of trusted.planted) {
            keyProblems.push({
              index: null,
              message: `log key ${id} in the store is not the public half of a key sealed under this home's master key: it was planted, and is not trusted`,
            });
          }
        }
        const report = await fsckAuditLog({
          store,
          verifierKeys: vkeys,
          origin: await log.origin(),
          checkpointFile: checkpointFile(home),
          onProgress: (done, total) => {
            const now = Date.now();
            if (io.stderr.isTTY && !globals(cmd).json && now - last > 200) {
              last = now;
              io.stderr.write(`\rchecking the audit log: ${done} / ${total} entries`);
            }
          },
        });
        if (io.stderr.isTTY && last > 0) io.stderr.write('\r\x1b[K');
        const valid = report.valid && keyProblems.length === 0;
        const problems = [...keyProblems, ...report.problems];
        if (globals(cmd).json) {
          printJson(io, {
            valid,
            size: report.size,
            ...(report.firstBadIndex !== undefined ? { firstBadIndex: report.firstBadIndex } : {}),
            checkpoints: report.checkpoints,
            keys: keyTrust,
            problems,
          });
        } else if (valid) {
          println(
            io,
            `valid: ${report.size} entries rehashed; they match ${report.checkpoints} signed checkpoint(s) (latest of size ${report.latestCheckpointSize ?? 0})`,
          );
          if (keyTrust === 'unauthenticated')
            println(
              io,
              'note: no master key here, so the log keys were taken from the store unchecked; pin them with --log-key',
            );
        } else {
          println(
            io,
            `INVALID: the audit log is not intact${report.firstBadIndex !== undefined ? `; first bad entry: ${report.firstBadIndex}` : ''}`,
          );
          for (const p of problems) println(io, `  ${p.index !== null ? `#${p.index}: ` : ''}${p.message}`);
        }
        if (!valid) ctx.setExit(1);
      });
    });

  audit
    .command('checkpoint')
    .description('the latest signed checkpoint (a C2SP signed note)')
    .action(async (_o: unknown, cmd: Command) => {
      await withLog(cmd, async (log) => {
        const c = await log.latestCheckpoint();
        if (!c) throw new WaybillError('ERR_WAYBILL_NOT_FOUND', 'the audit log has no signed checkpoint yet');
        if (globals(cmd).json)
          printJson(io, {
            size: c.size,
            rootHash: Buffer.from(c.rootHash, 'hex').toString('base64'),
            note: c.note,
          });
        else io.stdout.write(c.note);
      });
    });

  audit
    .command('key')
    .description("the log's verifier key, in signed-note vkey form (name+keyid+base64(0x01 ‖ key))")
    .action(async (_o: unknown, cmd: Command) => {
      await withLog(cmd, async (log, store, home) => {
        await log.origin();
        const keys = (await trustedLogKeys(home, io.env, store)).vkeys;
        if (keys.length === 0)
          throw new WaybillError('ERR_WAYBILL_KEY_NOT_FOUND', 'this home has no log key; run `waybill init`');
        if (globals(cmd).json) printJson(io, { vkey: keys[0], all: keys });
        else println(io, keys[0]);
      });
    });

  audit
    .command('entry')
    .description('one entry; --raw writes the exact leaf bytes whose SHA-256(0x00 ‖ leaf) is its leaf hash')
    .argument('<index>', 'entry index (0-based)')
    .option('--raw', 'write the 32 leaf bytes to stdout')
    .action(async (i: string, o: { raw?: boolean }, cmd: Command) => {
      const n = index(i, 'INDEX');
      await withLog(cmd, async (log) => {
        const e = await log.entry(n);
        if (o.raw) io.stdout.write(Buffer.from(e.leaf, 'hex'));
        else printJson(io, entryView(e));
      });
    });

  audit
    .command('proof')
    .description('a C2SP tlog-proof@v1 for an entry against the checkpoint of size N (default: the latest)')
    .argument('<index>', 'entry index (0-based)')
    .option('--size <n>', 'tree size of a signed checkpoint')
    .action(async (i: string, o: { size?: string }, cmd: Command) => {
      const n = index(i, 'INDEX');
      const size = o.size === undefined ? undefined : index(o.size, '--size');
      await withLog(cmd, async (log) => {
        const proof = await log.proof(n, size);
        if (globals(cmd).json) printJson(io, { index: n, proof });
        else io.stdout.write(proof);
      });
    });

  audit
    .command('consistency')
    .description('an RFC 9162 consistency proof between two signed checkpoint sizes (NEW: the latest)')
    .argument('<old>', 'size of the older checkpoint')
    .argument('[new]', 'size of the newer checkpoint')
    .action(async (oldText: string, newText: string | undefined, _o: unknown, cmd: Command) => {
      const oldSize = index(oldText, 'OLD');
      const newSize = newText === undefined ? undefined : index(newText, 'NEW');
      await withLog(cmd, async (log) => {
        const r = await log.consistency(oldSize, newSize);
        const proof = r.proof.map((h) => h.toString('base64'));
        if (globals(cmd).json) printJson(io, { oldSize: r.oldSize, newSize: r.newSize, proof });
        else {
          println(io, `consistency ${r.oldSize} ${r.newSize}`);
          for (const h of proof) println(io, h);
        }
      });
    });

  audit
    .command('tail')
    .description('the latest entries')
    .option('-n, --lines <n>', 'how many', '20')
    .action(async (o: { lines: string }, cmd: Command) => {
      const limit = index(o.lines, '--lines');
      await withLog(cmd, async (_log, store) => {
        const entries = (await store.searchAuditEntries({ limit, descending: true })).reverse();
        printEntries(cmd, entries, 'the audit log is empty');
      });
    });

  audit
    .command('search')
    .description('entries by type, actor, time or run')
    .option('--type <type>', 'event type, e.g. run.sealed')
    .option('--actor <actor>', 'e.g. user:admin')
    .option('--since <time>', 'RFC 3339 time or date (UTC)')
    .option('--run <id>', 'a run id')
    .option('--limit <n>', 'at most this many', '100')
    .action(
      async (
        o: { type?: string; actor?: string; since?: string; run?: string; limit: string },
        cmd: Command,
      ) => {
        const limit = index(o.limit, '--limit');
        let since: string | undefined;
        if (o.since !== undefined) {
          const t = Date.parse(o.since);
          if (!/^\d{4}-\d{2}-\d{2}/.test(o.since) || Number.isNaN(t))
            throw usage(`--since must be an RFC 3339 time or a date (2026-01-31), got "${o.since}"`);
          since = new Date(t).toISOString();
        }
        await withLog(cmd, async (_log, store) => {
          const entries = await store.searchAuditEntries({
            limit,
            ...(o.type !== undefined ? { type: o.type } : {}),
            ...(o.actor !== undefined ? { actor: o.actor } : {}),
            ...(since !== undefined ? { since } : {}),
            ...(o.run !== undefined ? { runId: o.run } : {}),
          });
          printEntries(cmd, entries, 'no matching entries');
        });
      },
    );

  audit
    .command('redact')
    .description("erase an entry's event and salt (GDPR); its leaf stays, so every proof stays valid")
    .argument('<index>', 'entry index (0-based)')
    .requiredOption('--reason <text>', 'why (logged with the redaction)')
    .action(async (i: string, o: { reason: string }, cmd: Command) => {
      const n = index(i, 'INDEX');
      if (o.reason.trim() === '') throw usage('--reason must not be empty');
      await withHome(ctx, cmd, async (h) => {
        await h.guard.require(h.principal, 'audit.redact');
        const logged = await h.audit.redact(n, o.reason, h.actor, h.principal.workspace);
        if (globals(cmd).json) printJson(io, { index: n, redacted: true, redactionEntry: logged.index });
        else println(io, `redacted entry ${n}; the redaction is entry ${logged.index}`);
      });
    });
}
