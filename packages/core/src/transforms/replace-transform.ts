import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';

/**
 * `replace`: every value, `null` included, becomes the constant `value` (a string, number, boolean or null).
 * Nulls are replaced too because whether a value is present can itself be sensitive.
 */
export const replaceSpecSchema = z.strictObject({
  type: z.literal('replace'),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()], {
    error: 'is required and must be a string, a finite number, a boolean or null',
  }),
});
export type ReplaceSpec = z.output<typeof replaceSpecSchema>;

export function compileReplace(spec: ReplaceSpec, field: string): CompiledTransform {
  const constant: CellValue = spec.value;
  return {
    type: 'replace',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'replace', value: constant }),
    apply: (_value: CellValue): CellValue => constant,
  };
}
