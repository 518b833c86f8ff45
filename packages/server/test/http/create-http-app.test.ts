import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineRoute } from '@waybill/server';
import { loginAs, startTestServer, testApp, type ErrorBody } from '../server-fixture.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('GET /healthz answers without a token', async () => {
  const { app } = testApp();
  const response = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: 'ok' });
});

test('a safe x-request-id is kept and echoed; anything else is replaced by a UUID', async () => {
  const { app, world } = testApp();
  const kept = await app.inject({
    method: 'GET',
    url: '/healthz',
    headers: { 'x-request-id': 'abc.DEF_1-2' },
  });
  assert.equal(kept.headers['x-request-id'], 'abc.DEF_1-2');
  assert.ok(world.logs.some((line) => line['reqId'] === 'abc.DEF_1-2'));
  for (const hostile of ['a b', 'x'.repeat(65), 'id"}\n{"level":60', '', 'ünï']) {
    const response = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': hostile },
    });
    assert.match(String(response.headers['x-request-id']), uuid, JSON.stringify(hostile));
  }
  const generated = await app.inject({ method: 'GET', url: '/nope' });
  assert.match(String(generated.headers['x-request-id']), uuid);
});

test('an unknown route or a wrong method is 404 ERR_WAYBILL_NOT_FOUND', async () => {
  const { app } = testApp();
  for (const [method, url] of [
    ['GET', '/v1/nothing-here'],
    ['GET', '/v1/echo'],
    ['DELETE', '/v1/things/abc'],
  ] as const) {
    const response = await app.inject({ method, url });
    assert.equal(response.statusCode, 404, `${method} ${url}`);
    const body = response.json<ErrorBody>();
    assert.equal(body.error.code, 'ERR_WAYBILL_NOT_FOUND');
    assert.match(body.error.message, /GET \/openapi\.json lists the routes/);
  }
});

test('a malformed URL is a 400 with the common error body, before any route is chosen', async () => {
  const { app } = testApp();
  for (const url of ['/v1/things/%zz', `/v1/things/${'a'.repeat(150)}`]) {
    const response = await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'bad-url' } });
    assert.equal(response.statusCode, 400, url);
    assert.equal(response.json<ErrorBody>().error.code, 'ERR_WAYBILL_INVALID_INPUT');
    assert.equal(response.headers['x-request-id'], 'bad-url');
    assert.ok(!response.body.includes('aaaaaaaaaa'), 'the path is echoed');
  }
});

test('body, params and query are checked with the route schemas; the message names the field', async () => {
  const { server, world } = await startTestServer();
  try {
    const { accessToken } = await loginAs(world, server.url, 'alice');
    const auth = { authorization: `Bearer ${accessToken}` };
    const post = (body: unknown) =>
      fetch(`${server.url}/v1/echo`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const ok = await post({ purpose: 'support', count: 2 });
    assert.equal(ok.status, 200);
    // The answer goes through its schema: `extra` is not declared, so it is not sent.
    assert.deepEqual(await ok.json(), { purpose: 'support', count: 2, by: 'alice', state: 'ok' });

    const wrongType = await post({ purpose: 42, count: 1 });
    assert.equal(wrongType.status, 400);
    assert.deepEqual(await wrongType.json(), {
      error: { code: 'ERR_WAYBILL_INVALID_INPUT', message: 'body.purpose: expected string, received number' },
    });

    const nested = await post({ purpose: 'x', count: 1, tags: ['a', 7] });
    assert.equal(
      ((await nested.json()) as ErrorBody).error.message,
      'body.tags[1]: expected string, received number',
    );

    const several = await post({ count: -1, extra: true });
    const message = ((await several.json()) as ErrorBody).error.message;
    assert.match(message, /body\.purpose: expected string, received undefined/);
    assert.match(message, /body\.count: too small/);
    assert.match(message, /unrecognized key: "extra"/);

    const badParam = await fetch(`${server.url}/v1/things/NOT_ALLOWED`, { headers: auth });
    assert.equal(badParam.status, 400);
    assert.match(((await badParam.json()) as ErrorBody).error.message, /^params\.id: /);

    const badQuery = await fetch(`${server.url}/v1/things/abc?limit=1000`, { headers: auth });
    assert.equal(badQuery.status, 400);
    assert.match(((await badQuery.json()) as ErrorBody).error.message, /^query\.limit: too big/);

    const thing = await fetch(`${server.url}/v1/things/abc?limit=7`, { headers: auth });
    assert.equal(thing.status, 200);
    assert.deepEqual(await thing.json(), { id: 'abc', limit: 7 });

    const missing = await fetch(`${server.url}/v1/things/missing`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: { code: 'ERR_WAYBILL_NOT_FOUND', message: 'no thing "missing"' },
    });
  } finally {
    await server.close();
  }
});

test('only JSON bodies: other media types are 415, an empty JSON body is 400', async () => {
  const { server, world } = await startTestServer();
  try {
    const { accessToken } = await loginAs(world, server.url, 'alice');
    const send = (contentType: string | undefined, body: string) =>
      fetch(`${server.url}/v1/echo`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          ...(contentType === undefined ? {} : { 'content-type': contentType }),
        },
        body,
      });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data',
    ]) {
      const response = await send(type, '{"purpose":"x","count":1}');
      assert.equal(response.status, 415, type);
      assert.equal(((await response.json()) as ErrorBody).error.code, 'ERR_WAYBILL_UNSUPPORTED_MEDIA_TYPE');
    }
    const charset = await send('application/json; charset=utf-8', '{"purpose":"x","count":1}');
    assert.equal(charset.status, 200);
    const empty = await send('application/json', '');
    assert.equal(empty.status, 400);
    assert.equal(((await empty.json()) as ErrorBody).error.code, 'ERR_WAYBILL_INVALID_INPUT');
  } finally {
    await server.close();
  }
});

test('a 401 names the Bearer scheme (RFC 9110 §11.6.1)', async () => {
  const { app } = testApp();
  const response = await app.inject({ method: 'POST', url: '/v1/echo' });
  assert.equal(response.statusCode, 401);
  assert.equal(response.headers['www-authenticate'], 'Bearer');
});

test('a handler answering a status it does not document, or a body off its schema, is a 500', async () => {
  const undocumented = defineRoute({
    method: 'GET',
    url: '/v1/liar',
    operationId: 'liar',
    summary: 'Answers what it did not promise',
    auth: 'none',
    responses: { 200: { description: 'ok', schema: z.object({ n: z.number() }) } },
    handler: ({ log }) => {
      log.debug('about to lie');
      return { status: 200, body: { n: 'not a number' as unknown as number } };
    },
  });
  const { app } = testApp([undocumented]);
  const response = await app.inject({ method: 'GET', url: '/v1/liar' });
  assert.equal(response.statusCode, 500);
  assert.equal(response.json<ErrorBody>().error.code, 'ERR_WAYBILL_INTERNAL');
});

test('defineRoute refuses specifications that cannot be right', () => {
  const base = {
    method: 'GET',
    operationId: 'x',
    summary: 's',
    auth: 'none',
    responses: { 200: { description: 'ok' } },
    handler: () => ({ status: 200 }) as const,
  } as const;
  assert.throws(() => defineRoute({ ...base, url: '/v1/x/:id' }), /":id" has no entry in the params schema/);
  assert.throws(
    () => defineRoute({ ...base, url: '/v1/x', params: z.object({ id: z.string() }) }),
    /names "id", which is not a ":id" of the url/,
  );
  assert.throws(
    () => defineRoute({ ...base, url: '/v1/x', body: z.object({}) }),
    /a GET route cannot have a body/,
  );
  assert.throws(
    () =>
      defineRoute({
        ...base,
        url: '/v1/x',
        responses: { 404: { description: 'no' } },
        handler: () => ({ status: 404 }),
      }),
    /at least one 2xx/,
  );
  assert.throws(() => defineRoute({ ...base, url: 'v1/x' }), /must start with "\/"/);
  assert.throws(() => defineRoute({ ...base, url: '/v1/x', operationId: 'has space' }), /operationId/);
});

test('the handler context and reply are typed from the schemas', () => {
  // Compile-time checks: each @ts-expect-error must sit on a type error, or tsc -b fails. A wrong answer
  // is reported on the `handler` member, since the reply type is inferred from the handler as a whole.
  const responses = {
    201: { description: 'made', schema: z.object({ id: z.string(), state: z.enum(['made', 'queued']) }) },
    204: { description: 'nothing' },
  };
  const common = {
    method: 'POST',
    url: '/v1/typed/:id',
    operationId: 'typed',
    summary: 's',
    auth: 'bearer',
    params: z.object({ id: z.string() }),
    body: z.object({ n: z.number() }),
    responses,
  } as const;
  defineRoute({
    ...common,
    handler: ({ body, params, principal, query }) => {
      const n: number = body.n;
      const id: string = params.id;
      const who: string = principal.name;
      const none: undefined = query;
      // @ts-expect-error -- the body has no member `m`
      void body.m;
      void who;
      void none;
      if (n > 1) return { status: 204 };
      return { status: 201, body: { id, state: 'queued', notInTheSchema: 'is stripped when sent' } };
    },
  });
  defineRoute({
    ...common,
    // @ts-expect-error -- 200 is not a documented status
    handler: ({ params }) => ({ status: 200, body: { id: params.id, state: 'made' } }),
  });
  defineRoute({
    ...common,
    // @ts-expect-error -- 'done' is not a state of the answer's schema
    handler: async ({ params }) => {
      await Promise.resolve();
      return { status: 201, body: { id: params.id, state: 'done' } };
    },
  });
  defineRoute({
    method: 'GET',
    url: '/v1/public',
    operationId: 'public',
    summary: 's',
    auth: 'none',
    responses: { 200: { description: 'ok' } },
    handler: ({ principal }) => {
      const nobody: undefined = principal;
      void nobody;
      return { status: 200 };
    },
  });
});
