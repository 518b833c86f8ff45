import { setFlagsFromString } from 'node:v8';
import type * as Cedar from '@cedar-policy/cedar-wasm/nodejs';

export type CedarModule = typeof Cedar;

let loading: Promise<CedarModule> | undefined;
let baselineOnly = false;

/**
 * Compile the Cedar engine with V8's baseline WebAssembly compiler only (Liftoff), not the optimizing
 * one. For short-lived processes (a CLI command makes a handful of decisions): the optimizing compiler
 * costs about 70 MB of memory and a quarter of a second to compile 4 MB of WebAssembly that a few
 * decisions never repay. A long-running server keeps the default. Call before the first decision.
 */
export function compileCedarForQuickStart(): void {
  baselineOnly = true;
}

/**
 * The Cedar engine (WebAssembly, ~4 MB), loaded on first use: commands that never decide anything do
 * not pay for it, and neither do the pipeline's worker threads.
 */
export function loadCedar(): Promise<CedarModule> {
  loading ??= (async () => {
    if (!baselineOnly) return import('@cedar-policy/cedar-wasm/nodejs');
    setFlagsFromString('--liftoff-only');
    try {
      // The module compiles when it is imported (its bindings instantiate it at once).
      return await import('@cedar-policy/cedar-wasm/nodejs');
    } finally {
      setFlagsFromString('--no-liftoff-only');
    }
  })();
  return loading;
}
