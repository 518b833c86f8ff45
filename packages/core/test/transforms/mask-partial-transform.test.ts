import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTransform } from '../../src/transforms/index.js';
import { noKeys } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const last4 = compileTransform({ type: 'mask_partial', keep: 'last', n: 4 }, 'card_number', noKeys);
const first2 = compileTransform({ type: 'mask_partial', keep: 'first', n: 2, char: '#' }, 'name', noKeys);

void describe('mask_partial', () => {
  void it('keeps the last n characters and masks the rest one by one', () => {
    assert.equal(last4.apply('4111111111111111'), '************1111');
    assert.equal(last4.apply('12345'), '*2345');
    assert.deepEqual(last4.recorded, { type: 'mask_partial', keep: 'last', n: 4, char: '*' });
    assert.equal(last4.masking, true);
  });

  void it('keeps the first n characters with a custom mask character', () => {
    assert.equal(first2.apply('Jonathan'), 'Jo######');
    assert.equal(first2.apply('Jon'), 'Jo#');
  });

  void it('masks values of n characters or fewer entirely, so short values never leak', () => {
    assert.equal(last4.apply('1234'), '****');
    assert.equal(last4.apply('12'), '**');
    assert.equal(first2.apply('Jo'), '##');
    assert.equal(first2.apply('J'), '#');
  });

  void it('keeps null and the empty string', () => {
    assert.equal(last4.apply(null), null);
    assert.equal(last4.apply(''), '');
  });

  void it('counts code points, not UTF-16 units (emoji, CJK)', () => {
    // 😀 and 🎉 are surrogate pairs: one character each.
    assert.equal(last4.apply('😀😀😀😀😀🎉'), '**😀😀😀🎉');
    assert.equal(first2.apply('😀🎉abc'), '😀🎉###');
    assert.equal(last4.apply('東京都千代田区'), '***千代田区');
    assert.equal(first2.apply('東京都'), '東京#');
    // An emoji mask character is one character too.
    const emojiMask = compileTransform(
      { type: 'mask_partial', keep: 'first', n: 1, char: '🔒' },
      'f',
      noKeys,
    );
    assert.equal(emojiMask.apply('abc'), 'a🔒🔒');
  });

  void it('masks combining marks as characters of their own (code points, not graphemes)', () => {
    // "é" written as e + U+0301 COMBINING ACUTE ACCENT is two code points.
    assert.equal(last4.apply('Rene\u0301e'), '**ne\u0301e');
    // The mark is a character of its own: kept here while its base character is masked.
    assert.equal(last4.apply('abcde\u0301fgh'), '*****\u0301fgh');
    assert.equal(first2.apply('e\u0301a'), 'e\u0301#');
  });

  void it('masks numbers in their decimal form', () => {
    assert.equal(last4.apply(4111111111111111), '************1111');
    assert.equal(last4.apply(-12.5), '*12.5');
  });

  void it('handles a 1 MB value', () => {
    const big = 'a'.repeat(1024 * 1024 - 4) + 'WXYZ';
    const masked = last4.apply(big);
    assert.equal(typeof masked, 'string');
    assert.equal((masked as string).length, big.length);
    assert.ok((masked as string).endsWith('*WXYZ'));
    assert.ok(!(masked as string).includes('a'));
  });

  void it('rejects booleans without showing the value', () => {
    const err = expectWaybillError(() => last4.apply(true), 'ERR_WAYBILL_TRANSFORM_FAILED');
    assert.match(err.message, /mask_partial/);
    assert.match(err.message, /"card_number"/);
    assert.match(err.message, /boolean/);
    assert.doesNotMatch(err.message, /true/);
  });

  void it('rejects bad parameters at compile time, naming the parameter', () => {
    const cases: [unknown, string][] = [
      [{ type: 'mask_partial', keep: 'last' }, '"n"'],
      [{ type: 'mask_partial', keep: 'last', n: -1 }, '"n"'],
      [{ type: 'mask_partial', keep: 'last', n: 1.5 }, '"n"'],
      [{ type: 'mask_partial', keep: 'middle', n: 2 }, '"keep"'],
      [{ type: 'mask_partial', keep: 'last', n: 2, char: '**' }, '"char"'],
      [{ type: 'mask_partial', keep: 'last', n: 2, char: '' }, '"char"'],
      [{ type: 'mask_partial', keep: 'last', n: 2, chars: '#' }, '"chars"'],
      ['mask_partial', '"keep"'],
    ];
    for (const [spec, parameter] of cases) {
      const err = expectWaybillError(
        () => compileTransform(spec as never, 'card_number', noKeys),
        'ERR_WAYBILL_TRANSFORM_INVALID',
      );
      assert.ok(err.message.includes(parameter), `${err.message} should name ${parameter}`);
      assert.match(err.message, /"card_number"/);
    }
  });
});
