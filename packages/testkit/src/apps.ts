// The real no-code apps for integration tests: Directus and NocoDB from npm (pinned in test-apps/<app>/,
// installed by `npm run test:apps`, never by `npm ci`), each started on SQLite in a throwaway directory
// behind a TLS proxy, as a real deployment would put them, so Waybill's https-only sources reach them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';
import { freePort } from './free-port.js';
import { tempDir, type TempDir } from './temp-dir.js';
import { makeTestPki, type TestPki } from './test-pki.js';

export type AppName = 'directus' | 'nocodb';

/** A running app: `url` is its https origin (TLS proxy), `httpUrl` the app itself on loopback. */
export interface TestApp {
  readonly name: AppName;
  readonly version: string;
  readonly url: string;
  readonly httpUrl: string;
  /** The CA certificate (PEM) that signed the proxy's certificate. */
  readonly ca: Buffer;
  readonly dir: TempDir;
  /** Milliseconds from spawning the app to its first healthy answer. */
  readonly startMs: number;
  /** The last few KB of what the app printed (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

/** Where an app is installed (`test-apps/<app>/node_modules/<app>`), with its version; null when it is not. */
export function installedApp(name: AppName): { dir: string; version: string } | null {
  const dir = join(repoRoot(), 'test-apps', name, 'node_modules', name);
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return null;
  const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
  return { dir, version: typeof parsed.version === 'string' ? parsed.version : 'unknown' };
}

/** Why the app tests skip, or null when they run (`WAYBILL_APPS=1`; then a missing app throws). */
export function appsSkipReason(name: AppName): string | null {
  if (process.env['WAYBILL_APPS'] !== '1')
    return `the ${name} integration tests run with WAYBILL_APPS=1 (npm run test:apps installs the app and runs them)`;
  // Asked to run them, a missing app is a failure, not a skip: a nightly run must not pass with none run.
  if (!installedApp(name))
    throw new Error(
      `WAYBILL_APPS=1 but ${name} is not installed under test-apps/${name}: run npm run test:apps`,
    );
  return null;
}

/** An https server on 127.0.0.1 that forwards every request to `http://127.0.0.1:{port}`. */
async function startTlsProxy(pki: TestPki, port: number): Promise<Server> {
  const server = createHttpsServer(
    { cert: await pki.read('server.crt'), key: await pki.read('server.key') },
    (req, res) => {
      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${port}`, 'x-forwarded-proto': 'https' },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Whether a child process is still alive: it has neither exited nor been ended by a signal. */
function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Ends a child (SIGTERM, then SIGKILL after 5 s) and waits until it has. */
async function end(child: ChildProcess): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

async function waitHealthy(
  url: string,
  child: ChildProcess,
  output: () => string,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (!running(child))
      throw new Error(`the app ended (${child.exitCode ?? child.signalCode}) while starting:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`the app did not become healthy in ${ms} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function spawnApp(
  bin: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

async function finish(
  name: AppName,
  version: string,
  dir: TempDir,
  child: ChildProcess,
  port: number,
  pki: TestPki,
  t0: number,
  output: () => string,
): Promise<TestApp> {
  const proxy = await startTlsProxy(pki, port);
  const proxyPort = (proxy.address() as { port: number }).port;
  return {
    name,
    version,
    url: `https://127.0.0.1:${proxyPort}`,
    httpUrl: `http://127.0.0.1:${port}`,
    ca: await pki.read('ca.crt'),
    dir,
    startMs: Date.now() - t0,
    log: output,
    async stop() {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      await end(child);
      await pki.dir.cleanup();
      await dir.cleanup();
    },
  };
}

/**
 * A Directus with an admin whose static token is `token`, on SQLite in a temp dir. `settings` adds to or
 * overrides its environment (e.g. `{ QUERY_LIMIT_MAX: '100' }`).
 */
export async function startDirectus(
  settings: Readonly<Record<string, string>> = {},
): Promise<(TestApp & { readonly token: string }) | null> {
  const app = installedApp('directus');
  if (!app) return null;
  const dir = await tempDir('waybill-directus-');
  const pki = await makeTestPki('waybill-directus-pki-');
  const port = await freePort();
  const token = `wb_${randomBytes(18).toString('hex')}`;
  const env = {
    DB_CLIENT: 'sqlite3',
    DB_FILENAME: join(dir.path, 'data.db'),
    KEY: randomBytes(16).toString('hex'),
    SECRET: randomBytes(32).toString('hex'),
    ADMIN_EMAIL: 'admin@example.com',
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    ADMIN_TOKEN: token,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TELEMETRY: 'false',
    LOG_LEVEL: 'warn',
    // Bulk seeding writes thousands of items at once; the default rate limiter is off already.
    MAX_PAYLOAD_SIZE: '50mb',
    QUERY_LIMIT_MAX: '-1',
    ...settings,
  };
  const bin = join(app.dir, 'cli.js');
  const t0 = Date.now();
  let child: ChildProcess | undefined;
  try {
    const boot = spawnApp(bin, ['bootstrap'], dir.path, env);
    const booted = new Promise<number | null>((r) => boot.child.once('exit', r));
    const timer = setTimeout(() => boot.child.kill('SIGKILL'), 120_000);
    const code = await booted;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`directus bootstrap failed (${code}):\n${boot.output()}`);
    const started = spawnApp(bin, ['start'], dir.path, env);
    child = started.child;
    await waitHealthy(`http://127.0.0.1:${port}/server/health`, child, started.output, 60_000);
    return { ...(await finish('directus', app.version, dir, child, port, pki, t0, started.output)), token };
  } catch (err) {
    if (child) await end(child);
    await pki.dir.cleanup();
    await dir.cleanup();
    throw err;
  }
}

/** A NocoDB on SQLite in a temp dir; the caller signs up its first user through the API. */
export async function startNocodb(): Promise<TestApp | null> {
  const app = installedApp('nocodb');
  if (!app) return null;
  const dir = await tempDir('waybill-nocodb-');
  const pki = await makeTestPki('waybill-nocodb-pki-');
  const port = await freePort();
  const env = {
    NC_DB: `sqlite3://?database=${join(dir.path, 'noco.db')}`,
    PORT: String(port),
    NC_DISABLE_TELE: 'true',
    NC_AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    NC_TOOL_DIR: dir.path,
  };
  // The npm package is a library: test-apps/nocodb/start.cjs mounts it on express, as its docs show.
  const bin = join(repoRoot(), 'test-apps', 'nocodb', 'start.cjs');
  const t0 = Date.now();
  const { child, output } = spawnApp(bin, [], dir.path, env);
  try {
    await waitHealthy(`http://127.0.0.1:${port}/api/v1/health`, child, output, 120_000);
    return await finish('nocodb', app.version, dir, child, port, pki, t0, output);
  } catch (err) {
    await end(child);
    await pki.dir.cleanup();
    await dir.cleanup();
    throw err;
  }
}

/** A NocoDB ready for Waybill: its first user (super admin), a base, and an API token of that user. */
export interface NocodbSetup {
  readonly baseId: string;
  /** An API token (`xc-token`), as a user makes one under Account settings → Tokens. */
  readonly token: string;
  /** Calls NocoDB's API on loopback with the API token; answers the parsed JSON, throws on non-2xx. */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Makes another API token of the same user (Account settings → Tokens), and deletes one. */
  newToken(description: string): Promise<{ id: string; token: string }>;
  deleteToken(id: string): Promise<void>;
}

/** Signs up NocoDB's first user, creates a base `title` and an API token, through NocoDB's own API. */
export async function setupNocodb(app: TestApp, title = 'CRM'): Promise<NocodbSetup> {
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const r = await fetch(`${app.httpUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`nocodb ${method} ${path}: ${r.status} ${text.slice(0, 500)}`);
    return text ? (JSON.parse(text) as unknown) : null;
  };
  const signup = (await call(
    'POST',
    '/api/v1/auth/user/signup',
    {},
    {
      email: 'admin@example.com',
      password: `Pw-${randomBytes(12).toString('hex')}`,
    },
  )) as { token: string };
  const auth = { 'xc-auth': signup.token };
  const base = (await call('POST', '/api/v2/meta/bases', auth, { title })) as { id: string };
  const newToken = async (description: string) => {
    const t = (await call('POST', '/api/v1/tokens', auth, { description })) as { id: unknown; token: string };
    return { id: String(t.id), token: t.token };
  };
  const { token } = await newToken('waybill');
  return {
    baseId: base.id,
    token,
    api: (method, path, body) => call(method, path, { 'xc-token': token }, body),
    newToken,
    async deleteToken(id) {
      await call('DELETE', `/api/v1/tokens/${id}`, auth);
    },
  };
}
