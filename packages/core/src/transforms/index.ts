export { transformTypes } from './transform-type.js';
export { compileTransform, parseTransformSpec, transformSpecSchema } from './transform-registry.js';
export { DEFAULT_REDACTION } from './redact-transform.js';

export type { TransformType, ParameterlessTransformType } from './transform-type.js';
export type { TransformSpec, TransformSpecInput } from './transform-registry.js';
export type { CompiledTransform } from './compiled-transform.js';
export type { HmacKey, TransformContext } from './transform-context.js';
export type { KeepSpec } from './keep-transform.js';
export type { DropSpec } from './drop-transform.js';
export type { NullifySpec } from './nullify-transform.js';
export type { RedactSpec } from './redact-transform.js';
export type { ReplaceSpec } from './replace-transform.js';
export type { MaskPartialSpec } from './mask-partial-transform.js';
export type { MaskEmailSpec } from './mask-email-transform.js';
export type { HashKeyedSpec } from './hash-keyed-transform.js';
export type { DateTruncateSpec } from './date-truncate-transform.js';
export type { BucketSpec } from './bucket-transform.js';
