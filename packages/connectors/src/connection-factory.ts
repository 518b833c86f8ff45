import type { ConnectionOpener, Destination, EgressRule, Source } from '@waybill/core';
import { readFileSync } from 'node:fs';
import { AirtableSource } from './airtable-source.js';
import { BaserowSource } from './baserow-source.js';
import { DirectusSource } from './directus-source.js';
import { NocodbSource } from './nocodb-source.js';
import { WaybillError } from '@waybill/verify';
import { createCsvSource } from './csv-source.js';
import type { CsvSourceConfig } from './csv-source.js';
import { createDirectoryDestination } from './directory-destination.js';
import { createNdjsonSource } from './ndjson-source.js';
import type { NdjsonSourceConfig } from './ndjson-source.js';
import { createPostgresSource } from './postgres-source.js';
import type { PostgresSourceConfig } from './postgres-source.js';
import { createSqliteSource } from './sqlite-source.js';
import { lazyDestination } from './lazy-destination.js';
import type { S3DestinationConfig } from './s3-destination.js';
import type { SftpDestinationConfig } from './sftp-destination.js';
import type { HttpsDestinationConfig } from './https-destination.js';

/** Source kinds `createSource` knows. */
export const sourceKinds = [
  'sqlite',
  'postgres',
  'csv',
  'ndjson',
  'airtable',
  'baserow',
  'nocodb',
  'directus',
] as const;
export type SourceKind = (typeof sourceKinds)[number];

/** Destination kinds `createDestination` knows. */
export const destinationKinds = ['directory', 'https', 'sftp', 's3'] as const;
export type DestinationKind = (typeof destinationKinds)[number];

/** Resolved secrets of a connection. Values are handed to the driver only, never echoed. */
export interface ConnectionSecrets {
  readonly password?: string;
}

type Fields = Readonly<Record<string, unknown>>;

// Messages name the field and what it must be, never its value: a secret pasted into the wrong field
// must not end up in an error, a log or an audit event.
class ConfigReader {
  constructor(
    private readonly what: string,
    private readonly fields: Fields,
  ) {}

  fail(message: string): never {
    throw new WaybillError('ERR_WAYBILL_CONNECTION_INVALID', `${this.what} connection: ${message}`);
  }

  allow(...names: string[]): void {
    for (const key of Object.keys(this.fields)) {
      if (key === 'password') {
        this.fail('"password" must not be in the settings; store it as the connection\'s secret');
      }
      if (!names.includes(key)) {
        this.fail(
          `unknown field ${JSON.stringify(key)} (allowed: ${names.map((n) => JSON.stringify(n)).join(', ')})`,
        );
      }
    }
  }

  has(name: string): boolean {
    return this.fields[name] !== undefined;
  }

  string(name: string): string;
  string(name: string, optional: true): string | undefined;
  string(name: string, optional = false): string | undefined {
    const v = this.fields[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.length === 0) this.fail(`field "${name}" must be a non-empty string`);
    if (v.includes('\0')) this.fail(`field "${name}" must not contain a NUL character`);
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.fields[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(`field "${name}" must be true or false`);
    return v;
  }

  port(name: string): number | undefined {
    const v = this.fields[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      this.fail(`field "${name}" must be an integer from 1 to 65535`);
    }
    return v;
  }

  names(name: string): string[] | undefined {
    const v = this.fields[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((n) => typeof n !== 'string' || n.length === 0)) {
      this.fail(`field "${name}" must be a list of non-empty strings`);
    }
    const list = v as string[];
    if (new Set(list).size !== list.length) this.fail(`field "${name}" lists a name twice`);
    return list;
  }
}

function reader(what: string, config: unknown): ConfigReader {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new WaybillError(
      'ERR_WAYBILL_CONNECTION_INVALID',
      `${what} connection: the settings must be an object`,
    );
  }
  return new ConfigReader(what, config as Fields);
}

function noPassword(kind: string, secrets: ConnectionSecrets): void {
  if (secrets.password !== undefined) {
    throw new WaybillError(
      'ERR_WAYBILL_CONNECTION_INVALID',
      `${kind} connection: a ${kind} source takes no password; remove the connection's secret`,
    );
  }
}

function postgresConfig(r: ConfigReader, secrets: ConnectionSecrets): PostgresSourceConfig {
  const common = {
    ...(secrets.password !== undefined ? { password: secrets.password } : {}),
    ...(r.has('ssl') ? { ssl: r.boolean('ssl')! } : {}),
    ...(r.has('schema') ? { schema: r.string('schema') } : {}),
  };
  if (r.has('url')) {
    r.allow('url', 'ssl', 'schema');
    return { url: r.string('url'), ...common };
  }
  r.allow('host', 'port', 'database', 'user', 'ssl', 'schema');
  const port = r.port('port');
  return {
    host: r.string('host'),
    ...(port !== undefined ? { port } : {}),
    database: r.string('database'),
    user: r.string('user'),
    ...common,
  };
}

function delimiterOf(r: ConfigReader): string | undefined {
  const d = r.string('delimiter', true);
  if (d !== undefined && (d.length !== 1 || /["\r\n]/.test(d))) {
    r.fail('field "delimiter" must be one character other than a quote or a line break');
  }
  return d;
}

/**
 * Creates a source from a connection's stored settings (checked here, field by field) and its resolved
 * secret. Nothing connects or opens until the first `describe` or `read`.
 *
 * Settings per kind: `sqlite` `{ path }`; `csv` `{ path, delimiter? }`; `ndjson` `{ path, columns? }`;
 * `postgres` `{ host, port?, database, user, ssl?, schema? }` or `{ url, ssl?, schema? }` with the
 * password in `secrets` (never in the settings or the URL). Invalid settings are
 * `ERR_WAYBILL_CONNECTION_INVALID`, naming the field.
 *
 * @example
 * ```ts
 * const source = createSource('postgres', { host: 'db', database: 'crm', user: 'reader', ssl: true }, { password });
 * ```
 */
export function createSource(
  kind: string,
  config: unknown,
  secrets: ConnectionSecrets = {},
  context: { egress?: readonly EgressRule[] } = {},
): Source {
  const appSettings = (r: ConfigReader) => {
    const apiUrl = r.string('apiUrl', true);
    if (apiUrl !== undefined) {
      const u = URL.canParse(apiUrl) ? new URL(apiUrl) : r.fail('field "apiUrl" must be an https:// URL');
      if (u.protocol !== 'https:') r.fail('field "apiUrl" must use https (plain http is refused)');
    }
    const ca = r.string('ca', true);
    let caPem: Buffer | undefined;
    if (ca !== undefined) {
      try {
        caPem = readFileSync(ca);
      } catch {
        r.fail(`field "ca": cannot read ${ca}`);
      }
    }
    return { apiUrl, caPem };
  };
  switch (kind) {
    case 'nocodb': {
      const r = reader(kind, config);
      r.allow('apiUrl', 'baseId', 'ca');
      const token = secrets.password ?? r.fail('a nocodb source needs its API token as the secret');
      const { apiUrl, caPem } = appSettings(r);
      const baseId = r.string('baseId');
      return new NocodbSource(
        { apiUrl: apiUrl ?? r.fail('field "apiUrl" must be the NocoDB server (https://…)'), baseId },
        { token, egress: context.egress ?? [], ...(caPem ? { ca: caPem } : {}) },
      );
    }
    case 'directus': {
      const r = reader(kind, config);
      r.allow('apiUrl', 'ca');
      const token =
        secrets.password ?? r.fail('a directus source needs its static access token as the secret');
      const { apiUrl, caPem } = appSettings(r);
      return new DirectusSource(
        { apiUrl: apiUrl ?? r.fail('field "apiUrl" must be the Directus server (https://…)') },
        { token, egress: context.egress ?? [], ...(caPem ? { ca: caPem } : {}) },
      );
    }
    case 'baserow': {
      const r = reader(kind, config);
      r.allow('apiUrl', 'tables', 'ca');
      const token = secrets.password ?? r.fail('a baserow source needs its database token as the secret');
      const { apiUrl, caPem } = appSettings(r);
      const tables = (config as Record<string, unknown>)['tables'];
      if (
        typeof tables !== 'object' ||
        tables === null ||
        Array.isArray(tables) ||
        Object.keys(tables).length === 0 ||
        Object.values(tables).some((v) => typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
      ) {
        r.fail('field "tables" must map table names to Baserow table ids, e.g. {"customers": 123}');
      }
      return new BaserowSource(
        { tables: tables as Record<string, number>, ...(apiUrl !== undefined ? { apiUrl } : {}) },
        { token, egress: context.egress ?? [], ...(caPem ? { ca: caPem } : {}) },
      );
    }
    case 'airtable': {
      const r = reader(kind, config);
      r.allow('baseId', 'apiUrl', 'ca');
      const token =
        secrets.password ?? r.fail('an airtable source needs its personal access token as the secret');
      const { apiUrl, caPem } = appSettings(r);
      return new AirtableSource(
        { baseId: r.string('baseId'), ...(apiUrl !== undefined ? { apiUrl } : {}) },
        { token, egress: context.egress ?? [], ...(caPem ? { ca: caPem } : {}) },
      );
    }
    case 'sqlite': {
      const r = reader(kind, config);
      r.allow('path');
      noPassword(kind, secrets);
      return createSqliteSource({ path: r.string('path') });
    }
    case 'csv': {
      const r = reader(kind, config);
      r.allow('path', 'delimiter');
      noPassword(kind, secrets);
      const delimiter = delimiterOf(r);
      const c: CsvSourceConfig = {
        path: r.string('path'),
        ...(delimiter !== undefined ? { delimiter } : {}),
      };
      return createCsvSource(c);
    }
    case 'ndjson': {
      const r = reader(kind, config);
      r.allow('path', 'columns');
      noPassword(kind, secrets);
      const columns = r.names('columns');
      const c: NdjsonSourceConfig = { path: r.string('path'), ...(columns !== undefined ? { columns } : {}) };
      return createNdjsonSource(c);
    }
    case 'postgres':
      return createPostgresSource(postgresConfig(reader(kind, config), secrets));
    default:
      throw new WaybillError(
        'ERR_WAYBILL_CONNECTION_INVALID',
        `unknown source kind ${JSON.stringify(kind)}; supported: ${sourceKinds.join(', ')}`,
      );
  }
}

/**
 * Creates a destination from a connection's stored settings. `directory` takes `{ path }` (an existing
 * directory).
 *
 * @example
 * ```ts
 * const destination = createDestination('directory', { path: '/srv/exports' });
 * ```
 */
export function createDestination(
  kind: string,
  config: unknown,
  options: { secret?: string; egress?: readonly EgressRule[] } = {},
): Destination {
  const trustOf = (r: ConfigReader) => {
    const trust = (config as { trust?: unknown }).trust;
    if (
      trust !== undefined &&
      (typeof trust !== 'string' || !['internal', 'partner', 'public'].includes(trust))
    ) {
      r.fail('"trust" must be internal, partner or public');
    }
  };
  // Encryption to recipients is done by the pipeline before delivery; the setting is checked here.
  const recipientsOf = (r: ConfigReader) => {
    const list = r.names('ageRecipients');
    if (list !== undefined && (list.length === 0 || list.some((x) => !/^age1[0-9a-z]{20,4000}$/.test(x)))) {
      r.fail('field "ageRecipients" must list age public keys (age1…)');
    }
  };
  switch (kind) {
    case 'directory': {
      const r = reader(kind, config);
      r.allow('path', 'trust', 'ageRecipients');
      trustOf(r);
      recipientsOf(r);
      if (options.secret !== undefined) r.fail('a directory destination takes no secret; remove it');
      return createDirectoryDestination({ path: r.string('path') });
    }
    case 's3': {
      const r = reader(kind, config);
      r.allow('bucket', 'prefix', 'region', 'endpoint', 'sse', 'kmsKeyId', 'ca', 'trust', 'ageRecipients');
      trustOf(r);
      recipientsOf(r);
      const bucket = r.string('bucket');
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
        r.fail('field "bucket" must be an S3 bucket name');
      const prefix = r.string('prefix', true);
      // eslint-disable-next-line no-control-regex -- backslashes and NUL are what is refused
      if (prefix !== undefined && (prefix.split('/').includes('..') || /[\\\u0000]/.test(prefix))) {
        r.fail('field "prefix" must be a key prefix without ".." segments');
      }
      const endpoint = r.string('endpoint', true);
      if (endpoint !== undefined) {
        const u = URL.canParse(endpoint)
          ? new URL(endpoint)
          : r.fail('field "endpoint" must be an https:// URL');
        if (u.protocol !== 'https:') r.fail('field "endpoint" must use https (plain http is refused)');
        if (u.username !== '' || u.password !== '') r.fail('field "endpoint" must not carry credentials');
      }
      const sse = r.string('sse', true);
      if (sse !== undefined && sse !== 'AES256' && sse !== 'aws:kms')
        r.fail('field "sse" must be AES256 or aws:kms');
      const kmsKeyId = r.string('kmsKeyId', true);
      if (kmsKeyId !== undefined && sse !== 'aws:kms') r.fail('field "kmsKeyId" needs "sse": "aws:kms"');
      const region = r.string('region', true);
      if (region !== undefined && !/^[a-z0-9-]{1,64}$/.test(region))
        r.fail('field "region" must be a region name such as eu-west-1');
      const ca = r.string('ca', true);
      if (options.secret !== undefined && !/^[^:\s]+:\S+$/.test(options.secret)) {
        r.fail('the secret of an s3 destination is ACCESS_KEY_ID:SECRET_ACCESS_KEY');
      }
      const s3Config: S3DestinationConfig = {
        bucket,
        ...(prefix !== undefined ? { prefix } : {}),
        ...(region !== undefined ? { region } : {}),
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(sse !== undefined ? { sse: sse as 'AES256' | 'aws:kms' } : {}),
        ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
        ...(ca !== undefined ? { ca } : {}),
      };
      const s3Options = {
        ...(options.secret !== undefined ? { secret: options.secret } : {}),
        egress: options.egress ?? [],
      };
      return lazyDestination(
        's3',
        async () => (await import('./s3-destination.js')).createS3Destination(s3Config, s3Options),
        { discard: true, committedDigest: true },
      );
    }
    case 'sftp': {
      const r = reader(kind, config);
      r.allow('host', 'port', 'user', 'path', 'hostKey', 'timeoutSeconds', 'trust', 'ageRecipients');
      trustOf(r);
      recipientsOf(r);
      const path = r.string('path');
      if (!path.startsWith('/') || path.split('/').includes('..')) {
        r.fail('field "path" must be an absolute remote directory without ".." segments');
      }
      const hostKey = r.string('hostKey');
      if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(hostKey)) {
        r.fail(
          'field "hostKey" must be an OpenSSH SHA256 fingerprint (SHA256:… as `ssh-keygen -lf` prints it)',
        );
      }
      const port = r.port('port');
      const timeout = (config as Record<string, unknown>)['timeoutSeconds'];
      if (
        timeout !== undefined &&
        (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 600)
      ) {
        r.fail('field "timeoutSeconds" must be an integer from 1 to 600');
      }
      const sftpConfig: SftpDestinationConfig = {
        host: r.string('host'),
        user: r.string('user'),
        path,
        hostKey,
        ...(port !== undefined ? { port } : {}),
        ...(typeof timeout === 'number' ? { timeoutSeconds: timeout } : {}),
      };
      const sftpOptions = {
        ...(options.secret !== undefined ? { secret: options.secret } : {}),
        egress: options.egress ?? [],
      };
      return lazyDestination(
        'sftp',
        async () => (await import('./sftp-destination.js')).createSftpDestination(sftpConfig, sftpOptions),
        { discard: true, committedDigest: true },
      );
    }
    case 'https': {
      const r = reader(kind, config);
      r.allow('url', 'trust', 'clientCert', 'clientKey', 'ca', 'attempts', 'timeoutMs', 'ageRecipients');
      trustOf(r);
      recipientsOf(r);
      const url = r.string('url');
      const parsed = URL.canParse(url)
        ? new URL(url)
        : r.fail('field "url" must be an absolute https:// URL');
      if (parsed.protocol !== 'https:') r.fail('field "url" must use https (plain http is refused)');
      if (parsed.username !== '' || parsed.password !== '') {
        r.fail('field "url" must not carry credentials; the connection\'s secret signs the requests');
      }
      if (parsed.search !== '' || parsed.hash !== '')
        r.fail('field "url" must not have a query or a fragment');
      if (r.has('clientCert') !== r.has('clientKey')) r.fail('give "clientCert" and "clientKey" together');
      const int = (name: string, min: number, max: number): number | undefined => {
        const v = (config as Record<string, unknown>)[name];
        if (v === undefined) return undefined;
        if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
        return r.fail(`field "${name}" must be an integer from ${min} to ${max}`);
      };
      const attempts = int('attempts', 1, 20);
      const timeoutMs = int('timeoutMs', 100, 600_000);
      const clientCert = r.string('clientCert', true);
      const clientKey = r.string('clientKey', true);
      const ca = r.string('ca', true);
      const httpsConfig: HttpsDestinationConfig = {
        url: parsed.href,
        ...(clientCert !== undefined ? { clientCert } : {}),
        ...(clientKey !== undefined ? { clientKey } : {}),
        ...(ca !== undefined ? { ca } : {}),
        ...(attempts !== undefined ? { attempts } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      };
      const httpsOptions = {
        ...(options.secret !== undefined ? { secret: options.secret } : {}),
        egress: options.egress ?? [],
      };
      return lazyDestination('https', async () =>
        (await import('./https-destination.js')).createHttpsDestination(httpsConfig, httpsOptions),
      );
    }
    default:
      throw new WaybillError(
        'ERR_WAYBILL_CONNECTION_INVALID',
        `unknown destination kind ${JSON.stringify(kind)}; supported: ${destinationKinds.join(', ')}`,
      );
  }
}

/**
 * The `ConnectionOpener` port of core, backed by `createSource`/`createDestination`: the connection's
 * secret becomes the source's password.
 *
 * @example
 * ```ts
 * const service = new ExportService({ connections: createConnectionOpener(), … });
 * ```
 */
export function createConnectionOpener(): ConnectionOpener {
  return {
    openSource: (connection, secret, context) =>
      Promise.resolve().then(() =>
        createSource(connection.kind, connection.config, secret !== undefined ? { password: secret } : {}, {
          egress: context?.egress ?? [],
        }),
      ),
    openDestination: (connection, secret, context) =>
      Promise.resolve().then(() =>
        createDestination(connection.kind, connection.config, {
          ...(secret !== undefined ? { secret } : {}),
          egress: context?.egress ?? [],
        }),
      ),
    sourcePace: (kind) => (NETWORK_PACED.has(kind) ? 'network' : undefined),
  };
}

/** Sources whose rows come page by page from an app's API (see ConnectionOpener.sourcePace). */
const NETWORK_PACED: ReadonlySet<string> = new Set(['airtable', 'baserow', 'nocodb', 'directus']);
