import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeSecret, slug, storeSecret, WaybillError, type ConnectionRole } from '@waybill/core';
import { egressRuleFor, fetchHostKey } from '@waybill/connectors';
import { connectionOpener } from '../connection-opener.js';
import { splitPostgresUrl } from '../postgres-url.js';
import { printJson, println, table, usage } from '../output.js';
import { globals, withHome, type CommandContext } from './command-context.js';

interface AddOptions {
  kind: string;
  path?: string;
  url?: string;
  host?: string;
  port?: string;
  database?: string;
  user?: string;
  schema?: string;
  ssl?: boolean;
  delimiter?: string;
  trust?: string;
  clientCert?: string;
  clientKey?: string;
  ca?: string;
  attempts?: string;
  ageRecipient?: string[];
  hostKey?: string;
  trustOnFirstUse?: boolean;
  bucket?: string;
  base?: string;
  table?: string[];
  apiUrl?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  sse?: string;
  kmsKeyId?: string;
  passwordEnv?: string;
  passwordStdin?: boolean;
}

const SOURCE_KINDS = ['sqlite', 'postgres', 'csv', 'ndjson', 'airtable', 'baserow', 'nocodb', 'directus'];
const DESTINATION_KINDS = ['directory', 'https', 'sftp', 's3'];

async function readStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function trustOf(trust: string): string {
  if (!['internal', 'partner', 'public'].includes(trust)) {
    throw usage(`--trust must be internal, partner or public, got "${trust}"`);
  }
  return trust;
}

/** Builds the non-secret config and the secret of a connection from CLI options. */
async function buildConnection(
  role: ConnectionRole,
  o: AddOptions,
  cwd: string,
): Promise<{ config: Record<string, unknown>; secret?: { value: string } | { env: string } }> {
  const kinds = role === 'source' ? SOURCE_KINDS : DESTINATION_KINDS;
  if (!kinds.includes(o.kind))
    throw usage(`--kind must be one of ${kinds.join(', ')} for a ${role}, got "${o.kind}"`);
  if (o.passwordEnv && o.passwordStdin)
    throw usage('give either --password-env or --password-stdin, not both');
  let secret: { value: string } | { env: string } | undefined =
    o.passwordEnv !== undefined
      ? { env: o.passwordEnv }
      : o.passwordStdin
        ? { value: await readStdin() }
        : undefined;
  if (o.kind === 'postgres') {
    const config: Record<string, unknown> = {};
    if (o.url) {
      // postgres://user[:password]@host[:port]/db or postgresql://user@/db?host=/socket/dir; the connector
      // validates the rest. A password in the URL moves into the encrypted secret, never into the config.
      if (!/^postgres(ql)?:\/\//.test(o.url))
        throw usage('--url must start with postgres:// or postgresql://');
      let split: { url: string; password?: string };
      try {
        split = splitPostgresUrl(o.url);
      } catch {
        throw usage('--url: the password is not valid percent-encoding');
      }
      const url = split.url;
      if (split.password !== undefined) {
        if (secret) throw usage('the URL holds a password and --password-env/--password-stdin was given too');
        secret = { value: split.password };
      }
      config['url'] = url;
    }
    if (o.ssl) config['ssl'] = true;
    if (o.host) config['host'] = o.host;
    if (o.port) {
      if (!/^\d{1,5}$/.test(o.port) || Number(o.port) > 65535)
        throw usage(`--port must be 1-65535, got "${o.port}"`);
      config['port'] = Number(o.port);
    }
    if (o.database) config['database'] = o.database;
    if (o.user) config['user'] = o.user;
    if (o.schema) config['schema'] = o.schema;
    if (!o.url && !o.database)
      throw usage('a postgres source needs --url or --database (with --host, --user)');
    return secret ? { config, secret } : { config };
  }
  if (o.kind === 'nocodb' || o.kind === 'directus') {
    if (!o.apiUrl) throw usage(`a ${o.kind} source needs --api-url https://… (the server)`);
    if (o.kind === 'nocodb' && !o.base) throw usage('a nocodb source needs --base p… (the base id)');
    if (!secret)
      throw usage(`a ${o.kind} source needs its API token: --password-env VAR or --password-stdin`);
    const config: Record<string, unknown> = {
      apiUrl: o.apiUrl,
      ...(o.kind === 'nocodb' ? { baseId: o.base } : {}),
    };
    if (o.ca !== undefined) config['ca'] = await caFile(cwd, o.ca);
    return { config, secret };
  }
  if (o.kind === 'baserow') {
    if (!o.table || o.table.length === 0) throw usage('a baserow source needs --table NAME=ID (repeatable)');
    if (!secret)
      throw usage('a baserow source needs its database token: --password-env VAR or --password-stdin');
    const tables: Record<string, number> = {};
    for (const t of o.table) {
      const m = /^([^=]+)=(\d+)$/.exec(t);
      if (!m) throw usage(`--table must be NAME=ID (a Baserow table id), got "${t}"`);
      tables[m[1]!] = Number(m[2]);
    }
    const config: Record<string, unknown> = { tables };
    if (o.apiUrl !== undefined) config['apiUrl'] = o.apiUrl;
    if (o.ca !== undefined) config['ca'] = await caFile(cwd, o.ca);
    return { config, secret };
  }
  if (o.kind === 'airtable') {
    if (!o.base) throw usage('an airtable source needs --base app…');
    if (!secret)
      throw usage(
        'an airtable source needs its personal access token: --password-env VAR or --password-stdin',
      );
    const config: Record<string, unknown> = { baseId: o.base };
    if (o.apiUrl !== undefined) config['apiUrl'] = o.apiUrl;
    if (o.ca !== undefined) config['ca'] = await caFile(cwd, o.ca);
    return { config, secret };
  }
  if (o.kind === 's3') {
    if (!o.bucket) throw usage('an s3 destination needs --bucket');
    const config: Record<string, unknown> = { bucket: o.bucket };
    for (const [key, value] of [
      ['prefix', o.prefix],
      ['region', o.region],
      ['endpoint', o.endpoint],
      ['sse', o.sse],
      ['kmsKeyId', o.kmsKeyId],
    ] as const) {
      if (value !== undefined) config[key] = value;
    }
    if (o.ca !== undefined) config['ca'] = await caFile(cwd, o.ca);
    if (o.trust !== undefined) config['trust'] = trustOf(o.trust);
    // The secret is ACCESS_KEY_ID:SECRET_ACCESS_KEY; without one, the AWS SDK's default credentials.
    return secret ? { config, secret } : { config };
  }
  if (o.kind === 'sftp') {
    if (!o.host || !o.user || !o.path)
      throw usage('an sftp destination needs --host, --user and --path (the remote directory)');
    if (o.hostKey !== undefined && o.trustOnFirstUse)
      throw usage('give --host-key or --trust-on-first-use, not both');
    if (o.hostKey === undefined && !o.trustOnFirstUse) {
      throw usage(
        "pin the server's host key: --host-key SHA256:… (`ssh-keyscan HOST | ssh-keygen -lf -` on a trusted network), or --trust-on-first-use to accept the key it shows now",
      );
    }
    const config: Record<string, unknown> = { host: o.host, user: o.user, path: o.path };
    if (o.port) {
      if (!/^\d{1,5}$/.test(o.port) || Number(o.port) > 65535)
        throw usage(`--port must be 1-65535, got "${o.port}"`);
      config['port'] = Number(o.port);
    }
    if (o.hostKey !== undefined) config['hostKey'] = o.hostKey;
    if (o.trust !== undefined) config['trust'] = trustOf(o.trust);
    return secret ? { config, secret } : { config };
  }
  if (o.hostKey !== undefined || o.trustOnFirstUse)
    throw usage('--host-key and --trust-on-first-use apply to sftp destinations only');
  if (o.kind === 'https') {
    if (!o.url) throw usage('an https destination needs --url https://host/base/path');
    const config: Record<string, unknown> = { url: o.url };
    if (o.attempts !== undefined) {
      if (!/^\d{1,2}$/.test(o.attempts) || Number(o.attempts) < 1 || Number(o.attempts) > 20)
        throw usage(`--attempts must be 1-20, got "${o.attempts}"`);
      config['attempts'] = Number(o.attempts);
    }
    if (o.trust !== undefined) config['trust'] = trustOf(o.trust);
    for (const [flag, key, value] of [
      ['--client-cert', 'clientCert', o.clientCert],
      ['--client-key', 'clientKey', o.clientKey],
      ['--ca', 'ca', o.ca],
    ] as const) {
      if (value === undefined) continue;
      const path = resolve(cwd, value);
      const st = await stat(path).catch(() => null);
      if (!st?.isFile())
        throw new WaybillError('ERR_WAYBILL_CONNECTION_INVALID', `${flag}: no file at ${path}`);
      config[key] = path;
    }
    // The secret of an https destination is the key of its signature header.
    return secret ? { config, secret } : { config };
  }
  if (o.clientCert !== undefined || o.clientKey !== undefined || o.ca !== undefined)
    throw usage(
      '--client-cert and --client-key apply to https destinations only, --ca to https and s3 destinations and app sources',
    );
  if (secret) throw usage(`a ${o.kind} ${role} takes no password`);
  if (!o.path) throw usage(`a ${o.kind} ${role} needs --path`);
  const path = resolve(cwd, o.path);
  // Catch a typo now rather than at the first export.
  const want = o.kind === 'directory' ? 'directory' : 'file';
  let ok = false;
  try {
    const st = await stat(path);
    ok = want === 'directory' ? st.isDirectory() : st.isFile();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new WaybillError(
      'ERR_WAYBILL_CONNECTION_INVALID',
      `--path: no ${want} at ${path}${want === 'directory' ? '; create it first' : ''}`,
    );
  }
  const config: Record<string, unknown> = { path };
  if (o.trust !== undefined) {
    if (role !== 'destination') throw usage('--trust applies to destinations only');
    config['trust'] = trustOf(o.trust);
  }
  if (o.delimiter !== undefined) {
    if (o.kind !== 'csv') throw usage('--delimiter applies to csv sources only');
    config['delimiter'] = o.delimiter === '\\t' ? '\t' : o.delimiter;
  }
  return { config };
}

export function registerConnectionCommands(program: Command, ctx: CommandContext): void {
  for (const role of ['source', 'destination'] as const) {
    const group = program.command(role).description(`${role} connections: add, list, remove`);
    group
      .command('add')
      .description(
        `register a named ${role} connection (credentials are stored encrypted or as an env reference)`,
      )
      .argument('<name>', 'connection name (lowercase slug)')
      .requiredOption('--kind <kind>', (role === 'source' ? SOURCE_KINDS : DESTINATION_KINDS).join(' | '))
      .option(
        '--path <path>',
        'file (sqlite, csv, ndjson), directory (directory destination), or remote directory (sftp)',
      )
      .option(
        '--url <url>',
        'postgres://user@host:port/database (a password in it is stored encrypted); https destination: its base URL',
      )
      .option('--client-cert <file>', 'https destination: PEM client certificate for mutual TLS')
      .option('--client-key <file>', 'https destination: PEM key of the client certificate')
      .option(
        '--ca <file>',
        'https or s3 destination, or an app source: PEM CA of the server, when not a public one',
      )
      .option('--attempts <n>', 'https destination: tries per request, 1-20 (default 5)')
      .option('--base <id>', 'airtable source: the base id (app…); nocodb source: the base id (p…)')
      .option(
        '--api-url <url>',
        'nocodb or directus source: the app (https; a base path allowed); airtable or baserow: another API origin, e.g. a self-hosted Baserow',
      )
      .option(
        '--table <name=id>',
        'baserow source: a table to read, by name and Baserow table id (repeatable)',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .option('--bucket <name>', 's3 destination: the bucket')
      .option('--prefix <prefix>', 's3 destination: key prefix exports go under')
      .option('--region <region>', 's3 destination: the region (default us-east-1)')
      .option('--endpoint <url>', 's3 destination: an S3-compatible endpoint (https)')
      .option('--sse <mode>', 's3 destination: server-side encryption, AES256 | aws:kms')
      .option('--kms-key-id <id>', 's3 destination: the KMS key for --sse aws:kms')
      .option('--host-key <fingerprint>', "sftp destination: the server's pinned host key, SHA256:…")
      .option(
        '--trust-on-first-use',
        'sftp destination: pin the host key the server shows now (only on a network you trust)',
      )
      .option(
        '--age-recipient <age1…>',
        'destination: encrypt the payload with age to this public key (repeatable)',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .option('--host <host>', 'postgres host or socket directory; sftp host')
      .option('--port <port>', 'postgres port')
      .option('--database <db>', 'postgres database')
      .option('--user <user>', 'postgres or sftp user')
      .option('--schema <schema>', 'postgres schema (default public)')
      .option('--ssl', 'postgres: require TLS with certificate verification')
      .option('--delimiter <char>', 'csv: the field delimiter (default ","; \\t for tab)')
      .option(
        '--trust <tier>',
        'destination: how far it is trusted, internal | partner | public (default internal); the protection rules depend on it',
      )
      .option(
        '--password-env <var>',
        'read the password (https: the signing key) from this environment variable at run time',
      )
      .option(
        '--password-stdin',
        'read the password (https: the signing key) from standard input now and store it encrypted',
      )
      .action(async (name: string, o: AddOptions, cmd: Command) => {
        if (!slug.safeParse(name).success)
          throw usage(`connection name "${name}" must be a lowercase slug (a-z, 0-9, . _ -)`);
        const built = await buildConnection(role, o, ctx.io.cwd);
        if (o.kind === 'sftp' && o.trustOnFirstUse) {
          const rules = await withHome(ctx, cmd, (h) => h.egress.list(h.principal));
          const key = await fetchHostKey(
            String(built.config['host']),
            Number(built.config['port'] ?? 22),
            rules,
          );
          built.config['hostKey'] = key;
          ctx.io.stderr.write(
            `waybill: trusting on first use: ${String(built.config['host'])} presented ${key}; pinned\n`,
          );
        }
        if (o.ageRecipient !== undefined) {
          if (role !== 'destination') throw usage('--age-recipient applies to destinations only');
          built.config['ageRecipients'] = o.ageRecipient;
        }
        await withHome(ctx, cmd, async (h) => {
          const now = new Date().toISOString();
          const existing = await h.store.getConnection('default', role, name);
          const base = { workspace: 'default', role, name, kind: o.kind, config: built.config };
          const record = {
            ...base,
            secret: built.secret ? storeSecret(h.box, base, built.secret) : null,
            createdAt: existing?.createdAt ?? now,
            updatedAt: now,
          };
          // Validate the settings through the adapter itself before anything is stored.
          const adapter =
            role === 'source'
              ? await connectionOpener.openSource(record, built.secret ? 'settings-check' : undefined)
              : await connectionOpener.openDestination(record, undefined);
          if ('close' in adapter) await adapter.close();
          await h.guard.require(h.principal, 'connection.manage');
          const { replaced } = await h.connections.save(record, h.actor);
          const out = {
            name,
            role,
            kind: o.kind,
            config: built.config,
            credential: describeSecret(record),
            replaced,
          };
          if (globals(cmd).json) printJson(ctx.io, out);
          else println(ctx.io, `${replaced ? 'updated' : 'added'} ${role} "${name}" (${o.kind})`);
          if (o.kind === 'https' || o.kind === 'sftp' || (o.kind === 's3' && built.config['endpoint'])) {
            try {
              const url =
                o.kind === 'https'
                  ? new URL(String(built.config['url']))
                  : o.kind === 's3'
                    ? new URL(String(built.config['endpoint']))
                    : new URL(`sftp://${String(built.config['host'])}:${Number(built.config['port'] ?? 22)}`);
              egressRuleFor(url, await h.egress.list(h.principal));
            } catch (err) {
              if (!(err instanceof WaybillError)) throw err;
              ctx.io.stderr.write(
                `waybill: note: exports to it will be refused until then: ${err.message}\n`,
              );
            }
          }
        });
      });
    group
      .command('list')
      .description(`registered ${role} connections (never their credentials)`)
      .action(async (_o: unknown, cmd: Command) => {
        await withHome(ctx, cmd, async (h) => {
          const list = (await h.store.listConnections('default', role)).map((c) => ({
            name: c.name,
            kind: c.kind,
            config: c.config,
            credential: describeSecret(c),
            updatedAt: c.updatedAt,
          }));
          if (globals(cmd).json) printJson(ctx.io, { connections: list });
          else if (list.length === 0)
            println(ctx.io, `no ${role} connections; add one with \`waybill ${role} add\``);
          else
            println(
              ctx.io,
              table([
                ['NAME', 'KIND', 'SETTINGS', 'CREDENTIAL'],
                ...list.map((c) => [c.name, c.kind, JSON.stringify(c.config), c.credential ?? '-']),
              ]),
            );
        });
      });
    group
      .command('remove')
      .description(`remove a ${role} connection`)
      .argument('<name>')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        await withHome(ctx, cmd, async (h) => {
          await h.guard.require(h.principal, 'connection.manage');
          await h.connections.remove(role, name, h.actor);
          if (globals(cmd).json) printJson(ctx.io, { name, removed: true });
          else println(ctx.io, `removed ${role} "${name}"`);
        });
      });
  }
}

/** `--ca FILE`: the absolute path of a PEM file that exists (its content is read when connecting). */
async function caFile(cwd: string, file: string): Promise<string> {
  const path = resolve(cwd, file);
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw new WaybillError('ERR_WAYBILL_CONNECTION_INVALID', `--ca: no file at ${path}`);
  return path;
}
