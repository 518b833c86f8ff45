import { z } from 'zod';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';

/** The text `redact` writes unless the definition says otherwise. */
export const DEFAULT_REDACTION = '[REDACTED]';

/**
 * `redact`: every value, `null` included, becomes a fixed string (`[REDACTED]` unless `with` says otherwise).
 * Nulls are redacted too because whether a value is present can itself be sensitive.
 */
export const redactSpecSchema = z.strictObject({
  type: z.literal('redact'),
  with: z.string().default(DEFAULT_REDACTION),
});
export type RedactSpec = z.output<typeof redactSpecSchema>;

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
