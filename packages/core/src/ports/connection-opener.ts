import type { Destination } from './destination.js';
import type { Source } from './source.js';
import type { ConnectionRecord, EgressRule } from './store.js';

/** What a connection is opened with besides its settings: the workspace's egress allowlist. */
export interface DestinationContext {
  readonly egress: readonly EgressRule[];
}

/**
 * Turns a stored connection into a live adapter. Wired in one place (the CLI/server), so core never
 * imports a driver. `secret` is the resolved credential, if the connection has one.
 */
export interface ConnectionOpener {
  openSource(
    connection: ConnectionRecord,
    secret: string | undefined,
    context?: DestinationContext,
  ): Promise<Source>;
  openDestination(
    connection: ConnectionRecord,
    secret: string | undefined,
    context?: DestinationContext,
  ): Promise<Destination>;
}
