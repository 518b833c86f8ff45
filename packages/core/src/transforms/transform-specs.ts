import { z } from 'zod';
import { countCodePoints } from './code-points.js';
import { DIGEST_LENGTH } from './hash-keyed-transform.js';
import { DEFAULT_REDACTION } from './redact-transform.js';

// The parameters of every transform, as zod schemas: what a definition may write, with defaults. Kept
// apart from the transforms' code so that a worker thread, which compiles transforms from a definition
// the main thread has already validated, does not load zod (about 95 modules and 4 MB of heap).

/**
 * `bucket`: replaces a number by the label of the interval it falls in. `boundaries` b0 < b1 < … < bk split the
 * line into k+2 half-open intervals (-∞, b0), [b0, b1), …, [bk, +∞): a value equal to a boundary belongs to the
 * interval that starts there.
 *
 * Without `labels`, intervals are labelled `<b0`, `b0-b1`, …, `>=bk` (e.g. `<100`, `100-1000`, `>=1000`); with
 * `labels`, there must be one per interval (boundaries.length + 1). Numbers and numeric strings (integers beyond
 * ±2^53 arrive as decimal strings) are accepted; other strings, booleans and non-finite numbers are an error.
 * `null` stays `null`. The output is always a string label.
 */
export const bucketSpecSchema = z
  .strictObject({
    type: z.literal('bucket'),
    boundaries: z.array(z.number()).min(1, { error: 'must list at least one boundary' }),
    labels: z.array(z.string()).optional(),
  })
  .superRefine((spec, ctx) => {
    for (let i = 1; i < spec.boundaries.length; i++) {
      if (!((spec.boundaries[i - 1] ?? NaN) < (spec.boundaries[i] ?? NaN))) {
        ctx.addIssue({
          code: 'custom',
          path: ['boundaries', i],
          message: 'must be strictly ascending (each boundary greater than the one before)',
        });
        return;
      }
    }
    if (spec.labels !== undefined && spec.labels.length !== spec.boundaries.length + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['labels'],
        message: `must have one label per interval: ${spec.boundaries.length + 1} for ${spec.boundaries.length} boundaries, got ${spec.labels.length}`,
      });
    }
  });
export type BucketSpec = z.output<typeof bucketSpecSchema>;

/**
 * `date_shift`: moves every date of a subject (a patient, a customer) by the same number of days, at most
 * `days` either way, chosen by an HMAC of the subject under a named key: intervals between a subject's
 * dates survive (the time between admission and discharge), the dates themselves do not. The subject is
 * the record id unless `subject` names another column. Dates (`2024-05-17`) stay dates; timestamps
 * (`2024-05-17T10:30:00Z`) stay timestamps in UTC. `null` stays `null`.
 */
export const dateShiftSpecSchema = z.strictObject({
  type: z.literal('date_shift'),
  days: z.number().int().min(1).max(3650),
  key: z.string().min(1, { error: 'must name a key of the key ring' }),
  subject: z.string().min(1).max(128).optional(),
});
export type DateShiftSpec = z.output<typeof dateShiftSpecSchema>;

/**
 * `date_truncate`: lowers the precision of a date or timestamp to its year, month or day.
 *
 * The output keeps the input's shape:
 * - a date `YYYY-MM-DD` stays a date: `1987-06-15` → `1987-01-01` (year), `1987-06-01` (month), `1987-06-15` (day);
 * - an RFC 3339 timestamp with an offset (`Z`, `+02:00`, …) is converted to UTC and truncated to midnight UTC:
 *   `2024-03-01T01:30:00+02:00` → day `2024-02-29T00:00:00Z`;
 * - a date-time without an offset (`2024-03-01T01:30:00`, as some databases store it) is truncated on its own
 *   wall clock and stays without offset: `2024-03-01T00:00:00`.
 *
 * Separators `T`, `t` or a space and fractional seconds are accepted (RFC 3339 §5.6); a leap second `:60` is
 * accepted and stays in its day. Anything else, and any non-string, is an error. `null` stays `null`.
 */
export const dateTruncateSpecSchema = z.strictObject({
  type: z.literal('date_truncate'),
  unit: z.enum(['year', 'month', 'day']),
});
export type DateTruncateSpec = z.output<typeof dateTruncateSpecSchema>;

/**
 * `drop`: the field is removed from the output. The pipeline acts on `drops: true`; `apply` returns `null` so
 * that a pipeline that forgets to check `drops` still never emits the value.
 */
export const dropSpecSchema = z.strictObject({ type: z.literal('drop') });
export type DropSpec = z.output<typeof dropSpecSchema>;

/**
 * `encrypt` and `encrypt_deterministic`: reversible encryption of a value with AES-256-GCM under a key
 * derived (HKDF-SHA-256, one label per use) from a named key of the key ring; the waybill records the
 * key's name and id, never the key. The output is text: a version prefix and base64url of
 * IV ‖ ciphertext ‖ tag.
 *
 * - `encrypt` (`wbe1:`): a random 96-bit IV per value: equal values encrypt differently.
 * - `encrypt_deterministic` (`wbs1:`): AES-256-SIV (RFC 5297) under a 512-bit derived key, the output
 *   V ‖ C: equal values under the same key always give the same text, so encrypted columns still join
 *   across exports, and nothing else is revealed but equality.
 *
 * Numbers are encrypted in their decimal form; `null` stays `null`; booleans are an error. Decrypting is
 * a separate operation (`decryptValue`) for holders of the key.
 */
export const encryptSpecSchema = z.strictObject({
  type: z.literal('encrypt'),
  key: z.string().min(1, { error: 'must name a key of the key ring' }),
});
export const encryptDeterministicSpecSchema = z.strictObject({
  type: z.literal('encrypt_deterministic'),
  key: z.string().min(1, { error: 'must name a key of the key ring' }),
});
export type EncryptSpec = z.output<typeof encryptSpecSchema>;
export type EncryptDeterministicSpec = z.output<typeof encryptDeterministicSpecSchema>;

/**
 * `hash_keyed`: a keyed pseudonym, HMAC (RFC 2104) of the value under a named key from the key ring. The same
 * value under the same key always gives the same output, so pseudonymized columns still join; without the key
 * the output cannot be linked back by hashing guesses. There is deliberately no unkeyed hash: a plain hash of
 * an email or a phone number is reversed by hashing candidates.
 *
 * The HMAC input is the UTF-8 text of the value: a string as is, a number in its shortest round-trip decimal
 * form (`String(n)`, as RFC 8785 writes numbers). So `123` and `"123"` hash alike, which keeps integers that
 * some sources deliver as decimal strings (beyond ±2^53) consistent with those delivered as numbers. `null` stays
 * `null`; booleans are an error (a hash of two possible values hides nothing).
 *
 * `length` truncates the encoded digest to that many characters. The waybill records the key name and the key
 * id, never the secret.
 */
export const hashKeyedSpecSchema = z
  .strictObject({
    type: z.literal('hash_keyed'),
    key: z.string().min(1, { error: 'must name a key of the key ring' }),
    algorithm: z.enum(['sha256', 'sha512']).default('sha256'),
    encoding: z.enum(['hex', 'base64url']).default('hex'),
    length: z.number().int().min(1).optional(),
  })
  .superRefine((spec, ctx) => {
    const max = DIGEST_LENGTH[spec.algorithm][spec.encoding];
    if (spec.length !== undefined && spec.length > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['length'],
        message: `must be at most ${max}, the length of a ${spec.algorithm} digest in ${spec.encoding}`,
      });
    }
  });
export type HashKeyedSpec = z.output<typeof hashKeyedSpecSchema>;

export const keepSpecSchema = z.strictObject({ type: z.literal('keep') });
export type KeepSpec = z.output<typeof keepSpecSchema>;

/**
 * `mask_charclass`: keeps only the shape of a value (Cloud DLP's character-class masking): every upper-case
 * letter becomes `X`, every other letter `x`, every digit `0`; punctuation, spaces and symbols stay.
 * `Ann-Lee 42` → `Xxx-Xxx 00`. Numbers are masked in their decimal form; `null` stays `null`.
 */
export const maskCharclassSpecSchema = z.strictObject({ type: z.literal('mask_charclass') });
export type MaskCharclassSpec = z.output<typeof maskCharclassSpecSchema>;

/**
 * `mask_email`: keeps the first character of the local part and the whole domain, `jane.doe@example.com` →
 * `j***@example.com`. The mask has a fixed width, so the local part's length is not revealed; a one-character
 * local part is masked entirely (`***@example.com`). A value that is not an email (no `@`, nothing before or
 * after the last `@`, or whitespace in the domain) becomes `***`. The domain is kept verbatim: do not use this
 * transform where the domain itself identifies a person. `null` stays `null`; non-strings are an error.
 */
export const maskEmailSpecSchema = z.strictObject({ type: z.literal('mask_email') });
export type MaskEmailSpec = z.output<typeof maskEmailSpecSchema>;

/**
 * `mask_partial`: keeps the first or last `n` characters (or, with `ends`, `n` at each end) and replaces every
 * other character with `char`.
 *
 * Characters are Unicode code points, not UTF-16 units, so an emoji is masked by one `char`. (A combining
 * sequence such as `e` + U+0301 is two code points and is masked as two.) The output has as many code points as
 * the input: partial masking reveals the length. A value of `n` code points or fewer is masked entirely, so short
 * values are never revealed whole. Numbers are masked in their decimal form and become strings; `null` stays
 * `null`; booleans are an error.
 */
export const maskPartialSpecSchema = z.strictObject({
  type: z.literal('mask_partial'),
  keep: z.enum(['first', 'last', 'ends']),
  n: z.number().int().min(0),
  char: z
    .string()
    .refine((c) => c.length > 0 && countCodePoints(c) === 1, { error: 'must be exactly one character' })
    .default('*'),
});
export type MaskPartialSpec = z.output<typeof maskPartialSpecSchema>;

export const nullifySpecSchema = z.strictObject({ type: z.literal('nullify') });
export type NullifySpec = z.output<typeof nullifySpecSchema>;

/**
 * `pseudonym_fake`: a consistent, realistic stand-in (Presidio's "replace with fake"): the same value under
 * the same key always gets the same fake name, email or phone, chosen by an HMAC of the value, so the
 * output reads naturally and still joins. `kind`: `name`, `first_name`, `last_name`, `email` (at
 * example.com, a domain reserved for examples) or `phone` (a fictional 555-01xx number). Not reversible;
 * collisions are possible (different people, same stand-in). `null` stays `null`.
 */
export const pseudonymFakeSpecSchema = z.strictObject({
  type: z.literal('pseudonym_fake'),
  kind: z.enum(['name', 'first_name', 'last_name', 'email', 'phone']),
  key: z.string().min(1, { error: 'must name a key of the key ring' }),
});
export type PseudonymFakeSpec = z.output<typeof pseudonymFakeSpecSchema>;

/**
 * `redact`: every value, `null` included, becomes a fixed string (`[REDACTED]` unless `with` says otherwise).
 * Nulls are redacted too because whether a value is present can itself be sensitive.
 */
export const redactSpecSchema = z.strictObject({
  type: z.literal('redact'),
  with: z.string().default(DEFAULT_REDACTION),
});
export type RedactSpec = z.output<typeof redactSpecSchema>;

/**
 * `replace`: every value, `null` included, becomes the constant `value` (a string, number, boolean or null).
 * Nulls are replaced too because whether a value is present can itself be sensitive.
 */
export const replaceSpecSchema = z.strictObject({
  type: z.literal('replace'),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()], {
    error: 'is required and must be a string, a finite number, a boolean or null',
  }),
});
export type ReplaceSpec = z.output<typeof replaceSpecSchema>;

/**
 * `round`: coarsens a number, to `places` decimal places (default 0; negative places round to tens,
 * hundreds…) or to the nearest multiple of `to` (`{ to: 5000 }` for salary bands). Half-way values round
 * away from zero. Numeric strings are read as numbers; the output is a number; `null` stays `null`.
 */
export const roundSpecSchema = z
  .strictObject({
    type: z.literal('round'),
    places: z.number().int().min(-15).max(15).optional(),
    to: z.number().positive({ error: 'must be a positive number' }).optional(),
  })
  .refine((s) => s.places === undefined || s.to === undefined, {
    error: 'must give `places` or `to`, not both',
  });
export type RoundSpec = z.output<typeof roundSpecSchema>;

/**
 * `scan_and_apply`: runs the PII detectors over free text (emails — also written with look-alike letters
 * —, phone numbers, SSNs, card numbers, IBANs, IP addresses) and masks what they find, leaving the rest of
 * the text readable. `with: label` (the default) writes the kind in brackets (`[EMAIL]`, `[PHONE]`…);
 * `with: mask` keeps the shape (`xxx.xxx@xxxxxxx.xxx`). `null` stays `null`.
 */
export const scanAndApplySpecSchema = z.strictObject({
  type: z.literal('scan_and_apply'),
  with: z.enum(['label', 'mask']).default('label'),
});
export type ScanAndApplySpec = z.output<typeof scanAndApplySpecSchema>;

/**
 * `tokenize`: replaces a value by an opaque token (`tok_` and 32 hex digits) and keeps the value in the
 * store's token vault, so that it can be given back — but only through a `detokenize` reversal request
 * that policy lets through (approved by someone else; see docs/catalog.md, "Reversal").
 *
 * The token is the HMAC-SHA-256 of the value under a key derived from a named key of the key ring,
 * truncated to 128 bits: the same value gets the same token in every batch, worker and export (tokenized
 * columns still join), and no worker needs to ask the vault anything on the hot path. The token carries
 * nothing of the value: giving it back takes the vault entry, which holds the value sealed with
 * AES-256-GCM under a second derived key, bound to its token (a swapped entry does not open).
 *
 * Each compiled transform collects the entries of the tokens it made ({@link TokenVaultEntry}); the
 * pipeline drains them after each batch and stores them with the run.
 */
export const tokenizeSpecSchema = z.strictObject({
  type: z.literal('tokenize'),
  key: z.string().min(1, { error: 'must name a key of the key ring' }),
});
export type TokenizeSpec = z.output<typeof tokenizeSpecSchema>;
