import type { CellValue } from '../ports/source.js';
import type { TokenVaultEntry } from './tokenize-transform.js';
import type { TransformType } from './transform-type.js';

/**
 * A transform ready to run on every value of one field. Compiling does all validation and precomputation,
 * so `apply` is cheap and allocation-light: it runs once per row on millions of rows.
 */
export interface CompiledTransform {
  readonly type: TransformType;
  /** The field the transform was compiled for (used in error messages). */
  readonly field: string;
  /** True for `drop`: the pipeline must omit the field from the output; `apply` then returns `null`. */
  readonly drops: boolean;
  /** True for every transform except `keep` (OpenLineage column lineage `masking: true`). */
  readonly masking: boolean;
  /**
   * The transform as recorded in the waybill: `type` plus every parameter with its defaults filled in.
   * Never contains secrets; `hash_keyed` records the key name and key id instead.
   */
  readonly recorded: Readonly<Record<string, unknown>>;
  /**
   * Transforms one value. Throws `ERR_WAYBILL_TRANSFORM_FAILED` on a value of the wrong type; the message
   * names the transform and the field, never the value.
   */
  apply(value: CellValue, subject?: CellValue): CellValue;
  /** Set when `apply` needs the row's subject (the record id, or `subjectColumn`) as its second argument. */
  readonly needsSubject?: boolean;
  /** The source column holding the subject, when not the record id. */
  readonly subjectColumn?: string;
  /** `tokenize`: hands over (and forgets) the vault entries of the tokens made since the last call. */
  drainVault?(): TokenVaultEntry[];
}
