import { addIsoDuration } from '../time/iso-duration.js';
import type { ValidationGateResult } from '../waybill/export-predicate.js';

/** What staging produced, as the validation gates see it. */
export interface Staged {
  readonly counts: { read: number; filtered: number; written: number };
  /** Rows the main thread handed to the pipeline, counted independently of the workers' counts. */
  readonly sourceRows: number;
  /** Lines in records.jsonl, counted in the bytes written. */
  readonly recordLines: number;
  readonly typeChecked: number;
  readonly typedFields: number;
  /** Output fields marked `required` (an empty value in one fails its batch at once). */
  readonly requiredFields?: readonly string[];
  readonly recordCount: number;
  readonly merkleRoot: string;
  readonly merkleSize: number;
  readonly payloadSha256: string;
  readonly payloadBytes: number;
  readonly recordsSha256: string;
  readonly instance: string;
  /** Text values the output PII scan read, and the fields it read them in. */
  readonly piiScanned: number;
  readonly piiScanFields: readonly string[];
  /** The export's retention, and the shortest retention of a catalogued field it reads (if any). */
  readonly retention: {
    readonly export: string;
    readonly shortest: { readonly field: string; readonly retention: string } | null;
  };
  /** The k-anonymity check over the declared quasi-identifiers (`privacy:`), if the definition asks. */
  readonly kAnonymity: {
    readonly k: number;
    readonly fields: readonly string[];
    readonly classes: number;
    readonly smallest: number;
    readonly recordsBelow: number;
    /** Records not written because their combination was too small (`enforce: suppress | generalize`). */
    readonly suppressed: number;
    readonly enforce?: 'block' | 'suppress' | 'generalize';
    /** How the quasi-identifiers were generalized beyond the definition (`enforce: generalize`). */
    readonly generalized?: readonly string[];
  } | null;
  /** Limits of the definition (`limits:`), if any. */
  readonly limits: { readonly maxRows?: number | undefined; readonly maxBytes?: number | undefined };
}

function kAnonymityDetail(a: Staged['kAnonymity']): string {
  if (a === null) return 'the definition declares no quasi-identifiers';
  const how = [
    ...(a.generalized && a.generalized.length > 0 ? [`generalized ${a.generalized.join('; ')}`] : []),
    ...(a.suppressed > 0
      ? [`suppressed ${a.suppressed} records in combinations shared by fewer than ${a.k}`]
      : []),
  ];
  const done = how.length > 0 ? ` after it ${how.join(' and ')}` : '';
  if (a.recordsBelow === 0) {
    return `every combination of ${a.fields.join(', ')} is shared by at least ${a.k} records (${a.classes} combinations, the smallest of ${a.smallest})${done}`;
  }
  const advice =
    a.enforce === 'generalize'
      ? `even generalized as far as Waybill goes${done}; generalize those fields in the definition, raise maxSuppressed, or narrow the filter`
      : `generalize those fields further (date_truncate, bucket, round), set privacy.enforce to suppress or generalize, or narrow the filter`;
  return `${a.recordsBelow} records are in combinations of ${a.fields.join(', ')} shared by fewer than ${a.k} records (the smallest by ${a.smallest}); ${advice}`;
}

/** An ISO 8601 duration as milliseconds from a fixed start (calendar-aware, comparable). */
function durationMs(d: string): number {
  const from = new Date(Date.UTC(2000, 0, 1));
  return addIsoDuration(from, d).getTime() - from.getTime();
}

/**
 * The validation gates (ARCHITECTURE.md VALIDATE). Each compares two independent counts: what the main
 * thread handed over and read back, against what the workers report having done.
 */
export function validate(s: Staged): ValidationGateResult[] {
  const { read, filtered, written } = s.counts;
  const expectedChecks = written * s.typedFields;
  return [
    {
      gate: 'row-count-reconciliation',
      passed: read === s.sourceRows && read === filtered + written,
      detail: `${s.sourceRows} rows from the source; read ${read} = filtered ${filtered} + written ${written}`,
    },
    {
      gate: 'records-complete',
      passed: s.recordLines === written && s.merkleSize === written,
      detail: `${s.recordLines} records.jsonl lines and ${s.merkleSize} Merkle leaves for ${written} written rows`,
    },
    {
      gate: 'output-schema',
      passed: s.typeChecked === expectedChecks,
      detail:
        (s.typedFields === 0
          ? 'no output field declares a type; every row carried exactly the declared output fields'
          : `${s.typeChecked} of ${expectedChecks} values (${s.typedFields} typed field(s) × ${written} rows) checked against their declared types`) +
        (s.requiredFields && s.requiredFields.length > 0
          ? `; required ${s.requiredFields.join(', ')}: never empty`
          : ''),
    },
    {
      gate: 'output-pii-scan',
      // A match fails its batch at once (naming field and row); reaching here means none was found.
      passed: true,
      detail:
        s.piiScanFields.length === 0
          ? 'no output field is masked text or declared harmless: nothing to scan'
          : `${s.piiScanned} values of ${s.piiScanFields.join(', ')} scanned by the PII detectors: none holds personal data`,
    },
    {
      gate: 'retention',
      passed:
        s.retention.shortest === null ||
        durationMs(s.retention.export) <= durationMs(s.retention.shortest.retention),
      detail:
        s.retention.shortest === null
          ? `export retention ${s.retention.export}; no field it reads has a catalogued retention`
          : `export retention ${s.retention.export}; the shortest retention of a field it reads is ${s.retention.shortest.retention} (${s.retention.shortest.field})`,
    },
    {
      gate: 'k-anonymity',
      passed: s.kAnonymity === null || s.kAnonymity.recordsBelow === 0,
      detail: kAnonymityDetail(s.kAnonymity),
    },
    {
      gate: 'volume-limits',
      passed:
        (s.limits.maxRows === undefined || written <= s.limits.maxRows) &&
        (s.limits.maxBytes === undefined || s.payloadBytes <= s.limits.maxBytes),
      detail:
        s.limits.maxRows === undefined && s.limits.maxBytes === undefined
          ? `${written} rows, ${s.payloadBytes} bytes; the definition sets no limits`
          : `${written} rows (limit ${s.limits.maxRows ?? 'none'}), ${s.payloadBytes} bytes (limit ${s.limits.maxBytes ?? 'none'})`,
    },
  ];
}
