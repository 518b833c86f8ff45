// Known-answer tests of the operators added for the masking superset (mask_charclass, mask_partial
// ends, round, pseudonym_fake, scan_and_apply), with their edge cases: null, empty, unicode, very long
// values, wrong types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileTransform } from '../../src/transforms/index.js';
import { keyRing } from './transform-context-fixture.js';
import { expectWaybillError } from '../waybill-error-assertions.js';

const ctx = keyRing({
  k: { keyId: 'k-1', secret: new Uint8Array(32).fill(1) },
  other: { keyId: 'o-1', secret: new Uint8Array(32).fill(2) },
});
const t = (spec: Parameters<typeof compileTransform>[0]) => compileTransform(spec, 'f', ctx);

test('mask_charclass keeps only the shape', () => {
  const m = t('mask_charclass');
  assert.equal(m.apply('Ann-Lee 42'), 'Xxx-Xxx 00');
  assert.equal(m.apply('Émile Ørsted, ½ ٣'), 'Xxxxx Xxxxxx, 0 0');
  assert.equal(m.apply('🙂 ok'), '🙂 xx');
  assert.equal(m.apply(''), '');
  assert.equal(m.apply(null), null);
  assert.equal(m.apply(1234.5), '0000.0');
  assert.equal((m.apply('a'.repeat(100_000)) as string).length, 100_000);
  expectWaybillError(() => m.apply(true), 'ERR_WAYBILL_TRANSFORM_FAILED');
});

test('mask_partial ends keeps n characters at each end', () => {
  const m = t({ type: 'mask_partial', keep: 'ends', n: 2 });
  assert.equal(m.apply('4111111111111111'), '41************11');
  assert.equal(m.apply('abcd'), '****', 'a value of 2n or fewer is masked whole');
  assert.equal(m.apply('ab🙂cd🙂ef'), 'ab****ef');
  assert.equal(m.apply(''), '');
  assert.equal(m.apply(null), null);
});

test('round to places or to a multiple, half away from zero', () => {
  assert.equal(t('round').apply(2.5), 3);
  assert.equal(t('round').apply(-2.5), -3);
  assert.equal(t({ type: 'round', places: 2 }).apply(2.675), 2.68);
  assert.equal(t({ type: 'round', places: 2 }).apply('1.005'), 1.01);
  assert.equal(t({ type: 'round', places: -3 }).apply(123456), 123000);
  assert.equal(t({ type: 'round', to: 5000 }).apply(62_499), 60_000);
  assert.equal(t({ type: 'round', to: 5000 }).apply(62_500), 65_000);
  assert.equal(t({ type: 'round', to: 0.25 }).apply(1.1), 1);
  assert.equal(t('round').apply(-0.4), 0);
  assert.equal(t('round').apply(null), null);
  expectWaybillError(() => t('round').apply('abc'), 'ERR_WAYBILL_TRANSFORM_FAILED');
  expectWaybillError(() => t('round').apply(''), 'ERR_WAYBILL_TRANSFORM_FAILED');
  expectWaybillError(() => t({ type: 'round', places: 1, to: 5 }), 'ERR_WAYBILL_TRANSFORM_INVALID');
  expectWaybillError(() => t({ type: 'round', to: -1 }), 'ERR_WAYBILL_TRANSFORM_INVALID');
});

test('pseudonym_fake is consistent per key and value, realistic, and names its key id only', () => {
  const name = t({ type: 'pseudonym_fake', kind: 'name', key: 'k' });
  const a = name.apply('Ada Lovelace');
  assert.match(String(a), /^[A-Z][a-z]+ [A-Z][a-z]+$/);
  assert.equal(name.apply('Ada Lovelace'), a, 'the same value gets the same stand-in');
  assert.notEqual(
    t({ type: 'pseudonym_fake', kind: 'name', key: 'other' }).apply('Ada Lovelace'),
    a,
    'another key, another stand-in',
  );
  const distinct = new Set(Array.from({ length: 200 }, (_, i) => name.apply(`person ${i}`)));
  assert.ok(distinct.size > 150, `${distinct.size} distinct stand-ins for 200 people`);
  assert.match(
    String(t({ type: 'pseudonym_fake', kind: 'email', key: 'k' }).apply('ada@example.org')),
    /^[a-z]+\.[a-z]+\d{1,2}@example\.com$/,
  );
  assert.match(
    String(t({ type: 'pseudonym_fake', kind: 'phone', key: 'k' }).apply('+1 415 555 2671')),
    /^\(\d{3}\) 555-01\d\d$/,
  );
  assert.deepEqual(name.recorded, { type: 'pseudonym_fake', kind: 'name', key: 'k', keyId: 'k-1' });
  assert.equal(name.apply(null), null);
  assert.equal(typeof name.apply(42), 'string');
  expectWaybillError(() => name.apply(false), 'ERR_WAYBILL_TRANSFORM_FAILED');
  expectWaybillError(
    () => t({ type: 'pseudonym_fake', kind: 'name', key: 'missing' }),
    'ERR_WAYBILL_SECRET_UNAVAILABLE',
  );
});

test('scan_and_apply masks the personal data inside free text and keeps the rest', () => {
  const label = t('scan_and_apply');
  assert.equal(
    label.apply('Asked us to write to ann.lee@example.org or call (415) 555-2671; SSN 123 45 6789.'),
    'Asked us to write to [EMAIL] or call [PHONE]; SSN [NATIONAL_ID].',
  );
  assert.equal(label.apply('jоhn@exаmple.com wrote'), '[EMAIL] wrote', 'a homoglyph email too');
  assert.equal(label.apply('order 123456 shipped 2024-05-01'), 'order 123456 shipped 2024-05-01');
  const mask = t({ type: 'scan_and_apply', with: 'mask' });
  assert.equal(mask.apply('mail ann@example.org'), 'mail xxx@xxxxxxx.xxx');
  assert.equal(label.apply(''), '');
  assert.equal(label.apply(null), null);
  const long = 'nothing to see here. '.repeat(50_000) + 'bob@example.com';
  assert.ok(String(label.apply(long)).endsWith('[EMAIL]'));
  expectWaybillError(() => label.apply(true), 'ERR_WAYBILL_TRANSFORM_FAILED');
});

test('encrypt: AES-256-GCM with a random IV, reversible with the key, tamper-evident', async () => {
  const { decryptValue } = await import('../../src/transforms/encrypt-transform.js');
  const e = t({ type: 'encrypt', key: 'k' });
  const a = String(e.apply('123-45-6789'));
  const b = String(e.apply('123-45-6789'));
  assert.match(a, /^wbe1:[A-Za-z0-9_-]+$/);
  assert.notEqual(a, b, 'a random IV: equal values encrypt differently');
  const secret = new Uint8Array(32).fill(1);
  assert.equal(decryptValue(a, secret), '123-45-6789');
  assert.equal(decryptValue(String(e.apply('Émile 🙂')), secret), 'Émile 🙂');
  assert.equal(decryptValue(String(e.apply(42.5)), secret), '42.5');
  assert.equal(decryptValue(String(e.apply('')), secret), '');
  assert.equal(e.apply(null), null);
  // Any flipped character of the ciphertext, or another key, is refused.
  const body = a.slice(5);
  const flipped = `wbe1:${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
  expectWaybillError(() => decryptValue(flipped, secret), 'ERR_WAYBILL_INVALID_INPUT');
  expectWaybillError(() => decryptValue(a, new Uint8Array(32).fill(2)), 'ERR_WAYBILL_INVALID_INPUT');
  expectWaybillError(() => decryptValue('plain text', secret), 'ERR_WAYBILL_INVALID_INPUT');
  assert.deepEqual(e.recorded, {
    type: 'encrypt',
    key: 'k',
    keyId: 'k-1',
    algorithm: 'AES-256-GCM',
    format: 'wbe1',
  });
  expectWaybillError(() => e.apply(true), 'ERR_WAYBILL_TRANSFORM_FAILED');
});

test('encrypt_deterministic: equal values give equal text under one key (joinable), a known answer', async () => {
  const { decryptValue } = await import('../../src/transforms/encrypt-transform.js');
  const d = t({ type: 'encrypt_deterministic', key: 'k' });
  const a = String(d.apply('ada@example.org'));
  assert.equal(d.apply('ada@example.org'), a);
  assert.notEqual(d.apply('bob@example.org'), a);
  assert.notEqual(t({ type: 'encrypt_deterministic', key: 'other' }).apply('ada@example.org'), a);
  assert.equal(decryptValue(a, new Uint8Array(32).fill(1)), 'ada@example.org');
  // Pinned: a change of the construction would break joins with earlier exports.
  assert.equal(d.apply('x'), 'wbs1:tM5ad6fmAVfSW_6WN6_y4qM');
  assert.deepEqual(d.recorded, {
    type: 'encrypt_deterministic',
    key: 'k',
    keyId: 'k-1',
    algorithm: 'AES-256-SIV (RFC 5297)',
    format: 'wbs1',
  });
});

test('date_shift moves every date of a subject by the same days, within the range, per key', () => {
  const s = t({ type: 'date_shift', days: 30, key: 'k' });
  const admitted = String(s.apply('2024-05-17', 'patient-1'));
  const discharged = String(s.apply('2024-05-27', 'patient-1'));
  // The interval survives; the dates move.
  assert.equal((Date.parse(discharged) - Date.parse(admitted)) / 86_400_000, 10);
  const shift = (Date.parse(admitted) - Date.parse('2024-05-17')) / 86_400_000;
  assert.ok(Math.abs(shift) <= 30, `${shift}`);
  assert.equal(s.apply('2024-05-17', 'patient-1'), admitted, 'consistent per subject');
  const shifts = new Set(Array.from({ length: 100 }, (_, i) => s.apply('2024-05-17', `p${i}`)));
  assert.ok(shifts.size > 20, 'subjects move by different amounts');
  // Timestamps stay timestamps (UTC), shifted by the same days as the subject's dates.
  assert.equal(
    (Date.parse(String(s.apply('2024-05-17T10:30:00Z', 'patient-1'))) - Date.parse('2024-05-17T10:30:00Z')) /
      86_400_000,
    shift,
  );
  // eslint-disable-next-line prefer-spread -- the transform's apply(value, subject), not Function.apply
  assert.equal(s.apply(null, 'patient-1'), null);
  expectWaybillError(() => s.apply('2024-05-17', null), 'ERR_WAYBILL_TRANSFORM_FAILED');
  expectWaybillError(() => s.apply('not a date', 'p'), 'ERR_WAYBILL_TRANSFORM_FAILED');
  expectWaybillError(() => s.apply(20240517, 'p'), 'ERR_WAYBILL_TRANSFORM_FAILED');
  assert.deepEqual(s.recorded, { type: 'date_shift', days: 30, key: 'k', keyId: 'k-1' });
  expectWaybillError(() => t({ type: 'date_shift', days: 0, key: 'k' }), 'ERR_WAYBILL_TRANSFORM_INVALID');
});
