import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { RoundSpec } from './transform-specs.js';

export type { RoundSpec };

function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export function compileRound(spec: RoundSpec, field: string): CompiledTransform {
  const step = spec.to ?? 10 ** -(spec.places ?? 0);
  const places = spec.places ?? 0;
  const recorded = spec.to !== undefined ? { type: 'round', to: spec.to } : { type: 'round', places };
  return {
    type: 'round',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze(recorded),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      const x =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      if (!Number.isFinite(x)) {
        throw transformFailed(
          'round',
          field,
          `expected a number, got ${typeof value === 'string' ? 'a string that is not one' : `a ${cellTypeName(value)}`}`,
        );
      }
      if (spec.to !== undefined) return roundHalfAway(x / step) * step;
      // Scaling by a power of ten and back keeps 2.675 → 2.68 honest only through the decimal string.
      const r = Number(`${roundHalfAway(Number(`${x}e${places}`))}e${-places}`);
      return Object.is(r, -0) ? 0 : r;
    },
  };
}
