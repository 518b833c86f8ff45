import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { KeepSpec } from './transform-specs.js';

export type { KeepSpec };

/** `keep`: the value passes through unchanged. The only transform that is not masking. */

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
