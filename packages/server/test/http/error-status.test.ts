import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '@waybill/testkit';
import { ERROR_STATUS, httpStatusOf } from '@waybill/server';

// The union is read from the source, as packages/cli/test/architecture.test.ts does: a code added there
// must show up here, in the table and in the documentation.
async function codesOfTheUnion(): Promise<string[]> {
  const source = await readFile(join(repoRoot(), 'packages/verify/src/waybill-error.ts'), 'utf8');
  const start = source.indexOf('export type WaybillErrorCode');
  const union = source.slice(start, source.indexOf(';', start));
  return [...union.matchAll(/'(ERR_WAYBILL_[A-Z_]+)'/g)].map((m) => m[1]!);
}

async function errorsDoc(): Promise<string> {
  return readFile(join(repoRoot(), 'docs/errors.md'), 'utf8');
}

test('every code of the WaybillErrorCode union has an HTTP status, and nothing else does', async () => {
  const codes = await codesOfTheUnion();
  assert.ok(codes.length > 30, 'the union was not parsed');
  assert.deepEqual(Object.keys(ERROR_STATUS).sort(), [...codes].sort());
  for (const code of codes) {
    const status = ERROR_STATUS[code as keyof typeof ERROR_STATUS];
    assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code} → ${status}`);
  }
});

test('the statuses the HTTP contract names', () => {
  assert.equal(httpStatusOf('ERR_WAYBILL_INVALID_INPUT'), 400);
  assert.equal(httpStatusOf('ERR_WAYBILL_POLICY_INVALID'), 400);
  assert.equal(httpStatusOf('ERR_WAYBILL_UNAUTHENTICATED'), 401);
  assert.equal(httpStatusOf('ERR_WAYBILL_FORBIDDEN'), 403);
  assert.equal(httpStatusOf('ERR_WAYBILL_POLICY_DENIED'), 403);
  assert.equal(httpStatusOf('ERR_WAYBILL_NOT_FOUND'), 404);
  assert.equal(httpStatusOf('ERR_WAYBILL_CONFLICT'), 409);
  assert.equal(httpStatusOf('ERR_WAYBILL_NOT_APPROVED'), 409);
  assert.equal(httpStatusOf('ERR_WAYBILL_PAYLOAD_TOO_LARGE'), 413);
  assert.equal(httpStatusOf('ERR_WAYBILL_UNSUPPORTED_MEDIA_TYPE'), 415);
  assert.equal(httpStatusOf('ERR_WAYBILL_VALIDATION_FAILED'), 422);
  assert.equal(httpStatusOf('ERR_WAYBILL_INTERNAL'), 500);
});

test('docs/errors.md documents every code', async () => {
  const doc = await errorsDoc();
  for (const code of await codesOfTheUnion()) {
    assert.match(
      doc,
      new RegExp(`^## ${code}$`, 'm'),
      `${code} has no "## ${code}" section in docs/errors.md`,
    );
  }
});

test('the "HTTP status" table of docs/errors.md equals ERROR_STATUS', async () => {
  const doc = await errorsDoc();
  const start = doc.search(/^## HTTP status$/m);
  assert.ok(start >= 0, 'docs/errors.md has no "## HTTP status" section');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const rows = [...section.matchAll(/^\| `(ERR_WAYBILL_[A-Z_]+)` \| (\d{3}) \|/gm)].map(
    (m) => [m[1]!, Number(m[2])] as const,
  );
  assert.equal(new Set(rows.map(([code]) => code)).size, rows.length, 'a code is listed twice');
  assert.deepEqual(Object.fromEntries(rows), { ...ERROR_STATUS });
});
