import { z } from 'zod';
import { transformSpecSchema } from '../transforms/index.js';

/** A column or output name: a plain identifier, so it can be quoted safely and used in CEL. */
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be an identifier: a letter or _, then letters, digits or _');

/** Names of definitions, connections, purposes: lowercase slugs. */
/** Names of definitions, connections and purposes: lowercase letters, digits, `.`, `_`, `-`. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const slug = z
  .string()
  .regex(SLUG_PATTERN, 'must be lowercase letters, digits, ".", "_" or "-" (max 63)');

/** ISO 8601 duration (e.g. P90D, P1Y6M, PT12H). */
export const isoDuration = z
  .string()
  .regex(
    /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/,
    'must be an ISO 8601 duration such as P90D or P1Y',
  );

export const sensitivities = ['public', 'internal', 'confidential', 'restricted'] as const;
export const fieldTypes = ['string', 'integer', 'number', 'boolean', 'date', 'timestamp'] as const;

/**
 * A source column as the source names it: any name a table can have (a CSV header such as
 * `First Name`), since it is only ever quoted, never interpolated. CEL expressions can reference only
 * identifier-shaped columns.
 */
const columnName = z
  .string()
  .min(1)
  .max(128)
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export const outputFieldSchema = z
  .object({
    name: identifier,
    from: columnName.optional(),
    compute: z.string().min(1).max(4096).optional(),
    transform: transformSpecSchema.optional(),
    classification: z.enum(sensitivities).optional(),
    type: z.enum(fieldTypes).optional(),
    /** Every output value must be present: a null fails the run (the `output-schema` gate). */
    required: z.boolean().optional(),
    description: z.string().max(1000).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if ((f.from === undefined) === (f.compute === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of `from` (a source column) or `compute` (a CEL expression)',
      });
    }
  });

export const exportDefinitionSchema = z
  .object({
    apiVersion: z.literal('waybill/v1'),
    kind: z.literal('ExportDefinition'),
    name: slug,
    owner: z.string().min(1).max(200),
    description: z.string().max(4000).optional(),
    purposes: z.array(slug).min(1, 'list at least one allowed purpose'),
    source: z
      .object({
        connection: slug,
        table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'must be a table name'),
        recordId: columnName.default('id'),
        updatedAt: columnName.optional(),
      })
      .strict(),
    fields: z.array(outputFieldSchema).min(1, 'declare at least one output field'),
    filter: z.string().min(1).max(4096).optional(),
    destination: z
      .object({
        connection: slug,
        path: z.string().min(1).max(512).default('{name}/{date}/{runId}'),
      })
      .strict(),
    format: z.enum(['csv', 'ndjson']).default('csv'),
    retention: isoDuration,
    privacy: z
      .object({
        quasiIdentifiers: z.array(identifier).min(1, 'name at least one output field'),
        k: z.number().int().min(2).max(1_000_000),
        /** What a too-small combination does: block the run (default), suppress its records, or generalize first. */
        enforce: z.enum(['block', 'suppress', 'generalize']).optional(),
        /** The share of records `suppress`/`generalize` may suppress (0–1; default 0.05). */
        maxSuppressed: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        maxRows: z.number().int().min(1).optional(),
        maxBytes: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    // A retention must end: after now, and before year 10000 (RFC 3339 has four-digit years).
    const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(
      d.retention,
    );
    if (m) {
      const n = m.slice(1).map((x) => Number(x ?? 0));
      const approxDays =
        n[0]! * 366 + n[1]! * 31 + n[2]! * 7 + n[3]! + (n[4]! + (n[5]! + n[6]! / 60) / 60) / 24;
      if (approxDays <= 0)
        ctx.addIssue({ code: 'custom', path: ['retention'], message: 'must be longer than zero' });
      else if (approxDays > 366 * 1000) {
        ctx.addIssue({ code: 'custom', path: ['retention'], message: 'must be at most 1000 years' });
      }
    }
    const seen = new Set<string>();
    d.fields.forEach((f, i) => {
      if (seen.has(f.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', i, 'name'],
          message: `duplicate output field "${f.name}"`,
        });
      }
      seen.add(f.name);
    });
    d.privacy?.quasiIdentifiers.forEach((q, i) => {
      const f = d.fields.find((x) => x.name === q);
      const dropped = f?.transform?.type === 'drop';
      if (!f || dropped) {
        ctx.addIssue({
          code: 'custom',
          path: ['privacy', 'quasiIdentifiers', i],
          message: `"${q}" is not an output field of this definition`,
        });
      }
    });
  });

/** An export definition as validated, with defaults filled in. */
export type ExportDefinition = z.output<typeof exportDefinitionSchema>;
export type OutputField = ExportDefinition['fields'][number];
