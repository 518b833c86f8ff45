import { createRequire } from 'node:module';
import type { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { cardNetwork, ibanValid, luhnValid, ssnValid } from './checksums.js';
import type { PiiKind } from './pii-kind.js';
import { foldText } from './text-folding.js';

/** Where a detector matched in a text (offsets into the original text, end exclusive). */
export interface PiiSpan {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
}

// Each kind has its own pattern, run only when the text can hold it (an email needs an `@`, an IPv6
// address a `:`), and each candidate is then checked by its kind's rules (checksums, issued ranges,
// numbering plans). One alternation of all the patterns would read the text once, but tries every
// alternative at every position: separate anchored passes are several times faster.
const EMAIL_DOMAIN = /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/y;
const EMAIL_LOCAL_CHAR = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]/;
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g;
const IPV4 =
  /(?<![\w:.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\w.]|:\w)/g;
const IPV6 =
  /(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}(?::[0-9A-Fa-f]{1,4}){1,6}|(?:[0-9A-Fa-f]{1,4}:){1,7}:|::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})(?![\w:])/g;
// Digits with the separators people type: phones, SSNs, card numbers. Not inside a word, a longer
// number or a reference like `ORD-123-45-6789` / `#123-45-6789`.
const NUMBER = /(?<![\w#/.-])\+?\(?\d[\d ().-]{5,25}\d(?![\w-]|\.\d)/g;

/** Emails, found from their `@` outwards (an address is rare in text; an `@` is cheap to find). */
function findEmails(text: string, out: PiiSpan[]): void {
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && EMAIL_LOCAL_CHAR.test(text[start - 1]!)) start--;
    // A dot-atom neither starts nor ends with a dot.
    while (start < at && text[start] === '.') start++;
    if (start === at || text[at - 1] === '.') continue;
    EMAIL_DOMAIN.lastIndex = at + 1;
    const domain = EMAIL_DOMAIN.exec(text);
    if (domain) out.push({ kind: 'email', start, end: at + 1 + domain[0].length });
  }
}

function findAll(
  re: RegExp,
  text: string,
  out: PiiSpan[],
  check: (value: string) => PiiKind | undefined,
): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const kind = check(m[0]);
    if (kind) out.push({ kind, start: m.index, end: m.index + m[0].length });
  }
}

// North American numbers as written: (415) 555-2671, 415-555-2671, 415.555.2671, +1 415 555 2671.
const NANP_SHAPE = /^(?:\+?1[ .-]?)?\(?([2-9]\d\d)\)?[ .-]?([2-9]\d\d)[ .-]?\d{4}$/;

/**
 * The North American Numbering Plan's rules, checked without a metadata lookup (the common case of a
 * number in US text, thousands of times cheaper than a parse): area code and exchange start with 2–9
 * and are not N11 service codes.
 */
function nanpValid(area: string, exchange: string): boolean {
  return !(area[1] === '1' && area[2] === '1') && !(exchange[1] === '1' && exchange[2] === '1');
}

const SSN_SHAPE = /^(\d{3})([ .-]?)(\d{2})\2(\d{4})$/;
const CARD_SHAPE = /^\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}$|^\d{4}([ -]?)\d{6}\2\d{5}$|^\d{13,19}$/;

/** What a run of digits is, if anything: an SSN, a card number, a phone number. */
export function classifyNumber(raw: string, o: { bareSsn?: boolean } = {}): PiiKind | undefined {
  const ssn = SSN_SHAPE.exec(raw);
  // A bare 9-digit number is an SSN only where the column says so (`bareSsn`); in text, it needs its
  // separators.
  if (ssn && (ssn[2] !== '' || o.bareSsn) && ssnValid(ssn[1]!, ssn[3]!, ssn[4]!)) return 'national_id';
  const digits = raw.replace(/[^\d]/g, '');
  if (CARD_SHAPE.test(raw) && digits.length >= 13 && cardNetwork(digits) !== undefined && luhnValid(digits)) {
    return 'card_number';
  }
  if (digits.length < 10 || digits.length > 15) return undefined;
  const nanp = NANP_SHAPE.exec(raw);
  if (nanp) return nanpValid(nanp[1]!, nanp[2]!) ? 'phone' : undefined;
  // Everything else (other countries' numbering plans) goes to libphonenumber's metadata.
  const phone = parsePhone()(raw, raw.startsWith('+') ? undefined : 'US');
  return phone?.isValid() ? 'phone' : undefined;
}

let parser: typeof parsePhoneNumberFromString | undefined;

/**
 * libphonenumber, loaded on the first number that needs its metadata: about 90 modules and 2.5 MB of
 * heap in every thread that loads them, which most exports (and their worker threads) never need.
 * Its CommonJS build, so that the detectors stay synchronous.
 */
function parsePhone(): typeof parsePhoneNumberFromString {
  parser ??= (
    createRequire(import.meta.url)('libphonenumber-js/min') as {
      parsePhoneNumberFromString: typeof parsePhoneNumberFromString;
    }
  ).parsePhoneNumberFromString;
  return parser;
}

/**
 * Whether a text could hold anything the detectors find: an email needs an `@` (or its fullwidth form),
 * an IPv6 address a `:`, everything else at least four digits. Most short values (names, codes,
 * amounts) are ruled out here without running a pattern.
 */
function mayHoldPii(text: string): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= 4) return true;
    } else if (c === 64 || c === 58 || c > 127) {
      // `@`, `:`, or anything beyond ASCII (fullwidth digits and `＠`, look-alike letters): read it all.
      return true;
    }
  }
  return false;
}

/**
 * Every piece of personal data the detectors recognise in a free text: emails (also written with
 * look-alike letters or fullwidth characters), phone numbers valid in their numbering plan, US SSNs with
 * separators, card numbers (issuer prefix, length, Luhn), IBANs (country length, mod 97), IPv4 and IPv6
 * addresses. Spans are in the original text's offsets, in order, never overlapping.
 */
export function findPii(text: string): PiiSpan[] {
  if (!mayHoldPii(text)) return [];
  const folded = foldText(text);
  const t = folded.text;
  const strong: PiiSpan[] = [];
  if (t.includes('@')) findEmails(t, strong);
  findAll(IBAN, t, strong, (v) => (ibanValid(v.replace(/ /g, '')) ? 'iban' : undefined));
  if (t.includes('.')) findAll(IPV4, t, strong, () => 'ip_address');
  if (t.includes(':')) findAll(IPV6, t, strong, () => 'ip_address');
  const numbers: PiiSpan[] = [];
  findAll(NUMBER, t, numbers, (v) => classifyNumber(v));
  // A digit run inside an address or an IBAN already found is part of it, not a number of its own.
  strong.sort((a, b) => a.start - b.start);
  const spans: PiiSpan[] = [];
  let i = 0;
  for (const n of numbers) {
    while (i < strong.length && strong[i]!.end <= n.start) spans.push(strong[i++]!);
    if (i < strong.length && strong[i]!.start < n.end) continue;
    spans.push(n);
  }
  while (i < strong.length) spans.push(strong[i++]!);
  return folded.map
    ? spans.map((s) => ({ kind: s.kind, start: folded.map![s.start]!, end: folded.map![s.end]! }))
    : spans;
}
