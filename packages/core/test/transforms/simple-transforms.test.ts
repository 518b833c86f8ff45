import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTransform, DEFAULT_REDACTION } from '../../src/transforms/index.js';
import { noKeys } from './transform-context-fixture.js';

const MEGABYTE = 'x'.repeat(1024 * 1024);

void describe('keep', () => {
  const keep = compileTransform('keep', 'name', noKeys);

  void it('passes every value through unchanged and is the only non-masking transform', () => {
    for (const v of ['Jane', '', null, 0, -1.5, true, '👩‍🚀 宇宙', MEGABYTE]) assert.equal(keep.apply(v), v);
    assert.equal(keep.masking, false);
    assert.equal(keep.drops, false);
    assert.deepEqual(keep.recorded, { type: 'keep' });
  });
});

void describe('drop', () => {
  const drop = compileTransform({ type: 'drop' }, 'ssn', noKeys);

  void it('marks the field as dropped and never returns the value', () => {
    assert.equal(drop.drops, true);
    assert.equal(drop.masking, true);
    assert.equal(drop.apply('123-45-6789'), null);
    assert.equal(drop.apply(null), null);
    assert.deepEqual(drop.recorded, { type: 'drop' });
  });
});

void describe('nullify', () => {
  const nullify = compileTransform('nullify', 'phone', noKeys);

  void it('turns every value into null and keeps the field', () => {
    for (const v of ['+1 555 0100', '', null, 42, false, MEGABYTE]) assert.equal(nullify.apply(v), null);
    assert.equal(nullify.drops, false);
    assert.equal(nullify.masking, true);
  });
});

void describe('redact', () => {
  void it('writes [REDACTED] for every value, null included', () => {
    const redact = compileTransform('redact', 'notes', noKeys);
    assert.equal(DEFAULT_REDACTION, '[REDACTED]');
    for (const v of ['secret', '', null, 7, true, '🙈', MEGABYTE])
      assert.equal(redact.apply(v), '[REDACTED]');
    assert.deepEqual(redact.recorded, { type: 'redact', with: '[REDACTED]' });
  });

  void it('writes the configured text', () => {
    const redact = compileTransform({ type: 'redact', with: '█' }, 'notes', noKeys);
    assert.equal(redact.apply('secret'), '█');
    assert.equal(redact.apply(null), '█');
    assert.deepEqual(redact.recorded, { type: 'redact', with: '█' });
  });
});

void describe('replace', () => {
  void it('writes the constant for every value, null included', () => {
    for (const constant of ['n/a', 0, false, null] as const) {
      const replace = compileTransform({ type: 'replace', value: constant }, 'f', noKeys);
      for (const v of ['x', null, 12, true, MEGABYTE]) assert.equal(replace.apply(v), constant);
      assert.deepEqual(replace.recorded, { type: 'replace', value: constant });
      assert.equal(replace.masking, true);
    }
  });
});
