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

/**
 * Splits a byte stream into lines as it is pulled, holding at most one chunk plus one partial line, and
 * refusing a line longer than `maxChars` (so a file without line breaks cannot exhaust memory). Bytes
 * must be UTF-8 (a byte order mark at the start is dropped).
 */
export async function* readLines(chunks: AsyncIterable<Uint8Array>, maxChars: number): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let number = 1;
  let carry = '';
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch {
      throw new LineError('not-utf8', number);
    }
  };
  for await (const chunk of chunks) {
    const text = carry + decode(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end - start > maxChars) throw new LineError('too-long', number);
      yield { number, text: text.slice(start, end) };
      number++;
      start = nl + 1;
    }
    carry = text.slice(start);
    if (carry.length > maxChars) throw new LineError('too-long', number);
  }
  const last = carry + decode();
  if (last.length > maxChars) throw new LineError('too-long', number);
  if (last.length > 0) yield { number, text: last.endsWith('\r') ? last.slice(0, -1) : last };
}
