import { createReadStream } from 'node:fs';
import { WaybillError, type WaybillErrorCode } from '../waybill-error.js';

/** One line of a file, without its LF. Only the last line of a file can be unterminated. */
export interface FileLine {
  readonly bytes: Buffer;
  readonly terminated: boolean;
}

export interface ReadLinesOptions {
  /** A line longer than this fails with `code`, so a file without newlines cannot exhaust memory. */
  readonly maxLineBytes: number;
  readonly code: WaybillErrorCode;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Streams the LF-separated lines of a file as raw bytes. Memory stays bounded by the chunk size plus one
 * line, whatever the size of the file (STYLE.md §6). Unlike `readline`, CR is not treated as a line end:
 * the formats read here are LF-only and a stray CR must change the bytes that get hashed.
 */
export async function* readFileLines(path: string, options: ReadLinesOptions): AsyncGenerator<FileLine> {
  const stream = createReadStream(path, {
    highWaterMark: 1 << 16,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let pending: Buffer[] = [];
  let pendingLength = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const lf = chunk.indexOf(0x0a, start);
        if (lf === -1) break;
        const piece = chunk.subarray(start, lf);
        if (pendingLength + piece.length > options.maxLineBytes) throw tooLong(path, options);
        const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
        pending = [];
        pendingLength = 0;
        yield { bytes, terminated: true };
        start = lf + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        pendingLength += rest.length;
        if (pendingLength > options.maxLineBytes) throw tooLong(path, options);
        pending.push(rest);
      }
    }
    if (pendingLength > 0) yield { bytes: Buffer.concat(pending), terminated: false };
  } finally {
    // A consumer that stops early (break, error) must not leave the file descriptor open.
    stream.destroy();
  }
}

function tooLong(path: string, options: ReadLinesOptions): WaybillError {
  return new WaybillError(
    options.code,
    `${path} has a line longer than ${options.maxLineBytes} bytes; the file is not in the expected format`,
  );
}
