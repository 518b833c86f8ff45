import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { WaybillError, toContract, type TableScan } from '@waybill/core';
import { withInterrupts } from '../interrupts.js';
import { printJson, println, table, usage, type Io } from '../output.js';
import { globals, withHome, type CommandContext } from './command-context.js';

function printScan(io: Io, s: TableScan): void {
  println(io, `${s.connection}/${s.table}: ${s.rows} rows sampled`);
  println(
    io,
    table([
      ['COLUMN', 'FINDINGS', 'EMBEDDED', 'PROPOSED', 'EXAMPLE (masked)'],
      ...s.columns.map((c) => [
        c.column,
        c.findings.map((f) => `${f.kind} ${Math.round(f.confidence * 100)}%`).join(', ') || '-',
        Object.entries(c.embedded)
          .map(([k, n]) => `${k}×${n}`)
          .join(', ') || '-',
        c.likelyPii ? `${c.proposed.sensitivity} (${c.proposed.piiKind})` : c.proposed.sensitivity,
        c.examples[0] ?? '',
      ]),
    ]),
  );
}

export function registerCatalogCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const catalog = program
    .command('catalog')
    .description(
      'what each field of a source is: scans, classifications, Open Data Contract Standard documents',
    );
  catalog
    .command('scan')
    .description(
      'sample a source’s tables, run the PII detectors, and propose a classification per field (values are only ever shown masked)',
    )
    .argument('<connection>', 'a source connection')
    .option('--table <table>', 'one table (default: every table of the source)')
    .option('--sample <n>', 'rows to sample per table', '1000')
    .option(
      '--propose',
      'print the proposed classifications as an ODCS v3 contract to edit and `catalog apply`',
    )
    .action(
      async (connection: string, o: { table?: string; sample: string; propose?: boolean }, cmd: Command) => {
        if (!/^\d{1,6}$/.test(o.sample) || Number(o.sample) < 1 || Number(o.sample) > 100_000) {
          throw usage(`--sample must be a number of rows from 1 to 100000, got "${o.sample}"`);
        }
        await withHome(ctx, cmd, async (h) => {
          const scans = await withInterrupts((signal) =>
            h.catalog.scan(h.principal, connection, {
              sample: Number(o.sample),
              signal,
              ...(o.table !== undefined ? { table: o.table } : {}),
            }),
          );
          if (o.propose) {
            const at = new Date().toISOString();
            const contract = toContract(
              connection,
              scans.map((sc) => ({
                workspace: h.principal.workspace,
                connection,
                table: sc.table,
                seq: 0,
                version: 'proposed',
                appliedBy: 'scan',
                appliedAt: at,
                fields: Object.fromEntries(
                  sc.columns.map((c) => [
                    c.column,
                    {
                      sensitivity: c.proposed.sensitivity,
                      ...(c.proposed.piiKind ? { piiKind: c.proposed.piiKind } : {}),
                    },
                  ]),
                ),
              })),
            );
            if (globals(cmd).json) return printJson(io, { contract });
            return void io.stdout.write(contract);
          }
          if (globals(cmd).json) return printJson(io, { scans });
          scans.forEach((s, i) => {
            if (i > 0) println(io);
            printScan(io, s);
          });
          println(io);
          println(
            io,
            `to classify: waybill catalog scan ${connection} --propose > contract.yaml, review it, then waybill catalog apply contract.yaml`,
          );
        });
      },
    );
  catalog
    .command('apply')
    .description(
      'store the classifications of an Open Data Contract Standard v3 document (a new version per changed table)',
    )
    .argument('<file>', 'the contract (YAML)')
    .option(
      '--connection <name>',
      'the source connection, when the contract does not name it (custom property waybillConnection)',
    )
    .action(async (file: string, o: { connection?: string }, cmd: Command) => {
      const path = resolve(io.cwd, file);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        throw new WaybillError(
          'ERR_WAYBILL_NOT_FOUND',
          `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
          {
            cause: err,
          },
        );
      }
      await withHome(ctx, cmd, async (h) => {
        const r = await h.catalog.apply(h.principal, text, file, o.connection);
        if (globals(cmd).json) return printJson(io, { tables: r });
        for (const t of r) {
          println(
            io,
            t.changed
              ? `${t.connection}/${t.table}: version ${t.seq} (${t.version})`
              : `${t.connection}/${t.table} unchanged: version ${t.seq} is already this`,
          );
        }
      });
    });
  catalog
    .command('export')
    .description('the latest classifications of a source as an Open Data Contract Standard v3 document')
    .argument('<connection>')
    .action(async (connection: string, _o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const yaml = await h.catalog.exportContract(h.principal, connection);
        if (globals(cmd).json) return printJson(io, { contract: yaml });
        io.stdout.write(yaml);
      });
    });
  catalog
    .command('show')
    .description('the classified fields of a source (or one table)')
    .argument('<connection>')
    .argument('[table]')
    .action(async (connection: string, tableName: string | undefined, _o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const list = (await h.catalog.list(h.principal, connection)).filter(
          (t) => tableName === undefined || t.table === tableName,
        );
        if (globals(cmd).json) return printJson(io, { tables: list });
        if (list.length === 0) {
          throw new WaybillError(
            'ERR_WAYBILL_NOT_FOUND',
            `nothing of ${connection}${tableName ? `/${tableName}` : ''} is catalogued; see \`waybill catalog scan ${connection}\``,
          );
        }
        for (const t of list) {
          println(
            io,
            `${t.connection}/${t.table}: version ${t.seq} (${t.version}), by ${t.appliedBy} at ${t.appliedAt}`,
          );
          println(
            io,
            table([
              ['FIELD', 'SENSITIVITY', 'PII', 'RETENTION', 'REGULATIONS', 'PURPOSES'],
              ...Object.entries(t.fields).map(([c, f]) => [
                c,
                f.sensitivity,
                f.piiKind ?? '-',
                f.retention ?? '-',
                (f.regulations ?? []).join(',') || '-',
                (f.purposes ?? []).join(',') || 'any',
              ]),
            ]),
          );
        }
      });
    });
  catalog
    .command('history')
    .description('every version of a table’s classifications')
    .argument('<connection>')
    .argument('<table>')
    .action(async (connection: string, tableName: string, _o: unknown, cmd: Command) => {
      await withHome(ctx, cmd, async (h) => {
        const list = await h.catalog.history(h.principal, connection, tableName);
        if (globals(cmd).json) return printJson(io, { versions: list });
        println(
          io,
          table([
            ['#', 'VERSION', 'APPLIED BY', 'AT'],
            ...list.map((v) => [String(v.seq), v.version, v.appliedBy, v.appliedAt]),
          ]),
        );
      });
    });
}
