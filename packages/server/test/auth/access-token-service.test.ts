import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import { SignJWT, decodeProtectedHeader, decodeJwt } from 'jose';
import { AccessTokenService } from '@waybill/server';
import { AUDIENCE, ISSUER, TestClock, TestDirectory, loginAs, startTestServer } from '../server-fixture.js';

function world(options: { ttlSeconds?: number } = {}) {
  const clock = new TestClock();
  const directory = new TestDirectory();
  const keys = generateKeyPairSync('ed25519');
  const tokens = new AccessTokenService({
    ...keys,
    issuer: ISSUER,
    audience: AUDIENCE,
    clock,
    isApiKeyActive: directory.isActive,
    ...options,
  });
  const { apiKeyId } = directory.addUser('alice');
  return { clock, directory, keys, tokens, apiKeyId };
}

async function rejected(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof WaybillError, `expected a WaybillError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_WAYBILL_UNAUTHENTICATED');
    // One message for every failure: a prober learns nothing about which check failed.
    assert.equal(err.message, 'access token is invalid or expired; get a new one with POST /v1/auth/token');
    return true;
  });
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

test('an issued token verifies and carries exactly the documented claims and header', async () => {
  const { tokens, apiKeyId, clock } = world();
  const issued = await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId });
  assert.equal(issued.expiresAt, '2025-06-01T12:15:00.000Z');
  const header = decodeProtectedHeader(issued.accessToken);
  assert.equal(header.alg, 'EdDSA');
  assert.equal(header.typ, 'at+jwt');
  assert.match(String(header.kid), /^[A-Za-z0-9_-]{43}$/, 'kid is the RFC 7638 thumbprint');
  const claims = decodeJwt(issued.accessToken);
  assert.deepEqual(Object.keys(claims).sort(), ['akid', 'aud', 'exp', 'iat', 'iss', 'jti', 'sub', 'ws']);
  assert.equal(claims.exp! - claims.iat!, 900);

  clock.advance(60);
  const verified = await tokens.verify(issued.accessToken);
  assert.deepEqual(verified, {
    principalId: 'p-1',
    workspace: 'default',
    apiKeyId,
    jti: claims.jti,
    expiresAt: '2025-06-01T12:15:00.000Z',
  });
  const again = await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId });
  assert.notEqual(decodeJwt(again.accessToken).jti, claims.jti, 'every token has its own jti');
});

test('expired-token-is-rejected', async () => {
  const { tokens, apiKeyId, clock } = world();
  const { accessToken } = await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId });
  clock.advance(15 * 60 + 29);
  await tokens.verify(accessToken); // within the 30 s clock tolerance
  clock.advance(2);
  await rejected(tokens.verify(accessToken));
});

test('a token from the future (iat beyond the clock tolerance) is rejected', async () => {
  const { tokens, apiKeyId, clock } = world();
  const { accessToken } = await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId });
  clock.advance(-31);
  await rejected(tokens.verify(accessToken));
});

test('token-with-a-forged-signature-is-rejected', async () => {
  const { tokens, apiKeyId } = world();
  const genuine = await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId });
  // Same claims and header, signed by another Ed25519 key.
  const other = generateKeyPairSync('ed25519');
  const [h, p] = genuine.accessToken.split('.');
  const forged = `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), other.privateKey).toString('base64url')}`;
  await rejected(tokens.verify(forged));
  // Claims edited after signing (another principal), signature kept.
  const edited = { ...decodeJwt(genuine.accessToken), sub: 'admin' };
  await rejected(tokens.verify(`${h}.${b64url(edited)}.${genuine.accessToken.split('.')[2]}`));
  // A whole token minted with the attacker's key.
  const minted = await new SignJWT({ ws: 'default', akid: apiKeyId })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
    .setSubject('admin')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(new Date('2025-06-01T12:00:00Z'))
    .setExpirationTime(new Date('2025-06-01T12:10:00Z'))
    .setJti(randomUUID())
    .sign(other.privateKey);
  await rejected(tokens.verify(minted));
});

test('token-with-alg-none-is-rejected', async () => {
  const { tokens, apiKeyId } = world();
  const claims = decodeJwt(
    (await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId })).accessToken,
  );
  // eyJhbGciOiJub25lIn0 is {"alg":"none"}; an unsecured JWT has an empty signature (RFC 7519 §6.1).
  await rejected(tokens.verify(`eyJhbGciOiJub25lIn0.${b64url(claims)}.`));
  await rejected(tokens.verify(`${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(claims)}.`));
  await rejected(tokens.verify(`${b64url({ alg: 'NONE', typ: 'at+jwt' })}.${b64url(claims)}.`));
});

test('a token HMAC-signed with the public key as the secret is rejected', async () => {
  const { tokens, apiKeyId, keys } = world();
  const claims = decodeJwt(
    (await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId })).accessToken,
  );
  const head = `${b64url({ alg: 'HS256', typ: 'at+jwt' })}.${b64url(claims)}`;
  for (const secret of [
    keys.publicKey.export({ format: 'pem', type: 'spki' }),
    keys.publicKey.export({ format: 'der', type: 'spki' }),
  ]) {
    const mac = createHmac('sha256', secret).update(head).digest('base64url');
    await rejected(tokens.verify(`${head}.${mac}`));
  }
});

test('token-for-another-audience-or-issuer-is-rejected', async () => {
  const { keys, clock, directory, apiKeyId } = world();
  const make = (issuer: string, audience: string) =>
    new AccessTokenService({ ...keys, issuer, audience, clock, isApiKeyActive: directory.isActive });
  const verifier = make(ISSUER, AUDIENCE);
  for (const [issuer, audience] of [
    [ISSUER, 'another-api'],
    ['https://evil.test', AUDIENCE],
    ['https://evil.test', 'another-api'],
  ] as const) {
    const { accessToken } = await make(issuer, audience).issue({
      principalId: 'p',
      workspace: 'default',
      apiKeyId,
    });
    await rejected(verifier.verify(accessToken));
  }
});

test('a token signed by the right key but lacking a claim, of another type or too long-lived is rejected', async () => {
  const { keys, apiKeyId, tokens } = world();
  const iat = Date.parse('2025-06-01T12:00:00Z') / 1000;
  const base = {
    sub: 'p',
    ws: 'default',
    akid: apiKeyId,
    jti: randomUUID(),
    iss: ISSUER,
    aud: AUDIENCE,
    iat,
    exp: iat + 600,
  };
  const signWith = (
    payload: Record<string, unknown>,
    header: Record<string, unknown> = { alg: 'EdDSA', typ: 'at+jwt' },
  ) => {
    const head = `${b64url(header)}.${b64url(payload)}`;
    return `${head}.${sign(null, Buffer.from(head), keys.privateKey).toString('base64url')}`;
  };
  assert.ok(await tokens.verify(signWith(base)), 'the hand-made baseline token must verify');
  for (const claim of ['sub', 'ws', 'akid', 'jti', 'iss', 'aud', 'iat', 'exp']) {
    const rest: Record<string, unknown> = { ...base };
    delete rest[claim];
    await rejected(tokens.verify(signWith(rest)));
  }
  await rejected(tokens.verify(signWith({ ...base, ws: 42 })));
  await rejected(tokens.verify(signWith(base, { alg: 'EdDSA', typ: 'JWT' })));
  await rejected(tokens.verify(signWith(base, { alg: 'EdDSA' })));
  // Valid signature, but claims a life of a year: longer than this service ever issues.
  await rejected(tokens.verify(signWith({ ...base, exp: iat + 365 * 24 * 3600 })));
  await rejected(tokens.verify('x'.repeat(5000)));
  await rejected(tokens.verify(''));
});

test('token-of-a-revoked-api-key-is-rejected', async () => {
  const { tokens, apiKeyId, directory } = world();
  const { accessToken } = await tokens.issue({ principalId: 'p-1', workspace: 'default', apiKeyId });
  await tokens.verify(accessToken);
  directory.revoke(apiKeyId);
  await rejected(tokens.verify(accessToken));
  // A key that never existed (deleted) as well.
  const { accessToken: orphan } = await tokens.issue({
    principalId: 'p',
    workspace: 'default',
    apiKeyId: randomUUID(),
  });
  await rejected(tokens.verify(orphan));
});

test('token-of-a-revoked-api-key-is-rejected over HTTP, at once', async () => {
  const { server, world: w } = await startTestServer();
  try {
    const { accessToken, apiKeyId } = await loginAs(w, server.url, 'alice');
    const call = () =>
      fetch(`${server.url}/v1/things/abc`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal((await call()).status, 200);
    w.directory.revoke(apiKeyId);
    const response = await call();
    assert.equal(response.status, 401);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      'ERR_WAYBILL_UNAUTHENTICATED',
    );
  } finally {
    await server.close();
  }
});

test('an error of isApiKeyActive (the store is down) is passed on, not turned into a 401', async () => {
  const keys = generateKeyPairSync('ed25519');
  const down = new WaybillError('ERR_WAYBILL_STORE_FAILED', 'store unavailable');
  const tokens = new AccessTokenService({
    ...keys,
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: new TestClock(),
    isApiKeyActive: () => Promise.reject(down),
  });
  const { accessToken } = await tokens.issue({ principalId: 'p', workspace: 'default', apiKeyId: 'k' });
  await assert.rejects(tokens.verify(accessToken), (err) => err === down);
});

test('the service refuses keys that are not a matching Ed25519 pair, and unsafe settings', () => {
  const ed = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const base = {
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: new TestClock(),
    isApiKeyActive: () => Promise.resolve(true),
  };
  const invalid = (err: unknown) => err instanceof WaybillError && err.code === 'ERR_WAYBILL_INVALID_INPUT';
  assert.throws(() => new AccessTokenService({ ...base, ...ec }), invalid);
  assert.throws(
    () => new AccessTokenService({ ...base, privateKey: ed.privateKey, publicKey: other.publicKey }),
    invalid,
  );
  assert.throws(
    () => new AccessTokenService({ ...base, privateKey: ed.publicKey, publicKey: ed.publicKey }),
    invalid,
  );
  assert.throws(() => new AccessTokenService({ ...base, ...ed, clockToleranceSeconds: 3600 }), invalid);
  assert.throws(() => new AccessTokenService({ ...base, ...ed, ttlSeconds: 0 }), invalid);
});
