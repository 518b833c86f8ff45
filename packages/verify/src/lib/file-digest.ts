import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 (lowercase hex) of a file, read as a stream so its size does not matter (STYLE.md §6). */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(path, { highWaterMark: 1 << 16, ...(signal ? { signal } : {}) });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  } finally {
    stream.destroy();
  }
  return hash.digest('hex');
}
