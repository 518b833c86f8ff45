// Tokens of an external OpenID Connect issuer, verified against its JWKS served by a real local HTTP
// server, with roles from a claim. Attack tests are named after the attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { serveHttp, waybillServer, type RunningHttpServer } from '@waybill/server';
import { systemClock } from '@waybill/core';
import { openHome, type HomeContext } from '../src/home.js';
import { cli, tempHome } from './cli-harness.js';

const ISSUER = 'https://idp.example.test/realms/acme';
let t: Awaited<ReturnType<typeof tempHome>>;
let h: HomeContext;
let server: RunningHttpServer;
let jwksServer: Server;
let idpKey: { privateKey: CryptoKey; publicKey: CryptoKey };
let jwk: JWK;

async function idToken(
  claims: Record<string, unknown>,
  o: { key?: CryptoKey; alg?: string; aud?: string; iss?: string; exp?: string | number } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? 'ES256', kid: 'idp-1' })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? 'waybill')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(o.key ?? idpKey.privateKey);
}

async function call(method: string, path: string, token: string, body?: unknown) {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

before(async () => {
  t = await tempHome();
  assert.equal((await cli(['--home', t.home, 'init'])).code, 0);
  await mkdir(join(t.dir, 'out'));
  await writeFile(join(t.dir, 'ids.csv'), 'id\n1\n2\n');
  await cli(['--home', t.home, 'source', 'add', 'ids', '--kind', 'csv', '--path', join(t.dir, 'ids.csv')]);
  await cli([
    '--home',
    t.home,
    'destination',
    'add',
    'out',
    '--kind',
    'directory',
    '--path',
    join(t.dir, 'out'),
  ]);
  await writeFile(
    join(t.dir, 'ids.yaml'),
    `apiVersion: waybill/v1
kind: ExportDefinition
name: ids
owner: team:data
purposes: [support]
source: { connection: ids, table: ids }
fields: [{ name: id, from: id, classification: internal }]
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`,
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', join(t.dir, 'ids.yaml')])).code, 0);
  idpKey = await generateKeyPair('ES256');
  jwk = { ...(await exportJWK(idpKey.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  jwksServer = createServer((req, res) => {
    res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/jwks' ? { keys: [jwk] } : {}));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  h = await openHome(t.home, {});
  const ws = await waybillServer({
    services: h,
    store: h.store,
    audit: h.audit,
    keys: h.keys,
    clock: systemClock,
    logger: { level: 'silent' },
    oidc: { issuer: ISSUER, audience: 'waybill', jwksUrl },
  });
  server = await serveHttp(ws.appOptions, { host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server?.close();
  await new Promise((r) => jwksServer?.close(r));
  await h?.close();
  await t.cleanup();
});

test('an external user gets a principal of its own, with the roles of the roles claim, kept in step', async () => {
  const token = await idToken({
    sub: 'f3c1-77',
    preferred_username: 'Dana',
    roles: ['requester', 'not-a-role'],
  });
  const me = await call('GET', '/v1/me', token);
  assert.equal(me.status, 200, JSON.stringify(me.json));
  assert.match(String(me.json['name']), /^f3c1-77@idp\.example\.test#[0-9a-f]{8}$/);
  assert.deepEqual(me.json['roles'], ['requester']);
  const req = await call('POST', '/v1/exports', token, { definition: 'ids', purpose: 'support' });
  assert.equal(req.status, 201);
  assert.equal(req.json['status'], 'approved');
  assert.equal(req.json['requester'], `user:${String(me.json['name'])}`);

  const promoted = await idToken({ sub: 'f3c1-77', roles: 'requester approver' });
  assert.deepEqual((await call('GET', '/v1/me', promoted)).json['roles'], ['approver', 'requester']);
  const r = await cli(['--home', t.home, 'audit', 'search', '--type', 'principal.roles_changed', '--json']);
  assert.equal((JSON.parse(r.stdout) as { entries: unknown[] }).entries.length, 1);
});

test('an external user without Waybill roles may do nothing (least privilege)', async () => {
  const token = await idToken({ sub: 'nobody-1', roles: [] });
  const req = await call('POST', '/v1/exports', token, { definition: 'ids', purpose: 'support' });
  assert.equal(req.json['status'], 'denied');
  assert.equal((await call('GET', '/v1/audit', token)).status, 403);
  // Not even reading other people's exports.
  const dana = await idToken({ sub: 'f3c1-77', roles: ['requester'] });
  const theirs = await call('POST', '/v1/exports', dana, { definition: 'ids', purpose: 'support' });
  assert.equal((await call('GET', `/v1/exports/${String(theirs.json['id'])}`, token)).status, 404);
  const visible = (await call('GET', '/v1/exports', token)).json['exports'] as {
    id: string;
    requester: string;
  }[];
  assert.ok(
    visible.every((e) => e.id !== theirs.json['id']),
    'sees only its own (denied) requests',
  );
});

test('OIDC keys over plain http to another machine are refused at configuration', async () => {
  const { OidcTokenVerifier } = await import('@waybill/server');
  assert.throws(
    () =>
      new OidcTokenVerifier({
        issuer: 'https://idp.example.test',
        audience: 'a',
        jwksUrl: 'http://idp.example.test/jwks',
        clock: systemClock,
      }),
    /must be https/,
  );
  assert.throws(
    () => new OidcTokenVerifier({ issuer: 'http://idp.example.test', audience: 'a', clock: systemClock }),
    /must be https/,
  );
});

test('external-token-cannot-take-over-a-local-principal', async () => {
  const token = await idToken({ sub: 'admin', roles: ['viewer'] });
  const me = await call('GET', '/v1/me', token);
  assert.match(String(me.json['name']), /^admin@idp\.example\.test#/);
  assert.deepEqual(me.json['roles'], ['viewer']);
  assert.equal((await call('GET', '/v1/users', token)).status, 403);
});

test('external token with a forged signature, another audience, expired, or alg confusion is rejected', async () => {
  const other = await generateKeyPair('ES256');
  const cases = [
    await idToken({ sub: 'x', roles: ['admin'] }, { key: other.privateKey }),
    await idToken({ sub: 'x', roles: ['admin'] }, { aud: 'someone-else' }),
    await idToken({ sub: 'x', roles: ['admin'] }, { exp: Math.floor(Date.now() / 1000) - 120 }),
    // HS256 "signed" with the issuer's public key as the shared secret.
    await new SignJWT({ sub: 'x', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience('waybill')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwk))),
    // Another issuer that is not configured at all.
    await idToken({ sub: 'x', roles: ['admin'] }, { iss: 'https://evil.example.test' }),
  ];
  for (const token of cases) {
    const r = await call('GET', '/v1/me', token);
    assert.equal(r.status, 401);
    assert.equal((r.json['error'] as { code: string }).code, 'ERR_WAYBILL_UNAUTHENTICATED');
  }
});
