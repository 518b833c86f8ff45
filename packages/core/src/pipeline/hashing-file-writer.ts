import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';

/** Writes text to a file with backpressure, hashing and counting the bytes on the way, fsync on close. */
export class HashingFileWriter {
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  bytes = 0;
  private closed = false;

  constructor(private readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 16 });
  }

  /**
   * Queues `data` (waiting while the file lags behind). `onWritten` is called once the bytes are in the
   * file, or the write failed: until then `data` must not change.
   */
  async write(data: string | Uint8Array, onWritten?: () => void): Promise<void> {
    if (data.length === 0) {
      onWritten?.();
      return;
    }
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.hash.update(buf);
    this.bytes += buf.length;
    if (!this.stream.write(buf, onWritten && (() => onWritten()))) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
    await once(this.stream, 'close');
    const fh = await open(this.path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
