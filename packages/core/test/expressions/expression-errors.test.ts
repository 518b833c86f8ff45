import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression, type CompileExpressionOptions } from '../../src/expressions/index.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const variables = [{ name: 'country' }, { name: 'lifetime_value' }, { name: 'email' }];
const asFilter: CompileExpressionOptions<'filter'> = { variables, purpose: 'filter', where: 'filter' };
const asCompute: CompileExpressionOptions<'compute'> = {
  variables,
  purpose: 'compute',
  where: 'fields[3].compute',
};

void describe('expression errors at compile time', () => {
  void it('reports syntax errors with where, line, column, an excerpt and what to do', () => {
    const err = expectWaybillError(
      () => compileExpression('country in ["US" "CA"]', asFilter),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
    assert.match(err.message, /in filter at line 1, column 18/);
    assert.match(err.message, /country in \["US" "CA"\]\n\s+\^/);
    assert.match(err.message, /CEL/);
  });

  void it('locates syntax errors on later lines', () => {
    const err = expectWaybillError(
      () => compileExpression('country == "US"\n  && lifetime_value >=', asCompute),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
    assert.match(err.message, /in fields\[3\]\.compute at line 2, column 23/);
  });

  void it('rejects empty expressions', () => {
    for (const source of ['', '   ']) {
      const err = expectWaybillError(
        () => compileExpression(source, asFilter),
        'ERR_WAYBILL_EXPRESSION_INVALID',
      );
      assert.match(err.message, /empty/);
    }
  });

  void it('reports unknown columns with a suggestion and the known columns', () => {
    const err = expectWaybillError(
      () => compileExpression('lifetime_value > 5 && countyr == "US"', asFilter),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
    assert.match(err.message, /Unknown column "countyr" in filter at line 1, column 23/);
    assert.match(err.message, /Did you mean "country"\?/);
    assert.match(err.message, /country, lifetime_value, email/);
  });

  void it('suggests case-insensitive matches', () => {
    const err = expectWaybillError(
      () => compileExpression('Email == "x"', asFilter),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
    assert.match(err.message, /Did you mean "email"\?/);
  });

  void it('reports columns that are not CEL identifiers as unknown when referenced', () => {
    const vars = {
      variables: [{ name: 'first name' }, { name: 'package' }],
      purpose: 'compute',
      where: 'f',
    } as const;
    expectWaybillError(() => compileExpression('first', vars), 'ERR_WAYBILL_EXPRESSION_INVALID');
    expectWaybillError(() => compileExpression('package', vars), 'ERR_WAYBILL_EXPRESSION_INVALID');
  });

  void it('reports type errors found by the checker', () => {
    const err = expectWaybillError(
      () => compileExpression('"a" + 1 == "a1"', asFilter),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
    assert.match(err.message, /in filter at line 1, column 1: no such overload: string \+ int/);
    expectWaybillError(
      () => compileExpression('nosuchfn(country)', asFilter),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
  });

  void it('rejects filters whose type is known not to be bool', () => {
    for (const source of ['1 + 1', '"yes"', 'size(country)']) {
      const err = expectWaybillError(
        () => compileExpression(source, asFilter),
        'ERR_WAYBILL_EXPRESSION_INVALID',
      );
      assert.match(err.message, /must evaluate to a bool/);
    }
  });
});

void describe('expression errors at evaluation', () => {
  void it('rejects a filter that yields a non-bool for a row, without the value', () => {
    const f = compileExpression('country', asFilter);
    const err = expectWaybillError(() => f.evaluate({ country: 'Narnia' }), 'ERR_WAYBILL_EXPRESSION_INVALID');
    assert.match(err.message, /filter in filter must evaluate to a bool, but yielded string/);
    assert.doesNotMatch(err.message, /Narnia/);
    const n = expectWaybillError(() => f.evaluate({ country: null }), 'ERR_WAYBILL_EXPRESSION_INVALID');
    assert.match(n.message, /yielded null/);
  });

  void it('explains failures on null columns and how to guard them', () => {
    const f = compileExpression('lifetime_value >= 1000', asFilter);
    const err = expectWaybillError(
      () => f.evaluate({ lifetime_value: null }),
      'ERR_WAYBILL_EXPRESSION_INVALID',
    );
    assert.match(err.message, /in filter failed on a row at line 1, column 1/);
    assert.match(err.message, /no such overload/);
    assert.match(err.message, /"lifetime_value" is null/);
    assert.match(err.message, /lifetime_value != null && /);
  });

  void it('never puts row values into evaluation errors', () => {
    const secret = 'jane.doe-4111111111111111';
    const cases: [string, Record<string, string | number>][] = [
      ['int(email) > 0', { email: secret }],
      ['timestamp(email) > timestamp("2020-01-01T00:00:00Z")', { email: secret }],
      ['{"a": 1}[email] == 1', { email: secret }],
      ['lifetime_value + 9223372036854775000 > 0', { lifetime_value: 4111111111 }],
      ['lifetime_value / 0 > 0', { lifetime_value: 4111111111 }],
    ];
    for (const [source, row] of cases) {
      const f = compileExpression(source, asFilter);
      const err = expectWaybillError(() => f.evaluate(row), 'ERR_WAYBILL_EXPRESSION_INVALID');
      assert.ok(!err.message.includes(secret), err.message);
      assert.ok(!err.message.includes('4111111111'), err.message);
      assert.ok(!err.message.includes('9223372036854779111'), err.message);
      assert.equal(err.cause, undefined);
    }
  });

  void it('rejects computed results that cannot be cells', () => {
    for (const [source, kind] of [
      ['[lifetime_value]', /a list/],
      ['{"k": lifetime_value}', /a map/],
      ['duration("1h")', /a duration/],
      ['lifetime_value / 0.0', /non-finite/],
    ] as const) {
      const e = compileExpression(source, asCompute);
      const err = expectWaybillError(
        () => e.evaluate({ lifetime_value: 3 }),
        'ERR_WAYBILL_EXPRESSION_INVALID',
      );
      assert.match(err.message, kind);
      assert.match(err.message, /fields\[3\]\.compute/);
    }
  });

  void it('rejects cells that do not fit the declared type, naming the column', () => {
    const e = compileExpression('n + 1', {
      variables: [{ name: 'n', type: 'int' }],
      purpose: 'compute',
      where: 'f',
    });
    for (const bad of ['12abc', 1.5, true, '99999999999999999999']) {
      const err = expectWaybillError(() => e.evaluate({ n: bad }), 'ERR_WAYBILL_EXPRESSION_INVALID');
      assert.match(err.message, /Column "n" read by the expression in f is declared int/);
      assert.ok(!err.message.includes(String(bad)), err.message);
    }
    const t = compileExpression('at', {
      variables: [{ name: 'at', type: 'timestamp' }],
      purpose: 'compute',
      where: 'f',
    });
    // No offset: would be read in the machine's local time zone.
    expectWaybillError(() => t.evaluate({ at: '2024-01-01T10:00:00' }), 'ERR_WAYBILL_EXPRESSION_INVALID');
    expectWaybillError(() => t.evaluate({ at: 'next tuesday' }), 'ERR_WAYBILL_EXPRESSION_INVALID');
  });
});
