import { WaybillError } from '@waybill/core';

/**
 * Runs `fn` with an AbortSignal that fires on SIGINT or SIGTERM, so an interrupted export fails cleanly
 * (run marked failed, nothing at the destination, staging removed) instead of dying mid-write. A run
 * killed harder (SIGKILL, power loss) is rolled back by the next export on the same home.
 */
export async function withInterrupts<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    controller.abort(
      new WaybillError('ERR_WAYBILL_RUN_FAILED', `interrupted by ${name}; the run was rolled back`),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
