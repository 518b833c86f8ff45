import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPathTemplate, renderPathTemplate } from '../../src/pipeline/path-template.js';

const vars = { name: 'n', runId: 'r', date: '2026-11-29', purpose: 'p' };

test('templates render known placeholders', () => {
  assert.equal(renderPathTemplate('{name}/{date}/{runId}', vars), 'n/2026-11-29/r');
});

test('path-traversal-in-destination-template-is-refused', () => {
  for (const t of ['../{runId}', '/etc/{runId}', 'a/../../b', 'a//b', 'C:/x', 'a\\b', './x']) {
    assert.throws(() => checkPathTemplate(t), { code: 'ERR_WAYBILL_DEFINITION_INVALID' }, t);
  }
  assert.throws(() => checkPathTemplate('{nope}/x'), /unknown placeholder \{nope\}/);
  assert.throws(() => renderPathTemplate('{purpose}/x', { ...vars, purpose: '..' }), {
    code: 'ERR_WAYBILL_DEFINITION_INVALID',
  });
});
