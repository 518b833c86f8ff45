import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cardNetwork, ibanValid, luhnValid, ssnValid } from '../../src/detectors/checksums.js';
import { classifyColumn, classifyValue, maskShape, nameHint } from '../../src/detectors/column-classifier.js';
import { findPii } from '../../src/detectors/text-scanner.js';

const found = (text: string) => findPii(text).map((s) => `${s.kind}:${text.slice(s.start, s.end)}`);

test('checksums: Luhn, card networks, IBAN mod 97 with country lengths, SSN issued ranges', () => {
  assert.equal(luhnValid('4111111111111111'), true);
  assert.equal(luhnValid('4111111111111112'), false);
  assert.equal(cardNetwork('4111111111111111'), 'visa');
  assert.equal(cardNetwork('5555555555554444'), 'mastercard');
  assert.equal(cardNetwork('378282246310005'), 'amex');
  // An ISBN-13 passes Luhn-like checks on some numbers but has no card issuer prefix.
  assert.equal(cardNetwork('9780306406157'), undefined);
  assert.equal(ibanValid('GB82WEST12345698765432'), true);
  assert.equal(ibanValid('GB82WEST12345698765433'), false);
  assert.equal(ibanValid('DE89370400440532013000'), true);
  assert.equal(ibanValid('DE8937040044053201300'), false, 'wrong length for DE');
  assert.equal(ssnValid('123', '45', '6789'), true);
  for (const [a, g, s] of [
    ['000', '12', '3456'],
    ['666', '12', '3456'],
    ['900', '12', '3456'],
    ['123', '00', '4567'],
    ['123', '45', '0000'],
  ] as const) {
    assert.equal(ssnValid(a, g, s), false, `${a}-${g}-${s}`);
  }
});

test('ssn-with-spaces-or-dots-is-detected; references that look like SSNs are not', () => {
  assert.deepEqual(found('ssn 123-45-6789, 123 45 6789 and 123.45.6789'), [
    'national_id:123-45-6789',
    'national_id:123 45 6789',
    'national_id:123.45.6789',
  ]);
  assert.deepEqual(found('ORD-123-45-6789 #123-45-6789 ticket/123-45-6789 666-12-3456 123-45-67890'), []);
  // A mix of separators is not an SSN someone typed.
  assert.deepEqual(found('123-45.6789'), []);
});

test('homoglyph-email-is-detected: Cyrillic look-alikes, fullwidth characters, invisible characters', () => {
  const cyrillic = 'write to jоhn@exаmple.com today'; // о and а are Cyrillic
  assert.deepEqual(found(cyrillic), ['email:jоhn@exаmple.com']);
  assert.deepEqual(found('ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ'), ['email:ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ']);
  assert.deepEqual(found('jo\u200bhn@exam\u00adple.com'), ['email:jo\u200bhn@exam\u00adple.com']);
  // Offsets point into the original text.
  const [span] = findPii(cyrillic);
  assert.equal(cyrillic.slice(span!.start, span!.end), 'jоhn@exаmple.com');
});

test('phones, cards, IBANs, IP addresses in free text; dates, amounts and versions are not', () => {
  assert.deepEqual(found('call (415) 555-2671, +44 20 7946 0958 or 415.555.2671'), [
    'phone:(415) 555-2671',
    'phone:+44 20 7946 0958',
    'phone:415.555.2671',
  ]);
  assert.deepEqual(found('card 4111 1111 1111 1111; isbn 978-0-306-40615-7'), [
    'card_number:4111 1111 1111 1111',
  ]);
  assert.deepEqual(found('iban GB82 WEST 1234 5698 7654 32'), ['iban:GB82 WEST 1234 5698 7654 32']);
  assert.deepEqual(found('from 192.168.1.10 and 2001:db8::8a2e:370:7334'), [
    'ip_address:192.168.1.10',
    'ip_address:2001:db8::8a2e:370:7334',
  ]);
  assert.deepEqual(found('on 2024-05-01 paid 1234.50; v1.2.3.4.5; area code 911-555-1234; 12:30:45'), []);
  assert.deepEqual(found(''), []);
});

test('values are classified with their column name; unknown names need the value to speak', () => {
  assert.equal(nameHint('customerEmail'), 'email');
  assert.equal(nameHint('DOB'), 'birth_date');
  assert.equal(nameHint('first_name'), 'name');
  assert.equal(nameHint('product_name'), undefined);
  assert.equal(
    classifyValue('ssn', '906-60-2757'),
    'national_id',
    'a never-issued area is still an SSN column',
  );
  assert.equal(classifyValue('ssn', '906602757'), 'national_id');
  assert.equal(classifyValue('ref', '906602757'), undefined);
  assert.equal(
    classifyValue('order_number', '123-45-6789'),
    undefined,
    'an order number that looks like an SSN',
  );
  assert.equal(classifyValue('isbn', '9780306406157'), undefined);
  assert.equal(classifyValue('birth_date', '1984-02-29'), 'birth_date');
  assert.equal(classifyValue('shipped_at', '1984-02-29'), undefined, 'a date that is not a birth date');
  assert.equal(classifyValue('birth_date', '2999-01-01'), undefined, 'a future date is no birth date');
  assert.equal(classifyValue('contact', 'ann@example.com'), 'email');
});

test('pii-hidden-in-a-notes-field: a free-text column is flagged with what it hides, shown only masked', () => {
  const notes = [
    'Customer called about the refund, all settled now.',
    'Asked us to write to ann.lee@example.org instead of the old address.',
    'Prefers a call back on (415) 555-2671 after five.',
    'No further action needed on this ticket for now.',
  ];
  const r = classifyColumn('notes', notes);
  assert.equal(r.likelyPii, true);
  assert.equal(r.proposed.piiKind, 'free_text');
  assert.deepEqual(r.embedded, { email: 1, phone: 1 });
  // Only the shape survives: every letter is x or X, every digit 0.
  for (const e of r.examples) assert.ok(!/[A-WYZa-wyz1-9]/.test(e), e);
  assert.equal(maskShape('ann.lee@example.org'), 'xxx.xxx@xxxxxxx.xxx');
  const plain = classifyColumn('status', ['shipped', 'pending', 'shipped']);
  assert.equal(plain.likelyPii, false);
  assert.equal(plain.proposed.sensitivity, 'internal');
});
