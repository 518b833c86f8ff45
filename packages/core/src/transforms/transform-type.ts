/** Every transform a definition can name, in documentation order. */
export const transformTypes = Object.freeze([
  'keep',
  'drop',
  'nullify',
  'redact',
  'replace',
  'mask_partial',
  'mask_charclass',
  'mask_email',
  'hash_keyed',
  'date_truncate',
  'bucket',
  'round',
  'pseudonym_fake',
  'scan_and_apply',
  'encrypt',
  'encrypt_deterministic',
  'date_shift',
  'tokenize',
] as const);

/** The name of a transform (`transform: mask_email` or `{ type: mask_partial, … }`). */
export type TransformType = (typeof transformTypes)[number];

/** Transforms that can be written as a bare string because all their parameters are optional. */
export type ParameterlessTransformType =
  'keep' | 'drop' | 'nullify' | 'redact' | 'mask_email' | 'mask_charclass' | 'round' | 'scan_and_apply';

/** Transforms that take an HMAC key of the key ring (`key:`): the run fetches those keys once. */
export const KEYED_TRANSFORMS: ReadonlySet<string> = new Set([
  'hash_keyed',
  'pseudonym_fake',
  'encrypt',
  'encrypt_deterministic',
  'date_shift',
  'tokenize',
]);
