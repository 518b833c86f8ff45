import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';

/**
 * `drop`: the field is removed from the output. The pipeline acts on `drops: true`; `apply` returns `null` so
 * that a pipeline that forgets to check `drops` still never emits the value.
 */
export const dropSpecSchema = z.strictObject({ type: z.literal('drop') });
export type DropSpec = z.output<typeof dropSpecSchema>;

export function compileDrop(_spec: DropSpec, field: string): CompiledTransform {
  return {
    type: 'drop',
    field,
    drops: true,
    masking: true,
    recorded: Object.freeze({ type: 'drop' }),
    apply: (_value: CellValue): CellValue => null,
  };
}
