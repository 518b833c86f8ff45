import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTransform } from '../../src/transforms/index.js';
import { noKeys } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const mask = compileTransform('mask_email', 'email', noKeys);

void describe('mask_email', () => {
  void it('keeps the first character of the local part and the domain', () => {
    assert.equal(mask.apply('jane.doe@example.com'), 'j***@example.com');
    assert.equal(mask.apply('Bob+tag@sub.example.co.uk'), 'B***@sub.example.co.uk');
    assert.deepEqual(mask.recorded, { type: 'mask_email' });
  });

  void it('hides the length of the local part', () => {
    assert.equal(mask.apply('ab@example.com'), 'a***@example.com');
    assert.equal(mask.apply('abcdefghijkl@example.com'), 'a***@example.com');
  });

  void it('masks a one-character local part entirely', () => {
    assert.equal(mask.apply('j@example.com'), '***@example.com');
    assert.equal(mask.apply('😀@example.com'), '***@example.com');
  });

  void it('uses the last @, so quoted local parts keep their domain', () => {
    assert.equal(mask.apply('"a@b"@example.com'), '"***@example.com');
  });

  void it('treats whole code points (emoji, CJK) as the first character', () => {
    assert.equal(mask.apply('😀smile@example.com'), '😀***@example.com');
    assert.equal(mask.apply('山田@例え.jp'), '山***@例え.jp');
  });

  void it('masks values that are not emails entirely', () => {
    for (const v of ['', 'no-at-sign', '@example.com', 'jane@', 'call me @ home', 'jane@exa mple.com']) {
      assert.equal(mask.apply(v), '***', v);
    }
  });

  void it('keeps null', () => {
    assert.equal(mask.apply(null), null);
  });

  void it('handles a 1 MB local part', () => {
    assert.equal(mask.apply('z'.repeat(1024 * 1024) + '@example.com'), 'z***@example.com');
  });

  void it('rejects non-strings without showing the value', () => {
    const err = expectWaybillError(() => mask.apply(5551234), 'ERR_WAYBILL_TRANSFORM_FAILED');
    assert.match(err.message, /mask_email/);
    assert.match(err.message, /"email"/);
    assert.doesNotMatch(err.message, /5551234/);
  });

  void it('takes no parameters', () => {
    const err = expectWaybillError(
      () => compileTransform({ type: 'mask_email', keep: 'domain' } as never, 'email', noKeys),
      'ERR_WAYBILL_TRANSFORM_INVALID',
    );
    assert.match(err.message, /"keep"/);
    assert.match(err.message, /takes none/);
  });
});
