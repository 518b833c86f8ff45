import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { MaskCharclassSpec } from './transform-specs.js';

export type { MaskCharclassSpec };

const UPPER = /\p{Lu}/u;
const DIGIT = /\p{N}/u;

/** Upper-case letters become `X`, other letters `x`, digits `0`; everything else is kept. */
export function maskCharacterClasses(s: string): string {
  return s.replace(/[\p{L}\p{N}]/gu, (c) => (UPPER.test(c) ? 'X' : DIGIT.test(c) ? '0' : 'x'));
}

export function compileMaskCharclass(_spec: MaskCharclassSpec, field: string): CompiledTransform {
  return {
    type: 'mask_charclass',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'mask_charclass' }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      if (typeof value === 'string') return maskCharacterClasses(value);
      if (typeof value === 'number' && Number.isFinite(value)) return maskCharacterClasses(String(value));
      throw transformFailed(
        'mask_charclass',
        field,
        `expected a string or a number, got a ${cellTypeName(value)}`,
      );
    },
  };
}
