import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { RedactSpec } from './transform-specs.js';

export type { RedactSpec };

/** The text `redact` writes unless the definition says otherwise. */
export const DEFAULT_REDACTION = '[REDACTED]';

export function compileRedact(spec: RedactSpec, field: string): CompiledTransform {
  const replacement = spec.with;
  return {
    type: 'redact',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'redact', with: replacement }),
    apply: (_value: CellValue): CellValue => replacement,
  };
}
