import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError, verifyWaybillDirectory } from '@waybill/verify';
import { openHome } from '../home.js';
import type { Io } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { withInterrupts } from '../interrupts.js';
import { DEMO_CONTRACT } from './demo-contract.js';
import { DEMO_DEFINITION } from './demo-definition.js';
import { seedCrm } from './crm-seeder.js';

/** What `waybill demo --json` prints (CONTRACT.md: exactly these keys). */
export interface DemoReport {
  readonly runId: string;
  readonly definition: string;
  readonly purpose: string;
  readonly waybillDir: string;
  readonly sourceDatabase: string;
  readonly rows: number;
  readonly verified: boolean;
}

const PURPOSE = 'marketing-analytics';
/** The second demo user, who approves what the admin requests. */
const DEMO_APPROVER = 'demo-approver';

/**
 * The five-minute tour in one command: seed the CRM, register it, apply the sample definition, request
 * the export, have a second demo user approve it, run it and verify. Re-running it reuses the home (and its admin) and makes a new run.
 */
export async function runDemo(
  home: string,
  io: Io,
  o: { customers: number; orders: number; json: boolean },
): Promise<{ report: DemoReport; exportId: string; approvedBy: string | null }> {
  const demoDir = join(home, 'demo');
  const sourceDatabase = join(demoDir, 'crm.sqlite');
  await seedCrm(sourceDatabase, { customers: o.customers, orders: o.orders });
  const h = await openHome(home, io.env);
  try {
    await mkdir(join(demoDir, 'exports'), { recursive: true });
    const now = new Date().toISOString();
    const conn = { workspace: 'default', secret: null, createdAt: now, updatedAt: now } as const;
    const wanted = [
      { ...conn, name: 'demo-crm', role: 'source', kind: 'sqlite', config: { path: sourceDatabase } },
      {
        ...conn,
        name: 'demo-exports',
        role: 'destination',
        kind: 'directory',
        config: { path: join(demoDir, 'exports') },
      },
    ] as const;
    for (const c of wanted) {
      // Registered once; a re-run changes nothing (and logs nothing) unless the settings differ.
      const existing = await h.store.getConnection('default', c.role, c.name);
      if (existing?.kind === c.kind && JSON.stringify(existing.config) === JSON.stringify(c.config)) continue;
      await h.connections.save(c, h.actor);
    }
    if (!(await h.keys.hasHmacKey('demo-pseudonyms'))) await h.keys.createHmacKey('demo-pseudonyms', h.actor);
    const defFile = join(demoDir, 'customers-marketing.yaml');
    await writeFile(defFile, DEMO_DEFINITION);
    // The sample classification of the CRM (a data contract), then the definition that reads it.
    const contractFile = join(demoDir, 'crm.contract.yaml');
    await writeFile(contractFile, DEMO_CONTRACT);
    await h.catalog.apply(h.principal, DEMO_CONTRACT, contractFile);
    await h.guard.require(h.principal, 'definition.apply');
    await h.definitions.apply(DEMO_DEFINITION, defFile, h.principal.name, h.actor);
    // Request → approval by a second person → run: the definition holds confidential fields, so the
    // default policy wants one approval by an approver, who can never be the requester.
    const requested = await h.requests.request(h.principal, {
      definition: 'customers-marketing',
      purpose: PURPOSE,
    });
    const exportId = requested.request.id;
    if (requested.request.status === 'denied') {
      throw new WaybillError(
        'ERR_WAYBILL_POLICY_DENIED',
        `demo export ${exportId} denied: ${requested.request.reasons.join('; ')}`,
      );
    }
    let approvedBy: string | null = null;
    if (requested.request.status === 'pending_approval') {
      const approver =
        (await h.store.getPrincipalByName(h.principal.workspace, DEMO_APPROVER)) ??
        (await h.principals.create(h.principal, { name: DEMO_APPROVER, roles: ['approver'] })).principal;
      await h.requests.decide(approver, exportId, {
        decision: 'approve',
        reason: 'demo: pseudonymized marketing extract, SSN dropped',
      });
      approvedBy = `${approver.kind}:${approver.name}`;
    }
    const prepared = await h.requests.prepareRun(h.principal, exportId);
    const bar = new ProgressBar(io.stderr, !o.json && io.stdout.isTTY === true && io.stderr.isTTY === true);
    const result = await withInterrupts((signal) =>
      prepared.execute({ signal, onProgress: (p) => bar.update(p) }),
    );
    bar.done();
    const verdict = await verifyWaybillDirectory(result.location, {
      keys: await h.keys.verificationKeys(),
      logVerifiers: await h.audit.verifierKeys(),
    });
    for (const e of verdict.errors) io.stderr.write(`waybill: ${e.code}: ${e.message}\n`);
    const report: DemoReport = {
      runId: result.run.id,
      definition: 'customers-marketing',
      purpose: PURPOSE,
      waybillDir: result.location,
      sourceDatabase,
      rows: result.predicate.counts.written,
      verified: verdict.valid,
    };
    return { report, exportId, approvedBy };
  } finally {
    await h.close();
  }
}
