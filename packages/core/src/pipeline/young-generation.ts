import { setFlagsFromString } from 'node:v8';

/**
 * Young generations of a fixed size, for a short-lived command: an export's memory must not grow with its
 * row count (the core issue).
 *
 * V8 doubles an isolate's young generation (its two semi-spaces) each time as many bytes have survived
 * scavenges as it holds, up to 2 × 16 MiB on the main thread. The main thread of an export allocates
 * little but for hours if need be, so its young generation kept growing: a 4M-row export peaked 25 MiB
 * above a 1M-row one. `--semi-space-growth-factor=1` stops the growth, but V8 raises that (process-wide)
 * flag back to 2 whenever it configures a new isolate (`Heap::ConfigureHeap`), i.e. when a worker thread
 * starts. So the launcher sets it before loading anything ({@link fixYoungGenerations}); the worker pool
 * sizes its isolates' semi-spaces from the start (`--min-semi-space-size`, read when an isolate is
 * configured) and sets the factor back to 1 once they are all online ({@link workerIsolatesOnline}).
 * A long-running server calls none of this and keeps V8's defaults.
 */
let fixed = false;

/** Stops every isolate's young generation from growing from now on (the process's V8 flags). */
export function fixYoungGenerations(): void {
  fixed = true;
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Before starting worker threads: the size their semi-spaces start (and, when fixed, stay) at. */
export function workerIsolatesStarting(semiSpaceMiB: number): void {
  if (fixed) setFlagsFromString(`--min-semi-space-size=${semiSpaceMiB}`);
}

/** Once every worker thread started is online: their isolates are configured, the factor can go back. */
export function workerIsolatesOnline(): void {
  if (fixed) setFlagsFromString('--semi-space-growth-factor=1');
}
