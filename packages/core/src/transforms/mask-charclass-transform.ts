import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';

const UPPER = /\p{Lu}/u;
const DIGIT = /\p{N}/u;

/** Upper-case letters become `X`, other letters `x`, digits `0`; everything else is kept. */
export function maskCharacterClasses(s: string): string {
  return s.replace(/[\p{L}\p{N}]/gu, (c) => (UPPER.test(c) ? 'X' : DIGIT.test(c) ? '0' : 'x'));
}

/**
 * `mask_charclass`: keeps only the shape of a value (Cloud DLP's character-class masking): every upper-case
 * letter becomes `X`, every other letter `x`, every digit `0`; punctuation, spaces and symbols stay.
 * `Ann-Lee 42` → `Xxx-Xxx 00`. Numbers are masked in their decimal form; `null` stays `null`.
 */
export const maskCharclassSpecSchema = z.strictObject({ type: z.literal('mask_charclass') });
export type MaskCharclassSpec = z.output<typeof maskCharclassSpecSchema>;

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
