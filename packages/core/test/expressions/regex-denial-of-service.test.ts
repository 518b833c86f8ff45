import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression } from '../../src/expressions/index.js';

// A backtracking regular expression over a crafted value can hang an export for hours; matches() is
// refused at compile time, in both call forms, wherever it appears in the expression.
test('regex-denial-of-service-through-matches-is-refused', () => {
  const variables = [{ name: 'name' }, { name: 'country' }];
  for (const source of [
    'name.matches("^(a+)+$")',
    'matches(name, "^(a+)+$")',
    'country == "US" && (size(name) > 3 || name.matches("x"))',
    '[name].exists(n, n.matches("(a|aa)*b"))',
  ]) {
    assert.throws(
      () => compileExpression(source, { variables, purpose: 'filter', where: 'filter' }),
      (e: Error & { code?: string }) =>
        e.code === 'ERR_WAYBILL_EXPRESSION_INVALID' && /matches\(\) is not available/.test(e.message),
      source,
    );
  }
  // The safe string functions stay available.
  const ok = compileExpression('name.startsWith("A") || name.contains("b")', {
    variables,
    purpose: 'filter',
    where: 'filter',
  });
  assert.equal(ok.evaluate({ name: 'Ada', country: 'US' }), true);
});
