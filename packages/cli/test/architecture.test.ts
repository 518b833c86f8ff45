import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '@waybill/testkit';

// ARCHITECTURE.md "Parts": arrows only point down the table; core never imports a driver; verify
// installs alone (no runtime dependencies at all).
const order = ['verify', 'core', 'connectors', 'store', 'cli'];
const drivers = [
  'pg',
  'better-sqlite3',
  'kysely',
  'pg-copy-streams',
  'undici',
  'node:http',
  'node:https',
  'node:net',
];

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(text: string): string[] {
  const found = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s*'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ];
  return found.map((m) => m[1]!);
}

test('verify has no runtime dependencies and imports only node: builtins', async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot(), 'packages/verify/package.json'), 'utf8')) as {
    dependencies?: object;
  };
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), []);
  for (const f of await sources(join(repoRoot(), 'packages/verify/src'))) {
    for (const i of imports(await readFile(f, 'utf8'))) {
      assert.ok(i.startsWith('node:') || i.startsWith('.'), `${f} imports ${i}`);
    }
  }
});

test('packages only depend on packages below them, and core never imports a driver', async () => {
  for (const [rank, name] of order.entries()) {
    const pkg = JSON.parse(await readFile(join(repoRoot(), `packages/${name}/package.json`), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const m = /^@waybill\/(.+)$/.exec(dep) ?? (dep === 'waybill' ? [dep, 'cli'] : null);
      if (m) assert.ok(order.indexOf(m[1]) < rank, `${name} depends on ${dep}, which is not below it`);
    }
    for (const f of await sources(join(repoRoot(), `packages/${name}/src`))) {
      for (const i of imports(await readFile(f, 'utf8'))) {
        const m = /^@waybill\/([^/]+)/.exec(i);
        if (m) assert.ok(order.indexOf(m[1]!) < rank, `${f} imports ${i}`);
        if (name === 'core') assert.ok(!drivers.includes(i), `core imports the driver ${i} (${f})`);
      }
    }
  }
});

test('every ERR_WAYBILL_* code is documented in docs/errors.md', async () => {
  const source = await readFile(join(repoRoot(), 'packages/verify/src/waybill-error.ts'), 'utf8');
  const union = source.slice(
    source.indexOf('export type WaybillErrorCode'),
    source.indexOf(';', source.indexOf('export type WaybillErrorCode')),
  );
  const codes = [...union.matchAll(/'(ERR_WAYBILL_[A-Z_]+)'/g)].map((m) => m[1]!);
  assert.ok(codes.length > 20);
  const doc = await readFile(join(repoRoot(), 'docs/errors.md'), 'utf8');
  for (const code of codes) assert.match(doc, new RegExp(`^## ${code}$`, 'm'), `${code} is not documented`);
});
