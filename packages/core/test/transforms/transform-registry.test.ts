import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileTransform,
  parseTransformSpec,
  transformSpecSchema,
  transformTypes,
  type TransformSpecInput,
  type TransformType,
} from '../../src/transforms/index.js';
import { keyRing } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const ctx = keyRing({ k: { keyId: 'k-1', secret: new Uint8Array(32).fill(1) } });

/** One valid spec per transform type. */
const examples: Record<TransformType, TransformSpecInput> = {
  keep: 'keep',
  drop: 'drop',
  nullify: 'nullify',
  redact: 'redact',
  replace: { type: 'replace', value: 'x' },
  mask_partial: { type: 'mask_partial', keep: 'last', n: 4 },
  mask_email: 'mask_email',
  hash_keyed: { type: 'hash_keyed', key: 'k' },
  date_truncate: { type: 'date_truncate', unit: 'month' },
  bucket: { type: 'bucket', boundaries: [1] },
  mask_charclass: 'mask_charclass',
  round: 'round',
  pseudonym_fake: { type: 'pseudonym_fake', kind: 'name', key: 'k' },
  scan_and_apply: 'scan_and_apply',
  encrypt: { type: 'encrypt', key: 'k' },
  encrypt_deterministic: { type: 'encrypt_deterministic', key: 'k' },
  date_shift: { type: 'date_shift', days: 30, key: 'k' },
  tokenize: { type: 'tokenize', key: 'k' },
};

void describe('transform registry', () => {
  void it('lists every transform type', () => {
    assert.deepEqual([...transformTypes].sort(), Object.keys(examples).sort());
  });

  void it('compiles every type; only keep is non-masking and only drop drops', () => {
    for (const type of transformTypes) {
      const t = compileTransform(examples[type], 'f', ctx);
      assert.equal(t.type, type);
      assert.equal(t.field, 'f');
      assert.equal(t.masking, type !== 'keep', type);
      assert.equal(t.drops, type === 'drop', type);
      assert.equal(t.recorded['type'], type);
      assert.ok(Object.isFrozen(t.recorded));
    }
  });

  void it('accepts the string shorthand and fills defaults (schema for definition parsers)', () => {
    assert.deepEqual(transformSpecSchema.parse('redact'), { type: 'redact', with: '[REDACTED]' });
    assert.deepEqual(transformSpecSchema.parse('mask_email'), { type: 'mask_email' });
    assert.deepEqual(transformSpecSchema.parse({ type: 'mask_partial', keep: 'first', n: 2 }), {
      type: 'mask_partial',
      keep: 'first',
      n: 2,
      char: '*',
    });
    assert.deepEqual(transformSpecSchema.parse({ type: 'hash_keyed', key: 'k' }), {
      type: 'hash_keyed',
      key: 'k',
      algorithm: 'sha256',
      encoding: 'hex',
    });
    assert.equal(transformSpecSchema.safeParse('mask_partial').success, false);
    assert.equal(transformSpecSchema.safeParse({ type: 'nope' }).success, false);
  });

  void it('parseTransformSpec gives the same result as the schema', () => {
    for (const spec of Object.values(examples)) {
      assert.deepEqual(parseTransformSpec(spec, 'f'), transformSpecSchema.parse(spec));
    }
  });

  void it('rejects unknown types and malformed specs, naming the field', () => {
    for (const spec of ['mask', { type: 'hash' }, {}, { type: 3 }, 42, null, ['keep'], '']) {
      const err = expectWaybillError(
        () => parseTransformSpec(spec, 'email'),
        'ERR_WAYBILL_TRANSFORM_INVALID',
      );
      assert.match(err.message, /"email"/);
    }
    const err = expectWaybillError(
      () => parseTransformSpec('mask', 'email'),
      'ERR_WAYBILL_TRANSFORM_INVALID',
    );
    assert.match(err.message, /"mask" is not a transform/);
    assert.match(err.message, /mask_partial/);
  });

  void it('rejects unknown parameters instead of ignoring them', () => {
    const err = expectWaybillError(
      () => compileTransform({ type: 'redact', replacement: 'x' } as never, 'notes', ctx),
      'ERR_WAYBILL_TRANSFORM_INVALID',
    );
    assert.match(err.message, /"replacement"/);
    assert.match(err.message, /parameters are with/);
  });

  void it('rejects a replace without value', () => {
    const err = expectWaybillError(
      () => compileTransform({ type: 'replace' } as never, 'f', ctx),
      'ERR_WAYBILL_TRANSFORM_INVALID',
    );
    assert.match(err.message, /"value"/);
  });
});
