import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenApiDocument } from '@waybill/server';
import { loginAs, startTestServer, type ErrorBody } from '../server-fixture.js';

/** Every (method, concrete URL) of the document whose operation needs a bearer token. */
function bearerOperations(doc: OpenApiDocument): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (op.security.some((s) => 'bearerAuth' in s)) {
        out.push({ method: method.toUpperCase(), url: path.replace(/\{[^}]+\}/g, 'some-id') });
      }
    }
  }
  return out;
}

test('every-route-without-a-token-is-401', async () => {
  const { server, world } = await startTestServer();
  try {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
    const operations = bearerOperations(doc);
    assert.ok(operations.length >= 3, 'the document lists no bearer routes');
    const { accessToken } = await loginAs(world, server.url, 'mallory');
    const badHeaders: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      { authorization: `Token ${accessToken}` },
      { authorization: `Bearer ${accessToken}x` },
      { authorization: `Bearer ${accessToken} ${accessToken}` },
      { authorization: 'Bearer not-a-jwt' },
      { authorization: 'Bearer a.b.c' },
    ];
    for (const { method, url } of operations) {
      for (const headers of badHeaders) {
        const where = `${method} ${url} with ${JSON.stringify(headers ?? 'no Authorization')}`;
        // A body that would be refused if it were read: authentication comes first.
        const response = await fetch(`${server.url}${url}`, {
          method,
          headers: { ...headers, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
          ...(method === 'GET' ? {} : { body: '{ not json' }),
        });
        assert.equal(response.status, 401, where);
        const body = (await response.json()) as ErrorBody;
        assert.equal(body.error.code, 'ERR_WAYBILL_UNAUTHENTICATED', where);
      }
      // The same route with the token is not a 401, so the loop above tested the authentication.
      const authorized = await fetch(`${server.url}${url}`, {
        method,
        headers: { authorization: `Bearer ${accessToken}` },
      });
      assert.notEqual(authorized.status, 401, `${method} ${url} with a good token`);
    }
  } finally {
    await server.close();
  }
});

test('an unauthenticated request with a huge body is refused with 401 before the body is read', async () => {
  const { server } = await startTestServer();
  try {
    const response = await fetch(`${server.url}/v1/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ purpose: 'x'.repeat(5 * 1024 * 1024), count: 1 }),
    });
    assert.equal(response.status, 401);
  } finally {
    await server.close();
  }
});
