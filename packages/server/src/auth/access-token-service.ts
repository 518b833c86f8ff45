import { createPublicKey, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { WaybillError } from '@waybill/verify';
import { SignJWT, calculateJwkThumbprint, errors, exportJWK, jwtVerify } from 'jose';

/** What {@link AccessTokenService} is built from. */
export interface AccessTokenServiceOptions {
  /** The Ed25519 private key tokens are signed with. */
  readonly privateKey: KeyObject;
  /** Its public key, which tokens are verified against. */
  readonly publicKey: KeyObject;
  /** The `kid` put in the header; the key's RFC 7638 JWK thumbprint by default. */
  readonly keyId?: string;
  /** The `iss` claim written and required, e.g. the server's base URL. */
  readonly issuer: string;
  /** The `aud` claim written and required, e.g. `waybill-api`. */
  readonly audience: string;
  /** How long a token lives, in seconds; 15 minutes by default. Short, since a token cannot be recalled. */
  readonly ttlSeconds?: number;
  /** How far the verifier's and issuer's clocks may disagree, in seconds; 30 by default, at most 300. */
  readonly clockToleranceSeconds?: number;
  /** The time (core's `Clock` port fits), so tests control expiry. */
  readonly clock: { now(): Date };
  /**
   * Whether the API key a token was exchanged for is still valid at `at` (exists, not revoked, not
   * expired). Asked at every verification, so revoking a key ends its tokens at once, not at their expiry.
   */
  readonly isApiKeyActive: (apiKeyId: string, at: Date) => Promise<boolean>;
}

/** What a verified access token says. */
export interface VerifiedAccessToken {
  readonly principalId: string;
  readonly workspace: string;
  readonly apiKeyId: string;
  /** The token's unique id (`jti`). */
  readonly jti: string;
  /** When the token expires, RFC 3339 UTC. */
  readonly expiresAt: string;
}

/** A freshly issued access token. */
export interface IssuedAccessToken {
  /** The compact JWS; a secret: never log it. */
  readonly accessToken: string;
  /** When it expires, RFC 3339 UTC. */
  readonly expiresAt: string;
}

// RFC 9068 §2.1: the media type of JWT access tokens. Required when verifying, so no other JWT signed with
// the same key (an ID token, a future kind of token) is ever taken for an access token.
const accessTokenType = 'at+jwt';

// The only algorithm accepted. Naming it closes the classic JWT holes: `alg: none`, and an HMAC token
// "signed" with the public key as secret (RFC 8725 §2.1, §3.1).
const algorithm = 'EdDSA';

// Longer than any token this service issues; anything longer is refused before it is parsed.
const maxTokenLength = 4096;

const invalidTokenMessage = 'access token is invalid or expired; get a new one with POST /v1/auth/token';

function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

function assertEd25519(key: KeyObject, type: 'private' | 'public', name: string): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ed25519') {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `AccessTokenService: ${name} must be an Ed25519 ${type} key, got a ${key.asymmetricKeyType ?? key.type} ${key.type} key`,
    );
  }
}

/**
 * Issues and verifies Waybill's access tokens: short-lived JWTs (RFC 9068 `at+jwt`) signed with Ed25519,
 * each bound to the API key it was exchanged for.
 *
 * A token carries `sub` (principal id), `ws` (workspace), `akid` (API key id), `jti`, `iat`, `exp`, `iss`
 * and `aud`, with `alg: EdDSA` and the `kid` in its header. {@link verify} accepts only EdDSA, requires
 * every one of these claims, the right issuer and audience, an unexpired token within a bounded clock
 * skew, and an API key that is still active. Any failure is the same `ERR_WAYBILL_UNAUTHENTICATED`
 * message, which tells a prober nothing about which check failed.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = generateKeyPairSync('ed25519');
 * const tokens = new AccessTokenService({
 *   privateKey, publicKey, issuer: 'https://waybill.example', audience: 'waybill-api',
 *   clock: systemClock, isApiKeyActive: (id, at) => store.isApiKeyActive(id, at),
 * });
 * const { accessToken } = await tokens.issue({ principalId, workspace: 'default', apiKeyId });
 * const claims = await tokens.verify(accessToken);
 * ```
 */
const verifiedCacheSize = 10_000;

export class AccessTokenService {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #ttlSeconds: number;
  readonly #toleranceSeconds: number;
  readonly #clock: { now(): Date };
  readonly #isApiKeyActive: (apiKeyId: string, at: Date) => Promise<boolean>;
  readonly #verified = new Map<
    string,
    { sub: string; ws: string; akid: string; jti: string; iat: number; exp: number }
  >();
  #keyId: Promise<string>;

  constructor(options: AccessTokenServiceOptions) {
    assertEd25519(options.privateKey, 'private', 'privateKey');
    assertEd25519(options.publicKey, 'public', 'publicKey');
    const derived = createPublicKey(options.privateKey).export({ format: 'der', type: 'spki' });
    if (!derived.equals(options.publicKey.export({ format: 'der', type: 'spki' }))) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        'AccessTokenService: publicKey is not the public half of privateKey',
      );
    }
    const ttl = options.ttlSeconds ?? 15 * 60;
    const tolerance = options.clockToleranceSeconds ?? 30;
    if (!Number.isInteger(ttl) || ttl <= 0) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `AccessTokenService: ttlSeconds ${ttl} must be a positive integer`,
      );
    }
    // A large tolerance would quietly extend every token's life; five minutes is the usual upper bound.
    if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > 300) {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `AccessTokenService: clockToleranceSeconds ${tolerance} must be an integer from 0 to 300`,
      );
    }
    this.#privateKey = options.privateKey;
    this.#publicKey = options.publicKey;
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#ttlSeconds = ttl;
    this.#toleranceSeconds = tolerance;
    this.#clock = options.clock;
    this.#isApiKeyActive = options.isApiKeyActive;
    this.#keyId =
      options.keyId !== undefined
        ? Promise.resolve(options.keyId)
        : exportJWK(options.publicKey).then((jwk) => calculateJwkThumbprint(jwk));
  }

  /**
   * Issues an access token for a principal who has just proven an API key.
   *
   * @example
   * ```ts
   * const { accessToken, expiresAt } = await tokens.issue({ principalId, workspace, apiKeyId });
   * ```
   */
  async issue(subject: {
    readonly principalId: string;
    readonly workspace: string;
    readonly apiKeyId: string;
  }): Promise<IssuedAccessToken> {
    const issuedAt = Math.floor(this.#clock.now().getTime() / 1000);
    const expiresAt = issuedAt + this.#ttlSeconds;
    const accessToken = await new SignJWT({ ws: subject.workspace, akid: subject.apiKeyId })
      .setProtectedHeader({ alg: algorithm, typ: accessTokenType, kid: await this.#keyId })
      .setSubject(subject.principalId)
      .setIssuer(this.#issuer)
      .setAudience(this.#audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(this.#privateKey);
    return { accessToken, expiresAt: rfc3339(expiresAt) };
  }

  /**
   * Verifies an access token and returns what it says, or throws `ERR_WAYBILL_UNAUTHENTICATED`: for a
   * malformed, expired or not-yet-valid token, another signature algorithm than EdDSA (`none` included),
   * another key, issuer, audience or token type, a missing claim, or an API key no longer active. An
   * error of `isApiKeyActive` itself (the store is down) is passed on unchanged.
   *
   * @example
   * ```ts
   * const { principalId, workspace } = await tokens.verify(bearerToken);
   * ```
   */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const now = this.#clock.now();
    let claims: { sub: string; ws: string; akid: string; jti: string; iat: number; exp: number };
    const known = this.#verified.get(token);
    if (known !== undefined) {
      // The signature and the fixed claims of this very token string were checked before; its time
      // window and its API key are checked again at every use.
      const t = now.getTime() / 1000;
      const tolerance = this.#toleranceSeconds;
      if (
        t > known.exp + tolerance ||
        t < known.iat - tolerance ||
        t - known.iat > this.#ttlSeconds + tolerance
      ) {
        this.#verified.delete(token);
        throw new WaybillError('ERR_WAYBILL_UNAUTHENTICATED', invalidTokenMessage);
      }
      claims = known;
    } else
      try {
        if (token.length > maxTokenLength) throw new errors.JWTInvalid('token too long');
        const { payload } = await jwtVerify(token, this.#publicKey, {
          algorithms: [algorithm],
          typ: accessTokenType,
          issuer: this.#issuer,
          audience: this.#audience,
          clockTolerance: this.#toleranceSeconds,
          currentDate: now,
          // Also refuses a token whose `iat` lies in the future or lies further back than a token lives.
          maxTokenAge: this.#ttlSeconds,
          requiredClaims: ['sub', 'ws', 'akid', 'jti', 'iat', 'exp', 'iss', 'aud'],
        });
        const { sub, ws, akid, jti, iat, exp } = payload;
        if (
          typeof sub !== 'string' ||
          typeof ws !== 'string' ||
          typeof akid !== 'string' ||
          typeof jti !== 'string' ||
          typeof iat !== 'number' ||
          typeof exp !== 'number'
        ) {
          throw new errors.JWTClaimValidationFailed('claim of the wrong type', payload);
        }
        // A token that claims a longer life than this service grants was not issued by it as configured
        // now (a leaked key, or a TTL since shortened): refused rather than trusted to its `exp`.
        if (exp - iat > this.#ttlSeconds) {
          throw new errors.JWTClaimValidationFailed(
            'lifetime longer than the configured TTL',
            payload,
            'exp',
          );
        }
        claims = { sub, ws, akid, jti, iat, exp };
        // Ed25519 verification dominates a request's cost; a client sends the same token for its whole
        // life, so the verified claims are remembered by token (bounded: the oldest go first).
        if (this.#verified.size >= verifiedCacheSize)
          this.#verified.delete(this.#verified.keys().next().value!);
        this.#verified.set(token, claims);
      } catch (err) {
        if (err instanceof errors.JOSEError) {
          throw new WaybillError('ERR_WAYBILL_UNAUTHENTICATED', invalidTokenMessage, { cause: err });
        }
        throw err;
      }
    if (!(await this.#isApiKeyActive(claims.akid, now))) {
      throw new WaybillError('ERR_WAYBILL_UNAUTHENTICATED', invalidTokenMessage);
    }
    return {
      principalId: claims.sub,
      workspace: claims.ws,
      apiKeyId: claims.akid,
      jti: claims.jti,
      expiresAt: rfc3339(claims.exp),
    };
  }
}
