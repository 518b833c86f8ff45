import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { BucketSpec } from './transform-specs.js';

export type { BucketSpec };

// A plain decimal number as text: optional sign, digits with an optional fraction, optional exponent. No
// whitespace, thousands separators, hex, `Infinity` or `NaN`.
const NUMERIC_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

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
