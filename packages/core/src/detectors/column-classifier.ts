import { DEFAULT_SENSITIVITY, type PiiKind } from './pii-kind.js';
import { findPii } from './text-scanner.js';

/** What the name of a column suggests it holds (the words of `first_name`, `customerEmail`, `DOB`). */
const NAME_HINTS: readonly [PiiKind, RegExp][] = [
  ['email', /\b(e ?mail|email address|mail)\b/],
  ['phone', /\b(phone|mobile|tel|telephone|fax|cell|msisdn)\b/],
  ['national_id', /\b(ssn|social security|national id|tax id|tin|nino|passport|sin|nid)\b/],
  ['birth_date', /\b(birth|birthday|birthdate|dob|born|date of birth)\b/],
  ['card_number', /\b(card|card number|cc|pan|credit card)\b/],
  ['iban', /\biban\b/],
  ['financial_account', /\b(account number|acct|bank account|routing|bic|swift|sort code)\b/],
  ['ip_address', /\b(ip|ip address|ipv4|ipv6|remote addr|client ip)\b/],
  ['address', /\b(address|street|addr|city|zip|zipcode|postal|postcode|residence)\b/],
  ['health', /\b(diagnosis|condition|medication|icd|health|medical|treatment|allergy|allergies|symptom)\b/],
  ['free_text', /\b(note|notes|comment|comments|remark|remarks|message|description|body|memo|feedback)\b/],
];
// `name` alone, or a person's name part; not the name of a product, file, company…
const PERSON_NAME =
  /^(?:(?:first|last|middle|full|given|family|sur|maiden|contact|customer|person|display|legal|nick) ?)?name$|^(?:surname|forename|lastname|firstname|fullname)$/;

/** A column name as words: `customerEmail` → `customer email`, `DOB` → `dob`, `first-name` → `first name`. */
export function nameWords(column: string): string {
  return column
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** The kind a column's name suggests, if any. */
export function nameHint(column: string): PiiKind | undefined {
  const words = nameWords(column);
  if (PERSON_NAME.test(words)) return 'name';
  for (const [kind, re] of NAME_HINTS) if (re.test(words)) return kind;
  return undefined;
}

const SSN_ANY = /^\d{3}([ .-]?)\d{2}\1\d{4}$/;
// Columns of references and identifiers (Presidio calls such words context): their numbers are not PII.
const REFERENCE =
  /\b(order|orders|invoice|ref|reference|sku|tracking|ticket|isbn|issn|ean|upc|serial|part|product|po|confirmation|booking|transaction|txn|batch|lot)\b/;

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function plausibleBirthDate(value: string, now: Date): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const year = Number(m[1]);
  return !Number.isNaN(t) && year >= now.getUTCFullYear() - 125 && t <= now.getTime();
}

/**
 * What one value of a column is, read with the column's name: the kind when the whole value is one
 * piece of personal data (an email, a card number…), or when the name says what it is and the value fits
 * (a bare 9-digit SSN in `ssn`, a past date in `birth_date`). Free text is recognised by its shape.
 */
export function classifyValue(column: string, value: string, now = new Date()): PiiKind | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const hint = nameHint(column);
  if (hint === 'birth_date') return plausibleBirthDate(v, now) ? 'birth_date' : undefined;
  // Where the column says SSN, the shape is enough: test data often uses never-issued areas (9xx) on
  // purpose, and a column of them is still a column of SSNs.
  if (hint === 'national_id' && SSN_ANY.test(v)) return 'national_id';
  const spans = findPii(v);
  if (spans.length === 1 && spans[0]!.start === 0 && spans[0]!.end === v.length) {
    const kind = spans[0]!.kind;
    // An order number, invoice or ISBN column holds references that can look like SSNs or pass Luhn.
    if (
      (kind === 'national_id' || kind === 'card_number' || kind === 'phone') &&
      REFERENCE.test(nameWords(column))
    ) {
      return undefined;
    }
    return kind;
  }
  if (v.length >= 24 && (v.match(/ /g)?.length ?? 0) >= 3) return 'free_text';
  if (hint === 'name' || hint === 'address' || hint === 'health' || hint === 'financial_account') {
    return /[A-Za-z0-9]/.test(v) ? hint : undefined;
  }
  return undefined;
}

/** One kind of personal data found in a column, with how sure the scan is. */
export interface ColumnFinding {
  readonly kind: PiiKind;
  /** 0–1: the share of sampled values that are this kind (or the name's word, for name-only kinds). */
  readonly confidence: number;
  /** Sampled non-empty values that matched. */
  readonly matched: number;
  readonly evidence: 'values' | 'name' | 'values and name';
}

/** What a scan concludes about one column. */
export interface ColumnReport {
  readonly column: string;
  readonly sampled: number;
  readonly nonEmpty: number;
  /** Most likely first. */
  readonly findings: readonly ColumnFinding[];
  /** For free text: personal data found inside the values, by kind (counts of values). */
  readonly embedded: Readonly<Partial<Record<PiiKind, number>>>;
  /** The classification proposed, or null when nothing points to personal data. */
  readonly proposed: {
    readonly sensitivity: 'internal' | 'confidential' | 'restricted';
    readonly piiKind: PiiKind | null;
  };
  /** A few sampled values with every letter and digit masked (`xxxx@xxxxxxx.xxx`): never a raw value. */
  readonly examples: readonly string[];
  /** Whether the column is likely personal data (a finding of confidence >= 0.5). */
  readonly likelyPii: boolean;
}

/** Masks every letter and digit of a value, keeping only its shape. */
export function maskShape(value: string, max = 40): string {
  const cut = value.length > max ? value.slice(0, max) + '…' : value;
  return cut
    .replace(/\p{Lu}/gu, 'X')
    .replace(/\p{Ll}|\p{Lo}|\p{Lt}|\p{Lm}/gu, 'x')
    .replace(/\p{N}/gu, '0');
}

/** Classifies a column from its name and a sample of its values (stringified; nulls left out). */
export function classifyColumn(column: string, values: readonly string[], now = new Date()): ColumnReport {
  const hint = nameHint(column);
  const counts = new Map<PiiKind, number>();
  const embedded: Partial<Record<PiiKind, number>> = {};
  let nonEmpty = 0;
  const examples: string[] = [];
  for (const raw of values) {
    const v = raw.trim();
    if (v === '') continue;
    nonEmpty++;
    if (examples.length < 3) examples.push(maskShape(v));
    const kind = classifyValue(column, v, now);
    if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    if (kind === 'free_text' || hint === 'free_text') {
      const seen = new Set(findPii(v).map((s) => s.kind));
      for (const k of seen) embedded[k] = (embedded[k] ?? 0) + 1;
    }
  }
  const findings: ColumnFinding[] = [];
  for (const [kind, n] of counts) {
    const share = nonEmpty === 0 ? 0 : n / nonEmpty;
    findings.push({
      kind,
      confidence: round(kind === hint ? Math.max(share, 0.9) : share),
      matched: n,
      evidence: kind === hint ? 'values and name' : 'values',
    });
  }
  if (hint && !counts.has(hint) && (nonEmpty === 0 || hint === 'free_text')) {
    findings.push({ kind: hint, confidence: 0.6, matched: 0, evidence: 'name' });
  }
  findings.sort((a, b) => b.confidence - a.confidence);
  const top = findings[0];
  const hasEmbedded = Object.keys(embedded).length > 0;
  const likely =
    (top !== undefined && top.confidence >= 0.5 && (top.kind !== 'free_text' || hasEmbedded)) || hasEmbedded;
  const kind = top && top.confidence >= 0.5 ? top.kind : hasEmbedded ? 'free_text' : null;
  const restrictedInside = (['national_id', 'card_number', 'iban'] as const).some(
    (k) => (embedded[k] ?? 0) > 0,
  );
  const sensitivity =
    !likely || kind === null ? 'internal' : restrictedInside ? 'restricted' : DEFAULT_SENSITIVITY[kind];
  return {
    column,
    sampled: values.length,
    nonEmpty,
    findings,
    embedded,
    proposed: { sensitivity, piiKind: likely ? kind : null },
    examples,
    likelyPii: likely,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
