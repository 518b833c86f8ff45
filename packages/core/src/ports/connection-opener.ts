import type { Destination } from './destination.js';
import type { Source } from './source.js';
import type { ConnectionRecord } from './store.js';

/**
 * Turns a stored connection into a live adapter. Wired in one place (the CLI/server), so core never
 * imports a driver. `secret` is the resolved credential, if the connection has one.
 */
export interface ConnectionOpener {
  openSource(connection: ConnectionRecord, secret: string | undefined): Promise<Source>;
  openDestination(connection: ConnectionRecord, secret: string | undefined): Promise<Destination>;
}
