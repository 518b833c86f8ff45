import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginAs, startTestServer } from '../server-fixture.js';

test('secrets-never-appear-in-logs', async () => {
  const { server, world } = await startTestServer();
  try {
    // The token route logs its whole body on purpose (see the fixture): the API key must be redacted.
    const { apiKey, accessToken } = await loginAs(world, server.url, 'alice');
    const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };

    const echo = await fetch(`${server.url}/v1/echo`, {
      method: 'POST',
      headers: { ...auth, 'x-request-id': 'req-echo-1' },
      body: JSON.stringify({ purpose: 'support', count: 1 }),
    });
    assert.equal(echo.status, 200);
    // Credentials in places they do not belong: a query string, a cookie, an API key header.
    const misplaced = await fetch(
      `${server.url}/v1/things/abc?access_token=${accessToken}&apiKey=${apiKey}&limit=3`,
      { headers: { ...auth, cookie: `session=${accessToken}`, 'x-api-key': apiKey } },
    );
    assert.equal(misplaced.status, 200);
    // A wrong key, a forged token, a 500 and a 400 each log their failure.
    const wrongKey = 'wbk_thisisnotarealkeybutasecretnonetheless';
    assert.equal(
      (
        await fetch(`${server.url}/v1/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ apiKey: wrongKey }),
        })
      ).status,
      401,
    );
    const forged = `${accessToken.slice(0, -8)}AAAAAAAA`;
    assert.equal(
      (
        await fetch(`${server.url}/v1/echo`, {
          method: 'POST',
          headers: { authorization: `Bearer ${forged}` },
        })
      ).status,
      401,
    );
    assert.equal((await fetch(`${server.url}/v1/boom`, { method: 'POST', headers: auth })).status, 500);
    assert.equal(
      (
        await fetch(`${server.url}/v1/echo`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ purpose: apiKey, count: 'x' }),
        })
      ).status,
      400,
    );

    const text = world.logText();
    assert.ok(world.logs.length > 10, 'nothing was logged');
    for (const [what, secret] of [
      ['API key', apiKey],
      ['wrong API key', wrongKey],
      ['access token', accessToken],
      ['forged token', forged],
      ['token signature', accessToken.split('.')[2]!],
    ] as const) {
      assert.ok(!text.includes(secret), `the ${what} appears in the log`);
    }
    assert.ok(text.includes('[REDACTED]'), 'nothing was redacted: the test did not exercise redaction');

    // Every line of a request carries its id; once authenticated, also who made it.
    const echoLines = world.logs.filter((line) => line['reqId'] === 'req-echo-1');
    assert.ok(echoLines.length >= 3, 'incoming, handler and completed lines expected');
    const handlerLine = echoLines.find((line) => line['msg'] === 'echoing');
    assert.equal(handlerLine?.['principal'], 'user:alice');
    assert.equal(handlerLine?.['workspace'], 'default');
    const completed = echoLines.find((line) => line['msg'] === 'request completed');
    assert.equal(completed?.['principal'], 'user:alice');
    for (const line of world.logs) {
      assert.match(
        String(line['time']),
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        'times are RFC 3339 UTC',
      );
    }
  } finally {
    await server.close();
  }
});
