import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { ReplaceSpec } from './transform-specs.js';

export type { ReplaceSpec };

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
