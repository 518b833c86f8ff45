import { WaybillError } from '@waybill/verify';
import { z } from 'zod';
import { ERROR_CODES } from './error-status.js';
import type { RouteDefinition } from './route-definition.js';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as a plain object. */
export type JsonSchema = { readonly [key: string]: unknown };

/** The `info` object of the document. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

/** One parameter (path or query) of an operation. */
export interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly required: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

/** One documented answer of an operation. */
export interface OpenApiResponse {
  readonly description: string;
  readonly content?: { readonly 'application/json': { readonly schema: JsonSchema } };
}

/** One operation (a method on a path). */
export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  /** `[{ bearerAuth: [] }]` on routes that need a token, `[]` on public ones. */
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: {
    readonly required: boolean;
    readonly content: { readonly 'application/json': { readonly schema: JsonSchema } };
  };
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
}

/** An OpenAPI 3.1 document. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: OpenApiInfo;
  readonly paths: Readonly<Record<string, Readonly<Record<string, OpenApiOperation>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly securitySchemes: Readonly<Record<string, JsonSchema>>;
  };
}

/** The name of the bearer security scheme in `components.securitySchemes`. */
export const BEARER_SCHEME = 'bearerAuth';

/** The name of the common error body in `components.schemas`. */
export const ERROR_SCHEMA = 'Error';

const errorRef: JsonSchema = Object.freeze({ $ref: `#/components/schemas/${ERROR_SCHEMA}` });

/** The JSON Schema of every error body: `{ "error": { "code", "message" } }`. */
export const ERROR_BODY_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES] },
        message: {
          type: 'string',
          description: 'What was wrong and what to do; for people, may be reworded.',
        },
      },
    },
  },
});

// The errors the HTTP layer itself answers, documented on every route they can happen on.
const frameworkErrors = {
  invalid: 'The body, path or query is malformed or does not match the schema (ERR_WAYBILL_INVALID_INPUT).',
  unauthenticated: 'No valid access token (ERR_WAYBILL_UNAUTHENTICATED).',
  tooLarge: 'The body is larger than the server accepts (ERR_WAYBILL_PAYLOAD_TOO_LARGE).',
  mediaType: 'The body is not application/json (ERR_WAYBILL_UNSUPPORTED_MEDIA_TYPE).',
  internal: 'An unexpected error; the server log has it under the request id (ERR_WAYBILL_INTERNAL).',
};

/** `/v1/exports/:id` → `/v1/exports/{id}` (OpenAPI 3.1 §4.8.2 path templating). */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/**
 * Converts zod schemas to JSON Schema for the document. zod puts recursive and `id`-named sub-schemas in
 * a local `$defs`, whose `#/$defs/…` references would resolve against the OpenAPI document's root; they
 * are hoisted into `components.schemas` under a name prefixed with their owner, and references rewritten.
 */
class SchemaConverter {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output', owner: string): JsonSchema {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      // Documenting beats failing: a type JSON Schema cannot express (a Date, a custom check) becomes `{}`
      // in the document, while the request is still checked by the zod schema itself.
      unrepresentable: 'any',
      cycles: 'ref',
      reused: 'inline',
    }) as Record<string, unknown>;
    // Inside an OpenAPI 3.1 document the dialect is already draft 2020-12 (OpenAPI 3.1 §4.8.24).
    const { $defs, ...root } = json;
    delete root['$schema'];
    const defs = ($defs ?? {}) as Record<string, JsonSchema>;
    const names = new Map<string, string>();
    for (const name of Object.keys(defs)) {
      names.set(name, `${owner}.${name.replace(/^_+/, '')}`.replace(/[^A-Za-z0-9._-]/g, '_'));
    }
    for (const [name, def] of Object.entries(defs)) {
      this.components[names.get(name)!] = rewriteRefs(def, names) as JsonSchema;
    }
    return rewriteRefs(root, names) as JsonSchema;
  }
}

function rewriteRefs(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
      const target = names.get(decodePointer(v.slice('#/$defs/'.length)));
      out[key] = target === undefined ? v : `#/components/schemas/${target}`;
    } else {
      out[key] = rewriteRefs(v, names);
    }
  }
  return out;
}

// RFC 6901 §4.
function decodePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parametersOf(
  schema: RouteDefinition['params'],
  where: 'path' | 'query',
  owner: string,
  converter: SchemaConverter,
): OpenApiParameter[] {
  if (schema === undefined) return [];
  const json = converter.convert(schema, 'input', owner);
  const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const description = property['description'];
    return {
      name,
      in: where,
      // OpenAPI 3.1 §4.8.12.1: a path parameter must be required.
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: property,
    };
  });
}

function jsonContent(schema: JsonSchema): { readonly 'application/json': { readonly schema: JsonSchema } } {
  return { 'application/json': { schema } };
}

function operationOf(route: RouteDefinition, converter: SchemaConverter): OpenApiOperation {
  const id = route.operationId;
  const parameters = [
    ...parametersOf(route.params, 'path', `${id}.params`, converter),
    ...parametersOf(route.query, 'query', `${id}.query`, converter),
  ];
  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    if (Number(status) >= 400) {
      responses[status] = { description: response.description, content: jsonContent(errorRef) };
    } else if (response.schema !== undefined) {
      responses[status] = {
        description: response.description,
        content: jsonContent(converter.convert(response.schema, 'output', `${id}.response${status}`)),
      };
    } else {
      responses[status] = { description: response.description };
    }
  }
  const addError = (status: number, description: string): void => {
    responses[status] ??= { description, content: jsonContent(errorRef) };
  };
  if (route.body !== undefined || parameters.length > 0) addError(400, frameworkErrors.invalid);
  if (route.auth === 'bearer') addError(401, frameworkErrors.unauthenticated);
  if (route.body !== undefined) {
    addError(413, frameworkErrors.tooLarge);
    addError(415, frameworkErrors.mediaType);
  }
  addError(500, frameworkErrors.internal);

  return {
    operationId: id,
    summary: route.summary,
    ...(route.description !== undefined ? { description: route.description } : {}),
    ...(route.tags.length > 0 ? { tags: route.tags } : {}),
    // An explicit empty list marks a public route even if a document-wide default is added later.
    security: route.auth === 'bearer' ? [{ [BEARER_SCHEME]: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body !== undefined
      ? {
          requestBody: {
            required: !route.body.safeParse(undefined).success,
            content: jsonContent(converter.convert(route.body, 'input', `${id}.body`)),
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

/**
 * Builds the OpenAPI 3.1 document of a set of routes from the same zod schemas that check their requests
 * (`z.toJSONSchema`, draft 2020-12, the input side for requests and the output side for answers). Routes
 * with `auth: 'bearer'` carry the HTTP bearer (JWT) security scheme and a 401; every 4xx and 5xx answer
 * refers to the one error schema.
 *
 * Throws `ERR_WAYBILL_INVALID_INPUT` when two routes share an operationId or a method and path.
 *
 * @example
 * ```ts
 * const doc = buildOpenApiDocument([getThing], { title: 'Waybill', version: '0.1.0' });
 * doc.paths['/v1/things/{id}']?.get?.operationId; // 'getThing'
 * ```
 */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], info: OpenApiInfo): OpenApiDocument {
  const converter = new SchemaConverter();
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    if (operationIds.has(route.operationId)) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `two routes have the operationId "${route.operationId}"`,
      );
    }
    operationIds.add(route.operationId);
    const path = openApiPath(route.url);
    const method = route.method.toLowerCase();
    const item = (paths[path] ??= {});
    if (item[method] !== undefined) {
      throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `two routes answer ${route.method} ${route.url}`);
    }
    item[method] = operationOf(route, converter);
  }
  return {
    openapi: '3.1.0',
    info: { ...info },
    paths,
    components: {
      schemas: { [ERROR_SCHEMA]: ERROR_BODY_SCHEMA, ...converter.components },
      securitySchemes: {
        // RFC 6750 bearer tokens; the tokens are JWTs signed with EdDSA (see AccessTokenService).
        [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
    },
  };
}
