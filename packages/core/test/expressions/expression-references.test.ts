import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression, expressionReferences } from '../../src/expressions/index.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const variables = ['a', 'b', 'c', 'd', 'tags', 'x'].map((name) => ({ name }));

function references(source: string): readonly string[] {
  return compileExpression(source, { variables, purpose: 'compute', where: 'f' }).references;
}

void describe('expression references', () => {
  void it('lists the columns read, in order of first use, without duplicates', () => {
    assert.deepEqual(references('b > 1 && a == "x" || b < 0'), ['b', 'a']);
    assert.deepEqual(references('a ? b : c'), ['a', 'b', 'c']);
    assert.deepEqual(references('[a, b] == [c] || {"k": d}["k"] == 1'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(references('-a + size(b) - c.size()'), ['a', 'b', 'c']);
    assert.deepEqual(references('"constant"'), []);
  });

  void it('leaves out comprehension variables inside their scope', () => {
    assert.deepEqual(references('tags.exists(t, t == a)'), ['tags', 'a']);
    assert.deepEqual(references('tags.all(t, t > a) && tags.map(t, t * 2).filter(u, u > b).size() > 0'), [
      'tags',
      'a',
      'b',
    ]);
    assert.deepEqual(references('tags.map(t, t > a, t + b)'), ['tags', 'a', 'b']);
    // A comprehension variable named like a column shadows it only inside the macro.
    assert.deepEqual(references('tags.exists(x, x == 1) && x == 2'), ['tags', 'x']);
    assert.deepEqual(references('tags.exists(x, x == 1)'), ['tags']);
  });

  void it('handles cel.bind and has()', () => {
    assert.deepEqual(references('cel.bind(v, a + 1, v * v + b)'), ['a', 'b']);
    assert.deepEqual(references('has(d.k) && c.startsWith("x")'), ['d', 'c']);
  });

  void it('lists identifiers from source alone with expressionReferences', () => {
    assert.deepEqual(
      expressionReferences('[1, 2].exists(i, i == n) && has(m.k) && cel.bind(z, q, z + w) > 0', 'filter'),
      ['n', 'm', 'q', 'w'],
    );
    expectWaybillError(() => expressionReferences('a >', 'filter'), 'ERR_WAYBILL_EXPRESSION_INVALID');
  });

  void it('returns a frozen list', () => {
    const refs = references('a && b');
    assert.ok(Object.isFrozen(refs));
  });
});
