// The Waybill HTTP API over a real home, served on a real socket: CONTRACT.md's routes and the
// attack tests of the governance issue, each named after its attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { compileTransform, createServices, type Services } from '@waybill/core';
import { serveHttp, waybillServer, type OpenApiDocument, type RunningHttpServer } from '@waybill/server';
import { connectionOpener } from '../src/connection-opener.js';
import { openHome, type HomeContext } from '../src/home.js';
import { cli, tempHome } from './cli-harness.js';

let t: Awaited<ReturnType<typeof tempHome>>;
let h: HomeContext;
let s: Services;
let server: RunningHttpServer;
let drain: () => Promise<void>;
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };
const apiKeys: Record<string, string> = {};

const definition = `apiVersion: waybill/v1
kind: ExportDefinition
name: people
owner: team:data
purposes: [support]
source: { connection: people, table: people }
fields:
  - { name: id, from: id, classification: internal }
  - { name: email, from: email, transform: mask_email, classification: confidential }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`;

interface ErrorBody {
  error: { code: string; message: string };
}

async function call(
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> & Partial<ErrorBody> }> {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function login(name: string): Promise<string> {
  const r = await call('POST', '/v1/auth/token', undefined, { apiKey: apiKeys[name] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json['accessToken'] as string;
}

before(async () => {
  t = await tempHome();
  const init = await cli(['--home', t.home, 'init', '--json']);
  apiKeys['admin'] = (JSON.parse(init.stdout) as { adminKey: string }).adminKey;
  await mkdir(join(t.dir, 'out'));
  await writeFile(join(t.dir, 'people.csv'), 'id,email\n1,ann@example.com\n2,bo@example.org\n');
  await cli([
    '--home',
    t.home,
    'source',
    'add',
    'people',
    '--kind',
    'csv',
    '--path',
    join(t.dir, 'people.csv'),
  ]);
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
  await writeFile(join(t.dir, 'people.yaml'), definition);
  assert.equal((await cli(['--home', t.home, 'def', 'apply', join(t.dir, 'people.yaml')])).code, 0);
  h = await openHome(t.home, {});
  s = createServices({ ...h, clock, connections: connectionOpener, stagingRoot: join(t.home, 'staging') });
  const ws = await waybillServer({
    services: s,
    store: h.store,
    audit: h.audit,
    keys: h.keys,
    clock,
    bodyLimit: 64 * 1024,
    logger: { level: 'silent' },
  });
  drain = () => ws.runs.drain();
  server = await serveHttp(ws.appOptions, { host: '127.0.0.1', port: 0 });
  const admin = await login('admin');
  for (const [name, roles] of [
    ['alice', ['requester']],
    ['bob', ['approver']],
    ['vic', ['viewer']],
    ['sec', ['security']],
  ] as const) {
    const r = await call('POST', '/v1/users', admin, { name, roles });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    apiKeys[name] = r.json['apiKey'] as string;
  }
});
after(async () => {
  await server?.close();
  await drain?.();
  await h?.close();
  await t.cleanup();
});

test('request → approval by a second user → run → the export shows its waybill', async () => {
  const alice = await login('alice');
  const bob = await login('bob');
  const req = await call('POST', '/v1/exports', alice, { definition: 'people', purpose: 'support' });
  assert.equal(req.status, 201);
  assert.equal(req.json['status'], 'pending_approval');
  const id = req.json['id'] as string;
  const approved = await call('POST', `/v1/exports/${id}/approvals`, bob, {
    decision: 'approve',
    reason: 'ticket 1',
  });
  assert.equal(approved.status, 200);
  assert.equal(approved.json['status'], 'approved');
  const run = await call('POST', `/v1/exports/${id}/run`, alice);
  assert.equal(run.status, 202);
  assert.deepEqual(run.json, { id, status: 'running' });
  await drain();
  const got = await call('GET', `/v1/exports/${id}`, alice);
  assert.equal(got.status, 200);
  assert.equal(got.json['status'], 'completed');
  assert.equal(got.json['requester'], 'user:alice');
  assert.equal((got.json['approvals'] as unknown[]).length, 1);
  const waybill = got.json['waybill'] as { status: string; location: string };
  assert.equal(waybill.status, 'sealed');
  const verify = await cli(['--home', t.home, 'verify', waybill.location, '--json']);
  assert.equal(verify.code, 0, verify.stdout);
});

test('self-approval over HTTP is 403; run before approval is 409', async () => {
  const admin = await login('admin');
  const req = await call('POST', '/v1/exports', admin, { definition: 'people', purpose: 'support' });
  const id = req.json['id'] as string;
  const self = await call('POST', `/v1/exports/${id}/approvals`, admin, {
    decision: 'approve',
    reason: 'mine',
  });
  assert.equal(self.status, 403);
  assert.equal(self.json.error?.code, 'ERR_WAYBILL_FORBIDDEN');
  const early = await call('POST', `/v1/exports/${id}/run`, admin);
  assert.equal(early.status, 409);
  assert.equal(early.json.error?.code, 'ERR_WAYBILL_NOT_APPROVED');
  const viewer = await call('POST', `/v1/exports/${id}/approvals`, await login('vic'), {
    decision: 'approve',
    reason: 'ok',
  });
  assert.equal(viewer.status, 403);
  const bob = await login('bob');
  assert.equal(
    (await call('POST', `/v1/exports/${id}/approvals`, bob, { decision: 'approve', reason: 'ok' })).status,
    200,
  );
  const twice = await call('POST', `/v1/exports/${id}/approvals`, bob, {
    decision: 'approve',
    reason: 'again',
  });
  assert.equal(twice.status, 403);
});

test('run after the approval expired is 409', async () => {
  const alice = await login('alice');
  const req = await call('POST', '/v1/exports', alice, { definition: 'people', purpose: 'support' });
  const id = req.json['id'] as string;
  await call('POST', `/v1/exports/${id}/approvals`, await login('bob'), {
    decision: 'approve',
    reason: 'ok',
  });
  offset = 25 * 3600 * 1000;
  try {
    const fresh = await login('alice'); // the 15-minute token of before has expired too
    const late = await call('POST', `/v1/exports/${id}/run`, fresh);
    assert.equal(late.status, 409);
    assert.match(late.json.error!.message, /expired/);
  } finally {
    offset = 0;
  }
});

test('expired token is rejected', async () => {
  const alice = await login('alice');
  offset = 16 * 60 * 1000 + 31_000; // past the 15 minutes and the 30 s of tolerated skew
  try {
    const r = await call('GET', '/v1/me', alice);
    assert.equal(r.status, 401);
    assert.equal(r.json.error?.code, 'ERR_WAYBILL_UNAUTHENTICATED');
  } finally {
    offset = 0;
  }
  assert.equal((await call('GET', '/v1/me', alice)).status, 200);
});

test('token with a forged signature is rejected; token with alg none is rejected', async () => {
  const alice = await login('alice');
  const [header, payload] = alice.split('.') as [string, string, string];
  const other = generateKeyPairSync('ed25519');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = await new SignJWT({ ...claims, sub: claims['sub'] as string })
    .setProtectedHeader(JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg: string })
    .sign(other.privateKey);
  assert.equal((await call('GET', '/v1/me', forged)).status, 401);
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
  assert.equal((await call('GET', '/v1/me', none)).status, 401);
  // Claims edited under the original signature.
  const admin = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
  assert.equal((await call('GET', '/v1/me', `${header}.${admin}.${alice.split('.')[2]}`)).status, 401);
});

test('revoked API key replayed is refused, and its tokens die with it', async () => {
  const admin = await login('admin');
  const c = await call('POST', '/v1/users', admin, { name: 'temp', roles: ['viewer'] });
  apiKeys['temp'] = c.json['apiKey'] as string;
  const token = await login('temp');
  assert.equal((await call('GET', '/v1/me', token)).status, 200);
  assert.equal((await call('DELETE', `/v1/api-keys/${c.json['apiKeyId'] as string}`, admin)).status, 204);
  assert.equal((await call('GET', '/v1/me', token)).status, 401);
  const replay = await call('POST', '/v1/auth/token', undefined, { apiKey: apiKeys['temp'] });
  assert.equal(replay.status, 401);
  assert.equal(replay.json.error?.code, 'ERR_WAYBILL_UNAUTHENTICATED');
});

test('token of another workspace: cross-workspace read of exports and audit is 404 / filtered', async () => {
  const alice = await login('alice');
  const req = await call('POST', '/v1/exports', alice, { definition: 'people', purpose: 'support' });
  const id = req.json['id'] as string;
  const other = await h.store.transaction((tx) =>
    s.principals.bootstrap(tx, 'acme', { name: 'acme-admin', roles: ['admin', 'security'] }),
  );
  apiKeys['acme'] = other.apiKey;
  const acme = await login('acme');
  const me = await call('GET', '/v1/me', acme);
  assert.equal(me.json['workspace'], 'acme');
  for (const [method, path, body] of [
    ['GET', `/v1/exports/${id}`, undefined],
    ['POST', `/v1/exports/${id}/approvals`, { decision: 'approve', reason: 'x' }],
    ['POST', `/v1/exports/${id}/run`, undefined],
    ['POST', `/v1/exports/${id}/cancel`, undefined],
  ] as const) {
    const r = await call(method, path, acme, body);
    assert.equal(r.status, 404, `${method} ${path}`);
  }
  assert.deepEqual((await call('GET', '/v1/exports', acme)).json['exports'], []);
  const audit = await call('GET', '/v1/audit?from=0&limit=1000', acme);
  assert.equal(audit.status, 200);
  const entries = audit.json['entries'] as { event: { workspace: string } | null }[];
  assert.ok(entries.length > 0);
  assert.ok(entries.every((e) => e.event === null || e.event.workspace === 'acme'));
  // The default workspace's admin sees its own entries, and the acme attempts are not among them.
  const mine = await call('GET', '/v1/audit?from=0&limit=1000', await login('admin'));
  const own = mine.json['entries'] as { type: string; event: { workspace: string } | null }[];
  assert.ok(own.every((e) => e.event === null || e.event.workspace === 'default'));
  assert.ok(typeof mine.json['checkpoint'] === 'string');
  // Reading the audit log needs audit.read: a requester may not.
  assert.equal((await call('GET', '/v1/audit', alice)).status, 403);
});

test('every-route-in-openapi-without-a-token-is-401', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
  const bearer = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => op.security.some((sec) => 'bearerAuth' in sec))
      .map(([method]) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{[^}]+\}/g, '01a22807-0000-7000-8000-000000000000'),
      })),
  );
  // Every CONTRACT.md route is there.
  for (const want of [
    'POST /v1/users',
    'POST /v1/exports',
    'POST /v1/exports/{id}/approvals',
    'POST /v1/exports/{id}/run',
    'GET /v1/exports/{id}',
    'GET /v1/audit',
  ]) {
    const [m, p] = want.split(' ') as [string, string];
    assert.ok(doc.paths[p]?.[m.toLowerCase()], `${want} missing from /openapi.json`);
  }
  assert.ok(doc.paths['/v1/auth/token']?.['post']?.security.length === 0);
  assert.ok(bearer.length >= 15);
  for (const { method, path } of bearer) {
    const r = await call(method, path, undefined, method === 'GET' || method === 'DELETE' ? undefined : {});
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.equal(r.json.error?.code, 'ERR_WAYBILL_UNAUTHENTICATED');
  }
});

test('malformed JSON and wrong types on every route are 4xx, never 5xx; oversized body is 413', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
  const admin = await login('admin');
  const withBody = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => method !== 'get' && method !== 'delete')
      .map(([method]) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{[^}]+\}/g, '01a22807-0000-7000-8000-000000000000'),
      })),
  );
  const hostile: unknown[] = [
    '{ not json',
    '[]',
    '"text"',
    '123',
    'null',
    { definition: 12, purpose: ['x'] },
    { name: {}, roles: 'admin' },
    { apiKey: 5 },
    { decision: 'maybe', reason: 7 },
    { text: 42 },
    { extra: true },
  ];
  for (const { method, path } of withBody) {
    for (const body of hostile) {
      const r = await call(method, path, admin, body);
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} ${JSON.stringify(body)} → ${r.status}`);
      assert.match(r.json.error?.code ?? '', /^ERR_WAYBILL_/);
    }
  }
  const big = await call('POST', '/v1/exports', admin, {
    definition: 'people',
    purpose: 'support',
    justification: 'x'.repeat(70 * 1024),
  });
  assert.equal(big.status, 413);
  assert.equal(big.json.error?.code, 'ERR_WAYBILL_PAYLOAD_TOO_LARGE');
  // Wrong types name the field.
  const typed = await call('POST', '/v1/exports', admin, { definition: 'people', purpose: 5 });
  assert.equal(typed.status, 400);
  assert.match(typed.json.error!.message, /purpose/);
});

test('the CLI with --server goes through the API: login, request, approve, run, status, users, policy', async () => {
  const as = (name: string) => ({ WAYBILL_API_KEY: apiKeys[name]! });
  const remote = (args: string[], name: string) => cli(['--server', server.url, ...args], as(name));

  const login = await remote(['login', '--json'], 'alice');
  assert.equal(login.code, 0, login.stderr);
  const who = JSON.parse(login.stdout) as { accessToken: string; principal: { name: string } };
  assert.equal(who.principal.name, 'alice');
  // The printed token works on its own.
  const viaToken = await cli(['--server', server.url, 'export', 'status', '--json'], {
    WAYBILL_TOKEN: who.accessToken,
    WAYBILL_API_KEY: '',
  });
  assert.equal(viaToken.code, 0, viaToken.stderr);

  const req = await remote(['export', 'request', 'people', '--purpose', 'support', '--json'], 'alice');
  assert.equal(req.code, 0, req.stderr);
  const id = (JSON.parse(req.stdout) as { id: string; status: string }).id;
  const self = await remote(['export', 'approve', id, '--reason', 'mine'], 'alice');
  assert.equal(self.code, 1);
  assert.match(self.stderr, /^waybill: ERR_WAYBILL_FORBIDDEN: .*own request/);
  const early = await remote(['export', 'run', id], 'alice');
  assert.equal(early.code, 1);
  assert.match(early.stderr, /ERR_WAYBILL_NOT_APPROVED/);
  assert.equal((await remote(['export', 'approve', id, '--reason', 'ok'], 'bob')).code, 0);
  const run = await remote(['export', 'run', id, '--json'], 'alice');
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as {
    exportId: string;
    status: string;
    counts: { written: number };
    location: string;
  };
  assert.equal(out.exportId, id);
  assert.equal(out.status, 'sealed');
  assert.equal(out.counts.written, 2);
  const status = await remote(['export', 'status', id], 'alice');
  assert.match(status.stdout, /completed/);
  assert.match(status.stdout, /approved by user:bob/);

  const added = await remote(['user', 'add', 'carol', '--role', 'approver', '--json'], 'admin');
  assert.equal(added.code, 0, added.stderr);
  assert.match((JSON.parse(added.stdout) as { apiKey: string }).apiKey, /^wbk_/);
  const refused = await remote(['user', 'add', 'mallory', '--role', 'admin'], 'alice');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /ERR_WAYBILL_FORBIDDEN/);
  const policy = await remote(['policy', 'show'], 'alice');
  assert.match(policy.stdout, /@id\("no-self-approval"\)/);

  // Commands that work on the local home only say so; a server that is not there is reported as such.
  const local = await remote(['def', 'list'], 'admin');
  assert.equal(local.code, 2);
  assert.match(local.stderr, /local home only/);
  const gone = await cli(['--server', 'http://127.0.0.1:9', 'export', 'status'], as('alice'));
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /ERR_WAYBILL_SERVER_UNREACHABLE/);
  const noKey = await cli(['--server', server.url, 'export', 'status'], {
    WAYBILL_API_KEY: '',
    WAYBILL_TOKEN: '',
  });
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /ERR_WAYBILL_UNAUTHENTICATED/);
});

test('reversal over HTTP: requested, refused to a plain approver, approved by security, revealed once to the requester', async () => {
  assert.equal((await cli(['--home', t.home, 'keys', 'create-hmac', 'http-enc'])).code, 0);
  const key = await h.keys.hmacKey('http-enc');
  const enc = compileTransform({ type: 'encrypt_deterministic', key: 'http-enc' }, 'phone', {
    hmacKey: () => key,
  });
  const items = ['+1 555 0100', '+1 555 0101'].map((v) => String(enc.apply(v)));
  const [alice, bob, sec, vic, admin] = await Promise.all(
    ['alice', 'bob', 'sec', 'vic', 'admin'].map((n) => login(n)),
  );
  const bad = await call('POST', '/v1/reversals', alice, { kind: 'decrypt', items, justification: 'x' });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error!.message, /key: decrypt needs the name of the key/);
  const req = await call('POST', '/v1/reversals', alice, {
    kind: 'decrypt',
    items,
    key: 'http-enc',
    justification: 'call the customer back',
  });
  assert.equal(req.status, 201, JSON.stringify(req.json));
  assert.equal(req.json['status'], 'pending_approval');
  const id = req.json['id'] as string;
  assert.equal((await call('POST', `/v1/reversals/${id}/reveal`, alice)).status, 409);
  const byApprover = await call('POST', `/v1/reversals/${id}/approvals`, bob, {
    decision: 'approve',
    reason: 'ok',
  });
  assert.equal(byApprover.status, 403);
  const bySec = await call('POST', `/v1/reversals/${id}/approvals`, sec, {
    decision: 'approve',
    reason: 'ok',
  });
  assert.equal(bySec.status, 200);
  assert.equal(bySec.json['status'], 'approved');
  assert.equal((await call('POST', `/v1/reversals/${id}/reveal`, vic)).status, 403);
  assert.equal((await call('GET', `/v1/reversals/${id}`, vic)).status, 403);
  const revealed = await call('POST', `/v1/reversals/${id}/reveal`, alice);
  assert.equal(revealed.status, 200);
  assert.deepEqual(
    (revealed.json['items'] as { value: string }[]).map((i) => i.value),
    ['+1 555 0100', '+1 555 0101'],
  );
  assert.equal((await call('POST', `/v1/reversals/${id}/reveal`, alice)).status, 409);
  const listed = await call('GET', '/v1/reversals', sec);
  assert.ok((listed.json['reversals'] as { id: string }[]).some((r) => r.id === id));
  // Attributes for row filters: admins set them, nobody else.
  const set = await call('PATCH', '/v1/users/alice/attributes', admin, { region: 'eu' });
  assert.deepEqual(set.json, { name: 'alice', attributes: { region: 'eu' } });
  assert.equal((await call('PATCH', '/v1/users/alice/attributes', alice, { region: 'us' })).status, 403);
  assert.equal((await call('PATCH', '/v1/users/alice/attributes', admin, { Region: 'us' })).status, 400);
});
