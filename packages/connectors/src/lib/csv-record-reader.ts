/** Why a CSV file could not be read; carries the line number, never the content. */
export class CsvFormatError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'CsvFormatError';
  }
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const BOM = 0xfeff;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/** One record's fields. */
export type CsvRecord = (string | null)[];

/**
 * An incremental RFC 4180 parser: text goes in chunk by chunk, complete records come out. Fields are
 * separated by a one-character delimiter; a field starting with `"` is quoted and may hold delimiters,
 * line breaks and doubled quotes; records end at CRLF, LF or CR. An empty unquoted field is `null`, an
 * empty quoted field (`""`) the empty string. Empty lines are skipped, a BOM at the start is dropped.
 * The first record fixes the number of fields; a record with another count, a quote inside an unquoted
 * field, text after a closing quote, an unclosed quote or a record longer than `maxRecordChars` is a
 * `CsvFormatError` naming the line.
 *
 * (csv-parse offers all of this, but computing the quoted/unquoted distinction through its `cast` hook
 * builds a context object per field and makes parsing about ten times slower.)
 */
export class CsvRecordReader {
  readonly #delimiter: number;
  readonly #maxRecordChars: number;
  #state = FIELD_START;
  #field = '';
  #quoted = false;
  #record: CsvRecord = [];
  #recordChars = 0;
  #fields = -1;
  #line = 1;
  #recordLine = 1;
  #skipLF = false;
  #first = true;

  constructor(delimiter: string, maxRecordChars: number) {
    if (delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
      throw new TypeError('the CSV delimiter must be one character other than a quote or a line break');
    }
    this.#delimiter = delimiter.charCodeAt(0);
    this.#maxRecordChars = maxRecordChars;
  }

  /** The line the reader is on (for errors found outside the reader, such as invalid UTF-8). */
  get line(): number {
    return this.#line;
  }

  #endField(): void {
    const value = this.#field;
    this.#record.push(value === '' && !this.#quoted ? null : value);
    this.#recordChars += value.length;
    this.#field = '';
    this.#quoted = false;
  }

  #endRecord(out: CsvRecord[]): void {
    const record = this.#record;
    this.#record = [];
    this.#recordChars = 0;
    const line = this.#recordLine;
    // One unquoted empty field and no delimiter: an empty line.
    if (!(record.length === 1 && record[0] === null)) {
      if (this.#fields === -1) this.#fields = record.length;
      else if (record.length !== this.#fields) {
        throw new CsvFormatError(
          `the record has ${record.length} fields, the header has ${this.#fields}`,
          line,
        );
      }
      out.push(record);
    }
  }

  /** A line break outside quotes at `i` (CR or LF): ends the record, returns the index after it. */
  #lineBreak(text: string, i: number, out: CsvRecord[]): number {
    this.#endRecord(out);
    this.#line++;
    this.#recordLine = this.#line;
    this.#state = FIELD_START;
    if (text.charCodeAt(i) === CR) {
      if (i + 1 < text.length) return text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      this.#skipLF = true;
    }
    return i + 1;
  }

  #countLines(text: string, from: number, to: number): void {
    for (let nl = text.indexOf('\n', from); nl !== -1 && nl < to; nl = text.indexOf('\n', nl + 1))
      this.#line++;
  }

  /** Parses the next chunk of text, appending every completed record to `out`. */
  push(text: string, out: CsvRecord[]): void {
    let i = 0;
    const n = text.length;
    if (this.#first && n > 0) {
      this.#first = false;
      if (text.charCodeAt(0) === BOM) i = 1;
    }
    if (this.#skipLF && i < n) {
      this.#skipLF = false;
      if (text.charCodeAt(i) === LF) i++;
    }
    const delimiter = this.#delimiter;
    while (i < n) {
      switch (this.#state) {
        case FIELD_START:
          if (text.charCodeAt(i) === QUOTE) {
            this.#quoted = true;
            this.#state = QUOTED;
            i++;
          } else {
            this.#state = UNQUOTED;
          }
          break;
        case UNQUOTED: {
          let j = i;
          let c = 0;
          while (j < n) {
            c = text.charCodeAt(j);
            if (c === delimiter || c === CR || c === LF || c === QUOTE) break;
            j++;
          }
          this.#field += text.slice(i, j);
          i = j;
          if (j === n) break;
          if (c === QUOTE) throw new CsvFormatError('a quote appears inside an unquoted field', this.#line);
          this.#endField();
          if (c === delimiter) {
            this.#state = FIELD_START;
            i++;
          } else {
            i = this.#lineBreak(text, i, out);
          }
          break;
        }
        case QUOTED: {
          const q = text.indexOf('"', i);
          const end = q === -1 ? n : q;
          this.#countLines(text, i, end);
          this.#field += text.slice(i, end);
          i = end;
          if (q !== -1) {
            this.#state = QUOTE_IN_QUOTED;
            i++;
          }
          break;
        }
        case QUOTE_IN_QUOTED: {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            this.#field += '"';
            this.#state = QUOTED;
            i++;
          } else if (c === delimiter) {
            this.#endField();
            this.#state = FIELD_START;
            i++;
          } else if (c === CR || c === LF) {
            this.#endField();
            i = this.#lineBreak(text, i, out);
          } else {
            throw new CsvFormatError('characters follow the closing quote of a field', this.#line);
          }
          break;
        }
      }
      if (this.#recordChars + this.#field.length > this.#maxRecordChars) {
        throw new CsvFormatError(
          `the record is longer than ${this.#maxRecordChars} characters`,
          this.#recordLine,
        );
      }
    }
  }

  /** Ends the input: completes the last record (a file need not end with a line break). */
  end(out: CsvRecord[]): void {
    if (this.#state === QUOTED) {
      throw new CsvFormatError('a quoted field is never closed', this.#recordLine);
    }
    if (this.#state !== FIELD_START || this.#record.length > 0) {
      this.#endField();
      this.#endRecord(out);
    }
  }
}
