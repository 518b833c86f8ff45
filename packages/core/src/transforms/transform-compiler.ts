import type { CompiledTransform } from './compiled-transform.js';
import { compileBucket } from './bucket-transform.js';
import { compileDateTruncate } from './date-truncate-transform.js';
import { compileDrop } from './drop-transform.js';
import { compileHashKeyed } from './hash-keyed-transform.js';
import { compileKeep } from './keep-transform.js';
import { compileMaskEmail } from './mask-email-transform.js';
import { compileMaskCharclass } from './mask-charclass-transform.js';
import { compileMaskPartial } from './mask-partial-transform.js';
import { compilePseudonymFake } from './pseudonym-fake-transform.js';
import { compileRound } from './round-transform.js';
import { compileScanAndApply } from './scan-and-apply-transform.js';
import { compileDateShift } from './date-shift-transform.js';
import { compileEncrypt, compileEncryptDeterministic } from './encrypt-transform.js';
import { compileTokenize } from './tokenize-transform.js';
import { compileNullify } from './nullify-transform.js';
import { compileRedact } from './redact-transform.js';
import { compileReplace } from './replace-transform.js';
import type { TransformContext } from './transform-context.js';
import type { TransformSpec } from './transform-registry.js';

/**
 * Compiles a transform spec that has already been validated (`parseTransformSpec`, or a definition
 * parsed by its schema): what `compileTransform` does after validation. Without zod, so a worker thread
 * compiling the plan of a validated definition does not load it.
 */
export function compileValidTransform(
  valid: TransformSpec,
  field: string,
  ctx: TransformContext,
): CompiledTransform {
  switch (valid.type) {
    case 'keep':
      return compileKeep(valid, field);
    case 'drop':
      return compileDrop(valid, field);
    case 'nullify':
      return compileNullify(valid, field);
    case 'redact':
      return compileRedact(valid, field);
    case 'replace':
      return compileReplace(valid, field);
    case 'mask_partial':
      return compileMaskPartial(valid, field);
    case 'mask_email':
      return compileMaskEmail(valid, field);
    case 'hash_keyed':
      return compileHashKeyed(valid, field, ctx);
    case 'date_truncate':
      return compileDateTruncate(valid, field);
    case 'bucket':
      return compileBucket(valid, field);
    case 'mask_charclass':
      return compileMaskCharclass(valid, field);
    case 'round':
      return compileRound(valid, field);
    case 'pseudonym_fake':
      return compilePseudonymFake(valid, field, ctx);
    case 'scan_and_apply':
      return compileScanAndApply(valid, field);
    case 'encrypt':
      return compileEncrypt(valid, field, ctx);
    case 'encrypt_deterministic':
      return compileEncryptDeterministic(valid, field, ctx);
    case 'date_shift':
      return compileDateShift(valid, field, ctx);
    case 'tokenize':
      return compileTokenize(valid, field, ctx);
  }
}
