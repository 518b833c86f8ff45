import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { DropSpec } from './transform-specs.js';

export type { DropSpec };

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
