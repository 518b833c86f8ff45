import { setFlagsFromString } from 'node:v8';

/*
 * Heaps for a short-lived command, sized for memory that does not grow with an export's row count (the
 * core issue). A long-running server calls none of this and keeps V8's defaults.
 *
 * - **Young generations of a fixed size.** V8 doubles an isolate's young generation (its two
 *   semi-spaces) each time as many bytes have survived scavenges as it holds, up to 2 × 16 MiB on the
 *   main thread; an export's main thread allocates little, but for as long as the export runs, so its
 *   young generation kept growing (a 4M-row export peaked 25 MiB above a 1M-row one).
 *   `--semi-space-growth-factor=1` stops the growth, but V8 raises that process-wide flag back to 2
 *   whenever it configures a new isolate (`Heap::ConfigureHeap`), i.e. when a worker thread starts. So
 *   the launcher sets it before loading anything, the worker pool sizes its isolates' semi-spaces from
 *   the start (`--min-semi-space-size`, read when an isolate is configured) and sets the factor back to
 *   1 once they are all online ({@link workerIsolatesOnline}).
 * - **An old generation that grows by 20 % over what is live** (`--heap-growing-percent=20`) instead of
 *   V8's own factor (up to 4×): the pipeline promotes a steady trickle of short-lived rows, and the old
 *   generation would otherwise swing between its live size (~20 MiB) and 2.5 times that between full
 *   collections. A 1M-row export on the main thread alone (`--workers 0`), measured in one series: 168 -> 114 MiB,
 *   6.7 -> 7.0 s.
 */

let fixed = false;
let mainGrows = false;

/**
 * From now on, the process's isolates keep lean heaps (V8 flags: process-wide). For a process that runs
 * one command and exits; never for a server.
 *
 * @example
 * ```ts
 * // bin/waybill.js, for anything but `serve`:
 * useCommandHeaps();
 * process.exitCode = await main(argv);
 * ```
 */
export function useCommandHeaps(): void {
  fixed = true;
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=20');
}

/** Before starting worker threads: the size their semi-spaces start (and, when fixed, stay) at. */
export function workerIsolatesStarting(semiSpaceMiB: number): void {
  if (fixed) setFlagsFromString(`--min-semi-space-size=${semiSpaceMiB}`);
}

/** Once every worker thread started is online: their isolates are configured, the factor can go back. */
export function workerIsolatesOnline(): void {
  if (fixed && !mainGrows) setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * The source hands over decoded rows, built on the main thread (SQLite, CSV, NDJSON): the main thread
 * allocates most of what the export allocates, and batches of rows outlive a small young generation, so
 * they would be promoted and collected again by full collections (a 1M-row SQLite export: 4.7 -> 6.5 s).
 * Young generations grow again as V8 sees fit, for the rest of the process.
 */
export function mainThreadBuildsRows(): void {
  if (!fixed || mainGrows) return;
  mainGrows = true;
  setFlagsFromString('--semi-space-growth-factor=2');
}
