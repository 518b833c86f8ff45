import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { appendFile, chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  API_KEY_PATTERN,
  AccessGuard,
  AuditLog,
  KeyRing,
  PolicyService,
  PrincipalService,
  actorOf,
  createServices,
  hashApiKey,
  type Notifier,
  type Services,
  SecretBox,
  WaybillError,
  systemClock,
  type PrincipalRecord,
  type Store,
} from '@waybill/core';
import { LogNotifier, WebhookNotifier } from '@waybill/connectors';
import { openPostgresStore, openSqliteStore } from '@waybill/store';
import { vkeyFor } from '@waybill/verify';
import { connectionOpener } from './connection-opener.js';
import { splitPostgresUrl } from './postgres-url.js';

export interface HomeConfig {
  readonly version: 1;
  readonly store:
    | { readonly kind: 'sqlite'; readonly path: string }
    /** `password` is sealed under the master key; the URL never holds it. */
    | { readonly kind: 'postgres'; readonly url: string; readonly password?: string };
  /** Where owners are told about runs that a validation gate stopped (besides `HOME/notifications.log`). */
  readonly notifications?: {
    readonly webhook?: { readonly url: string; readonly secretEnv?: string };
  };
}

/** The notifiers of a home: a log file always, and the configured webhook. */
export function homeNotifiers(home: string, config: HomeConfig, env: NodeJS.ProcessEnv): Notifier[] {
  const log = join(home, 'notifications.log');
  const out: Notifier[] = [new LogNotifier((line) => appendFile(log, line, { mode: 0o600 }), `log ${log}`)];
  const hook = config.notifications?.webhook;
  if (hook) {
    const secret = hook.secretEnv !== undefined ? env[hook.secretEnv] : undefined;
    out.push(new WebhookNotifier({ url: hook.url, ...(secret ? { secret } : {}) }));
  }
  return out;
}

/** `--home DIR`, else `$WAYBILL_HOME`, else `./.waybill` (CONTRACT.md). */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['WAYBILL_HOME'];
  return resolve(flag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : '.waybill'));
}

export function homeExists(home: string): boolean {
  return existsSync(join(home, 'config.json'));
}

/** Everything a command needs, wired once (STYLE.md §4: one place wires adapters to ports). */
export interface HomeContext extends Services {
  readonly home: string;
  readonly store: Store;
  readonly box: SecretBox;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  readonly principal: PrincipalRecord;
  /** The principal as the audit log names it: `user:alice`, `service:ci`. */
  readonly actor: string;
  /** Signs a checkpoint if this command appended to the log, then closes the store. */
  close(): Promise<void>;
}

/** The file outside the store that keeps the latest checkpoint (ARCHITECTURE.md "The audit log"). */
export function checkpointFile(home: string): string {
  return join(home, 'audit.checkpoint');
}

export { actorOf };

/** The key ring and audit log of a store, wired to each other. */
function wireAudit(home: string, store: Store, box: SecretBox): { keys: KeyRing; audit: AuditLog } {
  const keys = new KeyRing(store, box, systemClock);
  const audit = new AuditLog({ store, keys, clock: systemClock, checkpointFile: checkpointFile(home) });
  keys.useAuditLog(audit);
  return { keys, audit };
}

export async function readMasterKey(home: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const fromEnv = env['WAYBILL_MASTER_KEY'];
  let text: string;
  if (fromEnv !== undefined) text = fromEnv;
  else {
    try {
      text = await readFile(join(home, 'master.key'), 'utf8');
    } catch {
      throw new WaybillError(
        'ERR_WAYBILL_HOME_INVALID',
        `no master key: set WAYBILL_MASTER_KEY or restore ${join(home, 'master.key')}`,
      );
    }
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new WaybillError('ERR_WAYBILL_HOME_INVALID', 'the master key must be base64 of exactly 32 bytes');
  }
  return key;
}

/** The home's master key as a SecretBox, or null when it is not available here. */
export async function masterKeyBox(home: string, env: NodeJS.ProcessEnv): Promise<SecretBox | null> {
  try {
    return new SecretBox(await readMasterKey(home, env));
  } catch {
    return null;
  }
}

/** The associated data the PostgreSQL store's password in config.json is sealed with. */
export const STORE_SECRET_CONTEXT = 'store:postgres:password';

async function openStore(home: string, config: HomeConfig, box: SecretBox | null): Promise<Store> {
  if (config.store.kind === 'sqlite') return openSqliteStore(resolve(home, config.store.path));
  const password =
    config.store.password && box
      ? box.open(config.store.password, STORE_SECRET_CONTEXT).toString('utf8')
      : undefined;
  return openPostgresStore({
    connectionString: config.store.url,
    ...(password !== undefined ? { password } : {}),
  });
}

export async function readConfig(home: string): Promise<HomeConfig> {
  if (!homeExists(home)) {
    throw new WaybillError(
      'ERR_WAYBILL_HOME_INVALID',
      `no Waybill home at ${home}; run \`waybill init\` first`,
    );
  }
  try {
    const c = JSON.parse(await readFile(join(home, 'config.json'), 'utf8')) as HomeConfig;
    if (c.version !== 1 || !c.store || (c.store.kind !== 'sqlite' && c.store.kind !== 'postgres'))
      throw new Error('shape');
    return c;
  } catch (err) {
    throw new WaybillError(
      'ERR_WAYBILL_HOME_INVALID',
      `${join(home, 'config.json')} is not a valid home configuration`,
      {
        cause: err,
      },
    );
  }
}

async function resolvePrincipal(store: Store, env: NodeJS.ProcessEnv): Promise<PrincipalRecord> {
  const key = env['WAYBILL_API_KEY'];
  if (key) {
    const m = API_KEY_PATTERN.exec(key);
    const rec = m ? await store.findApiKeyByPrefix(m[1]!) : undefined;
    const ok =
      rec &&
      rec.hash === hashApiKey(key) &&
      !rec.revokedAt &&
      (!rec.expiresAt || Date.parse(rec.expiresAt) > Date.now());
    const principal = ok ? await store.getPrincipal(rec.principalId) : undefined;
    if (!principal)
      throw new WaybillError(
        'ERR_WAYBILL_UNAUTHENTICATED',
        'WAYBILL_API_KEY is not a valid, unexpired, unrevoked API key of this home; ask an admin for a new one',
      );
    return principal;
  }
  // Without a key, the local CLI acts as the home's bootstrap administrator (its owner on this machine).
  const admin = (await store.listPrincipals('default')).find((p) => p.roles.includes('admin'));
  if (!admin)
    throw new WaybillError(
      'ERR_WAYBILL_HOME_INVALID',
      'this home has no administrator; re-create it with `waybill init`',
    );
  return admin;
}

export async function openHome(home: string, env: NodeJS.ProcessEnv = process.env): Promise<HomeContext> {
  const config = await readConfig(home);
  const box = new SecretBox(await readMasterKey(home, env));
  const store = await openStore(home, config, box);
  try {
    const { keys, audit } = wireAudit(home, store, box);
    const principal = await resolvePrincipal(store, env);
    const services = createServices({
      store,
      keys,
      box,
      audit,
      clock: systemClock,
      connections: connectionOpener,
      env,
      stagingRoot: join(home, 'staging'),
      notifiers: homeNotifiers(home, config, env),
    });
    return {
      ...services,
      home,
      store,
      box,
      keys,
      audit,
      principal,
      actor: actorOf(principal),
      close: async () => {
        try {
          await audit.checkpointIfBehind();
        } finally {
          await store.close();
        }
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

export interface InitOptions {
  readonly storeUrl?: string;
}

/**
 * Creates a home: config, master key (0600; skipped when WAYBILL_MASTER_KEY is set), store with
 * migrations, waybill and log signing keys, and the bootstrap admin with an API key shown once.
 */
export async function initHome(
  home: string,
  options: InitOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ home: string; adminKey: string }> {
  const fresh = !existsSync(home);
  if (!fresh && !statSync(home).isDirectory()) {
    throw new WaybillError(
      'ERR_WAYBILL_HOME_INVALID',
      `${home} exists and is not a directory; pick another --home`,
    );
  }
  // What init creates inside an existing directory, to take back if it fails part way.
  const made = [
    'staging',
    'master.key',
    'waybill.db',
    'waybill.db-wal',
    'waybill.db-shm',
    'config.json',
    'audit.checkpoint',
  ].filter((n) => !existsSync(join(home, n)));
  try {
    return await createHome(home, options, env, fresh);
  } catch (err) {
    // Nothing half-made is left behind: a home that could not be completed is removed again.
    if (fresh) await rm(home, { recursive: true, force: true });
    else for (const n of made) await rm(join(home, n), { recursive: true, force: true });
    throw err;
  }
}

async function createHome(
  home: string,
  options: InitOptions,
  env: NodeJS.ProcessEnv,
  fresh: boolean,
): Promise<{ home: string; adminKey: string }> {
  if (homeExists(home)) {
    throw new WaybillError(
      'ERR_WAYBILL_CONFLICT',
      `${home} is already a Waybill home; use it, or pick another --home`,
    );
  }
  if (options.storeUrl !== undefined && !/^postgres(ql)?:\/\//.test(options.storeUrl)) {
    throw new WaybillError(
      'ERR_WAYBILL_USAGE',
      '--store must be a postgres:// URL (the default is the embedded SQLite store)',
    );
  }
  await mkdir(join(home, 'staging'), { recursive: true, mode: 0o700 });
  // A home made here is private; an existing directory the user pointed at keeps its own mode.
  if (fresh) await chmod(home, 0o700);
  if (env['WAYBILL_MASTER_KEY'] === undefined) {
    await writeFile(join(home, 'master.key'), randomBytes(32).toString('base64') + '\n', {
      mode: 0o600,
      flag: 'wx',
    });
  }
  const box = new SecretBox(await readMasterKey(home, env));
  let storeConfig: HomeConfig['store'] = { kind: 'sqlite', path: 'waybill.db' };
  if (options.storeUrl) {
    const split = splitPostgresUrl(options.storeUrl);
    storeConfig = {
      kind: 'postgres',
      url: split.url,
      ...(split.password !== undefined ? { password: box.seal(split.password, STORE_SECRET_CONTEXT) } : {}),
    };
  }
  const config: HomeConfig = { version: 1, store: storeConfig };
  const store = await openStore(home, config, box);
  let adminKey = '';
  try {
    const { keys, audit } = wireAudit(home, store, box);
    await audit.origin();
    await keys.ensureSigningKey('waybill-signing', 'system');
    await keys.ensureSigningKey('log-signing', 'system');
    const clock = systemClock;
    const policies = new PolicyService({ store, audit, clock });
    const principals = new PrincipalService({
      store,
      audit,
      clock,
      guard: new AccessGuard({ policies, audit }),
    });
    await store.transaction(async (tx) => {
      await policies.storeDefault(tx, 'default');
      // The bootstrap admin may also request exports (the demo does); approving needs a second person.
      const created = await principals.bootstrap(tx, 'default', {
        name: 'admin',
        roles: ['admin', 'requester'],
      });
      adminKey = created.apiKey;
    });
    await audit.checkpoint();
  } finally {
    await store.close();
  }
  // Written last: a home is complete only once its config exists.
  await writeFile(join(home, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return { home, adminKey };
}

/**
 * The public keys of a purpose, straight from the store: verifying needs no master key, only the
 * public halves, which are kept in clear.
 */
export async function readPublicKeys(
  home: string,
  purpose: 'waybill-signing' | 'log-signing',
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ keyId: string; publicKey: KeyObject; current: boolean }[]> {
  return withPublicStore(home, env, (store) => listPublic(store, purpose));
}

/** The audit log's verifier keys (signed-note vkeys) this home trusts, current first. */
export async function readLogVerifierKeys(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  return withPublicStore(home, env, async (store) => (await trustedLogKeys(home, env, store)).vkeys);
}

export interface TrustedLogKeys {
  /** vkeys, current first. */
  readonly vkeys: string[];
  /** `master-key`: each checked against the master key; `unauthenticated`: none here to check with. */
  readonly trust: 'master-key' | 'unauthenticated';
  /** Ids of log keys in the store that are not what they claim (planted): left out of `vkeys`. */
  readonly planted: string[];
}

/**
 * The log keys of the store. Their public halves are kept in clear so that checking needs no secret;
 * when the master key is at hand, each is also checked to be the public half of its sealed private
 * key, so that a key planted in the store by someone without the master key is not trusted.
 */
export async function trustedLogKeys(
  home: string,
  env: NodeJS.ProcessEnv,
  store: Store,
): Promise<TrustedLogKeys> {
  const { origin } = await store.auditHead();
  const box = await masterKeyBox(home, env);
  const ring = box ? new KeyRing(store, box, systemClock) : null;
  const records = (await store.listKeys('default', 'log-signing'))
    .filter((r) => r.publicKey !== null)
    .sort(
      (a, b) =>
        Number(a.retiredAt !== null) - Number(b.retiredAt !== null) || (a.createdAt < b.createdAt ? 1 : -1),
    );
  const vkeys: string[] = [];
  const planted: string[] = [];
  for (const r of records) {
    let key: KeyObject;
    try {
      key = createPublicKey(r.publicKey!);
    } catch {
      planted.push(r.id);
      continue;
    }
    if (ring && !ring.isAuthentic(r)) {
      planted.push(r.id);
      continue;
    }
    if (origin !== null) vkeys.push(vkeyFor(origin, key));
  }
  return { vkeys, trust: ring ? 'master-key' : 'unauthenticated', planted };
}

/**
 * Opens the store for reading public data: verifying needs no master key, only the public halves,
 * which are kept in clear.
 */
export async function withPublicStore<T>(
  home: string,
  env: NodeJS.ProcessEnv,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const config = await readConfig(home);
  // A PostgreSQL store's own password is sealed; opening it needs the master key after all.
  const box =
    config.store.kind === 'postgres' && config.store.password
      ? new SecretBox(await readMasterKey(home, env))
      : null;
  const store = await openStore(home, config, box);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function listPublic(
  store: Store,
  purpose: 'waybill-signing' | 'log-signing',
): Promise<{ keyId: string; publicKey: KeyObject; current: boolean }[]> {
  const records = (await store.listKeys('default', purpose)).filter((r) => r.publicKey !== null);
  const current = records
    .filter((r) => r.retiredAt === null)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
  return records.map((r) => ({
    keyId: r.id,
    publicKey: createPublicKey(r.publicKey!),
    current: r === current,
  }));
}
