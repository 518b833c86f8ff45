import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';

/**
 * `round`: coarsens a number, to `places` decimal places (default 0; negative places round to tens,
 * hundreds…) or to the nearest multiple of `to` (`{ to: 5000 }` for salary bands). Half-way values round
 * away from zero. Numeric strings are read as numbers; the output is a number; `null` stays `null`.
 */
export const roundSpecSchema = z
  .strictObject({
    type: z.literal('round'),
    places: z.number().int().min(-15).max(15).optional(),
    to: z.number().positive({ error: 'must be a positive number' }).optional(),
  })
  .refine((s) => s.places === undefined || s.to === undefined, {
    error: 'must give `places` or `to`, not both',
  });
export type RoundSpec = z.output<typeof roundSpecSchema>;

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
