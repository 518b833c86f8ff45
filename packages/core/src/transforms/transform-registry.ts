import { WaybillError } from '@waybill/verify';
import { z } from 'zod';
import type { CompiledTransform } from './compiled-transform.js';
import { compileValidTransform } from './transform-compiler.js';
import {
  bucketSpecSchema,
  dateShiftSpecSchema,
  dateTruncateSpecSchema,
  dropSpecSchema,
  encryptDeterministicSpecSchema,
  encryptSpecSchema,
  hashKeyedSpecSchema,
  keepSpecSchema,
  maskCharclassSpecSchema,
  maskEmailSpecSchema,
  maskPartialSpecSchema,
  nullifySpecSchema,
  pseudonymFakeSpecSchema,
  redactSpecSchema,
  replaceSpecSchema,
  roundSpecSchema,
  scanAndApplySpecSchema,
  tokenizeSpecSchema,
} from './transform-specs.js';
import type { TransformContext } from './transform-context.js';
import { transformInvalid } from './transform-errors.js';
import { transformTypes, type ParameterlessTransformType, type TransformType } from './transform-type.js';

const specSchemas = {
  keep: keepSpecSchema,
  drop: dropSpecSchema,
  nullify: nullifySpecSchema,
  redact: redactSpecSchema,
  replace: replaceSpecSchema,
  mask_partial: maskPartialSpecSchema,
  mask_charclass: maskCharclassSpecSchema,
  mask_email: maskEmailSpecSchema,
  hash_keyed: hashKeyedSpecSchema,
  date_truncate: dateTruncateSpecSchema,
  bucket: bucketSpecSchema,
  round: roundSpecSchema,
  pseudonym_fake: pseudonymFakeSpecSchema,
  scan_and_apply: scanAndApplySpecSchema,
  encrypt: encryptSpecSchema,
  encrypt_deterministic: encryptDeterministicSpecSchema,
  date_shift: dateShiftSpecSchema,
  tokenize: tokenizeSpecSchema,
} as const satisfies Record<TransformType, z.ZodType>;

const transformObjectSchema = z.discriminatedUnion('type', [
  keepSpecSchema,
  dropSpecSchema,
  nullifySpecSchema,
  redactSpecSchema,
  replaceSpecSchema,
  maskPartialSpecSchema,
  maskCharclassSpecSchema,
  maskEmailSpecSchema,
  hashKeyedSpecSchema,
  dateTruncateSpecSchema,
  bucketSpecSchema,
  roundSpecSchema,
  pseudonymFakeSpecSchema,
  scanAndApplySpecSchema,
  encryptSpecSchema,
  encryptDeterministicSpecSchema,
  dateShiftSpecSchema,
  tokenizeSpecSchema,
]);

/**
 * The `transform:` of a field in a definition: a bare name for a transform without required parameters
 * (`transform: redact`) or an object discriminated on `type` (`{ type: mask_partial, keep: last, n: 4 }`).
 * Unknown parameters are rejected so a typo cannot silently weaken a mask. The output has defaults filled in.
 *
 * @example
 * ```ts
 * transformSpecSchema.parse('mask_email'); // { type: 'mask_email' }
 * transformSpecSchema.parse({ type: 'mask_partial', keep: 'last', n: 4 }); // { …, char: '*' }
 * ```
 */
export const transformSpecSchema = z.preprocess(
  (input) => (typeof input === 'string' ? { type: input } : input),
  transformObjectSchema,
);

/** A validated transform spec, defaults filled in. */
export type TransformSpec = z.output<typeof transformObjectSchema>;

/** A transform spec as written: a bare name or an object whose defaulted parameters may be left out. */
export type TransformSpecInput = ParameterlessTransformType | z.input<typeof transformObjectSchema>;

/**
 * Validates a transform spec as written in a definition. Errors are `ERR_WAYBILL_TRANSFORM_INVALID` and name the
 * field, the transform and the offending parameter.
 *
 * @example
 * ```ts
 * parseTransformSpec({ type: 'bucket', boundaries: [100, 1000] }, 'lifetime_value');
 * ```
 */
export function parseTransformSpec(input: unknown, field: string): TransformSpec {
  const candidate = typeof input === 'string' ? { type: input } : input;
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    throw unknownTransform(field, 'must be a transform name or an object with a "type"');
  }
  const type: unknown = (candidate as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(specSchemas, type)) {
    const named = typeof type === 'string' ? `"${type}" is not a transform` : 'the "type" is missing';
    throw unknownTransform(field, `${named}; expected one of ${transformTypes.join(', ')}`);
  }
  const schema: z.ZodType = specSchemas[type as TransformType];
  const result = schema.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue === undefined) throw transformInvalid(type, field, '', 'is invalid');
    if (issue.code === 'unrecognized_keys') {
      const allowed = Object.keys((specSchemas[type as TransformType] as { shape?: object }).shape ?? {})
        .filter((k) => k !== 'type')
        .join(', ');
      throw transformInvalid(
        type,
        field,
        issue.keys.join('", "'),
        `is not a parameter of ${type}${allowed === '' ? ' (it takes none)' : `; its parameters are ${allowed}`}`,
      );
    }
    const parameter = issue.path.map(String).join('.');
    // Our own messages read "must …"/"is …"; zod's own ("Invalid option: …") are quoted as the reason.
    const problem = /^(must|is) /.test(issue.message)
      ? issue.message
      : issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
        ? 'is required'
        : `is invalid (${issue.message})`;
    throw transformInvalid(type, field, parameter, problem);
  }
  return result.data as TransformSpec;
}

/**
 * Validates `spec` and compiles it for `field`: every parameter is checked and every constant precomputed here,
 * so `apply` stays cheap per row. HMAC keys are fetched from `ctx` now, once.
 *
 * Null handling: every transform maps `null` to `null` except `redact` and `replace`, which replace it like any
 * other value (whether a value is present can itself be sensitive), and `nullify`/`drop`.
 *
 * @throws `ERR_WAYBILL_TRANSFORM_INVALID` for an unknown transform or a bad parameter (named in the message);
 *   for `hash_keyed`, the key ring's error (e.g. `ERR_WAYBILL_KEY_NOT_FOUND`) or `ERR_WAYBILL_SECRET_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const mask = compileTransform({ type: 'mask_partial', keep: 'last', n: 4 }, 'card_number', ctx);
 * mask.apply('4111111111111111'); // '************1111'
 * ```
 */
export function compileTransform(
  spec: TransformSpecInput,
  field: string,
  ctx: TransformContext,
): CompiledTransform {
  return compileValidTransform(parseTransformSpec(spec, field), field, ctx);
}

function unknownTransform(field: string, problem: string): WaybillError {
  return new WaybillError(
    'ERR_WAYBILL_TRANSFORM_INVALID',
    `Invalid transform on field "${field}": ${problem}. Fix the transform in the definition.`,
  );
}
