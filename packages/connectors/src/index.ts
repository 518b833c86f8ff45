// The public face of @waybill/connectors: adapters behind core's Source and Destination ports.
export {
  createSource,
  createDestination,
  createConnectionOpener,
  sourceKinds,
  destinationKinds,
} from './connection-factory.js';
export { SqliteSource, createSqliteSource } from './sqlite-source.js';
export { PostgresSource, createPostgresSource } from './postgres-source.js';
export { CsvSource, createCsvSource, CSV_COLUMN_TYPE } from './csv-source.js';
export { NdjsonSource, createNdjsonSource, NDJSON_COLUMN_TYPE } from './ndjson-source.js';
export { DirectoryDestination, createDirectoryDestination } from './directory-destination.js';
export { LogNotifier } from './log-notifier.js';
// S3, SFTP and HTTPS load their drivers on first use (see lazy-destination.ts): reach them through
// createDestination (or createConnectionOpener).
export { fetchHostKey, sshFingerprint } from './host-key.js';
export { AirtableSource } from './airtable-source.js';
export { BaserowSource } from './baserow-source.js';
export { NocodbSource } from './nocodb-source.js';
export { DirectusSource } from './directus-source.js';
export type { AirtableSourceConfig } from './airtable-source.js';
export { RestClient } from './lib/rest-client.js';
export type { S3DestinationConfig } from './s3-destination.js';
export type { SftpDestinationConfig } from './sftp-destination.js';
export type { HttpsDestinationConfig, HttpsDestinationOptions } from './https-destination.js';
export { egressRuleFor, guardedLookup, isPrivateAddress } from './egress.js';
export { WebhookNotifier } from './webhook-notifier.js';
export type { WebhookNotifierOptions } from './webhook-notifier.js';

export type { ConnectionSecrets, SourceKind, DestinationKind } from './connection-factory.js';
export type { SqliteSourceConfig } from './sqlite-source.js';
export type {
  PostgresSourceConfig,
  PostgresHostConfig,
  PostgresUrlConfig,
  PostgresOptions,
} from './postgres-source.js';
export type { CsvSourceConfig } from './csv-source.js';
export type { NdjsonSourceConfig } from './ndjson-source.js';
export type { DirectoryDestinationConfig } from './directory-destination.js';
