import { createHmac, type KeyObject, createSecretKey } from 'node:crypto';
import { WaybillError, wrapError } from '@waybill/verify';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { TransformContext } from './transform-context.js';
import { cellTypeName, transformFailed, transformInvalid } from './transform-errors.js';
import type { PseudonymFakeSpec } from './transform-specs.js';

export type { PseudonymFakeSpec };

// Stand-ins, not real people: common given names and surnames, combined by a keyed hash.
const FIRST = [
  'Alex',
  'Amira',
  'Ana',
  'Ben',
  'Carla',
  'Chen',
  'Dana',
  'David',
  'Elena',
  'Emil',
  'Fatima',
  'Felix',
  'Grace',
  'Hana',
  'Hugo',
  'Ines',
  'Ivan',
  'Jade',
  'Jonas',
  'Kai',
  'Kira',
  'Leo',
  'Lina',
  'Luca',
  'Maya',
  'Mina',
  'Nadia',
  'Noah',
  'Nora',
  'Omar',
  'Paula',
  'Priya',
  'Quinn',
  'Rafael',
  'Rosa',
  'Sam',
  'Sara',
  'Theo',
  'Tomas',
  'Uma',
  'Vera',
  'Wen',
  'Yara',
  'Yusuf',
  'Zoe',
  'Mateo',
  'Aiko',
  'Ravi',
];
const LAST = [
  'Adams',
  'Berg',
  'Costa',
  'Dahl',
  'Ekwueme',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
  'Kim',
  'Laurent',
  'Moreau',
  'Novak',
  'Okafor',
  'Petrov',
  'Quist',
  'Rossi',
  'Silva',
  'Tanaka',
  'Usman',
  'Varga',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zhang',
  'Nowak',
  'Kowalski',
  'Andersen',
  'Bianchi',
  'Carter',
  'Duarte',
  'Eriksen',
  'Fontaine',
  'Gupta',
  'Horvat',
  'Ivanova',
  'Jovanovic',
  'Khan',
  'Lopez',
  'Meyer',
  'Nguyen',
  'Ortiz',
  'Park',
  'Reyes',
  'Sato',
  'Torres',
  'Walsh',
];
// Area codes of real places; 555-0100 to 555-0199 are reserved for fiction in every one of them.
const AREA = ['212', '312', '415', '512', '617', '702', '303', '206', '404', '305', '503', '615'];

export function compilePseudonymFake(
  spec: PseudonymFakeSpec,
  field: string,
  ctx: TransformContext,
): CompiledTransform {
  let keyId: string;
  let key: KeyObject;
  try {
    const found = ctx.hmacKey(spec.key);
    keyId = found.keyId;
    key = createSecretKey(Buffer.from(found.secret));
  } catch (err) {
    if (err instanceof WaybillError) throw err;
    throw wrapError(
      err,
      'ERR_WAYBILL_SECRET_UNAVAILABLE',
      `pseudonym_fake on field "${field}": key "${spec.key}" is unavailable`,
    );
  }
  if (keyId === '') throw transformInvalid('pseudonym_fake', field, 'key', 'has no key id');
  const pick = (d: Buffer, i: number, list: readonly string[]) => list[d.readUInt16BE(i) % list.length]!;
  return {
    type: 'pseudonym_fake',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'pseudonym_fake', kind: spec.kind, key: spec.key, keyId }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw transformFailed(
          'pseudonym_fake',
          field,
          `expected a string or a number, got a ${cellTypeName(value)}`,
        );
      }
      const d = createHmac('sha256', key)
        .update(`${spec.kind}\0${String(value)}`)
        .digest();
      const first = pick(d, 0, FIRST);
      const last = pick(d, 2, LAST);
      switch (spec.kind) {
        case 'name':
          return `${first} ${last}`;
        case 'first_name':
          return first;
        case 'last_name':
          return last;
        case 'email':
          return `${first}.${last}${d.readUInt16BE(4) % 100}@example.com`.toLowerCase();
        case 'phone':
          return `(${pick(d, 6, AREA)}) 555-01${String(d.readUInt8(8) % 100).padStart(2, '0')}`;
      }
    },
  };
}
