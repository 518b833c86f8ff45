import { rmSync } from 'node:fs';

// What a test process leaves behind when a test crashes or forgets its cleanup: servers are stopped
// first, then directories removed, on normal exit and on SIGINT/SIGTERM (which skip 'exit' handlers).
const stoppers = new Set<() => void>();
const directories = new Set<string>();
let installed = false;

function runAll(): void {
  for (const stop of stoppers) {
    try {
      stop();
    } catch {
      // Best effort: the process is going away.
    }
  }
  stoppers.clear();
  for (const dir of directories) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort: the process is going away.
    }
  }
  directories.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = (): void => {
      runAll();
      process.removeListener(signal, handler);
      // Re-raise so the process ends with the signal's usual status.
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/** Registers a synchronous stop function run at exit before directories are removed; returns an unregister. */
export function stopOnExit(stop: () => void): () => void {
  install();
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/** Registers a directory removed at exit; returns an unregister. */
export function removeOnExit(path: string): () => void {
  install();
  directories.add(path);
  return () => directories.delete(path);
}
