import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:https';
import { join } from 'node:path';
import { hasOpenssl, makeTestPki, tempDir } from '@waybill/testkit';
import { z } from 'zod';
import { defineRoute, type TlsFiles } from '@waybill/server';
import { startTestServer } from '../server-fixture.js';

if (!hasOpenssl) {
  console.error(
    '\n*** SKIPPING TLS tests: the `openssl` command is not installed (apt-get install openssl) ***\n',
  );
}

const pki = () => makeTestPki('waybill-server-tls-');

function get(
  url: string,
  tls: { ca: Buffer; cert?: Buffer; key?: Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves HTTPS with the given certificate', { skip: !hasOpenssl }, async () => {
  const { dir, file, read } = await pki();
  try {
    const tls: TlsFiles = { certFile: file('server.crt'), keyFile: file('server.key') };
    const { server } = await startTestServer([], { tls });
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const ok = await get(`${server.url}/healthz`, { ca: await read('ca.crt') });
      assert.deepEqual([ok.status, JSON.parse(ok.body)], [200, { status: 'ok' }]);
      // A client that does not trust the CA refuses the server.
      await assert.rejects(get(`${server.url}/healthz`, { ca: await read('rogue-ca.crt') }));
    } finally {
      await server.close();
    }
  } finally {
    await dir.cleanup();
  }
});

test('mutual TLS: a client certificate from the client CA is required', { skip: !hasOpenssl }, async () => {
  const { dir, file, read } = await pki();
  try {
    const tls: TlsFiles = {
      certFile: file('server.crt'),
      keyFile: file('server.key'),
      clientCaFile: file('ca.crt'),
    };
    const { server } = await startTestServer([], { tls });
    try {
      const ca = await read('ca.crt');
      const withCert = await get(`${server.url}/healthz`, {
        ca,
        cert: await read('client.crt'),
        key: await read('client.key'),
      });
      assert.equal(withCert.status, 200);
      await assert.rejects(
        get(`${server.url}/healthz`, { ca }),
        'a client without a certificate got through',
      );
      await assert.rejects(
        get(`${server.url}/healthz`, {
          ca,
          cert: await read('rogue-client.crt'),
          key: await read('rogue-client.key'),
        }),
        'a client with a certificate from another CA got through',
      );
      // The TLS client certificate does not replace the bearer token.
      const noToken = await get(`${server.url}/v1/things/abc`, {
        ca,
        cert: await read('client.crt'),
        key: await read('client.key'),
      });
      assert.equal(noToken.status, 401);
    } finally {
      await server.close();
    }
  } finally {
    await dir.cleanup();
  }
});

test('an unreadable TLS file is a clear error', async () => {
  const { dir } = { dir: await tempDir('waybill-server-tls-') };
  try {
    await assert.rejects(
      startTestServer([], {
        tls: { certFile: join(dir.path, 'missing.crt'), keyFile: join(dir.path, 'missing.key') },
      }),
      /cannot read the TLS certificate file .*missing\.crt/,
    );
  } finally {
    await dir.cleanup();
  }
});

/** A public route that waits until the test lets it answer, and reports when it started. */
function slowRoute() {
  let entered!: () => void;
  let release!: () => void;
  const started = new Promise<void>((r) => (entered = r));
  const released = new Promise<void>((r) => (release = r));
  let aborted = false;
  let noticeAbort!: () => void;
  const abortSeen = new Promise<void>((r) => (noticeAbort = r));
  const route = defineRoute({
    method: 'GET',
    url: '/v1/slow',
    operationId: 'slow',
    summary: 'Answers when the test says so',
    auth: 'none',
    responses: { 200: { description: 'done', schema: z.object({ done: z.boolean() }) } },
    handler: async ({ signal }) => {
      signal.addEventListener('abort', () => {
        aborted = true;
        noticeAbort();
      });
      entered();
      await Promise.race([released, once(signal, 'abort')]);
      return { status: 200, body: { done: true } };
    },
  });
  return { route, started, release, abortSeen, wasAborted: () => aborted };
}

test('graceful shutdown: a request in flight is answered, new connections are refused', async () => {
  const slow = slowRoute();
  const controller = new AbortController();
  const { server } = await startTestServer([slow.route], { signal: controller.signal });
  const inFlight = fetch(`${server.url}/v1/slow`);
  await slow.started;
  controller.abort();
  // Once the listener is closed, a new connection is refused while the old request still runs.
  for (let i = 0; i < 50; i++) {
    try {
      await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await new Promise((r) => setTimeout(r, 20));
    } catch {
      break;
    }
  }
  await assert.rejects(fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1000) }));
  slow.release();
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { done: true });
  const closedAt = Date.now();
  await server.closed;
  // The answered connection was closed with its answer, not held open until the grace period.
  assert.ok(Date.now() - closedAt < 2000, 'the shutdown waited for an idle connection');
  assert.equal(slow.wasAborted(), false);
});

test('graceful shutdown: a request that never ends is cut after the grace period', async () => {
  const slow = slowRoute();
  const { server } = await startTestServer([slow.route], { shutdownGraceMs: 200 });
  const inFlight = fetch(`${server.url}/v1/slow`);
  await slow.started;
  const started = Date.now();
  await server.close();
  assert.ok(Date.now() - started < 5000, 'close waited far beyond the grace period');
  await assert.rejects(inFlight);
  // The handler is told that its client is gone (the socket's close event may come just after).
  await Promise.race([
    slow.abortSeen,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the handler signal was not aborted')), 2000),
    ),
  ]);
  await server.close(); // twice is fine
});
