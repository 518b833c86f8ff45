/** One line of a text file, numbered from 1, without its line terminator (`\n` or `\r\n`). */
export interface Line {
  readonly number: number;
  readonly text: string;
}

/** Why a file could not be split into lines; carries the line number, never the content. */
export class LineError extends Error {
  constructor(
    readonly reason: 'too-long' | 'not-utf8',
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'LineError';
  }
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into UTF-8 lines as it is pulled, holding at most one chunk plus one partial
 * line, and refusing a line longer than `maxBytes` (so a file without line breaks cannot exhaust
 * memory). Lines are split on the byte 0x0A, which never occurs inside a multi-byte UTF-8 sequence, and
 * each line is decoded on its own, so an invalid byte is reported with its own line number. A byte
 * order mark at the start of the file is dropped.
 */
export async function* readLines(chunks: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Line> {
  // ignoreBOM keeps U+FEFF: each line is a separate decode call, and only the file's first may lose it.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let number = 1;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const decode = (bytes: Buffer): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(0, end));
    } catch {
      throw new LineError('not-utf8', number);
    }
    return number === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };
  for await (const chunk of chunks) {
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = buffer.indexOf(LF, start); nl !== -1; nl = buffer.indexOf(LF, start)) {
      let bytes = buffer.subarray(start, nl);
      if (pendingBytes > 0) {
        bytes = Buffer.concat([...pending, bytes]);
        pending = [];
        pendingBytes = 0;
      }
      if (bytes.length > maxBytes) throw new LineError('too-long', number);
      yield { number, text: decode(bytes) };
      number++;
      start = nl + 1;
    }
    if (start < buffer.length) {
      // Copied: the rest of this chunk must not pin (or share) the stream's buffer.
      pending.push(Buffer.from(buffer.subarray(start)));
      pendingBytes += buffer.length - start;
      if (pendingBytes > maxBytes) throw new LineError('too-long', number);
    }
  }
  if (pendingBytes > 0) yield { number, text: decode(Buffer.concat(pending)) };
}
