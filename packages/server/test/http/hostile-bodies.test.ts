import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { JsonSchema, OpenApiDocument } from '@waybill/server';
import { loginAs, startTestServer, type ErrorBody } from '../server-fixture.js';

/** Sends a request by hand, so the body can be streamed without a Content-Length. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  chunks: Iterable<Buffer>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer and close while the body is still being sent.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return;
      reject(err);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

test('oversized-body-is-413-not-500', async () => {
  const { server, world } = await startTestServer([], { appOptions: { bodyLimit: 64 * 1024 } });
  try {
    const { accessToken } = await loginAs(world, server.url, 'alice');
    const headers = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    const big = JSON.stringify({ purpose: 'x'.repeat(100 * 1024), count: 1 });

    // Announced by Content-Length: refused without reading.
    const announced = await fetch(`${server.url}/v1/echo`, { method: 'POST', headers, body: big });
    assert.equal(announced.status, 413);
    const body = (await announced.json()) as ErrorBody;
    assert.equal(body.error.code, 'ERR_WAYBILL_PAYLOAD_TOO_LARGE');
    assert.match(body.error.message, /larger than 65536 bytes/);

    // Streamed in chunks without a length: cut off at the limit.
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const streamed = await rawPost(
      `${server.url}/v1/echo`,
      { ...headers, 'transfer-encoding': 'chunked' },
      (function* () {
        for (let i = 0; i < 64; i++) yield chunk;
      })(),
    );
    assert.equal(streamed.status, 413);
    assert.equal((JSON.parse(streamed.body) as ErrorBody).error.code, 'ERR_WAYBILL_PAYLOAD_TOO_LARGE');

    // Also on a public route, and just under the limit is fine.
    const publicRoute = await fetch(`${server.url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: 'k'.repeat(70 * 1024) }),
    });
    assert.equal(publicRoute.status, 413);
    const fits = await fetch(`${server.url}/v1/echo`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ purpose: 'x'.repeat(60 * 1024), count: 1 }),
    });
    assert.equal(fits.status, 200);
  } finally {
    await server.close();
  }
});

/** A value of another JSON type than the schema asks for. */
function wrongValueFor(schema: JsonSchema): unknown {
  switch (schema['type']) {
    case 'string':
      return 12345;
    case 'number':
    case 'integer':
      return 'not a number';
    case 'boolean':
      return 'yes';
    case 'array':
      return { not: 'an array' };
    case 'object':
      return ['not', 'an', 'object'];
    default:
      return null;
  }
}

test('malformed-json-and-wrong-types-are-4xx-never-5xx', async () => {
  const { server, world } = await startTestServer();
  try {
    const { accessToken } = await loginAs(world, server.url, 'alice');
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
    let routesWithBodies = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const schema = op.requestBody?.content['application/json'].schema;
        if (schema === undefined) continue;
        routesWithBodies++;
        const url = `${server.url}${path.replace(/\{[^}]+\}/g, 'some-id')}`;
        const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
        const bodies: string[] = [
          '{ not json',
          '{"purpose": "x",}',
          '{"a": 1} trailing',
          '"\\ud800',
          '[1, 2, 3]',
          '[]',
          'null',
          '42',
          '"a string"',
          'true',
          '{}',
          '{"__proto__": {"isAdmin": true}}',
          '{"constructor": {"prototype": {"isAdmin": true}}}',
          '['.repeat(5000) + ']'.repeat(5000),
          '\u00ff\u00fe{}',
          ...Object.keys(properties).map((name) =>
            JSON.stringify({ [name]: wrongValueFor(properties[name]!) }),
          ),
          JSON.stringify(
            Object.fromEntries(Object.entries(properties).map(([n, s]) => [n, wrongValueFor(s)])),
          ),
        ];
        for (const body of bodies) {
          const response = await fetch(url, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
            body,
          });
          const where = `${method.toUpperCase()} ${path} with ${body.slice(0, 60)}`;
          assert.ok(response.status >= 400 && response.status < 500, `${where}: ${response.status}`);
          const answer = (await response.json()) as ErrorBody;
          assert.equal(answer.error.code, 'ERR_WAYBILL_INVALID_INPUT', where);
        }
      }
    }
    assert.ok(routesWithBodies >= 2, 'no route with a body was found in the document');
    assert.ok(
      !world.logs.some((line) => line['level'] === 50),
      'a hostile body caused an error-level log line',
    );
  } finally {
    await server.close();
  }
});
