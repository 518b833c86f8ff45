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
  /**
   * `network` for a source kind whose rows come no faster than an app's API pages them (Airtable,
   * Baserow, NocoDB, Directus): one core transforms them faster than they arrive, so a run processes them
   * on its own thread instead of starting worker threads (unless it asks for workers explicitly).
   */
  sourcePace?(kind: string): 'network' | undefined;
}
