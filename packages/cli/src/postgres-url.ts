/**
 * Splits the password out of a `postgres://user:password@…` URL, so it can be stored encrypted while
 * the rest of the URL (which is not secret) is kept as settings. Returns the URL unchanged when it holds
 * no password. Throws a plain Error on bad percent-encoding; callers turn it into a usage error.
 */
export function splitPostgresUrl(url: string): { url: string; password?: string } {
  const m = /^(postgres(?:ql)?:\/\/)([^:@/?#]*)(?::([^@/?#]*))?@(.*)$/.exec(url);
  if (!m || m[3] === undefined) return { url };
  return { url: `${m[1]}${m[2]}@${m[4]}`, password: decodeURIComponent(m[3]) };
}
