/**
 * A growable UTF-8 byte buffer. Building a batch's output with `+=` makes deep string ropes that
 * survive young-generation collections and are flattened again when encoded; writing each line
 * straight into bytes keeps the garbage per row small and hands the result over without a copy.
 */
export class ByteSink {
  private buf: Buffer;
  private length = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  write(text: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: make room first, so `write` never truncates.
    const need = this.length + text.length * 3;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    this.length += this.buf.write(text, this.length, 'utf8');
  }

  get size(): number {
    return this.length;
  }

  /** The bytes written so far, without a copy: valid until the next `write` or `reset`. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Empties the sink, keeping its memory for the next bytes. */
  reset(): void {
    this.length = 0;
  }

  /** The bytes written, as a standalone Uint8Array that owns its memory (so it can be transferred). */
  take(): Uint8Array {
    const out = new Uint8Array(this.length);
    out.set(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}
