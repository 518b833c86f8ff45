import { WaybillError } from '@waybill/verify';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

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

const KNOWN_ROLES = new Set(['viewer', 'requester', 'approver', 'security', 'admin']);
// Asymmetric algorithms only: an HMAC token "signed" with a public key is a classic confusion attack.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const invalid = 'access token is invalid or expired; get a new one from your identity provider';

/**
 * Verifies tokens of an external OpenID Connect issuer against its JWKS (fetched with a 5 s timeout,
 * cached, re-fetched when an unknown key id appears) and maps them to an identity with roles from a claim.
 */
export class OidcTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly o: OidcOptions) {
    const url = new URL(o.jwksUrl ?? `${o.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new WaybillError(
        'ERR_WAYBILL_INVALID_INPUT',
        `OIDC JWKS URL must be http(s), got ${url.protocol}`,
      );
    }
    this.jwks = createRemoteJWKSet(url, { timeoutDuration: 5000 });
  }

  get issuer(): string {
    return this.o.issuer;
  }

  async verify(token: string): Promise<OidcIdentity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.o.issuer,
        audience: this.o.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.o.clockToleranceSeconds ?? 30,
        currentDate: this.o.clock.now(),
        requiredClaims: ['sub', 'exp', 'iss', 'aud'],
      }));
    } catch (err) {
      if (err instanceof errors.JOSEError)
        throw new WaybillError('ERR_WAYBILL_UNAUTHENTICATED', invalid, { cause: err });
      throw err;
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
