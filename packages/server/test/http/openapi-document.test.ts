import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaybillError } from '@waybill/verify';
import { z } from 'zod';
import {
  ERROR_STATUS,
  buildOpenApiDocument,
  defineRoute,
  openApiPath,
  type OpenApiDocument,
} from '@waybill/server';
import { startTestServer, testApp } from '../server-fixture.js';

const jsonSchemaOptions = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;

function withoutDialect(schema: object): object {
  const rest = { ...(schema as Record<string, unknown>) };
  delete rest['$schema'];
  return rest;
}

test('GET /openapi.json is an OpenAPI 3.1 document of every route, served without a token', async () => {
  const { server } = await startTestServer();
  try {
    const response = await fetch(`${server.url}/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const doc = (await response.json()) as OpenApiDocument;
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.info, { title: 'Waybill test', version: '0.0.0' });
    assert.deepEqual(
      Object.entries(doc.paths)
        .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
        .sort(),
      [
        'GET /healthz',
        'GET /openapi.json',
        'GET /v1/things/{id}',
        'POST /v1/auth/token',
        'POST /v1/boom',
        'POST /v1/echo',
      ],
    );
    assert.deepEqual(doc.components.securitySchemes['bearerAuth'], {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        const bearer = op.security.length > 0;
        assert.equal(bearer, !['/healthz', '/openapi.json', '/v1/auth/token'].includes(path), where);
        if (bearer) {
          assert.deepEqual(op.security, [{ bearerAuth: [] }], where);
          assert.ok(op.responses['401'], `${where} documents no 401`);
        }
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) >= 400) {
            assert.deepEqual(
              response.content?.['application/json'].schema,
              { $ref: '#/components/schemas/Error' },
              `${where} ${status}`,
            );
          }
        }
      }
    }
  } finally {
    await server.close();
  }
});

test('request and answer schemas are generated from the zod schemas that check them', async () => {
  const { world, app } = testApp();
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
  const routes = world.appOptions.routes;
  const echo = routes.find((r) => r.operationId === 'echo')!;
  const echoOp = doc.paths['/v1/echo']!['post']!;
  assert.equal(echoOp.operationId, 'echo');
  assert.deepEqual(echoOp.tags, ['test']);
  assert.equal(echoOp.requestBody?.required, true);
  assert.deepEqual(
    echoOp.requestBody?.content['application/json'].schema,
    withoutDialect(z.toJSONSchema(echo.body!, jsonSchemaOptions)),
  );
  assert.deepEqual(
    echoOp.responses['200']?.content?.['application/json'].schema,
    withoutDialect(z.toJSONSchema(echo.responses[200]!.schema!, { ...jsonSchemaOptions, io: 'output' })),
  );
  assert.deepEqual(Object.keys(echoOp.responses), ['200', '400', '401', '413', '415', '500']);

  const thing = doc.paths['/v1/things/{id}']!['get']!;
  assert.deepEqual(thing.parameters, [
    { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' } },
    {
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100 },
    },
  ]);
  assert.equal(thing.requestBody, undefined);
  assert.equal(thing.responses['404']?.description, 'No such thing');

  const error = doc.components.schemas['Error'] as {
    properties: { error: { properties: { code: { enum: string[] } } } };
  };
  assert.deepEqual(error.properties.error.properties.code.enum, Object.keys(ERROR_STATUS));
});

test('recursive and named sub-schemas are hoisted into components with their references rewritten', () => {
  interface Node {
    name: string;
    children: Node[];
  }
  const node: z.ZodType<Node> = z.object({ name: z.string(), children: z.array(z.lazy(() => node)) });
  const route = defineRoute({
    method: 'PUT',
    url: '/v1/trees/:treeId',
    operationId: 'putTree',
    summary: 'Store a tree',
    auth: 'bearer',
    params: z.object({ treeId: z.string() }),
    body: z.object({ root: node, label: z.string().meta({ id: 'TreeLabel' }) }),
    responses: { 204: { description: 'Stored' } },
    handler: () => ({ status: 204 }),
  });
  const doc = buildOpenApiDocument([route], { title: 't', version: '1' });
  const text = JSON.stringify(doc);
  assert.ok(!text.includes('#/$defs/'), 'a local $defs reference was left in the document');
  for (const [, ref] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
    assert.ok(doc.components.schemas[ref!], `dangling reference to ${ref}`);
  }
  assert.ok(doc.components.schemas['putTree.body.TreeLabel']);
});

test('paths are templated the OpenAPI way and clashing routes are refused', () => {
  assert.equal(
    openApiPath('/v1/exports/:id/approvals/:approvalId'),
    '/v1/exports/{id}/approvals/{approvalId}',
  );
  const make = (operationId: string, url: string) =>
    defineRoute({
      method: 'GET',
      url,
      operationId,
      summary: 's',
      auth: 'none',
      responses: { 200: { description: 'ok' } },
      handler: () => ({ status: 200 }),
    });
  assert.throws(
    () => buildOpenApiDocument([make('a', '/x'), make('a', '/y')], { title: 't', version: '1' }),
    (err: unknown) => err instanceof WaybillError && /operationId "a"/.test(err.message),
  );
  assert.throws(
    () => buildOpenApiDocument([make('a', '/x'), make('b', '/x')], { title: 't', version: '1' }),
    (err: unknown) => err instanceof WaybillError && /GET \/x/.test(err.message),
  );
});
