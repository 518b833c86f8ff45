import type { Command } from 'commander';
import { WaybillError } from '@waybill/core';
import { homeExists, initHome, resolveHome } from '../home.js';
import { printJson, println } from '../output.js';
import { globals, type CommandContext } from './command-context.js';

export function registerInitCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  program
    .command('init')
    .description('create a home: store, signing key, log key, master key, bootstrap admin')
    .option('--store <url>', 'use a PostgreSQL store (postgres://…) instead of the embedded SQLite one')
    .action(async (opts: { store?: string }, cmd: Command) => {
      const g = globals(cmd);
      const home = resolveHome(g.home, io.env);
      const r = await initHome(home, opts.store ? { storeUrl: opts.store } : {}, io.env);
      if (g.json) printJson(io, r);
      else {
        println(io, `created Waybill home ${r.home}`);
        println(io, `admin API key (shown once, store it safely): ${r.adminKey}`);
      }
    });

  program
    .command('demo')
    .description('seed a synthetic CRM, export it masked with a signed waybill, and verify it')
    .option('--customers <n>', 'number of customers to seed', '5000')
    .option('--orders <n>', 'number of orders to seed', '20000')
    .action(async (opts: { customers: string; orders: string }, cmd: Command) => {
      const g = globals(cmd);
      const home = resolveHome(g.home, io.env);
      const customers = Number(opts.customers);
      const orders = Number(opts.orders);
      if (!Number.isInteger(customers) || customers < 1 || customers > 10_000_000) {
        throw new WaybillError('ERR_WAYBILL_USAGE', '--customers must be an integer between 1 and 10000000');
      }
      if (!Number.isInteger(orders) || orders < 0 || orders > 50_000_000) {
        throw new WaybillError('ERR_WAYBILL_USAGE', '--orders must be an integer between 0 and 50000000');
      }
      let adminKey: string | undefined;
      if (!homeExists(home)) {
        adminKey = (await initHome(home, {}, io.env)).adminKey;
        // Shown once, whatever the output mode: with --json it goes to stderr, keeping stdout one document.
        if (g.json)
          io.stderr.write(`waybill: created home ${home}; admin API key (shown once): ${adminKey}\n`);
      }
      // Loaded on demand: the seeder pulls in faker's locale data, which no other command needs.
      const { runDemo } = await import('../demo/run-demo.js');
      const { report, exportId, approvedBy } = await runDemo(home, io, {
        customers,
        orders,
        json: g.json === true,
      });
      if (g.json) printJson(io, report);
      else {
        if (adminKey) println(io, `created Waybill home ${home}; admin API key (shown once): ${adminKey}`);
        println(io, `seeded ${report.sourceDatabase}`);
        println(
          io,
          `requested export ${exportId}${approvedBy ? `, approved by ${approvedBy} (the policy wants one approver for confidential fields)` : ', approved by policy'}`,
        );
        println(
          io,
          `exported ${report.rows} rows of "${report.definition}" for purpose "${report.purpose}" (run ${report.runId})`,
        );
        println(io, `waybill directory: ${report.waybillDir}`);
        println(
          io,
          `verified: ${report.verified ? 'yes' : 'NO'} — check it yourself with: waybill verify ${report.waybillDir}`,
        );
      }
      if (!report.verified) ctx.setExit(1);
    });
}
