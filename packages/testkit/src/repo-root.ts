import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The monorepo's root: the nearest folder above this file whose `package.json` declares `workspaces`.
 *
 * @example
 * ```ts
 * const schema = join(repoRoot(), 'docs', 'errors.md');
 * ```
 */
export function repoRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'workspaces' in parsed) {
        cached = dir;
        return dir;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error('repoRoot: no package.json with "workspaces" above ' + fileURLToPath(import.meta.url));
    }
    dir = parent;
  }
}

/**
 * The shared conformance data beside the repository (`<repoRoot>/../shared/testdata`), e.g. the RFC 9162
 * vectors. Tests that use it say which file they read.
 */
export function sharedTestdata(...segments: string[]): string {
  return join(repoRoot(), '..', 'shared', 'testdata', ...segments);
}
