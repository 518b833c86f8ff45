/**
 * Who made a request, as established by the server's `authenticate` callback from the bearer token.
 * Route handlers decide what the principal may do; the HTTP layer only establishes who it is.
 */
export interface AuthenticatedPrincipal {
  /** The principal's id (UUIDv7), as stored. */
  readonly id: string;
  /** The workspace the principal belongs to (`default` today). */
  readonly workspace: string;
  /** The principal's unique name within its workspace, e.g. `alice`. */
  readonly name: string;
  /** A person, or a service acting on its own behalf. */
  readonly kind: 'user' | 'service';
  /** The roles held, e.g. `requester`, `approver`. */
  readonly roles: readonly string[];
  /** The id of the API key the access token was exchanged for, when it came from one (never the key). */
  readonly apiKeyId?: string;
}

/**
 * The principal's name as it appears in logs and audit actors: `user:alice`, `service:nightly`.
 *
 * @example
 * ```ts
 * principalLabel({ kind: 'user', name: 'alice', … }); // 'user:alice'
 * ```
 */
export function principalLabel(principal: Pick<AuthenticatedPrincipal, 'kind' | 'name'>): string {
  return `${principal.kind}:${principal.name}`;
}
