// Attack: an expression in a definition is untrusted input. It must not reach JavaScript (no eval, no
// Function, no prototype access), and column names must not let a row touch Object.prototype.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression } from '../../src/expressions/index.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

void describe('code injection through expressions', () => {
  void it('cannot reach the JavaScript Function constructor through a column', () => {
    const e = compileExpression('name.constructor', {
      variables: [{ name: 'name' }],
      purpose: 'compute',
      where: 'f',
    });
    expectWaybillError(() => e.evaluate({ name: 'x' }), 'ERR_WAYBILL_EXPRESSION_INVALID');
    // Calling it is not even a CEL function: rejected at compile time.
    expectWaybillError(
      () =>
        compileExpression('name.constructor("return process")', {
          variables: [{ name: 'name' }],
          purpose: 'compute',
          where: 'f',
        }),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
  });

  void it('does not resolve undeclared globals', () => {
    for (const source of [
      'process',
      'globalThis',
      'this',
      'require("fs")',
      'eval("1")',
      'Function("return 1")()',
    ]) {
      expectWaybillError(
        () => compileExpression(source, { variables: [{ name: 'a' }], purpose: 'compute', where: 'f' }),
        'ERR_WAYBILL_EXPRESSION_INVALID',
      );
    }
  });

  void it('does not read Object.prototype members for columns missing from a row', () => {
    const e = compileExpression('constructor == null && toString == null', {
      variables: [{ name: 'constructor' }, { name: 'toString' }],
      purpose: 'filter',
      where: 'filter',
    });
    assert.equal(e.evaluate({}), true);
    assert.equal(e.evaluate({ constructor: 'c', toString: null }), false);
  });

  void it('does not let a row pollute Object.prototype', () => {
    const row = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, number>;
    const e = compileExpression('a == 1', {
      variables: [{ name: 'a' }, { name: '__proto__' }],
      purpose: 'filter',
      where: 'filter',
    });
    assert.equal(e.evaluate(row), true);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
