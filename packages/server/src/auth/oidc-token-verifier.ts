import { WaybillError } from '@waybill/verify';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/** An external OpenID Connect issuer whose access or ID tokens the server accepts. */
export interface OidcOptions {
  /** The `iss` the tokens carry, e.g. `https://login.example.com/realms/acme`. */
  readonly issuer: string;
  /** The `aud` the tokens must carry (the client id Waybill is registered as). */
  readonly audience: string;
  /** Where the issuer publishes its keys; `<issuer>/.well-known/jwks.json` by default. */
  readonly jwksUrl?: string;
  /** The claim holding the Waybill roles: an array of strings, or one space-separated string. `roles` by default. */
  readonly rolesClaim?: string;
  /** The workspace the issuer's users belong to; `default` by default. */
  readonly workspace?: string;
  /** How far the clocks may disagree, in seconds; 30 by default. */
  readonly clockToleranceSeconds?: number;
  readonly clock: { now(): Date };
}

/** Who an external token says its holder is. */
export interface OidcIdentity {
  /** `sub`: the only stable identifier of an OpenID Connect user. */
  readonly subject: string;
  readonly issuer: string;
  readonly workspace: string;
  /** The Waybill roles of the roles claim (others are ignored). */
  readonly roles: string[];
  /** `preferred_username` or `email`, for people to read; never used to identify. */
  readonly displayName: string | undefined;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/**
 * Keys fetched over plain HTTP could be replaced by anyone on the path, who could then mint tokens:
 * HTTPS only, except on this machine (tests, a local identity provider).
 */
function checkKeyUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WaybillError('ERR_WAYBILL_INVALID_INPUT', `OIDC ${what} "${value}" is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `OIDC ${what} must be https:// (plain http only on this machine), got ${value}`,
    );
  }
  return url;
}

const KNOWN_ROLES = new Set(['viewer', 'requester', 'approver', 'security', 'admin']);
// Asymmetric algorithms only: an HMAC token "signed" with a public key is a classic confusion attack.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const invalid = 'access token is invalid or expired; get a new one from your identity provider';

/**
 * Verifies tokens of an external OpenID Connect issuer against its JWKS (fetched with a 5 s timeout,
 * cached, re-fetched when an unknown key id appears) and maps them to an identity with roles from a claim.
 */
export class OidcTokenVerifier {
  private jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(private readonly o: OidcOptions) {
    checkKeyUrl(o.issuer, 'issuer');
    if (o.jwksUrl !== undefined) checkKeyUrl(o.jwksUrl, 'JWKS URL');
  }

  /** The issuer's key set: the configured URL, else `jwks_uri` of its OpenID discovery document. */
  private keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.jwks ??= (async () => {
      let url = this.o.jwksUrl;
      if (url === undefined) {
        const where = `${this.o.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
        const r = await fetch(where, { signal: AbortSignal.timeout(5000), redirect: 'error' });
        const doc = (await r.json()) as { issuer?: unknown; jwks_uri?: unknown };
        if (!r.ok || doc.issuer !== this.o.issuer || typeof doc.jwks_uri !== 'string') {
          throw new Error(`${where} is not the discovery document of ${this.o.issuer}`);
        }
        url = doc.jwks_uri;
      }
      return createRemoteJWKSet(checkKeyUrl(url, 'JWKS URL'), { timeoutDuration: 5000 });
    })();
    // A failed discovery is tried again at the next token.
    void this.jwks.catch(() => (this.jwks = undefined));
    return this.jwks;
  }

  get issuer(): string {
    return this.o.issuer;
  }

  async verify(token: string): Promise<OidcIdentity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keys(), {
        issuer: this.o.issuer,
        audience: this.o.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.o.clockToleranceSeconds ?? 30,
        currentDate: this.o.clock.now(),
        requiredClaims: ['sub', 'exp', 'iss', 'aud'],
      }));
    } catch (err) {
      // Whatever failed (signature, claims, or fetching the keys), the token is not accepted.
      throw new WaybillError('ERR_WAYBILL_UNAUTHENTICATED', invalid, { cause: err });
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '' || sub.length > 255) {
      throw new WaybillError('ERR_WAYBILL_UNAUTHENTICATED', invalid);
    }
    const raw = payload[this.o.rolesClaim ?? 'roles'];
    const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/\s+/) : [];
    const roles = [
      ...new Set(list.filter((r): r is string => typeof r === 'string' && KNOWN_ROLES.has(r))),
    ].sort();
    const name = payload['preferred_username'] ?? payload['email'];
    return {
      subject: sub,
      issuer: this.o.issuer,
      workspace: this.o.workspace ?? 'default',
      roles,
      displayName: typeof name === 'string' ? name : undefined,
    };
  }
}
