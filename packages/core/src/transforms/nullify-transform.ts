import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { NullifySpec } from './transform-specs.js';

export type { NullifySpec };

/** `nullify`: the field stays in the output, every value becomes `null`. */

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
