import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';

/** `keep`: the value passes through unchanged. The only transform that is not masking. */
export const keepSpecSchema = z.strictObject({ type: z.literal('keep') });
export type KeepSpec = z.output<typeof keepSpecSchema>;

export function compileKeep(_spec: KeepSpec, field: string): CompiledTransform {
  return {
    type: 'keep',
    field,
    drops: false,
    masking: false,
    recorded: Object.freeze({ type: 'keep' }),
    apply: (value: CellValue): CellValue => value,
  };
}
