import type * as Cedar from '@cedar-policy/cedar-wasm/nodejs';

export type CedarModule = typeof Cedar;

let loading: Promise<CedarModule> | undefined;

/**
 * The Cedar engine (WebAssembly, ~4 MB), loaded on first use: commands that never decide anything do
 * not pay for it, and neither do the pipeline's worker threads.
 */
export function loadCedar(): Promise<CedarModule> {
  loading ??= import('@cedar-policy/cedar-wasm/nodejs');
  return loading;
}
