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
  readonly recordCount: number;
  readonly merkleRoot: string;
  readonly merkleSize: number;
  readonly payloadSha256: string;
  readonly payloadBytes: number;
  readonly recordsSha256: string;
  readonly instance: string;
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
        s.typedFields === 0
          ? 'no output field declares a type; every row carried exactly the declared output fields'
          : `${s.typeChecked} of ${expectedChecks} values (${s.typedFields} typed field(s) × ${written} rows) checked against their declared types`,
    },
  ];
}
