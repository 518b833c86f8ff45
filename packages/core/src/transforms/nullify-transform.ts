import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';

/** `nullify`: the field stays in the output, every value becomes `null`. */
export const nullifySpecSchema = z.strictObject({ type: z.literal('nullify') });
export type NullifySpec = z.output<typeof nullifySpecSchema>;

export function compileNullify(_spec: NullifySpec, field: string): CompiledTransform {
  return {
    type: 'nullify',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'nullify' }),
    apply: (_value: CellValue): CellValue => null,
  };
}
