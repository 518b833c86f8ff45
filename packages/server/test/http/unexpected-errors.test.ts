import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createHttpApp, defineRoute } from '@waybill/server';
import { loginAs, startTestServer, testWorld, type ErrorBody } from '../server-fixture.js';

test('an-unexpected-error-answers-500-without-a-stack', async () => {
  const { server, world } = await startTestServer();
  try {
    const { accessToken } = await loginAs(world, server.url, 'alice');
    const response = await fetch(`${server.url}/v1/boom`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'boom-1' },
    });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get('x-request-id'), 'boom-1');
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), {
      error: {
        code: 'ERR_WAYBILL_INTERNAL',
        message: 'internal error; see the server log (request id boom-1)',
      },
    });
    for (const leak of ['db.internal', 'ECONNREFUSED', 'stack', 'cause', '.js:', '    at ']) {
      assert.ok(!text.includes(leak), `the answer leaks ${JSON.stringify(leak)}`);
    }
    // The log has all of it, under the request id.
    const logged = world.logs.find((line) => line['reqId'] === 'boom-1' && line['level'] === 50);
    assert.ok(logged, 'the error was not logged');
    const err = logged['err'] as { stack: string };
    assert.match(err.stack, /db\.internal:5432 refused/);
    assert.match(err.stack, /caused by: .*ECONNREFUSED/s);
    assert.equal(logged['principal'], 'user:alice');
  } finally {
    await server.close();
  }
});

test('unserializable answers and a failing authenticate() are 500s without details too', async () => {
  const bigint = defineRoute({
    method: 'GET',
    url: '/v1/bigint',
    operationId: 'bigint',
    summary: 'Answers what JSON cannot hold',
    auth: 'none',
    responses: { 200: { description: 'ok', schema: z.object({ n: z.bigint() }) } },
    handler: () => ({ status: 200, body: { n: 10n } }),
  });
  const world = testWorld([bigint]);
  const app = createHttpApp({
    ...world.appOptions,
    authenticate: () =>
      Promise.reject(new TypeError('cannot read properties of undefined (reading "secretHash")')),
  });
  for (const [method, url] of [
    ['GET', '/v1/bigint'],
    ['GET', '/v1/things/abc'],
  ] as const) {
    const response = await app.inject({ method, url, headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(response.statusCode, 500, url);
    const body = response.json<ErrorBody>();
    assert.equal(body.error.code, 'ERR_WAYBILL_INTERNAL');
    assert.match(body.error.message, /^internal error; see the server log \(request id [0-9a-f-]{36}\)$/);
    assert.ok(!response.body.includes('secretHash') && !response.body.includes('BigInt'), response.body);
  }
  assert.equal(world.logs.filter((line) => line['level'] === 50).length, 2);
});
