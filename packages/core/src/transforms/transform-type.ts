/** Every transform a definition can name, in documentation order. */
export const transformTypes = Object.freeze([
  'keep',
  'drop',
  'nullify',
  'redact',
  'replace',
  'mask_partial',
  'mask_email',
  'hash_keyed',
  'date_truncate',
  'bucket',
] as const);

/** The name of a transform (`transform: mask_email` or `{ type: mask_partial, … }`). */
export type TransformType = (typeof transformTypes)[number];

/** Transforms that can be written as a bare string because all their parameters are optional. */
export type ParameterlessTransformType = 'keep' | 'drop' | 'nullify' | 'redact' | 'mask_email';
