import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the first directory above this file holding `.git` or a package.json with
 * "workspaces". Tests run from dist/test, so paths are resolved from here, not from the cwd.
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, '.git')) || hasWorkspaces(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The shared conformance data, `../shared/testdata` relative to the repository root. */
export function sharedTestdata(...parts: string[]): string {
  return resolve(repoRoot(), '..', 'shared', 'testdata', ...parts);
}

function hasWorkspaces(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { workspaces?: unknown };
    return pkg.workspaces !== undefined;
  } catch {
    return false;
  }
}
