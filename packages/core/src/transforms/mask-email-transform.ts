import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { MaskEmailSpec } from './transform-specs.js';

export type { MaskEmailSpec };

/** What `mask_email` puts in place of the hidden part of the local part, and of a value that is no email. */
const MASK = '***';
const WHITESPACE = /\s/;

export function compileMaskEmail(_spec: MaskEmailSpec, field: string): CompiledTransform {
  return {
    type: 'mask_email',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'mask_email' }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      if (typeof value !== 'string') {
        throw transformFailed('mask_email', field, `expected a string, got a ${cellTypeName(value)}`);
      }
      // The last `@` separates the domain: a quoted local part may itself contain `@` (RFC 5321 §4.1.2).
      const at = value.lastIndexOf('@');
      if (at <= 0 || at === value.length - 1) return MASK;
      const domain = value.slice(at + 1);
      if (WHITESPACE.test(domain)) return MASK;
      const first = value.codePointAt(0) ?? 0;
      const firstLength = first > 0xffff ? 2 : 1;
      if (firstLength >= at) return `${MASK}@${domain}`;
      return `${value.slice(0, firstLength)}${MASK}@${domain}`;
    },
  };
}
