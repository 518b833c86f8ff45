/**
 * Splits the password out of a `postgres://user:password@…` URL, so it can be stored encrypted while
 * the rest of the URL (which is not secret) is kept as settings. Returns the URL unchanged when it holds
 * no password. The user info ends at the LAST `@` before the query (as the connector parses it), so a
 * password with an unencoded `@` is split off whole. Throws a plain Error on bad percent-encoding;
 * callers turn it into a usage error.
 */
export function splitPostgresUrl(url: string): { url: string; password?: string } {
  const scheme = /^postgres(?:ql)?:\/\//.exec(url)?.[0];
  if (!scheme) return { url };
  const rest = url.slice(scheme.length);
  const queryAt = rest.search(/[?#]/);
  const authorityAndPath = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const at = authorityAndPath.lastIndexOf('@');
  if (at === -1) return { url };
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon === -1) return { url };
  return {
    url: `${scheme}${userinfo.slice(0, colon)}@${rest.slice(at + 1)}`,
    password: decodeURIComponent(userinfo.slice(colon + 1)),
  };
}
