import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';

// A plain decimal number as text: optional sign, digits with an optional fraction, optional exponent. No
// whitespace, thousands separators, hex, `Infinity` or `NaN`.
const NUMERIC_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * `bucket`: replaces a number by the label of the interval it falls in. `boundaries` b0 < b1 < … < bk split the
 * line into k+2 half-open intervals (-∞, b0), [b0, b1), …, [bk, +∞): a value equal to a boundary belongs to the
 * interval that starts there.
 *
 * Without `labels`, intervals are labelled `<b0`, `b0-b1`, …, `>=bk` (e.g. `<100`, `100-1000`, `>=1000`); with
 * `labels`, there must be one per interval (boundaries.length + 1). Numbers and numeric strings (integers beyond
 * ±2^53 arrive as decimal strings) are accepted; other strings, booleans and non-finite numbers are an error.
 * `null` stays `null`. The output is always a string label.
 */
export const bucketSpecSchema = z
  .strictObject({
    type: z.literal('bucket'),
    boundaries: z.array(z.number()).min(1, { error: 'must list at least one boundary' }),
    labels: z.array(z.string()).optional(),
  })
  .superRefine((spec, ctx) => {
    for (let i = 1; i < spec.boundaries.length; i++) {
      if (!((spec.boundaries[i - 1] ?? NaN) < (spec.boundaries[i] ?? NaN))) {
        ctx.addIssue({
          code: 'custom',
          path: ['boundaries', i],
          message: 'must be strictly ascending (each boundary greater than the one before)',
        });
        return;
      }
    }
    if (spec.labels !== undefined && spec.labels.length !== spec.boundaries.length + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['labels'],
        message: `must have one label per interval: ${spec.boundaries.length + 1} for ${spec.boundaries.length} boundaries, got ${spec.labels.length}`,
      });
    }
  });
export type BucketSpec = z.output<typeof bucketSpecSchema>;

/** The labels `<b0`, `b0-b1`, …, `>=bk` used when the definition gives none. */
function defaultLabels(boundaries: readonly number[]): string[] {
  const labels = [`<${boundaries[0]}`];
  for (let i = 1; i < boundaries.length; i++) labels.push(`${boundaries[i - 1]}-${boundaries[i]}`);
  labels.push(`>=${boundaries[boundaries.length - 1]}`);
  return labels;
}

export function compileBucket(spec: BucketSpec, field: string): CompiledTransform {
  const bounds = Float64Array.from(spec.boundaries);
  const labels = Object.freeze(spec.labels ? [...spec.labels] : defaultLabels(spec.boundaries));
  return {
    type: 'bucket',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'bucket', boundaries: Object.freeze([...spec.boundaries]), labels }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      let x: number;
      if (typeof value === 'number') x = value;
      else if (typeof value === 'string' && NUMERIC_TEXT.test(value)) x = Number(value);
      else if (typeof value === 'string')
        throw transformFailed('bucket', field, 'expected a number, got a non-numeric string');
      else throw transformFailed('bucket', field, `expected a number, got a ${cellTypeName(value)}`);
      if (!Number.isFinite(x)) throw transformFailed('bucket', field, 'expected a finite number');

      // Binary search for the number of boundaries <= x, which is the interval's index.
      let lo = 0;
      let hi = bounds.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (bounds[mid]! <= x) lo = mid + 1;
        else hi = mid;
      }
      return labels[lo]!;
    },
  };
}
