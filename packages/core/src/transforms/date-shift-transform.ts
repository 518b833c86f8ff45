import { createHmac } from 'node:crypto';
import { WaybillError, wrapError } from '@waybill/verify';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import type { TransformContext } from './transform-context.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { DateShiftSpec } from './transform-specs.js';

export type { DateShiftSpec };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

export function compileDateShift(
  spec: DateShiftSpec,
  field: string,
  ctx: TransformContext,
): CompiledTransform {
  let keyId: string;
  let secret: Uint8Array;
  try {
    ({ keyId, secret } = ctx.hmacKey(spec.key));
  } catch (err) {
    if (err instanceof WaybillError) throw err;
    throw wrapError(
      err,
      'ERR_WAYBILL_SECRET_UNAVAILABLE',
      `date_shift on field "${field}": key "${spec.key}" is unavailable`,
    );
  }
  const span = 2 * spec.days + 1;
  const offsets = new Map<string, number>();
  const offsetOf = (subject: string): number => {
    let o = offsets.get(subject);
    if (o === undefined) {
      o =
        (createHmac('sha256', secret).update(`date_shift\0${subject}`).digest().readUInt32BE(0) % span) -
        spec.days;
      if (offsets.size >= 10_000) offsets.clear();
      offsets.set(subject, o);
    }
    return o;
  };
  return {
    type: 'date_shift',
    field,
    drops: false,
    masking: true,
    ...(spec.subject !== undefined ? { subjectColumn: spec.subject } : {}),
    needsSubject: true,
    recorded: Object.freeze({
      type: 'date_shift',
      days: spec.days,
      key: spec.key,
      keyId,
      ...(spec.subject !== undefined ? { subject: spec.subject } : {}),
    }),
    apply(value: CellValue, subject?: CellValue): CellValue {
      if (value === null) return null;
      if (typeof value !== 'string') {
        throw transformFailed(
          'date_shift',
          field,
          `expected a date or timestamp, got a ${cellTypeName(value)}`,
        );
      }
      if (subject === null || subject === undefined || subject === '') {
        throw transformFailed('date_shift', field, 'the subject is empty, so the shift cannot be chosen');
      }
      const days = offsetOf(String(subject));
      const d = DATE.exec(value);
      if (d) {
        const t = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
        return new Date(t + days * DAY_MS).toISOString().slice(0, 10);
      }
      const t = Date.parse(value);
      if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) {
        throw transformFailed('date_shift', field, 'expected a date (YYYY-MM-DD) or an RFC 3339 timestamp');
      }
      return new Date(t + days * DAY_MS).toISOString();
    },
  };
}
