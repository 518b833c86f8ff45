import type { ExportProgress } from '@waybill/core';

/**
 * A one-line progress display (rows, rows/s, bytes) on an interactive terminal. Disabled with `--json`
 * or when stderr is not a TTY, so scripts and logs never see control characters.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private last = '';

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly enabled: boolean,
  ) {}

  update(p: ExportProgress): void {
    if (!this.enabled) return;
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const line = `${p.phase.padEnd(10)} ${p.rowsRead.toLocaleString('en-US')} rows read, ${p.rowsWritten.toLocaleString('en-US')} written, ${Math.round(p.rowsRead / secs).toLocaleString('en-US')} rows/s, ${formatBytes(p.bytes)}`;
    if (line === this.last) return;
    this.last = line;
    this.out.write(`\r\x1b[2K${line}`);
  }

  done(): void {
    if (this.enabled && this.last) this.out.write('\n');
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
