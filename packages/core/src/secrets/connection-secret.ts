import { WaybillError } from '@waybill/verify';
import type { ConnectionRecord } from '../ports/store.js';
import type { SecretBox } from './secret-box.js';

const ENV_PREFIX = 'env:';

export function connectionSecretContext(c: Pick<ConnectionRecord, 'workspace' | 'role' | 'name'>): string {
  return `connection:${c.workspace}:${c.role}:${c.name}`;
}

/** What is stored for a credential: a reference to an environment variable, or the sealed value. */
export function storeSecret(
  box: SecretBox,
  c: Pick<ConnectionRecord, 'workspace' | 'role' | 'name'>,
  secret: { value: string } | { env: string },
): string {
  if ('env' in secret) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(secret.env)) {
      throw new WaybillError(
        'ERR_WAYBILL_CONNECTION_INVALID',
        `"${secret.env}" is not an environment variable name`,
      );
    }
    return `${ENV_PREFIX}${secret.env}`;
  }
  return box.seal(secret.value, connectionSecretContext(c));
}

/** Resolves a stored credential; never puts the value into an error. */
export function resolveSecret(
  box: SecretBox,
  c: ConnectionRecord,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (c.secret === null) return undefined;
  if (c.secret.startsWith(ENV_PREFIX)) {
    const name = c.secret.slice(ENV_PREFIX.length);
    const value = env[name];
    if (value === undefined) {
      throw new WaybillError(
        'ERR_WAYBILL_SECRET_UNAVAILABLE',
        `connection "${c.name}" takes its credential from $${name}, which is not set`,
      );
    }
    return value;
  }
  return box.open(c.secret, connectionSecretContext(c)).toString('utf8');
}

/** How a stored credential is described to users: never the value. */
export function describeSecret(c: Pick<ConnectionRecord, 'secret'>): string | null {
  if (c.secret === null) return null;
  return c.secret.startsWith(ENV_PREFIX) ? `from $${c.secret.slice(ENV_PREFIX.length)}` : 'stored encrypted';
}
