import type { EncodedRowBlock } from '@waybill/core';

/**
 * Cuts a stream of LF-terminated rows, arriving in chunks that end anywhere (even inside a row), into
 * blocks of whole rows of about `target` bytes. Each block is one standalone buffer, so it can move to a
 * worker thread without a copy.
 */
export class RowBlockAssembler {
  private parts: Buffer[] = [];
  private size = 0;
  private rows = 0;

  constructor(private readonly target: number) {}

  /** Adds a chunk; returns a block when enough whole rows have accumulated. */
  push(chunk: Buffer): EncodedRowBlock | null {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows++;
    this.parts.push(chunk);
    this.size += chunk.length;
    return this.size >= this.target && this.rows > 0 ? this.cut() : null;
  }

  /** The rows left at the end; `null` when none. Throws when the stream ended inside a row. */
  finish(): EncodedRowBlock | null {
    if (this.size === 0) return null;
    const block = this.cut();
    if (this.size > 0) throw new Error('the stream ended inside a row');
    return block;
  }

  private cut(): EncodedRowBlock | null {
    const parts = this.parts;
    let p = parts.length - 1;
    let at = parts[p]!.lastIndexOf(10);
    while (at === -1 && p > 0) at = parts[--p]!.lastIndexOf(10);
    if (at === -1) return null;
    let length = at + 1;
    for (let i = 0; i < p; i++) length += parts[i]!.length;
    const bytes = Buffer.allocUnsafeSlow(length);
    let offset = 0;
    for (let i = 0; i < p; i++) offset += parts[i]!.copy(bytes, offset);
    parts[p]!.copy(bytes, offset, 0, at + 1);
    const rest = [parts[p]!.subarray(at + 1), ...parts.slice(p + 1)].filter((b) => b.length > 0);
    const block = { bytes, rows: this.rows };
    this.parts = rest;
    this.size = rest.reduce((n, b) => n + b.length, 0);
    this.rows = 0;
    return block;
  }
}
