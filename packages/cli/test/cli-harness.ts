import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

/** Runs the CLI in-process through its real entry point `main`, capturing stdout and stderr. */
export async function cli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd = process.cwd(),
): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: { ...process.env, ...env }, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export const binPath = fileURLToPath(new URL('../../bin/waybill.js', import.meta.url));

/** Runs the installed `waybill` binary as a separate process. */
export function cliProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export async function tempHome(): Promise<{ dir: string; home: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-cli-'));
  return { dir, home: join(dir, 'home'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const approverKeys = new Map<string, string>();

/** The API key of a second user, `approver` (role approver), created in `home` on first use. */
export async function approverKey(home: string): Promise<string> {
  let key = approverKeys.get(home);
  if (key === undefined) {
    const r = await cli(['--home', home, 'user', 'add', 'approver', '--role', 'approver', '--json']);
    if (r.code !== 0) throw new Error(`user add approver failed: ${r.stderr}`);
    key = (JSON.parse(r.stdout) as { apiKey: string }).apiKey;
    approverKeys.set(home, key);
  }
  return key;
}

/**
 * Requests an export as the home's admin, has the second user `approver` approve it if it is pending,
 * and runs it: the path every export takes (request → approval → run).
 */
export async function requestApproveRun(
  home: string,
  definition: string,
  purpose: string,
  ...extra: string[]
): Promise<CliResult & { exportId: string }> {
  const req = await cli(['--home', home, 'export', 'request', definition, '--purpose', purpose, '--json']);
  if (req.code !== 0) return { ...req, exportId: '' };
  const v = JSON.parse(req.stdout) as { id: string; status: string };
  if (v.status === 'pending_approval') {
    const a = await cli(['--home', home, 'export', 'approve', v.id, '--reason', 'test approval', '--json'], {
      WAYBILL_API_KEY: await approverKey(home),
    });
    if (a.code !== 0) throw new Error(`approval failed: ${a.stderr}`);
  }
  return { ...(await cli(['--home', home, 'export', 'run', v.id, ...extra])), exportId: v.id };
}

/** One output field's entry in an export's OpenLineage column-lineage facet. */
export interface ColumnLineageField {
  readonly inputFields: {
    readonly name: string;
    readonly field: string;
    readonly transformations: {
      readonly type: string;
      readonly subtype: string;
      readonly description: string;
    }[];
  }[];
}

/** The column-lineage facet's fields in an export's `lineage.json` (its only output dataset). */
export async function readColumnLineage(exportDir: string): Promise<Record<string, ColumnLineageField>> {
  const lineage = JSON.parse(await readFile(join(exportDir, 'lineage.json'), 'utf8')) as {
    outputs: { facets: { columnLineage: { fields: Record<string, ColumnLineageField> } } }[];
  };
  return lineage.outputs[0]!.facets.columnLineage.fields;
}
