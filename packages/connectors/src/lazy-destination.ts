import type { Destination } from '@waybill/core';
import { WaybillError } from '@waybill/verify';

/**
 * A destination whose adapter (and its driver: the AWS SDK, ssh2, undici) is loaded on first use, so
 * that a command that never touches an S3, SFTP or HTTPS destination never pays for loading them.
 * `methods` says which optional methods the adapter has: the wrapper has exactly those.
 */
export function lazyDestination(
  kind: string,
  load: () => Promise<Destination>,
  methods: { readonly discard?: boolean; readonly committedDigest?: boolean } = {},
): Destination {
  let loaded: Promise<Destination> | undefined;
  const get = (): Promise<Destination> =>
    (loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      if (err instanceof WaybillError) throw err;
      throw new WaybillError(
        'ERR_WAYBILL_DESTINATION_FAILED',
        `${kind} destination: its driver could not be loaded (${err instanceof Error ? err.message : String(err)})`,
        { cause: err },
      );
    }));
  return {
    kind,
    async begin(path, options) {
      return (await get()).begin(path, options);
    },
    ...(methods.discard
      ? {
          async discard(path: string, options: { runId: string }): Promise<void> {
            await (await get()).discard?.(path, options);
          },
        }
      : {}),
    ...(methods.committedDigest
      ? {
          async committedDigest(path: string, name: string): Promise<string | null> {
            const d = await get();
            return d.committedDigest ? d.committedDigest(path, name) : null;
          },
        }
      : {}),
  };
}
