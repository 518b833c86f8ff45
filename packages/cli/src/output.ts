import { WaybillError } from '@waybill/core';

/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function println(io: Io, line = ''): void {
  io.stdout.write(line + '\n');
}

/** A usage error: exit 2 (CONTRACT.md). */
export function usage(message: string): WaybillError {
  return new WaybillError('ERR_WAYBILL_USAGE', message);
}

/** Formats rows as an aligned text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
