import type { CellValue } from '../ports/source.js';
import { countCodePoints, indexAfterCodePoints, indexOfLastCodePoints } from './code-points.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { MaskPartialSpec } from './transform-specs.js';

export type { MaskPartialSpec };

export function compileMaskPartial(spec: MaskPartialSpec, field: string): CompiledTransform {
  const { keep, n, char } = spec;
  const keepFirst = keep === 'first';
  const keepEnds = keep === 'ends';
  return {
    type: 'mask_partial',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'mask_partial', keep, n, char }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      let s: string;
      if (typeof value === 'string') s = value;
      else if (typeof value === 'number' && Number.isFinite(value)) s = String(value);
      else
        throw transformFailed(
          'mask_partial',
          field,
          `expected a string or a number, got a ${cellTypeName(value)}`,
        );

      if (keepEnds) {
        const total = countCodePoints(s);
        if (total <= 2 * n) return char.repeat(total);
        const head = indexAfterCodePoints(s, n);
        const tail = indexOfLastCodePoints(s, n);
        return s.slice(0, head) + char.repeat(total - 2 * n) + s.slice(tail);
      }
      if (keepFirst) {
        const cut = indexAfterCodePoints(s, n);
        if (cut < 0) return char.repeat(countCodePoints(s));
        return s.slice(0, cut) + char.repeat(countCodePoints(s, cut));
      }
      const cut = indexOfLastCodePoints(s, n);
      if (cut < 0) return char.repeat(countCodePoints(s));
      return char.repeat(countCodePoints(s, 0, cut)) + s.slice(cut);
    },
  };
}
