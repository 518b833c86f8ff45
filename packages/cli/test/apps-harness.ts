// Shared by the real-app integration tests (apps-*.test.ts): a Waybill home wired to a running app, and
// an export request approved by a second person but not yet run.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestApp } from '@waybill/testkit';
import { approverKey, cli, tempHome } from './cli-harness.js';

export interface AppSourceSpec {
  readonly name: string;
  /** The token, handed over through an environment variable named after the source. */
  readonly token: string;
  /** Options after `--kind KIND --api-url URL`, e.g. `['--base', baseId]`. */
  readonly extra?: readonly string[];
}

/**
 * A fresh home with a directory destination `out` (at `DIR/out`), the app's https origin on the egress
 * allowlist (it is loopback), and one source per spec, each trusting the app's test CA.
 */
export async function appHome(
  app: TestApp,
  kind: string,
  sources: readonly AppSourceSpec[],
): Promise<Awaited<ReturnType<typeof tempHome>>> {
  const t = await tempHome();
  const run = async (args: string[]) => {
    const r = await cli(['--home', t.home, ...args]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  await run(['init']);
  await mkdir(join(t.dir, 'out'));
  await run(['destination', 'add', 'out', '--kind', 'directory', '--path', join(t.dir, 'out')]);
  await run(['egress', 'allow', new URL(app.url).host, '--private']);
  await writeFile(join(t.dir, 'ca.crt'), app.ca);
  for (const s of sources) {
    const env = `WB_TOKEN_${s.name.replace(/\W/g, '_').toUpperCase()}`;
    process.env[env] = s.token;
    await run([
      'source',
      'add',
      s.name,
      '--kind',
      kind,
      '--api-url',
      app.url,
      ...(s.extra ?? []),
      '--ca',
      join(t.dir, 'ca.crt'),
      '--password-env',
      env,
    ]);
  }
  return t;
}

/** Writes `yaml` as `DIR/NAME.yaml` and applies it; on failure the message ends with what the app printed. */
export async function applyDefinition(
  t: { dir: string; home: string },
  name: string,
  yaml: string,
  app: TestApp,
): Promise<void> {
  const file = join(t.dir, `${name}.yaml`);
  await writeFile(file, yaml);
  const r = await cli(['--home', t.home, 'def', 'apply', file]);
  assert.equal(r.code, 0, `${r.stderr}\nthe app said:\n${app.log().slice(-3000)}`);
}

/** Requests `definition` for `purpose` and has the second user approve it if it waits; returns its id. */
export async function requestApproved(home: string, definition: string, purpose: string): Promise<string> {
  const req = await cli(['--home', home, 'export', 'request', definition, '--purpose', purpose, '--json']);
  assert.equal(req.code, 0, req.stderr);
  const v = JSON.parse(req.stdout) as { id: string; status: string };
  if (v.status === 'pending_approval') {
    const a = await cli(['--home', home, 'export', 'approve', v.id, '--reason', 'ok'], {
      WAYBILL_API_KEY: await approverKey(home),
    });
    assert.equal(a.code, 0, a.stderr);
  }
  return v.id;
}

/** A column of `catalog scan --json`, as the app tests read it. */
export interface ScannedColumn {
  readonly column: string;
  readonly proposed: { readonly piiKind: string | null };
  readonly embedded: Record<string, number>;
}

/**
 * Runs `catalog scan SOURCE --table TABLE --json`; returns the table's columns, a lookup by name, and the
 * raw output (to check that no sampled value is printed). On failure the message ends with what the app
 * printed.
 */
export async function scanTable(
  home: string,
  source: string,
  table: string,
  app: TestApp,
): Promise<{ columns: ScannedColumn[]; col: (name: string) => ScannedColumn; stdout: string }> {
  const r = await cli(['--home', home, 'catalog', 'scan', source, '--table', table, '--json']);
  assert.equal(r.code, 0, `${r.stderr}\nthe app said:\n${app.log().slice(-4000)}`);
  const columns = (JSON.parse(r.stdout) as { scans: { columns: ScannedColumn[] }[] }).scans[0]!.columns;
  const col = (name: string): ScannedColumn => {
    const c = columns.find((x) => x.column === name);
    assert.ok(c, `no column "${name}" in the scan`);
    return c;
  };
  return { columns, col, stdout: r.stdout };
}
